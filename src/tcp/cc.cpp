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

// --- HyStart++ (RFC 9406 section 4) -------------------------------------------

void CongestionControl::hystart_reset() {
    hs_round_started_ = false;
    hs_css_ = false;
    hs_last_round_min_ = hs_cur_round_min_ = hs_css_baseline_ = Duration::max();
    hs_samples_ = 0;
    hs_css_rounds_ = 0;
    hs_css_carry_ = 0;
}

void CongestionControl::on_round_ack(SeqNum snd_una, SeqNum snd_max) {
    if (!hystart_active()) return;
    // 4.2: a round ends with the ACK that covers windowEnd (SND.NXT, here
    // the highest sequence sent, when the round began); the next starts
    // with the first ACK beyond it (as Linux: the covering ACK's RTT
    // sample belongs to the round's last segment).
    if (hs_round_started_ && snd_una <= hs_window_end_) return;
    if (hs_round_started_ && hs_css_) {
        // 4.2: "CSS lasts at most CSS_ROUNDS rounds"; the partial round in
        // which CSS began counts. Then congestion avoidance: ssthresh = cwnd.
        if (++hs_css_rounds_ >= kCssRounds) {
            ssthresh_ = std::max(cwnd_, sat32(2ull * mss_));
            hs_css_ = false;
            ++hs_exits_;
            return;
        }
    }
    hs_round_started_ = true;
    hs_window_end_ = snd_max;
    hs_last_round_min_ = hs_cur_round_min_;
    hs_cur_round_min_ = Duration::max();
    hs_samples_ = 0;
}

void CongestionControl::on_rtt_sample(Duration rtt, Instant) {
    if (!hystart_active() || rtt <= Duration::zero()) return;
    hs_cur_round_min_ = std::min(hs_cur_round_min_, rtt);
    ++hs_samples_;
    if (hs_samples_ < kNRttSample) return;
    if (!hs_css_) {
        // Delay increase: leave standard slow start for CSS.
        if (hs_cur_round_min_ == Duration::max() || hs_last_round_min_ == Duration::max()) return;
        const Duration thresh =
            std::max(kMinRttThresh, std::min(hs_last_round_min_ / kMinRttDivisor, kMaxRttThresh));
        if (hs_cur_round_min_ >= hs_last_round_min_ + thresh) {
            hs_css_baseline_ = hs_cur_round_min_;
            hs_css_ = true;
            hs_css_rounds_ = 0;
            hs_css_carry_ = 0;
            ++hs_css_entries_;
        }
    } else if (hs_cur_round_min_ < hs_css_baseline_) {
        // The exit was spurious: the RTT fell back; resume slow start.
        hs_css_baseline_ = Duration::max();
        hs_css_ = false;
    }
}

std::uint32_t CongestionControl::slow_start_grow(std::uint32_t acked) {
    const std::uint32_t room = ssthresh_ - cwnd_;  // > 0 in slow start
    std::uint32_t grow = std::min({acked, mss_, room});
    const std::uint32_t used = grow;
    if (hs_css_ && hystart_active()) {
        // 4.2: cwnd += min(N, L*SMSS) / CSS_GROWTH_DIVISOR, remainders kept.
        hs_css_carry_ += grow;
        grow = hs_css_carry_ / kCssGrowthDivisor;
        hs_css_carry_ -= grow * kCssGrowthDivisor;
    }
    cwnd_ = sat32(std::uint64_t{cwnd_} + grow);
    if (in_slow_start()) return 0;
    return acked - used;
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
