// tools/perf_uinet_tap.cpp — uinet on a TAP device against the kernel, for
// `uinet perf --uinet tap` (see perf.hpp).
//
// One Stack in this process (198.18.101.2/24) on a TAP device made for the
// run inside the namespace `tap_ns` (the device is created from a thread
// that entered the namespace, so it never appears in the process's own;
// its descriptor works from any thread). The kernel side of the device has
// 198.18.101.1/24 and no offloads to offer a TAP without a virtio-net
// header: frames are plain, checksummed, at most MTU bytes. uinet is the
// client/sender (the applications of perf_uinet_apps.hpp on its one stack
// thread, pinned to cpu_a); a KernelServer thread inside the namespace
// (pinned to cpu_b) is the server/receiver. The device vanishes when the
// run's stack closes it; the namespace goes with PerfNet.
#include <chrono>
#include <memory>
#include <thread>

#include "host/posix.hpp"
#include "link/tap.hpp"
#include "perf.hpp"
#include "perf_net.hpp"
#include "perf_uinet_apps.hpp"
#include "stack/stack.hpp"

namespace uinet::tools::perf {

namespace {

using Clock = std::chrono::steady_clock;

class TapRig {
public:
    explicit TapRig(const Config& c) {
        StackOptions o;
        const std::size_t frame = std::size_t{c.mtu} + 14 + 64 + o.pool.headroom;
        if (frame > o.pool.buf_size) {
            o.pool.buf_size = (frame + 1023) / 1024 * 1024;
            o.pool.count = 4096;
        }
        if (c.sockbuf) o.tcp.sndbuf = o.tcp.rcvbuf = c.sockbuf;
        sndbuf_ = o.tcp.sndbuf;
        rcvbuf_ = o.tcp.rcvbuf;
        o.name = "uinet-tap";
        s_ = std::make_unique<Stack>(h_.host(), o);
    }
    ~TapRig() { stop(); }
    TapRig(const TapRig&) = delete;
    TapRig& operator=(const TapRig&) = delete;

    // Makes the device inside the namespace, addresses its kernel side and
    // attaches the stack to it.
    bool open(const Config& c, std::string& error) {
        std::unique_ptr<TapDevice> dev;
        std::string err;
        const bool entered = in_netns(
            c.tap_ns,
            [&] {
                TapOptions to;
                to.offloads = c.offload;  // virtio-net header: checksum offload and TSO both ways
                auto t = TapDevice::open(c.tap_name, s_->pool(), to);
                if (t)
                    dev = std::move(*t);
                else
                    err = t.error();
            },
            err);
        if (!entered || !dev) {
            error = "uinet tap: " + (err.empty() ? std::string("cannot open the TAP device") : err);
            return false;
        }
        const std::string kernel_cidr = ip4_text(c.tap_kernel_ip) + "/" + std::to_string(kTapPrefix);
        if (!run_ip({"-n", c.tap_ns, "addr", "add", kernel_cidr, "dev", c.tap_name}) ||
            !run_ip({"-n", c.tap_ns, "link", "set", "dev", c.tap_name, "mtu", std::to_string(c.mtu)})) {
            error = "uinet tap: cannot configure " + c.tap_name + " in " + c.tap_ns;
            return false;
        }
        in_netns(c.tap_ns, [&] { (void)dev->refresh_mtu(); }, err);
        net::InterfaceConfig ic;
        ic.name = c.tap_name;
        ic.mac = MacAddr({0x02, 0, 0, 0, 0x65, 0x02});
        ic.ipv4 = {Ipv4Cidr{Ipv4Addr(c.tap_uinet_ip), static_cast<std::uint8_t>(kTapPrefix)}};
        s_->add_interface(std::move(dev), ic);
        return true;
    }

    Stack& stack() { return *s_; }
    std::size_t sndbuf() const { return sndbuf_; }
    std::size_t rcvbuf() const { return rcvbuf_; }

