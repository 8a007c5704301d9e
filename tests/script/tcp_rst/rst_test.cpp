// Scripts: resets (RFC 9293 3.10.7, RFC 5961, RFC 1337). A RST at exactly
// RCV.NXT resets (ECONNRESET); one elsewhere in the window draws a
// challenge ACK; one outside is ignored; SYN-SENT honours a RST only with
// an acceptable ACK (ECONNREFUSED); a SYN on a synchronized connection
// draws a challenge ACK; segments to closed ports draw both forms of RST
// unless the stack is a black hole; TIME-WAIT ignores RSTs; a new SYN may
// reopen a TIME-WAIT connection (RFC 6191), an old one may not.
#include <gtest/gtest.h>

#include <cerrno>

#include "tcp_script.hpp"

using namespace uinet;
using namespace uinet::test;
using namespace uinet::test::tcps;
using tcp::TcpState;

namespace {

// The events recorded so far, or'ed together.
std::uint32_t all_events(const Script& s) {
    std::uint32_t ev = 0;
    for (const auto& e : s.events()) ev |= e.events;
    return ev;
}

}  // namespace

TEST(ScriptTcpRst, ARstAtRcvNxtResetsTheConnection) {
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    s.stack().tcp().set_upcall(c, s.recorder("conn"));
    s.at(ms(10)).inject(in(s).flags("R").seq(theirs(0)));
    s.at(ms(10)).expect_nothing();
    EXPECT_EQ(state_of(s, c), TcpState::closed);
    EXPECT_EQ(s.stack().tcp().error(c), ECONNRESET);
    EXPECT_EQ(all_events(s) & (event::error | event::hangup), event::error | event::hangup);
    std::vector<std::uint8_t> buf(8);
    auto r = s.stack().tcp().recv(s.instant(), c, buf);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), TcpRecvError::connection_reset);
    auto w = s.stack().tcp().send(s.instant(), c, text("x"));
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error(), TcpSendError::connection_reset);
    EXPECT_EQ(s.counter("tcp.rsts_rcvd"), 1u);
    EXPECT_EQ(s.counter("tcp.conn_reset"), 1u);
    EXPECT_EQ(s.counter("tcp.connections"), 0u);
}

TEST(ScriptTcpRst, ARstWithAckAtRcvNxtResetsToo) {
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    s.at(ms(10)).inject(in(s).flags("P.").seq(theirs(0)).ack(ours(0)).payload("abc"));
    s.at(ms(20)).inject(in(s).flags("R.").seq(theirs(3)).ack(ours(0)));
    s.at(ms(20)).expect_nothing();  // the delayed ACK died with the connection
    EXPECT_EQ(s.stack().tcp().error(c), ECONNRESET);
    s.at(ms(100)).expect_nothing();
}

TEST(ScriptTcpRst, AnInWindowRstDrawsAChallengeAck) {
    // RFC 5961 3.2: RCV.NXT < SEG.SEQ < RCV.NXT + RCV.WND: send
    // <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and drop.
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    s.at(ms(10)).inject(in(s).flags("R").seq(theirs(1)));
    s.at(ms(10)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(0)).win(65535).no_options());
    s.at(ms(11)).inject(in(s).flags("R.").seq(theirs(65534)).ack(ours(0)));  // last byte of the window
    s.at(ms(11)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(0)));
    EXPECT_EQ(state_of(s, c), TcpState::established);
    EXPECT_EQ(s.counter("tcp.challenge_acks"), 2u);
    EXPECT_EQ(s.counter("tcp.rsts_rcvd"), 0u);
    // The genuine peer, seeing the challenge ACK, resets at RCV.NXT.
    s.at(ms(20)).inject(in(s).flags("R").seq(theirs(0)));
    EXPECT_EQ(s.stack().tcp().error(c), ECONNRESET);
}

