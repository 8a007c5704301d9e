// HyStart++ (RFC 9406) driven directly through the CongestionControl hooks
// with synthetic rounds and RTT sequences, for NewReno and CUBIC both.
#include <gtest/gtest.h>

#include "tcp/cc.hpp"

using namespace uinet;
using namespace uinet::tcp;

namespace {

constexpr std::uint32_t kMss = 1000;

// A sender in slow start: each round sends one cwnd and ACKs it segment by
// segment, every ACK carrying an RTT sample from `rtt`.
struct Driver {
    std::unique_ptr<CongestionControl> cc;
    SeqNum una{1}, max{1};
    Instant now{};

    explicit Driver(std::unique_ptr<CongestionControl> c) : cc(std::move(c)) {
        cc->set_hystart(true);
        cc->init(kMss);
    }
    // One round: the whole cwnd goes out, then comes back in MSS ACKs.
    void round(Duration rtt) {
        const std::uint32_t flight = cc->cwnd() / kMss * kMss;  // whole segments
        max = una + flight;
        for (std::uint32_t done = 0; done < flight; done += kMss) {
            una = una + kMss;
            now = now + Duration::micros(100);
            cc->on_round_ack(una, max);
            cc->on_rtt_sample(rtt, now);
            cc->on_ack(kMss, cc->cwnd(), now, rtt);  // cwnd-limited
        }
    }
};

class HyStart : public ::testing::TestWithParam<const char*> {
protected:
    Driver make() { return Driver(make_congestion_control(GetParam())); }
};

TEST_P(HyStart, DelayIncreaseEntersCssAndSlowsGrowth) {
    Driver d = make();
    d.round(Duration::millis(20));  // round 1: baseline (no previous round)
    d.round(Duration::millis(20));  // round 2: same delay, plain slow start
    EXPECT_FALSE(d.cc->in_css());
    const std::uint32_t before = d.cc->cwnd();
    EXPECT_EQ(before, 4u * 10 * kMss);  // doubled twice from IW 10
    // Round 3: min RTT 25 ms >= 20 + max(4, min(20/8, 16)) = 24 ms.
    d.round(Duration::millis(25));
    EXPECT_TRUE(d.cc->in_css());
    EXPECT_EQ(d.cc->hystart_css_entries(), 1u);
    EXPECT_EQ(d.cc->ssthresh(), CongestionControl::kInfinite);
    // The first 7 ACKs of the round grew by a full MSS each; the 8th
    // sample decided, and it and the other 32 grew by a quarter:
    // 7000 + 33000/4 bytes instead of 40 segments.
    EXPECT_EQ(d.cc->cwnd(), before + 7 * kMss + 33 * kMss / 4);
}

TEST_P(HyStart, SmallDelayIncreaseStaysInSlowStart) {
    Driver d = make();
    d.round(Duration::millis(20));
    d.round(Duration::millis(20));
    d.round(Duration::millis(23));  // below the 4 ms MIN_RTT_THRESH
    EXPECT_FALSE(d.cc->in_css());
    EXPECT_EQ(d.cc->cwnd(), 8u * 10 * kMss);
}

TEST_P(HyStart, ThresholdScalesWithRttAndIsClamped) {
    // lastRoundMinRTT 200 ms: RttThresh = min(200/8, 16) = 16 ms.
    Driver d = make();
    d.round(Duration::millis(200));
    d.round(Duration::millis(215));  // +15 ms: not yet
    EXPECT_FALSE(d.cc->in_css());
    d.round(Duration::millis(231));  // +16 ms over 215
    EXPECT_TRUE(d.cc->in_css());
}

TEST_P(HyStart, RttDropBackResumesSlowStart) {
    Driver d = make();
    d.round(Duration::millis(20));
    d.round(Duration::millis(20));
    d.round(Duration::millis(30));  // CSS, baseline 30 ms
    ASSERT_TRUE(d.cc->in_css());
    d.round(Duration::millis(29));  // below the baseline: spurious exit
    EXPECT_FALSE(d.cc->in_css());
    EXPECT_EQ(d.cc->ssthresh(), CongestionControl::kInfinite);
    const std::uint32_t w = d.cc->cwnd();
    d.round(Duration::millis(29));  // plain slow start again: doubles
    EXPECT_EQ(d.cc->cwnd(), 2 * w);
}

TEST_P(HyStart, SsthreshSetAfterCssRounds) {
    Driver d = make();
    d.round(Duration::millis(20));
    d.round(Duration::millis(20));
    d.round(Duration::millis(30));  // CSS starts mid-round: this round counts
    ASSERT_TRUE(d.cc->in_css());
    for (int i = 0; i < 4; ++i) {
        EXPECT_TRUE(d.cc->in_slow_start()) << i;
        d.round(Duration::millis(30));
    }
    // The fifth round's end: the first ACK of the next round sets ssthresh.
    const std::uint32_t w = d.cc->cwnd();
    d.una = d.una + 1;
    d.cc->on_round_ack(d.una, d.una + w);
    EXPECT_FALSE(d.cc->in_css());
    EXPECT_EQ(d.cc->ssthresh(), w);
    EXPECT_FALSE(d.cc->in_slow_start());
    EXPECT_EQ(d.cc->hystart_ss_exits(), 1u);
}

TEST_P(HyStart, FewerThanEightSamplesDecideNothing) {
    Driver d = make();
    d.round(Duration::millis(20));
    d.round(Duration::millis(20));
    // A round of 7 samples only (the rest of the ACKs carry none).
    const std::uint32_t flight = d.cc->cwnd();
    d.max = d.una + flight;
    for (std::uint32_t done = 0, n = 0; done < flight; done += kMss, ++n) {
        d.una = d.una + kMss;
        d.cc->on_round_ack(d.una, d.max);
        if (n < 7) d.cc->on_rtt_sample(Duration::millis(40), d.now);
        d.cc->on_ack(kMss, d.cc->cwnd(), d.now, Duration::millis(40));
    }
    EXPECT_FALSE(d.cc->in_css());
}

TEST_P(HyStart, LossEndsHyStartAndDisabledDoesNothing) {
    Driver d = make();
    d.round(Duration::millis(20));
    d.round(Duration::millis(20));
    d.round(Duration::millis(30));
    ASSERT_TRUE(d.cc->in_css());
    d.cc->on_enter_recovery(d.cc->cwnd());
    EXPECT_FALSE(d.cc->in_slow_start());
    EXPECT_NE(d.cc->ssthresh(), CongestionControl::kInfinite);

    Driver off = make();
    off.cc->set_hystart(false);
    off.round(Duration::millis(20));
    off.round(Duration::millis(20));
    off.round(Duration::millis(60));
    EXPECT_FALSE(off.cc->in_css());
    EXPECT_EQ(off.cc->cwnd(), 8u * 10 * kMss);
}

TEST_P(HyStart, EcnEchoReducesLikeALossWithoutInflation) {
    Driver d = make();
    d.round(Duration::millis(20));
    const std::uint32_t w = d.cc->cwnd();
    d.cc->on_ecn(w);
    EXPECT_EQ(d.cc->cwnd(), d.cc->ssthresh());
    EXPECT_LT(d.cc->cwnd(), w);
    EXPECT_GE(d.cc->cwnd(), w / 2);
}

INSTANTIATE_TEST_SUITE_P(Cc, HyStart, ::testing::Values("newreno", "cubic"));

}  // namespace
