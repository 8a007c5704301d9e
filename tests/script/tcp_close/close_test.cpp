// Scripts: connection release (RFC 9293 3.6, figure 5's closing
// transitions). Active close FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT ->
// CLOSED after 2*MSL = 60 s, passive close CLOSE-WAIT -> LAST-ACK ->
// CLOSED, simultaneous close through CLOSING, half-close with data still
// flowing either way, FIN retransmission and give-up, TIME-WAIT's answer
// to a retransmitted FIN, the orphaned FIN-WAIT-2 timeout, and the resets
// of RFC 1122 4.2.2.13 (data that can no longer be read) and ABORT.
#include <gtest/gtest.h>

#include <cerrno>

#include "tcp_script.hpp"

using namespace uinet;
using namespace uinet::test;
using namespace uinet::test::tcps;
using tcp::TcpState;

namespace {

void shut_wr(Script& s, SocketId c) { ASSERT_TRUE(s.stack().tcp().shutdown(s.instant(), c, ShutdownHow::write)); }

}  // namespace

TEST(ScriptTcpClose, ActiveCloseWalksFinWait1FinWait2TimeWaitClosed) {
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    s.at(ms(10));
    shut_wr(s, c);
    s.at(ms(10)).expect(out(s).flags("F.").seq(ours(0)).ack(theirs(0)).win(65535).no_options());
    EXPECT_EQ(state_of(s, c), TcpState::fin_wait_1);
    EXPECT_FALSE(s.stack().tcp().send(s.instant(), c, text("more")));  // EPIPE after SHUT_WR
    s.at(ms(20)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(1)));
    s.at(ms(20)).expect_nothing();
    EXPECT_EQ(state_of(s, c), TcpState::fin_wait_2);
    s.at(ms(30)).inject(in(s).flags("F.").seq(theirs(0)).ack(ours(1)));
    s.at(ms(30)).expect(out(s).flags(".").seq(ours(1)).ack(theirs(1)).win(65534));  // the FIN took one
    EXPECT_EQ(state_of(s, c), TcpState::time_wait);
    EXPECT_EQ(s.counter("tcp.time_wait_now"), 1u);
    s.at(sec(60) + ms(29));
    EXPECT_EQ(state_of(s, c), TcpState::time_wait);
    s.at(sec(60) + ms(30)).expect_nothing();
    EXPECT_EQ(state_of(s, c), TcpState::closed);
    EXPECT_EQ(s.counter("tcp.time_wait_now"), 0u);
    EXPECT_EQ(s.stack().tcp().error(c), 0);
    s.stack().tcp().close(s.instant(), c);
    EXPECT_EQ(s.counter("tcp.connections"), 0u);
}

TEST(ScriptTcpClose, FinWait1TakesFinAndAckTogetherStraightToTimeWait) {
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    s.at(ms(10));
    shut_wr(s, c);
    s.at(ms(10)).expect(out(s).flags("F.").seq(ours(0)).ack(theirs(0)));
    s.at(ms(20)).inject(in(s).flags("F.").seq(theirs(0)).ack(ours(1)));
    s.at(ms(20)).expect(out(s).flags(".").seq(ours(1)).ack(theirs(1)));
    EXPECT_EQ(state_of(s, c), TcpState::time_wait);
    s.at(sec(60) + ms(20)).expect_nothing();
    EXPECT_EQ(state_of(s, c), TcpState::closed);
}

TEST(ScriptTcpClose, TimeWaitAcksARetransmittedFinAndRestartsTwoMsl) {
    // RFC 9293 3.10.7.4, TIME-WAIT: the only thing that can arrive is a
    // retransmission of the remote FIN: acknowledge it, restart 2 MSL.
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    s.at(ms(10));
    shut_wr(s, c);
    s.at(ms(10)).expect(out(s).flags("F.").seq(ours(0)).ack(theirs(0)));
    s.at(ms(20)).inject(in(s).flags("F.").seq(theirs(0)).ack(ours(1)));
    s.at(ms(20)).expect(out(s).flags(".").seq(ours(1)).ack(theirs(1)));
    s.at(sec(30)).inject(in(s).flags("F.").seq(theirs(0)).ack(ours(1)));
    s.at(sec(30)).expect(out(s).flags(".").seq(ours(1)).ack(theirs(1)));
    s.at(sec(60) + ms(20));
    EXPECT_EQ(state_of(s, c), TcpState::time_wait);
    s.at(sec(90) - ms(1));
    EXPECT_EQ(state_of(s, c), TcpState::time_wait);
    s.at(sec(90)).expect_nothing();
    EXPECT_EQ(state_of(s, c), TcpState::closed);
}

