// tcp/sack_scoreboard.hpp — the data sender's SACK scoreboard (RFC 6675
// sections 2-4): which bytes above SND.UNA the peer has selectively
// acknowledged, and from that which holes are lost and how much is in the
// network (pipe).
//
// Contract:
//  * Holds at most kMaxRanges sorted, disjoint, non-adjacent ranges, every
//    one inside [SND.UNA, SND.MAX): bounded memory whatever the peer sends.
//    A block that would need one range more drops the highest range (the
//    information farthest from SND.UNA, the least useful for recovery):
//    forgetting a SACK only makes the sender more conservative.
//  * update() first forgets everything below the cumulative ACK, then adds
//    each valid block; a block is invalid (counted, ignored) when it is
//    empty or inverted, starts below the cumulative ACK (that includes a
//    D-SACK block, RFC 2883, which reports a duplicate, not new data) or
//    ends beyond SND.MAX.
//  * IsLost (RFC 6675 section 4) is decided per hole: a hole is lost when
//    more than (DupThresh - 1) * SMSS bytes, or DupThresh discontiguous
//    ranges, are SACKed above it (DupThresh = 3). `lost_below` lets the
//    caller declare every un-SACKed byte below it lost too (the first
//    retransmission, RFC 6675 5 (4.3), and partial ACKs).
//  * pipe() is RFC 6675's SetPipe(): for every un-SACKed byte in
//    [una, snd_max), one if it is not lost, plus one if it was
//    retransmitted (below high_rxt).
//  * No allocation; every operation is O(kMaxRanges).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/seq.hpp"
#include "wire/tcp.hpp"

namespace uinet::tcp {

class SackScoreboard {
public:
    static constexpr std::size_t kMaxRanges = 16;
    static constexpr std::uint32_t kDupThresh = 3;

    struct Range {
        SeqNum left;   // first SACKed byte
        SeqNum right;  // one past the last
    };
    struct UpdateResult {
        std::uint32_t new_bytes = 0;  // bytes newly marked SACKed
        std::uint32_t invalid = 0;    // blocks ignored
    };

    void clear() { n_ = 0; }
    bool empty() const { return n_ == 0; }
    std::span<const Range> ranges() const { return {r_.data(), n_}; }

    // Forgets ranges below una.
    void prune(SeqNum una);
    UpdateResult update(SeqNum una, SeqNum snd_max, std::span<const wire::SackBlock> blocks);

    bool is_sacked(SeqNum s) const;
    // Is all of [left, right) SACKed (inside one range)?
    bool covers(SeqNum left, SeqNum right) const;
    std::uint64_t sacked_bytes() const;
    // RFC 6675 IsLost(s) for an un-SACKed byte s.
    bool is_lost(SeqNum s, std::uint32_t mss, SeqNum lost_below) const;
    // RFC 6675 SetPipe().
    std::uint32_t pipe(SeqNum una, SeqNum snd_max, SeqNum high_rxt, std::uint32_t mss, SeqNum lost_below) const;
    // NextSeg() rule 1: the first lost, un-SACKed byte at or after `from`
    // (below snd_max); seq and len of a segment of at most mss bytes that
    // stops at the next SACKed range.
    bool next_lost(SeqNum from, SeqNum una, SeqNum snd_max, std::uint32_t mss, SeqNum lost_below, SeqNum& seq,
                   std::uint32_t& len) const;
    // NextSeg() rule 4 (rescue): the last segment of at most mss bytes that
    // ends at the highest un-SACKed byte below snd_max.
    bool highest_hole(SeqNum una, SeqNum snd_max, std::uint32_t mss, SeqNum& seq, std::uint32_t& len) const;

private:
    // Is the hole just below range i (i == n_: above the last range) lost?
    bool hole_lost(std::size_t i, std::uint32_t mss) const;
    void add(SeqNum left, SeqNum right, UpdateResult& res);

    std::array<Range, kMaxRanges> r_{};
    std::size_t n_ = 0;
};

}  // namespace uinet::tcp
