// base/time.hpp — strong types for durations and instants.
//
// Contract: all protocol code receives time as an Instant passed in by its
// caller (DESIGN.md principle 4). Instants are nanoseconds on a monotonic
// timeline whose origin belongs to the clock that produced them; only
// differences are meaningful.
#pragma once

#include <compare>
#include <cstdint>
#include <limits>

namespace uinet {

class Duration {
public:
    constexpr Duration() = default;
    static constexpr Duration nanos(std::int64_t n) { return Duration(n); }
    static constexpr Duration micros(std::int64_t n) { return Duration(n * 1000); }
    static constexpr Duration millis(std::int64_t n) { return Duration(n * 1000000); }
    static constexpr Duration seconds(std::int64_t n) { return Duration(n * 1000000000); }
    static constexpr Duration zero() { return Duration(0); }
    static constexpr Duration max() { return Duration(std::numeric_limits<std::int64_t>::max()); }

    constexpr std::int64_t ns() const { return ns_; }
    constexpr std::int64_t us() const { return ns_ / 1000; }
    constexpr std::int64_t ms() const { return ns_ / 1000000; }
    constexpr double secs() const { return static_cast<double>(ns_) / 1e9; }

    constexpr Duration operator+(Duration o) const { return Duration(ns_ + o.ns_); }
    constexpr Duration operator-(Duration o) const { return Duration(ns_ - o.ns_); }
    constexpr Duration operator*(std::int64_t k) const { return Duration(ns_ * k); }
    constexpr Duration operator/(std::int64_t k) const { return Duration(ns_ / k); }
    constexpr Duration& operator+=(Duration o) { ns_ += o.ns_; return *this; }
    constexpr Duration& operator-=(Duration o) { ns_ -= o.ns_; return *this; }
    constexpr auto operator<=>(const Duration&) const = default;

private:
    constexpr explicit Duration(std::int64_t n) : ns_(n) {}
    std::int64_t ns_ = 0;
};

class Instant {
public:
    constexpr Instant() = default;
    static constexpr Instant from_ns(std::int64_t n) { return Instant(n); }
    static constexpr Instant never() { return Instant(std::numeric_limits<std::int64_t>::max()); }

    constexpr std::int64_t ns() const { return ns_; }
    constexpr bool is_never() const { return ns_ == std::numeric_limits<std::int64_t>::max(); }

    constexpr Instant operator+(Duration d) const {
        if (is_never()) return *this;
        return Instant(ns_ + d.ns());
    }
    constexpr Instant operator-(Duration d) const { return Instant(ns_ - d.ns()); }
    constexpr Duration operator-(Instant o) const { return Duration::nanos(ns_ - o.ns_); }
    constexpr Instant& operator+=(Duration d) { ns_ += d.ns(); return *this; }
    constexpr auto operator<=>(const Instant&) const = default;

private:
    constexpr explicit Instant(std::int64_t n) : ns_(n) {}
    std::int64_t ns_ = 0;
};

constexpr Instant earliest(Instant a, Instant b) { return a < b ? a : b; }

}  // namespace uinet
