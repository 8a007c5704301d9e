// tcp/tcb_autotune.cpp — buffer autotuning, the stack's memory account as
// one TCB sees it, and connection trace records.
//
// Decisions and their sources:
//  * Receive buffer (Linux's dynamic right-sizing, tcp_rcv_space_adjust):
//    once per receiver RTT, measure the bytes the application consumed; if
//    that is a new high, grow the buffer to twice it (plus 4 segments of
//    slack), at least by a quarter (so growth is amortised, a reallocation
//    per RTT at most, never per segment), up to TcpConfig::rcvbuf_max and
//    to what the negotiated window scale can express (RFC 7323 2.3). The
//    receiver's RTT comes from the timestamps echoed in data segments (RFC
//    7323 4, as Linux's tcp_rcv_rtt_measure_ts), else the sender's srtt.
//    With autotuning on, the SYN's window scale is chosen for rcvbuf_max.
//  * Send buffer: grows to twice cwnd (at least by half) up to sndbuf_max,
//    so a fast path is never limited by a small buffer (Linux's
//    tcp_sndbuf_expand).
//  * Buffers never shrink below what they hold, and the receive buffer
//    never below readable bytes plus the window already advertised (RFC
//    9293 3.8.6: the right edge never moves left).
//  * Memory pressure (the stack above memory_pressure_pct of
//    memory_limit, Linux's tcp_memory_pressure): no growth; the window
//    stops opening beyond the configured rcvbuf; grown buffers are trimmed
//    back toward TcpConfig::sndbuf/rcvbuf and empty buffers are released
//    (allocated again at the next byte). At the limit the next allocation
//    is refused: received text is dropped (mem_limit_drops) and sends
//    would block (mem_send_blocked) until memory frees.
#include <algorithm>

#include "tcp/tcb.hpp"

