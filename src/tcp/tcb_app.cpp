// tcp/tcb_app.cpp — the application's side of a TCB: send, receive,
// shutdown, close, abort, options and the TCP_INFO snapshot.
//
// Decisions and their sources:
//  * close() with unread received data resets the connection (RFC 9293
//    3.10.4 allows it; RFC 2525 2.17 and every major stack do it) so the
//    peer learns its data was not consumed.
//  * shutdown(SHUT_WR) queues a FIN after the data already queued
//    (RFC 9293 3.10.4, CLOSE in ESTABLISHED / CLOSE-WAIT).
#include <algorithm>

#include "tcp/tcb.hpp"

namespace uinet::tcp {

bool Tcb::writable() const {
    const bool open = state_ == TcpState::established || state_ == TcpState::close_wait;
    // A send buffer the memory limit refuses is no room (tcb_autotune.cpp).
    return open && !fin_queued_ && sndbuf_.free_space() > 0 &&
           (sndbuf_.allocated() || sink_.mem_allow(sndbuf_.capacity()));
}

std::size_t Tcb::send_space() const { return fin_queued_ ? 0 : sndbuf_.free_space(); }

std::size_t Tcb::send(Instant now, Bytes data) {
    const bool open = state_ == TcpState::established || state_ == TcpState::close_wait ||
                      state_ == TcpState::syn_sent || state_ == TcpState::syn_received;
    if (!open || fin_queued_) return 0;
    // The stack's memory limit (tcb_autotune.cpp): no send buffer now;
    // `writable` comes when memory frees.
    if (!sndbuf_.allocated() && !data.empty() && !sink_.mem_allow(sndbuf_.capacity())) {
        ++ctr_.mem_send_blocked;
        sink_.mem_wait(*this);
        return 0;
    }
    std::size_t n = sndbuf_.append(data);
    mem_sync();
    if (n > 0) output(now);
    return n;
}

std::size_t Tcb::recv(Instant now, MutBytes out) {
    std::size_t n = rcvbuf_.read(out);
    app_read_ += n;
    if (n > 0) rcv_autotune(now);  // tcb_autotune.cpp: may grow the window
    if (n > 0) maybe_window_update(now);
    return n;
}

void Tcb::shutdown_write(Instant now) {
    if (fin_queued_) return;
    switch (state_) {
        case TcpState::syn_sent:
            enter_closed(TcpError::none);
            return;
        case TcpState::syn_received:
        case TcpState::established: state_ = TcpState::fin_wait_1; break;
        case TcpState::close_wait: state_ = TcpState::last_ack; break;
        default: return;
    }
    fin_queued_ = true;
    fin_seq_ = sndbuf_.end_seq();
    output(now);
}

void Tcb::close(Instant now) {
    orphaned_ = true;
    if (rcvbuf_.readable() > 0 && state_ != TcpState::syn_sent) {
        abort(now);
        return;
    }
    if (state_ == TcpState::fin_wait_2) close_at_ = now + cfg_.fin_wait_2_timeout;
    shutdown_write(now);
}

void Tcb::abort(Instant /*now*/) {
    orphaned_ = true;
    switch (state_) {
        case TcpState::syn_received:
        case TcpState::established:
        case TcpState::fin_wait_1:
        case TcpState::fin_wait_2:
        case TcpState::close_wait:
            send_rst(snd_nxt_);
            break;
        default: break;
    }
    if (state_ != TcpState::closed) enter_closed(TcpError::aborted);
}

void Tcb::set_buffers(std::size_t sndbuf, std::size_t rcvbuf) {
    // An explicit size locks that direction's buffer: no autotuning (as
    // Linux's SO_SNDBUF/SO_RCVBUF do).
    if (sndbuf != 0) {
        snd_autotune_ = false;
        sndbuf_.set_capacity(std::max(sndbuf, sndbuf_.size()));
    }
    // The receive buffer may only change before the window scale is chosen.
    if (rcvbuf != 0 && (state_ == TcpState::closed || state_ == TcpState::listen)) {
        rcv_autotune_ = false;
        rcvbuf_.set_capacity(rcvbuf);
    }
    mem_sync();
}

void Tcb::set_congestion_control(std::unique_ptr<CongestionControl> cc) {
    if (!cc) return;
    cc->set_hystart(cc_->hystart_enabled());
    cc->init(payload_mss());
    cc_ = std::move(cc);
}

TcpInfo Tcb::info() const {
    TcpInfo i = stats_;
    i.state = state_;
    i.rtt = rtt_.srtt();
    i.rttvar = rtt_.rttvar();
    i.rto = rtt_.rto();
    i.cwnd = cc_->cwnd();
    i.ssthresh = cc_->ssthresh();
    i.snd_mss = snd_mss_;
    i.rcv_mss = rcv_mss_;
    i.snd_wnd = snd_wnd_;
    i.rcv_wnd = static_cast<std::uint32_t>(rcvbuf_.window());
    i.snd_wscale = snd_wscale_;
    i.rcv_wscale = rcv_wscale_;
    i.timestamps = ts_ok_;
    i.sack = sack_ok_;
    i.window_scaling = ws_ok_;
    i.ecn = ecn_ok_;
    i.unacked = in_flight();
    i.sndbuf = static_cast<std::uint32_t>(sndbuf_.capacity());
    i.rcvbuf = static_cast<std::uint32_t>(rcvbuf_.capacity());
    return i;
}

}  // namespace uinet::tcp