TEST(ScriptTcpClose, PassiveCloseWalksCloseWaitLastAckClosed) {
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    s.stack().tcp().set_upcall(c, s.recorder("conn"));
    s.at(ms(10)).inject(in(s).flags("F.").seq(theirs(0)).ack(ours(0)));
    // A FIN is acknowledged at once (RFC 9293 3.10.7.4 eighth).
    s.at(ms(10)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(1)).win(65534));
    EXPECT_EQ(state_of(s, c), TcpState::close_wait);
    ASSERT_EQ(s.events().size(), 1u);
    EXPECT_TRUE(s.events()[0].events & event::readable);
    std::vector<std::uint8_t> buf(8);
    auto r = s.stack().tcp().recv(s.instant(), c, buf);
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, 0u);
    // CLOSE-WAIT still sends; then our FIN (LAST-ACK).
    s.at(ms(20));
    send_text(s, c, "tail");
    s.stack().tcp().close(s.instant(), c);
    s.at(ms(20)).expect(out(s).flags("P.").seq(ours(0)).ack(theirs(1)).payload("tail"));
    s.at(ms(20)).expect(out(s).flags("F.").seq(ours(4)).ack(theirs(1)).no_options());
    EXPECT_EQ(s.counter("tcp.connections"), 1u);  // LAST-ACK
    s.at(ms(30)).inject(in(s).flags(".").seq(theirs(1)).ack(ours(5)));
    s.at(ms(30)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.connections"), 0u);
    EXPECT_EQ(s.counter("tcp.time_wait_enter"), 0u);  // the passive closer skips TIME-WAIT
}

TEST(ScriptTcpClose, LastAckRetransmitsItsFin) {
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    s.at(ms(10)).inject(in(s).flags("F.").seq(theirs(0)).ack(ours(0)));
    s.at(ms(10)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(1)));
    s.at(ms(20));
    shut_wr(s, c);
    s.at(ms(20)).expect(out(s).flags("F.").seq(ours(0)).ack(theirs(1)));
    EXPECT_EQ(state_of(s, c), TcpState::last_ack);
    // No RTT sample yet (no timestamps, handshake not timed): RTO 1 s.
    s.at(ms(1020)).expect(out(s).flags("F.").seq(ours(0)).ack(theirs(1)));
    s.at(ms(3020)).expect(out(s).flags("F.").seq(ours(0)).ack(theirs(1)));
    s.at(ms(3030)).inject(in(s).flags(".").seq(theirs(1)).ack(ours(1)));
    EXPECT_EQ(state_of(s, c), TcpState::closed);
    EXPECT_EQ(s.stack().tcp().error(c), 0);
}

TEST(ScriptTcpClose, SimultaneousCloseGoesThroughClosing) {
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    s.at(ms(10));
    shut_wr(s, c);
    s.at(ms(10)).expect(out(s).flags("F.").seq(ours(0)).ack(theirs(0)));
    // The peer's FIN crossed ours: it does not acknowledge our FIN.
    s.at(ms(15)).inject(in(s).flags("F.").seq(theirs(0)).ack(ours(0)));
    s.at(ms(15)).expect(out(s).flags(".").seq(ours(1)).ack(theirs(1)));
    EXPECT_EQ(state_of(s, c), TcpState::closing);
    s.at(ms(20)).inject(in(s).flags(".").seq(theirs(1)).ack(ours(1)));
    s.at(ms(20)).expect_nothing();
    EXPECT_EQ(state_of(s, c), TcpState::time_wait);
    s.at(sec(60) + ms(20)).expect_nothing();
    EXPECT_EQ(state_of(s, c), TcpState::closed);
}

TEST(ScriptTcpClose, ClosingRetransmitsItsFinUntilAcknowledged) {
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    s.at(ms(10));
    shut_wr(s, c);
    s.at(ms(10)).expect(out(s).flags("F.").seq(ours(0)).ack(theirs(0)));
    s.at(ms(15)).inject(in(s).flags("F.").seq(theirs(0)).ack(ours(0)));
    s.at(ms(15)).expect(out(s).flags(".").seq(ours(1)).ack(theirs(1)));
    s.at(ms(1010)).expect(out(s).flags("F.").seq(ours(0)).ack(theirs(1)));
    s.at(ms(1020)).inject(in(s).flags(".").seq(theirs(1)).ack(ours(1)));
    EXPECT_EQ(state_of(s, c), TcpState::time_wait);
}

