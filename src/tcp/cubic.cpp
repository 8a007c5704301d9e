// tcp/cubic.cpp — CUBIC congestion control, RFC 9438 (contract in cc.hpp).
//
// Decisions (section numbers are RFC 9438's):
//  * Windows are kept in bytes and the cubic function is evaluated in
//    segments of the current MSS, in double precision (4.1, 4.2).
//  * Constants: C = 0.4, beta_cubic = 0.7 (5.1, 5.2), fast convergence on
//    (4.7), and the Reno-friendly region with alpha_cubic = 3(1-b)/(1+b)
//    until the estimate passes W_max, then 1 (4.3).
//  * A congestion epoch starts at the first ACK of congestion avoidance
//    after a congestion event (4.2: t counts from the start of the current
//    congestion avoidance stage); K is computed from the cwnd at that
//    moment (equation 2, with cwnd_epoch instead of the event's window
//    when they differ, as 4.2 allows after a timeout or application limit).
//  * In congestion avoidance cwnd moves by (target - cwnd) / cwnd per
//    acked segment, target = W_cubic(t + RTT) clamped to [cwnd, 1.5 cwnd]
//    (4.2), or toward W_est while the Reno-friendly estimate is larger
//    (4.3). Growth only while cwnd-limited, as NewReno here (RFC 7661's
//    rationale; 4.2 notes that an application-limited flow must not be
//    credited).
//  * Slow start is RFC 5681's, with byte counting (L = 1 SMSS), and
//    HyStart++ (RFC 9406) from the base class.
//  * Congestion event (fast retransmit, 4.6): ssthresh = cwnd * beta, at
//    least 2 SMSS; W_max = cwnd (reduced by fast convergence); the RFC 6582
//    window steps of the base class follow. Timeout (4.8): the same
//    ssthresh and W_max, cwnd = 1 SMSS, and a new epoch afterwards.
#include <algorithm>
#include <cmath>

#include "tcp/cc.hpp"

namespace uinet::tcp {

namespace {

constexpr double kC = 0.4;
constexpr double kBeta = 0.7;
constexpr double kAlpha = 3.0 * (1.0 - kBeta) / (1.0 + kBeta);

class Cubic final : public CongestionControl {
public:
    const char* name() const override { return "cubic"; }

    void init(std::uint32_t mss) override {
        mss_ = std::max<std::uint32_t>(mss, 1);
        cwnd_ = initial_window(mss_);
        ssthresh_ = kInfinite;
        w_max_ = 0;
        epoch_started_ = false;
        hystart_reset();
    }

    void on_ack(std::uint32_t acked, std::uint32_t flight_before, Instant now, Duration srtt) override {
        if (acked == 0) return;
        if (in_slow_start()) {
            if (std::uint64_t{flight_before} * 2 < cwnd_) return;  // not cwnd-limited
            acked = slow_start_grow(acked);
            if (acked == 0) return;
        }
        if (std::uint64_t{flight_before} + mss_ < cwnd_) return;  // not cwnd-limited
        const double seg = mss_;
        const double cwnd = cwnd_ / seg;
        if (!epoch_started_) {
            // 4.2: a new congestion avoidance stage starts the clock.
            epoch_started_ = true;
            epoch_ = now;
            if (w_max_ < cwnd) {
                // No loss yet, or the window already regrew past W_max: the
                // plateau is where we are (K = 0, convex growth from here).
                w_max_ = cwnd;
                k_ = 0;
            } else {
                k_ = std::cbrt((w_max_ - cwnd) / kC);  // equation 2 from cwnd_epoch
            }
            w_est_ = cwnd;
        }
        const double acked_seg = acked / seg;
        // 4.3: the Reno-friendly estimate.
        const double alpha = w_est_ >= w_max_ ? 1.0 : kAlpha;
        w_est_ += alpha * acked_seg / cwnd;
        // 4.2: W_cubic one RTT ahead.
        const double t = (now - epoch_).secs() + srtt.secs();
        const double w_cubic = kC * std::pow(t - k_, 3.0) + w_max_;
        double target;
        if (w_cubic < w_est_) {
            target = w_est_;  // Reno-friendly region
        } else {
            target = std::clamp(w_cubic, cwnd, 1.5 * cwnd);
        }
        // cwnd += (target - cwnd) / cwnd for each acked segment, carried in
        // fractions of a segment so small steps add up.
        carry_ += (target - cwnd) / cwnd * acked_seg;
        if (carry_ >= 1.0 / seg) {
            const double add_bytes = std::floor(carry_ * seg);
            carry_ -= add_bytes / seg;
            cwnd_ = sat32(std::uint64_t{cwnd_} + static_cast<std::uint64_t>(add_bytes));
        }
    }

