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
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string_view>

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
    // Undo of a spurious congestion event (RFC 3522 / RFC 4015 response,
    // RFC 3708 detection): the TCB calls save_undo() just before the event's
    // on_enter_*recovery() or on_rto(), and undo() once it learnt that the
    // retransmission was needless: ssthresh goes back to its saved value,
    // cwnd to at least its saved value (an ACK since may have grown it),
    // and an algorithm's own state with them.
    virtual void save_undo() {
        undo_cwnd_ = cwnd_;
        undo_ssthresh_ = ssthresh_;
    }
    virtual void undo() {
        cwnd_ = std::max(cwnd_, undo_cwnd_);
        ssthresh_ = undo_ssthresh_;
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

    std::uint32_t cwnd_ = 0;
    std::uint32_t ssthresh_ = kInfinite;
    std::uint32_t mss_ = 0;
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
