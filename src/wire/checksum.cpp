// wire/checksum.cpp — RFC 1071 one's-complement sum, RFC 1624 updates.
//
// The bulk loop loads 8 bytes at a time in native byte order (memcpy, so no
// alignment assumption) into a 64-bit accumulator with end-around carry.
// The one's-complement sum is byte-order independent (RFC 1071 section 2(B)):
// summing byte-swapped words gives the byte-swapped sum, so the native sum
// is folded to 16 bits and swapped once on little-endian hosts.
#include "wire/checksum.hpp"

#include <bit>
#include <cstring>

namespace uinet::wire {

namespace {

// End-around-carry addition in 64 bits.
inline std::uint64_t add_carry(std::uint64_t s, std::uint64_t w) noexcept {
    s += w;
    return s + (s < w ? 1u : 0u);
}

inline std::uint16_t fold(std::uint64_t s) noexcept {
    s = (s >> 32) + (s & 0xffffffffu);
    s = (s >> 32) + (s & 0xffffffffu);
    s = (s >> 16) + (s & 0xffffu);
    s = (s >> 16) + (s & 0xffffu);
    return static_cast<std::uint16_t>(s);
}

inline std::uint16_t native_to_be16(std::uint16_t v) noexcept {
    if constexpr (std::endian::native == std::endian::little)
        return static_cast<std::uint16_t>((v >> 8) | (v << 8));
    else
        return v;
}

// Folded one's-complement sum of n bytes (n even), as a big-endian value.
std::uint16_t sum_native(const std::uint8_t* p, std::size_t n) noexcept {
    std::uint64_t s = 0;
    while (n >= 32) {
        std::uint64_t w0, w1, w2, w3;
        std::memcpy(&w0, p, 8);
        std::memcpy(&w1, p + 8, 8);
        std::memcpy(&w2, p + 16, 8);
        std::memcpy(&w3, p + 24, 8);
        s = add_carry(s, w0);
        s = add_carry(s, w1);
        s = add_carry(s, w2);
        s = add_carry(s, w3);
        p += 32;
        n -= 32;
    }
    while (n >= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        s = add_carry(s, w);
        p += 8;
        n -= 8;
    }
    if (n >= 4) {
        std::uint32_t w;
        std::memcpy(&w, p, 4);
        s = add_carry(s, w);
        p += 4;
        n -= 4;
    }
    if (n >= 2) {
        std::uint16_t w;
        std::memcpy(&w, p, 2);
        s = add_carry(s, w);
    }
    return native_to_be16(fold(s));
}

}  // namespace

void Checksum::add(Bytes data) noexcept {
    const std::uint8_t* p = data.data();
    std::size_t n = data.size();
    if (n == 0) return;
    if (odd_) {
        acc_ += static_cast<std::uint16_t>((pending_ << 8) | p[0]);
        odd_ = false;
        ++p;
        --n;
    }
    acc_ += sum_native(p, n & ~std::size_t{1});
    if (n & 1) {
        pending_ = p[n - 1];
        odd_ = true;
    }
}

void Checksum::add_word_unaligned(std::uint16_t v) noexcept {
    const std::uint8_t b[2] = {static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
    add(Bytes(b, 2));
}

std::uint16_t Checksum::sum() const noexcept {
    std::uint64_t s = acc_;
    if (odd_) s += std::uint64_t{pending_} << 8;  // pad the last byte with zero
    return fold(s);
}

void add_pseudo_v4(Checksum& c, Ipv4Addr src, Ipv4Addr dst, std::uint8_t proto,
                   std::uint16_t l4_len) noexcept {
    // RFC 768 / RFC 9293 section 3.1: src, dst, zero, protocol, length.
    c.add32(src.value());
    c.add32(dst.value());
    c.add16(proto);
    c.add16(l4_len);
}

void add_pseudo_v6(Checksum& c, const Ipv6Addr& src, const Ipv6Addr& dst, std::uint8_t next_header,
                   std::uint32_t len) noexcept {
    // RFC 8200 section 8.1: src, dst, 32-bit length, 3 zero bytes, next header.
    c.add(Bytes(src.bytes()));
    c.add(Bytes(dst.bytes()));
    c.add32(len);
    c.add16(next_header);
}

std::uint16_t pseudo_partial_v4(Ipv4Addr src, Ipv4Addr dst, std::uint8_t proto,
                                std::uint16_t l4_len) noexcept {
    Checksum c;
    add_pseudo_v4(c, src, dst, proto, l4_len);
    return c.sum();
}

std::uint16_t pseudo_partial_v6(const Ipv6Addr& src, const Ipv6Addr& dst, std::uint8_t next_header,
                                std::uint32_t len) noexcept {
    Checksum c;
    add_pseudo_v6(c, src, dst, next_header, len);
    return c.sum();
}

std::uint16_t checksum_update16(std::uint16_t old_csum, std::uint16_t old_field,
                                std::uint16_t new_field) noexcept {
    // RFC 1624 section 3, eqn 3: HC' = ~(~HC + ~m + m').
    std::uint32_t s = static_cast<std::uint16_t>(~old_csum);
    s += static_cast<std::uint16_t>(~old_field);
    s += new_field;
    s = (s >> 16) + (s & 0xffffu);
    s = (s >> 16) + (s & 0xffffu);
    return static_cast<std::uint16_t>(~s);
}

std::uint16_t checksum_update32(std::uint16_t old_csum, std::uint32_t old_field,
                                std::uint32_t new_field) noexcept {
    std::uint16_t c = checksum_update16(old_csum, static_cast<std::uint16_t>(old_field >> 16),
                                        static_cast<std::uint16_t>(new_field >> 16));
    return checksum_update16(c, static_cast<std::uint16_t>(old_field),
                             static_cast<std::uint16_t>(new_field));
}

std::uint16_t internet_checksum(Bytes data) noexcept {
    Checksum c;
    c.add(data);
    return c.finish();
}

}  // namespace uinet::wire
