// tcp/cc.hpp — the congestion control interface and its factory.
//
// Contract (DESIGN.md principle 9: congestion control behind an interface):
//  * The TCB owns loss detection (duplicate ACK counting, recovery point,
//    RTO); a CongestionControl only turns those events into cwnd and
//    ssthresh, in bytes. It does no I/O and reads no clock (time comes in).
//  * Event order the TCB follows: init(mss) once the MSS is known (and again
//    if it changes); on_ack() for each ACK of new data outside recovery;
//    on_enter_recovery() at the third duplicate ACK (RFC 5681 3.2 /
//    RFC 6582 3.2 step 2); on_dupack_in_recovery() for each further
//    duplicate; on_partial_ack() for an ACK of new data below the recovery
//    point; on_exit_recovery() for the ACK that covers it; on_rto() when the
//    retransmission timer expires; on_idle_restart() before sending after an
//    idle period; save_undo() before a congestion event and undo() when it
//    proved spurious.
//  * bytes_in_flight arguments are the TCB's FlightSize (RFC 5681 section 2:
//    sent but not yet cumulatively acknowledged) at the time of the event;
//    for on_ack, the flight before this ACK was applied. Implementations may
//    use it to grow cwnd only while the sender is cwnd-limited (RFC 7661's
//    idea: a window the application does not fill is not validated).
//  * cwnd never drops below one MSS and all arithmetic saturates: no value
//    wraps, whatever the inputs (a cwnd past 2^32 - 1 stays there).
//  * ssthresh starts "infinite" (UINT32_MAX, RFC 5681 3.1).
//  * on_ack() also gets the smoothed RTT (zero before the first sample),
//    which CUBIC needs to aim one RTT ahead (RFC 9438 section 4.2).
//  * The fast-recovery window steps of RFC 6582 (inflate, deflate, exit)
//    are shared by every algorithm; they differ in the window they grow
//    outside recovery and in the ssthresh they set at a congestion event.
//  * HyStart++ (RFC 9406) is shared too: the TCB reports every valid RTT
//    sample (on_rtt_sample) and, for each ACK of new data before on_ack,
//    SND.UNA and SND.MAX (on_round_ack: rounds end when SND.UNA passes the
//    SND.MAX of the round's start). Algorithms grow slow start through
//    slow_start_grow(), which divides growth by CSS_GROWTH_DIVISOR during
//    Conservative Slow Start. It runs in the initial slow start only
//    (ssthresh still infinite, RFC 9406 4.3); any congestion event, which
//    sets ssthresh, ends it.
//  * on_ecn() is an ECN-Echo congestion event (RFC 3168 6.1.2): the same
//    ssthresh as a loss, cwnd = ssthresh, nothing retransmitted.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string_view>

#include "base/seq.hpp"
#include "base/time.hpp"

namespace uinet::tcp {

class CongestionControl {
public:
    static constexpr std::uint32_t kInfinite = UINT32_MAX;

    virtual ~CongestionControl();
    virtual const char* name() const = 0;

    // cwnd = initial window (RFC 6928: min(10*mss, max(2*mss, 14600))),
    // ssthresh = infinite.
    virtual void init(std::uint32_t mss) = 0;
    // New data acknowledged outside recovery.
    virtual void on_ack(std::uint32_t acked_bytes, std::uint32_t bytes_in_flight_before, Instant now,
                        Duration srtt) = 0;
    // Third duplicate ACK: fast retransmit and enter fast recovery.
    virtual void on_enter_recovery(std::uint32_t bytes_in_flight) = 0;
    // RFC 6675 section 5 (4.2): the same congestion event for SACK-based
    // recovery, which sets cwnd = ssthresh (pipe replaces the inflation).
    void on_enter_sack_recovery(std::uint32_t bytes_in_flight);
    // A further duplicate ACK during fast recovery (window inflation).
    virtual void on_dupack_in_recovery();
    // An ACK of new data that does not reach the recovery point.
    virtual void on_partial_ack(std::uint32_t acked_bytes);
    // The ACK that covers the recovery point: leave fast recovery.
    virtual void on_exit_recovery(std::uint32_t bytes_in_flight);
    // Retransmission timeout.
    virtual void on_rto(std::uint32_t bytes_in_flight) = 0;
    // About to send after `idle` without sending (RFC 5681 4.1).
    virtual void on_idle_restart(Duration idle, Duration rto) { (void)idle; (void)rto; }
    // ECN-Echo outside recovery (RFC 3168 6.1.2): reduce as for a loss,
    // cwnd = ssthresh, no retransmission.
    virtual void on_ecn(std::uint32_t bytes_in_flight) = 0;

