// bench/common.hpp — helpers shared by the microbenchmarks.
//
// Naming rule (read by bench/report.py): every benchmark is called
// "<family>/<impl>[/<args>]". The impl "uinet" is the code under test; any
// other impl of the same family and arguments is its in-run reference (a
// naive loop, a standard container, plain memcpy, or the Linux kernel), and
// the report prints the ratio uinet/reference. DESIGN.md: every figure is
// measured beside a reference in the same run; no figure is a test.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace uinet::bench {

inline std::vector<std::uint8_t> random_bytes(std::size_t n, std::uint64_t seed = 1) {
    std::mt19937_64 g(seed);
    std::vector<std::uint8_t> v(n);
    for (auto& b : v) b = static_cast<std::uint8_t>(g());
    return v;
}

}  // namespace uinet::bench
