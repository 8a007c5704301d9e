// NewReno: RFC 6928 initial windows, RFC 5681 slow start and congestion
// avoidance, RFC 6582 recovery numbers, RTO collapse, saturation.
#include <gtest/gtest.h>

#include "tcp/cc.hpp"

using namespace uinet;
using namespace uinet::tcp;

namespace {
const Instant t0{};
}

TEST(NewReno, FactoryByName) {
    auto cc = make_congestion_control("newreno");
    ASSERT_NE(cc, nullptr);
    EXPECT_STREQ(cc->name(), "newreno");
    EXPECT_STREQ(make_congestion_control("cubic")->name(), "cubic");
    EXPECT_EQ(make_congestion_control("bbr"), nullptr);
    EXPECT_EQ(make_congestion_control(""), nullptr);
}

TEST(NewReno, InitialWindowRfc6928) {
    auto cc = make_newreno();
    cc->init(536);
    EXPECT_EQ(cc->cwnd(), 5360u);  // 10 * 536
    cc->init(1460);
    EXPECT_EQ(cc->cwnd(), 14600u);
    cc->init(9000);
    EXPECT_EQ(cc->cwnd(), 18000u);  // 2 * 9000
    EXPECT_EQ(cc->ssthresh(), CongestionControl::kInfinite);
    EXPECT_TRUE(cc->in_slow_start());
}

TEST(NewReno, SlowStartGrowsPerAckUpToSsthresh) {
    auto cc = make_newreno();
    cc->init(1000);
    cc->on_rto(40000);  // ssthresh 20000, cwnd 1000
    EXPECT_EQ(cc->ssthresh(), 20000u);
    EXPECT_EQ(cc->cwnd(), 1000u);
    // A stretch ACK of 3 segments still adds one SMSS (RFC 5681 eq. 2).
    cc->on_ack(3000, cc->cwnd(), t0, Duration::zero());
    EXPECT_EQ(cc->cwnd(), 2000u);
    std::uint32_t prev = cc->cwnd();
    while (cc->in_slow_start()) {
        cc->on_ack(1000, cc->cwnd(), t0, Duration::zero());
        ASSERT_EQ(cc->cwnd(), prev + 1000);
        prev = cc->cwnd();
    }
    EXPECT_EQ(cc->cwnd(), 20000u);
}

TEST(NewReno, SlowStartStopsExactlyAtSsthresh) {
    auto cc = make_newreno();
    cc->init(1000);
    cc->on_rto(39000);  // ssthresh 19500
    while (cc->cwnd() < 19000) cc->on_ack(1000, cc->cwnd(), t0, Duration::zero());
    EXPECT_EQ(cc->cwnd(), 19000u);
    cc->on_ack(1000, cc->cwnd(), t0, Duration::zero());  // only 500 of room
    EXPECT_EQ(cc->cwnd(), 19500u);
    EXPECT_FALSE(cc->in_slow_start());
}

TEST(NewReno, CongestionAvoidanceOneMssPerRtt) {
    auto cc = make_newreno();
    cc->init(1000);
    cc->on_rto(40000);
    while (cc->in_slow_start()) cc->on_ack(1000, cc->cwnd(), t0, Duration::zero());
    ASSERT_EQ(cc->cwnd(), 20000u);
    for (std::uint32_t rtt = 1; rtt <= 10; ++rtt) {
        // One RTT: a full window acknowledged one segment per ACK.
        const std::uint32_t w = cc->cwnd();
        for (std::uint32_t sent = 0; sent < w; sent += 1000) cc->on_ack(1000, w, t0, Duration::zero());
        EXPECT_EQ(cc->cwnd(), 20000u + 1000u * rtt);
    }
    // Delayed ACKs (two segments each) give the same growth per RTT.
    const std::uint32_t w = cc->cwnd();
    for (std::uint32_t sent = 0; sent < w; sent += 2000) cc->on_ack(2000, w, t0, Duration::zero());
    EXPECT_EQ(cc->cwnd(), w + 1000);
}

TEST(NewReno, NoGrowthWhenNotCwndLimited) {
    auto cc = make_newreno();
    cc->init(1460);
    for (int i = 0; i < 50; ++i) cc->on_ack(1460, 2000, t0, Duration::zero());  // app-limited
    EXPECT_EQ(cc->cwnd(), 14600u);
    cc->on_rto(2 * 14600);  // ssthresh 14600
    while (cc->in_slow_start()) cc->on_ack(1460, cc->cwnd(), t0, Duration::zero());
    const std::uint32_t w = cc->cwnd();
    for (int i = 0; i < 100; ++i) cc->on_ack(1460, w / 2, t0, Duration::zero());
    EXPECT_EQ(cc->cwnd(), w);
}

