// tcp/passive.hpp — passive receive: observe TCP connections between other
// hosts and deliver each direction as an ordered byte stream.
//
// Contract (docs/passive.md):
//  * The engine belongs to a TcpLayer and exists once a listener is made
//    passive. It sees every TCP segment before the connection table. A
//    client's SYN (no ACK) that a passive listener matches (the usual
//    listener precedence, the SYN's destination being the server) creates a
//    FLOW: two streams, client-to-server (c2s) and server-to-client (s2c),
//    queued on the listener for accept. Segments of a flow are consumed by
//    it in either direction; segments that match a passive listener but no
//    flow are consumed and counted (no_flow), unless midstream pickup is on.
//  * The engine never sends anything: no SYN-ACK, no ACK, no RST.
//  * Per stream: offsets from the SYN's ISN + 1 (64-bit), reassembly in a
//    PassiveBuffer bounded by the receiver's largest window (65535 << its
//    window scale when both SYNs offered one, else 65535; max_window caps
//    it; until the SYN-ACK is seen, max_window). Gaps become holes after
//    hole_timeout (packet time), at once when the peer ACKs past them
//    (ack_holes), when too many ranges are stored, when the window is full
//    behind a gap, and when the connection ends.
//  * FIN: the stream ends when every byte before it is in order (or a hole).
//    An acceptable RST (sequence number inside the sender's window, or an
//    ACK of the client's SYN) ends both streams as `reset`. Idle flows end
//    after idle_timeout, flows with one finished direction after
//    half_closed_timeout. Ended flows linger in the table, then are
//    forgotten; a new SYN on the 4-tuple replaces an ended (or a
//    different-ISN) flow.
//  * Flows live in a slab with generations; they are freed once out of the
//    table and released by both sockets (or dropped from the accept queue).
//    max_flows bounds the slab; max_memory bounds all rings together.
//  * Time: `now` for timers; segment timestamps come from the frame's
//    rx_time when set (capture files), else `now`.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "base/flat_map.hpp"
#include "base/result.hpp"
#include "base/siphash.hpp"
#include "base/timer_wheel.hpp"
#include "buf/packet.hpp"
#include "net/net.hpp"
#include "tcp/passive_buffer.hpp"
#include "tcp/passive_types.hpp"
#include "tcp/proxy.hpp"
#include "tcp/tcb.hpp"
#include "tcp/tcp_types.hpp"
#include "tcp/vlan_ids.hpp"
#include "wire/tcp.hpp"

namespace uinet::tcp {

class TcpLayer;
class TcpEvents;

struct PassiveConnInfo {
    std::uint64_t serial = 0;  // 1 for the stack's first observed connection, and so on
    Endpoint client, server;
    ConnL2 l2;                 // local_mac = the server's MAC, peer_mac = the client's, the tags
    bool midstream = false;    // picked up without its handshake
    PassiveEnd end = PassiveEnd::open;
    Instant first = Instant::never(), last = Instant::never();  // first and latest segment
    PassiveStreamInfo c2s, s2c;
};

// Cut-in (passive_cutin.cpp, docs/passive.md).
enum class CutInError : std::uint8_t {
    bad_socket,     // not a passive stream socket (or a stale one)
    not_ready,      // a gap or an unfinished handshake in the way: try again later
    invalid_state,  // the connection ended, or a FIN was seen, or it was picked up mid-stream
    exists,         // the stack already has a connection on one of the 4-tuples
    no_resources,   // no TCB could be made
};
int to_errno(CutInError e);
const char* to_string(CutInError e);
// What the stack does with the two sides at cut-in.
enum class CutInMode : std::uint8_t {
    both,          // terminate both: one Tcb towards the client, one towards the server
    reset_server,  // keep the client side; RST the server (from the client's identity)
    reset_client,  // keep the server side; RST the client (from the server's identity)
};
struct CutInPlan {
    Endpoint client, server;
    ConnL2 l2;                              // local_mac = the server's, peer_mac = the client's, the tags
    net::IfIndex client_if = 0, server_if = 0;  // where each side's frames arrive (0: unknown)
    AdoptState to_client;                   // the Tcb facing the client (impersonates the server)
    AdoptState to_server;                   // the Tcb facing the server (impersonates the client)
};

// A flow's handle: slab index + 1 and generation.
struct PassiveFlowId {
    std::uint32_t index = 0;
    std::uint32_t gen = 0;
    bool operator==(const PassiveFlowId&) const = default;
};

class PassiveEngine {
public:
    PassiveEngine(TcpLayer& tcp, const PassiveConfig& cfg, SipKey key);
    ~PassiveEngine();
    PassiveEngine(const PassiveEngine&) = delete;
    PassiveEngine& operator=(const PassiveEngine&) = delete;

