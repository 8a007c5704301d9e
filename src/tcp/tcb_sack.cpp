// tcp/tcb_sack.cpp — selective acknowledgment, both ways.
//
// Receiver (RFC 2018, RFC 2883):
//  * Only when both SYNs carried SACK-permitted (negotiate_options). Every
//    ACK sent while out-of-order data is held carries SACK blocks taken
//    from the reassembly queue: first the block holding the most recently
//    received segment, then the blocks of the earlier arrivals, most recent
//    first (RFC 2018 section 4), then any other held block, highest first;
//    as many as fit: 3 beside timestamps, 4 without. A data segment that
//    carries an ACK drops blocks rather than exceed the MSS.
//  * A duplicate segment (below RCV.NXT, or wholly inside held data) is
//    reported once, as the first block (D-SACK, RFC 2883 section 4).
//
// Sender (RFC 6675):
//  * Each ACK's blocks update the scoreboard (sack_scoreboard.hpp); blocks
//    outside [SND.UNA, SND.MAX] or inverted are ignored and counted.
//  * Recovery starts on the third duplicate ACK or as soon as IsLost(HighACK
//    + 1), not again before HighACK passes the previous RecoveryPoint
//    (section 5 and 5.1). RecoveryPoint = HighData; cwnd = ssthresh as the
//    CongestionControl sets it (no inflation); the first segment at SND.UNA
//    is resent at once (4.3), then while cwnd - pipe >= 1 SMSS segments
//    follow NextSeg(): lost holes first (rule 1), then new data (rule 2),
//    then once per recovery a rescue retransmission of the highest
//    un-SACKed segment (rule 4). Rule 3 (resending holes not yet deemed
//    lost) is left out, as Linux and FreeBSD do.
//  * A partial ACK also marks the new first segment lost unless it was
//    already resent: NewReno's inference (RFC 6582), so a peer whose blocks
//    are lost or truncated fares no worse than without SACK.
//  * Recovery ends when HighACK >= RecoveryPoint. An RTO ends it too
//    (tcb_timers.cpp): the scoreboard keeps its SACKed ranges, but the
//    go-back-N retransmission starts at SND.UNA and resends everything, so
//    a receiver that reneged (RFC 6675 5.1) still gets every byte.
//  * With RACK (TcpConfig::rack, tcb_rack.cpp) the DupThresh entry and the
//    IsLost/partial-ACK inferences give way to RACK's lost marks: rule 1
//    takes the first range RACK marked lost, pipe counts the sent log, and
//    there is no rescue retransmission (TLP covers the tail). With PRR
//    (TcpConfig::prr) RFC 6937's sndcnt replaces cwnd - pipe >= 1 SMSS.
#include <algorithm>

#include "tcp/tcb.hpp"

