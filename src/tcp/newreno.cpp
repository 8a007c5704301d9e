// tcp/newreno.cpp — NewReno congestion control: RFC 5681 slow start and
// congestion avoidance, RFC 6582 fast recovery; plus the CongestionControl
// base and factory (contract in cc.hpp).
//
// Decisions:
//  * Slow start grows cwnd by min(acked, SMSS) per ACK (RFC 5681 3.1,
//    equation 2; RFC 3465's byte counting with L = 1 SMSS), so stretch ACKs
//    and delayed ACKs don't slow it down and ACK division can't speed it up.
//  * Congestion avoidance uses appropriate byte counting (RFC 5681 3.1, the
//    recommended alternative to equation 3; RFC 3465 section 2.1): acked bytes
//    accumulate and cwnd grows by SMSS each time a full cwnd's worth has been
//    acknowledged: one SMSS per RTT when the window is used.
//  * cwnd grows only while the sender is cwnd-limited (RFC 7661's rationale:
//    growth must be earned by using the window): in slow start when the
//    flight before the ACK was at least half of cwnd (as Linux does), in
//    congestion avoidance when less than one SMSS of cwnd was left unused.
//  * An ACK that ends slow start part-way only adds up to ssthresh; the rest
//    of the ACK counts toward congestion avoidance.
//  * Restart after idle (RFC 5681 4.1): when idle exceeds one RTO, cwnd =
//    min(cwnd, IW).
#include <algorithm>
#include <string_view>

#include "tcp/cc.hpp"

namespace uinet::tcp {

namespace {

std::uint32_t sat32(std::uint64_t v) {
    return v > UINT32_MAX ? UINT32_MAX : static_cast<std::uint32_t>(v);
}

class NewReno final : public CongestionControl {
public:
    const char* name() const override { return "newreno"; }

    void init(std::uint32_t mss) override {
        mss_ = std::max<std::uint32_t>(mss, 1);
        cwnd_ = initial_window(mss_);
        ssthresh_ = kInfinite;
        ca_acked_ = 0;
    }

    void on_ack(std::uint32_t acked, std::uint32_t flight_before, Instant) override {
        if (acked == 0) return;
        if (in_slow_start()) {
            if (std::uint64_t{flight_before} * 2 < cwnd_) return;  // not cwnd-limited
            const std::uint32_t room = ssthresh_ - cwnd_;            // > 0 in slow start
            const std::uint32_t grow = std::min({acked, mss_, room});
            cwnd_ = sat32(std::uint64_t{cwnd_} + grow);
            if (in_slow_start()) return;
            // Reached ssthresh with this ACK: the rest feeds congestion avoidance.
            acked -= grow;
            if (acked == 0) return;
        }
        if (std::uint64_t{flight_before} + mss_ < cwnd_) return;  // not cwnd-limited
        ca_acked_ += acked;
        if (ca_acked_ >= cwnd_) {
            ca_acked_ -= cwnd_;
            cwnd_ = sat32(std::uint64_t{cwnd_} + mss_);
            if (ca_acked_ >= cwnd_) ca_acked_ = 0;  // one step per ACK at most
        }
    }

    void on_enter_recovery(std::uint32_t flight) override {
        // RFC 6582 3.2 step 2 (RFC 5681 equation 4), then step 3's inflation.
        ssthresh_ = loss_ssthresh(flight);
        cwnd_ = sat32(std::uint64_t{ssthresh_} + 3ull * mss_);
        ca_acked_ = 0;
    }

    void on_dupack_in_recovery() override {
        // RFC 6582 3.2 step 4.
        cwnd_ = sat32(std::uint64_t{cwnd_} + mss_);
    }

    void on_partial_ack(std::uint32_t acked) override {
        // RFC 6582 3.2 step 5: deflate by the amount acknowledged, then add
        // back one SMSS if at least one SMSS was acknowledged.
        std::uint64_t w = cwnd_ > acked ? cwnd_ - acked : 0;
        if (acked >= mss_) w += mss_;
        cwnd_ = std::max(sat32(w), mss_);
    }

    void on_exit_recovery(std::uint32_t flight) override {
        // RFC 6582 3.2 step 6, option 1: min(ssthresh, max(FlightSize, SMSS) + SMSS),
        // which avoids a burst when little is in flight.
        const std::uint64_t w = std::uint64_t{std::max(flight, mss_)} + mss_;
        cwnd_ = std::max(mss_, std::min(ssthresh_, sat32(w)));
        ca_acked_ = 0;
    }

    void on_rto(std::uint32_t flight) override {
        // RFC 5681 3.1: equation 4 and the loss window LW = 1 SMSS.
        ssthresh_ = loss_ssthresh(flight);
        cwnd_ = mss_;
        ca_acked_ = 0;
    }

    void on_idle_restart(Duration idle, Duration rto) override {
        // RFC 5681 4.1: RW = min(IW, cwnd) once idle for more than an RTO.
        if (idle > rto) cwnd_ = std::min(cwnd_, initial_window(mss_));
    }

private:
    std::uint32_t loss_ssthresh(std::uint32_t flight) const {
        return std::max(flight / 2, sat32(2ull * mss_));
    }

    std::uint64_t ca_acked_ = 0;  // bytes acked toward the next CA increment
};

}  // namespace

CongestionControl::~CongestionControl() = default;

std::uint32_t CongestionControl::initial_window(std::uint32_t mss) {
    // RFC 6928 section 2.
    const std::uint64_t m = mss;
    return sat32(std::min(10 * m, std::max<std::uint64_t>(2 * m, 14600)));
}

std::unique_ptr<CongestionControl> make_newreno() { return std::make_unique<NewReno>(); }

std::unique_ptr<CongestionControl> make_congestion_control(std::string_view name) {
    if (name == "newreno") return make_newreno();
    return nullptr;
}

}  // namespace uinet::tcp
