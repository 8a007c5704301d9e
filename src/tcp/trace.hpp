// tcp/trace.hpp — connection tracing: what a TCB reports, and to whom.
//
// Contract:
//  * Tracing is opt-in (TcpLayer::set_trace for a whole stack's new
//    connections, TcpSockets::set_trace for one socket). A traced Tcb hands
//    a TraceRecord to its TraceSink on every ACK that it processes and on
//    every event below; an untraced one pays one pointer test per hook.
//  * The Tcb does no I/O: the sink decides what to keep (stack/trace_writer
//    writes CSV or JSON lines, bounded by a record budget).
//  * Records carry the connection's id and ports so that one sink can take
//    several connections.
#pragma once

#include <cstdint>

#include "base/time.hpp"
#include "tcp/tcp_types.hpp"

namespace uinet::tcp {

enum class TraceEvent : std::uint8_t {
    ack,             // a new cumulative ACK was processed
    dupack,          // a duplicate ACK
    fast_retransmit, // loss inferred from duplicate ACKs or SACK: a retransmission
    recovery_enter,  // fast recovery (RFC 5681/6582/6675) began
    recovery_exit,   // recovery ended (RecoveryPoint acknowledged)
    rto,             // the retransmission timer expired
    retransmit,      // any other retransmitted segment (RTO go-back-N, partial ACK)
    established,     // the handshake completed
    closed,          // the connection ended
    tlp,             // a tail-loss probe was sent (RFC 8985 section 7)
    ecn,             // an ECN-Echo reduced the window (RFC 3168 6.1.2)
};
const char* to_string(TraceEvent e);

struct TraceRecord {
    Instant time;
    TraceEvent event = TraceEvent::ack;
    TcbId conn = 0;
    std::uint16_t lport = 0, rport = 0;
    std::uint32_t cwnd = 0, ssthresh = 0;
    Duration srtt, rttvar, rto;
    std::uint32_t in_flight = 0;
    std::uint32_t snd_una = 0, snd_nxt = 0;  // relative to ISS + 1: bytes of the stream
    std::uint64_t delivered = 0;             // bytes cumulatively acknowledged
    std::uint32_t rcv_wnd = 0;               // our receive window (bytes)
    std::uint32_t snd_wnd = 0;               // the peer's window
    std::uint32_t sndbuf = 0, rcvbuf = 0;    // buffer capacities (autotuning)
    std::uint32_t seq = 0, len = 0;          // retransmissions: which bytes (relative)
};

class TraceSink {
public:
    virtual ~TraceSink() = default;
    virtual void trace(const TraceRecord& r) = 0;
};

}  // namespace uinet::tcp
