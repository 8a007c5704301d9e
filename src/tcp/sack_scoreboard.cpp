// tcp/sack_scoreboard.cpp — the SACK scoreboard (contract in
// sack_scoreboard.hpp; RFC 6675 sections 2-4).
#include "tcp/sack_scoreboard.hpp"

#include <algorithm>

namespace uinet::tcp {

namespace {
std::uint32_t span_len(SeqNum a, SeqNum b) { return b > a ? static_cast<std::uint32_t>(b - a) : 0u; }
}  // namespace

void SackScoreboard::prune(SeqNum una) {
    std::size_t keep = 0;
    for (std::size_t i = 0; i < n_; ++i) {
        if (r_[i].right <= una) continue;
        Range r = r_[i];
        if (r.left < una) r.left = una;
        r_[keep++] = r;
    }
    n_ = keep;
}

void SackScoreboard::add(SeqNum left, SeqNum right, UpdateResult& res) {
    // Merge with every range the block touches or overlaps.
    std::size_t first = 0;
    while (first < n_ && r_[first].right < left) ++first;
    std::size_t last = first;  // one past the last range merged
    SeqNum l = left, r = right;
    std::uint32_t covered = 0;
    while (last < n_ && r_[last].left <= right) {
        covered += span_len(seq_max(r_[last].left, left), seq_min(r_[last].right, right));
        l = seq_min(l, r_[last].left);
        r = seq_max(r, r_[last].right);
        ++last;
    }
    res.new_bytes += span_len(left, right) - covered;
    if (last > first) {
        // Replace ranges [first, last) by the merged one.
        r_[first] = Range{l, r};
        const std::size_t removed = last - first - 1;
        for (std::size_t i = first + 1; i + removed < n_; ++i) r_[i] = r_[i + removed];
        n_ -= removed;
        return;
    }
    // A new range at index `first`.
    if (n_ == kMaxRanges) {
        if (first == n_) return;  // it would be the highest: the one dropped
        --n_;                     // drop the highest
    }
    for (std::size_t i = n_; i > first; --i) r_[i] = r_[i - 1];
    r_[first] = Range{l, r};
    ++n_;
}

SackScoreboard::UpdateResult SackScoreboard::update(SeqNum una, SeqNum snd_max,
                                                    std::span<const wire::SackBlock> blocks) {
    UpdateResult res;
    prune(una);
    for (const wire::SackBlock& b : blocks) {
        if (!(b.left < b.right) || b.left < una || b.right > snd_max) {
            ++res.invalid;
            continue;
        }
        add(b.left, b.right, res);
    }
    return res;
}

bool SackScoreboard::is_sacked(SeqNum s) const {
    for (std::size_t i = 0; i < n_; ++i)
        if (s.in_range(r_[i].left, r_[i].right)) return true;
    return false;
}

bool SackScoreboard::covers(SeqNum left, SeqNum right) const {
    for (std::size_t i = 0; i < n_; ++i)
        if (r_[i].left <= left && right <= r_[i].right) return true;
    return false;
}

std::uint64_t SackScoreboard::sacked_bytes() const {
    std::uint64_t n = 0;
    for (std::size_t i = 0; i < n_; ++i) n += span_len(r_[i].left, r_[i].right);
    return n;
}

bool SackScoreboard::hole_lost(std::size_t i, std::uint32_t mss) const {
    if (i >= n_) return false;
    if (n_ - i >= kDupThresh) return true;
    std::uint64_t above = 0;
    for (std::size_t j = i; j < n_; ++j) above += span_len(r_[j].left, r_[j].right);
    return above > std::uint64_t{kDupThresh - 1} * mss;
}

bool SackScoreboard::is_lost(SeqNum s, std::uint32_t mss, SeqNum lost_below) const {
    if (s < lost_below) return true;
    std::size_t i = 0;
    while (i < n_ && r_[i].left <= s) ++i;
    return hole_lost(i, mss);
}

std::uint32_t SackScoreboard::pipe(SeqNum una, SeqNum snd_max, SeqNum high_rxt, std::uint32_t mss,
                                   SeqNum lost_below) const {
    std::uint64_t pipe = 0;
    SeqNum hole_start = una;
    for (std::size_t i = 0; i <= n_; ++i) {
        const SeqNum hole_end = i < n_ ? r_[i].left : snd_max;
        if (hole_start < hole_end) {
            // Bytes below lost_below are lost whatever the hole says.
            const SeqNum lb = seq_min(seq_max(lost_below, hole_start), hole_end);
            if (!hole_lost(i, mss)) pipe += span_len(lb, hole_end);
            pipe += span_len(hole_start, seq_min(hole_end, high_rxt));
        }
        if (i < n_) hole_start = r_[i].right;
    }
    return pipe > UINT32_MAX ? UINT32_MAX : static_cast<std::uint32_t>(pipe);
}

bool SackScoreboard::next_lost(SeqNum from, SeqNum una, SeqNum snd_max, std::uint32_t mss, SeqNum lost_below,
                               SeqNum& seq, std::uint32_t& len) const {
    SeqNum hole_start = una;
    for (std::size_t i = 0; i <= n_; ++i) {
        const SeqNum hole_end = i < n_ ? r_[i].left : snd_max;
        const SeqNum s = seq_max(hole_start, from);
        if (s < hole_end) {
            SeqNum lost_end = hole_lost(i, mss) ? hole_end : seq_min(hole_end, lost_below);
            if (s < lost_end) {
                seq = s;
                len = std::min(span_len(s, lost_end), mss);
                return true;
            }
        }
        if (i < n_) hole_start = r_[i].right;
    }
    return false;
}

bool SackScoreboard::highest_hole(SeqNum una, SeqNum snd_max, std::uint32_t mss, SeqNum& seq,
                                  std::uint32_t& len) const {
    SeqNum hole_start = n_ > 0 ? r_[n_ - 1].right : una;
    SeqNum hole_end = snd_max;
    for (std::size_t i = n_; hole_start >= hole_end; --i) {
        if (i == 0) return false;
        hole_end = r_[i - 1].left;
        hole_start = i >= 2 ? r_[i - 2].right : una;
    }
    len = std::min(span_len(hole_start, hole_end), mss);
    seq = hole_end - len;
    return len > 0;
}

}  // namespace uinet::tcp
