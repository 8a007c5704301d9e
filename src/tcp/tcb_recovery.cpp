// tcp/tcb_recovery.cpp — duplicate ACKs, fast retransmit and NewReno
// fast recovery (RFC 5681 3.2, RFC 6582), limited transmit (RFC 3042).
//
// The congestion window itself belongs to the CongestionControl module;
// this file decides when recovery starts and ends and what is resent.
#include <algorithm>

#include "tcp/tcb.hpp"

namespace uinet::tcp {

void Tcb::on_dupack(Instant now) {
    ++dupacks_;
    ++ctr_.dup_acks;
    if (sack_ok_) {
        if (rack_on()) return;  // RFC 8985: RACK decides instead (tcb_rack.cpp)
        // RFC 6675 section 5: DupThresh duplicates or IsLost(HighACK + 1),
        // and HighACK past the previous RecoveryPoint (5.1).
        if (!in_recovery_ && snd_una_ >= recover_ &&
            (dupacks_ >= 3 || sack_sb_.is_lost(snd_una_, payload_mss(), snd_una_)))
            sack_enter_recovery(now);
        return;
    }
    if (in_recovery_) {
        cc_->on_dupack_in_recovery();  // RFC 6582 3.2 step 4: inflate
        return;
    }
    if (dupacks_ < 3) return;  // limited transmit happens in output()
    // RFC 6582 3.2 step 2: do not enter recovery again for losses from the
    // window that a previous recovery (or timeout) already covered.
    // "recover" starts at ISS (set when the connection opens).
    if (dupacks_ == 3 && snd_una_ > recover_) {
        recover_ = snd_max_;
        set_recovery(now, true);
        undo_arm(false, now);
        cc_->on_enter_recovery(in_flight());
        ++ctr_.fast_retransmits;
        retransmit_head(now, payload_mss());
        arm_rto(now);
    }
}

void Tcb::on_new_ack(Instant now, std::uint32_t acked, std::uint32_t flight_before) {
    if (in_recovery_) {
        if (snd_una_ >= recover_) {
            // Full acknowledgment (RFC 6582 3.2 step 3).
            set_recovery(now, false);
            dupacks_ = 0;
            cc_->on_exit_recovery(in_flight());
            // RFC 8985 6.2 step 4: a D-SACK-widened reo_wnd lasts 16 recoveries.
            if (--rack_.reo_wnd_persist <= 0) rack_.reo_wnd_mult = 1;
        } else if (rack_on()) {
            // RACK marks what is lost (tcb_rack.cpp); PRR paces the sending.
        } else if (sack_ok_) {
            sack_partial_ack();  // output() sends by pipe (tcb_sack.cpp)
        } else {
            // Partial acknowledgment: the next hole is lost too; resend it
            // and deflate (RFC 6582 3.2 step 5).
            retransmit_head(now, payload_mss());
            cc_->on_partial_ack(acked);
        }
        return;
    }
    dupacks_ = 0;
    cc_->on_ack(acked, flight_before, now, rtt_.srtt());
}

void Tcb::retransmit_head(Instant now, std::size_t max_len) {
    const SeqNum data_end = sndbuf_.end_seq();
    std::size_t len = data_end > snd_una_ ? static_cast<std::size_t>(data_end - snd_una_) : 0;
    len = std::min(len, max_len);
    const bool fin = fin_sent_ || fin_queued_ ? (snd_una_ + static_cast<std::uint32_t>(len) == fin_seq_) : false;
    if (len == 0 && !fin) return;
    send_data_segment(now, snd_una_, len, fin, true);
    const SeqNum end = snd_una_ + static_cast<std::uint32_t>(len) + (fin ? 1u : 0u);
    if (fin) fin_sent_ = true;
    if (snd_nxt_ < end) snd_nxt_ = end;
    if (snd_max_ < end) snd_max_ = end;
}

}  // namespace uinet::tcp