    // --- HyStart++ (RFC 9406) ---
    void set_hystart(bool on) { hs_enabled_ = on; }
    bool hystart_enabled() const { return hs_enabled_; }
    // A valid RTT sample (Karn-clean), at `now`.
    void on_rtt_sample(Duration rtt, Instant now);
    // An ACK of new data: SND.UNA after it and SND.MAX (round tracking).
    void on_round_ack(SeqNum snd_una, SeqNum snd_max);
    bool in_css() const { return hs_css_; }
    std::uint32_t hystart_css_entries() const { return hs_css_entries_; }
    std::uint32_t hystart_ss_exits() const { return hs_exits_; }

    // Undo of a spurious congestion event (RFC 3522 / RFC 4015 response,
    // RFC 3708 detection): the TCB calls save_undo() just before the event's
    // on_enter_*recovery() or on_rto(), and undo() once it learnt that the
    // retransmission was needless: ssthresh goes back to its saved value,
    // cwnd to at least its saved value (an ACK since may have grown it),
    // and an algorithm's own state with them. Back in the initial slow
    // start, HyStart++ starts its rounds afresh (RFC 9406 applies to it).
    virtual void save_undo() {
        undo_cwnd_ = cwnd_;
        undo_ssthresh_ = ssthresh_;
    }
    virtual void undo() {
        cwnd_ = std::max(cwnd_, undo_cwnd_);
        ssthresh_ = undo_ssthresh_;
        if (ssthresh_ == kInfinite) hystart_reset();
    }

    std::uint32_t cwnd() const { return cwnd_; }
    std::uint32_t ssthresh() const { return ssthresh_; }
    std::uint32_t mss() const { return mss_; }
    bool in_slow_start() const { return cwnd_ < ssthresh_; }

protected:
    CongestionControl() = default;
    // RFC 6928 initial window for this mss (saturating).
    static std::uint32_t initial_window(std::uint32_t mss);
    static std::uint32_t sat32(std::uint64_t v) { return v > UINT32_MAX ? UINT32_MAX : static_cast<std::uint32_t>(v); }
    // Slow-start growth for an ACK of `acked` bytes (cwnd-limited checked by
    // the caller): min(acked, SMSS), up to ssthresh, divided by
    // CSS_GROWTH_DIVISOR in Conservative Slow Start. Returns the part of
    // `acked` left for congestion avoidance (when ssthresh was reached).
    std::uint32_t slow_start_grow(std::uint32_t acked);
    // Resets HyStart++ state (init).
    void hystart_reset();

    std::uint32_t cwnd_ = 0;
    std::uint32_t ssthresh_ = kInfinite;
    std::uint32_t mss_ = 0;

private:
    bool hystart_active() const { return hs_enabled_ && ssthresh_ == kInfinite; }
    // RFC 9406 4.2 constants.
    static constexpr std::uint32_t kNRttSample = 8;
    static constexpr Duration kMinRttThresh = Duration::millis(4);
    static constexpr Duration kMaxRttThresh = Duration::millis(16);
    static constexpr std::int64_t kMinRttDivisor = 8;
    static constexpr std::uint32_t kCssGrowthDivisor = 4;
    static constexpr std::uint32_t kCssRounds = 5;

    bool hs_enabled_ = false;
    bool hs_round_started_ = false;
    bool hs_css_ = false;
    SeqNum hs_window_end_;
    Duration hs_last_round_min_ = Duration::max();
    Duration hs_cur_round_min_ = Duration::max();
    Duration hs_css_baseline_ = Duration::max();
    std::uint32_t hs_samples_ = 0;
    std::uint32_t hs_css_rounds_ = 0;
    std::uint32_t hs_css_carry_ = 0;  // bytes of growth not yet applied in CSS
    std::uint32_t hs_css_entries_ = 0;
    std::uint32_t hs_exits_ = 0;  // ssthresh set by CSS_ROUNDS (slow start left without loss)
    std::uint32_t undo_cwnd_ = 0, undo_ssthresh_ = 0;
};

enum class CcAlgorithm : std::uint8_t { newreno, cubic };

// RFC 5681 + RFC 6582 NewReno (tcp/newreno.cpp).
std::unique_ptr<CongestionControl> make_newreno();

// RFC 9438 CUBIC (tcp/cubic.cpp).
std::unique_ptr<CongestionControl> make_cubic();

// By name: "newreno" or "cubic"; nullptr for an unknown name.
std::unique_ptr<CongestionControl> make_congestion_control(std::string_view name);
std::unique_ptr<CongestionControl> make_congestion_control(CcAlgorithm a);

}  // namespace uinet::tcp
