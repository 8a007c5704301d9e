// Helpers shared by the fragmentation and reassembly tests.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "buf/packet.hpp"
#include "net/ipv4_reassembly.hpp"

namespace frag_test {

using namespace uinet;
using namespace uinet::net;

inline std::vector<std::uint8_t> pattern(std::size_t n, std::uint32_t seed) {
    std::vector<std::uint8_t> v(n);
    std::mt19937 rng(seed);
    for (auto& b : v) b = static_cast<std::uint8_t>(rng());
    return v;
}

inline std::vector<std::uint8_t> contents(const Packet& p) {
    std::vector<std::uint8_t> v(p.empty() ? 0 : p.size());
    if (!v.empty()) p.copy_out(0, v);
    return v;
}

inline std::size_t buffers_in(const Packet& p) {
    std::size_t n = 0;
    if (!p.empty())
        for (const PacketBuf* b = &p.front(); b; b = b->next()) ++n;
    return n;
}

// One fragment as the receive path would hand it over.
struct Piece {
    std::uint16_t offset;
    bool more;
    Packet data;
};

// Cuts data into pieces of `step` bytes (a multiple of 8).
inline std::vector<Piece> cut(Pool& pool, const std::vector<std::uint8_t>& data, std::size_t step) {
    std::vector<Piece> out;
    for (std::size_t off = 0; off < data.size(); off += step) {
        std::size_t n = std::min(step, data.size() - off);
        out.push_back({static_cast<std::uint16_t>(off), off + n < data.size(),
                       pool.copy_of(Bytes(data.data() + off, n), 64)});
    }
    return out;
}

inline Packet slice(Pool& pool, const std::vector<std::uint8_t>& data, std::size_t off, std::size_t n) {
    return pool.copy_of(Bytes(data.data() + off, n), 64);
}

inline FragKey key_n(std::uint32_t n) {
    return FragKey{Ipv4Addr::of(198, 18, 0, 1), Ipv4Addr::of(198, 18, 0, 2), static_cast<std::uint16_t>(n), 17};
}

inline Instant at_ms(std::int64_t ms) { return Instant::from_ns(0) + Duration::millis(ms); }

}  // namespace frag_test
