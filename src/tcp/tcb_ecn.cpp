// tcp/tcb_ecn.cpp — Explicit Congestion Notification, RFC 3168 section 6.1.
//
// Decisions and their sources:
//  * Negotiation (6.1.1) is in negotiate_options (tcb_input.cpp); SYNs are
//    never ECT. TcpConfig::ecn / Tcb::set_ecn: off, accept (answer an
//    ECN-setup SYN; Linux's default tcp_ecn = 2) or on (ask too). A
//    connection opened from a SYN cookie does not use ECN.
//  * Only new data segments are ECT(0) (6.1.5: never retransmissions;
//    6.1.6: never window probes; 6.1.4: never pure ACKs; SYN, SYN-ACK, RST
//    and a bare FIN neither) — tcb_output.cpp.
//  * Receiver (6.1.3): a CE-marked segment makes every ACK carry ECE until
//    a segment with CWR arrives; CWR is handled before CE, so a segment
//    with both keeps ECE on. The first CE of a train is ACKed at once
//    (Linux's quick ACK), so the sender hears of it within one RTT.
//  * Sender (6.1.2): ECE on an ACK is a congestion event without loss: the
//    CongestionControl's on_ecn() (ssthresh as for a loss, cwnd =
//    ssthresh), at most once per window of data (not again until SND.UNA
//    passes the SND.MAX of the reduction) and not during loss recovery,
//    which has already reduced; the next new data segment carries CWR.
//    ECE on a SYN-ACK is negotiation, never congestion.
#include "tcp/tcb.hpp"

namespace uinet::tcp {

using wire::TcpFlags;

void Tcb::ecn_input(Instant now, const wire::TcpRepr& seg, std::uint8_t ecn) {
    if (seg.flags & TcpFlags::cwr) {
        ++ctr_.cwr_rcvd;
        ece_pending_ = false;
    }
    if (ecn == ecn_field::ce) {
        ++ctr_.ce_rcvd;
        if (!ece_pending_) schedule_ack(now, true);
        ece_pending_ = true;
    }
}

void Tcb::ecn_on_ack(Instant now, const wire::TcpRepr& seg) {
    if (seg.flags & TcpFlags::syn) return;
    ++ctr_.ece_rcvd;
    if (in_recovery_ || seg.ack <= ecn_recover_ || seg.ack <= recover_) return;
    // Once per window: the reduction covers everything sent so far.
    ecn_recover_ = snd_max_;
    cc_->on_ecn(in_flight());
    cwr_pending_ = true;
    ++ctr_.ecn_reductions;
    if (trace_) trace_event(now, TraceEvent::ecn);
}

}  // namespace uinet::tcp
