// CUBIC (RFC 9438): the window after a loss, the concave approach to W_max,
// the plateau near K, convex probing past it, fast convergence, the
// Reno-friendly region, timeouts, and application-limited flows.
#include <gtest/gtest.h>

#include <cmath>

#include "tcp/cc.hpp"

using namespace uinet;
using namespace uinet::tcp;

namespace {

constexpr std::uint32_t kMss = 1000;

// Drives a CUBIC instance like a sender that always fills its window: one
// ACK per segment, spread evenly over each RTT.
struct Driver {
    std::unique_ptr<CongestionControl> cc = make_cubic();
    Instant now = Instant::from_ns(1'000'000'000);
    Duration rtt;

    explicit Driver(Duration r) : rtt(r) { cc->init(kMss); }
    // One RTT's worth of ACKs for a full window.
    void round() {
        const std::uint32_t segs = std::max<std::uint32_t>(cc->cwnd() / kMss, 1);
        const Duration step = rtt / segs;
        for (std::uint32_t i = 0; i < segs; ++i) {
            now += step;
            cc->on_ack(kMss, cc->cwnd(), now, rtt);
        }
    }
    // A loss found by fast retransmit with a full window in flight, and
    // the recovery that ends one RTT later.
    void loss() {
        const std::uint32_t flight = cc->cwnd();
        cc->on_enter_recovery(flight);
        now += rtt;
        cc->on_exit_recovery(cc->ssthresh());
    }
    double segs() const { return static_cast<double>(cc->cwnd()) / kMss; }
};

}  // namespace

TEST(Cubic, LossCutsToBetaAndRemembersWmax) {
    Driver d(Duration::millis(10));
    while (d.cc->cwnd() < 100 * kMss) d.round();
    const std::uint32_t before = d.cc->cwnd();
    d.loss();
    // 4.6: ssthresh = 0.7 * cwnd; cwnd back to ssthresh after recovery.
    EXPECT_NEAR(d.cc->ssthresh(), before * 0.7, kMss);
    EXPECT_EQ(d.cc->cwnd(), d.cc->ssthresh());
    EXPECT_FALSE(d.cc->in_slow_start());
}

TEST(Cubic, ConcaveThenPlateauThenConvex) {
    // Long RTT so the cubic region dominates the Reno-friendly estimate.
    Driver d(Duration::millis(100));
    while (d.cc->cwnd() < 200 * kMss) d.round();
    const double w_max = d.segs();
    d.loss();
    const double start = d.segs();
    // K = cbrt(W_max * (1 - beta) / C) seconds after the epoch starts.
    const double k = std::cbrt(w_max * 0.3 / 0.4);
    std::vector<double> w;
    const int rounds = static_cast<int>(std::ceil(2 * k / 0.1));
    for (int i = 0; i < rounds; ++i) {
        d.round();
        w.push_back(d.segs());
    }
    // Grows back towards W_max quickly at first (concave) ...
    const double first_quarter = w[rounds / 4] - start;
    EXPECT_GT(first_quarter, 0.5 * (w_max - start));
    // ... slows near the plateau: around K the window is close to W_max
    // and the per-RTT growth there is small compared with the start ...
    const int at_k = static_cast<int>(k / 0.1);
    EXPECT_NEAR(w[at_k], w_max, 0.1 * w_max);
    const double growth_at_k = w[at_k + 1] - w[at_k - 1];
    const double growth_early = w[2] - w[0];
    EXPECT_LT(growth_at_k, growth_early);
    // ... then probes beyond it faster and faster (convex).
    const double late = w[rounds - 1] - w[rounds - 3];
    EXPECT_GT(w.back(), w_max);
    EXPECT_GT(late, growth_at_k);
    // Never more than 1.5x per RTT (target clamp of 4.2).
    for (std::size_t i = 1; i < w.size(); ++i) EXPECT_LE(w[i], 1.5 * w[i - 1] + 1);
}

TEST(Cubic, FastConvergenceLowersWmax) {
    Driver d(Duration::millis(100));
    while (d.cc->cwnd() < 100 * kMss) d.round();
    const double first = d.segs();
    d.loss();  // W_max = first
    for (int i = 0; i < 3; ++i) d.round();
    const double second = d.segs();  // the plateau was not reached again
    ASSERT_LT(second, first);
    d.loss();  // fast convergence: W_max = second * (1 + 0.7) / 2, below second
    // The window now levels off under `second` instead of climbing back to
    // it: after K of the reduced plateau it is still below.
    const double k = std::cbrt(second * (1.0 + 0.7) / 2.0 * 0.3 / 0.4);
    for (int i = 0; i < static_cast<int>(k / 0.1); ++i) d.round();
    EXPECT_LT(d.segs(), second);
    EXPECT_NEAR(d.segs(), second * 0.85, 0.1 * second);
}

TEST(Cubic, RenoFriendlyAtShortRtt) {
    // With a 1 ms RTT the cubic curve is flat over many RTTs; the
    // Reno-friendly estimate (4.3) must still add about alpha = 0.53
    // segments per RTT after a loss.
    Driver d(Duration::millis(1));
    while (d.cc->cwnd() < 300 * kMss) d.round();
    d.loss();
    const double start = d.segs();
    for (int i = 0; i < 100; ++i) d.round();
    const double per_rtt = (d.segs() - start) / 100;
    EXPECT_GT(per_rtt, 0.4);
    EXPECT_LT(per_rtt, 1.2);
}

TEST(Cubic, TimeoutCollapsesToOneSegment) {
    Driver d(Duration::millis(10));
    while (d.cc->cwnd() < 50 * kMss) d.round();
    const std::uint32_t before = d.cc->cwnd();
    d.cc->on_rto(before);
    EXPECT_EQ(d.cc->cwnd(), kMss);
    EXPECT_NEAR(d.cc->ssthresh(), before * 0.7, kMss);
    EXPECT_TRUE(d.cc->in_slow_start());
    // Slow start back to ssthresh, then cubic growth resumes.
    for (int i = 0; i < 20 && d.cc->in_slow_start(); ++i) d.round();
    EXPECT_FALSE(d.cc->in_slow_start());
    const std::uint32_t at_ss = d.cc->cwnd();
    for (int i = 0; i < 10; ++i) d.round();
    EXPECT_GT(d.cc->cwnd(), at_ss);
}

TEST(Cubic, ApplicationLimitedDoesNotGrow) {
    Driver d(Duration::millis(10));
    while (d.cc->cwnd() < 50 * kMss) d.round();
    d.loss();
    const std::uint32_t w = d.cc->cwnd();
    // Only a quarter of the window in flight: no growth is earned.
    for (int i = 0; i < 1000; ++i) {
        d.now += Duration::millis(1);
        d.cc->on_ack(kMss, w / 4, d.now, d.rtt);
    }
    EXPECT_EQ(d.cc->cwnd(), w);
}

TEST(Cubic, RecoveryStepsAndFloors) {
    auto cc = make_cubic();
    cc->init(kMss);
    cc->on_enter_recovery(2 * kMss);  // tiny flight: ssthresh floors at 2 SMSS
    EXPECT_EQ(cc->ssthresh(), 2 * kMss);
    EXPECT_EQ(cc->cwnd(), 5 * kMss);  // ssthresh + 3 SMSS (RFC 6582 step 2/3)
    cc->on_dupack_in_recovery();
    EXPECT_EQ(cc->cwnd(), 6 * kMss);
    cc->on_partial_ack(2 * kMss);
    EXPECT_EQ(cc->cwnd(), 5 * kMss);
    cc->on_exit_recovery(kMss);
    EXPECT_EQ(cc->cwnd(), 2 * kMss);
    for (int i = 0; i < 10; ++i) cc->on_rto(0);
    EXPECT_EQ(cc->cwnd(), kMss);
    EXPECT_EQ(cc->ssthresh(), 2 * kMss);
}
