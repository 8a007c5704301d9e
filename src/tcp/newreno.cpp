// tcp/newreno.cpp — NewReno congestion control: RFC 5681 slow start and
// congestion avoidance, RFC 6582 fast recovery (contract in cc.hpp; the
// recovery steps themselves belong to the base class, in cc.cpp).
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
//  * HyStart++ (RFC 9406) in the initial slow start, from the base class.
//  * Restart after idle (RFC 5681 4.1): when idle exceeds one RTO, cwnd =
//    min(cwnd, IW).
#include <algorithm>
#include <string_view>

#include "tcp/cc.hpp"

namespace uinet::tcp {

namespace {

class NewReno final : public CongestionControl {
public:
    const char* name() const override { return "newreno"; }

    void init(std::uint32_t mss) override {
        mss_ = std::max<std::uint32_t>(mss, 1);
        cwnd_ = initial_window(mss_);
        ssthresh_ = kInfinite;
        ca_acked_ = 0;
        hystart_reset();
    }

    void on_ack(std::uint32_t acked, std::uint32_t flight_before, Instant, Duration) override {
        if (acked == 0) return;
        if (in_slow_start()) {
            if (std::uint64_t{flight_before} * 2 < cwnd_) return;  // not cwnd-limited
            // Reached ssthresh with this ACK: the rest feeds congestion avoidance.
            acked = slow_start_grow(acked);
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

    void on_exit_recovery(std::uint32_t flight) override {
        CongestionControl::on_exit_recovery(flight);
        ca_acked_ = 0;
    }

    void on_rto(std::uint32_t flight) override {
        // RFC 5681 3.1: equation 4 and the loss window LW = 1 SMSS.
        ssthresh_ = loss_ssthresh(flight);
        cwnd_ = mss_;
        ca_acked_ = 0;
    }

    void on_ecn(std::uint32_t flight) override {
        // RFC 3168 6.1.2: halve as for a loss; no inflation, no retransmission.
        ssthresh_ = loss_ssthresh(flight);
        cwnd_ = ssthresh_;
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

std::unique_ptr<CongestionControl> make_newreno() { return std::make_unique<NewReno>(); }

}  // namespace uinet::tcp