    void on_enter_recovery(std::uint32_t flight) override {
        congestion_event(flight);
        // RFC 6582 3.2 steps 2 and 3 (inflation by the three duplicates).
        cwnd_ = sat32(std::uint64_t{ssthresh_} + 3ull * mss_);
    }

    void on_exit_recovery(std::uint32_t flight) override {
        CongestionControl::on_exit_recovery(flight);
        epoch_started_ = false;
    }

    void on_rto(std::uint32_t flight) override {
        congestion_event(flight);
        cwnd_ = mss_;  // 4.8 and RFC 5681 3.1: LW = 1 SMSS
    }

    void on_ecn(std::uint32_t flight) override {
        // RFC 9438 4.6 (ECN-Echo is a congestion event), RFC 3168 6.1.2:
        // cwnd = ssthresh at once, nothing to resend.
        congestion_event(flight);
        cwnd_ = ssthresh_;
    }

    void on_idle_restart(Duration idle, Duration rto) override {
        if (idle > rto) {
            cwnd_ = std::min(cwnd_, initial_window(mss_));
            epoch_started_ = false;
        }
    }

    void save_undo() override {
        CongestionControl::save_undo();
        u_w_max_ = w_max_;
        u_k_ = k_;
        u_w_est_ = w_est_;
        u_epoch_ = epoch_;
        u_epoch_started_ = epoch_started_;
        u_carry_ = carry_;
    }

    void undo() override {
        // The plateau and the epoch come back with the window: growth goes
        // on where the needless reduction interrupted it.
        CongestionControl::undo();
        w_max_ = u_w_max_;
        k_ = u_k_;
        w_est_ = u_w_est_;
        epoch_ = u_epoch_;
        epoch_started_ = u_epoch_started_;
        carry_ = u_carry_;
    }

private:
    void congestion_event(std::uint32_t flight) {
        const double seg = mss_;
        const double cwnd = cwnd_ / seg;
        // 4.7 fast convergence: a flow whose plateau keeps dropping gives
        // up bandwidth to newcomers.
        w_max_ = cwnd < w_max_ ? cwnd * (1.0 + kBeta) / 2.0 : cwnd;
        // 4.6: ssthresh from the window in flight (the cwnd may be inflated
        // or unused), never under 2 SMSS (RFC 5681 equation 4's floor).
        const double base = std::min<double>(cwnd_, std::max<std::uint32_t>(flight, mss_));
        ssthresh_ = std::max(sat32(static_cast<std::uint64_t>(base * kBeta)), sat32(2ull * mss_));
        epoch_started_ = false;
        carry_ = 0;
    }

    double w_max_ = 0;  // segments
    double k_ = 0;      // seconds
    double w_est_ = 0;  // segments
    double carry_ = 0;  // segments of growth not yet applied
    Instant epoch_{};
    bool epoch_started_ = false;
    // State saved for undo().
    double u_w_max_ = 0, u_k_ = 0, u_w_est_ = 0, u_carry_ = 0;
    Instant u_epoch_{};
    bool u_epoch_started_ = false;
};

}  // namespace

std::unique_ptr<CongestionControl> make_cubic() { return std::make_unique<Cubic>(); }

}  // namespace uinet::tcp