TEST(ScriptTcpRst, AnOutOfWindowRstIsIgnoredSilently) {
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    s.at(ms(10)).inject(in(s).flags("R").seq(theirs(65535)));  // one past the window
    s.at(ms(11)).inject(in(s).flags("R").seq(theirs(0) - 1));   // before RCV.NXT
    s.at(ms(12)).inject(in(s).flags("R.").seq(theirs(0) + 0x80000000u).ack(ours(0)));
    s.at(ms(12)).expect_nothing();
    EXPECT_EQ(state_of(s, c), TcpState::established);
    EXPECT_EQ(s.counter("tcp.challenge_acks"), 0u);
    // Still a working connection.
    send_text(s, c, "ok");
    s.at(ms(12)).expect(out(s).flags("P.").seq(ours(0)).ack(theirs(0)).payload("ok"));
}

TEST(ScriptTcpRst, ARstAtRcvNxtResetsEvenWithAnOldTimestamp) {
    // RFC 7323 5.3: PAWS does not apply to RST segments.
    Script s;
    SocketId c = accept_ts(s, listen_on(s));
    s.at(ms(10)).inject(in(s).flags("R").seq(theirs(0)).ts(50, 0));
    EXPECT_EQ(s.stack().tcp().error(c), ECONNRESET);
    EXPECT_EQ(s.counter("tcp.paws_dropped"), 0u);
}

TEST(ScriptTcpRst, SynSentHonoursARstOnlyWithAnAcceptableAck) {
    // RFC 9293 3.10.7.3: without ACK a RST is dropped; with an
    // unacceptable ACK too (no RST answers a RST); with an acceptable one
    // the connection is refused.
    Script s;
    SocketId c = connect_plain(s);
    s.stack().tcp().set_upcall(c, s.recorder("client"));
    s.at(ms(10)).inject(ina(s).flags("R").seq(0));
    s.at(ms(11)).inject(ina(s).flags("R.").seq(0).ack(ours(1)));
    s.at(ms(12)).inject(ina(s).flags("R.").seq(0).ack(var("iss")));
    s.at(ms(12)).expect_nothing();
    EXPECT_EQ(state_of(s, c), TcpState::syn_sent);
    EXPECT_TRUE(s.events().empty());
    s.at(ms(20)).inject(ina(s).flags("R.").seq(0).ack(ours(0)));
    s.at(ms(20)).expect_nothing();
    EXPECT_EQ(state_of(s, c), TcpState::closed);
    EXPECT_EQ(s.stack().tcp().error(c), ECONNREFUSED);
    EXPECT_EQ(all_events(s) & event::error, event::error);
    std::vector<std::uint8_t> buf(8);
    auto r = s.stack().tcp().recv(s.instant(), c, buf);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), TcpRecvError::refused);
    EXPECT_EQ(s.counter("tcp.conn_refused"), 1u);
    s.at(sec(5)).expect_nothing();  // no SYN retransmission afterwards
}

TEST(ScriptTcpRst, ARstInSynReceivedReturnsToListen) {
    // RFC 9293 3.10.7.4 second, SYN-RECEIVED from a passive OPEN.
    Script s;
    SocketId l = listen_on(s);
    s.at(ms(0)).inject(in(s).syn().seq(kPeerIss).win(65535).mss(1460));
    s.at(ms(0)).expect(out(s).flags("S.").seq(capture("iss")).ack(kPeerIss + 1));
    s.at(ms(10)).inject(in(s).flags("R").seq(theirs(0)));
    s.at(ms(10)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.connections"), 0u);
    EXPECT_EQ(s.counter("tcp.conn_reset"), 0u);
    EXPECT_EQ(state_of(s, l), TcpState::listen);
    s.at(sec(5)).expect_nothing();  // no SYN-ACK retransmission
    accept_plain(s, l, sec(5));
}

TEST(ScriptTcpRst, ARstInLastAckClosesWithoutError) {
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    s.at(ms(10)).inject(in(s).flags("F.").seq(theirs(0)).ack(ours(0)));
    s.at(ms(10)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(1)));
    ASSERT_TRUE(s.stack().tcp().shutdown(s.instant(), c, ShutdownHow::write));
    s.at(ms(10)).expect(out(s).flags("F.").seq(ours(0)).ack(theirs(1)));
    s.at(ms(20)).inject(in(s).flags("R").seq(theirs(1)));
    EXPECT_EQ(state_of(s, c), TcpState::closed);
    EXPECT_EQ(s.stack().tcp().error(c), 0);
    EXPECT_EQ(s.counter("tcp.conn_reset"), 0u);
}

