// tests/unit/wire/wire_test_util.hpp — helpers shared by the wire tests:
// a reference checksum written the slow, obvious way, a seeded generator
// and small byte-buffer conveniences.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "base/bytes.hpp"

namespace wiretest {

using Buf = std::vector<std::uint8_t>;

// RFC 1071 section 4.1 "C" reference, byte pair by byte pair.
inline std::uint16_t ref_sum(const std::uint8_t* p, std::size_t n) {
    std::uint64_t s = 0;
    std::size_t i = 0;
    for (; i + 1 < n; i += 2) s += (std::uint32_t{p[i]} << 8) | p[i + 1];
    if (i < n) s += std::uint32_t{p[i]} << 8;
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return static_cast<std::uint16_t>(s);
}
inline std::uint16_t ref_checksum(const Buf& b) {
    return static_cast<std::uint16_t>(~ref_sum(b.data(), b.size()));
}

// Deterministic: every run sees the same inputs, so a failure replays.
inline std::mt19937& rng() {
    static std::mt19937 g(20240601u);
    return g;
}
inline std::uint32_t rand32() { return static_cast<std::uint32_t>(rng()()); }
inline std::uint16_t rand16() { return static_cast<std::uint16_t>(rand32()); }
inline std::uint8_t rand8() { return static_cast<std::uint8_t>(rand32()); }
inline std::size_t rand_below(std::size_t n) { return n == 0 ? 0 : rand32() % n; }
inline Buf rand_bytes(std::size_t n) {
    Buf b(n);
    for (auto& x : b) x = rand8();
    return b;
}

template <std::size_t N>
Buf to_buf(const std::uint8_t (&a)[N]) {
    return Buf(a, a + N);
}
inline uinet::Bytes sub(const Buf& b, std::size_t off, std::size_t len) {
    return uinet::Bytes(b.data() + off, len);
}
inline uinet::Bytes sub(const Buf& b, std::size_t off) {
    return uinet::Bytes(b.data() + off, b.size() - off);
}

}  // namespace wiretest
