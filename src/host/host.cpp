// host/host.cpp — the non-virtual helpers of the host interface.
//
// Contract: Random::u32/u64 take 4/8 bytes from fill() and read them
// little-endian, so a deterministic source gives the same numbers on every
// machine. below() is Lemire's multiply-and-reject method: exactly uniform,
// usually one draw; below(0) returns 0.
#include "host/host.hpp"

#include <array>

namespace uinet {

std::uint32_t Random::u32() {
    std::array<std::uint8_t, 4> b{};
    fill(b);
    return std::uint32_t{b[0]} | (std::uint32_t{b[1]} << 8) | (std::uint32_t{b[2]} << 16) |
           (std::uint32_t{b[3]} << 24);
}

std::uint64_t Random::u64() {
    std::array<std::uint8_t, 8> b{};
    fill(b);
    return load_le64(b.data());
}

std::uint32_t Random::below(std::uint32_t bound) {
    if (bound == 0) return 0;
    std::uint64_t m = std::uint64_t{u32()} * bound;
    auto low = static_cast<std::uint32_t>(m);
    if (low < bound) {
        const std::uint32_t threshold = (0u - bound) % bound;  // 2^32 mod bound
        while (low < threshold) {
            m = std::uint64_t{u32()} * bound;
            low = static_cast<std::uint32_t>(m);
        }
    }
    return static_cast<std::uint32_t>(m >> 32);
}

}  // namespace uinet