TEST(ScriptTcpRst, ASynOnAnEstablishedConnectionDrawsAChallengeAck) {
    // RFC 5961 4.2 / RFC 9293 3.10.7.4 fourth: whatever its sequence
    // number, send <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and drop.
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    s.at(ms(10)).inject(in(s).syn().seq(theirs(10)).win(65535).mss(1460));  // in window
    s.at(ms(10)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(0)).win(65535).no_options());
    s.at(ms(11)).inject(in(s).syn().seq(5).win(65535).mss(1460));  // far outside it
    s.at(ms(11)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(0)));
    s.at(ms(12)).inject(in(s).flags("S.").seq(theirs(0)).ack(ours(0)).win(65535).mss(1460));  // at RCV.NXT
    s.at(ms(12)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(0)));
    EXPECT_EQ(state_of(s, c), TcpState::established);
    EXPECT_GE(s.counter("tcp.challenge_acks"), 2u);
    EXPECT_EQ(s.counter("tcp.rsts_sent"), 0u);
    // The SYN's data, if any, is not taken.
    s.at(ms(20)).inject(in(s).syn().seq(theirs(0)).payload("nope"));
    s.at(ms(20)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(0)));
    EXPECT_EQ(s.stack().tcp().info(c)->state, TcpState::established);
    EXPECT_EQ(read_all(s, c), "");
}

