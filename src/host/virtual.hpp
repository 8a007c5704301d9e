// host/virtual.hpp — deterministic host pieces for tests and simulation.
//
// Contract:
//  * VirtualClock returns whatever Instant it was last set to; time moves
//    only through set() and advance(). Callers keep it monotonic.
//  * SeededRandom is xoshiro256** (Blackman & Vigna) whose state is filled
//    by splitmix64 from a 64-bit seed. Each fill() call consumes ceil(n/8)
//    successive next() outputs and writes their little-endian bytes (the
//    unused tail bytes of the last output are dropped), so one seed and one
//    sequence of calls give the same values on every machine; u64() equals
//    next() and u32() is the low half of next().
//  * CaptureLogger keeps every message at or above min_level (debug by
//    default) in memory, in order, for assertions.
//  * None of these are thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/xoshiro.hpp"
#include "host/host.hpp"

namespace uinet {

class VirtualClock final : public Clock {
public:
    explicit VirtualClock(Instant start = Instant::from_ns(0)) : now_(start) {}
    Instant now() override { return now_; }
    void set(Instant t) { now_ = t; }
    void advance(Duration d) { now_ += d; }

private:
    Instant now_;
};

class SeededRandom final : public Random {
public:
    explicit SeededRandom(std::uint64_t seed);
    void fill(MutBytes out) override;
    // The next raw 64-bit output of the generator.
    std::uint64_t next();
    std::uint64_t seed() const { return seed_; }

private:
    std::uint64_t seed_;
    Xoshiro256ss gen_;
};

class CaptureLogger final : public Logger {
public:
    struct Line {
        LogLevel level;
        std::string text;
    };

    CaptureLogger() { min_level = LogLevel::debug; }
    void log(LogLevel level, std::string_view msg) override;
    // True if some captured line contains `needle`.
    bool contains(std::string_view needle) const;
    void clear() { lines.clear(); }

    std::vector<Line> lines;
};

}  // namespace uinet
