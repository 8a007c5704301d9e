// tcp/tcp_layer.hpp — TCP for one stack: demultiplexing, the connection
// table, listeners with SYN and accept queues, ports, timers, and the
// segments that no connection owns.
//
// Contract:
//  * TcpLayer registers with net/ for protocol 6. Every TCB lives in its
//    slab, addressed by TcbId; the socket layer holds TcbIds, never
//    pointers across calls.
//  * Lookup is O(1): established and synchronizing connections are in a
//    hash table keyed by the 4-tuple (SipHash with a per-stack secret, so
//    peers cannot aim collisions); listeners are found by local port.
//  * Each TCB's earliest deadline sits in one timer-wheel entry, checked
//    after every call into the TCB and moved only when it changed.
//  * TCBs are freed only between calls into them (a TCB that ends inside
//    its own method is queued and reaped afterwards), and only once no
//    socket refers to them.
//  * Connections are keyed by 4-tuple AND VLAN tag stack (interned by
//    VlanIds, so the key stays 16 bytes): the same 4-tuple on two tag
//    stacks is two connections. An outbound connection's stack is the one
//    it sends with (its L2 info, else its interface's).
//  * Transparent-proxy features (tcp_proxy.cpp, docs/sockets.md):
//    promiscuous sockets bind any address and, with port 0, every port;
//    listener precedence is exact (addr, port) > wildcard address on the
//    port > promiscuous any-port on the address > catch-all. A SYN to an
//    address that is not the stack's only reaches promiscuous listeners.
//    Connections keep the L2 info of their SYN; those accepted by a
//    promiscuous listener send with it mirrored, on the SYN's interface.
//    A SYN filter on a listener decides each new SYN before any state
//    exists (accept, reject with RST, drop, or defer to the application,
//    bounded in number and time).
//  * Passive receive (tcp/passive.hpp, docs/passive.md): once a listener
//    is made passive, a PassiveEngine sees every segment first and takes
//    those of the connections it observes; it never sends.
//  * Inline position and cut-in (tcp_cutin.cpp, docs/passive.md): frames
//    marked observe-only (bridged copies) reach the passive engine and
//    nothing else; cut_in() turns a watched flow into two promiscuous
//    connections adopted in ESTABLISHED (Tcb::adopt), one impersonating
//    each endpoint towards the other; a connection of the table goes
//    before the passive engine's listeners.
//  * SYN floods (RFC 4987): SYN-RECEIVED connections are bounded per
//    listener (syn_backlog) and per stack (max_syn_received); past either,
//    SYNs get SYN cookies (syn_cookie.hpp) and the ACK that returns a valid
//    one creates the connection. A handshake never completes into a full
//    accept queue: its final ACK is dropped and counted.
//  * Challenge ACKs (RFC 5961 section 7) pass one stack-wide token bucket.
//  * Segments for no connection: RST per RFC 9293 3.10.7.1 unless the
//    stack is a black hole (libuinet's default), in which case they are
//    dropped and counted. An ACK to a listener draws its RST (3.10.7.2)
//    either way: the black hole covers unclaimed ports only.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "base/flat_map.hpp"
#include "base/result.hpp"
#include "base/siphash.hpp"
#include "base/timer_wheel.hpp"
#include "host/host.hpp"
#include "net/net.hpp"
#include "tcp/isn.hpp"
#include "tcp/mem_account.hpp"
#include "tcp/passive.hpp"
#include "tcp/proxy.hpp"
#include "tcp/syn_cookie.hpp"
#include "tcp/tcb.hpp"
#include "tcp/vlan_ids.hpp"

namespace uinet::tcp {

using uinet::Endpoint;

class TcpEvents {
public:
    virtual ~TcpEvents() = default;
    // events: tcb_event bits; for a listener, readable = a connection to accept.
    virtual void tcp_event(std::uint64_t owner, std::uint32_t events) = 0;
};

enum class BindError : std::uint8_t { address_in_use, address_not_available, already_bound, no_ports, invalid };
enum class ListenError : std::uint8_t { invalid_state };
enum class ConnectError : std::uint8_t {
    invalid_address, address_not_available, no_ports, no_route, already_connected, in_progress, invalid_state,
    too_many_connections
};
int to_errno(BindError e);
int to_errno(ListenError e);
int to_errno(ConnectError e);

class TcpLayer final : public net::Ipv4Handler, public TcbSink {
public:
    TcpLayer(net::NetLayer& net, Random& random, const TcpConfig& cfg = {});
    ~TcpLayer() override;
    TcpLayer(const TcpLayer&) = delete;
    TcpLayer& operator=(const TcpLayer&) = delete;

