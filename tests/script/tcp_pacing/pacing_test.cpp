// Scripts: pacing (TcpConfig::pacing / TcpOptions::pacing). With an SRTT
// of 100 ms and the initial window of 10 segments, the rate in slow start
// is 2 * cwnd / SRTT and bursts are 2 MSS (more than 1 ms of the rate):
// the departures must be spaced by exactly 2 MSS / rate.
#include <gtest/gtest.h>

#include "tcp_script.hpp"

using namespace uinet;
using namespace uinet::test;
using namespace uinet::test::tcps;

namespace {

// Passive open with timestamps whose handshake ACK arrives 100 ms after
// our SYN-ACK and echoes it: the first RTT sample (SRTT) is 100 ms.
SocketId accept_rtt100(Script& s, SocketId l) {
    s.at(ms(0)).inject(in(s).syn().seq(kPeerIss).win(65535).mss(1460).sack_ok().ts(100, 0).wscale(7));
    s.at(ms(0)).expect(out(s).flags("S.").seq(capture("iss")).ack(kPeerIss + 1));
    s.at(ms(100)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(0)).win(4096).ts(101, tsv(0)));
    auto c = s.stack().tcp().accept(l);
    EXPECT_TRUE(c);
    return c ? *c : SocketId{};
}

}  // namespace

TEST(ScriptTcpPacing, SlowStartBurstsAreSpacedByTheRate) {
    Script s;
    TcpOptions o;
    o.pacing = true;
    SocketId c = accept_rtt100(s, listen_on(s, kPort, 8, o));
    const auto info = *s.stack().tcp().info(c);
    ASSERT_EQ(info.rtt, ms(100));
    ASSERT_EQ(info.cwnd, 14480u);  // 10 segments of 1448 (timestamps take 12)
    // rate = 2 * 14480 B / 100 ms = 289.6 kB/s; a burst of 2 * 1448 B
    // every 2896 / 289600 s = 10 ms.
    s.at(ms(100));
    send_bytes(s, c, pattern(10 * 1448));
    for (int b = 0; b < 5; ++b) {
        const Duration t = ms(100 + 10 * b);
        s.at(t).expect(out(s).flags(".").seq(ours(2 * b * 1448)).payload_len(1448));
        s.at(t).expect(out(s).flags(any).seq(ours((2 * b + 1) * 1448)).payload_len(1448));
        if (b < 4) s.at(t + ms(9)).expect_nothing();
    }
    EXPECT_EQ(s.stack().tcp_layer().counters().paced_delays, 4u);
}

TEST(ScriptTcpPacing, CongestionAvoidanceUsesTheLowerRatio) {
    Script s;
    TcpOptions o;
    o.pacing = true;
    SocketId c = accept_rtt100(s, listen_on(s, kPort, 8, o));
    s.at(ms(100));
    send_bytes(s, c, pattern(1448));
    s.at(ms(100)).expect(out(s).flags("P.").seq(ours(0)).payload_len(1448));
    // The retransmission timer fires (RTO = SRTT + 4 * RTTVAR = 300 ms):
    // ssthresh = 2 MSS, cwnd = 1 MSS, no longer below ssthresh / 2, so the
    // rate is 1.2 * cwnd / SRTT.
    s.at(ms(400)).expect(out(s).flags("P.").seq(ours(0)).payload_len(1448));
    const tcp::Tcb* t = nullptr;
    for (tcp::TcbId id = 1; id < 4 && !t; ++id)
        if (const tcp::Tcb* x = s.stack().tcp_layer().tcb(id); x && x->state() == tcp::TcpState::established) t = x;
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->pacing_rate(), 1448ull * 120 * 10'000'000 / ms(100).ns());
}

TEST(ScriptTcpPacing, OffByDefaultTheWindowGoesAtOnce) {
    Script s;
    SocketId c = accept_rtt100(s, listen_on(s));
    s.at(ms(100));
    send_bytes(s, c, pattern(10 * 1448));
    for (int i = 0; i < 10; ++i) s.at(ms(100)).expect(out(s).seq(ours(i * 1448)).payload_len(1448));
    EXPECT_EQ(s.stack().tcp_layer().counters().paced_delays, 0u);
}
