// Scripts: SYN cookies (RFC 4987 3.6) and the accept queue. When a
// listener's SYN queue is full, a SYN is answered with a cookie (MSS from
// the table; window scale and SACK-permitted in the TSval's low bits when
// the peer sent timestamps) and no state; the returning ACK, if its cookie
// is fresh and its hash right, creates the connection with the options the
// cookie carried. Forged and stale cookies are counted and reset. A
// completed handshake never joins a full accept queue: its ACK is dropped
// and the SYN-ACK's retransmission brings it in once there is room.
#include <gtest/gtest.h>

#include "tcp_script.hpp"

using namespace uinet;
using namespace uinet::test;
using namespace uinet::test::tcps;
using tcp::TcpState;

namespace {

PacketSpec from(const Script& s, std::uint16_t port) { return s.peer().tcp(port, kPort); }
PacketSpec to(const Script& s, std::uint16_t port) { return s.us().tcp(kPort, port); }

ScriptOptions one_syn_slot(Duration period = Duration::seconds(64)) {
    ScriptOptions o;
    o.stack.tcp.syn_backlog = 1;
    o.stack.tcp.syn_cookie_period = period;
    return o;
}

// Fills the one-entry SYN queue with a handshake from port 40001.
void fill_syn_queue(Script& s) {
    s.inject(from(s, 40001).syn().seq(kPeerIss).win(65535).mss(1460));
    s.expect(to(s, 40001).flags("S.").seq(capture("other")).ack(kPeerIss + 1));
}

}  // namespace

TEST(ScriptTcpSynCookie, ACookieCarriesEveryOptionAndDataFlowsWithTheRightScale) {
    Script s(one_syn_slot());
    SocketId l = listen_on(s);
    s.at(ms(0));
    fill_syn_queue(s);
    s.at(ms(10)).inject(in(s).syn().seq(kPeerIss).win(65535).mss(1460).sack_ok().ts(100, 0).wscale(7));
    s.at(ms(10)).expect(out(s).flags("S.").seq(capture("iss")).ack(kPeerIss + 1).win(65535).mss(1460).sack_ok()
                            .ts(capture("tsc"), 100).wscale(3));
    EXPECT_EQ(s.counter("tcp.syncookies_sent"), 1u);
    EXPECT_EQ(s.counter("tcp.syn_queue_full"), 1u);
    EXPECT_EQ(s.counter("tcp.connections"), 1u);  // no state for the cookie
    EXPECT_EQ((s.value("iss") >> 28) & 3, 3u);    // MSS index: 1460
    EXPECT_EQ(s.value("tsc") & 0x3f, 0x17u);      // shift 7, SACK-permitted
    // Our TSval runs on the connection's clock (ms + ISS), rounded down.
    const std::uint64_t ts_now = (1010 + s.value("iss")) & 0xffffffffu;
    EXPECT_LE(ts_now - s.value("tsc"), 63u);
    // The ACK: window field 2, scaled by 2^7 = 256 bytes.
    s.at(ms(20)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(0)).win(2).ts(101, var("tsc")));
    s.at(ms(20)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.syncookies_ok"), 1u);
    auto c = s.stack().tcp().accept(l);
    ASSERT_TRUE(c);
    EXPECT_EQ(state_of(s, *c), TcpState::established);
    auto info = s.stack().tcp().info(*c);
    ASSERT_TRUE(info);
    EXPECT_TRUE(info->timestamps);
    EXPECT_TRUE(info->sack);
    EXPECT_EQ(info->snd_wscale, 7);
    EXPECT_EQ(info->rcv_wscale, 3);
    EXPECT_EQ(info->snd_mss, 1460u);
    // 1000 bytes queued, 256 allowed by the scaled window; we advertise
    // 256 KiB >> 3.
    send_bytes(s, *c, std::vector<std::uint8_t>(1000, 'x'));
    s.at(ms(20)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(0)).win(32768).ts(capture("t1"), 101).payload_len(256));
    s.at(ms(20)).expect_nothing();
    s.at(ms(30)).inject(in(s).flags("P.").seq(theirs(0)).ack(ours(256)).win(2).ts(102, var("t1")).payload("hello"));
    s.at(ms(30)).expect(out(s).flags(".").seq(ours(256)).ack(theirs(5)).win(any).payload_len(256));
    EXPECT_EQ(read_all(s, *c), "hello");
    s.allow_extra();
}

