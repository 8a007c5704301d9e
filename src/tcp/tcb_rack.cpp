// tcp/tcb_rack.cpp — loss detection and recovery refinements for SACK
// connections: RACK-TLP (RFC 8985), Proportional Rate Reduction (RFC 6937)
// and undoing spurious retransmissions (RFC 3522, RFC 3708, RFC 4015).
//
// Decisions and their sources:
//  * RACK (TcpConfig::rack, with SACK only) replaces the DupThresh rule of
//    RFC 6675 (RFC 8985 section 6): every transmitted range keeps its send
//    time (SentLog, rack.hpp); an ACK that delivers a range (cumulatively or
//    by SACK) moves RACK.xmit_ts/end_seq/rtt to the most recently sent one
//    (6.2 step 2; a retransmitted range delivered sooner than min_RTT, or
//    whose ACK echoes an older TSval, is ambiguous and skipped); a range
//    sent before it is lost once RACK.rtt + reo_wnd has passed since its
//    own send (step 5), else the reordering timer is armed for the time
//    left. Lost ranges are what NextSeg() resends first (RFC 6675 rule 1),
//    and pipe counts a range unless it is SACKed or lost-and-not-resent.
//    Lost retransmissions are detected the same way (a range resent is a
//    range with a new send time).
//  * reo_wnd (6.2 step 4) = min(reo_wnd_mult * min_RTT / 4, SRTT); zero
//    while no reordering was seen and either recovery is on or DupThresh
//    ranges are SACKed. A D-SACK grows reo_wnd_mult once per round trip
//    and keeps it for 16 recoveries. Reordering is seen when a range that
//    was never retransmitted is delivered below RACK.fack (step 3).
//    min_RTT is the minimum of all samples (no windowed filter).
//  * Recovery starts when RACK marks a loss and HighACK passed the last
//    RecoveryPoint (RFC 6675 5.1); it ends as before (tcb_recovery.cpp).
//  * TLP (TcpConfig::tlp, SACK only; RFC 8985 section 7): outside recovery,
//    after new data is sent or an ACK advances SND.UNA, PTO = 2 SRTT (1 s
//    before any sample), + 200 ms (the RFC's WCDelAckT) when one segment is
//    in flight, never later than the pending RTO. On expiry one probe: a
//    new segment if the window allows, else the highest-sequence segment
//    again; then the RTO is restarted and no other probe goes until the
//    episode ends (7.3). The episode ends when SND.UNA reaches the probe's
//    end (7.4): a retransmitted probe that an ACK beyond it, or a plain
//    duplicate at it, shows to have repaired a loss reduces cwnd once (as
//    a recovery entered and left at once); a D-SACK of the probe says it
//    repaired nothing.
//  * PRR (TcpConfig::prr; RFC 6937 section 3): on entering SACK recovery
//    prr_delivered = prr_out = 0 and RecoverFS = SND.MAX - SND.UNA. On each
//    ACK, DeliveredData = the change of SND.UNA + the change of SACKed
//    bytes; while pipe > ssthresh sndcnt = ceil(prr_delivered * ssthresh /
//    RecoverFS) - prr_out, else PRR-SSRB: min(ssthresh - pipe,
//    max(prr_delivered - prr_out, DeliveredData) + MSS). The entering ACK
//    sends at least the first retransmission (as Linux does). sndcnt bytes
//    may leave (in whole segments, the last may overshoot), instead of
//    cwnd - pipe.
//  * Undo (TcpConfig::undo): a congestion event (fast retransmit, RTO)
//    saves cwnd/ssthresh (CongestionControl::save_undo) and SND.UNA. With
//    timestamps, the first ACK beyond that point decides (Eifel, RFC 3522
//    section 3.2): a TSecr older than the event's first retransmission
//    means the original arrived. Without, the retransmissions are counted
//    and each D-SACK for them counts one off; all D-SACKed means spurious
//    (RFC 3708's idea). Spurious: the window is restored (RFC 4015 response
//    "lite": cwnd and ssthresh back); after an RTO go-back-N stops (SND.NXT
//    = SND.MAX, RFC 4015 section 3.2) and the RTO backoff is cleared (no
//    other RTO adaptation); recovery ends and RACK counts it as reordering.
#include <algorithm>

#include "tcp/tcb.hpp"

