// tools/serve.cpp — `uinet serve`: a uinet host on a TAP device.
//
// Answers ARP and ping, echoes UDP on port 7, prints `ready` once it
// answers, and on SIGTERM/SIGINT prints its counters as one JSON object and
// exits 0. Signals are taken by a dedicated thread (sigwait), which asks the
// stack to stop; the stack's loop runs on the main thread.
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "common.hpp"
#include "host/posix.hpp"
#include "link/pcap_writer.hpp"
#include "link/tap.hpp"
#include "services/stream_driver.hpp"
#include "stack/stack.hpp"

namespace uinet::tools {

namespace {

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

}  // namespace

int run_serve(const ServeArgs& args) {
    auto cidr = Ipv4Cidr::parse(args.addr);
    if (!cidr || args.addr.find('/') == std::string::npos || cidr->addr.is_any() || cidr->prefix_len == 0) {
        std::fprintf(stderr, "uinet serve: bad address '%s' (expected A.B.C.D/NN, e.g. 198.18.0.2/24)\n",
                     args.addr.c_str());
        return 2;
    }
    std::optional<Ipv4Addr> gw;
    if (!args.gateway.empty()) {
        gw = Ipv4Addr::parse(args.gateway);
        if (!gw || !cidr->contains(*gw)) {
            std::fprintf(stderr, "uinet serve: bad gateway '%s' (must be an address inside %s)\n",
                         args.gateway.c_str(), cidr->to_string().c_str());
            return 2;
        }
    }
    std::optional<MacAddr> mac;
    if (!args.mac.empty()) {
        mac = MacAddr::parse(args.mac);
        if (!mac || mac->is_multicast() || mac->is_zero()) {
            std::fprintf(stderr, "uinet serve: bad MAC address '%s' (expected a unicast xx:xx:xx:xx:xx:xx)\n",
                         args.mac.c_str());
            return 2;
        }
    }

    // Signals go to one thread only: block them before any thread starts.
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

    PosixHost ph;
    StackOptions opts;
    opts.name = "serve";
    opts.net.blackhole = args.blackhole;
    Stack stack(ph.host(), opts);

    auto tap = TapDevice::open(args.tap, stack.pool());
    if (!tap) {
        std::fprintf(stderr, "uinet serve: %s\n", tap.error().c_str());
        return 1;
    }
    std::unique_ptr<Device> dev = std::move(*tap);
    if (!args.pcap.empty()) {
        auto w = PcapWriter::create(args.pcap);
        if (!w) {
            std::fprintf(stderr, "uinet serve: %s\n", w.error().c_str());
            return 1;
        }
        dev = std::make_unique<PcapCapture>(std::move(dev), std::move(*w), wall_minus_monotonic());
    }
    net::InterfaceConfig ic;
    ic.name = args.tap;
    ic.mac = mac ? *mac : random_local_mac(*ph.host().random);
    ic.ipv4 = {*cidr};
    stack.add_interface(std::move(dev), ic);
    if (gw) stack.add_route(Ipv4Cidr{Ipv4Addr::any(), 0}, *gw);

    // UDP echo on port 7 (RFC 862).
    UdpSockets& u = stack.udp();
    SocketId echo = *u.open();
    if (auto r = u.bind(echo, {Ipv4Addr::any(), Port(7)}); !r) {
        std::fprintf(stderr, "uinet serve: cannot bind UDP port 7\n");
        return 1;
    }
    std::vector<std::uint8_t> buf(65536);
    u.set_upcall(echo, [&](SocketId id, std::uint32_t ev) {
        if (!(ev & event::readable)) return;
        while (auto r = u.recvfrom(id, buf)) (void)u.sendto(stack.now(), id, {buf.data(), r->size}, r->from);
    });

    // TCP services: echo (RFC 862), discard (RFC 863), chargen (RFC 864)
    // and the HTTP/1.1 test server.
    ServiceHost services(stack);
    const std::pair<std::uint16_t, ServiceFactory> tcp_services[] = {
        {7, [] { return services::make_echo(); }},
        {9, [] { return services::make_discard(); }},
        {19, [] { return services::make_chargen(); }},
        {80, [] { return services::make_http_server(); }},
    };
    for (const auto& [port, factory] : tcp_services) {
        if (!services.listen(port, factory)) {
            std::fprintf(stderr, "uinet serve: cannot listen on TCP port %u\n", port);
            return 1;
        }
    }

    std::atomic<bool> signalled{false};
    std::thread sig_thread([&] {
        int sig = 0;
        sigwait(&sigs, &sig);
        signalled = true;
        stack.stop();
    });
    // `ready` is printed from inside the loop: by then the stack answers.
    stack.post([&] {
        std::printf("ready\n");
        std::fflush(stdout);
    });
    stack.run();
    services.shutdown();
    u.close(echo);
    std::printf("%s\n", stack.counters_json().c_str());
    std::fflush(stdout);
    if (!signalled) pthread_kill(sig_thread.native_handle(), SIGTERM);
    sig_thread.join();
    return 0;
}

}  // namespace uinet::tools