TEST(NewReno, FastRecoveryNumbers) {
    auto cc = make_newreno();
    cc->init(1460);
    cc->on_enter_recovery(29200);  // RFC 6582 3.2 steps 2-3
    EXPECT_EQ(cc->ssthresh(), 14600u);
    EXPECT_EQ(cc->cwnd(), 14600u + 3 * 1460u);
    cc->on_dupack_in_recovery();  // step 4
    EXPECT_EQ(cc->cwnd(), 14600u + 4 * 1460u);
    cc->on_partial_ack(2920);  // step 5: deflate by 2920, add back one SMSS
    EXPECT_EQ(cc->cwnd(), 14600u + 4 * 1460u - 2920u + 1460u);
    cc->on_partial_ack(500);  // less than an SMSS: no add-back
    EXPECT_EQ(cc->cwnd(), 14600u + 4 * 1460u - 2920u + 1460u - 500u);
    cc->on_exit_recovery(10000);  // step 6: min(ssthresh, max(flight, SMSS) + SMSS)
    EXPECT_EQ(cc->cwnd(), 11460u);
    cc->on_enter_recovery(29200);
    cc->on_exit_recovery(20000);
    EXPECT_EQ(cc->cwnd(), 14600u);
    cc->on_enter_recovery(29200);
    cc->on_exit_recovery(0);
    EXPECT_EQ(cc->cwnd(), 2920u);
    // A tiny flight still leaves ssthresh at 2 SMSS (RFC 5681 eq. 4).
    cc->on_enter_recovery(2000);
    EXPECT_EQ(cc->ssthresh(), 2920u);
    EXPECT_EQ(cc->cwnd(), 2920u + 3 * 1460u);
    // Deflating never goes below one SMSS.
    cc->on_partial_ack(1'000'000);
    EXPECT_EQ(cc->cwnd(), 1460u);
}

TEST(NewReno, RtoCollapsesToOneSegment) {
    auto cc = make_newreno();
    cc->init(1460);
    for (int i = 0; i < 30; ++i) cc->on_ack(1460, cc->cwnd(), t0, Duration::zero());
    EXPECT_EQ(cc->cwnd(), 14600u + 30 * 1460u);
    cc->on_rto(40000);
    EXPECT_EQ(cc->cwnd(), 1460u);
    EXPECT_EQ(cc->ssthresh(), 20000u);
    EXPECT_TRUE(cc->in_slow_start());
    cc->on_rto(1000);
    EXPECT_EQ(cc->ssthresh(), 2920u);
}

TEST(NewReno, IdleRestartRfc5681Section41) {
    auto cc = make_newreno();
    cc->init(1460);
    for (int i = 0; i < 20; ++i) cc->on_ack(1460, cc->cwnd(), t0, Duration::zero());
    const std::uint32_t grown = cc->cwnd();
    cc->on_idle_restart(Duration::millis(500), Duration::seconds(1));
    EXPECT_EQ(cc->cwnd(), grown);
    cc->on_idle_restart(Duration::seconds(2), Duration::seconds(1));
    EXPECT_EQ(cc->cwnd(), 14600u);
    cc->on_rto(5000);
    cc->on_idle_restart(Duration::seconds(2), Duration::seconds(1));
    EXPECT_EQ(cc->cwnd(), 1460u);  // min(IW, cwnd)
}

TEST(NewReno, ArithmeticSaturates) {
    auto cc = make_newreno();
    cc->init(UINT32_MAX);
    EXPECT_EQ(cc->cwnd(), UINT32_MAX);
    cc->on_dupack_in_recovery();
    EXPECT_EQ(cc->cwnd(), UINT32_MAX);
    cc->on_enter_recovery(UINT32_MAX);
    EXPECT_EQ(cc->ssthresh(), UINT32_MAX);
    EXPECT_EQ(cc->cwnd(), UINT32_MAX);
    cc->on_exit_recovery(UINT32_MAX);
    EXPECT_EQ(cc->cwnd(), UINT32_MAX);
    cc->init(1 << 30);
    for (int i = 0; i < 10; ++i) cc->on_ack(UINT32_MAX, UINT32_MAX, t0, Duration::zero());
    EXPECT_EQ(cc->cwnd(), UINT32_MAX);
    cc->on_ack(UINT32_MAX, UINT32_MAX, t0, Duration::zero());
    EXPECT_EQ(cc->cwnd(), UINT32_MAX);
    cc->init(0);  // nonsense MSS is raised to 1
    EXPECT_GE(cc->cwnd(), 1u);
}
