// tools/proxy/transparent_proxy.hpp — an inline transparent TCP proxy
// between two interfaces of one stack (`uinet proxy`; libuinet's purpose,
// WANProxy's front end).
//
// Contract:
//  * The stack holds two promiscuous interfaces, the client side and the
//    server side (no IP addresses needed). start() installs a first-look
//    hook on both and a promiscuous catch-all listener (any address, any
//    port) with a SYN filter.
//  * Frames: an IPv4 TCP segment is taken by the stack when a connection or
//    a deferred SYN of the stack claims it (TcpLayer::claims), or when it is
//    a new SYN (SYN without ACK or RST) arriving on the client side.
//    Everything else — ARP, ICMP, UDP, IPv6, multicast, IP fragments, and
//    TCP of connections the proxy does not hold (opened from the server
//    side, or older than the proxy) — is bridged unchanged to the other
//    interface.
//  * Each client SYN is deferred. The proxy opens a promiscuous socket
//    bound to the client's address and port, sending with the client's MAC
//    (the SYN's source), to the SYN's destination MAC, with the SYN's VLAN
//    tag stack, out of the server side, and connects to the address and
//    port the client dialled. The server's answer is mirrored to the
//    client: connected -> the deferred SYN is accepted (the client gets its
//    SYN-ACK); reset (refused) -> reject_rst (the client gets a RST);
//    nothing within connect_timeout -> reject_silent (the client gets
//    nothing and retries on its own). Once the client completes its
//    handshake, the two sockets are joined by a Splicer: both directions,
//    back-pressure, half-close and resets passed on.
//  * Bounds: at most max_pending connections wait for the server and at
//    most max_conns exist at once (pending included); SYNs beyond either
//    are dropped silently and counted (overflow). A client that never
//    completes its handshake after acceptance is given up after
//    accept_timeout (the server connection is reset).
//  * Time is passed in: poll(now) runs the timeouts and returns the next
//    instant the proxy needs to be polled at; drive it beside Stack::poll().
//    Everything runs on the stack's thread.
//  * Each connection, when it ends, is reported once to the log callback
//    (client, server, L2 info, bytes each way, duration, how it ended).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "stack/splice.hpp"
#include "stack/stack.hpp"

namespace uinet::proxy {

struct ProxyConfig {
    net::IfIndex client_if = 0;
    net::IfIndex server_if = 0;
    std::size_t max_pending = 256;                            // connections waiting for the server's answer
    std::size_t max_conns = 4096;                             // connections at once, pending included
    Duration connect_timeout = Duration::seconds(5);          // server silent this long -> client gets silence
    Duration accept_timeout = Duration::seconds(75);          // client's handshake after its SYN-ACK
    std::size_t relay_buffer = 64 * 1024;                     // the Splicer's scratch buffer
};

#define UINET_PROXY_COUNTERS(X)                                                                  \
    X(syns) X(accepted) X(refused) X(silent) X(connect_errors) X(overflow) X(client_gone)       \
    X(orphans) X(completed) X(reset) X(bytes_c2s) X(bytes_s2c) X(bridged_c2s) X(bridged_s2c)   \
    X(taken_c2s) X(taken_s2c)

// syns: client SYNs deferred (one connection attempt each); accepted /
// refused / silent: the server's answer, mirrored; connect_errors: the
// proxy could not open the server side (e.g. the 4-tuple still in
// TIME-WAIT here), the client got a RST; overflow: SYNs dropped over the
// bounds; client_gone: accepted clients that never completed the
// handshake; orphans: accepted client connections with no server side
// (reset); completed / reset: relays that ended cleanly / by a reset or
// error; bytes_*: relayed payload; bridged_* / taken_*: frames bridged or
// given to the stack, by direction (c2s = received on the client side).
struct ProxyCounters {
#define UINET_PROXY_FIELD(n) std::uint64_t n = 0;
    UINET_PROXY_COUNTERS(UINET_PROXY_FIELD)
#undef UINET_PROXY_FIELD
};

// One proxied connection attempt, reported when it ends.
struct ConnLog {
    std::uint64_t id = 0;
    Endpoint client, server;
    tcp::ConnL2 l2;          // the client's SYN seen from the proxy: local = the server's MAC, peer = the client's
    const char* end = "";    // clean, reset_client, reset_server, refused, silent, error, client_gone, aborted
    std::uint64_t c2s = 0;   // bytes relayed client -> server
    std::uint64_t s2c = 0;
    Duration duration = Duration::zero();
};
// One line: "conn id=.. client=A:P server=A:P mac=.. vlans=88a8:100,8100:200 end=.. c2s=.. s2c=.. ms=.."
std::string format_log(const ConnLog& c);

// What the first-look hook reads from a frame: an unfragmented IPv4 TCP
// segment's endpoints, flags and tag stack (nullopt for anything else).
struct TcpPeek {
    Endpoint src, dst;
    std::uint8_t flags = 0;
    wire::VlanStack vlans;
};
std::optional<TcpPeek> peek_tcp(Bytes frame);

class TransparentProxy {
public:
    using LogFn = std::function<void(const ConnLog&)>;

