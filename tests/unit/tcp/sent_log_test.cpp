// SentLog (tcp/rack.hpp): the sent-range record behind RACK.
#include <gtest/gtest.h>

#include "tcp/rack.hpp"

using namespace uinet;
using namespace uinet::tcp;

namespace {
Instant at_ms(std::int64_t ms) { return Instant::from_ns(ms * 1'000'000); }
}  // namespace

TEST(SentLog, NewDataIsLoggedInMssPieces) {
    SentLog log;
    log.reserve(8);
    log.append(SeqNum(1000), SeqNum(1000 + 2500), at_ms(5), 1000);
    ASSERT_EQ(log.size(), 3u);
    EXPECT_EQ(log.at(0).start, SeqNum(1000));
    EXPECT_EQ(log.at(0).end, SeqNum(2000));
    EXPECT_EQ(log.at(2).start, SeqNum(3000));
    EXPECT_EQ(log.at(2).end, SeqNum(3500));
    EXPECT_EQ(log.at(2).xmit, at_ms(5));
    EXPECT_EQ(log.end(), SeqNum(3500));
}

TEST(SentLog, RetransmissionStampsAndSplits) {
    SentLog log;
    log.reserve(8);
    log.append(SeqNum(0), SeqNum(3000), at_ms(1), 3000);  // one record
    log.at(0).flags = SentLog::kLost;
    log.retransmit(SeqNum(0), SeqNum(1000), at_ms(9));
    ASSERT_EQ(log.size(), 2u);
    EXPECT_EQ(log.at(0).end, SeqNum(1000));
    EXPECT_EQ(log.at(0).xmit, at_ms(9));
    EXPECT_EQ(log.at(0).flags, SentLog::kRexmit);  // lost cleared
    EXPECT_EQ(log.at(1).start, SeqNum(1000));
    EXPECT_EQ(log.at(1).xmit, at_ms(1));
    EXPECT_EQ(log.at(1).flags, SentLog::kLost);  // the rest is still to resend
}

TEST(SentLog, TrimForgetsAcknowledgedRangesAcrossTheRingEdge) {
    SentLog log;
    log.reserve(4);
    log.append(SeqNum(0), SeqNum(400), at_ms(1), 100);
    log.trim(SeqNum(250));
    ASSERT_EQ(log.size(), 2u);
    EXPECT_EQ(log.at(0).start, SeqNum(250));
    log.append(SeqNum(400), SeqNum(600), at_ms(2), 100);  // wraps
    ASSERT_EQ(log.size(), 4u);
    EXPECT_EQ(log.at(3).start, SeqNum(500));
    log.trim(SeqNum(600));
    EXPECT_TRUE(log.empty());
}

TEST(SentLog, FullRingExtendsTheLastRecordAndGrowKeepsRecords) {
    SentLog log;
    log.reserve(4);
    log.append(SeqNum(0), SeqNum(600), at_ms(1), 100);
    ASSERT_EQ(log.size(), 4u);
    EXPECT_EQ(log.at(3).start, SeqNum(300));
    EXPECT_EQ(log.at(3).end, SeqNum(600));  // bounded: no fifth record
    log.trim(SeqNum(100));
    log.grow(16);
    EXPECT_EQ(log.capacity(), 16u);
    ASSERT_EQ(log.size(), 3u);
    EXPECT_EQ(log.at(0).start, SeqNum(100));
    log.append(SeqNum(600), SeqNum(700), at_ms(2), 100);
    EXPECT_EQ(log.size(), 4u);
    EXPECT_EQ(log.at(3).xmit, at_ms(2));
}