    const PassiveConfig& config() const { return cfg_; }
    void set_listener(TcbId lid, bool on);
    bool is_listener(TcbId lid) const {
        auto it = listeners_.find(lid);
        return it != listeners_.end() && it->second.observes;
    }
    // The listener has a queue of pairs (a passive listener, or a
    // terminating one whose filter watched some SYNs).
    bool has_queue(TcbId lid) const { return listeners_.count(lid) != 0; }
    // The listener is gone: its queued flows are dropped.
    void listener_closed(TcbId lid);

    // key: the segment's key as TcpLayer builds it (local = destination).
    // True if the segment was consumed.
    bool input(Instant now, const net::Ipv4Rx& rx, const wire::TcpRepr& seg, const Packet& payload,
               std::size_t hlen, std::size_t len, const ConnKey& key);

    std::optional<PassiveFlowId> accept(TcbId lid);
    bool accept_ready(TcbId lid) const;
    // dir 0 = c2s, 1 = s2c. owner: the socket's cookie (events go to it).
    bool attach(PassiveFlowId f, int dir, std::uint64_t owner);
    void detach(PassiveFlowId f, int dir);
    bool valid(PassiveFlowId f) const { return flow(f) != nullptr; }
    PassiveRead read(PassiveFlowId f, int dir, MutBytes dst, bool stop_at_hole);
    std::size_t readable(PassiveFlowId f, int dir) const;
    // Data or a hole is waiting.
    bool pending(PassiveFlowId f, int dir) const;
    bool at_eof(PassiveFlowId f, int dir) const;
    std::optional<PassiveConnInfo> info(PassiveFlowId f) const;

    // --- inline position and cut-in (passive_cutin.cpp) ---
    // Would a segment from src to dst (this tag stack) be taken: a flow's,
    // or a client's SYN that a passive listener matches. Read-only (for an
    // inline position's first-look hook).
    bool observes(Endpoint src, Endpoint dst, const wire::VlanStack& vlans, bool syn_only) const;
    // The state for two Tcbs to take the flow over; the bytes in flight are
    // copied into scratch (valid until the next call). Err if not possible
    // now (CutInError).
    Result<CutInPlan, CutInError> prepare_cut_in(PassiveFlowId f);
    // The flow ends (cut_in) at what was observed: its sockets read what
    // they hold, then EOF; its frames are no longer the engine's.
    void commit_cut_in(Instant now, PassiveFlowId f);
    // A SYN that a terminating listener's filter chose to watch (SynVerdict
    // accept_passive): a flow queued on that listener's passive queue.
    bool watch_syn(Instant now, TcbId lid, const net::Ipv4Rx& rx, const wire::TcpRepr& syn);