    TransparentProxy(Stack& stack, ProxyConfig cfg, LogFn log = {});
    ~TransparentProxy();  // stop()
    TransparentProxy(const TransparentProxy&) = delete;
    TransparentProxy& operator=(const TransparentProxy&) = delete;

    // Hooks and the listener; an error message if the configuration is
    // unusable (unknown or equal interfaces, listener refused).
    Result<void, std::string> start();
    // Removes the hooks, closes the listener, resets every connection.
    void stop();

    // Runs the timeouts; returns the next instant poll() wants.
    Instant poll(Instant now);
    Instant next_deadline() const;

    const ProxyCounters& counters() const { return ctr_; }
    std::size_t pending() const;  // waiting for the server or for the client's handshake
    std::size_t active() const { return splicer_.live(); }
    const SpliceCounters& splice_counters() const { return splicer_.counters(); }
    // Every counter as (name, value), gauges included.
    template <class F>
    void visit_counters(F&& f) const;
    // {"syns":..,...,"pending":..,"active":..}
    std::string counters_json() const;

private:
    enum class Phase : std::uint8_t { queued, connecting, accepting, relaying };
    struct Conn {
        std::uint64_t id = 0;
        Phase phase = Phase::queued;
        tcp::SynHandle handle = 0;
        SocketId out;  // to the server
        Endpoint client, server;
        tcp::ConnL2 l2;
        Instant start, deadline = Instant::never();
    };
    // The client-side connection's identity: (client, server, tags).
    struct Key {
        std::uint64_t ends;  // client addr, server addr
        std::uint32_t ports;
        wire::VlanStack vlans;
        bool operator<(const Key& o) const;
    };
    static Key key_of(Endpoint client, Endpoint server, const wire::VlanStack& vlans);

    net::FirstLookVerdict look(net::IfIndex in, Bytes frame);
    tcp::SynVerdict on_syn(const tcp::SynInfo& syn);
    void open_queued();
    void open_server_side(Conn& c);
    void on_out_event(std::uint64_t id);
    void on_listener();
    void verdict(Conn& c, tcp::SynVerdict v);
    void arm(Conn& c, Instant deadline);
    void end(std::uint64_t id, const char* how, std::uint64_t c2s = 0, std::uint64_t s2c = 0);

    Stack& stack_;
    ProxyConfig cfg_;
    LogFn log_;
    Splicer splicer_;
    ProxyCounters ctr_;
    SocketId listener_;
    bool started_ = false;
    std::shared_ptr<bool> alive_;  // posted work checks it: the proxy may be gone
    std::uint64_t next_id_ = 1;
    std::unordered_map<std::uint64_t, std::unique_ptr<Conn>> conns_;
    std::vector<std::uint64_t> queued_;                 // deferred SYNs whose server side is not open yet
    std::map<Key, std::uint64_t> accepting_;            // accepted by the server, client handshake awaited
    std::set<std::pair<Instant, std::uint64_t>> timers_;
    std::size_t connecting_ = 0;                        // queued + connecting
};

template <class F>
void TransparentProxy::visit_counters(F&& f) const {
#define UINET_PROXY_VISIT(n) f(#n, ctr_.n);
    UINET_PROXY_COUNTERS(UINET_PROXY_VISIT)
#undef UINET_PROXY_VISIT
    f("pending", static_cast<std::uint64_t>(pending()));
    f("active", static_cast<std::uint64_t>(active()));
}

}  // namespace uinet::proxy
