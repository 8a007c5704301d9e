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
#include "tcp/tcb.hpp"

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

    // --- net/ ---
    net::Delivery on_ipv4(Instant now, const net::Ipv4Rx& rx, Packet payload) override;
    void on_icmp_error(Instant now, const net::IcmpErrorRx& err) override;

    // --- TcbSink ---
    void send_segment(Tcb& tcb, const wire::TcpRepr& hdr, SeqNum data_seq, std::size_t len) override;
    void notify(Tcb& tcb, std::uint32_t events) override;

    // --- time ---
    void poll(Instant now);
    Instant next_deadline() const { return wheel_.next_deadline(); }

    const TcpCounters& counters() const { return ctr_; }
    std::size_t connections() const { return conns_.size(); }
    std::size_t tcb_count() const { return live_; }
    std::size_t time_wait_count() const { return time_wait_; }

private:
    struct Listener {
        std::size_t backlog = 0;
        std::size_t syn_count = 0;
        std::deque<TcbId> accept_q;
    };
    struct KeyHash {
        SipKey key;
        std::uint64_t operator()(const ConnKey& k) const {
            return siphash13_u64x2(key, (std::uint64_t{k.laddr.value()} << 32) | k.raddr.value(),
                                   (std::uint64_t{k.lport.value()} << 16) | k.rport.value());
        }
    };
    struct Slot {
        std::unique_ptr<Tcb> tcb;
        TimerId timer = 0;
        Instant due = Instant::never();
        bool in_table = false;
        bool dead = false;
        bool time_wait = false;
        bool reuse_port = false;  // SO_REUSEPORT, inherited by accepted connections
    };

    Slot* slot(TcbId id);
    TcbId new_tcb(const ConnKey& key, std::uint64_t owner);
    void reap();
    void free_tcb(TcbId id);
    void unlink(TcbId id);
    void link_port(TcbId id);
    void unlink_port(TcbId id);
    bool port_conflict(Ipv4Addr addr, Port port, bool reuse, TcbId self, bool reuse_port = false) const;
    std::optional<Port> pick_port(Ipv4Addr laddr, Endpoint remote);
    TcbId find_listener(const ConnKey& key) const;
    void input_listen(Instant now, TcbId lid, const ConnKey& key, const wire::TcpRepr& seg);
    // unclaimed: no listener on the port (silenced by the black hole).
    void reply_rst(Instant now, const net::Ipv4Rx& rx, const wire::TcpRepr& seg, std::size_t len, bool unclaimed);
    std::uint16_t mss_for(Ipv4Addr dst) const;
    TxOffload offload_for(Ipv4Addr dst) const;
    void enforce_time_wait_budget();

    net::NetLayer& net_;
    Random& random_;
    TcpConfig cfg_;
    TcpEvents* events_ = nullptr;
    TcpCounters ctr_{};
    std::vector<Slot> slots_;  // index = TcbId - 1
    std::vector<TcbId> free_;
    std::size_t live_ = 0;
    FlatMap<ConnKey, TcbId, KeyHash> conns_;
    std::unordered_map<std::uint16_t, std::vector<TcbId>> ports_;  // every bound TCB by local port
    std::unordered_map<TcbId, Listener> listeners_;
    std::vector<TcbId> dead_;
    std::deque<TcbId> tw_order_;
    std::size_t time_wait_ = 0;
    TimerWheel wheel_;
    IsnGenerator isn_;
    PortPicker ports_picker_;
    std::vector<std::uint8_t> scratch_;  // linearized chained segments
    Instant now_{};
    SipKey reuseport_key_{};  // spreads SYNs over SO_REUSEPORT listeners; keyed at first use
    bool reuseport_keyed_ = false;
};

}  // namespace uinet::tcp
