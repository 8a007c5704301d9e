// wire/checksum.hpp — the Internet checksum (RFC 1071) and its helpers.
//
// Contract:
//  * Checksum is a one's-complement accumulator. Data may be added in any
//    number of pieces of any length: an odd trailing byte of one add() is
//    paired with the first byte of the next, so the result equals the sum
//    over the concatenation (RFC 1071 section 2 "(A) commutative and
//    associative"). add16()/add32() add big-endian words as if their bytes
//    were add()ed, so they too may follow an odd-length piece.
//  * finish() is the value to store in a header (folded and complemented);
//    sum() is the folded, uncomplemented sum. A packet verifies when the sum
//    over it, checksum field included, is 0xffff (finish() == 0).
//  * checksum_update16() implements RFC 1624 equation 3 for changing one
//    16-bit field without a recomputation.
//  * No allocation, no global state; add() is word-at-a-time (8 bytes with
//    a 64-bit accumulator, loads by memcpy).
#pragma once

#include <cstdint>

#include "base/addr.hpp"
#include "base/bytes.hpp"

namespace uinet::wire {

class Checksum {
public:
    constexpr Checksum() = default;

    void add(Bytes data) noexcept;
    // A big-endian 16/32-bit value, as if its bytes were add()ed.
    void add16(std::uint16_t v) noexcept {
        if (odd_) return add_word_unaligned(v);
        acc_ += v;
    }
    void add32(std::uint32_t v) noexcept {
        add16(static_cast<std::uint16_t>(v >> 16));
        add16(static_cast<std::uint16_t>(v));
    }

    // Folded to 16 bits, not complemented.
    std::uint16_t sum() const noexcept;
    // Folded and complemented: ready to store in a checksum field.
    std::uint16_t finish() const noexcept { return static_cast<std::uint16_t>(~sum()); }

private:
    void add_word_unaligned(std::uint16_t v) noexcept;

    std::uint64_t acc_ = 0;     // big-endian 16-bit words, unfolded
    std::uint8_t pending_ = 0;  // high byte of a half-added word
    bool odd_ = false;          // pending_ is valid
};

// Pseudo headers: RFC 9293 section 3.1 / RFC 768 (IPv4), RFC 8200 section 8.1 (IPv6).
void add_pseudo_v4(Checksum& c, Ipv4Addr src, Ipv4Addr dst, std::uint8_t proto,
                   std::uint16_t l4_len) noexcept;
void add_pseudo_v6(Checksum& c, const Ipv6Addr& src, const Ipv6Addr& dst, std::uint8_t next_header,
                   std::uint32_t len) noexcept;

// The folded, uncomplemented pseudo-header sum, as a device doing checksum
// offload expects to find it in the L4 checksum field (CHECKSUM_PARTIAL style).
std::uint16_t pseudo_partial_v4(Ipv4Addr src, Ipv4Addr dst, std::uint8_t proto,
                                std::uint16_t l4_len) noexcept;
std::uint16_t pseudo_partial_v6(const Ipv6Addr& src, const Ipv6Addr& dst, std::uint8_t next_header,
                                std::uint32_t len) noexcept;

// RFC 1624 eqn 3: HC' = ~(~HC + ~m + m'). Returns the new checksum field.
std::uint16_t checksum_update16(std::uint16_t old_csum, std::uint16_t old_field,
                                std::uint16_t new_field) noexcept;
// The same for a 32-bit field (e.g. an IPv4 address), as two 16-bit updates.
std::uint16_t checksum_update32(std::uint16_t old_csum, std::uint32_t old_field,
                                std::uint32_t new_field) noexcept;

// finish() over one contiguous span.
std::uint16_t internet_checksum(Bytes data) noexcept;

}  // namespace uinet::wire
