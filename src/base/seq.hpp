// base/seq.hpp — TCP sequence numbers with modulo-2^32 comparison.
//
// Contract: comparisons follow RFC 9293 section 3.4 ("sequence number
// arithmetic"): a < b iff (int32)(a - b) < 0. They are meaningful only for
// numbers less than 2^31 apart. No raw uint32_t arithmetic on sequence space
// anywhere else (DESIGN.md principle 2).
#pragma once

#include <cstdint>

namespace uinet {

class SeqNum {
public:
    constexpr SeqNum() = default;
    constexpr explicit SeqNum(std::uint32_t v) : v_(v) {}
    constexpr std::uint32_t raw() const { return v_; }

    constexpr SeqNum operator+(std::uint32_t n) const { return SeqNum(v_ + n); }
    constexpr SeqNum operator-(std::uint32_t n) const { return SeqNum(v_ - n); }
    constexpr SeqNum& operator+=(std::uint32_t n) { v_ += n; return *this; }
    // Signed distance from o to this (this - o), valid within 2^31.
    constexpr std::int32_t operator-(SeqNum o) const { return static_cast<std::int32_t>(v_ - o.v_); }

    constexpr bool operator==(const SeqNum&) const = default;
    constexpr bool operator<(SeqNum o) const { return (*this - o) < 0; }
    constexpr bool operator<=(SeqNum o) const { return (*this - o) <= 0; }
    constexpr bool operator>(SeqNum o) const { return (*this - o) > 0; }
    constexpr bool operator>=(SeqNum o) const { return (*this - o) >= 0; }

    // lo <= this < hi, in sequence space.
    constexpr bool in_range(SeqNum lo, SeqNum hi) const { return lo <= *this && *this < hi; }

private:
    std::uint32_t v_ = 0;
};

constexpr SeqNum seq_max(SeqNum a, SeqNum b) { return a > b ? a : b; }
constexpr SeqNum seq_min(SeqNum a, SeqNum b) { return a < b ? a : b; }

}  // namespace uinet
