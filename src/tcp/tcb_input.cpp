// tcp/tcb_input.cpp — segment arrival, RFC 9293 section 3.10.7.
//
// The order of the checks is the RFC's: (PAWS, RFC 7323 5.3), sequence
// number acceptability, RST, SYN, ACK, URG, segment text, FIN. Comments
// name the step they implement.
#include <algorithm>
#include <cerrno>

#include "tcp/tcb.hpp"

namespace uinet::tcp {

using wire::TcpFlags;

const char* to_string(TcpState s) {
    switch (s) {
        case TcpState::closed: return "CLOSED";
        case TcpState::listen: return "LISTEN";
        case TcpState::syn_sent: return "SYN-SENT";
        case TcpState::syn_received: return "SYN-RECEIVED";
        case TcpState::established: return "ESTABLISHED";
        case TcpState::fin_wait_1: return "FIN-WAIT-1";
        case TcpState::fin_wait_2: return "FIN-WAIT-2";
        case TcpState::close_wait: return "CLOSE-WAIT";
        case TcpState::closing: return "CLOSING";
        case TcpState::last_ack: return "LAST-ACK";
        case TcpState::time_wait: return "TIME-WAIT";
    }
    return "?";
}

int to_errno(TcpError e) {
    switch (e) {
        case TcpError::none: return 0;
        case TcpError::refused: return ECONNREFUSED;
        case TcpError::reset: return ECONNRESET;
        case TcpError::timed_out: return ETIMEDOUT;
        case TcpError::aborted: return ECONNABORTED;
    }
    return EIO;
}

Tcb::Tcb(TcbId id, const ConnKey& key, const TcpConfig& cfg, TcpCounters& ctr, TcbSink& sink)
    : id_(id),
      key_(key),
      cfg_(cfg),
      ctr_(ctr),
      sink_(sink),
      sndbuf_(cfg.sndbuf),
      rcvbuf_(cfg.rcvbuf),
      rtt_(RttConfig{cfg.initial_rto, cfg.min_rto, cfg.max_rto, Duration::millis(1)}),
      cc_(make_congestion_control(cfg.congestion_control)),
      nodelay_(cfg.nodelay),
      keep_idle_(cfg.keep_idle),
      keep_intvl_(cfg.keep_intvl),
      keep_cnt_(cfg.keep_cnt),
      snd_autotune_(cfg.autotune),
      rcv_autotune_(cfg.autotune) {
    cc_->set_hystart(cfg.hystart);
    ecn_mode_ = cfg.ecn;
    pacing_ = cfg.pacing;
}

Tcb::~Tcb() = default;

SeqNum Tcb::rcv_nxt() const { return rcvbuf_.rcv_nxt() + (fin_rcvd_ ? 1u : 0u); }

void Tcb::negotiate_options(const wire::TcpRepr& syn) {
    // RFC 9293 3.7.1 / RFC 6691: send at most the peer's MSS (536 if it
    // gave none), and never more than our own path allows.
    std::uint16_t peer_mss = syn.options.mss ? *syn.options.mss : cfg_.default_mss;
    snd_mss_ = std::min<std::uint16_t>(peer_mss, offered_mss_);
    if (user_mss_ != 0) snd_mss_ = std::min(snd_mss_, user_mss_);
    if (snd_mss_ < 64) snd_mss_ = 64;  // RFC 9293 3.7.1 floor against absurd values
    rcv_mss_ = offered_mss_;
    // RFC 7323 2.2/2.3: scaling only if both sides sent the option.
    ws_ok_ = cfg_.window_scaling && syn.options.wscale.has_value() && (passive_ || rcv_wscale_ != 0 || offered_ws_);
    if (ws_ok_) {
        snd_wscale_ = std::min<std::uint8_t>(*syn.options.wscale, 14);
    } else {
        snd_wscale_ = 0;
        rcv_wscale_ = 0;
    }
    // RFC 7323 3.2: timestamps only if both sides sent them.
    ts_ok_ = cfg_.timestamps && syn.options.timestamps.has_value() && (passive_ || offered_ts_);
    if (ts_ok_) ts_recent_ = syn.options.timestamps->first;
    sack_ok_ = cfg_.sack && syn.options.sack_permitted && (passive_ || offered_sack_);
    // RFC 3168 6.1.1: an ECN-setup SYN carries ECE and CWR; an ECN-setup
    // SYN-ACK carries ECE and not CWR. The passive side agrees unless ECN
    // is off; the active side only if it asked.
    const std::uint8_t ec = syn.flags & (TcpFlags::ece | TcpFlags::cwr);
    if (passive_) {
        const bool asked = ec == (TcpFlags::ece | TcpFlags::cwr);
        ecn_ok_ = asked && ecn_mode_ != EcnMode::off;
        if (asked && !ecn_ok_) ++ctr_.ecn_refused;
    } else {
        ecn_ok_ = offered_ecn_ && ec == TcpFlags::ece;
    }
    if (ecn_ok_) ++ctr_.ecn_negotiated;
    ece_pending_ = cwr_pending_ = false;
    ecn_recover_ = iss_;
}

std::uint16_t Tcb::clamp_offered_mss(std::uint16_t mss) const {
    // TCP_MAXSEG set before the connection exists is also the MSS we
    // announce (as Linux documents in tcp(7)), so the peer's segments are
    // clamped too.
    return user_mss_ != 0 ? std::min(mss, std::max<std::uint16_t>(user_mss_, 64)) : mss;
}

void Tcb::accept_syn(Instant now, SeqNum iss, std::uint16_t mss, const wire::TcpRepr& syn) {
    open_passive(now, iss, mss, syn);
    send_syn(now, true);
    arm_rto(now);
}

void Tcb::accept_cookie(Instant now, SeqNum iss, std::uint16_t mss, const wire::TcpRepr& syn) {
    // RFC 4987 3.6: the SYN-ACK went out from the cookie, with TSvals on
    // the connection's clock (ISS offset) and our unscaled window.
    open_passive(now, iss, mss, syn);
    ts_offset_ = iss.raw();
    (void)advertised_window(true);
    last_ack_sent_ = rcv_nxt();
}

void Tcb::challenge_ack(Instant now) {
    if (!sink_.challenge_ack_allowed(now)) {
        ++ctr_.challenge_acks_limited;
        return;
    }
    ++ctr_.challenge_acks;
    send_ack(now);
}

void Tcb::open_passive(Instant now, SeqNum iss, std::uint16_t mss, const wire::TcpRepr& syn) {
    passive_ = true;
    offered_mss_ = clamp_offered_mss(mss);
    state_ = TcpState::syn_received;
    irs_ = syn.seq;
    rcvbuf_.reset(syn.seq + 1);
    iss_ = iss;
    snd_una_ = iss;
    snd_nxt_ = iss + 1;
    snd_max_ = snd_nxt_;
    recover_ = iss;  // RFC 6582 section 3.2: "recover" is initialized to ISS
    sndbuf_.reset(iss + 1);
    rcv_wscale_ = wscale_for(wscale_basis());
    negotiate_options(syn);
    ts_recent_at_ = now;
    // RFC 7323 2.2: the window field of a SYN is never scaled.
    snd_wnd_ = syn.window;
    max_snd_wnd_ = snd_wnd_;
    snd_wl1_ = syn.seq;
    snd_wl2_ = iss;
    cc_->init(payload_mss());
    last_rcv_ = now;
    ++ctr_.passive_opens;
}

void Tcb::connect(Instant now, SeqNum iss, std::uint16_t mss) {
    offered_mss_ = clamp_offered_mss(mss);
    state_ = TcpState::syn_sent;
    iss_ = iss;
    snd_una_ = iss;
    snd_nxt_ = iss + 1;
    snd_max_ = snd_nxt_;
    recover_ = iss;  // RFC 6582 section 3.2
    sndbuf_.reset(iss + 1);
    rcv_wscale_ = cfg_.window_scaling ? wscale_for(wscale_basis()) : 0;
    offered_ws_ = cfg_.window_scaling;
    offered_ts_ = cfg_.timestamps;
    offered_sack_ = cfg_.sack;
    offered_ecn_ = ecn_mode_ == EcnMode::on;
    last_rcv_ = now;
    ++ctr_.active_opens;
    send_syn(now, false);
    arm_rto(now);
}

std::uint8_t Tcb::wscale_for(std::size_t bufsize) const {
    // The smallest shift that lets the whole buffer be advertised (RFC 7323 2.3).
    std::uint8_t s = 0;
    while (s < cfg_.rcv_wscale_max && (bufsize >> s) > 65535) ++s;
    return s;
}

void Tcb::input(Instant now, const wire::TcpRepr& seg, const Packet& pkt, std::size_t data_off, std::size_t len,
                std::uint8_t ecn) {
    ++stats_.segs_in;
    stats_.bytes_in += len;
    last_rcv_ = now;
    probes_ = 0;
    if (state_ == TcpState::closed || state_ == TcpState::listen) return;
    if (state_ == TcpState::syn_sent) {
        input_syn_sent(now, seg);
        output(now);
        return;
    }
    const bool rst = seg.flags & TcpFlags::rst;
    const bool syn = seg.flags & TcpFlags::syn;
    const bool fin = seg.flags & TcpFlags::fin;

    // RFC 7323 5.3: PAWS — a timestamp older than ts_recent marks an old
    // duplicate; acknowledge and drop (RST segments are exempt).
    if (ts_ok_ && seg.options.timestamps && !rst) {
        std::uint32_t tsval = seg.options.timestamps->first;
        if (static_cast<std::int32_t>(tsval - ts_recent_) < 0 && ts_recent_valid(now)) {
            ++ctr_.paws_dropped;
            send_ack(now);
            return;
        }
    }

    // A retransmitted SYN while in SYN-RECEIVED: our SYN-ACK was lost, so
    // send it again (it would otherwise fail the acceptability test below).
    if (syn && !(seg.flags & TcpFlags::ack) && state_ == TcpState::syn_received && seg.seq == irs_) {
        // Echo this SYN's timestamp, not the first one's, so the peer's RTT
        // sample from our SYN-ACK is not inflated by its retransmissions.
        if (ts_ok_ && seg.options.timestamps) ts_recent_ = seg.options.timestamps->first;
        send_syn(now, true);
        return;
    }

    // RFC 9293 figure 8, simultaneous open: in a SYN-RECEIVED reached from
    // SYN-SENT, the peer's SYN-ACK repeats its SYN (SEG.SEQ = IRS) and
    // acknowledges ours. It completes the handshake (lines 6 and 7 of the
    // figure) instead of failing the sequence test as an old SYN would.
    if (syn && (seg.flags & TcpFlags::ack) && !rst && state_ == TcpState::syn_received && !passive_ &&
        seg.seq == irs_ && seg.ack > snd_una_ && seg.ack <= snd_max_) {
        complete_simultaneous_open(now, seg);
        return;
    }

    // First: sequence number acceptability (3.10.7.4). A zero window still
    // takes ACKs, RSTs and URGs: such a segment is processed with its text
    // dropped.
    bool text_ok = true;
    if (!acceptable(seg, len)) {
        bool zero_window_probe = rcv_window() == 0 && seg.seq == rcv_nxt();
        if (!zero_window_probe) {
            ++ctr_.unacceptable;
            // RFC 9293 3.10.7.4, TIME-WAIT: a retransmission of the remote
            // FIN (it lies before RCV.NXT, so it lands here) is
            // acknowledged and restarts the 2 MSL timeout.
            if (fin && !rst && state_ == TcpState::time_wait) close_at_ = now + cfg_.msl * 2;
            // RFC 2883: data wholly below RCV.NXT is a duplicate: D-SACK it.
            if (!rst && !syn && len > 0 && seg.seq + static_cast<std::uint32_t>(len) <= rcv_nxt())
                sack_note_dsack(seg.seq, seg.seq + static_cast<std::uint32_t>(len));
            if (syn && !rst)
                challenge_ack(now);  // RFC 5961 4.2: any SYN, whatever its sequence number
            else if (!rst)
                send_ack(now);
            return;
        }
        text_ok = false;
    }

    // Second: RST. RFC 9293 3.10.7.4 (RFC 5961 section 3): reset only on an
    // exact match with RCV.NXT; otherwise a challenge ACK.
    if (rst) {
        if (state_ == TcpState::time_wait) return;  // RFC 1337: TIME-WAIT ignores RSTs
        if (seg.seq != rcv_nxt()) {
            challenge_ack(now);
            return;
        }
        ++ctr_.rsts_rcvd;
        if (state_ == TcpState::syn_received && passive_) {
            enter_closed(TcpError::none);  // back to LISTEN: the listener keeps going
        } else if (state_ == TcpState::syn_received) {
            ++ctr_.conn_refused;
            enter_closed(TcpError::refused);
        } else if (state_ == TcpState::closing || state_ == TcpState::last_ack) {
            enter_closed(TcpError::none);
        } else {
            ++ctr_.conn_reset;
            enter_closed(TcpError::reset);
        }
        return;
    }

    // Fourth: SYN in a synchronized state: challenge ACK (RFC 5961 4.2).
    if (syn) {
        challenge_ack(now);
        return;
    }

    // Fifth: the ACK field. Without ACK, drop.
    if (!(seg.flags & TcpFlags::ack)) return;
    if (state_ == TcpState::syn_received) {
        if (seg.ack <= snd_una_ || seg.ack > snd_max_) {
            send_rst(seg.ack);
            return;
        }
        snd_wnd_ = static_cast<std::uint32_t>(seg.window) << snd_wscale_;
        max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
        snd_wl1_ = seg.seq;
        snd_wl2_ = seg.ack;
        // RFC 6298 5.7: the SYN-ACK's timer expired; unless this ACK brings
        // a timestamp sample (process_ack, below), data starts with 3 s.
        if (retries_ > 0) rtt_.set_initial_rto(kHandshakeFallbackRto);
        rtt_.reset_backoff();  // the SYN-ACK's backoff ends with the handshake
        enter_established(now);
    }
    // RFC 5961 5.2: an ACK is acceptable only in [SND.UNA - MAX.SND.WND,
    // SND.NXT] (SND.MAX here: what was ever sent); any other segment "MUST
    // be discarded and an ACK sent back": a challenge ACK, under the
    // stack-wide rate limit (section 7). A blind injection's ACK field must
    // land in a window too.
    if (seg.ack > snd_max_ || seg.ack < snd_una_ - max_snd_wnd_) {
        ++ctr_.bad_ack_dropped;
        challenge_ack(now);
        return;
    }
    update_timestamps(now, seg, len);
    if (ecn_ok_) ecn_input(now, seg, ecn);  // RFC 3168 6.1.3 (tcb_ecn.cpp)
    const TraceMark mark = trace_mark();
    if (!process_ack(now, seg, len)) return;
    if (trace_) trace_after_ack(now, mark);
    if (state_ == TcpState::closed) return;

    // Sixth: URG. Urgent data is delivered inline (RFC 6093 recommends it);
    // the pointer is only counted.
    if (seg.flags & TcpFlags::urg) ++ctr_.urgent_rcvd;

    // Seventh: segment text, in the states that still receive.
    const bool receiving = state_ == TcpState::established || state_ == TcpState::fin_wait_1 ||
                           state_ == TcpState::fin_wait_2;
    // RFC 1122 4.2.2.13: once the application has closed, new data can
    // never be read; the TCP SHOULD reset to show it was lost (as BSD and
    // Linux do, <SEQ=SEG.ACK><CTL=RST>: exactly the peer's RCV.NXT).
    if (orphaned_ && receiving && len > 0 && !fin_rcvd_ &&
        seg.seq + static_cast<std::uint32_t>(len) > rcvbuf_.rcv_nxt()) {
        ++ctr_.data_after_close;
        send_rst(seg.ack);
        enter_closed(TcpError::aborted);
        return;
    }
    if (text_ok && len > 0 && receiving && !fin_rcvd_) process_data(now, seg, pkt, data_off, len);
    // A zero-window probe: its text is dropped, but RFC 1122 4.2.2.17 (and
    // RFC 9293 3.8.6.1) require an ACK with RCV.NXT and the window, or the
    // sender learns nothing and probes on blindly.
    if (!text_ok && (len > 0 || fin)) schedule_ack(now, true);

    // Eighth: FIN.
    if (fin && text_ok && !fin_rcvd_) {
        SeqNum fseq = seg.seq + static_cast<std::uint32_t>(len);
        if (fseq == rcvbuf_.rcv_nxt()) {
            process_fin(now);
        } else if (fseq > rcvbuf_.rcv_nxt()) {
            fin_pending_ = true;
            fin_pending_seq_ = fseq;
            schedule_ack(now, true);
        }
    } else if (fin && state_ == TcpState::time_wait) {
        // A retransmitted FIN: acknowledge it and restart the 2 MSL wait.
        close_at_ = now + cfg_.msl * 2;
        schedule_ack(now, true);
    }
    output(now);
}

void Tcb::input_syn_sent(Instant now, const wire::TcpRepr& seg) {
    const bool has_ack = seg.flags & TcpFlags::ack;
    // First: the ACK must cover our SYN and nothing more.
    if (has_ack && (seg.ack <= iss_ || seg.ack > snd_max_)) {
        if (!(seg.flags & TcpFlags::rst)) send_rst(seg.ack);
        return;
    }
    // Second: RST, honoured only with an acceptable ACK.
    if (seg.flags & TcpFlags::rst) {
        if (has_ack) {
            ++ctr_.rsts_rcvd;
            ++ctr_.conn_refused;
            enter_closed(TcpError::refused);
        }
        return;
    }
    // Fourth: SYN.
    if (!(seg.flags & TcpFlags::syn)) return;
    irs_ = seg.seq;
    rcvbuf_.reset(seg.seq + 1);
    rcv_adv_ = seg.seq + 1;
    negotiate_options(seg);
    ts_recent_at_ = now;
    cc_->init(payload_mss());
    if (has_ack) {
        if (ts_ok_ && seg.options.timestamps && seg.options.timestamps->second != 0)
            rtt_sample(now, seg.options.timestamps->second);
        else if (retries_ == 0)
            take_rtt_sample(now, now - syn_sent_at_);
        // RFC 6298 5.7: a retransmitted SYN and no sample (Karn): 3 s.
        if (retries_ > 0 && !rtt_.has_sample()) rtt_.set_initial_rto(kHandshakeFallbackRto);
        snd_una_ = seg.ack;
        snd_wnd_ = seg.window;  // unscaled in a SYN (RFC 7323 2.2)
        max_snd_wnd_ = snd_wnd_;
        snd_wl1_ = seg.seq;
        snd_wl2_ = seg.ack;
        retries_ = 0;
        rtt_.reset_backoff();
        rto_at_ = Instant::never();
        enter_established(now);
        schedule_ack(now, true);
        return;
    }
    // Simultaneous open (RFC 9293 3.5, figure 7).
    state_ = TcpState::syn_received;
    snd_wnd_ = seg.window;
    snd_wl1_ = seg.seq;
    snd_wl2_ = iss_;
    send_syn(now, true);
}

void Tcb::complete_simultaneous_open(Instant now, const wire::TcpRepr& seg) {
    update_timestamps(now, seg, 0);
    if (ts_ok_ && seg.options.timestamps && seg.options.timestamps->second != 0)
        rtt_sample(now, seg.options.timestamps->second);
    if (retries_ > 0 && !rtt_.has_sample()) rtt_.set_initial_rto(kHandshakeFallbackRto);
    snd_una_ = seg.ack;
    snd_wnd_ = seg.window;  // unscaled in a SYN (RFC 7323 2.2)
    max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
    snd_wl1_ = seg.seq;
    snd_wl2_ = seg.ack;
    retries_ = 0;
    rtt_.reset_backoff();
    enter_established(now);
    output(now);
}

bool Tcb::acceptable(const wire::TcpRepr& seg, std::size_t len) const {
    // RFC 9293 3.10.7.4, the four cases, against the window we advertised.
    const std::uint32_t wnd = rcv_window();
    const SeqNum nxt = rcv_nxt();
    const std::uint32_t seg_len = static_cast<std::uint32_t>(len) + ((seg.flags & TcpFlags::syn) ? 1u : 0u) +
                                  ((seg.flags & TcpFlags::fin) ? 1u : 0u);
    if (seg_len == 0) {
        if (wnd == 0) return seg.seq == nxt;
        return seg.seq.in_range(nxt, nxt + wnd);
    }
    if (wnd == 0) return false;
    return seg.seq.in_range(nxt, nxt + wnd) || (seg.seq + (seg_len - 1)).in_range(nxt, nxt + wnd);
}

std::uint32_t Tcb::rcv_window() const {
    // RCV.WND is the window we advertised (its right edge never moves
    // left), not the free buffer space behind it: a buffer larger than the
    // window field can express (or held back by receiver-side silly window
    // avoidance) must not widen the range in which a blind RST or SYN is
    // taken as in-window (RFC 5961 3.2, 4.2).
    const SeqNum nxt = rcv_nxt();
    return rcv_adv_ > nxt ? static_cast<std::uint32_t>(rcv_adv_ - nxt) : 0u;
}

void Tcb::update_timestamps(Instant now, const wire::TcpRepr& seg, std::size_t /*len*/) {
    // RFC 7323 4.3 (2): TS.Recent takes SEG.TSval when it is not older and
    // the segment starts at or before the last ACK we sent. (RFC 1323's
    // extra condition on the segment's end is gone: without it an old
    // retransmitted segment refreshes TS.Recent, so the ACK it draws echoes
    // a fresh timestamp and the sender's RTT sample stays true.)
    // RFC 7323 5.5: once TS.Recent has been invalidated by 24 days of
    // idleness, the segment PAWS let through sets it, older or not (else
    // every echo would carry the stale value for ever).
    if (!ts_ok_ || !seg.options.timestamps) return;
    const std::uint32_t tsval = seg.options.timestamps->first;
    const bool newer = static_cast<std::int32_t>(tsval - ts_recent_) >= 0;
    if ((newer || !ts_recent_valid(now)) && seg.seq <= last_ack_sent_) {
        ts_recent_ = tsval;
        ts_recent_at_ = now;
    }
}

bool Tcb::process_ack(Instant now, const wire::TcpRepr& seg, std::size_t len) {
    if (seg.ack > snd_max_) {
        // RFC 9293 3.10.7.4 fifth: acknowledges something not yet sent.
        send_ack(now);
        return false;
    }
    // RFC 9293: update the send window when the segment is newer.
    bool window_changed = false;
    if (snd_una_ <= seg.ack &&
        (snd_wl1_ < seg.seq || (snd_wl1_ == seg.seq && snd_wl2_ <= seg.ack))) {
        std::uint32_t w = static_cast<std::uint32_t>(seg.window) << snd_wscale_;
        window_changed = w != snd_wnd_;
        const bool reopened = snd_wnd_ == 0 && w > 0;
        snd_wnd_ = w;
        max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
        snd_wl1_ = seg.seq;
        snd_wl2_ = seg.ack;
        if (snd_wnd_ > 0) persist_at_ = Instant::never();
        if (reopened) {
            // RFC 9293 3.8.6.1: the probes backed off because the window
            // was shut, not because of loss; the next zero window starts
            // again from one RTO, and so does the retransmission timer.
            persist_backoff_ = Duration::zero();
            rtt_.reset_backoff();
        }
    }
    if (seg.ack < snd_una_) return true;  // old: ignore the ACK, keep the text
    const std::uint64_t sacked_before = sack_ok_ ? sack_sb_.sacked_bytes() : 0;
    if (sack_ok_) {
        sack_process(seg);  // RFC 6675: the scoreboard (tcb_sack.cpp)
        rack_on_ack(now, seg, sacked_before);  // RACK, D-SACK, DeliveredData (tcb_rack.cpp)
    }
    if (ecn_ok_ && (seg.flags & TcpFlags::ece)) ecn_on_ack(now, seg);  // RFC 3168 6.1.2 (tcb_ecn.cpp)
    if (seg.ack == snd_una_) {
        // RFC 5681 section 2: a duplicate ACK carries no data, no window
        // change, and arrives while data is outstanding. An ACK that
        // keeps the window shut answers a zero-window probe: no loss
        // signal (BSD excludes it too), or it would "fast retransmit"
        // into the closed window.
        if (len == 0 && !window_changed && snd_una_ != snd_max_ && snd_wnd_ != 0 &&
            !(seg.flags & (TcpFlags::syn | TcpFlags::fin)))
            on_dupack(now);
        if (snd_wnd_ == 0) retries_ = 0;  // the peer is alive: zero-window probing never gives up
        rack_after_ack(now, seg, false);
        return true;
    }
    // New data acknowledged.
    const std::uint32_t acked = static_cast<std::uint32_t>(seg.ack - snd_una_);
    const std::uint32_t flight_before = in_flight();
    SeqNum data_end = sndbuf_.end_seq();
    sndbuf_.ack(seg.ack <= data_end ? seg.ack : data_end);
    snd_una_ = seg.ack;
    if (snd_nxt_ < snd_una_) snd_nxt_ = snd_una_;
    // RFC 9406 4.2: round boundaries for HyStart++, before this ACK's sample.
    {
        const std::uint32_t exits = cc_->hystart_ss_exits();
        cc_->on_round_ack(snd_una_, snd_max_);
        if (cc_->hystart_ss_exits() != exits) ++ctr_.hystart_ss_exits;
    }
    // RTT (RFC 6298 / RFC 7323 4.1): timestamps when present, else the
    // single timed segment, never a retransmitted one (Karn).
    if (ts_ok_ && seg.options.timestamps && seg.options.timestamps->second != 0) {
        rtt_sample(now, seg.options.timestamps->second);
    } else if (rtt_timing_ && seg.ack > rtt_seq_) {
        take_rtt_sample(now, now - rtt_start_);
        rtt_timing_ = false;
    }
    // Progress: the give-up count restarts. The RTO's backoff does not:
    // Karn's algorithm (RFC 6298 section 3 and the note after 5.7) keeps
    // it until a valid sample (rtt_.sample() above) recomputes the RTO.
    retries_ = 0;
    on_new_ack(now, acked, flight_before);
    snd_autotune();  // tcb_autotune.cpp
    // RFC 6298 5.2/5.3: stop the timer when all is acknowledged, else restart.
    if (snd_una_ == snd_max_)
        rto_at_ = Instant::never();
    else
        arm_rto(now);
    rack_after_ack(now, seg, true);  // RACK, TLP, PRR, undo (tcb_rack.cpp)

    const bool fin_acked = fin_queued_ && snd_una_ > fin_seq_;  // acked implies sent
    switch (state_) {
        case TcpState::fin_wait_1:
            if (fin_acked) {
                state_ = TcpState::fin_wait_2;
                if (orphaned_) close_at_ = now + cfg_.fin_wait_2_timeout;
                sink_.notify(*this, tcb_event::writable);  // our side is done: lingering closers wake
            }
            break;
        case TcpState::closing:
            if (fin_acked) enter_time_wait(now);
            break;
        case TcpState::last_ack:
            if (fin_acked) {
                enter_closed(TcpError::none);
                return false;
            }
            break;
        default: break;
    }
    if (!fin_queued_ && sndbuf_.free_space() > 0) sink_.notify(*this, tcb_event::writable);
    return true;
}

void Tcb::rtt_sample(Instant now, std::uint32_t tsecr) {
    // An echo older than our latest retransmission may answer that
    // retransmission with a stale TS.Recent (the peer's ACKs were lost and
    // it saw only an out-of-window duplicate, RFC 7323 5.3 R2/R3): the
    // sample would include our whole backoff. Karn's rule, applied to
    // timestamps, skips it.
    if (rexmit_tsval_valid_ && static_cast<std::int32_t>(tsecr - rexmit_tsval_) < 0) return;
    std::uint32_t elapsed = tsval(now) - tsecr;
    if (elapsed < 0x7fffffffu) take_rtt_sample(now, Duration::millis(std::max<std::uint32_t>(elapsed, 1)));
}

void Tcb::take_rtt_sample(Instant now, Duration rtt) {
    rtt_.sample(rtt);
    // RFC 9406 4.2: every valid sample feeds HyStart++'s per-round minimum.
    const std::uint32_t css = cc_->hystart_css_entries();
    cc_->on_rtt_sample(rtt, now);
    if (cc_->hystart_css_entries() != css) ++ctr_.hystart_css_entered;
}

void Tcb::process_data(Instant now, const wire::TcpRepr& seg, const Packet& pkt, std::size_t off, std::size_t len) {
    // A buffer the stack's memory limit cannot give: the text is dropped
    // (counted, as Linux prunes) and the sender's retransmission brings it
    // back once memory frees (RFC 9293 3.10.7.4 lets a TCP drop what it
    // cannot buffer).
    if (!rcvbuf_.allocated() && !sink_.mem_allow(rcvbuf_.capacity())) {
        ++ctr_.mem_limit_drops;
        return;
    }
    rcv_autotune_sample(now, seg);
    const bool had_holes = rcvbuf_.ooo_bytes() > 0;
    const SeqNum nxt_before = rcvbuf_.rcv_nxt();
    auto r = rcvbuf_.insert(seg.seq, pkt, off, len);
    mem_sync();
    if (sack_ok_) {
        // RFC 2018 section 4 / RFC 2883 section 4 (tcb_sack.cpp).
        const SeqNum end = seg.seq + static_cast<std::uint32_t>(len);
        if (r.duplicate > 0 && seg.seq < nxt_before)
            sack_note_dsack(seg.seq, seq_min(end, nxt_before));
        else if (r.duplicate == len)
            sack_note_dsack(seg.seq, end);
        const SeqNum first = seq_max(seg.seq, rcvbuf_.rcv_nxt());
        if (first < end) sack_note_arrival(first);
    }
    if (r.in_order > 0) {
        sink_.notify(*this, tcb_event::readable);
        if (fin_pending_ && rcvbuf_.rcv_nxt() == fin_pending_seq_) {
            fin_pending_ = false;
            process_fin(now);
        }
    }
    if (r.out_of_order) ++ctr_.ooo_segments;
    // RFC 5681 4.2: ACK at once for out-of-order data, duplicates and
    // segments that fill a hole; otherwise delay, but ACK at least every
    // second full-sized segment (RFC 9293 3.8.6.3).
    if (r.out_of_order || r.duplicate > 0 || (had_holes && r.in_order > 0) || r.in_order == 0) {
        schedule_ack(now, true);
        return;
    }
    // A segment worth several full-sized ones (the peer's TSO, or GRO)
    // counts as that many: two or more are ACKed at once, as Linux does.
    const std::size_t full = rcv_mss_ > (ts_ok_ ? 12u : 0u) + 1u ? rcv_mss_ - (ts_ok_ ? 12u : 0u) : 1u;
    if (len > full) ++ctr_.super_segs_in;
    unacked_segs_ += static_cast<std::uint32_t>(std::max<std::size_t>(1, len / full));
    schedule_ack(now, unacked_segs_ >= 2);
}

void Tcb::process_fin(Instant now) {
    fin_rcvd_ = true;
    schedule_ack(now, true);
    sink_.notify(*this, tcb_event::readable);
    switch (state_) {
        case TcpState::syn_received:
        case TcpState::established: state_ = TcpState::close_wait; break;
        case TcpState::fin_wait_1:
            if (fin_queued_ && snd_una_ > fin_seq_)
                enter_time_wait(now);
            else
                state_ = TcpState::closing;
            break;
        case TcpState::fin_wait_2: enter_time_wait(now); break;
        default: break;
    }
}

void Tcb::enter_established(Instant now) {
    state_ = TcpState::established;
    ++ctr_.established;
    if (trace_) trace_event(now, TraceEvent::established);
    if (snd_una_ == snd_max_) rto_at_ = Instant::never();
    rack_start();
    restart_keepalive(now);
    sink_.notify(*this, tcb_event::established | tcb_event::writable);
}

void Tcb::enter_time_wait(Instant now) {
    state_ = TcpState::time_wait;
    rto_at_ = persist_at_ = keep_at_ = delack_at_ = Instant::never();
    rack_.timer_at = rack_.pto_at = Instant::never();
    close_at_ = now + cfg_.msl * 2;
    // Everything sent was acknowledged (our FIN too): TIME-WAIT needs no
    // buffer. Unread data, if any, stays for the application to read.
    sndbuf_.release();
    rcvbuf_.release();
    mem_sync();
    ++ctr_.time_wait_enter;
    sink_.notify(*this, tcb_event::time_wait | tcb_event::hangup);
}

void Tcb::enter_closed(TcpError err) {
    state_ = TcpState::closed;
    if (error_ == TcpError::none) error_ = err;
    rto_at_ = persist_at_ = keep_at_ = delack_at_ = close_at_ = Instant::never();
    rack_.timer_at = rack_.pto_at = Instant::never();
    ++ctr_.closed;
    if (trace_) trace_event(last_rcv_, TraceEvent::closed);
    std::uint32_t ev = tcb_event::closed | tcb_event::hangup | tcb_event::readable | tcb_event::writable;
    if (err != TcpError::none) ev |= tcb_event::error;
    sink_.notify(*this, ev);
}

}  // namespace uinet::tcp
