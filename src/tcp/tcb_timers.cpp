// tcp/tcb_timers.cpp — retransmission, persist, delayed ACK, keepalive,
// TIME-WAIT and FIN-WAIT-2 timers.
//
// Decisions and their sources:
//  * Retransmission timeout per RFC 6298: on expiry back off (5.5),
//    retransmit the earliest unacknowledged segment (5.4) and collapse the
//    congestion window to one segment (RFC 5681 3.1, "loss window"). After
//    max_retransmits consecutive timeouts the connection fails with
//    ETIMEDOUT (RFC 1122 4.2.3.5's R2), SYNs after max_syn_retransmits.
//  * While the peer advertises a zero window, timeouts are zero-window
//    probes and never end the connection as long as the peer answers
//    (RFC 1122 4.2.2.17); unanswered, they end it like any other timeout.
//  * Persist timer (RFC 9293 3.8.6.1): when nothing is in flight and the
//    window is zero, a one-byte probe goes out, backing off to persist_max.
//    When the window is open but smaller than silly window avoidance will
//    use, the same timer is RFC 1122 4.2.3.4's override timeout (one RTO,
//    at least persist_min): it sends what the window allows.
//  * Keepalive (RFC 1122 4.2.3.6): off by default; when on, after
//    keep_idle of silence probes with SEG.SEQ = SND.UNA - 1 every
//    keep_intvl, and gives up after keep_cnt unanswered probes.
//  * TIME-WAIT lasts 2*MSL (RFC 9293 3.6); an orphaned FIN-WAIT-2 is
//    closed after fin_wait_2_timeout (Linux's tcp_fin_timeout), since a
//    peer that never sends its FIN would otherwise hold it forever.
#include <algorithm>

#include "tcp/tcb.hpp"

