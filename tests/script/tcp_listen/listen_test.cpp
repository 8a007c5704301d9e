// Scripts: listeners (RFC 9293 3.10.7.2, LISTEN) and their queues. A full
// accept queue drops SYNs (the peer's retransmission gets in later), the
// SYN queue bounds SYN-RECEIVED connections, accept() hands out a
// connection the peer already closed (with its data and EOF) but not one
// it reset, connections are accepted in order, a closing listener resets
// the connections nobody accepted, and LISTEN's handling of RST, ACK and
// bare segments.
#include <gtest/gtest.h>

#include "tcp_script.hpp"

using namespace uinet;
using namespace uinet::test;
using namespace uinet::test::tcps;
using tcp::TcpState;

namespace {

PacketSpec from(const Script& s, std::uint16_t port) { return s.peer().tcp(port, kPort); }
PacketSpec to(const Script& s, std::uint16_t port) { return s.us().tcp(kPort, port); }

// A handshake from the peer's `port` (its ISN 1000), our ISN captured as
// `iss`; the third segment only if `complete`.
void handshake(Script& s, std::uint16_t port, const std::string& iss, bool complete = true) {
    s.inject(from(s, port).syn().seq(kPeerIss).win(65535).mss(1460));
    s.expect(to(s, port).flags("S.").seq(capture(iss)).ack(kPeerIss + 1).win(65535).mss(1460));
    if (complete) s.inject(from(s, port).flags(".").seq(theirs(0)).ack(var(iss) + 1));
}

}  // namespace

TEST(ScriptTcpListen, AFullAcceptQueueDropsSyns) {
    Script s;
    SocketId l = listen_on(s, kPort, 1);
    s.at(ms(0));
    handshake(s, 40000, "iss");
    // The queue holds one connection: the next SYN is dropped silently.
    s.at(ms(10)).inject(from(s, 40001).syn().seq(kPeerIss).win(65535).mss(1460));
    s.at(ms(10)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.accept_queue_full"), 1u);
    EXPECT_EQ(s.counter("tcp.connections"), 1u);
    // Once accepted, the peer's retransmitted SYN gets in.
    ASSERT_TRUE(s.stack().tcp().accept(l));
    s.at(ms(1010)).inject(from(s, 40001).syn().seq(kPeerIss).win(65535).mss(1460));
    s.at(ms(1010)).expect(to(s, 40001).flags("S.").seq(capture("iss2")).ack(kPeerIss + 1).win(65535).mss(1460));
    s.at(ms(1020)).inject(from(s, 40001).flags(".").seq(theirs(0)).ack(var("iss2") + 1));
    EXPECT_TRUE(s.stack().tcp().accept(l));
}

TEST(ScriptTcpListen, TheSynQueueBoundsSynReceivedConnections) {
    ScriptOptions o;
    o.stack.tcp.syn_backlog = 2;
    o.stack.tcp.syn_cookies = false;  // cookies: tests/script/tcp_synflood
    Script s(o);
    SocketId l = listen_on(s);
    s.at(ms(0));
    handshake(s, 40000, "a", false);
    handshake(s, 40001, "b", false);
    s.at(ms(10)).inject(from(s, 40002).syn().seq(kPeerIss).win(65535).mss(1460));
    s.at(ms(10)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.syn_queue_full"), 1u);
    EXPECT_EQ(s.counter("tcp.connections"), 2u);
    // One completes: its place in the SYN queue is free again.
    s.at(ms(20)).inject(from(s, 40000).flags(".").seq(theirs(0)).ack(var("a") + 1));
    s.at(ms(30)).inject(from(s, 40002).syn().seq(kPeerIss).win(65535).mss(1460));
    s.at(ms(30)).expect(to(s, 40002).flags("S.").seq(capture("c")).ack(kPeerIss + 1));
    EXPECT_EQ(s.counter("tcp.syn_queue_full"), 1u);
    ASSERT_TRUE(s.stack().tcp().accept(l));
    EXPECT_FALSE(s.stack().tcp().accept(l));
    // The SYN-ACKs of b (from 0 s) and c (from 30 ms) are retransmitted on
    // their own schedules; when b gives up at 63 s its place frees too.
    for (int t : {1, 3, 7, 15, 31}) {
        s.at(sec(t)).expect(to(s, 40001).flags("S.").seq(var("b")));
        s.at(sec(t) + ms(30)).expect(to(s, 40002).flags("S.").seq(var("c")));
    }
    s.at(sec(63)).expect_nothing();
    s.at(sec(63) + ms(10)).inject(from(s, 40003).syn().seq(kPeerIss).win(65535).mss(1460));
    s.at(sec(63) + ms(10)).expect(to(s, 40003).flags("S.").ack(kPeerIss + 1));
    s.at(sec(63) + ms(30)).expect_nothing();  // c gave up too
    EXPECT_EQ(s.counter("tcp.syn_queue_full"), 1u);
    EXPECT_EQ(s.counter("tcp.connections"), 2u);  // the accepted one and 40003
}

TEST(ScriptTcpListen, ConnectionsAreAcceptedInTheOrderTheyCompleted) {
    Script s;
    SocketId l = listen_on(s);
    s.at(ms(0));
    handshake(s, 40000, "a", false);
    handshake(s, 40001, "b", true);
    s.at(ms(5)).inject(from(s, 40000).flags(".").seq(theirs(0)).ack(var("a") + 1));
    Endpoint p1, p2;
    ASSERT_TRUE(s.stack().tcp().accept(l, &p1));
    ASSERT_TRUE(s.stack().tcp().accept(l, &p2));
    EXPECT_EQ(p1.port, Port(40001));
    EXPECT_EQ(p2.port, Port(40000));
    EXPECT_FALSE(s.stack().tcp().accept(l));
}

TEST(ScriptTcpListen, AcceptHandsOutAConnectionThePeerAlreadyClosed) {
    Script s;
    SocketId l = listen_on(s);
    s.at(ms(0));
    handshake(s, kPeerPort, "iss");
    // Data and FIN before accept(): CLOSE-WAIT, the FIN acknowledged at once.
    s.at(ms(10)).inject(in(s).flags("FP.").seq(theirs(0)).ack(ours(0)).payload("bye"));
    s.at(ms(10)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(4)).win(65531));
    auto c = s.stack().tcp().accept(l);
    ASSERT_TRUE(c);
    EXPECT_EQ(state_of(s, *c), TcpState::close_wait);
    EXPECT_EQ(s.stack().tcp().poll(*c) & event::readable, event::readable);
    EXPECT_EQ(read_all(s, *c), "bye");
    std::vector<std::uint8_t> buf(8);
    auto r = s.stack().tcp().recv(s.instant(), *c, buf);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, 0u);  // end of stream
    s.at(ms(20));
    s.stack().tcp().close(s.instant(), *c);
    s.at(ms(20)).expect(out(s).flags("F.").seq(ours(0)).ack(theirs(4)));
    s.at(ms(30)).inject(in(s).flags(".").seq(theirs(4)).ack(ours(1)));
    EXPECT_EQ(s.counter("tcp.connections"), 0u);
}