    bool start(const Config& c) {
        t_ = h_.threads.start("perf-client", [this, cpu = c.cpu_a] {
            pin_self(cpu);
            s_->run();
        });
        if (!t_) return false;
        while (!s_->running()) std::this_thread::yield();
        return true;
    }
    void stop() {
        if (t_) {
            s_->stop();
            t_->join();
            t_.reset();
        }
    }

    // After stop().
    std::uint64_t segments() const { return s_->tcp_layer().counters().segs_out; }
    std::uint64_t retransmits() const { return s_->tcp_layer().counters().retransmits; }
    std::uint64_t dropped_frames() {
        std::uint64_t n = 0;
        for (const auto& ifc : s_->net().interfaces()) {
            const DeviceStats& d = ifc->device().stats();
            n += d.tx_dropped + d.tx_errors + d.rx_dropped;
        }
        return n + s_->pool().stats().alloc_failures;
    }

private:
    PosixHost h_;
    std::unique_ptr<Stack> s_;
    std::unique_ptr<Thread> t_;
    std::size_t sndbuf_ = 0, rcvbuf_ = 0;
};

// The common frame of the three runs: rig, kernel server, client app.
struct TapRun {
    TapRig rig;
    KernelServer srv;
    std::promise<void> start;
    std::shared_future<void> go = start.get_future().share();
    std::string error;

