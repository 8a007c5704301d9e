// tools/perf_uinet.cpp — the uinet half of `uinet perf` (see perf.hpp).
//
// Two Stacks in this process, "client" (198.18.0.1) and "server"
// (198.18.0.2), joined by a mem pipe with no delay and unlimited bandwidth,
// each driven by Stack::run() on its own thread. The applications (bulk
// sender, discard receiver, request/response client and echo server, short
// connection client and server: perf_uinet_apps.hpp) are small state
// machines run from socket upcalls on the stack threads; they are armed
// with post() once the loops run. The main thread only waits on a
// Completion, so the process CPU time is the two stack threads'. (The TAP
// variant, one stack against a kernel peer, is perf_uinet_tap.cpp.)
#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>
#include <unordered_map>
#include <vector>

#include "host/posix.hpp"
#include "link/mem_pipe.hpp"
#include "perf.hpp"
#include "perf_uinet_apps.hpp"
#include "stack/stack.hpp"

namespace uinet::tools::perf {

namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr Ipv4Addr kClientIp = Ipv4Addr::of(198, 18, 0, 1);
constexpr Ipv4Addr kServerIp = Ipv4Addr::of(198, 18, 0, 2);
using apps::BulkSender;
using apps::CrrClient;
using apps::CrrServer;
using apps::DiscardServer;
using apps::EchoServer;
using apps::RrClient;
using apps::listen_on;

double secs_between(SteadyClock::time_point a, SteadyClock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

// The two stacks, their link and their loop threads.
class UinetPair {
public:
    explicit UinetPair(const Config& c) {
        StackOptions o;
        // Jumbo frames fit in one pool buffer, as on a NIC with jumbo rings.
        const std::size_t frame = std::size_t{c.mtu} + 14 + 64 + o.pool.headroom;
        if (frame > o.pool.buf_size) {
            o.pool.buf_size = (frame + 1023) / 1024 * 1024;
            o.pool.count = 4096;
        }
        if (c.sockbuf) o.tcp.sndbuf = o.tcp.rcvbuf = c.sockbuf;
        if (c.offload) {
            // Frames in flight stay in the sender's pool (hand-over): room
            // for every connection's send window on top of the default.
            const std::size_t per_conn = o.tcp.sndbuf / (o.pool.buf_size / 2) + 16;
            o.pool.count = std::clamp<std::size_t>(o.pool.count + per_conn * c.conns, o.pool.count, 65536);
        }
        sndbuf_ = o.tcp.sndbuf;
        rcvbuf_ = o.tcp.rcvbuf;
        o.name = "client";
        a_ = std::make_unique<Stack>(ha_.host(), o);
        o.name = "server";
        b_ = std::make_unique<Stack>(hb_.host(), o);

        MemLinkConfig link;  // no delay, unlimited bandwidth
        link.mtu = c.mtu;
        if (c.offload) {
            // As the kernel's loopback: no checksums, 64 KiB segments, and
            // the pipe passes the sender's frame (one copy, not two).
            link.csum_offload = true;
            link.tso_max = 65535;
            link.hand_over = true;
        }
        // Room for every connection's full send window plus the ACKs, so
        // the link never drops: a drop would be the pipe's doing, not TCP's.
        const std::size_t mss = c.mtu > 100 ? c.mtu - 52 : 48;
        const std::size_t per_conn = o.tcp.sndbuf / mss + 64;
        link.queue_frames = std::clamp<std::size_t>(per_conn * c.conns * 2, 1024, 65536);
        auto [ea, eb] = make_mem_pipe(a_->pool(), b_->pool(), link, "mem0", "mem1");
        net::InterfaceConfig ca, cb;
        ca.name = "mem0";
        ca.mac = MacAddr({0x02, 0, 0, 0, 0, 0x01});
        ca.ipv4 = {Ipv4Cidr{kClientIp, 24}};
        cb.name = "mem1";
        cb.mac = MacAddr({0x02, 0, 0, 0, 0, 0x02});
        cb.ipv4 = {Ipv4Cidr{kServerIp, 24}};
        a_->add_interface(std::move(ea), ca);
        b_->add_interface(std::move(eb), cb);
    }
    ~UinetPair() { stop(); }
    UinetPair(const UinetPair&) = delete;
    UinetPair& operator=(const UinetPair&) = delete;

    Stack& client() { return *a_; }
    Stack& server() { return *b_; }
    std::size_t sndbuf() const { return sndbuf_; }
    std::size_t rcvbuf() const { return rcvbuf_; }

    // Starts both loops, pinned as configured, and returns once both run
    // (so post() is served).
    bool start(const Config& c) {
        ta_ = ha_.threads.start("perf-client", [this, cpu = c.cpu_a] {
            pin_self(cpu);
            a_->run();
        });
        tb_ = hb_.threads.start("perf-server", [this, cpu = c.cpu_b] {
            pin_self(cpu);
            b_->run();
        });
        if (!ta_ || !tb_) return false;
        while (!a_->running() || !b_->running()) std::this_thread::yield();
        return true;
    }
    void stop() {
        if (ta_) {
            a_->stop();
            ta_->join();
            ta_.reset();
        }
        if (tb_) {
            b_->stop();
            tb_->join();
            tb_.reset();
        }
    }

    // Totals over both stacks; call after stop().
    std::uint64_t segments() const {
        return a_->tcp_layer().counters().segs_out + b_->tcp_layer().counters().segs_out;
    }
    std::uint64_t retransmits() const {
        return a_->tcp_layer().counters().retransmits + b_->tcp_layer().counters().retransmits;
    }
    std::uint64_t dropped_frames() {
        std::uint64_t n = 0;
        for (Stack* s : {a_.get(), b_.get()}) {
            for (const auto& ifc : s->net().interfaces()) {
                const DeviceStats& d = ifc->device().stats();
                n += d.tx_dropped + d.tx_errors + d.rx_dropped;
            }
            n += s->pool().stats().alloc_failures;
        }
        return n;
    }

private:
    PosixHost ha_, hb_;
    std::unique_ptr<Stack> a_, b_;
    std::unique_ptr<Thread> ta_, tb_;
    std::size_t sndbuf_ = 0, rcvbuf_ = 0;
};

// Listens with `server` on the server stack and starts both stack threads;
// on failure says why in `error` (the threads are stopped again before the
// applications' state goes away).
template <class Server>
bool launch(UinetPair& pair, const Config& c, Server& server, std::string& error) {
    if (!listen_on(pair.server(), [&server](SocketId id) { server.accepted(id); })) {
        error = "uinet: cannot listen";
        return false;
    }
    if (!pair.start(c)) {
        pair.stop();
        error = "uinet: cannot start the stack threads";
        return false;
    }
    return true;
}

}  // namespace

BulkResult uinet_bulk(const Config& c) {
    BulkResult res;
    UinetPair pair(c);
    Completion done;
    DiscardServer server(pair.server(), c, done);
    BulkSender sender(pair.client(), c, done, {kServerIp, Port(apps::kPort)});
    if (!launch(pair, c, server, res.error)) return res;
    const Cpu cpu0 = process_cpu();
    const auto t0 = SteadyClock::now();
    pair.client().post([&sender] { sender.start(); });
    const bool finished = done.wait(c.timeout_secs);
    const auto t1 = SteadyClock::now();
    const Cpu cpu1 = process_cpu();
    pair.stop();  // the applications' state is read only after the loops ended
    res.ok = finished && done.ok();
    res.error = done.error();
    res.secs = secs_between(t0, t1);
    res.cpu = cpu1 - cpu0;
    res.bytes = server.bytes();
    res.segments = pair.segments();
    res.retransmits = pair.retransmits();
    res.dropped_frames = pair.dropped_frames();
    res.sndbuf = pair.sndbuf();
    res.rcvbuf = pair.rcvbuf();
    return res;
}

RrResult uinet_rr(const Config& c) {
    RrResult res;
    UinetPair pair(c);
    Completion done;
    EchoServer server(pair.server(), c);
    RrClient client(pair.client(), c, done, {kServerIp, Port(apps::kPort)});
    if (!launch(pair, c, server, res.error)) return res;
    const Cpu cpu0 = process_cpu();
    pair.client().post([&client] { client.start(); });
    const bool finished = done.wait(c.timeout_secs);
    const Cpu cpu1 = process_cpu();
    pair.stop();
    res.ok = finished && done.ok();
    res.error = done.error();
    res.cpu = cpu1 - cpu0;
    res.transactions = client.latencies().size();
    res.secs = res.transactions ? client.secs() : 0;
    latency_stats(client.latencies(), res);
    res.segments = pair.segments();
    res.retransmits = pair.retransmits();
    return res;
}

RrResult uinet_crr(const Config& c) {
    RrResult res;
    UinetPair pair(c);
    Completion done;
    CrrServer server(pair.server(), c, done);
    CrrClient client(pair.client(), c, done, {kServerIp, Port(apps::kPort)});
    if (!launch(pair, c, server, res.error)) return res;
    const Cpu cpu0 = process_cpu();
    pair.client().post([&client] { client.start(); });
    const bool finished = done.wait(c.timeout_secs);
    const Cpu cpu1 = process_cpu();
    pair.stop();
    res.ok = finished && done.ok() && client.latencies().size() == c.crr_count;
    res.error = done.error();
    res.cpu = cpu1 - cpu0;
    res.transactions = client.latencies().size();
    res.secs = res.transactions ? client.secs() : 0;
    latency_stats(client.latencies(), res);
    res.segments = pair.segments();
    res.retransmits = pair.retransmits();
    for (Stack* s : {&pair.client(), &pair.server()}) {
        res.time_wait_budget += s->tcp_layer().counters().time_wait_budget;
        res.time_wait_reuse += s->tcp_layer().counters().time_wait_reuse;
    }
    return res;
}

}  // namespace uinet::tools::perf