    void set_events(TcpEvents* e) { events_ = e; }
    TcpConfig& config() { return cfg_; }

    // --- the socket layer's calls ---
    std::optional<TcbId> open(std::uint64_t owner);
    Tcb* tcb(TcbId id);
    const Tcb* tcb(TcbId id) const;
    // reuse: SO_REUSEADDR. reuse_port: SO_REUSEPORT (several sockets, each
    // with it set, may bind and listen on one address and port).
    Result<void, BindError> bind(TcbId id, Endpoint local, bool reuse, bool reuse_port = false);
    Result<void, ListenError> listen(TcbId id, std::size_t backlog);
    // Pops a connection from the listener's accept queue.
    std::optional<TcbId> accept(TcbId listener);
    bool accept_ready(TcbId listener) const;
    Result<void, ConnectError> connect(Instant now, TcbId id, Endpoint remote);
    // The socket is gone: graceful close (abortive if `abort`); the TCB
    // lives on (FIN exchange, TIME-WAIT) and is freed when it ends.
    void release(Instant now, TcbId id, bool abort);
    // Re-arms the TCB's timer after an application call.
    void touch(TcbId id);

    // --- transparent-proxy features (tcp_proxy.cpp) ---
    // Before bind: the socket may bind any address (local or not) and, with
    // port 0, listen on every port; connections it accepts are promiscuous.
    Result<void, ProxyError> set_promiscuous(TcbId id, bool on);
    bool promiscuous(TcbId id) const;
    // The interface every segment of the connection leaves by (0: routing).
    Result<void, ProxyError> set_tx_interface(TcbId id, net::IfIndex ifindex);
    // Before connect: send every segment with exactly these MACs and tags
    // (no ARP); the connection is keyed on these tags.
    Result<void, ProxyError> set_l2info(TcbId id, const ConnL2& l2);
    // A connection's L2 info: its SYN's (passive) or what was set (active).
    std::optional<ConnL2> l2info(TcbId id) const;
    // A listener takes SYNs with exactly this tag stack only (nullopt: any).
    Result<void, ProxyError> set_listen_vlans(TcbId id, const std::optional<wire::VlanStack>& vlans);
    // Installs (or, with an empty fn, removes) the listener's SYN filter.
    Result<void, ProxyError> set_syn_filter(TcbId id, SynFilter fn, const SynFilterConfig& cfg = {});
    // The application's verdict on a deferred SYN (not `defer`).
    Result<void, VerdictError> deliver_syn_verdict(Instant now, SynHandle h, SynVerdict v);
    std::size_t deferred_syns() const { return deferred_.size(); }
    // Whether a segment from `src` to `dst` with this tag stack would reach
    // a connection (in any state, TIME-WAIT included) or a deferred SYN.
    // Read-only: an inline proxy's first-look hook asks it before taking a
    // frame, and bridges what no connection claims.
    bool claims(Endpoint src, Endpoint dst, const wire::VlanStack& vlans) const;
    bool bound(TcbId id) const;

    // --- passive receive (tcp/passive.hpp) ---
    // Before listen: the listener observes connections instead of answering
    // them (it becomes promiscuous too). Creates the engine at first use.
    Result<void, ProxyError> set_passive(TcbId id, bool on);
    bool passive(TcbId id) const { return passive_ && passive_->is_listener(id); }
    PassiveEngine* passive_engine() { return passive_.get(); }
    const PassiveEngine* passive_engine() const { return passive_.get(); }