    explicit TapRun(const Config& c) : rig(c) {}
    bool setup(const Config& c, int backlog) {
        if (!rig.open(c, error)) return false;
        if (!srv.listen(c, c.tap_ns, c.tap_kernel_ip, backlog)) {
            error = srv.error();
            return false;
        }
        return true;
    }
    Endpoint target(const Config& c) const { return {Ipv4Addr(c.tap_kernel_ip), Port(srv.port())}; }
    bool start_stack(const Config& c) {
        if (rig.start(c)) return true;
        error = "uinet: cannot start the stack thread";
        return false;
    }
};

double secs_between(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

}  // namespace

BulkResult tap_bulk(const Config& c) {
    BulkResult res;
    TapRun run(c);
    if (!run.setup(c, static_cast<int>(c.conns) + 16)) {
        res.error = run.error;
        return res;
    }
    Completion done;  // the kernel receiver ends the test; the sender only fails it
    apps::BulkSender sender(run.rig.stack(), c, done, run.target(c));
    run.srv.start(KernelServer::Kind::discard, c, run.go, &done);
    if (!run.start_stack(c)) {
        run.srv.stop();
        run.start.set_value();
        res.error = run.error;
        return res;
    }
    const Cpu cpu0 = process_cpu();
    const auto t0 = Clock::now();
    run.start.set_value();
    run.rig.stack().post([&sender] { sender.start(); });
    const bool finished = done.wait(c.timeout_secs);
    const auto t1 = Clock::now();
    const Cpu cpu1 = process_cpu();
    run.srv.stop();
    run.srv.join();
    run.rig.stop();
    res.ok = finished && done.ok();
    res.error = done.error();
    res.secs = secs_between(t0, t1);
    res.cpu = cpu1 - cpu0;
    res.bytes = run.srv.bytes();
    res.segments = run.rig.segments();
    res.retransmits = run.rig.retransmits();
    res.dropped_frames = run.rig.dropped_frames();
    res.sndbuf = run.rig.sndbuf();
    res.rcvbuf = run.rig.rcvbuf();
    return res;
}

RrResult tap_rr(const Config& c) {
    RrResult res;
    TapRun run(c);
    if (!run.setup(c, 4)) {
        res.error = run.error;
        return res;
    }
    Completion done;
    apps::RrClient client(run.rig.stack(), c, done, run.target(c));
    run.srv.start(KernelServer::Kind::echo, c, run.go);
    run.start.set_value();
    if (!run.start_stack(c)) {
        res.error = run.error;
        return res;
    }
    const Cpu cpu0 = process_cpu();
    run.rig.stack().post([&client] { client.start(); });
    const bool finished = done.wait(c.timeout_secs);
    const Cpu cpu1 = process_cpu();
    run.srv.stop();
    run.srv.join();
    run.rig.stop();
    res.ok = finished && done.ok();
    res.error = res.ok || !done.error().empty() ? done.error() : run.srv.error();
    res.cpu = cpu1 - cpu0;
    res.transactions = client.latencies().size();
    res.secs = res.transactions ? client.secs() : 0;
    latency_stats(client.latencies(), res);
    res.segments = run.rig.segments();
    res.retransmits = run.rig.retransmits();
    return res;
}

RrResult tap_crr(const Config& c) {
    RrResult res;
    TapRun run(c);
    if (!run.setup(c, static_cast<int>(c.crr_conc) + 64)) {
        res.error = run.error;
        return res;
    }
    Completion done;  // the client ends the test; a failing server resets it
    apps::CrrClient client(run.rig.stack(), c, done, run.target(c));
    run.srv.start(KernelServer::Kind::crr, c, run.go);
    run.start.set_value();
    if (!run.start_stack(c)) {
        res.error = run.error;
        return res;
    }
    const Cpu cpu0 = process_cpu();
    run.rig.stack().post([&client] { client.start(); });
    const bool finished = done.wait(c.timeout_secs);
    const Cpu cpu1 = process_cpu();
    run.srv.stop();
    run.srv.join();
    run.rig.stop();
    res.ok = finished && done.ok() && client.latencies().size() == c.crr_count;
    res.error = !done.error().empty() ? done.error() : run.srv.error();
    res.cpu = cpu1 - cpu0;
    res.transactions = client.latencies().size();
    res.secs = res.transactions ? client.secs() : 0;
    latency_stats(client.latencies(), res);
    res.segments = run.rig.segments();
    res.retransmits = run.rig.retransmits();
    res.time_wait_budget = run.rig.stack().tcp_layer().counters().time_wait_budget;
    res.time_wait_reuse = run.rig.stack().tcp_layer().counters().time_wait_reuse;
    return res;
}

BulkResult tap_bulk_rx(const Config& c) {
    BulkResult res;
    TapRig rig(c);
    if (!rig.open(c, res.error)) return res;
    Completion done;  // the uinet receiver ends the test; the kernel sender only fails it
    apps::DiscardServer server(rig.stack(), c, done);
    if (!apps::listen_on(rig.stack(), [&server](SocketId id) { server.accepted(id); })) {
        res.error = "uinet: cannot listen";
        return res;
    }
    if (!rig.start(c)) {
        rig.stop();
        res.error = "uinet: cannot start the stack thread";
        return res;
    }
    Config kc = c;
    kc.kernel_client_ns = c.tap_ns;
    kc.cpu_a = c.cpu_b;  // the kernel thread takes the server's CPU, uinet's stack thread the client's
    std::promise<void> start;
    std::shared_future<void> go = start.get_future().share();
    std::thread tx([&] {
        std::string e = kernel_send(kc, c.tap_uinet_ip, apps::kPort, go);
        if (!e.empty()) done.fail(e);
    });
    const Cpu cpu0 = process_cpu();
    const auto t0 = Clock::now();
    start.set_value();
    const bool finished = done.wait(c.timeout_secs);
    const auto t1 = Clock::now();
    const Cpu cpu1 = process_cpu();
    if (!finished || !done.ok()) rig.stop();  // a sender blocked on a stopped peer then times out
    tx.join();
    rig.stop();
    res.ok = finished && done.ok();
    res.error = done.error();
    res.secs = secs_between(t0, t1);
    res.cpu = cpu1 - cpu0;
    res.bytes = server.bytes();
    res.segments = rig.segments();
    res.retransmits = rig.retransmits();
    res.dropped_frames = rig.dropped_frames();
    res.sndbuf = rig.sndbuf();
    res.rcvbuf = rig.rcvbuf();
    return res;
}

}  // namespace uinet::tools::perf