namespace uinet::tcp {

std::uint32_t Tcb::window_room() const {
    std::size_t w = rcvbuf_.window();
    if (rcv_autotune_ && rcvbuf_.capacity() > cfg_.rcvbuf && sink_.mem_pressure()) {
        const std::size_t r = rcvbuf_.readable();
        w = std::min(w, cfg_.rcvbuf > r ? cfg_.rcvbuf - r : 0);
    }
    return static_cast<std::uint32_t>(w);
}

void Tcb::mem_sync() {
    const std::size_t b = buffer_bytes();
    if (b == mem_charged_) return;
    sink_.mem_adjust(static_cast<std::ptrdiff_t>(b) - static_cast<std::ptrdiff_t>(mem_charged_));
    mem_charged_ = b;
}

void Tcb::rcv_autotune_sample(Instant now, const wire::TcpRepr& seg) {
    if (!rcv_autotune_ || !ts_ok_ || !seg.options.timestamps || seg.options.timestamps->second == 0) return;
    const std::uint32_t elapsed = tsval(now) - seg.options.timestamps->second;
    if (elapsed >= 0x7fffffffu) return;
    const Duration d = Duration::millis(std::max<std::uint32_t>(elapsed, 1));
    rcv_rtt_ = rcv_rtt_ == Duration::zero() ? d : (rcv_rtt_ * 7 + d) / 8;
}

void Tcb::rcv_autotune(Instant now) {
    if (sink_.mem_pressure()) {
        mem_trim(false, true);
        return;
    }
    if (!rcv_autotune_) return;
    const Duration rtt = rcv_rtt_ != Duration::zero() ? rcv_rtt_ : rtt_.srtt();
    if (rtt == Duration::zero()) return;
    if (rcvq_time_ == Instant{}) {
        rcvq_time_ = now;
        rcvq_mark_ = app_read_;
        return;
    }
    if (now - rcvq_time_ < rtt) return;
    const std::uint64_t copied = app_read_ - rcvq_mark_;
    rcvq_mark_ = app_read_;
    rcvq_time_ = now;
    if (copied <= rcvq_space_) return;
    rcvq_space_ = static_cast<std::size_t>(copied);
    // RFC 7323 2.3: nothing beyond 65535 << Rcv.Wind.Shift can be offered.
    const std::size_t most = std::min(cfg_.rcvbuf_max, std::size_t{65535} << rcv_wscale_);
    const std::size_t cap = rcvbuf_.capacity();
    std::size_t want = std::min<std::size_t>(most, 2 * rcvq_space_ + 4u * rcv_mss_);
    if (want <= cap) return;
    want = std::min(most, std::max(want, cap + cap / 4));
    if (rcvbuf_.allocated() && !sink_.mem_allow(want - cap)) return;
    rcvbuf_.set_capacity(want);
    ++ctr_.autotune_rcv_grows;
    mem_sync();
}

void Tcb::snd_autotune() {
    if (sink_.mem_pressure()) {
        mem_trim(true, false);
        return;
    }
    if (!snd_autotune_ || (state_ != TcpState::established && state_ != TcpState::close_wait)) return;
    const std::size_t cap = sndbuf_.capacity();
    const std::size_t want2 = 2 * static_cast<std::size_t>(cc_->cwnd());
    if (want2 <= cap || cap >= cfg_.sndbuf_max) return;
    const std::size_t want = std::min(cfg_.sndbuf_max, std::max(want2, cap + cap / 2));
    if (sndbuf_.allocated() && !sink_.mem_allow(want - cap)) return;
    sndbuf_.set_capacity(want);
    ++ctr_.autotune_snd_grows;
    mem_sync();
}

void Tcb::mem_trim(bool send_side, bool recv_side) {
    bool trimmed = false;
    if (send_side && snd_autotune_ && sndbuf_.capacity() > cfg_.sndbuf) {
        sndbuf_.set_capacity(std::max(cfg_.sndbuf, sndbuf_.size()));
        trimmed = true;
    }
    if (recv_side && rcv_autotune_ && rcvbuf_.capacity() > cfg_.rcvbuf) {
        // Keep the window already advertised (RFC 9293 3.8.6).
        const SeqNum nxt = rcvbuf_.rcv_nxt();
        const std::size_t promised = rcv_adv_ > nxt ? static_cast<std::size_t>(rcv_adv_ - nxt) : 0;
        const std::size_t keep = std::max(cfg_.rcvbuf, rcvbuf_.readable() + promised);
        if (keep < rcvbuf_.capacity()) {
            rcvbuf_.set_capacity(keep);
            trimmed = true;
        }
    }
    if (trimmed) ++ctr_.mem_trims;
    // Empty buffers go back; the next byte allocates again.
    if (send_side) sndbuf_.release();
    if (recv_side) rcvbuf_.release();
    mem_sync();
}

void Tcb::trace_event(Instant now, TraceEvent e, SeqNum seq, std::uint32_t len) {
    if (!trace_) return;
    const std::uint32_t base = iss_.raw() + 1;
    TraceRecord r;
    r.time = now;
    r.event = e;
    r.conn = id_;
    r.lport = key_.lport.value();
    r.rport = key_.rport.value();
    r.cwnd = cc_->cwnd();
    r.ssthresh = cc_->ssthresh();
    r.srtt = rtt_.srtt();
    r.rttvar = rtt_.rttvar();
    r.rto = rtt_.rto();
    r.in_flight = in_flight();
    // Bytes of the stream: the SYN's number (below ISS + 1) counts as 0.
    auto rel = [base](SeqNum q) { return static_cast<std::int32_t>(q.raw() - base) < 0 ? 0u : q.raw() - base; };
    r.snd_una = rel(snd_una_);
    r.snd_nxt = rel(snd_max_);
    r.delivered = delivered_;
    r.rcv_wnd = static_cast<std::uint32_t>(rcvbuf_.window());
    r.snd_wnd = snd_wnd_;
    r.sndbuf = static_cast<std::uint32_t>(sndbuf_.capacity());
    r.rcvbuf = static_cast<std::uint32_t>(rcvbuf_.capacity());
    if (len > 0) {
        r.seq = rel(seq);
        r.len = len;
    }
    trace_->trace(r);
}

void Tcb::trace_after_ack(Instant now, TraceMark before) {
    if (snd_una_ > before.una) {
        // Data bytes only: the ACK of our SYN takes one number.
        const SeqNum from = before.una == iss_ ? iss_ + 1 : before.una;
        if (snd_una_ > from) delivered_ += static_cast<std::uint64_t>(snd_una_ - from);
        trace_event(now, TraceEvent::ack);
    } else if (dupacks_ > before.dupacks) {
        trace_event(now, TraceEvent::dupack);
    }
}

const char* to_string(TraceEvent e) {
    switch (e) {
        case TraceEvent::ack: return "ack";
        case TraceEvent::dupack: return "dupack";
        case TraceEvent::fast_retransmit: return "fast_retransmit";
        case TraceEvent::recovery_enter: return "recovery_enter";
        case TraceEvent::recovery_exit: return "recovery_exit";
        case TraceEvent::rto: return "rto";
        case TraceEvent::retransmit: return "retransmit";
        case TraceEvent::established: return "established";
        case TraceEvent::closed: return "closed";
        case TraceEvent::tlp: return "tlp";
        case TraceEvent::ecn: return "ecn";
    }
    return "?";
}

}  // namespace uinet::tcp