    // --- inline position and cut-in (tcp_cutin.cpp, docs/passive.md) ---
    // Would the passive engine watch this segment (a flow's, or a client's
    // SYN that a passive listener matches)? Read-only, for first-look hooks.
    bool observes(Endpoint src, Endpoint dst, const wire::VlanStack& vlans, bool syn_only) const;
    // Would a terminating (not passive) listener take this SYN? Read-only.
    bool terminates(Endpoint src, Endpoint dst, const wire::VlanStack& vlans) const;
    // Converts an observed flow into active Tcbs: to_client impersonates the
    // server (sent out the client's interface with the server's MAC), and
    // to_server the client. A side reset by `mode` is 0.
    struct CutInTcbs {
        TcbId to_client = 0, to_server = 0;
    };
    Result<CutInTcbs, CutInError> cut_in(Instant now, PassiveFlowId f, CutInMode mode);

    // --- net/ ---
    net::Delivery on_ipv4(Instant now, const net::Ipv4Rx& rx, Packet payload) override;
    void on_icmp_error(Instant now, const net::IcmpErrorRx& err) override;

    // --- TcbSink ---
    void send_segment(Tcb& tcb, const wire::TcpRepr& hdr, SeqNum data_seq, std::size_t len,
                      std::uint8_t ecn = 0) override;
    void notify(Tcb& tcb, std::uint32_t events) override;
    // RFC 5961 section 7: a token bucket of cfg.challenge_ack_limit per
    // second, in the virtual time passed in.
    bool challenge_ack_allowed(Instant now) override;
    // The stack's socket-buffer memory (TcpConfig::memory_limit).
    bool mem_allow(std::size_t more) override { return mem_.allow(more); }
    void mem_adjust(std::ptrdiff_t delta) override;
    bool mem_pressure() const override { return mem_.pressure(); }
    void mem_wait(Tcb& tcb) override;

    // --- tracing (tcp/trace.hpp) ---
    // Every connection opened from now on (nullptr: none) reports to sink;
    // accepted connections take their listener's sink.
    void set_trace(TraceSink* sink) { trace_all_ = sink; }
    // One connection (or listener) only.
    void set_trace(TcbId id, TraceSink* sink);

    // --- time ---
    void poll(Instant now);
    Instant next_deadline() const {
        if (mem_trim_due_ || mem_wake_due_) return now_;
        return passive_ ? earliest(wheel_.next_deadline(), passive_->next_deadline()) : wheel_.next_deadline();
    }

    const TcpCounters& counters() const { return ctr_; }
    std::size_t connections() const { return conns_.size(); }
    std::size_t tcb_count() const { return live_; }
    std::size_t time_wait_count() const { return time_wait_; }
    // SYN-RECEIVED connections of all listeners.
    std::size_t syn_received_count() const { return syn_total_; }
    // Bytes of TCP socket buffers allocated now, and the most ever.
    std::size_t buffer_bytes() const { return mem_.used(); }
    std::size_t buffer_bytes_peak() const { return mem_.peak(); }
    bool under_memory_pressure() const { return mem_.pressure(); }

private:
    friend class PassiveEngine;  // listener lookup, events, the time of the call
    struct Listener {
        std::size_t backlog = 0;
        std::size_t syn_count = 0;
        std::deque<TcbId> accept_q;
        bool sent_cookie = false;  // since last_cookie: ACKs may carry cookies
        Instant last_cookie{};
    };
    struct KeyHash {
        SipKey key;
        std::uint64_t operator()(const ConnKey& k) const {
            return siphash13_u64x2(key, (std::uint64_t{k.laddr.value()} << 32) | k.raddr.value(),
                                   (std::uint64_t{k.vlan} << 32) | (std::uint64_t{k.lport.value()} << 16) |
                                       k.rport.value());
        }
    };
    static constexpr std::uint64_t kDeferralTimer = std::uint64_t{1} << 63;  // timer cookie: a deferral
    struct FilterState {
        SynFilter fn;
        SynFilterConfig cfg;
        std::size_t outstanding = 0;  // armed deferrals
    };
    // A SYN parked by a filter until the application decides.
    struct Deferral {
        std::uint32_t gen = 1;
        bool used = false;   // allocated (the filter is deciding, or armed)
        bool armed = false;  // in deferred_, with a timer
        bool mirror = false; // the listener was promiscuous: answers mirror the SYN's L2
        TcbId listener = 0;
        ConnKey key;
        wire::TcpRepr syn;
        net::L2Info l2;      // the SYN's frame as received
        net::IfIndex ifindex = 0;
        TimerId timer = 0;
    };
    struct Slot {
        std::unique_ptr<Tcb> tcb;
        TimerId timer = 0;
        Instant due = Instant::never();
        bool in_table = false;
        bool dead = false;
        bool time_wait = false;
        bool reuse_port = false;  // SO_REUSEPORT, inherited by accepted connections
        bool port_conn = false;   // counted in ports_ as a connection (not a bound socket)
        // Transparent-proxy state.
        bool promisc = false;     // may bind any address; inherited by accepted connections
        bool any_port = false;    // promiscuous, bound with port 0: listens on every port
        bool has_l2 = false;      // l2 holds the connection's L2 info
        bool l2_tx = false;       // ... and every segment is sent with it
        net::IfIndex tx_if = 0;   // 0: routing picks the interface
        net::L2Info l2;           // send orientation: src = our MAC, dst = the peer's
        std::optional<std::uint32_t> listen_vlan;  // a listener's tag restriction (VlanIds id)
        std::shared_ptr<FilterState> filter;
    };

