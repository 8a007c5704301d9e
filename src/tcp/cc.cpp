// tcp/cc.cpp — the CongestionControl base: RFC 6928 initial window, the
// RFC 6582 fast-recovery window steps every algorithm shares, and the
// factory by name (contract in cc.hpp).
#include <algorithm>
#include <string_view>

#include "tcp/cc.hpp"

namespace uinet::tcp {

CongestionControl::~CongestionControl() = default;

void CongestionControl::on_enter_sack_recovery(std::uint32_t flight) {
    on_enter_recovery(flight);
    cwnd_ = std::max(ssthresh_, mss_);
}

void CongestionControl::on_dupack_in_recovery() {
    // RFC 6582 3.2 step 4.
    cwnd_ = sat32(std::uint64_t{cwnd_} + mss_);
}

void CongestionControl::on_partial_ack(std::uint32_t acked) {
    // RFC 6582 3.2 step 5: deflate by the amount acknowledged, then add
    // back one SMSS if at least one SMSS was acknowledged.
    std::uint64_t w = cwnd_ > acked ? cwnd_ - acked : 0;
    if (acked >= mss_) w += mss_;
    cwnd_ = std::max(sat32(w), mss_);
}

void CongestionControl::on_exit_recovery(std::uint32_t flight) {
    // RFC 6582 3.2 step 6, option 1: min(ssthresh, max(FlightSize, SMSS) + SMSS),
    // which avoids a burst when little is in flight.
    const std::uint64_t w = std::uint64_t{std::max(flight, mss_)} + mss_;
    cwnd_ = std::max(mss_, std::min(ssthresh_, sat32(w)));
}

std::uint32_t CongestionControl::initial_window(std::uint32_t mss) {
    // RFC 6928 section 2.
    const std::uint64_t m = mss;
    return sat32(std::min(10 * m, std::max<std::uint64_t>(2 * m, 14600)));
}

std::unique_ptr<CongestionControl> make_congestion_control(std::string_view name) {
    if (name == "newreno") return make_newreno();
    if (name == "cubic") return make_cubic();
    return nullptr;
}

std::unique_ptr<CongestionControl> make_congestion_control(CcAlgorithm a) {
    return a == CcAlgorithm::cubic ? make_cubic() : make_newreno();
}

}  // namespace uinet::tcp