namespace uinet::tcp {

namespace {

// RFC 8985 6.2 step 2: RACK_sent_after().
bool sent_after(Instant t1, SeqNum s1, Instant t2, SeqNum s2) { return t1 > t2 || (t1 == t2 && s1 > s2); }

constexpr Duration kTlpMaxAckDelay = Duration::millis(200);  // RFC 8985 7.2 WCDelAckT
constexpr std::size_t kMinLog = 32, kMaxLog = 8192;

}  // namespace

std::size_t Tcb::rack_log_size() const {
    // Two records per full segment the send buffer holds, and some slack.
    const std::size_t mss = std::max<std::size_t>(payload_mss(), 1);
    return std::clamp<std::size_t>(sndbuf_.capacity() / mss * 2 + 16, kMinLog, kMaxLog);
}

void Tcb::rack_start() {
    if (!sack_ok_ || !cfg_.rack || sent_.active()) return;
    sent_.reserve(rack_log_size());
}

void Tcb::rack_on_send(Instant now, SeqNum seq, SeqNum end) {
    if (!sent_.active() || !(seq < end)) return;
    if (sent_.full() && rack_log_size() > sent_.capacity()) sent_.grow(rack_log_size());  // the buffer grew
    const SeqNum old_end = seq_min(end, snd_max_);
    if (seq < old_end) sent_.retransmit(seq, old_end, now);
    const SeqNum new_start = seq_max(seq, snd_max_);
    if (new_start < end) sent_.append(new_start, end, now, payload_mss());
}

void Tcb::rack_on_ack(Instant now, const wire::TcpRepr& seg, std::uint64_t sacked_before) {
    // RFC 2883 section 4: a D-SACK block comes first and lies below the
    // cumulative ACK or inside the second block.
    ack_dsack_ = false;
    if (seg.options.sack_count > 0) {
        const wire::SackBlock& b = seg.options.sack[0];
        const bool inside = seg.options.sack_count > 1 && seg.options.sack[1].left <= b.left &&
                            b.right <= seg.options.sack[1].right;
        if (b.left < b.right && (b.left < seg.ack || inside)) {
            ack_dsack_ = true;
            ack_dsack_block_ = b;
            ++ctr_.dsacks_rcvd;
        }
    }
    // RFC 6937: DeliveredData.
    const std::int64_t delivered = static_cast<std::int64_t>(seg.ack - snd_una_) +
                                   static_cast<std::int64_t>(sack_sb_.sacked_bytes()) -
                                   static_cast<std::int64_t>(sacked_before);
    rack_.delivered = delivered > 0 ? static_cast<std::uint32_t>(delivered) : 0;
    if (!sent_.active()) return;

    const bool echo = ts_ok_ && seg.options.timestamps && seg.options.timestamps->second != 0;
    const std::uint32_t tsecr = echo ? seg.options.timestamps->second : 0;
    std::uint32_t sacked = 0;
    for (std::size_t i = 0; i < sent_.size(); ++i) {
        SentLog::Rec& r = sent_.at(i);
        const bool cum = r.end <= seg.ack;
        if (!cum && sack_sb_.empty()) break;  // nothing SACKed beyond the cumulative ACK
        bool newly = false;
        if (cum) {
            newly = !(r.flags & SentLog::kSacked);
        } else if (!(r.flags & SentLog::kSacked) && sack_sb_.covers(seq_max(r.start, seg.ack), r.end)) {
            r.flags = static_cast<std::uint8_t>((r.flags | SentLog::kSacked) & ~SentLog::kLost);
            newly = true;
        }
        if (!cum && (r.flags & SentLog::kSacked)) ++sacked;
        if (!newly) continue;
        // 6.2 step 2: RACK_update().
        const Duration rtt = now - r.xmit;
        if (r.flags & SentLog::kRexmit) {
            if (echo && static_cast<std::int32_t>(tsecr - tsval(r.xmit)) < 0) continue;
            if (rtt < rack_.min_rtt) continue;
        }
        rack_.min_rtt = std::min(rack_.min_rtt, rtt);
        if (!rack_.have_xmit || sent_after(r.xmit, r.end, rack_.xmit_ts, rack_.end_seq)) {
            rack_.have_xmit = true;
            rack_.xmit_ts = r.xmit;
            rack_.end_seq = r.end;
            rack_.rtt = rtt;
        }
        // 6.2 step 3: reordering, seen on a never-retransmitted range
        // delivered below the highest delivered one.
        if (!(r.flags & SentLog::kRexmit) && rack_.fack_valid && r.end < rack_.fack) rack_.reordering_seen = true;
        if (!rack_.fack_valid || r.end > rack_.fack) {
            rack_.fack = r.end;
            rack_.fack_valid = true;
        }
    }
    rack_.segs_sacked = sacked;
    sent_.trim(seg.ack);
    // 6.2 step 4: D-SACK widens the reordering window, once per round trip.
    if (rack_.dsack_round_valid && seg.ack >= rack_.dsack_round) rack_.dsack_round_valid = false;
    if (!rack_.dsack_round_valid && ack_dsack_) {
        rack_.dsack_round = snd_max_;
        rack_.dsack_round_valid = true;
        rack_.reo_wnd_mult = std::min<std::uint32_t>(rack_.reo_wnd_mult + 1, 64);
        rack_.reo_wnd_persist = 16;
    }
}

Duration Tcb::rack_reo_wnd() const {
    if (!rack_.reordering_seen) {
        if (in_recovery_ || snd_una_ < recover_) return Duration::zero();
        if (rack_.segs_sacked >= SackScoreboard::kDupThresh) return Duration::zero();
    }
    if (rack_.min_rtt == Duration::max()) return Duration::zero();
    Duration w = rack_.min_rtt / 4 * rack_.reo_wnd_mult;
    if (rtt_.has_sample()) w = std::min(w, rtt_.srtt());
    return w;
}

bool Tcb::rack_detect_loss(Instant now) {
    rack_.timer_at = Instant::never();
    if (!rack_.have_xmit) return false;
    const Duration reo = rack_reo_wnd();
    Duration timeout = Duration::zero();
    bool lost = false;
    for (std::size_t i = 0; i < sent_.size(); ++i) {
        SentLog::Rec& r = sent_.at(i);
        if (r.flags & (SentLog::kSacked | SentLog::kLost)) continue;
        if (!sent_after(rack_.xmit_ts, rack_.end_seq, r.xmit, r.end)) {
            // Ranges never resent are in send order: none beyond is older.
            if (!(r.flags & SentLog::kRexmit)) break;
            continue;
        }
        const Duration remaining = (r.xmit + rack_.rtt + reo) - now;
        if (remaining <= Duration::zero()) {
            r.flags |= SentLog::kLost;
            ++ctr_.rack_losses;
            lost = true;
        } else {
            timeout = std::max(timeout, remaining);
        }
    }
    if (timeout > Duration::zero()) rack_.timer_at = now + timeout;
    return lost;
}

std::uint32_t Tcb::rack_pipe() const {
    std::uint64_t p = 0;
    for (std::size_t i = 0; i < sent_.size(); ++i) {
        const SentLog::Rec& r = sent_.at(i);
        if (r.flags & (SentLog::kSacked | SentLog::kLost)) continue;
        const SeqNum a = seq_max(r.start, snd_una_), b = seq_min(r.end, snd_max_);
        if (a < b) p += static_cast<std::uint32_t>(b - a);
    }
    return p > UINT32_MAX ? UINT32_MAX : static_cast<std::uint32_t>(p);
}

bool Tcb::rack_next_lost(SeqNum& seq, std::uint32_t& len) const {
    for (std::size_t i = 0; i < sent_.size(); ++i) {
        const SentLog::Rec& r = sent_.at(i);
        if (!(r.flags & SentLog::kLost) || (r.flags & SentLog::kSacked)) continue;
        const SeqNum a = seq_max(r.start, snd_una_);
        if (!(a < r.end)) continue;
        seq = a;
        len = std::min<std::uint32_t>(static_cast<std::uint32_t>(r.end - a), payload_mss());
        return true;
    }
    return false;
}

void Tcb::rack_enter_recovery(Instant now) {
    snd_nxt_ = snd_max_;
    recover_ = snd_max_;  // RecoveryPoint = HighData (RFC 6675 section 5)
    set_recovery(now, true);
    ++ctr_.sack_recoveries;
    ++ctr_.fast_retransmits;
    undo_arm(false, now);
    cc_->on_enter_sack_recovery(in_flight());
    high_rxt_ = lost_below_ = snd_una_;
    rescue_rxt_ = snd_max_;  // no rescue retransmission: TLP covers the tail
    if (cfg_.prr) prr_start();
    arm_rto(now);
}

void Tcb::on_rack_timer(Instant now) {
    ++ctr_.rack_timer_fired;
    if (!rack_on() || snd_una_ == snd_max_) return;
    if (!rack_detect_loss(now)) return;
    if (!in_recovery_ && snd_una_ >= recover_) rack_enter_recovery(now);
    if (in_recovery_) {
        rack_.delivered = 0;
        if (cfg_.prr) prr_on_ack();
        output(now);
    }
}

void Tcb::rack_after_ack(Instant now, const wire::TcpRepr& seg, bool new_ack) {
    if (cfg_.undo) undo_on_ack(now, seg);
    if (rack_on() && snd_una_ != snd_max_) {
        const bool lost = rack_detect_loss(now);
        if (lost && !in_recovery_ && snd_una_ >= recover_) rack_enter_recovery(now);
    } else {
        rack_.timer_at = Instant::never();
    }
    tlp_on_ack(seg, new_ack);
    if (in_recovery_ && sack_ok_ && cfg_.prr) prr_on_ack();
    if (new_ack) tlp_schedule(now);
}

// --- TLP (RFC 8985 section 7) --------------------------------------------

void Tcb::tlp_schedule(Instant now) {
    rack_.pto_at = Instant::never();
    if (!sack_ok_ || !cfg_.tlp || in_recovery_ || snd_una_ < recover_ || rack_.tlp_in_flight) return;
    if (snd_una_ == snd_max_ || retries_ > 0 || snd_wnd_ == 0) return;
    Duration pto = Duration::seconds(1);
    if (rtt_.has_sample()) {
        pto = rtt_.srtt() * 2;
        if (static_cast<std::uint32_t>(snd_max_ - snd_una_) <= payload_mss()) pto += kTlpMaxAckDelay;
    }
    const Instant rto_at = rto_at_.is_never() ? now + rtt_.rto() : rto_at_;
    rack_.pto_at = std::min(now + pto, rto_at);
}

void Tcb::on_pto(Instant now) {
    if (!sack_ok_ || in_recovery_ || snd_una_ == snd_max_ || snd_una_ < recover_ || rack_.tlp_in_flight) return;
    const std::uint32_t mss = payload_mss();
    rack_.tlp_in_flight = true;
    ++ctr_.tlp_probes;
    if (trace_) trace_event(now, TraceEvent::tlp);
    // 7.3: new data if there is some and the peer's window admits it...
    snd_nxt_ = snd_max_;
    const std::size_t avail = data_to_send();
    const SeqNum wnd_end = snd_una_ + snd_wnd_;
    const std::uint32_t room = wnd_end > snd_max_ ? static_cast<std::uint32_t>(wnd_end - snd_max_) : 0;
    const SeqNum before = snd_max_;
    if (avail > 0 && room > 0) {
        sack_send(now, snd_max_, static_cast<std::uint32_t>(std::min<std::size_t>({avail, room, mss})), false);
    } else if (fin_queued_ && !fin_sent_ && avail == 0) {
        sack_send(now, snd_max_, 1, false);
    }
    rack_.tlp_is_retrans = snd_max_ == before;
    if (rack_.tlp_is_retrans) {
        // ... else the highest-sequence segment again.
        const std::uint32_t len = std::min<std::uint32_t>(static_cast<std::uint32_t>(snd_max_ - snd_una_), mss);
        sack_send(now, snd_max_ - len, len, true);
    }
    rack_.tlp_end_seq = snd_max_;
    arm_rto(now);
}

void Tcb::tlp_on_ack(const wire::TcpRepr& seg, bool new_ack) {
    if (!rack_.tlp_in_flight || seg.ack < rack_.tlp_end_seq) return;
    if (!rack_.tlp_is_retrans) {
        rack_.tlp_in_flight = false;  // a probe of new data: nothing to infer
        return;
    }
    if (ack_dsack_ && ack_dsack_block_.right >= rack_.tlp_end_seq && ack_dsack_block_.left < rack_.tlp_end_seq) {
        rack_.tlp_in_flight = false;  // the original arrived too: no loss
        return;
    }
    const bool plain_dup = !new_ack && seg.ack == rack_.tlp_end_seq && seg.options.sack_count == 0;
    if (seg.ack > rack_.tlp_end_seq || plain_dup) {
        // 7.4.2: the probe repaired a loss: reduce cwnd as a recovery
        // entered and left at once, unless a recovery already did.
        rack_.tlp_in_flight = false;
        if (!in_recovery_ && snd_una_ >= recover_) {
            ++ctr_.tlp_recoveries;
            // (The congestion window of the flight the probe ended; cwnd =
            // ssthresh afterwards, as a recovery that ended at once.)
            cc_->on_enter_sack_recovery(std::max(in_flight(), cc_->cwnd()));
        }
    }
}

// --- PRR (RFC 6937 section 3) --------------------------------------------

void Tcb::prr_start() {
    rack_.prr_delivered = rack_.prr_out = 0;
    rack_.recover_fs = std::max<std::uint32_t>(static_cast<std::uint32_t>(snd_max_ - snd_una_), 1);
    prr_budget_ = 0;
    ++ctr_.prr_recoveries;
}

void Tcb::prr_on_ack() {
    rack_.prr_delivered += rack_.delivered;
    const std::uint32_t mss = payload_mss();
    const std::uint32_t pipe = rack_on() ? rack_pipe() : sack_sb_.pipe(snd_una_, snd_max_, seq_max(high_rxt_, snd_una_), mss, lost_below_);
    const std::int64_t ssthresh = cc_->ssthresh();
    const std::int64_t delivered = rack_.prr_delivered, out = rack_.prr_out;
    std::int64_t sndcnt;
    if (pipe > ssthresh) {
        // Proportional: ceil(prr_delivered * ssthresh / RecoverFS) - prr_out.
        const std::int64_t fs = rack_.recover_fs;
        sndcnt = (delivered * ssthresh + fs - 1) / fs - out;
    } else {
        // PRR-SSRB: slow start toward ssthresh, one extra MSS per ACK.
        const std::int64_t limit = std::max<std::int64_t>(delivered - out, rack_.delivered) + mss;
        sndcnt = std::min<std::int64_t>(ssthresh - pipe, limit);
    }
    sndcnt = std::max<std::int64_t>(sndcnt, 0);
    if (out == 0 && sndcnt == 0) sndcnt = 1;  // the fast retransmit goes at once
    prr_budget_ = sndcnt;
}

// --- undo (RFC 3522, RFC 3708, RFC 4015) ----------------------------------

void Tcb::undo_arm(bool rto, Instant now) {
    (void)now;
    if (!cfg_.undo) return;
    if (rack_.undo_armed && snd_una_ < recover_) {
        rack_.undo_rto = rack_.undo_rto || rto;  // the same episode: keep the first saved state
        return;
    }
    cc_->save_undo();
    rack_.undo_armed = true;
    rack_.undo_rto = rto;
    rack_.undo_retrans = 0;
    rack_.undo_dsacked = 0;
    undo_seq_ = snd_una_;
}

void Tcb::undo_on_ack(Instant now, const wire::TcpRepr& seg) {
    if (!rack_.undo_armed || rack_.undo_retrans == 0) return;
    if (ts_ok_) {
        // Eifel (RFC 3522 3.2): only the first ACK past the retransmitted
        // sequence number decides.
        if (!(seg.ack > undo_seq_)) return;
        const bool echo = seg.options.timestamps && seg.options.timestamps->second != 0;
        if (echo && static_cast<std::int32_t>(seg.options.timestamps->second - rack_.undo_tsval) < 0) {
            undo_now(now);
            return;
        }
        rack_.undo_armed = false;
        return;
    }
    // D-SACK (RFC 3708's idea): each duplicate report of retransmitted data
    // counts one retransmission off; all of them means none was needed.
    if (!ack_dsack_) return;
    const std::uint32_t mss = std::max<std::uint32_t>(payload_mss(), 1);
    const std::uint32_t len = static_cast<std::uint32_t>(ack_dsack_block_.right - ack_dsack_block_.left);
    rack_.undo_dsacked += std::max<std::uint32_t>((len + mss - 1) / mss, 1);
    if (rack_.undo_dsacked >= rack_.undo_retrans) undo_now(now);
}

void Tcb::undo_now(Instant now) {
    ++ctr_.undos;
    if (rack_.undo_rto)
        ++ctr_.spurious_rtos;
    else
        ++ctr_.spurious_fast_rexmits;
    rack_.undo_armed = false;
    cc_->undo();
    rack_.reordering_seen = true;
    for (std::size_t i = 0; i < sent_.size(); ++i)
        sent_.at(i).flags = static_cast<std::uint8_t>(sent_.at(i).flags & ~SentLog::kLost);
    if (rack_.undo_rto) {
        // RFC 4015 3.2: resume with new data, no go-back-N; and the timer
        // backed off for a timeout that was not needed starts afresh (a
        // light form of 4015's RTO re-initialisation: the echo that proved
        // the timeout spurious is, by Karn's rule, no RTT sample).
        snd_nxt_ = snd_max_;
        rtt_.reset_backoff();
    }
    set_recovery(now, false);
    dupacks_ = 0;
    recover_ = snd_una_;
    lost_below_ = high_rxt_ = snd_una_;
}

}  // namespace uinet::tcp
