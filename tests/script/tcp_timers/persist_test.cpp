// Scripts: the persist timer (RFC 9293 3.8.6.1, RFC 1122 4.2.2.17). With
// a zero window and data queued, the first probe goes after one RTO and
// the interval doubles; answered probes keep the connection open however
// long the window stays shut, and are not duplicate ACKs (no fast
// retransmit into a closed window); unanswered ones end it after
// max_retransmits; a new zero-window episode starts from one RTO again.
#include <gtest/gtest.h>

#include <cerrno>

#include "tcp_script.hpp"

using namespace uinet;
using namespace uinet::test;
using namespace uinet::test::tcps;
using tcp::TcpState;

namespace {

PacketSpec wnd(const Script& s, std::int64_t acked, std::uint16_t win) {
    return in(s).flags(".").seq(theirs(0)).ack(ours(acked)).win(win);
}

}  // namespace

TEST(ScriptTcpPersist, ProbesBackOffAndAnsweredProbesNeverGiveUp) {
    ScriptOptions o;
    o.stack.tcp.max_retransmits = 3;  // answered probes must not count
    Script s(o);
    // The peer's buffer is full from the start: window 0. RTO is 1 s (no
    // RTT sample on a passive open without timestamps).
    SocketId c = accept_plain(s, listen_on(s), ms(0), 0);
    s.at(ms(10));
    send_bytes(s, c, pattern(100));
    s.at(ms(1009)).expect_nothing();
    std::int64_t t = 1010, interval = 1000;
    for (int k = 0; k < 8; ++k) {
        // One byte past the closed window; the peer answers "still 0"
        // (three times over once: still no duplicate ACKs).
        s.at(ms(t)).expect(out(s).flags(".").seq(ours(0)).payload_len(1));
        for (int n = 0; n < (k == 3 ? 3 : 1); ++n) s.at(ms(t + 5)).inject(wnd(s, 0, 0));
        s.at(ms(t + 5)).expect_nothing();
        t += interval;
        interval = std::min<std::int64_t>(interval * 2, 120000);
    }
    EXPECT_EQ(state_of(s, c), TcpState::established);
    EXPECT_EQ(s.counter("tcp.fast_retransmits"), 0u);
    EXPECT_EQ(s.counter("tcp.persist_probes"), 8u);
    // The window opens, taking the probe's byte: the rest follows at once.
    s.at(ms(t - 100)).inject(wnd(s, 1, 65535));
    s.at(ms(t - 100)).expect(out(s).flags("P.").seq(ours(1)).payload_len(99));
    // Probing backed off the RTO; a reopened window starts afresh.
    EXPECT_EQ(s.stack().tcp().info(c)->rto, sec(1));
}

TEST(ScriptTcpPersist, UnansweredProbesEndTheConnection) {
    // RFC 1122 4.2.2.17 keeps a zero window open only "as long as the
    // receiving TCP continues to send acknowledgments"; a silent peer is
    // given up like any other (R2, max_retransmits timeouts).
    ScriptOptions o;
    o.stack.tcp.max_retransmits = 3;
    Script s(o);
    SocketId c = accept_plain(s, listen_on(s), ms(0), 0);
    s.at(ms(10));
    send_bytes(s, c, pattern(100));
    for (int t : {1010, 2010, 4010, 8010}) s.at(ms(t)).expect(out(s).flags(".").seq(ours(0)).payload_len(1));
    s.at(ms(16009)).expect_nothing();
    s.at(ms(16010)).expect(out(s).flags("R").seq(ours(1)));
    EXPECT_EQ(state_of(s, c), TcpState::closed);
    EXPECT_EQ(s.stack().tcp().error(c), ETIMEDOUT);
}

TEST(ScriptTcpPersist, EachZeroWindowEpisodeStartsFromOneRto) {
    Script s;
    SocketId c = accept_plain(s, listen_on(s), ms(0), 0);
    s.at(ms(10));
    send_bytes(s, c, pattern(100));
    s.at(ms(1010)).expect(out(s).flags(".").seq(ours(0)).payload_len(1));
    s.at(ms(1015)).inject(wnd(s, 0, 0));
    s.at(ms(2010)).expect(out(s).flags(".").seq(ours(0)).payload_len(1));
    s.at(ms(2015)).inject(wnd(s, 1, 65535));
    s.at(ms(2015)).expect(out(s).flags("P.").seq(ours(1)).payload_len(99));
    // The 99 bytes were sent once and acknowledged in 5 ms: an RTT sample,
    // RTO = 200 ms (min_rto).
    s.at(ms(2020)).inject(wnd(s, 100, 65535));
    EXPECT_EQ(s.stack().tcp().info(c)->rto, ms(200));
    // Later the window shuts again (the peer acknowledges nothing new):
    // the first probe comes one RTO later, not after the first episode's
    // backed-off interval.
    s.at(ms(3000)).inject(wnd(s, 100, 0));
    s.at(ms(3010));
    send_bytes(s, c, pattern(50));
    s.at(ms(3209)).expect_nothing();
    s.at(ms(3210)).expect(out(s).flags(".").seq(ours(100)).payload_len(1));
    s.at(ms(3215)).inject(wnd(s, 101, 65535));
    s.at(ms(3215)).expect(out(s).flags("P.").seq(ours(101)).payload_len(49));
}

TEST(ScriptTcpPersist, AFinWaitsForTheWindowToo) {
    // Data and then our FIN queued behind a zero window: probes carry data
    // only; the FIN follows the last byte once the window opens.
    Script s;
    SocketId c = accept_plain(s, listen_on(s), ms(0), 0);
    s.at(ms(10));
    send_bytes(s, c, pattern(10));
    ASSERT_TRUE(s.stack().tcp().shutdown(s.instant(), c, ShutdownHow::write));
    s.at(ms(1010)).expect(out(s).flags(".").seq(ours(0)).payload_len(1));
    s.at(ms(1015)).inject(wnd(s, 1, 65535));
    s.at(ms(1015)).expect(out(s).flags("FP.").seq(ours(1)).payload_len(9));
    s.at(ms(1020)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(11)));
    EXPECT_EQ(state_of(s, c), TcpState::fin_wait_2);
}
