// base/siphash.cpp — SipHash-2-4 and SipHash-1-3 (Aumasson & Bernstein, 2012).
//
// Contract: see siphash.hpp. One template implements both variants: C
// compression rounds per 8-byte message word, D finalization rounds.
#include "base/siphash.hpp"

#include <cstddef>

namespace uinet {
namespace {

constexpr std::uint64_t rotl(std::uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

struct SipState {
    std::uint64_t v0, v1, v2, v3;

    explicit SipState(const SipKey& k)
        : v0(k.k0 ^ 0x736f6d6570736575ull),  // "somepseudorandomlygeneratedbytes"
          v1(k.k1 ^ 0x646f72616e646f6dull),
          v2(k.k0 ^ 0x6c7967656e657261ull),
          v3(k.k1 ^ 0x7465646279746573ull) {}

    void round() {
        v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);
        v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);
    }

    template <int C>
    void compress(std::uint64_t m) {
        v3 ^= m;
        for (int i = 0; i < C; ++i) round();
        v0 ^= m;
    }

    template <int D>
    std::uint64_t finish() {
        v2 ^= 0xff;
        for (int i = 0; i < D; ++i) round();
        return v0 ^ v1 ^ v2 ^ v3;
    }
};

template <int C, int D>
std::uint64_t sip(const SipKey& key, Bytes data) noexcept {
    SipState s(key);
    const std::size_t n = data.size();
    const std::uint8_t* p = data.data();
    const std::size_t whole = n & ~std::size_t{7};
    for (std::size_t i = 0; i < whole; i += 8) s.compress<C>(load_le64(p + i));
    // Last block: the remaining 0..7 bytes, little-endian, with the message
    // length (mod 256) in the top byte.
    std::uint64_t last = static_cast<std::uint64_t>(n & 0xff) << 56;
    for (std::size_t i = whole; i < n; ++i) last |= std::uint64_t{p[i]} << (8 * (i - whole));
    s.compress<C>(last);
    return s.finish<D>();
}

template <int C, int D>
std::uint64_t sip_words(const SipKey& key, std::uint64_t a) noexcept {
    SipState s(key);
    s.compress<C>(a);
    s.compress<C>(std::uint64_t{8} << 56);
    return s.finish<D>();
}

template <int C, int D>
std::uint64_t sip_words(const SipKey& key, std::uint64_t a, std::uint64_t b) noexcept {
    SipState s(key);
    s.compress<C>(a);
    s.compress<C>(b);
    s.compress<C>(std::uint64_t{16} << 56);
    return s.finish<D>();
}

}  // namespace

std::uint64_t siphash24(const SipKey& key, Bytes data) noexcept { return sip<2, 4>(key, data); }
std::uint64_t siphash24_u64(const SipKey& key, std::uint64_t a) noexcept { return sip_words<2, 4>(key, a); }
std::uint64_t siphash24_u64x2(const SipKey& key, std::uint64_t a, std::uint64_t b) noexcept {
    return sip_words<2, 4>(key, a, b);
}

std::uint64_t siphash13(const SipKey& key, Bytes data) noexcept { return sip<1, 3>(key, data); }
std::uint64_t siphash13_u64(const SipKey& key, std::uint64_t a) noexcept { return sip_words<1, 3>(key, a); }
std::uint64_t siphash13_u64x2(const SipKey& key, std::uint64_t a, std::uint64_t b) noexcept {
    return sip_words<1, 3>(key, a, b);
}

}  // namespace uinet