TEST(ScriptTcpClose, HalfCloseStillReceives) {
    // We shut down our side; the peer keeps sending in FIN-WAIT-2.
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    s.at(ms(10));
    shut_wr(s, c);
    s.at(ms(10)).expect(out(s).flags("F.").seq(ours(0)).ack(theirs(0)));
    s.at(ms(20)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(1)));
    EXPECT_EQ(state_of(s, c), TcpState::fin_wait_2);
    s.at(ms(30)).inject(in(s).flags("P.").seq(theirs(0)).ack(ours(1)).payload("still"));
    s.at(ms(70)).expect(out(s).flags(".").seq(ours(1)).ack(theirs(5)).win(65530));  // delayed ACK
    s.at(ms(80)).inject(in(s).flags("P.").seq(theirs(5)).ack(ours(1)).payload(" here"));
    EXPECT_EQ(read_all(s, c), "still here");
    s.at(ms(90)).inject(in(s).flags("F.").seq(theirs(10)).ack(ours(1)));
    s.at(ms(90)).expect(out(s).flags(".").seq(ours(1)).ack(theirs(11)));
    EXPECT_EQ(state_of(s, c), TcpState::time_wait);
}

TEST(ScriptTcpClose, HalfCloseStillSends) {
    // The peer shut down its side; we keep sending in CLOSE-WAIT.
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    s.at(ms(10)).inject(in(s).flags("F.").seq(theirs(0)).ack(ours(0)));
    s.at(ms(10)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(1)));
    s.at(ms(20));
    send_bytes(s, c, pattern(3000));
    s.at(ms(20)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(1)).payload_len(1460));
    s.at(ms(20)).expect(out(s).flags(".").seq(ours(1460)).ack(theirs(1)).payload_len(1460));
    s.at(ms(20)).expect_nothing();  // Nagle holds the last 80 bytes
    s.at(ms(30)).inject(in(s).flags(".").seq(theirs(1)).ack(ours(2920)));
    s.at(ms(30)).expect(out(s).flags("P.").seq(ours(2920)).ack(theirs(1)).payload_len(80));
    s.at(ms(40)).inject(in(s).flags(".").seq(theirs(1)).ack(ours(3000)));
    EXPECT_EQ(state_of(s, c), TcpState::close_wait);
    s.stack().tcp().close(s.instant(), c);
    s.at(ms(40)).expect(out(s).flags("F.").seq(ours(3000)).ack(theirs(1)));
    s.at(ms(50)).inject(in(s).flags(".").seq(theirs(1)).ack(ours(3001)));
    EXPECT_EQ(s.counter("tcp.connections"), 0u);
}

TEST(ScriptTcpClose, AFinBeyondAHoleWaitsForTheHole) {
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    // "world" and the FIN arrive before "hello ".
    s.at(ms(10)).inject(in(s).flags("FP.").seq(theirs(6)).ack(ours(0)).payload("world"));
    s.at(ms(10)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(0)));  // duplicate ACK at once
    EXPECT_EQ(state_of(s, c), TcpState::established);
    s.at(ms(20)).inject(in(s).flags("P.").seq(theirs(0)).ack(ours(0)).payload("hello "));
    s.at(ms(20)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(12)));
    EXPECT_EQ(state_of(s, c), TcpState::close_wait);
    EXPECT_EQ(read_all(s, c), "hello world");
}

TEST(ScriptTcpClose, FinIsRetransmittedWithBackoffThenTheConnectionTimesOut) {
    ScriptOptions o;
    o.stack.tcp.max_retransmits = 3;
    Script s(o);
    SocketId c = accept_plain(s, listen_on(s));
    s.at(ms(10));
    shut_wr(s, c);
    s.at(ms(10)).expect(out(s).flags("F.").seq(ours(0)).ack(theirs(0)));
    for (int t : {1010, 3010, 7010}) {
        s.at(ms(t) - ms(1)).expect_nothing();
        s.at(ms(t)).expect(out(s).flags("F.").seq(ours(0)).ack(theirs(0)));
    }
    // The fourth timeout exceeds max_retransmits: RST, ETIMEDOUT.
    s.at(ms(15010)).expect(out(s).flags("R").seq(ours(1)));
    EXPECT_EQ(state_of(s, c), TcpState::closed);
    EXPECT_EQ(s.stack().tcp().error(c), ETIMEDOUT);
    EXPECT_EQ(s.counter("tcp.rsts_sent"), 1u);
    EXPECT_EQ(s.counter("tcp.conn_timeout"), 1u);
}

