// host/virtual.cpp — deterministic clock, random source and logger.
//
// Contract: see virtual.hpp. The generator is base/xoshiro.hpp's.
#include "host/virtual.hpp"

namespace uinet {

SeededRandom::SeededRandom(std::uint64_t seed) : seed_(seed) {
    std::uint64_t x = seed;
    gen_.seed(x);
}

std::uint64_t SeededRandom::next() { return gen_.next(); }

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
