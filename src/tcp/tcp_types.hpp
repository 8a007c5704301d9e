// tcp/tcp_types.hpp — vocabulary of the TCP layer: states, connection keys,
// configuration, counters and the TCP_INFO-like snapshot.
#pragma once

#include <cstdint>

#include "base/addr.hpp"
#include "base/time.hpp"
#include "tcp/cc.hpp"
#include "tcp/passive_types.hpp"

namespace uinet::tcp {

// RFC 9293 section 3.3.2: the eleven states.
enum class TcpState : std::uint8_t {
    closed,
    listen,
    syn_sent,
    syn_received,
    established,
    fin_wait_1,
    fin_wait_2,
    close_wait,
    closing,
    last_ack,
    time_wait,
};
const char* to_string(TcpState s);

// The connection's 4-tuple, from this stack's point of view, and its VLAN
// tag stack (an id from VlanIds: 0 = untagged). The same 4-tuple on two tag
// stacks is two connections.
struct ConnKey {
    Ipv4Addr laddr;
    Ipv4Addr raddr;
    Port lport;
    Port rport;
    std::uint32_t vlan = 0;
    bool operator==(const ConnKey&) const = default;
};

using TcbId = std::uint32_t;  // 0 = none

// What the interface on the route to the peer offers TCP output, learnt at
// connect/accept as the MSS clamp is (DESIGN.md principle 7).
struct TxOffload {
    bool csum = false;            // the device finishes partial checksums
    std::uint32_t tso_max = 0;    // largest TSO super-segment as an IP datagram (0 = no TSO)
};

// RFC 3168 ECN for new connections (Linux's tcp_ecn 0/2/1).
enum class EcnMode : std::uint8_t {
    off,     // never negotiate; ECN-setup SYNs are answered without ECE
    accept,  // answer an ECN-setup SYN with an ECN-setup SYN-ACK (the default)
    on,      // also request ECN in our SYNs
};

struct TcpConfig {
    std::size_t sndbuf = 256 * 1024;
    std::size_t rcvbuf = 256 * 1024;
    // Buffer autotuning (tcb_autotune.cpp; docs/architecture.md "Buffer
    // memory"): the receive buffer grows per RTT to twice what the
    // application consumed (Linux's dynamic right-sizing), the send buffer
    // to twice cwnd, up to these bounds. On by default (as Linux); the
    // SYN's window scale is then chosen for rcvbuf_max. An explicit
    // SO_SNDBUF/SO_RCVBUF turns it off for that socket.
    bool autotune = true;
    std::size_t sndbuf_max = 4 * 1024 * 1024;
    std::size_t rcvbuf_max = 6 * 1024 * 1024;
    // Bytes of socket buffers (both directions, all connections) the stack
    // may hold; 0 = unlimited. Above memory_pressure_pct percent of it
    // autotuning stops growing and grown buffers are trimmed back toward
    // sndbuf/rcvbuf; at the limit new buffers are refused (data dropped and
    // counted, sends would block), never a crash.
    std::size_t memory_limit = 0;
    std::uint32_t memory_pressure_pct = 75;
    std::uint16_t default_mss = 536;          // RFC 9293 3.7.1: when the peer sends no MSS option
    Duration delack = Duration::millis(40);   // RFC 9293 3.8.6.3: "MUST be less than 0.5 s"; 200 ms at most here
    Duration msl = Duration::seconds(30);     // TIME-WAIT lasts 2*MSL (60 s, as Linux)
    Duration fin_wait_2_timeout = Duration::seconds(60);  // orphaned FIN-WAIT-2 (Linux tcp_fin_timeout)
    Duration keep_idle = Duration::seconds(7200);  // RFC 1122 4.2.3.6: >= 2 hours by default
    Duration keep_intvl = Duration::seconds(75);
    std::uint32_t keep_cnt = 9;
    std::uint32_t max_retransmits = 15;       // data: give up after this many RTOs (Linux tcp_retries2)
    std::uint32_t max_syn_retransmits = 6;    // Linux tcp_syn_retries
    std::uint32_t max_synack_retransmits = 5;
    std::size_t max_time_wait = 16384;        // TIME-WAIT budget; beyond it connections close at once
    std::size_t max_connections = 1 << 20;
    std::size_t syn_backlog = 1024;           // SYN-RECEIVED connections per listener
    std::size_t max_syn_received = 16384;     // SYN-RECEIVED connections in the whole stack
    // RFC 4987 3.6: when a SYN queue (or the stack-wide bound) is full,
    // answer with a SYN cookie instead of dropping (tcp/syn_cookie.hpp).
    bool syn_cookies = true;
    Duration syn_cookie_period = Duration::seconds(64);  // a cookie lives 1-2 periods
    // RFC 5961 section 7: challenge ACKs per second for the whole stack (a
    // token bucket of this depth); 0 = unlimited.
    std::uint32_t challenge_ack_limit = 1000;
    std::uint8_t rcv_wscale_max = 14;         // RFC 7323 2.3
    bool timestamps = true;
    bool window_scaling = true;
    bool sack = true;                         // SACK (RFC 2018/2883 receiver, RFC 6675 sender)
    // Loss recovery with SACK (docs/architecture.md, "Loss recovery"):
    // RACK time-based loss detection (RFC 8985 section 6) instead of the
    // DupThresh rule, tail loss probes (RFC 8985 section 7), Proportional
    // Rate Reduction during recovery (RFC 6937), and undoing the window
    // reduction of a spurious retransmission (RFC 3522, 3708, 4015).
    bool rack = true;
    bool tlp = true;
    bool prr = true;
    bool undo = true;
    bool nodelay = false;
    // For new connections; a socket may choose another (TCP_CONGESTION).
    CcAlgorithm congestion_control = CcAlgorithm::newreno;
    // HyStart++ (RFC 9406) in the initial slow start, for every algorithm.
    bool hystart = true;
    // ECN (RFC 3168; docs/architecture.md): a socket may override it.
    EcnMode ecn = EcnMode::accept;
    // Pacing: segments released at 2x (slow start) or 1.2x (congestion
    // avoidance) cwnd/SRTT, in bursts of ~1 ms of that rate (>= 2 MSS).
    bool pacing = false;
    Duration initial_rto = Duration::seconds(1);
    Duration min_rto = Duration::millis(200);
    Duration max_rto = Duration::seconds(120);
    Duration persist_min = Duration::millis(200);
    Duration persist_max = Duration::seconds(60);
    std::uint16_t ephemeral_low = 49152;
    std::uint16_t ephemeral_high = 65535;
    // Passive receive (listeners made passive; docs/passive.md).
    PassiveConfig passive;
};

#define UINET_TCP_COUNTERS(X)                                                                     \
    X(segs_in) X(segs_out) X(bytes_in) X(bytes_out) X(retransmits) X(fast_retransmits)           \
    X(rto_expired) X(bad_header) X(bad_checksum) X(no_listener) X(rsts_sent) X(rsts_rcvd)         \
    X(unacceptable) X(paws_dropped) X(challenge_acks) X(dup_acks) X(ooo_segments)                \
    X(active_opens) X(passive_opens) X(established) X(conn_refused) X(conn_reset)                \
    X(conn_timeout) X(closed) X(syn_queue_full) X(accept_queue_full) X(time_wait_enter)           \
    X(time_wait_budget) X(time_wait_reuse) X(keepalive_probes) X(persist_probes)                  \
    X(delayed_acks) X(window_updates) X(urgent_rcvd) X(no_buffers) X(too_many_connections)     \
    X(data_after_close) X(synf_accept) X(synf_reject_rst) X(synf_reject_silent) X(synf_defer)     \
    X(synf_deferred_accept) X(synf_deferred_reject_rst) X(synf_deferred_reject_silent)            \
    X(synf_defer_absorbed) X(synf_defer_overflow) X(synf_defer_timeout) X(synf_stale_verdict)     \
    X(super_segs_out) X(super_segs_in) X(syncookies_sent) X(syncookies_ok) X(syncookies_failed)     \
    X(challenge_acks_limited) X(accept_queue_full_acks) X(bad_ack_dropped)                        \
    X(sack_recoveries) X(sack_rexmits) X(rescue_rexmits) X(sack_blocks_rcvd) X(sack_blocks_invalid) \
    X(sack_blocks_sent) X(dsacks_sent)                                                           \
    X(hystart_css_entered) X(hystart_ss_exits) X(ecn_negotiated) X(ecn_refused) X(ce_rcvd)        \
    X(ece_rcvd) X(ecn_reductions) X(cwr_sent) X(cwr_rcvd) X(paced_delays)                         \
    X(autotune_rcv_grows) X(autotune_snd_grows) X(mem_pressure_entered) X(mem_trims)             \
    X(mem_limit_drops) X(mem_send_blocked)                                                        \
    X(rack_losses) X(rack_timer_fired) X(tlp_probes) X(tlp_recoveries) X(prr_recoveries)         \
    X(spurious_rtos) X(spurious_fast_rexmits) X(undos) X(dsacks_rcvd)                             \
    X(observe_dropped) X(adopted) X(cutins) X(cutin_not_ready) X(cutin_failed) X(cutin_resets)   \
    X(synf_accept_passive) X(syn_takeovers)

struct TcpCounters {
#define UINET_X(name) std::uint64_t name = 0;
    UINET_TCP_COUNTERS(UINET_X)
#undef UINET_X
    template <class F>
    void visit(F&& f) const {
#define UINET_X(name) f(#name, name);
        UINET_TCP_COUNTERS(UINET_X)
#undef UINET_X
    }
};

// A TCP_INFO-like snapshot of one connection.
struct TcpInfo {
    TcpState state = TcpState::closed;
    Duration rtt, rttvar, rto;
    std::uint32_t cwnd = 0, ssthresh = 0;
    std::uint32_t snd_mss = 0, rcv_mss = 0;
    std::uint32_t snd_wnd = 0, rcv_wnd = 0;
    std::uint8_t snd_wscale = 0, rcv_wscale = 0;
    bool timestamps = false, sack = false, window_scaling = false;
    bool ecn = false;  // RFC 3168 negotiated
    std::uint64_t bytes_in = 0, bytes_out = 0, segs_in = 0, segs_out = 0;
    std::uint64_t retransmits = 0;
    std::uint32_t unacked = 0;  // bytes in flight
    std::uint32_t sndbuf = 0, rcvbuf = 0;  // buffer capacities now (autotuning)
};

}  // namespace uinet::tcp