TEST(ScriptTcpClose, AnOrphanedFinWait2TimesOut) {
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    s.at(ms(10));
    s.stack().tcp().close(s.instant(), c);
    s.at(ms(10)).expect(out(s).flags("F.").seq(ours(0)).ack(theirs(0)));
    s.at(ms(20)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(1)));
    // fin_wait_2_timeout (60 s): the connection goes, without a segment.
    s.at(sec(60) + ms(19));
    EXPECT_EQ(s.counter("tcp.connections"), 1u);
    s.at(sec(60) + ms(20)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.connections"), 0u);
    // The peer's FIN comes too late: the listener on port 80 takes it as
    // a stray ACK and resets (RFC 9293 3.10.7.2).
    s.at(sec(61)).inject(in(s).flags("F.").seq(theirs(0)).ack(ours(1)));
    s.at(sec(61)).expect(out(s).flags("R").seq(ours(1)));
}

TEST(ScriptTcpClose, ANonOrphanedFinWait2WaitsForever) {
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    s.at(ms(10));
    shut_wr(s, c);
    s.at(ms(10)).expect(out(s).flags("F.").seq(ours(0)).ack(theirs(0)));
    s.at(ms(20)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(1)));
    s.at(sec(600)).expect_nothing();
    EXPECT_EQ(state_of(s, c), TcpState::fin_wait_2);
    // Closing the socket now starts the orphan timeout.
    s.stack().tcp().close(s.instant(), c);
    s.at(sec(660) - ms(1));
    EXPECT_EQ(s.counter("tcp.connections"), 1u);
    s.at(sec(660));
    EXPECT_EQ(s.counter("tcp.connections"), 0u);
}

TEST(ScriptTcpClose, DataAfterCloseDrawsAReset) {
    // RFC 1122 4.2.2.13: after CLOSE, new data can never be read: the TCP
    // SHOULD send a RST to show that data was lost.
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    s.at(ms(10));
    s.stack().tcp().close(s.instant(), c);
    s.at(ms(10)).expect(out(s).flags("F.").seq(ours(0)).ack(theirs(0)));
    s.at(ms(20)).inject(in(s).flags("P.").seq(theirs(0)).ack(ours(1)).payload("late"));
    s.at(ms(20)).expect(out(s).flags("R").seq(ours(1)));
    EXPECT_EQ(s.counter("tcp.connections"), 0u);
    EXPECT_EQ(s.counter("tcp.rsts_sent"), 1u);
}

TEST(ScriptTcpClose, DataAfterShutdownIsStillDelivered) {
    // Only a CLOSE forfeits the data: shutdown(SHUT_WR) keeps reading.
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    s.at(ms(10));
    shut_wr(s, c);
    s.at(ms(10)).expect(out(s).flags("F.").seq(ours(0)).ack(theirs(0)));
    s.at(ms(20)).inject(in(s).flags("P.").seq(theirs(0)).ack(ours(1)).payload("late"));
    s.at(ms(60)).expect(out(s).flags(".").seq(ours(1)).ack(theirs(4)));
    EXPECT_EQ(read_all(s, c), "late");
}

TEST(ScriptTcpClose, CloseWithUnreadDataResets) {
    // RFC 2525 2.17 (RFC 9293 3.10.4 allows it): unread data + close = RST.
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    s.at(ms(10)).inject(in(s).flags("P.").seq(theirs(0)).ack(ours(0)).payload("unread"));
    s.at(ms(20));
    s.stack().tcp().close(s.instant(), c);
    s.at(ms(20)).expect(out(s).flags("R").seq(ours(0)).no_options());
    EXPECT_EQ(s.counter("tcp.connections"), 0u);
    EXPECT_EQ(s.counter("tcp.rsts_sent"), 1u);
    s.at(ms(100)).expect_nothing();  // no delayed ACK after the reset
}

TEST(ScriptTcpClose, AbortSendsAResetAtOnce) {
    // SO_LINGER 0 / RFC 9293 3.10.5 ABORT: <SEQ=SND.NXT><CTL=RST>, even
    // with unacknowledged data queued.
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    s.at(ms(10));
    send_text(s, c, "pending");
    s.at(ms(10)).expect(out(s).flags("P.").seq(ours(0)).payload("pending"));
    s.stack().tcp().abort(s.instant(), c);
    s.at(ms(10)).expect(out(s).flags("R").seq(ours(7)));
    EXPECT_EQ(s.counter("tcp.connections"), 0u);
    s.at(sec(5)).expect_nothing();  // nothing is retransmitted
}
