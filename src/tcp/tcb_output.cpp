// tcp/tcb_output.cpp — deciding what to send.
//
// Decisions and their sources:
//  * The amount in flight is bounded by min(SND.WND, cwnd) (RFC 5681 2),
//    plus up to two segments for duplicate ACKs (RFC 3042 limited transmit).
//  * Nagle (RFC 9293 3.7.4, RFC 1122 4.2.3.4): a short segment waits while
//    data is unacknowledged, unless TCP_NODELAY. Sender-side silly window
//    avoidance (RFC 9293 3.8.6.2.1): send a full segment, all remaining
//    data when allowed by Nagle, or at least half the largest window the
//    peer has offered; if that holds data back with nothing in flight, an
//    override timeout (the persist timer) sends what the window allows.
//  * Receiver-side silly window avoidance (RFC 9293 3.8.6.2.2): the right
//    edge advances only by at least min(buffer/2, MSS); it never moves
//    left (RFC 9293 3.8.6: shrinking the window is strongly discouraged).
//  * Our FIN follows the last byte queued before shutdown.
//  * TSO (DESIGN.md principle 7; Linux's tcp_write_xmit/tso_segs): when the
//    route's interface offers it, new data leaves as one super-segment of
//    up to the device's tso_max (a whole number of full-sized segments, the
//    device or the peer's GRO sees it as that many MSS segments), bounded by
//    the send window and cwnd like any segment: congestion control and RTT
//    accounting stay in bytes. A sub-MSS tail rides along only when Nagle
//    would let it go alone. Retransmissions (RTO, fast retransmit, and
//    anything sent during recovery or limited transmit) stay MSS-sized.
//    segs_out counts super-segments as one; super_segs_out counts them.
//  * Pacing (optional: TcpConfig::pacing, TcpOptions::pacing): new data
//    leaves at rate = cwnd / SRTT times 2 while cwnd < ssthresh / 2 and
//    1.2 after (Linux's tcp_pacing_ss_ratio / ca_ratio and their switch
//    point), in bursts of about 1 ms of that rate and at least 2 MSS (one
//    TSO super-segment at most that size, or that many MSS segments); the
//    next burst waits until the previous one's bytes / rate have passed
//    (next_send_at_, a deadline of the TCB). Departure times accumulate
//    from the previous one while the sender keeps up, so the timer
//    wheel's 1 ms rounding does not lower the rate. No pacing before the
//    first RTT sample; SACK recovery's transmissions are not paced (they
//    are clocked by the ACKs that SACK new data).
#include <algorithm>

#include "tcp/tcb.hpp"