    Slot* slot(TcbId id);
    TcbId new_tcb(const ConnKey& key, std::uint64_t owner);
    void reap();
    void free_tcb(TcbId id);
    void unlink(TcbId id);
    void link_port(TcbId id);
    void unlink_port(TcbId id);
    bool port_conflict(Ipv4Addr addr, Port port, bool reuse, TcbId self, bool reuse_port = false) const;
    std::optional<Port> pick_port(Ipv4Addr laddr, Endpoint remote, std::uint32_t vlan);
    // local: the destination is one of the stack's addresses (else only
    // promiscuous listeners qualify).
    TcbId find_listener(const ConnKey& key, bool local) const;
    TcbId find_in_bucket(std::uint16_t port, const ConnKey& key, bool local) const;
    void input_listen(Instant now, TcbId lid, ConnKey key, const wire::TcpRepr& seg, const net::Ipv4Rx& rx);
    // Creates the SYN-RECEIVED connection for a SYN a listener accepted and
    // sends the SYN-ACK. l2: the SYN's frame as received.
    void create_from_syn(Instant now, TcbId lid, ConnKey key, const wire::TcpRepr& seg, const net::L2Info& l2,
                         net::IfIndex ifindex);
    // A connection of listener lid for key (table, ports, L2, options),
    // counted in the SYN queue; 0 if it cannot be made.
    TcbId create_passive(TcbId lid, ConnKey key, const net::L2Info& l2, net::IfIndex ifindex);
    void add_syn(Listener& l, std::ptrdiff_t n);
    bool accept_full(TcbId lid) const;  // the listener's accept queue is at its backlog
    // SYN cookies (syn_cookie.hpp): the SYN-ACK for a SYN that found its
    // queue full, and the ACK that may return one (true: consumed).
    void send_cookie(Instant now, TcbId lid, const ConnKey& key, const wire::TcpRepr& syn, const net::Ipv4Rx& rx);
    bool input_cookie(Instant now, TcbId lid, const ConnKey& key, const wire::TcpRepr& seg, const net::Ipv4Rx& rx,
                      const Packet& payload, std::size_t hlen, std::size_t len);
    void send_raw(Instant now, Ipv4Addr src, Ipv4Addr dst, const wire::TcpRepr& r, net::IfIndex ifindex,
                  const net::L2Info* tx_l2);
    // unclaimed: no listener on the port (silenced by the black hole).
    // mirror: answer on the segment's interface with its L2 header swapped.
    void reply_rst(Instant now, const net::Ipv4Rx& rx, const wire::TcpRepr& seg, std::size_t len, bool unclaimed,
                   bool mirror = false);
    // RFC 9293 3.10.7.1's reset for `seg`, from src to dst. tx_l2 (send
    // orientation) and ifindex, if given, bypass routing and ARP.
    void send_reset(Instant now, Ipv4Addr src, Ipv4Addr dst, const wire::TcpRepr& seg, std::size_t len,
                    net::IfIndex ifindex, const net::L2Info* tx_l2);
    std::uint16_t mss_for(Ipv4Addr dst, net::IfIndex ifindex = 0) const;
    TxOffload offload_for(Ipv4Addr dst, net::IfIndex ifindex = 0) const;
    std::uint32_t rx_vlan(const net::L2Info* l2) const { return l2 ? vlan_ids_.find(l2->vlans) : 0; }
    // The tag stack an outbound connection sends with.
    const wire::VlanStack& tx_vlans(const Slot& s, Ipv4Addr dst) const;
    // SYN filter and deferrals (tcp_proxy.cpp).
    enum class FilterOutcome : std::uint8_t { create, done };
    FilterOutcome run_syn_filter(Instant now, TcbId lid, const ConnKey& key, const wire::TcpRepr& seg,
                                 const net::Ipv4Rx& rx);
    void apply_verdict(Instant now, SynVerdict v, TcbId lid, const ConnKey& key, const wire::TcpRepr& seg,
                       const net::L2Info& l2, net::IfIndex ifindex, bool mirror);
    SynHandle alloc_deferral();
    Deferral* deferral(SynHandle h);
    void free_deferral(SynHandle h);
    void on_deferral_timeout(Instant now, SynHandle h);
    void drop_deferrals(TcbId listener);
    void enforce_time_wait_budget();
    // Inline position (tcp_cutin.cpp).
    PassiveEngine& ensure_passive();
    TcbId make_adopted(Instant now, ConnKey key, const net::L2Info& tx_l2, net::IfIndex ifindex,
                       const AdoptState& st);
    // SynVerdict::accept_passive: the SYN goes on to the server's side and
    // the flow is watched.
    void watch_syn(Instant now, TcbId lid, const ConnKey& key, const wire::TcpRepr& syn, const net::L2Info& l2,
                   net::IfIndex ifindex);
    // PassiveConfig::syn_takeover: answer the client's SYN as the server.
    void takeover_syn(Instant now, TcbId lid, const ConnKey& key, const wire::TcpRepr& syn, const net::L2Info& l2,
                      net::IfIndex ifindex);