namespace uinet::tcp {

// --- receiver ---------------------------------------------------------

void Tcb::sack_note_arrival(SeqNum s) {
    // s lies in a held out-of-order range: it becomes the most recent, and
    // older points in the same range are forgotten.
    const auto ranges = rcvbuf_.ooo_ranges();
    const RecvBuffer::Range* home = nullptr;
    for (const auto& r : ranges)
        if (s.in_range(r.left, r.right)) home = &r;
    if (home == nullptr) return;
    std::uint8_t k = 0;
    std::array<SeqNum, wire::kTcpMaxSackBlocks> next{};
    next[k++] = s;
    for (std::uint8_t i = 0; i < sack_recent_n_ && k < next.size(); ++i)
        if (!sack_recent_[i].in_range(home->left, home->right)) next[k++] = sack_recent_[i];
    sack_recent_ = next;
    sack_recent_n_ = k;
}

void Tcb::sack_note_dsack(SeqNum left, SeqNum right) {
    if (!sack_ok_ || !(left < right)) return;
    dsack_ = wire::SackBlock{left, right};
    dsack_pending_ = true;
}

void Tcb::sack_fill(wire::TcpOptions& o) {
    const std::size_t max = ts_ok_ ? 3 : 4;
    std::size_t n = 0;
    if (dsack_pending_) {
        o.sack[n++] = dsack_;
        dsack_pending_ = false;
        ++ctr_.dsacks_sent;
    }
    const std::size_t first_normal = n;
    const auto ranges = rcvbuf_.ooo_ranges();
    if (ranges.empty()) sack_recent_n_ = 0;
    auto add = [&](const RecvBuffer::Range& r) {
        if (n >= max) return;
        for (std::size_t i = first_normal; i < n; ++i)
            if (o.sack[i].left == r.left) return;
        o.sack[n++] = wire::SackBlock{r.left, r.right};
    };
    for (std::uint8_t i = 0; i < sack_recent_n_; ++i)
        for (const auto& r : ranges)
            if (sack_recent_[i].in_range(r.left, r.right)) add(r);
    for (std::size_t i = ranges.size(); i > 0 && n < max; --i) add(ranges[i - 1]);
    o.sack_count = static_cast<std::uint8_t>(n);
    ctr_.sack_blocks_sent += n - first_normal;
}

// --- sender -------------------------------------------------------------

void Tcb::sack_process(const wire::TcpRepr& seg) {
    // Called for ACKs at or above SND.UNA (process_ack).
    const auto blocks = std::span<const wire::SackBlock>(seg.options.sack.data(), seg.options.sack_count);
    ctr_.sack_blocks_rcvd += blocks.size();
    auto r = sack_sb_.update(seg.ack, snd_max_, blocks);
    ctr_.sack_blocks_invalid += r.invalid;
}

void Tcb::sack_enter_recovery(Instant now) {
    const std::uint32_t mss = payload_mss();
    snd_nxt_ = snd_max_;
    recover_ = snd_max_;  // RecoveryPoint = HighData
    set_recovery(now, true);
    ++ctr_.sack_recoveries;
    ++ctr_.fast_retransmits;
    undo_arm(false, now);
    cc_->on_enter_sack_recovery(in_flight());
    if (cfg_.prr) prr_start();
    // (4.3): resend the first segment now, whatever pipe says.
    high_rxt_ = snd_una_;
    lost_below_ = snd_una_ + mss;
    SeqNum seq;
    std::uint32_t len = 0;
    if (sack_sb_.next_lost(snd_una_, snd_una_, snd_max_, mss, lost_below_, seq, len)) {
        sack_send(now, seq, len, true);
        high_rxt_ = seq + len;
    }
    rescue_rxt_ = high_rxt_;
    arm_rto(now);
}

void Tcb::sack_partial_ack() {
    if (high_rxt_ <= snd_una_) lost_below_ = seq_max(lost_below_, snd_una_ + payload_mss());
}

bool Tcb::sack_next_seg(SeqNum& seq, std::uint32_t& len, bool& rexmit, bool& rescue) {
    const std::uint32_t mss = payload_mss();
    rescue = false;
    // Rule 1 with RACK: the first range RACK marked lost (tcb_rack.cpp).
    if (rack_on() && rack_next_lost(seq, len)) {
        rexmit = true;
        return true;
    }
    // Rule 1: the first lost hole above HighRxt.
    if (!rack_on() && sack_sb_.next_lost(seq_max(high_rxt_, snd_una_), snd_una_, snd_max_, mss, lost_below_, seq, len)) {
        rexmit = true;
        return true;
    }
    // Rule 2: new data the peer's window admits (and a FIN still to send).
    const std::size_t avail = data_to_send();
    const SeqNum wnd_end = snd_una_ + snd_wnd_;
    const std::uint32_t room = wnd_end > snd_max_ ? static_cast<std::uint32_t>(wnd_end - snd_max_) : 0;
    const bool fin_left = fin_queued_ && !fin_sent_;
    if ((avail > 0 && room > 0) || (fin_left && avail == 0)) {
        seq = snd_max_;
        len = static_cast<std::uint32_t>(std::min<std::size_t>({avail, room, mss}));
        rexmit = false;
        return true;
    }
    // Rule 4: one rescue retransmission once HighACK passed RescueRxt.
    // (A hole already resent wholly is left to the timer.)
    if (avail == 0 && !rack_on() && snd_una_ >= rescue_rxt_ && sack_sb_.highest_hole(snd_una_, snd_max_, mss, seq, len) &&
        seq + len > high_rxt_) {
        rexmit = true;
        rescue = true;
        return true;
    }
    return false;
}

void Tcb::sack_send(Instant now, SeqNum seq, std::uint32_t len, bool rexmit) {
    // len counts sequence space; the FIN's number, if inside, becomes the flag.
    const SeqNum data_end = sndbuf_.end_seq();
    const std::uint32_t data = data_end > seq ? std::min(len, static_cast<std::uint32_t>(data_end - seq)) : 0u;
    const bool fin = fin_queued_ && seq + data == fin_seq_ && (rexmit ? fin_sent_ && seq + len > fin_seq_ : true);
    if (data == 0 && !fin) return;
    send_data_segment(now, seq, data, fin, rexmit);
    if (rexmit) {
        ++ctr_.sack_rexmits;
        return;
    }
    snd_max_ = seq + data + (fin ? 1u : 0u);
    snd_nxt_ = snd_max_;
    if (fin) fin_sent_ = true;
}

void Tcb::sack_output(Instant now) {
    const std::uint32_t mss = payload_mss();
    // Each pass sends one segment; the bound keeps a bug from spinning.
    for (int guard = 0; guard < 4096; ++guard) {
        if (high_rxt_ < snd_una_) high_rxt_ = snd_una_;
        if (cfg_.prr) {
            if (prr_budget_ <= 0) return;  // RFC 6937: sndcnt spent (tcb_rack.cpp)
        } else {
            const std::uint32_t pipe =
                rack_on() ? rack_pipe() : sack_sb_.pipe(snd_una_, snd_max_, high_rxt_, mss, lost_below_);
            const std::uint32_t cwnd = cc_->cwnd();
            if (cwnd < pipe || cwnd - pipe < mss) return;  // (C): cwnd - pipe >= 1 SMSS
        }
        SeqNum seq;
        std::uint32_t len = 0;
        bool rexmit = false, rescue = false;
        if (!sack_next_seg(seq, len, rexmit, rescue)) return;
        const std::size_t before = static_cast<std::size_t>(snd_max_ - snd_una_);
        sack_send(now, seq, len, rexmit);
        if (rexmit && !rescue) high_rxt_ = seq_max(high_rxt_, seq + len);
        if (rescue) {
            ++ctr_.rescue_rexmits;
            rescue_rxt_ = recover_ + 1;  // RescueRxt = RecoveryPoint: once per recovery
        }
        if (!rexmit && static_cast<std::size_t>(snd_max_ - snd_una_) == before) return;  // nothing went
    }
}

}  // namespace uinet::tcp
