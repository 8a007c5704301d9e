// tests/support/drop_device.hpp: the DropDevice wrapper and the loss models
// the simulated-path benchmark (bench/sim/sim_loss.cpp) uses.
#include "drop_device.hpp"

#include <gtest/gtest.h>

#include "link_test_util.hpp"

using namespace uinet;
using namespace uinet::test;

TEST(DropDevice, DropsExactlyWhatThePredicatePicks) {
    Pool pool;
    auto f = std::make_unique<FakeDevice>(pool);
    FakeDevice* fake = f.get();
    std::size_t n = 0;
    DropDevice d(std::move(f), [&](Instant, const Packet&) { return n++ % 3 == 1; });
    std::vector<Frame> frames;
    for (int i = 0; i < 9; ++i) frames.push_back(make_frame(60, static_cast<std::uint8_t>(i)));
    EXPECT_EQ(send(d, pool, Instant::from_ns(0), frames), 9u);
    std::vector<Frame> expect;
    for (std::size_t i = 0; i < frames.size(); ++i)
        if (i % 3 != 1) expect.push_back(frames[i]);
    EXPECT_EQ(fake->sent, expect);  // order kept
    EXPECT_EQ(d.dropped(), 3u);
    EXPECT_EQ(d.stats().tx_dropped, 3u);
}

TEST(LossModels, GilbertMeanRateAndBurstLength) {
    GilbertElliott g = GilbertElliott::with_mean(0.01, 4, 42);
    constexpr int kFrames = 2'000'000;
    int lost = 0, bursts = 0;
    bool prev = false;
    for (int i = 0; i < kFrames; ++i) {
        const bool l = g();
        lost += l;
        if (l && !prev) ++bursts;
        prev = l;
    }
    const double rate = static_cast<double>(lost) / kFrames;
    const double burst = static_cast<double>(lost) / bursts;
    EXPECT_NEAR(rate, 0.01, 0.001);
    EXPECT_NEAR(burst, 4.0, 0.3);
    // Same seed, same decisions.
    GilbertElliott a = GilbertElliott::with_mean(0.05, 2, 7), b = GilbertElliott::with_mean(0.05, 2, 7);
    for (int i = 0; i < 1000; ++i) ASSERT_EQ(a(), b());
}

TEST(LossModels, BernoulliRate) {
    BernoulliLoss l(0.05, 3);
    int lost = 0;
    for (int i = 0; i < 1'000'000; ++i) lost += l();
    EXPECT_NEAR(lost / 1e6, 0.05, 0.002);
    BernoulliLoss none(0, 3);
    for (int i = 0; i < 1000; ++i) ASSERT_FALSE(none());
}
