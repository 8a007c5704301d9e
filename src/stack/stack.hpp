// stack/stack.hpp — a uinet stack instance.
//
// Contract (DESIGN.md principle 6):
//  * A Stack is one independent instance: its own buffers, interfaces,
//    protocol state and counters; nothing is global, so a process may hold
//    many. All of its state is touched by one thread at a time: the thread
//    that calls poll() (the fast path: callbacks and non-blocking calls),
//    or the thread inside run().
//  * poll(now) is one iteration: drain the mailbox, receive a batch from
//    every device, run due timers, deliver socket events, flush transmit
//    batches. It returns the next instant it needs to be called at (time is
//    passed in: with a virtual clock the same calls replay exactly).
//  * run() drives poll() in real time from the host clock, sleeping in
//    epoll on the devices' and the mailbox's descriptors until the next
//    deadline; stop() (any thread) ends it.
//  * post() runs a function on the stack's thread; call() does so and waits
//    for the result, failing with CallError::deadlock on the stack's own
//    thread and CallError::not_running when no thread drives the stack.
#pragma once

#include <atomic>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "base/result.hpp"
#include "buf/packet.hpp"
#include "host/host.hpp"
#include "link/device.hpp"
#include "net/net.hpp"
#include "socket/socket_table.hpp"
#include "socket/tcp_socket.hpp"
#include "socket/udp_socket.hpp"
#include "stack/mailbox.hpp"
#include "tcp/tcp_layer.hpp"
#include "udp/udp.hpp"

namespace uinet {

struct StackOptions {
    std::string name = "uinet";
    PoolConfig pool{.count = 8192, .buf_size = 2048, .headroom = 192};
    net::NetConfig net;
    udp::UdpConfig udp;
    tcp::TcpConfig tcp;
    std::size_t rx_batch = 64;  // frames taken from a device per poll
};

enum class CallError : std::uint8_t { deadlock, not_running, cancelled };
int to_errno(CallError e);

class Stack {
public:
    explicit Stack(const Host& host, StackOptions opts = {});
    ~Stack();
    Stack(const Stack&) = delete;
    Stack& operator=(const Stack&) = delete;

    const std::string& name() const { return opts_.name; }

    // Configuration (on the stack's thread, or before it runs).
    net::IfIndex add_interface(std::unique_ptr<Device> dev, net::InterfaceConfig cfg);
    // A route via gateway; ifindex 0 picks the interface whose subnet holds it.
    bool add_route(Ipv4Cidr dst, Ipv4Addr gateway, net::IfIndex ifindex = 0);
    // Installs (or, with an empty hook, removes) the first-look hook of an
    // interface (net/first_look.hpp); false if there is no such interface.
    bool set_first_look(net::IfIndex ifindex, net::FirstLookHook hook);
    // The inline position (stack/inline.cpp, docs/passive.md): a bump in
    // the wire between a client-side and a server-side interface. Installs
    // both first-look hooks: a frame of a connection the stack owns (a
    // cut-in, a takeover, an accepted one) is taken; a frame of a watched
    // flow, or a client's SYN that a passive listener matches, is bridged
    // and observed; a client's SYN that a terminating listener would take
    // is taken (its SYN filter decides, accept_passive included); a frame
    // from an endpoint the stack impersonates towards the other side (a
    // taken-over handshake's server) is dropped; all else is bridged
    // unchanged. False if either interface does not exist.
    bool set_inline(net::IfIndex client_if, net::IfIndex server_if);

    // One iteration at `now`; returns the next deadline.
    Instant poll(Instant now);
    Instant next_deadline() const;
    Instant now() const { return now_; }

    // Real-time loop on the calling thread until stop().
    void run();
    void stop();
    bool running() const { return running_.load(std::memory_order_acquire); }

    // Cross-thread calls.
    // Runs fn on the stack's thread at its next iteration (before run()
    // starts, at its first one).
    void post(std::function<void()> fn);
    template <class F>
    auto call(F&& f) -> Result<std::conditional_t<std::is_void_v<std::invoke_result_t<F>>, bool, std::invoke_result_t<F>>, CallError>;
    bool on_stack_thread() const;
    // A deferred SYN's verdict from any thread: applied at once on the
    // stack's thread, else posted to the mailbox (applied at the next
    // iteration; a stale handle is then counted, tcp.synf_stale_verdict).
    void post_syn_verdict(tcp::SynHandle h, tcp::SynVerdict v);

    // A descriptor readable when the stack has work (mailbox or devices).
    int event_fd() const { return epfd_; }

    UdpSockets& udp() { return udp_sockets_; }
    TcpSockets& tcp() { return tcp_sockets_; }
    tcp::TcpLayer& tcp_layer() { return tcp_; }
    const tcp::TcpLayer& tcp_layer() const { return tcp_; }
    net::NetLayer& net() { return net_; }
    const net::NetLayer& net() const { return net_; }
    udp::UdpLayer& udp_layer() { return udp_; }
    Pool& pool() { return pool_; }
    const Host& host() const { return host_; }