TEST(ScriptTcpRst, SegmentsToAClosedPortDrawBothFormsOfReset) {
    // RFC 9293 3.10.7.1, CLOSED: with ACK, <SEQ=SEG.ACK><CTL=RST>;
    // without, <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. A RST is not
    // answered.
    Script s({.blackhole = false});
    const auto to81 = [&] { return s.peer().tcp(kPeerPort, 81); };
    const auto from81 = [&] { return s.us().tcp(81, kPeerPort); };
    s.at(ms(0)).inject(to81().syn().seq(1000).win(65535).mss(1460));
    s.at(ms(0)).expect(from81().flags("R.").seq(0).ack(1001).win(0).no_options());
    s.at(ms(1)).inject(to81().flags("P.").seq(2000).ack(3000).payload("data"));
    s.at(ms(1)).expect(from81().flags("R").seq(3000).ack(0).win(0));
    s.at(ms(2)).inject(to81().flags("FP").seq(2000).payload("data"));  // FIN counts in SEG.LEN
    s.at(ms(2)).expect(from81().flags("R.").seq(0).ack(2005));
    s.at(ms(3)).inject(to81().flags("R").seq(2000));
    s.at(ms(4)).inject(to81().flags("R.").seq(2000).ack(1));
    s.at(ms(4)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.no_listener"), 5u);
    EXPECT_EQ(s.counter("tcp.rsts_sent"), 3u);
}

TEST(ScriptTcpRst, ABlackHoleSendsNoResets) {
    Script s;  // blackhole = true, as libuinet
    s.at(ms(0)).inject(s.peer().tcp(kPeerPort, 81).syn().seq(1000).win(65535).mss(1460));
    s.at(ms(1)).inject(s.peer().tcp(kPeerPort, 81).flags("P.").seq(2000).ack(3000).payload("data"));
    s.at(ms(1)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.no_listener"), 2u);
    EXPECT_EQ(s.counter("tcp.rsts_sent"), 0u);
}

TEST(ScriptTcpRst, TimeWaitIgnoresResets) {
    // RFC 1337 (TIME-WAIT assassination), RFC 9293 3.10.7.4 second.
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    s.at(ms(10));
    ASSERT_TRUE(s.stack().tcp().shutdown(s.instant(), c, ShutdownHow::write));
    s.at(ms(10)).expect(out(s).flags("F.").seq(ours(0)).ack(theirs(0)));
    s.at(ms(20)).inject(in(s).flags("F.").seq(theirs(0)).ack(ours(1)));
    s.at(ms(20)).expect(out(s).flags(".").seq(ours(1)).ack(theirs(1)));
    s.at(sec(1)).inject(in(s).flags("R").seq(theirs(1)));
    s.at(sec(2)).inject(in(s).flags("R.").seq(theirs(1)).ack(ours(1)));
    s.at(sec(2)).expect_nothing();
    EXPECT_EQ(state_of(s, c), TcpState::time_wait);
    EXPECT_EQ(s.stack().tcp().error(c), 0);
    s.at(sec(60) + ms(20));
    EXPECT_EQ(state_of(s, c), TcpState::closed);
}

TEST(ScriptTcpRst, ANewSynReopensATimeWaitConnection) {
    // RFC 9293 3.6.1 / RFC 1122 4.2.2.13: a SYN whose sequence number is
    // beyond the old connection's may reopen it from TIME-WAIT.
    Script s;
    SocketId l = listen_on(s);
    SocketId c = accept_plain(s, l);
    s.at(ms(10));
    s.stack().tcp().close(s.instant(), c);
    s.at(ms(10)).expect(out(s).flags("F.").seq(ours(0)).ack(theirs(0)));
    s.at(ms(20)).inject(in(s).flags("F.").seq(theirs(0)).ack(ours(1)));
    s.at(ms(20)).expect(out(s).flags(".").seq(ours(1)).ack(theirs(1)));
    EXPECT_EQ(s.counter("tcp.time_wait_now"), 1u);
    // An old SYN (not beyond RCV.NXT) gets the TIME-WAIT's ACK.
    s.at(sec(1)).inject(in(s).syn().seq(kPeerIss).win(65535).mss(1460));
    s.at(sec(1)).expect(out(s).flags(".").seq(ours(1)).ack(theirs(1)));
    EXPECT_EQ(s.counter("tcp.time_wait_reuse"), 0u);
    // A new one opens a new connection.
    s.at(sec(2)).inject(in(s).syn().seq(900000).win(65535).mss(1460));
    s.at(sec(2)).expect(out(s).flags("S.").seq(capture("iss2")).ack(900001).win(65535).mss(1460));
    EXPECT_EQ(s.counter("tcp.time_wait_reuse"), 1u);
    EXPECT_EQ(s.counter("tcp.time_wait_now"), 0u);
    s.at(sec(2)).inject(in(s).flags(".").seq(900001).ack(var("iss2") + 1));
    auto c2 = s.stack().tcp().accept(l);
    ASSERT_TRUE(c2);
    EXPECT_EQ(state_of(s, *c2), TcpState::established);
    s.at(sec(70)).expect_nothing();  // the old TIME-WAIT is gone: no timer fires
}

TEST(ScriptTcpRst, ANewerTimestampReopensATimeWaitConnection) {
    // RFC 6191: with timestamps, a SYN whose TSval is newer reopens the
    // connection even if its sequence number is lower.
    Script s;
    SocketId l = listen_on(s);
    SocketId c = accept_ts(s, l);
    s.at(ms(10));
    s.stack().tcp().close(s.instant(), c);
    s.at(ms(10)).expect(out(s).flags("F.").seq(ours(0)).ack(theirs(0)).ts(tsv(10), 101));
    s.at(ms(20)).inject(in(s).flags("F.").seq(theirs(0)).ack(ours(1)).ts(120, tsv(10)));
    s.at(ms(20)).expect(out(s).flags(".").seq(ours(1)).ack(theirs(1)).ts(tsv(20), 120));
    s.at(sec(1)).inject(in(s).syn().seq(10).win(65535).mss(1460).ts(110, 0));  // older TSval
    s.at(sec(1)).expect(out(s).flags(".").seq(ours(1)).ack(theirs(1)));
    s.at(sec(2)).inject(in(s).syn().seq(10).win(65535).mss(1460).ts(2000, 0));
    s.at(sec(2)).expect(out(s).flags("S.").seq(any).ack(11).mss(1460).ts(any, 2000));
    EXPECT_EQ(s.counter("tcp.time_wait_reuse"), 1u);
}
