// tools/serve.cpp — `uinet serve`: a uinet host on a TAP device.
//
// Answers ARP and ping, echoes UDP on port 7, prints `ready` once it
// answers, and on SIGTERM/SIGINT prints its counters as one JSON object and
// exits 0. Signals are taken by a dedicated thread (sigwait), which asks the
// stack to stop; the stack's loop runs on the main thread.
#include <cstdio>
#include <memory>
#include <vector>

#include "common.hpp"
#include "services/stream_driver.hpp"
#include "stack/stack.hpp"
#include "tap_stack.hpp"

namespace uinet::tools {

int run_serve(const ServeArgs& args) {
    // Signals go to one thread only: block them before any thread starts.
    block_stop_signals();

    StackOptions opts;
    opts.name = "serve";
    opts.net.blackhole = args.blackhole;
    auto ts = TapStack::open(args, "serve", opts);
    if (!ts) return ts.error();
    Stack& stack = (*ts)->stack();

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

    SignalThread sig_thread([&] { stack.stop(); });
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
    return 0;
}

}  // namespace uinet::tools