    // Every counter of the stack as (name, value), for dumps and tests.
    template <class F>
    void visit_counters(F&& f) const;
    std::string counters_json() const;

private:
    void watch_fd(int fd);

    Host host_;
    StackOptions opts_;
    Pool pool_;
    net::NetLayer net_;
    udp::UdpLayer udp_;
    tcp::TcpLayer tcp_;
    SocketTable sockets_;
    UdpSockets udp_sockets_;
    TcpSockets tcp_sockets_;
    Mailbox mailbox_;
    std::vector<Packet> rxbuf_;
    Instant now_{};
    int epfd_ = -1;
    std::atomic<bool> running_{false};
    std::atomic<bool> stop_{false};
    std::atomic<std::thread::id> loop_thread_{};
    std::uint64_t polls_ = 0;
};

template <class F>
auto Stack::call(F&& f)
    -> Result<std::conditional_t<std::is_void_v<std::invoke_result_t<F>>, bool, std::invoke_result_t<F>>, CallError> {
    using R = std::invoke_result_t<F>;
    using V = std::conditional_t<std::is_void_v<R>, bool, R>;
    if (on_stack_thread()) return Err{CallError::deadlock};
    if (!running()) return Err{CallError::not_running};
    auto prom = std::make_shared<std::promise<std::optional<V>>>();
    auto fut = prom->get_future();
    // A closed mailbox (the loop has ended) refuses the call instead of
    // leaving us waiting for a loop that will never drain it.
    const bool posted = mailbox_.post([prom, fn = std::forward<F>(f)](bool cancelled) mutable {
        if (cancelled) {
            prom->set_value(std::nullopt);
            return;
        }
        if constexpr (std::is_void_v<R>) {
            fn();
            prom->set_value(true);
        } else {
            prom->set_value(fn());
        }
    }, true);
    if (!posted) return Err{CallError::not_running};
    std::optional<V> v = fut.get();
    if (!v) return Err{CallError::cancelled};
    return std::move(*v);
}

template <class F>
void Stack::visit_counters(F&& f) const {
    net_.counters().visit([&](const char* n, std::uint64_t v) { f("net", n, v); });
    udp_.counters().visit([&](const char* n, std::uint64_t v) { f("udp", n, v); });
    tcp_.counters().visit([&](const char* n, std::uint64_t v) { f("tcp", n, v); });
    f("tcp", "connections", tcp_.connections());
    f("tcp", "time_wait_now", tcp_.time_wait_count());
    f("tcp", "buffer_bytes_now", tcp_.buffer_bytes());
    f("tcp", "buffer_bytes_peak", tcp_.buffer_bytes_peak());
    f("tcp", "synf_deferred_now", tcp_.deferred_syns());
    if (const tcp::PassiveEngine* pe = tcp_.passive_engine()) {
        pe->counters().visit([&](const char* n, std::uint64_t v) { f("passive", n, v); });
        f("passive", "flows_now", pe->flows());
        f("passive", "memory_now", pe->memory());
    }
    const net::ReassemblyStats& r = net_.reassembly_stats();
    f("reassembly", "fragments_in", r.fragments_in);
    f("reassembly", "datagrams_done", r.datagrams_done);
    f("reassembly", "dropped_overlap", r.dropped_overlap);
    f("reassembly", "dropped_too_big", r.dropped_too_big);
    f("reassembly", "dropped_limits", r.dropped_limits);
    f("reassembly", "timed_out", r.timed_out);
    f("reassembly", "dropped_invalid", r.dropped_invalid);
    const PoolStats& p = pool_.stats();
    f("pool", "allocs", p.allocs);
    f("pool", "alloc_failures", p.alloc_failures);
    f("pool", "in_use", p.in_use);
    f("pool", "capacity", p.capacity);
    for (const auto& ifc : net_.interfaces()) {
        const DeviceStats& d = ifc->device().stats();
        std::string pfx = "dev." + ifc->name();
        f(pfx.c_str(), "rx_packets", d.rx_packets);
        f(pfx.c_str(), "rx_bytes", d.rx_bytes);
        f(pfx.c_str(), "rx_dropped", d.rx_dropped);
        f(pfx.c_str(), "rx_errors", d.rx_errors);
        f(pfx.c_str(), "tx_packets", d.tx_packets);
        f(pfx.c_str(), "tx_bytes", d.tx_bytes);
        f(pfx.c_str(), "tx_dropped", d.tx_dropped);
        f(pfx.c_str(), "tx_errors", d.tx_errors);
    }
}

}  // namespace uinet