    net::NetLayer& net_;
    Random& random_;
    TcpConfig cfg_;
    TcpEvents* events_ = nullptr;
    TcpCounters ctr_{};
    std::vector<Slot> slots_;  // index = TcbId - 1
    std::vector<TcbId> free_;
    std::size_t live_ = 0;
    SipKey table_key_;  // keys conns_, deferred_ and (derived) vlan_ids_
    FlatMap<ConnKey, TcbId, KeyHash> conns_;
    VlanIds vlan_ids_;
    FlatMap<ConnKey, SynHandle, KeyHash> deferred_;  // armed deferrals by 4-tuple + tags
    std::vector<Deferral> deferrals_;
    std::vector<std::uint32_t> deferral_free_;
    // Who uses each local port: listeners and sockets bound but not
    // connected, by id (few per port); connections only as counts per local
    // address, so that thousands of connections on one port cost O(1) to
    // add, remove and check (a listener's lookup never walks them).
    struct PortCount {
        std::uint32_t all = 0;
        std::uint32_t reuse_port = 0;  // of which came with SO_REUSEPORT
    };
    struct PortUsers {
        std::vector<TcbId> socks;
        std::unordered_map<std::uint32_t, PortCount> conns;  // key: local address
    };
    std::unordered_map<std::uint16_t, PortUsers> ports_;
    std::unordered_map<TcbId, Listener> listeners_;
    std::vector<TcbId> dead_;
    std::deque<TcbId> tw_order_;
    std::size_t time_wait_ = 0;
    TimerWheel wheel_;
    IsnGenerator isn_;
    SynCookies cookies_;
    std::size_t syn_total_ = 0;           // SYN-RECEIVED connections, all listeners
    std::uint64_t challenge_credit_ = 0;  // token bucket, in ns * ACKs/s
    Instant challenge_last_{};
    bool challenge_started_ = false;
    PortPicker ports_picker_;
    std::vector<std::uint8_t> scratch_;  // linearized chained segments
    Instant now_{};
    SipKey reuseport_key_{};  // spreads SYNs over SO_REUSEPORT listeners; keyed at first use
    bool reuseport_keyed_ = false;
    std::unique_ptr<PassiveEngine> passive_;  // created by the first set_passive()
    MemAccount mem_;
    std::vector<TcbId> mem_waiters_;  // refused a send buffer: woken when memory frees
    bool mem_trim_due_ = false, mem_wake_due_ = false;
    TraceSink* trace_all_ = nullptr;
    void mem_housekeeping();
};

}  // namespace uinet::tcp