TEST(ScriptTcpSynCookie, WithoutTimestampsACookieKeepsOnlyTheMssFromItsTable) {
    Script s(one_syn_slot());
    SocketId l = listen_on(s);
    s.at(ms(0));
    fill_syn_queue(s);
    // MSS 1400 is encoded as 1300, the largest entry not above it; window
    // scale and SACK have nowhere to go: not offered.
    s.at(ms(10)).inject(in(s).syn().seq(kPeerIss).win(65535).mss(1400).sack_ok().wscale(7));
    s.at(ms(10)).expect(out(s).flags("S.").seq(capture("iss")).ack(kPeerIss + 1).win(65535).mss(1460));
    EXPECT_EQ((s.value("iss") >> 28) & 3, 1u);
    s.at(ms(20)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(0)).win(65535));
    auto c = s.stack().tcp().accept(l);
    ASSERT_TRUE(c);
    auto info = s.stack().tcp().info(*c);
    EXPECT_EQ(info->snd_mss, 1300u);
    EXPECT_FALSE(info->sack);
    EXPECT_FALSE(info->timestamps);
    EXPECT_EQ(info->snd_wscale, 0);
    send_bytes(s, *c, std::vector<std::uint8_t>(3000, 'y'));
    s.at(ms(20)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(0)).win(65535).payload_len(1300));
    s.at(ms(20)).expect(out(s).flags(".").seq(ours(1300)).payload_len(1300));
    s.at(ms(20)).expect_nothing();  // Nagle holds the 400-byte tail
    s.allow_extra();
}

TEST(ScriptTcpSynCookie, ForgedAndStaleCookiesAreCountedAndReset) {
    ScriptOptions o = one_syn_slot(Duration::seconds(1));
    o.blackhole = false;
    Script s(o);
    SocketId l = listen_on(s);
    s.at(ms(0));
    fill_syn_queue(s);
    s.at(ms(10)).inject(in(s).syn().seq(kPeerIss).win(65535).mss(1460));
    s.at(ms(10)).expect(out(s).flags("S.").seq(capture("iss")).ack(kPeerIss + 1));
    // A wrong hash (ACK off by one), a wrong peer ISN: reset, no state.
    s.at(ms(20)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(1)));
    s.at(ms(20)).expect(out(s).flags("R").seq(ours(1)));
    s.at(ms(21)).inject(in(s).flags(".").seq(theirs(1)).ack(ours(0)));
    s.at(ms(21)).expect(out(s).flags("R").seq(ours(0)));
    EXPECT_EQ(s.counter("tcp.syncookies_failed"), 2u);
    EXPECT_EQ(s.counter("tcp.connections"), 1u);
    // Another peer's cookie from the same instant is still good one period on.
    s.at(ms(30)).inject(from(s, 40002).syn().seq(5000).win(65535).mss(1460));
    s.at(ms(30)).expect(to(s, 40002).flags("S.").seq(capture("c2")).ack(5001));
    // Past two periods (counter 1 at t = 0, 3 at t = 2.5 s) the first is
    // stale; a fresh cookie to someone else keeps the listener checking.
    s.at(ms(1500)).inject(from(s, 40002).flags(".").seq(5001).ack(var("c2") + 1));
    EXPECT_EQ(s.counter("tcp.syncookies_ok"), 1u);
    ASSERT_TRUE(s.stack().tcp().accept(l));
    s.ignore(to(s, 40001).flags("S."));  // the queued SYN-RECEIVED retransmits
    s.at(ms(2500)).inject(from(s, 40003).syn().seq(kPeerIss).win(65535).mss(1460));
    s.at(ms(2500)).expect(to(s, 40003).flags("S.").ack(kPeerIss + 1));
    s.at(ms(2510)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(0)));
    s.at(ms(2510)).expect(out(s).flags("R").seq(ours(0)));
    EXPECT_EQ(s.counter("tcp.syncookies_failed"), 3u);
    EXPECT_EQ(s.counter("tcp.syncookies_sent"), 3u);
    EXPECT_FALSE(s.stack().tcp().accept(l));
}

