// CongestionControl::save_undo()/undo(): a spurious congestion event is
// taken back (RFC 4015 response, used by tcb_rack.cpp).
#include <gtest/gtest.h>

#include "tcp/cc.hpp"

using namespace uinet;
using namespace uinet::tcp;

namespace {

constexpr std::uint32_t kMss = 1000;

// Slow start to 20 segments, then a loss at 20 and congestion avoidance
// long enough for the algorithm to build its own state.
void warm_up(CongestionControl& cc, Instant& now) {
    cc.init(kMss);
    while (cc.cwnd() < 20 * kMss) cc.on_ack(kMss, cc.cwnd(), now, Duration::millis(10));
    cc.on_enter_recovery(cc.cwnd());
    cc.on_exit_recovery(cc.cwnd());
    for (int i = 0; i < 200; ++i) {
        now += Duration::millis(1);
        cc.on_ack(kMss, cc.cwnd(), now, Duration::millis(10));
    }
}

}  // namespace

TEST(CcUndo, BothAlgorithmsRestoreTheWindowAfterASpuriousTimeout) {
    for (auto make : {make_newreno, make_cubic}) {
        auto cc = make();
        SCOPED_TRACE(cc->name());
        Instant now = Instant::from_ns(0);
        warm_up(*cc, now);
        const std::uint32_t cwnd = cc->cwnd(), ssthresh = cc->ssthresh();
        cc->save_undo();
        cc->on_rto(cwnd);
        EXPECT_EQ(cc->cwnd(), kMss);
        cc->undo();
        EXPECT_EQ(cc->cwnd(), cwnd);
        EXPECT_EQ(cc->ssthresh(), ssthresh);
    }
}

TEST(CcUndo, CubicGrowsOnAsIfTheEventHadNotHappened) {
    // Two CUBIC instances with the same history; one meets a fast
    // retransmit that is undone: the next ACKs grow both alike (W_max and
    // the epoch came back, not just cwnd).
    auto a = make_cubic(), b = make_cubic();
    Instant ta = Instant::from_ns(0), tb = Instant::from_ns(0);
    warm_up(*a, ta);
    warm_up(*b, tb);
    ASSERT_EQ(a->cwnd(), b->cwnd());
    b->save_undo();
    b->on_enter_recovery(b->cwnd());
    b->undo();
    for (int i = 0; i < 50; ++i) {
        ta += Duration::millis(1);
        a->on_ack(kMss, a->cwnd(), ta, Duration::millis(10));
        b->on_ack(kMss, b->cwnd(), ta, Duration::millis(10));
    }
    EXPECT_EQ(a->cwnd(), b->cwnd());
    EXPECT_EQ(a->ssthresh(), b->ssthresh());
}