TEST(ScriptTcpListen, AConnectionResetBeforeAcceptIsNotHandedOut) {
    Script s;
    SocketId l = listen_on(s);
    s.stack().tcp().set_upcall(l, s.recorder("listener"));
    s.at(ms(0));
    handshake(s, kPeerPort, "iss");
    EXPECT_EQ(s.events().size(), 1u);
    s.at(ms(10)).inject(in(s).flags("R").seq(theirs(0)));
    s.at(ms(10)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.connections"), 0u);
    EXPECT_FALSE(s.stack().tcp().accept(l));
    EXPECT_EQ(s.stack().tcp().poll(l), 0u);
    // The same 4-tuple can connect again.
    s.at(ms(20));
    handshake(s, kPeerPort, "iss2");
    EXPECT_TRUE(s.stack().tcp().accept(l));
}

TEST(ScriptTcpListen, ClosingTheListenerResetsWhatNobodyAccepted) {
    Script s({.blackhole = false});
    SocketId l = listen_on(s);
    s.at(ms(0));
    handshake(s, 40000, "a", true);   // ESTABLISHED, in the accept queue
    handshake(s, 40001, "b", false);  // SYN-RECEIVED
    s.at(ms(10));
    s.stack().tcp().close(s.instant(), l);
    s.at(ms(10)).expect_unordered({to(s, 40000).flags("R").seq(var("a") + 1), to(s, 40001).flags("R").seq(var("b") + 1)});
    EXPECT_EQ(s.counter("tcp.connections"), 0u);
    // The port is closed now.
    s.at(ms(20)).inject(from(s, 40002).syn().seq(kPeerIss));
    s.at(ms(20)).expect(to(s, 40002).flags("R.").seq(0).ack(kPeerIss + 1));
}

TEST(ScriptTcpListen, ListenIgnoresRstAndSegmentsWithoutSynOrAck) {
    // RFC 9293 3.10.7.2: first check for a RST (ignore it), third for a
    // SYN; anything else without an ACK is dropped.
    Script s({.blackhole = false});
    listen_on(s);
    s.at(ms(0)).inject(in(s).flags("R").seq(5));
    s.at(ms(0)).inject(in(s).flags("R.").seq(5).ack(7));
    s.at(ms(0)).inject(in(s).flags("F").seq(5));
    s.at(ms(0)).inject(in(s).flags("P").seq(5).payload("x"));
    s.at(ms(0)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.connections"), 0u);
    EXPECT_EQ(s.counter("tcp.rsts_sent"), 0u);
}

TEST(ScriptTcpListen, AnyAckToAListenerDrawsAReset) {
    // RFC 9293 3.10.7.2 second: <SEQ=SEG.ACK><CTL=RST>, even for SYN-ACK.
    Script s({.blackhole = false});
    listen_on(s);
    s.at(ms(0)).inject(in(s).flags(".").seq(5).ack(777));
    s.at(ms(0)).expect(out(s).flags("R").seq(777).ack(0).win(0).no_options());
    s.at(ms(1)).inject(in(s).flags("S.").seq(5).ack(888).mss(1460));
    s.at(ms(1)).expect(out(s).flags("R").seq(888));
    s.at(ms(2)).inject(in(s).flags("FP.").seq(5).ack(999).payload("data"));
    s.at(ms(2)).expect(out(s).flags("R").seq(999));
    EXPECT_EQ(s.counter("tcp.connections"), 0u);
}

TEST(ScriptTcpListen, AListenersResetIsSentEvenWhenBlackHoled) {
    // The black hole silences unclaimed ports only (as libuinet and
    // FreeBSD's net.inet.tcp.blackhole): a listening port is claimed.
    Script s;
    listen_on(s);
    s.at(ms(0)).inject(in(s).flags(".").seq(5).ack(777));
    s.at(ms(0)).expect(out(s).flags("R").seq(777));
    s.at(ms(1)).inject(s.peer().tcp(kPeerPort, 81).flags(".").seq(5).ack(777));
    s.at(ms(1)).expect_nothing();
}
