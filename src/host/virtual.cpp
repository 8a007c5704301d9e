// host/virtual.cpp — deterministic clock, random source and logger.
//
// Contract: see virtual.hpp. xoshiro256** and splitmix64 follow the public
// domain reference code of Blackman and Vigna (prng.di.unimi.it).
#include "host/virtual.hpp"

namespace uinet {
namespace {

std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

SeededRandom::SeededRandom(std::uint64_t seed) : seed_(seed) {
    std::uint64_t x = seed;
    for (auto& w : s_) w = splitmix64(x);  // distinct inputs of a bijection: at most one word is 0
}

std::uint64_t SeededRandom::next() {
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

void SeededRandom::fill(MutBytes out) {
    std::size_t i = 0;
    while (i < out.size()) {
        std::uint64_t v = next();
        for (int b = 0; b < 8 && i < out.size(); ++b, ++i) {
            out[i] = static_cast<std::uint8_t>(v);
            v >>= 8;
        }
    }
}

void CaptureLogger::log(LogLevel level, std::string_view msg) {
    if (level < min_level) return;
    lines.push_back(Line{level, std::string(msg)});
}

bool CaptureLogger::contains(std::string_view needle) const {
    for (const Line& l : lines)
        if (l.text.find(needle) != std::string::npos) return true;
    return false;
}

}  // namespace uinet
