// tcp/mem_account.hpp — the stack-wide account of TCP socket-buffer bytes
// (TcpConfig::memory_limit; decisions in tcb_autotune.cpp).
//
// Contract: used() is the sum of every TCB's allocated buffer capacity, kept
// exact by the TCBs' deltas (Tcb::mem_sync) and by the layer when it frees a
// TCB. allow(n) says whether n more bytes stay within the limit (always,
// with no limit). Pressure starts at pressure_pct of the limit and ends
// 10 points below it (hysteresis, so it does not flap per segment).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace uinet::tcp {

class MemAccount {
public:
    void configure(std::size_t limit, std::uint32_t pressure_pct) {
        limit_ = limit;
        const std::uint32_t pct = std::clamp<std::uint32_t>(pressure_pct, 10, 100);
        high_ = limit / 100 * pct;
        low_ = limit / 100 * (pct - 10);
    }
    bool allow(std::size_t more) const { return limit_ == 0 || (used_ <= limit_ && more <= limit_ - used_); }
    // Applies a delta; true when this delta put the stack under pressure.
    bool adjust(std::ptrdiff_t delta) {
        if (delta < 0)
            used_ -= std::min(used_, static_cast<std::size_t>(-delta));
        else
            used_ += static_cast<std::size_t>(delta);
        peak_ = std::max(peak_, used_);
        const bool was = pressure_;
        pressure_ = limit_ != 0 && (pressure_ ? used_ >= low_ : used_ >= high_);
        return pressure_ && !was;
    }
    bool pressure() const { return pressure_; }
    std::size_t used() const { return used_; }
    std::size_t peak() const { return peak_; }
    std::size_t limit() const { return limit_; }

private:
    std::size_t limit_ = 0, high_ = 0, low_ = 0;
    std::size_t used_ = 0, peak_ = 0;
    bool pressure_ = false;
};

}  // namespace uinet::tcp
