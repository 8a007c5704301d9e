// tcp/passive_types.hpp — vocabulary of passive receive (libuinet's passive
// sockets): the configuration, how an observed stream ended, the per-stream
// and per-connection reports and the stack-wide counters (docs/passive.md).
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/addr.hpp"
#include "base/time.hpp"

namespace uinet::tcp {

struct PassiveConfig {
    // A gap that has blocked a stream this long (packet time since the first
    // byte beyond it arrived) becomes a hole.
    Duration hole_timeout = Duration::seconds(10);
    // A connection with no segment in either direction for this long ends
    // (timeout); once one direction has finished, after half_closed_timeout.
    Duration idle_timeout = Duration::seconds(300);
    Duration half_closed_timeout = Duration::seconds(120);
    // After both directions ended, the flow stays in the table this long to
    // absorb retransmissions and last ACKs (2 MSL-like), then is forgotten.
    Duration linger = Duration::seconds(10);
    std::size_t max_flows = 65536;            // flows in the table (new SYNs beyond it are counted and ignored)
    std::size_t max_window = 16u << 20;       // per direction: cap on the receiver's window (65535 << wscale)
    // Per direction: how far the reader may lag behind the window before
    // bytes are refused (overrun). A reader that drains at every readable
    // event lags by at most one input batch.
    std::size_t unread_allowance = 4u << 20;
    std::size_t max_memory = std::size_t{1} << 30;  // all reassembly rings together
    std::size_t max_ooo_ranges = 64;          // stored out-of-order ranges per direction
    // A peer's ACK beyond bytes the observer never saw turns them into a hole
    // at once (the receiver has them: no retransmission will come).
    bool ack_holes = true;
    // Pick up connections whose handshake was not observed (off: only from SYN).
    bool midstream = false;
    // Verify TCP checksums (off for captures made on a host with checksum
    // offload, where outgoing frames carry partial checksums).
    bool verify_checksums = true;
    // Cut-in (inline position): keep each direction's bytes until the other
    // side acknowledges them, not only until they are read, so that an
    // active Tcb can take over the bytes still in flight (docs/passive.md).
    bool retain_unacked = false;
    // Take over a handshake the server does not answer: if no SYN-ACK was
    // seen this long (packet time) after the client's SYN, the stack answers
    // the client itself as the server (zero: off). Only on an inline stack.
    Duration syn_takeover = Duration::zero();
};

// How an observed stream (or connection) ended.
enum class PassiveEnd : std::uint8_t {
    open,         // not ended
    fin,          // the sender's FIN was reached
    reset,        // a RST from either side
    timeout,      // idle / half-closed timeout
    capture_end,  // the input ended (PassiveEngine::finish)
    replaced,     // a new connection (new SYN) took the 4-tuple
    listener_closed,
    cut_in,       // the stack took the connection over (TcpSockets::cut_in)
    taken_over,   // the server did not answer the SYN: the stack did (syn_takeover)
};
const char* to_string(PassiveEnd e);

struct PassiveStreamInfo {
    bool synced = false;                 // the stream's start is known
    std::uint64_t segments = 0;          // segments carrying this direction's sequence space
    std::uint64_t bytes = 0;             // payload bytes stored (each byte once)
    std::uint64_t offset = 0;            // stream offset reached (in order, holes included)
    std::uint64_t holes = 0, hole_bytes = 0;
    std::uint64_t duplicate_bytes = 0;   // retransmitted bytes (consistent or not compared)
    std::uint64_t late_bytes = 0;        // bytes that arrived after their hole was declared
    std::uint64_t inconsistent_segments = 0, inconsistent_bytes = 0;  // overlaps that differ
    std::uint64_t out_of_window_bytes = 0;  // beyond the receiver's window
    std::uint64_t overrun_bytes = 0;        // refused: the reader lagged too far or memory ran out
    bool fin = false;                    // the FIN was seen
    PassiveEnd end = PassiveEnd::open;
    Instant first = Instant::never(), last = Instant::never();  // first/last segment with data, SYN or FIN
};

#define UINET_PASSIVE_COUNTERS(X)                                                                 \
    X(flows) X(flows_midstream) X(flows_table_full) X(flows_accept_dropped) X(flows_replaced)    \
    X(end_fin) X(end_reset) X(end_timeout) X(end_capture) X(segments) X(bytes)                    \
    X(duplicate_bytes) X(late_bytes) X(inconsistent_segments) X(inconsistent_bytes)              \
    X(out_of_window_bytes) X(holes) X(hole_bytes) X(forced_holes) X(ack_holes) X(timeout_holes) \
    X(overrun_bytes) X(no_flow) X(unsynced_bytes) X(rst_ignored) X(ack_ignored) X(syn_ignored) X(memory_refused)  \
    X(data_after_fin) X(cut_ins) X(takeovers) X(observe_only_flows)

struct PassiveCounters {
#define UINET_X(name) std::uint64_t name = 0;
    UINET_PASSIVE_COUNTERS(UINET_X)
#undef UINET_X
    template <class F>
    void visit(F&& f) const {
#define UINET_X(name) f(#name, name);
        UINET_PASSIVE_COUNTERS(UINET_X)
#undef UINET_X
    }
};

}  // namespace uinet::tcp
