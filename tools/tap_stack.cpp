// tools/tap_stack.cpp — a uinet stack on a TAP device (see tap_stack.hpp).
#include "tap_stack.hpp"

#include <sys/epoll.h>
#include <time.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>

#include "link/pcap_writer.hpp"
#include "link/tap.hpp"

namespace uinet::tools {

namespace {

sigset_t stop_signals() {
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    return sigs;
}

}  // namespace

MacAddr random_local_mac(Random& r) {
    std::array<std::uint8_t, 6> b{};
    r.fill(b);
    b[0] = static_cast<std::uint8_t>((b[0] & 0xfe) | 0x02);  // unicast, locally administered
    return MacAddr(b);
}

Duration wall_minus_monotonic() {
    timespec rt{}, mt{};
    clock_gettime(CLOCK_REALTIME, &rt);
    clock_gettime(CLOCK_MONOTONIC, &mt);
    return Duration::seconds(rt.tv_sec - mt.tv_sec) + Duration::nanos(rt.tv_nsec - mt.tv_nsec);
}

void block_stop_signals() {
    const sigset_t sigs = stop_signals();
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
}

SignalThread::SignalThread(std::function<void()> on_signal) {
    thread_ = std::thread([this, fn = std::move(on_signal)] {
        const sigset_t sigs = stop_signals();
        int sig = 0;
        sigwait(&sigs, &sig);
        if (closing_.load()) return;
        signalled_ = true;
        if (fn) fn();
    });
}

SignalThread::~SignalThread() {
    closing_ = true;
    // Wakes the sigwait if no signal came (the signal is blocked everywhere,
    // so it only ends the wait).
    if (!signalled_) pthread_kill(thread_.native_handle(), SIGTERM);
    thread_.join();
}

void add_tap_options(CLI::App& cmd, TapArgs& a) {
    cmd.add_option("--tap", a.tap, "TAP device to attach to (created if missing)")->required();
    cmd.add_option("--addr", a.addr, "Address and prefix of the stack, e.g. 198.18.0.2/24")->required();
    cmd.add_option("--gateway", a.gateway, "Default gateway");
    cmd.add_option("--pcap", a.pcap, "Write a capture of every frame to this file");
    cmd.add_option("--mac", a.mac, "MAC address of the stack (default: random, locally administered)");
    cmd.add_flag("--no-offload", a.no_offload,
                 "Plain TAP frames: no checksum offload or TSO through the virtio-net header");
    cmd.add_option("--loss", a.loss,
                   "Drop each frame in each direction with this probability (0..1; seeded, implies --no-offload)")
        ->check(CLI::Range(0.0, 1.0));
    cmd.add_option("--reorder", a.reorder,
                   "Hold each frame back behind the next one with this probability (0..1; implies --no-offload)")
        ->check(CLI::Range(0.0, 1.0));
    cmd.add_option("--loss-seed", a.loss_seed, "Seed of the --loss/--reorder decisions (default 1)");
}

Result<std::unique_ptr<TapStack>, int> TapStack::open(const TapArgs& args, const char* cmd, StackOptions opts) {
    auto cidr = Ipv4Cidr::parse(args.addr);
    if (!cidr || args.addr.find('/') == std::string::npos || cidr->addr.is_any() || cidr->prefix_len == 0) {
        std::fprintf(stderr, "uinet %s: bad address '%s' (expected A.B.C.D/NN, e.g. 198.18.0.2/24)\n", cmd,
                     args.addr.c_str());
        return Err{2};
    }
    std::optional<Ipv4Addr> gw;
    if (!args.gateway.empty()) {
        gw = Ipv4Addr::parse(args.gateway);
        if (!gw || !cidr->contains(*gw)) {
            std::fprintf(stderr, "uinet %s: bad gateway '%s' (must be an address inside %s)\n", cmd,
                         args.gateway.c_str(), cidr->to_string().c_str());
            return Err{2};
        }
    }
    std::optional<MacAddr> mac;
    if (!args.mac.empty()) {
        mac = MacAddr::parse(args.mac);
        if (!mac || mac->is_multicast() || mac->is_zero()) {
            std::fprintf(stderr, "uinet %s: bad MAC address '%s' (expected a unicast xx:xx:xx:xx:xx:xx)\n", cmd,
                         args.mac.c_str());
            return Err{2};
        }
    }

    std::unique_ptr<TapStack> ts(new TapStack());
    ts->cidr_ = *cidr;
    ts->stack_ = std::make_unique<Stack>(ts->ph_.host(), std::move(opts));
    Stack& stack = *ts->stack_;
    if (args.loss + args.reorder > 1.0) {
        std::fprintf(stderr, "uinet %s: --loss and --reorder add up to more than 1\n", cmd);
        return Err{2};
    }
    const bool faulty = args.loss > 0 || args.reorder > 0;
    TapOptions to;
    // A fault acts on whole frames: with offloads one frame may be a GSO
    // super-frame of up to 64 KiB, so faults use plain MTU-sized frames.
    to.offloads = !args.no_offload && !faulty;
    auto tap = TapDevice::open(args.tap, stack.pool(), to);
    if (!tap) {
        std::fprintf(stderr, "uinet %s: %s\n", cmd, tap.error().c_str());
        return Err{1};
    }
    std::unique_ptr<Device> dev = std::move(*tap);
    if (!args.pcap.empty()) {
        auto w = PcapWriter::create(args.pcap);
        if (!w) {
            std::fprintf(stderr, "uinet %s: %s\n", cmd, w.error().c_str());
            return Err{1};
        }
        dev = std::make_unique<PcapCapture>(std::move(dev), std::move(*w), wall_minus_monotonic());
    }
    if (faulty) {
        FaultConfig fc;
        fc.drop = args.loss;
        fc.reorder = args.reorder;
        fc.seed = args.loss_seed;
        fc.on_transmit = fc.on_receive = true;
        auto f = std::make_unique<FaultInjector>(std::move(dev), stack.pool(), fc);
        ts->faults_ = f.get();
        dev = std::move(f);
    }
    net::InterfaceConfig ic;
    ic.name = args.tap;
    ic.mac = mac ? *mac : random_local_mac(ts->ph_.random);
    ic.ipv4 = {*cidr};
    stack.add_interface(std::move(dev), ic);
    if (gw) stack.add_route(Ipv4Cidr{Ipv4Addr::any(), 0}, *gw);
    return ts;
}

std::string TapStack::faults_json() const {
    if (!faults_) return "null";
    const FaultStats& f = faults_->fault_stats();
    char b[320];
    std::snprintf(b, sizeof b,
                  "{\"tx_frames\":%llu,\"tx_dropped\":%llu,\"tx_reordered\":%llu,"
                  "\"rx_frames\":%llu,\"rx_dropped\":%llu,\"rx_reordered\":%llu}",
                  static_cast<unsigned long long>(f.tx.frames), static_cast<unsigned long long>(f.tx.dropped),
                  static_cast<unsigned long long>(f.tx.reordered), static_cast<unsigned long long>(f.rx.frames),
                  static_cast<unsigned long long>(f.rx.dropped), static_cast<unsigned long long>(f.rx.reordered));
    return b;
}

bool drive_until(Stack& s, Clock& clock, const std::function<bool()>& done, Instant deadline,
                 const std::function<Instant(Instant)>& extra) {
    epoll_event evs[16];
    for (;;) {
        Instant next = s.poll(clock.now());
        if (extra) next = earliest(next, extra(clock.now()));
        if (done()) return true;
        const Instant t = earliest(next, deadline);
        const Instant n = clock.now();
        if (n >= deadline) return done();
        const Duration wait = t - n;
        // At most a second per sleep: a far or absent deadline never overflows.
        const std::int64_t ms = wait <= Duration::zero() ? 0 : (wait.ns() + 999999) / 1000000;
        const int timeout_ms = static_cast<int>(std::min<std::int64_t>(ms, 1000));
        if (::epoll_wait(s.event_fd(), evs, 16, timeout_ms) < 0 && errno != EINTR) return done();
    }
}

bool TapStack::drive_until(const std::function<bool()>& done, Instant deadline) {
    return tools::drive_until(*stack_, *ph_.host().clock, done, deadline);
}

}  // namespace uinet::tools
