// RttEstimator: RFC 6298 formulas on known sequences, clamps and backoff.
#include <gtest/gtest.h>

#include "tcp/rtt.hpp"

using namespace uinet;
using namespace uinet::tcp;

namespace {
Duration ms(std::int64_t v) { return Duration::millis(v); }
Duration us(std::int64_t v) { return Duration::micros(v); }
RttConfig unclamped() {
    RttConfig c;
    c.min_rto = Duration::zero();
    return c;
}
}  // namespace

TEST(Rtt, InitialRtoBeforeAnySample) {
    RttEstimator r;
    EXPECT_FALSE(r.has_sample());
    EXPECT_EQ(r.rto(), Duration::seconds(1));
}

TEST(Rtt, KnownSequence) {
    RttEstimator r(unclamped());
    r.sample(ms(100));  // 2.2: SRTT = R, RTTVAR = R/2
    EXPECT_TRUE(r.has_sample());
    EXPECT_EQ(r.srtt(), ms(100));
    EXPECT_EQ(r.rttvar(), ms(50));
    EXPECT_EQ(r.rto(), ms(300));
    r.sample(ms(200));  // RTTVAR = 3/4*50 + 1/4*100; SRTT = 7/8*100 + 1/8*200
    EXPECT_EQ(r.rttvar(), us(62500));
    EXPECT_EQ(r.srtt(), us(112500));
    EXPECT_EQ(r.rto(), us(112500 + 250000));
    r.sample(ms(50));  // RTTVAR = 3/4*62.5 + 1/4*62.5; SRTT = 7/8*112.5 + 1/8*50
    EXPECT_EQ(r.rttvar(), us(62500));
    EXPECT_EQ(r.srtt(), Duration::nanos(104'687'500));
    EXPECT_EQ(r.rto(), Duration::nanos(354'687'500));
}

TEST(Rtt, GranularityFloorsTheVarianceTerm) {
    RttEstimator r(unclamped());
    for (int i = 0; i < 200; ++i) r.sample(ms(10));
    EXPECT_EQ(r.srtt(), ms(10));
    EXPECT_LT(r.rttvar() * 4, ms(1));
    EXPECT_EQ(r.rto(), ms(11));  // SRTT + G
}

TEST(Rtt, ClampedToMinAndMax) {
    RttEstimator r;
    r.sample(ms(10));  // 10 + 20 ms < 200 ms
    EXPECT_EQ(r.rto(), ms(200));
    RttEstimator big;
    big.sample(Duration::seconds(100));  // 100 + 200 s
    EXPECT_EQ(big.rto(), Duration::seconds(120));
}

TEST(Rtt, BackoffDoublesUpToMaxAndSampleResets) {
    RttEstimator r;
    const std::int64_t expect[] = {1, 2, 4, 8, 16, 32, 64, 120, 120, 120};
    for (std::int64_t s : expect) {
        EXPECT_EQ(r.rto(), Duration::seconds(s)) << r.backoffs();
        r.backoff();
    }
    EXPECT_EQ(r.backoffs(), 10);
    for (int i = 0; i < 100; ++i) r.backoff();  // no overflow however long
    EXPECT_EQ(r.rto(), Duration::seconds(120));
    r.reset_backoff();
    EXPECT_EQ(r.backoffs(), 0);
    EXPECT_EQ(r.rto(), Duration::seconds(1));
    r.backoff();
    r.backoff();
    r.sample(ms(100));  // a valid sample collapses the backoff
    EXPECT_EQ(r.backoffs(), 0);
    EXPECT_EQ(r.rto(), ms(300));
    r.backoff();
    EXPECT_EQ(r.rto(), ms(600));
}

TEST(Rtt, NegativeSampleIgnoredAndClearForgets) {
    RttEstimator r;
    r.sample(Duration::zero() - ms(5));
    EXPECT_FALSE(r.has_sample());
    r.sample(ms(400));
    EXPECT_EQ(r.rto(), ms(1200));
    r.clear();
    EXPECT_FALSE(r.has_sample());
    EXPECT_EQ(r.rto(), Duration::seconds(1));
}