namespace uinet::tcp {

using wire::TcpFlags;

std::uint32_t Tcb::tsval(Instant now) const {
    // RFC 7323 5.4: a millisecond clock with a per-connection offset.
    return static_cast<std::uint32_t>(now.ns() / 1'000'000) + ts_offset_;
}

std::uint16_t Tcb::payload_mss() const {
    // RFC 6691: the MSS excludes options; timestamps take 12 of it.
    std::uint16_t m = snd_mss_;
    if (ts_ok_) m = static_cast<std::uint16_t>(m - 12);
    return m;
}

std::uint32_t Tcb::tso_payload_max(std::uint32_t mss) const {
    // IP header 20, TCP header 20, timestamps 12 (RFC 7323).
    const std::uint32_t hdrs = 40u + (ts_ok_ ? 12u : 0u);
    if (offload_.tso_max <= hdrs + 2 * mss) return mss;
    const std::uint32_t most = std::min<std::uint32_t>(offload_.tso_max, 65535) - hdrs;
    return most / mss * mss;
}

std::uint32_t Tcb::in_flight() const { return static_cast<std::uint32_t>(snd_nxt_ - snd_una_); }

std::size_t Tcb::data_to_send() const {
    SeqNum end = sndbuf_.end_seq();
    return end > snd_nxt_ ? static_cast<std::size_t>(end - snd_nxt_) : 0;
}

std::uint16_t Tcb::advertised_window(bool syn) {
    std::uint32_t wnd = window_room();  // tcb_autotune.cpp: less under memory pressure
    const SeqNum nxt = rcv_nxt();
    if (syn) {
        // RFC 7323 2.2: the window in a SYN is not scaled.
        wnd = std::min<std::uint32_t>(wnd, 65535);
        rcv_adv_ = nxt + wnd;
        return static_cast<std::uint16_t>(wnd);
    }
    const std::uint32_t max_wnd = 65535u << rcv_wscale_;
    wnd = std::min(wnd, max_wnd);
    SeqNum edge = nxt + wnd;
    if (rcv_adv_ > nxt) {
        const std::uint32_t threshold =
            std::min<std::uint32_t>(static_cast<std::uint32_t>(rcvbuf_.capacity() / 2), rcv_mss_);
        if (edge <= rcv_adv_ || static_cast<std::uint32_t>(edge - rcv_adv_) < threshold) edge = rcv_adv_;
    }
    wnd = static_cast<std::uint32_t>(edge - nxt);
    // Round down to the scale: what we advertise is what we promise.
    std::uint32_t field = std::min<std::uint32_t>(wnd >> rcv_wscale_, 65535);
    rcv_adv_ = nxt + (field << rcv_wscale_);
    return static_cast<std::uint16_t>(field);
}

wire::TcpRepr Tcb::base_header(Instant now, std::uint8_t flags, SeqNum seq) {
    wire::TcpRepr h;
    h.seq = seq;
    h.flags = flags;
    if (flags & TcpFlags::ack) {
        h.ack = rcv_nxt();
        last_ack_sent_ = h.ack;
    }
    h.window = advertised_window(flags & TcpFlags::syn);
    if (ts_ok_) h.options.timestamps = std::make_pair(tsval(now), ts_recent_);
    if (sack_ok_ && (flags & TcpFlags::ack) && (rcvbuf_.ooo_bytes() > 0 || dsack_pending_)) sack_fill(h.options);
    // RFC 3168 6.1.3: ECE on every ACK until the peer's CWR.
    if (ece_pending_ && ecn_ok_ && (flags & TcpFlags::ack)) h.flags |= TcpFlags::ece;
    return h;
}

void Tcb::send_syn(Instant now, bool with_ack) {
    if (!with_ack) syn_sent_at_ = now;
    std::uint8_t flags = TcpFlags::syn | (with_ack ? TcpFlags::ack : 0);
    // RFC 3168 6.1.1: ECN-setup SYN (ECE and CWR) / SYN-ACK (ECE only).
    if (with_ack ? ecn_ok_ : offered_ecn_)
        flags |= with_ack ? TcpFlags::ece : static_cast<std::uint8_t>(TcpFlags::ece | TcpFlags::cwr);
    if (!with_ack) ts_offset_ = iss_.raw();
    wire::TcpRepr h;
    h.seq = iss_;
    h.flags = flags;
    if (with_ack) {
        h.ack = rcv_nxt();
        last_ack_sent_ = h.ack;
    }
    h.window = advertised_window(true);
    h.options.mss = offered_mss_;
    const bool ws = with_ack ? ws_ok_ : cfg_.window_scaling;
    if (ws) h.options.wscale = rcv_wscale_;
    if (with_ack ? sack_ok_ : cfg_.sack) h.options.sack_permitted = true;
    if (with_ack ? ts_ok_ : cfg_.timestamps) {
        if (with_ack && ts_offset_ == 0) ts_offset_ = iss_.raw();
        h.options.timestamps = std::make_pair(tsval(now), with_ack ? ts_recent_ : 0u);
    }
    ++stats_.segs_out;
    ++ctr_.segs_out;
    last_send_ = now;
    sink_.send_segment(*this, h, iss_, 0);
}

void Tcb::send_ack(Instant now) {
    // While retransmitting, SND.NXT has gone back to SND.UNA; a pure ACK
    // must carry the next unsent sequence number (SND.MAX), or the peer,
    // whose RCV.NXT is already past it, finds it unacceptable and drops its
    // acknowledgment — two such peers would ACK each other forever without
    // progress. (FreeBSD's tcp_output does the same.)
    wire::TcpRepr h = base_header(now, TcpFlags::ack, snd_max_);
    ack_now_ = false;
    unacked_segs_ = 0;
    delack_at_ = Instant::never();
    ++stats_.segs_out;
    ++ctr_.segs_out;
    sink_.send_segment(*this, h, snd_max_, 0);
}

void Tcb::send_rst(SeqNum seq) {
    wire::TcpRepr h;
    h.seq = seq;
    h.flags = TcpFlags::rst;
    ++ctr_.segs_out;
    sink_.send_segment(*this, h, seq, 0);
}

void Tcb::schedule_ack(Instant now, bool immediate) {
    if (immediate) {
        ack_now_ = true;
        return;
    }
    if (delack_at_.is_never()) delack_at_ = now + cfg_.delack;
}

bool Tcb::send_data_segment(Instant now, SeqNum seq, std::size_t len, bool fin, bool retransmit) {
    std::uint8_t flags = TcpFlags::ack;
    if (fin) flags |= TcpFlags::fin;
    if (len > 0 && seq + static_cast<std::uint32_t>(len) == sndbuf_.end_seq()) flags |= TcpFlags::psh;
    wire::TcpRepr h = base_header(now, flags, seq);
    // RFC 3168 6.1.2/6.1.4-6.1.6: only new data is ECT(0) (no
    // retransmission, no window probe); the first one after a reduction
    // carries CWR.
    std::uint8_t ecn = ecn_field::not_ect;
    if (ecn_ok_ && len > 0 && !retransmit && snd_wnd_ != 0) {
        ecn = ecn_field::ect0;
        if (cwr_pending_) {
            h.flags |= TcpFlags::cwr;
            cwr_pending_ = false;
            ++ctr_.cwr_sent;
        }
    }
    // SACK blocks on a data segment: only as many as leave the MSS intact.
    while (h.options.sack_count > 0 && h.options.size() + len > snd_mss_) --h.options.sack_count;
    ++stats_.segs_out;
    ++ctr_.segs_out;
    // RACK's send times, the undo episode's retransmissions and PRR's
    // prr_out (tcb_rack.cpp).
    rack_on_send(now, seq, seq + static_cast<std::uint32_t>(len) + (fin ? 1u : 0u));
    if (retransmit && rack_.undo_armed && rack_.undo_retrans++ == 0) rack_.undo_tsval = tsval(now);
    if (in_recovery_ && sack_ok_) {
        rack_.prr_out += static_cast<std::uint32_t>(len);
        prr_budget_ -= static_cast<std::int64_t>(std::max<std::size_t>(len, 1));
    }
    if (retransmit) {
        if (trace_) trace_event(now, in_recovery_ ? TraceEvent::fast_retransmit : TraceEvent::retransmit, seq, len32(len));
        rexmit_tsval_ = tsval(now);
        rexmit_tsval_valid_ = ts_ok_;
        ++stats_.retransmits;
        ++ctr_.retransmits;
        rtt_timing_ = false;  // Karn's algorithm
    } else if (!rtt_timing_ && len > 0 && !(ts_ok_)) {
        rtt_timing_ = true;
        rtt_seq_ = seq;
        rtt_start_ = now;
    }
    stats_.bytes_out += len;
    ctr_.bytes_out += len;
    if (len > payload_mss()) ++ctr_.super_segs_out;
    ack_now_ = false;
    unacked_segs_ = 0;
    delack_at_ = Instant::never();
    last_send_ = now;
    sink_.send_segment(*this, h, seq, len, ecn);
    if (rto_at_.is_never()) arm_rto(now);
    if (!retransmit && !rack_.tlp_in_flight) tlp_schedule(now);  // RFC 8985 7.2
    return true;
}

std::uint64_t Tcb::pacing_rate() const {
    const Duration srtt = rtt_.srtt();
    if (!pacing_ || srtt <= Duration::zero()) return 0;
    const std::uint64_t cwnd = cc_->cwnd();
    const std::uint64_t pct = cwnd < cc_->ssthresh() / 2 ? 200 : 120;
    const std::uint64_t rate = cwnd * pct * 10'000'000ull / static_cast<std::uint64_t>(srtt.ns());
    return std::max<std::uint64_t>(rate, 1);
}

std::uint32_t Tcb::pacing_quantum(std::uint32_t mss) const {
    // About 1 ms of the rate, at least 2 MSS, at most 64 KiB.
    const std::uint64_t ms_worth = pacing_rate() / 1000;
    return static_cast<std::uint32_t>(std::clamp<std::uint64_t>(ms_worth, 2ull * mss, 65535));
}

void Tcb::output(Instant now) {
    const bool can_send_data = state_ == TcpState::established || state_ == TcpState::close_wait ||
                               state_ == TcpState::fin_wait_1 || state_ == TcpState::closing ||
                               state_ == TcpState::last_ack;
    if (can_send_data) {
        const std::uint32_t mss = payload_mss();
        const std::uint32_t tso_max = tso_payload_max(mss);
        // RFC 5681 4.1: restart from the restart window after an idle
        // period longer than the RTO.
        if (snd_una_ == snd_max_ && now - last_send_ > rtt_.rto() && data_to_send() > 0)
            cc_->on_idle_restart(now - last_send_, rtt_.rto());
        if (in_recovery_ && sack_ok_) sack_output(now);  // RFC 6675 recovery (tcb_sack.cpp)
        // Pacing: a burst of up to `quantum` bytes when its time has come.
        const std::uint64_t rate = pacing_rate();
        const std::uint32_t quantum = rate ? pacing_quantum(mss) : 0;
        std::uint32_t burst = 0;
        bool quantum_used = false;
        pace_wait_ = false;
        for (; !(in_recovery_ && sack_ok_);) {
            if (rate && (burst >= quantum || (burst == 0 && !next_send_at_.is_never() && now < next_send_at_))) {
                if (data_to_send() > 0 || (fin_queued_ && !fin_sent_)) pace_wait_ = true;
                quantum_used = burst > 0;
                break;
            }
            std::uint32_t wnd = std::min(snd_wnd_, cc_->cwnd());
            // RFC 3042: the first two duplicate ACKs each let one segment
            // of previously unsent data go; never old data resent after a
            // timeout (go-back-N), which the duplicates say has arrived.
            if (dupacks_ > 0 && dupacks_ < 3 && !in_recovery_ && snd_nxt_ == snd_max_)
                wnd = std::min(snd_wnd_, cc_->cwnd() + dupacks_ * mss);
            const std::uint32_t flight = in_flight();
            const std::uint32_t usable = wnd > flight ? wnd - flight : 0;
            const std::size_t avail = data_to_send();
            // New data in the open (no recovery, no duplicate ACKs): a
            // super-segment when the device does TSO.
            const bool tso_ok = tso_max > mss && snd_nxt_ == snd_max_ && !in_recovery_ && dupacks_ == 0;
            std::size_t len = std::min<std::size_t>({avail, usable, tso_ok ? tso_max : mss});
            if (rate && len > mss) len = std::max<std::size_t>(std::min<std::size_t>(len, quantum) / mss * mss, mss);
            if (len > mss) {
                // Whole segments; the tail only if it could go alone now.
                const std::size_t tail = len % mss;
                if (tail != 0 && !(len == avail && (nodelay_ || flight == 0))) len -= tail;
            }
            // The FIN rides on the segment that carries the last queued byte.
            const bool fin = fin_queued_ && snd_nxt_ + static_cast<std::uint32_t>(len) == fin_seq_;
            if (len == 0 && !fin) break;
            if (len < mss && !fin) {
                const bool nagle_ok = len == avail && (nodelay_ || flight == 0);
                const bool sws_ok = (max_snd_wnd_ > 0 && len >= max_snd_wnd_ / 2 && len == usable) ||
                                    (sws_override_ && len == usable);
                if (!nagle_ok && !sws_ok) break;
            }
            const bool retransmit = snd_nxt_ < snd_max_;
            send_data_segment(now, snd_nxt_, len, fin, retransmit);
            snd_nxt_ += static_cast<std::uint32_t>(len) + (fin ? 1u : 0u);
            if (fin) fin_sent_ = true;
            if (snd_nxt_ > snd_max_) snd_max_ = snd_nxt_;
            burst += static_cast<std::uint32_t>(len);
            if (fin) break;
        }
        if (rate && burst > 0) {
            // The next burst leaves burst / rate after this one; from the
            // previous deadline when it was met (at most one tick late).
            const bool on_time = !next_send_at_.is_never() && next_send_at_ <= now &&
                                 now - next_send_at_ <= Duration::millis(1);
            const Instant base = on_time ? next_send_at_ : now;
            next_send_at_ = base + Duration::nanos(static_cast<std::int64_t>(burst * 1'000'000'000ull / rate));
            if (quantum_used && pace_wait_) ++ctr_.paced_delays;  // data held for the next burst
        }
        // Data waiting and nothing in flight: either the window is zero
        // (persist, RFC 9293 3.8.6.1) or it is too small for silly window
        // avoidance to use, and the override timeout of RFC 1122 4.2.3.4
        // (4) must send it anyway, or nothing would ever move it.
        if (!pace_wait_ && in_flight() == 0 && (data_to_send() > 0 || (fin_queued_ && !fin_sent_)) &&
            persist_at_.is_never()) {
            if (snd_wnd_ == 0) {
                if (persist_backoff_ == Duration::zero()) persist_backoff_ = std::max(rtt_.rto(), cfg_.persist_min);
                persist_at_ = now + persist_backoff_;
            } else if (data_to_send() > 0) {
                persist_at_ = now + std::max(rtt_.rto(), cfg_.persist_min);
            }
        }
    }
    if (ack_now_) send_ack(now);
}

void Tcb::maybe_window_update(Instant now) {
    // After the application read, tell the peer if the window opened by at
    // least two segments or half the buffer (RFC 9293 3.8.6.2.2 with
    // Linux's practice of not waiting for the delayed-ACK timer).
    if (state_ != TcpState::established && state_ != TcpState::fin_wait_1 && state_ != TcpState::fin_wait_2) return;
    const SeqNum nxt = rcv_nxt();
    // Only what the window field can express counts: a buffer larger than
    // 65535 << RCV.WIND.SHIFT would otherwise "open" a window that the ACK
    // then cannot advertise (a pure ACK on every read, changing nothing).
    const std::uint32_t wnd = std::min(window_room(), std::uint32_t{65535} << rcv_wscale_);
    const SeqNum edge = nxt + wnd;
    const std::uint32_t old_wnd = rcv_adv_ > nxt ? static_cast<std::uint32_t>(rcv_adv_ - nxt) : 0;
    if (edge <= rcv_adv_) return;
    const std::uint32_t grow = static_cast<std::uint32_t>(edge - rcv_adv_);
    if (grow >= 2u * rcv_mss_ || grow >= rcvbuf_.capacity() / 2 || (old_wnd < rcv_mss_ && grow >= rcv_mss_)) {
        ++ctr_.window_updates;
        send_ack(now);
    }
}

}  // namespace uinet::tcp