    void poll(Instant now);
    Instant next_deadline() const { return wheel_.next_deadline(); }
    // The input is over: every open flow ends (capture_end), gaps become holes.
    void finish(Instant now);
    const PassiveCounters& counters() const { return ctr_; }
    std::size_t flows() const { return live_; }
    std::size_t memory() const { return budget_.used; }

private:
    struct Stream {
        Stream(MemoryBudget& b, const PassiveConfig& c)
            : buf(b, c.max_window, c.max_window + c.unread_allowance, c.max_ooo_ranges) {}
        PassiveBuffer buf;
        bool synced = false;
        SeqNum base;                          // sequence number of offset 0
        std::optional<std::uint8_t> wscale;   // from this sender's SYN
        bool syn_seen = false;
        bool fin = false;
        std::uint64_t fin_off = 0;
        Instant fin_time = Instant::never();  // stack time (timers), not packet time
        bool app_closed = false;              // its socket is gone: bytes are no longer kept
        PassiveStreamInfo st;
        // What this direction's sender said (for cut-in): its SYN's options,
        // its latest ACK (of the other direction) and window, its latest
        // TSval, and the interface its frames arrive on.
        std::optional<std::uint16_t> mss;
        bool sack_ok = false, ts_ok = false;
        bool acked = false;
        SeqNum ack;
        std::uint16_t win = 0;
        bool win_syn = false;                 // win came with a SYN (unscaled, RFC 7323 2.2)
        bool ts_seen = false;
        std::uint32_t tsval = 0;
        net::IfIndex ifindex = 0;
    };
    struct Flow {
        Flow(MemoryBudget& b, const PassiveConfig& c)
            : s{Stream(b, c), Stream(b, c)} {}
        Stream s[2];
        ConnKey key;               // laddr/lport = server, raddr/rport = client, vlan: the engine's id
        std::uint64_t owner[2] = {0, 0};
        TcbId listener = 0;        // while queued for accept
        bool queued = false;
        bool in_table = false;
        bool accepted = false;
        PassiveConnInfo info;
        Instant last_now{};                 // stack time of the latest segment (timers)
        Instant ended_at = Instant::never();
        Instant syn_now = Instant::never();  // stack time of the client's SYN (takeover)
        wire::TcpRepr syn;                   // the client's SYN (takeover)
        net::L2Info syn_l2;                  // its frame
        bool takeover = false;               // syn_takeover applies
        // Stack time of the client's (latest) SYN, the server's first SYN-ACK
        // and the client's ACK of it: the two sides' RTT as seen inline.
        Instant hs[3] = {Instant::never(), Instant::never(), Instant::never()};
        TcbId origin = 0;                    // the listener that matched the SYN
        TimerId timer = 0;
        Instant due = Instant::never();
    };
    struct Slot {
        std::uint32_t gen = 1;
        std::unique_ptr<Flow> flow;
    };
    struct KeyHash {
        SipKey key;
        std::uint64_t operator()(const ConnKey& k) const {
            return siphash13_u64x2(key, (std::uint64_t{k.laddr.value()} << 32) | k.raddr.value(),
                                   (std::uint64_t{k.vlan} << 32) | (std::uint64_t{k.lport.value()} << 16) |
                                       k.rport.value());
        }
    };
    struct Listener {
        std::deque<PassiveFlowId> queue;
        bool observes = true;  // a passive listener (false: a terminating listener's watched SYNs)
    };

    Flow* flow(PassiveFlowId f);
    const Flow* flow(PassiveFlowId f) const;
    // client_frame: l2 is a frame the client sent (else the server's).
    std::optional<PassiveFlowId> create(Instant now, Instant t, TcbId lid, const ConnKey& fkey, const net::L2Info* l2,
                                        bool client_frame, bool midstream);
    void on_segment(Instant now, Instant t, PassiveFlowId id, Flow& f, int dir, const wire::TcpRepr& seg,
                    Bytes data);
    // Stream offset of sequence number `seq` in stream s (may be negative).
    static std::int64_t offset_of(const Stream& s, SeqNum seq);
    void set_limits(Flow& f);
    void store(Instant now, Stream& s, std::int64_t off, Bytes data);
    void check_end(Instant now, Flow& f, int dir);
    void end_stream(Instant now, Flow& f, int dir, PassiveEnd why);
    void end_flow(Instant now, Flow& f, PassiveEnd why);
    // Brings the stream's and the stack's hole counts up to date.
    void sync_holes(Stream& s);
    void notify(const Flow& f, int dir, std::uint32_t events);
    void touch(PassiveFlowId id, Flow& f);
    Instant due_of(const Flow& f) const;
    void on_timer(Instant now, PassiveFlowId id);
    void unlink(Flow& f);
    void maybe_free(PassiveFlowId id);
    TcbId passive_listener_for(const ConnKey& key) const;

    TcpLayer& tcp_;
    PassiveConfig cfg_;
    PassiveCounters ctr_{};
    MemoryBudget budget_;
    std::vector<Slot> slots_;
    std::vector<std::uint32_t> free_;
    std::size_t live_ = 0;
    FlatMap<ConnKey, PassiveFlowId, KeyHash> table_;
    VlanIds vlan_ids_;
    std::unordered_map<TcbId, Listener> listeners_;
    TimerWheel wheel_;
    std::vector<std::uint8_t> scratch_;  // linearized chained payloads
    std::uint64_t serial_ = 0;
    net::IfIndex cur_if_ = 0;             // the interface of the segment being processed
    std::vector<std::uint8_t> cut_[2];     // cut-in: the bytes in flight of each direction
    void takeover(Instant now, PassiveFlowId id, Flow& f);
};

}  // namespace uinet::tcp
