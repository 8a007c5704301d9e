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
#include "base/siphash.hpp"
#include "base/timer_wheel.hpp"
#include "buf/packet.hpp"
#include "net/net.hpp"
#include "tcp/passive_buffer.hpp"
#include "tcp/passive_types.hpp"
#include "tcp/proxy.hpp"
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
    bool is_listener(TcbId lid) const { return listeners_.count(lid) != 0; }
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
};

}  // namespace uinet::tcp