namespace uinet::tcp {

using wire::TcpFlags;

Instant Tcb::next_deadline() const {
    Instant t = earliest(rto_at_, persist_at_);
    t = earliest(t, delack_at_);
    t = earliest(t, keep_at_);
    t = earliest(t, close_at_);
    if (pace_wait_) t = earliest(t, next_send_at_);  // the pacing timer (tcb_output.cpp)
    t = earliest(t, rack_.timer_at);
    t = earliest(t, rack_.pto_at);
    if (ack_now_) t = Instant::from_ns(0);
    return t;
}

void Tcb::arm_rto(Instant now) { rto_at_ = now + rtt_.rto(); }

void Tcb::restart_keepalive(Instant now) {
    keep_at_ = keepalive_ ? now + keep_idle_ : Instant::never();
    probes_ = 0;
}

void Tcb::set_keepalive(bool on, Duration idle, Duration intvl, std::uint32_t cnt) {
    keepalive_ = on;
    keep_idle_ = idle;
    keep_intvl_ = intvl;
    keep_cnt_ = cnt;
    if (state_ == TcpState::established || state_ == TcpState::close_wait) restart_keepalive(last_rcv_);
}

void Tcb::on_timer(Instant now) {
    if (close_at_ <= now) {
        close_at_ = Instant::never();
        if (state_ == TcpState::time_wait || state_ == TcpState::fin_wait_2) {
            enter_closed(TcpError::none);
            return;
        }
    }
    if (state_ == TcpState::closed) return;
    if (delack_at_ <= now) {
        delack_at_ = Instant::never();
        ++ctr_.delayed_acks;
        send_ack(now);
    }
    // The loss probe first: it restarts the RTO it may coincide with
    // (RFC 8985 7.2: the PTO is never later than the RTO).
    if (rack_.pto_at <= now) {
        rack_.pto_at = Instant::never();
        on_pto(now);
    }
    if (rack_.timer_at <= now) {
        rack_.timer_at = Instant::never();
        on_rack_timer(now);
    }
    if (rto_at_ <= now) {
        rto_at_ = Instant::never();
        on_rto(now);
        if (state_ == TcpState::closed) return;
    }
    if (persist_at_ <= now) {
        persist_at_ = Instant::never();
        on_persist(now);
    }
    if (keep_at_ <= now) {
        keep_at_ = Instant::never();
        on_keepalive(now);
    }
    if (pace_wait_ && next_send_at_ <= now) {
        pace_wait_ = false;
        output(now);
    }
    if (ack_now_) send_ack(now);
}

void Tcb::on_rto(Instant now) {
    ++ctr_.rto_expired;
    if (trace_) trace_event(now, TraceEvent::rto);
    const bool zero_window_probe = snd_wnd_ == 0 && state_ != TcpState::syn_sent && state_ != TcpState::syn_received;
    // Zero-window probes count too: every answer from the peer resets the
    // count (process_ack), so only a peer that stopped answering is given
    // up on (RFC 1122 4.2.2.17).
    ++retries_;
    if (state_ == TcpState::syn_sent || state_ == TcpState::syn_received) {
        const std::uint32_t limit =
            state_ == TcpState::syn_sent ? cfg_.max_syn_retransmits : cfg_.max_synack_retransmits;
        if (retries_ > limit) {
            ++ctr_.conn_timeout;
            enter_closed(passive_ ? TcpError::none : TcpError::timed_out);
            return;
        }
        rtt_.backoff();
        ++stats_.retransmits;
        ++ctr_.retransmits;
        send_syn(now, state_ == TcpState::syn_received);
        arm_rto(now);
        return;
    }
    if (retries_ > cfg_.max_retransmits) {
        ++ctr_.conn_timeout;
        send_rst(snd_nxt_);
        enter_closed(TcpError::timed_out);
        return;
    }
    if (zero_window_probe) ++ctr_.persist_probes;
    rtt_.backoff();
    rtt_timing_ = false;
    // RFC 6298 5.4-5.6 and RFC 5681 3.1: go back to SND.UNA with a loss
    // window of one segment. NewReno recovery ends (RFC 6582 4.2), and so
    // does SACK recovery (RFC 6675 5.1: RecoveryPoint = HighData; the
    // scoreboard keeps its SACKed ranges, but go-back-N resends from
    // SND.UNA, which is safe if the receiver reneged).
    // RFC 8985: the RTO ends a TLP episode and any reordering wait; the
    // window before the timeout is kept for undo (RFC 4015).
    rack_.timer_at = rack_.pto_at = Instant::never();
    rack_.tlp_in_flight = false;
    undo_arm(true, now);
    cc_->on_rto(in_flight());
    set_recovery(now, false);
    dupacks_ = 0;
    recover_ = snd_max_;
    snd_nxt_ = snd_una_;  // the FIN, if it was sent, goes again with the last byte
    output(now);
    // A closed window lets output() send nothing: probe with one byte.
    if (in_flight() == 0 && snd_una_ != snd_max_) retransmit_head(now, snd_wnd_ == 0 ? 1 : payload_mss());
    arm_rto(now);
}

void Tcb::on_persist(Instant now) {
    if (in_flight() != 0) return;
    if (snd_wnd_ != 0) {
        // The override timeout (RFC 1122 4.2.3.4 (4)): the window is open
        // but too small for silly window avoidance; send what fits.
        sws_override_ = true;
        output(now);
        sws_override_ = false;
        return;
    }
    ++ctr_.persist_probes;
    // One byte past the closed window (RFC 9293 3.8.6.1); it is real data,
    // so from here the retransmission timer carries the probing on.
    const std::size_t avail = data_to_send();
    if (avail > 0) {
        send_data_segment(now, snd_nxt_, 1, false, false);
        snd_nxt_ += 1;
        if (snd_nxt_ > snd_max_) snd_max_ = snd_nxt_;
    } else {
        send_ack(now);
    }
    persist_backoff_ = std::min(persist_backoff_ * 2, cfg_.persist_max);
}

void Tcb::on_keepalive(Instant now) {
    if (!keepalive_ || (state_ != TcpState::established && state_ != TcpState::close_wait)) return;
    if (now - last_rcv_ < keep_idle_) {
        keep_at_ = last_rcv_ + keep_idle_;
        return;
    }
    if (probes_ >= keep_cnt_) {
        ++ctr_.conn_timeout;
        send_rst(snd_nxt_);
        enter_closed(TcpError::timed_out);
        return;
    }
    ++probes_;
    ++ctr_.keepalive_probes;
    // SEG.SEQ = SND.UNA - 1: outside the window, so the peer must answer.
    wire::TcpRepr h = base_header(now, TcpFlags::ack, snd_una_ - 1);
    ++ctr_.segs_out;
    sink_.send_segment(*this, h, snd_una_ - 1, 0);
    keep_at_ = now + keep_intvl_;
}

}  // namespace uinet::tcp
