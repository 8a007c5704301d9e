// base/xoshiro.hpp — a small, fast, seedable generator for deterministic
// randomness: xoshiro256** seeded through splitmix64 (Blackman and Vigna,
// public-domain reference algorithms, prng.di.unimi.it).
//
// Contract: the same seed gives the same stream on every machine. Not for
// secrets (ISNs and cookies use SipHash with a host-provided key).
#pragma once

#include <cstdint>

namespace uinet {

inline std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

class Xoshiro256ss {
public:
    // Seeds the four words from a splitmix64 stream (advancing `sm`):
    // distinct outputs of a bijection, so at most one word is zero.
    void seed(std::uint64_t& sm) {
        for (auto& w : s_) w = splitmix64(sm);
    }
    std::uint64_t next() {
        const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const std::uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }
    // Uniform in [0, 1) with 53 bits of precision.
    double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
    // Uniform in [0, bound), bound > 0, without modulo bias.
    std::uint64_t below(std::uint64_t bound) {
        const std::uint64_t threshold = (0 - bound) % bound;
        for (;;) {
            const std::uint64_t r = next();
            if (r >= threshold) return r % bound;
        }
    }

private:
    static constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    std::uint64_t s_[4] = {};
};

}  // namespace uinet