TEST(ScriptTcpSynCookie, WithCookiesOffAFullSynQueueDropsSyns) {
    ScriptOptions o = one_syn_slot();
    o.stack.tcp.syn_cookies = false;
    Script s(o);
    listen_on(s);
    s.at(ms(0));
    fill_syn_queue(s);
    s.at(ms(10)).inject(in(s).syn().seq(kPeerIss).win(65535).mss(1460));
    s.at(ms(10)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.syncookies_sent"), 0u);
    EXPECT_EQ(s.counter("tcp.syn_queue_full"), 1u);
}

TEST(ScriptTcpSynCookie, TheStackWideBoundAlsoTurnsToCookies) {
    ScriptOptions o;
    o.stack.tcp.max_syn_received = 1;
    Script s(o);
    listen_on(s);
    listen_on(s, 81);
    s.at(ms(0));
    fill_syn_queue(s);
    s.at(ms(10)).inject(s.peer().tcp(kPeerPort, 81).syn().seq(kPeerIss).win(65535).mss(1460));
    s.at(ms(10)).expect(s.us().tcp(81, kPeerPort).flags("S.").seq(capture("iss")).ack(kPeerIss + 1));
    EXPECT_EQ(s.counter("tcp.syncookies_sent"), 1u);
    EXPECT_EQ(s.stack().tcp_layer().syn_received_count(), 1u);
}

TEST(ScriptTcpSynCookie, AFullAcceptQueueDropsTheFinalAckUntilThereIsRoom) {
    Script s;
    SocketId l = listen_on(s, kPort, 1);
    s.at(ms(0));
    s.inject(from(s, 40000).syn().seq(kPeerIss).win(65535).mss(1460));
    s.expect(to(s, 40000).flags("S.").seq(capture("a")).ack(kPeerIss + 1));
    s.inject(from(s, 40001).syn().seq(kPeerIss).win(65535).mss(1460));
    s.expect(to(s, 40001).flags("S.").seq(capture("b")).ack(kPeerIss + 1));
    s.at(ms(10)).inject(from(s, 40000).flags(".").seq(theirs(0)).ack(var("a") + 1));
    // The queue (backlog 1) is full: b's ACK, with data, is dropped.
    s.at(ms(20)).inject(from(s, 40001).flags("P.").seq(theirs(0)).ack(var("b") + 1).payload("early"));
    s.at(ms(20)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.accept_queue_full_acks"), 1u);
    EXPECT_EQ(s.counter("tcp.established"), 1u);
    Endpoint p;
    ASSERT_TRUE(s.stack().tcp().accept(l, &p));
    EXPECT_EQ(p.port, Port(40000));
    EXPECT_FALSE(s.stack().tcp().accept(l));
    // b's SYN-ACK timer still runs; the peer answers its retransmission.
    s.at(sec(1)).expect(to(s, 40001).flags("S.").seq(var("b")).ack(kPeerIss + 1));
    s.at(sec(1)).inject(from(s, 40001).flags("P.").seq(theirs(0)).ack(var("b") + 1).payload("early"));
    s.at(sec(1)).expect(to(s, 40001).flags(".").seq(var("b") + 1).ack(theirs(5)).within(ms(40)));
    auto c = s.stack().tcp().accept(l, &p);
    ASSERT_TRUE(c);
    EXPECT_EQ(p.port, Port(40001));
    EXPECT_EQ(read_all(s, *c), "early");
    EXPECT_EQ(s.counter("tcp.accept_queue_full_acks"), 1u);
}
