// SackScoreboard: RFC 6675 sections 2-4 (merging, validation, bounded
// memory, IsLost, SetPipe, NextSeg's holes).
#include <gtest/gtest.h>

#include <vector>

#include "tcp/sack_scoreboard.hpp"

using namespace uinet;
using namespace uinet::tcp;

namespace {

constexpr std::uint32_t kMss = 1000;
const SeqNum kUna(0xfffff000u);  // near the wrap, on purpose

SeqNum S(std::uint32_t k) { return kUna + k * kMss; }

SackScoreboard::UpdateResult upd(SackScoreboard& sb, SeqNum una, SeqNum max,
                                 std::vector<std::pair<std::uint32_t, std::uint32_t>> segs) {
    std::vector<wire::SackBlock> b;
    for (auto [l, r] : segs) b.push_back({S(l), S(r)});
    return sb.update(una, max, b);
}

}  // namespace

TEST(SackScoreboard, MergesOverlappingAndAdjacentBlocks) {
    SackScoreboard sb;
    auto r = upd(sb, S(0), S(20), {{2, 4}, {6, 7}});
    EXPECT_EQ(r.new_bytes, 3 * kMss);
    EXPECT_EQ(sb.ranges().size(), 2u);
    r = upd(sb, S(0), S(20), {{4, 6}});  // bridges both
    EXPECT_EQ(r.new_bytes, 2 * kMss);
    ASSERT_EQ(sb.ranges().size(), 1u);
    EXPECT_EQ(sb.ranges()[0].left, S(2));
    EXPECT_EQ(sb.ranges()[0].right, S(7));
    r = upd(sb, S(0), S(20), {{3, 5}});  // nothing new
    EXPECT_EQ(r.new_bytes, 0u);
    EXPECT_TRUE(sb.is_sacked(S(6)));
    EXPECT_FALSE(sb.is_sacked(S(7)));
    // The cumulative ACK passes part of the range: it is trimmed.
    upd(sb, S(3), S(20), {});
    EXPECT_EQ(sb.ranges()[0].left, S(3));
    EXPECT_EQ(sb.sacked_bytes(), 4u * kMss);
    upd(sb, S(8), S(20), {});
    EXPECT_TRUE(sb.empty());
}

TEST(SackScoreboard, InvalidBlocksAreIgnored) {
    SackScoreboard sb;
    std::vector<wire::SackBlock> b{{S(0) - 10, S(2)},  // below SND.UNA (or a D-SACK)
                                   {S(5), S(11)},      // beyond SND.MAX
                                   {S(4), S(3)},       // inverted
                                   {S(4), S(4)}};      // empty
    auto r = sb.update(S(0), S(10), b);
    EXPECT_EQ(r.invalid, 4u);
    EXPECT_TRUE(sb.empty());
}

TEST(SackScoreboard, MemoryIsBoundedAndTheHighestRangeGoes) {
    SackScoreboard sb;
    const SeqNum max = S(200);
    for (std::uint32_t k = 0; k < 40; ++k) upd(sb, S(0), max, {{1 + 2 * k, 2 + 2 * k}});
    ASSERT_EQ(sb.ranges().size(), SackScoreboard::kMaxRanges);
    EXPECT_EQ(sb.ranges()[0].left, S(1));  // the lowest ranges are kept
    EXPECT_EQ(sb.ranges().back().left, S(1 + 2 * (SackScoreboard::kMaxRanges - 1)));
    // A new low range still fits, pushing out the highest.
    upd(sb, S(0), max, {{0, 1}});
    EXPECT_EQ(sb.ranges().size(), SackScoreboard::kMaxRanges);
    EXPECT_EQ(sb.ranges()[0].left, S(0));
}

TEST(SackScoreboard, IsLostByBytesOrByRanges) {
    SackScoreboard sb;
    // Two segments SACKed above S0: not more than (3 - 1) * SMSS.
    upd(sb, S(0), S(10), {{1, 3}});
    EXPECT_FALSE(sb.is_lost(S(0), kMss, S(0)));
    upd(sb, S(0), S(10), {{1, 3}, {3, 3}});
    upd(sb, S(0), S(10), {{5, 6}});
    EXPECT_TRUE(sb.is_lost(S(0), kMss, S(0)));   // 3 segments above
    EXPECT_FALSE(sb.is_lost(S(3), kMss, S(0)));  // only S5 above
    EXPECT_FALSE(sb.is_lost(S(7), kMss, S(0)));  // above every range
    // Three discontiguous ranges of one byte each also make a loss.
    SackScoreboard sb2;
    std::vector<wire::SackBlock> b{{S(2), S(2) + 1}, {S(4), S(4) + 1}, {S(6), S(6) + 1}};
    sb2.update(S(0), S(10), b);
    EXPECT_TRUE(sb2.is_lost(S(1), kMss, S(0)));
    EXPECT_FALSE(sb2.is_lost(S(3), kMss, S(0)));
    // lost_below marks the head lost whatever the scoreboard says.
    EXPECT_TRUE(sb2.is_lost(S(7), kMss, S(8)));
}

TEST(SackScoreboard, PipeAndNextSegFollowRfc6675) {
    SackScoreboard sb;
    // 10 segments out; S0 and S3 missing, S1-S2 and S4-S6 SACKed.
    upd(sb, S(0), S(10), {{1, 3}, {4, 7}});
    // S0 lost (5 SACKed above), S3 lost (3 above); S7..S9 in flight.
    EXPECT_EQ(sb.pipe(S(0), S(10), S(0), kMss, S(0)), 3 * kMss);
    SeqNum seq;
    std::uint32_t len = 0;
    ASSERT_TRUE(sb.next_lost(S(0), S(0), S(10), kMss, S(0), seq, len));
    EXPECT_EQ(seq, S(0));
    EXPECT_EQ(len, kMss);
    // S0 resent (HighRxt = S1): it counts again, and the next hole is S3.
    EXPECT_EQ(sb.pipe(S(0), S(10), S(1), kMss, S(0)), 4 * kMss);
    ASSERT_TRUE(sb.next_lost(S(1), S(0), S(10), kMss, S(0), seq, len));
    EXPECT_EQ(seq, S(3));
    EXPECT_EQ(len, kMss);
    EXPECT_FALSE(sb.next_lost(S(4), S(0), S(10), kMss, S(0), seq, len));
    // The rescue segment ends at the highest un-SACKed byte.
    ASSERT_TRUE(sb.highest_hole(S(0), S(10), kMss, seq, len));
    EXPECT_EQ(seq, S(9));
    EXPECT_EQ(len, kMss);
    upd(sb, S(0), S(10), {{7, 10}});
    ASSERT_TRUE(sb.highest_hole(S(0), S(10), kMss, seq, len));
    EXPECT_EQ(seq, S(3));
    // Everything SACKed above the cumulative ACK: no hole.
    SackScoreboard full;
    upd(full, S(0), S(4), {{0, 4}});
    EXPECT_FALSE(full.highest_hole(S(0), S(4), kMss, seq, len));
    EXPECT_EQ(full.pipe(S(0), S(4), S(0), kMss, S(0)), 0u);
}
