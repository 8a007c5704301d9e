// tcp/rtt.cpp — RFC 6298 estimator (contract in rtt.hpp).
#include "tcp/rtt.hpp"

#include <algorithm>

namespace uinet::tcp {

namespace {
// Enough doublings to reach any max_rto from a 1 ns base; keeps shifts defined.
constexpr int kMaxShift = 62;
}  // namespace

RttEstimator::RttEstimator(RttConfig config) : cfg_(config) {
    if (cfg_.max_rto < cfg_.min_rto) cfg_.max_rto = cfg_.min_rto;
}

void RttEstimator::sample(Duration rtt) {
    if (rtt < Duration::zero()) return;
    if (!has_sample_) {
        // RFC 6298 2.2.
        srtt_ = rtt;
        rttvar_ = rtt / 2;
        has_sample_ = true;
    } else {
        // RFC 6298 2.3: RTTVAR first, with the old SRTT.
        Duration diff = srtt_ - rtt;
        if (diff < Duration::zero()) diff = Duration::zero() - diff;
        rttvar_ = rttvar_ - rttvar_ / 4 + diff / 4;
        srtt_ = srtt_ - srtt_ / 8 + rtt / 8;
    }
    reset_backoff();
}

Duration RttEstimator::rto() const {
    Duration base = cfg_.initial_rto;
    if (has_sample_) base = srtt_ + std::max(cfg_.granularity, rttvar_ * 4);
    base = std::clamp(base, cfg_.min_rto, cfg_.max_rto);
    // Double once per backoff, stopping as soon as max_rto is reached.
    for (int k = 0; k < backoffs_ && k < kMaxShift; ++k) {
        if (base >= cfg_.max_rto / 2) return cfg_.max_rto;
        base = base * 2;
    }
    return base;
}

void RttEstimator::backoff() {
    if (backoffs_ < 1'000'000) ++backoffs_;
}

void RttEstimator::clear() {
    srtt_ = Duration::zero();
    rttvar_ = Duration::zero();
    backoffs_ = 0;
    has_sample_ = false;
}

}  // namespace uinet::tcp
