// tcp/tcb_adopt.cpp — cut-in: a Tcb that continues an observed connection
// (docs/passive.md, "Cut-in").
//
// Contract:
//  * adopt() puts a fresh Tcb straight into ESTABLISHED with the state an
//    inline observer saw: both ISNs, the peer's ACK and window, what the
//    impersonated endpoint sent and advertised, the options both SYNs
//    negotiated. The bytes the peer has not acknowledged are copied into the
//    send buffer, so that they can be retransmitted; nothing is sent until
//    the peer's next segment, a timer or the application asks.
//  * The peer already knows this connection's parameters, so the Tcb takes
//    them as they are: its window shift is the impersonated endpoint's
//    (RFC 7323 2.3: the peer decodes our windows with it), the MSS we send
//    is the peer's (capped by the route), and our TSvals continue the
//    impersonated endpoint's sequence (RFC 7323 5.4: monotonic per
//    connection, else the peer's PAWS check drops our segments).
//  * RTT: the handshake as the inline stack saw it (SYN to SYN-ACK for the
//    server's side, SYN-ACK to the client's ACK for the client's) is the
//    first sample when known.
//  * The right edge of the window the impersonated endpoint advertised is
//    kept (RFC 9293 3.8.6: a window is not shrunk); the receive buffer grows
//    to hold it if needed.
#include <algorithm>

#include "tcp/tcb.hpp"

namespace uinet::tcp {

void Tcb::adopt(Instant now, const AdoptState& st, std::uint16_t route_mss) {
    passive_ = false;
    state_ = TcpState::established;
    iss_ = st.iss;
    irs_ = st.irs;
    snd_una_ = st.snd_una;
    snd_nxt_ = st.snd_nxt;
    snd_max_ = st.snd_nxt;
    recover_ = st.snd_una;  // RFC 6582 3.2
    high_rxt_ = rescue_rxt_ = lost_below_ = st.snd_una;
    if (sndbuf_.capacity() < st.unacked.size()) sndbuf_.set_capacity(st.unacked.size());
    sndbuf_.reset(st.snd_una);
    (void)sndbuf_.append(st.unacked);

    // Options as the two SYNs negotiated them (RFC 7323 2.2, 3.2; RFC 2018).
    ws_ok_ = st.snd_wscale.has_value() && st.rcv_wscale.has_value();
    snd_wscale_ = ws_ok_ ? std::min<std::uint8_t>(*st.snd_wscale, 14) : 0;
    rcv_wscale_ = ws_ok_ ? std::min<std::uint8_t>(*st.rcv_wscale, 14) : 0;
    ts_ok_ = st.timestamps;
    sack_ok_ = st.sack;
    offered_mss_ = clamp_offered_mss(st.rcv_mss.value_or(cfg_.default_mss));
    rcv_mss_ = offered_mss_;
    snd_mss_ = std::min<std::uint16_t>(st.snd_mss.value_or(cfg_.default_mss), route_mss);
    if (user_mss_ != 0) snd_mss_ = std::min(snd_mss_, user_mss_);
    if (snd_mss_ < 64) snd_mss_ = 64;

    // RFC 7323 5.4: our clock continues the impersonated endpoint's.
    if (ts_ok_) {
        const auto ms = static_cast<std::uint32_t>(now.ns() / 1'000'000);
        ts_offset_ = st.ts_last + 1 - ms;
        ts_recent_ = st.ts_recent;
        ts_recent_at_ = now;
    }

    // The peer's window, relative to its ACK (= our SND.UNA).
    snd_wnd_ = st.snd_wnd;
    max_snd_wnd_ = snd_wnd_;
    snd_wl1_ = st.rcv_nxt - 1;
    snd_wl2_ = st.snd_una;

    // Receive side: everything up to rcv_nxt is taken (the observer saw it
    // and the other new Tcb sends it on). The advertised edge stays.
    SeqNum edge = st.last_ack + st.rcv_wnd;
    if (edge < st.rcv_nxt) edge = st.rcv_nxt;
    const auto need = static_cast<std::size_t>(edge - st.rcv_nxt);
    if (rcvbuf_.capacity() < need) rcvbuf_.set_capacity(need);
    rcvbuf_.reset(st.rcv_nxt);
    rcv_adv_ = edge;
    last_ack_sent_ = seq_min(st.last_ack, st.rcv_nxt);

    // RFC 6298 2.2: a first measurement (the handshake as observed) seeds
    // SRTT and RTTVAR; else the initial RTO applies.
    if (st.rtt > Duration::zero()) rtt_.sample(st.rtt);
    cc_->init(payload_mss());
    last_rcv_ = now;
    last_send_ = now;
    ++ctr_.adopted;
    enter_established(now);
    // RACK (RFC 8985) needs a send time for every byte in flight: the
    // adopted ones count as sent now (conservative: they are not deemed
    // lost before a reordering window past this instant).
    if (sent_.active() && snd_una_ < snd_max_) sent_.append(snd_una_, snd_max_, now, payload_mss());
    if (snd_una_ != snd_max_) arm_rto(now);
}

void Tcb::reset_adopted(Instant now) {
    (void)now;
    orphaned_ = true;
    if (state_ == TcpState::closed) return;
    // RFC 5961 3.2: only a RST at exactly RCV.NXT resets; the peer's RCV.NXT
    // is between the ACK we saw (SND.UNA) and what we sent (SND.NXT).
    send_rst(snd_max_);
    if (snd_una_ != snd_max_) send_rst(snd_una_);
    enter_closed(TcpError::aborted);
}

}  // namespace uinet::tcp
