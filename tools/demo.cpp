// tools/demo.cpp — `uinet demo`: two stacks on an in-memory link.
//
// Runs in virtual time (a 1 Gb/s link with 1 ms of delay each way), so the
// figures are those of the simulated network and every run with the same
// seed prints the same thing.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "common.hpp"
#include "host/virtual.hpp"
#include "link/fault.hpp"
#include "link/mem_pipe.hpp"
#include "services/http_client.hpp"
#include "services/stream_driver.hpp"
#include "stack/stack.hpp"
#include "stack/trace_writer.hpp"

namespace uinet::tools {

namespace {

// Two stacks in virtual time on a 1 Gb/s mem link with 1 ms each way,
// 198.18.0.1 ("client", a) and 198.18.0.2 ("server", b), and `loss` on
// the client's device in both directions.
struct Pair {
    VirtualClock clock;
    SeededRandom rand_a, rand_b;
    Host host_a{}, host_b{};
    std::unique_ptr<Stack> a, b;

    Pair(std::uint64_t seed_a, std::uint64_t seed_b, StackOptions opts, MemLinkConfig link, double loss,
         std::uint64_t loss_seed)
        : rand_a(seed_a), rand_b(seed_b) {
        clock.set(Instant::from_ns(1'000'000'000));
        host_a.clock = host_b.clock = &clock;
        host_a.random = &rand_a;
        host_b.random = &rand_b;
        opts.name = "client";
        a = std::make_unique<Stack>(host_a, opts);
        opts.name = "server";
        b = std::make_unique<Stack>(host_b, opts);
        link.bandwidth_bps = 1'000'000'000;
        link.delay = Duration::millis(1);
        auto [end_a, end_b] = make_mem_pipe(a->pool(), b->pool(), link, "mem0", "mem1");
        std::unique_ptr<Device> dev_a = std::move(end_a);
        if (loss > 0) {
            FaultConfig fc;
            fc.drop = loss;
            fc.seed = loss_seed;
            fc.on_transmit = fc.on_receive = true;
            dev_a = std::make_unique<FaultInjector>(std::move(dev_a), a->pool(), fc);
        }
        net::InterfaceConfig ca, cb;
        ca.name = "mem0";
        ca.mac = *MacAddr::parse("02:00:00:00:00:01");
        ca.ipv4 = {Ipv4Cidr{ip_a, 24}};
        cb.name = "mem1";
        cb.mac = *MacAddr::parse("02:00:00:00:00:02");
        cb.ipv4 = {Ipv4Cidr{ip_b, 24}};
        a->add_interface(std::move(dev_a), ca);
        b->add_interface(std::move(end_b), cb);
    }

    // Runs both stacks until `done()` or until virtual `limit` passes.
    template <class F>
    bool run_until(F&& done, Duration limit) {
        Instant end = clock.now() + limit;
        while (!done()) {
            Instant now = clock.now();
            if (now > end) return false;
            a->poll(now);
            b->poll(now);  // deadlines only after both ran: each may have sent to the other
            if (done()) return true;
            Instant next = earliest(a->next_deadline(), b->next_deadline());
            if (next <= now) next = now + Duration::micros(1);
            if (next > end) next = end + Duration::micros(1);
            clock.set(next);
        }
        return true;
    }

    static constexpr Ipv4Addr ip_a = Ipv4Addr::of(198, 18, 0, 1);
    static constexpr Ipv4Addr ip_b = Ipv4Addr::of(198, 18, 0, 2);
};

void print_counters(const Stack& s) {
    std::printf("  counters of %s:\n", s.name().c_str());
    s.visit_counters([](const char* sec, const char* name, std::uint64_t v) {
        if (v != 0) std::printf("    %s.%s = %llu\n", sec, name, static_cast<unsigned long long>(v));
    });
}

// HTTP over TCP between two fresh stacks: a download of `down` bytes and a
// 100-continue upload of `up` bytes on one keep-alive connection, on a
// 1 Gb/s link with 1 ms each way and `loss` on the client's device.
struct HttpRun {
    bool ok = false;
    double secs = 0;
    std::uint64_t retransmits = 0;
};

HttpRun http_phase(double loss, std::uint64_t seed, std::uint64_t down, std::uint64_t up,
                   tcp::TraceSink* trace = nullptr) {
    StackOptions o;
    o.tcp.sndbuf = o.tcp.rcvbuf = 1 << 20;  // covers the 250 KB bandwidth-delay product
    MemLinkConfig link;
    link.queue_frames = 1024;
    Pair p(seed * 2 + 101, seed * 2 + 102, o, link, loss, seed);

    // The server's connections (the download's sender) report to `trace`.
    p.b->tcp_layer().set_trace(trace);
    ServiceHost server(*p.b), client(*p.a);
    server.listen(80, [] { return services::make_http_server(); });
    services::HttpRequestSpec get{"GET", "/bytes/" + std::to_string(down)};
    services::HttpRequestSpec put{"PUT", "/upload", up, false, true};
    auto session = services::make_http_session({get, put});
    services::HttpClient* raw = session.get();
    bool ended = false;
    HttpRun run;
    const Instant t0 = p.clock.now();
    client.connect({Pair::ip_b, Port(80)}, std::move(session), [&](bool ok) {
        ended = true;
        run.ok = ok && raw->ok();
        run.secs = (p.clock.now() - t0).secs();
    });
    p.run_until([&] { return ended; }, Duration::seconds(600));
    run.retransmits = p.a->tcp_layer().counters().retransmits + p.b->tcp_layer().counters().retransmits;
    client.shutdown();
    server.shutdown();
    return run;
}

}  // namespace

int run_demo(double loss, std::uint64_t seed, int pings, int datagrams, bool verbose, const std::string& trace,
             unsigned http_mb, double trace_sample_ms) {
    std::unique_ptr<TraceWriter> writer;
    if (!trace.empty() && !(writer = TraceWriter::open(trace))) {
        std::fprintf(stderr, "demo: cannot write the trace to %s: %s\n", trace.c_str(), std::strerror(errno));
        return 1;
    }
    if (writer) writer->set_ack_interval(Duration::micros(static_cast<std::int64_t>(trace_sample_ms * 1000)));
    StackOptions opts;
    opts.net.blackhole = false;
    Pair p(11, 22, opts, MemLinkConfig{}, loss, seed);
    const Ipv4Addr ip_a = Pair::ip_a, ip_b = Pair::ip_b;

    std::printf("uinet demo: client %s <-> server %s over an in-memory link (1 Gb/s, 1 ms each way, loss %.1f%%)\n",
                ip_a.to_string().c_str(), ip_b.to_string().c_str(), loss * 100);

    // Server: UDP echo on port 7.
    UdpSockets& su = p.b->udp();
    SocketId echo = *su.open();
    if (!su.bind(echo, {Ipv4Addr::any(), Port(7)})) {
        std::fprintf(stderr, "demo: cannot bind the echo port\n");
        return 1;
    }
    std::vector<std::uint8_t> sbuf(65536);
    su.set_upcall(echo, [&](SocketId id, std::uint32_t ev) {
        if (!(ev & event::readable)) return;
        while (auto r = su.recvfrom(id, sbuf)) (void)su.sendto(p.b->now(), id, {sbuf.data(), r->size}, r->from);
    });

    // 1. Ping: the first request also resolves ARP.
    struct PingState {
        int replies = 0;
        int bad = 0;
        std::vector<Instant> sent;
        std::vector<Duration> rtt;
    } ps;
    ps.sent.resize(static_cast<std::size_t>(pings));
    p.a->net().set_echo_listener([&](const net::EchoReply& r) {
        if (r.seq >= ps.sent.size()) return;
        ++ps.replies;
        if (!r.payload_ok) ++ps.bad;
        ps.rtt.push_back(p.clock.now() - ps.sent[r.seq]);
    });
    Instant t0 = p.clock.now();
    for (int i = 0; i < pings; ++i) {
        ps.sent[static_cast<std::size_t>(i)] = p.clock.now();
        (void)p.a->net().send_echo_request(p.clock.now(), ip_b, 0x1234, static_cast<std::uint16_t>(i),
                                           i % 2 ? 56 : 4000);
        int want = i + 1;
        p.run_until([&] { return ps.replies >= want; }, Duration::seconds(2));
    }
    Duration total = p.clock.now() - t0;
    double min_ms = 1e9, max_ms = 0, sum_ms = 0;
    for (Duration d : ps.rtt) {
        double ms = static_cast<double>(d.us()) / 1000.0;
        min_ms = std::min(min_ms, ms);
        max_ms = std::max(max_ms, ms);
        sum_ms += ms;
    }
    std::printf("ping:  %d/%d replies (56 and 4000 bytes, the latter fragmented), %d bad payloads", ps.replies, pings,
                ps.bad);
    if (!ps.rtt.empty())
        std::printf(", rtt min/avg/max %.3f/%.3f/%.3f ms", min_ms, sum_ms / static_cast<double>(ps.rtt.size()), max_ms);
    std::printf(" (%.3f s virtual)\n", total.secs());

    // 2. UDP echo: datagrams of varied sizes, content checked.
    UdpSockets& cu = p.a->udp();
    SocketId cs = *cu.open();
    (void)cu.connect(cs, {ip_b, Port(7)});
    int got = 0, corrupt = 0;
    std::uint64_t bytes = 0;
    std::vector<std::uint8_t> rbuf(65536), msg;
    cu.set_upcall(cs, [&](SocketId id, std::uint32_t) {
        while (auto r = cu.recvfrom(id, rbuf)) {
            ++got;
            bytes += r->size;
            std::size_t seq = r->size >= 4 ? (rbuf[0] | rbuf[1] << 8 | rbuf[2] << 16 | std::size_t{rbuf[3]} << 24) : 0;
            for (std::size_t k = 4; k < r->size; ++k)
                if (rbuf[k] != static_cast<std::uint8_t>(seq + k)) {
                    ++corrupt;
                    break;
                }
        }
    });
    Instant u0 = p.clock.now();
    for (int i = 0; i < datagrams; ++i) {
        std::size_t size = 4 + static_cast<std::size_t>((i * 389) % 3000);
        msg.resize(size);
        for (std::size_t k = 0; k < 4; ++k) msg[k] = static_cast<std::uint8_t>(static_cast<std::size_t>(i) >> (8 * k));
        for (std::size_t k = 4; k < size; ++k) msg[k] = static_cast<std::uint8_t>(static_cast<std::size_t>(i) + k);
        (void)cu.sendto(p.clock.now(), cs, msg);
        p.run_until([] { return false; }, Duration::micros(50));
    }
    p.run_until([&] { return got >= datagrams; }, Duration::seconds(2));
    Duration ut = p.clock.now() - u0;
    std::printf("udp:   %d/%d datagrams echoed (4..3003 bytes), %llu bytes, %d corrupt (%.3f s virtual)\n", got,
                datagrams, static_cast<unsigned long long>(bytes), corrupt, ut.secs());
    const auto& na = p.a->net().counters();
    const auto& nb = p.b->net().counters();
    std::printf("arp:   client sent %llu requests, server sent %llu replies\n",
                static_cast<unsigned long long>(na.arp_requests_sent),
                static_cast<unsigned long long>(nb.arp_replies_sent));
    std::printf("ip:    client sent %llu fragments, server reassembled %llu datagrams\n",
                static_cast<unsigned long long>(na.ip_tx_fragments),
                static_cast<unsigned long long>(nb.ip_reassembled));
    if (verbose) {
        print_counters(*p.a);
        print_counters(*p.b);
    }
    // 3. HTTP over TCP, clean and with loss.
    const std::uint64_t down = std::uint64_t{http_mb} * 1'000'000, up = down / 2;
    bool http_ok = true;
    for (double l : {0.0, loss > 0 ? loss : 0.01}) {
        HttpRun r = http_phase(l, seed, down, up, l > 0 ? writer.get() : nullptr);
        http_ok = http_ok && r.ok;
        double mbps = r.secs > 0 ? static_cast<double>(down + up) * 8 / r.secs / 1e6 : 0;
        std::printf("http:  GET %llu MB + PUT %llu MB (100-continue), loss %.1f%%: %s, %.3f s virtual, %.0f Mb/s goodput "
                    "on a 1000 Mb/s link, %llu retransmissions\n",
                    static_cast<unsigned long long>(down / 1'000'000), static_cast<unsigned long long>(up / 1'000'000),
                    l * 100, r.ok ? "SHA-256 ok" : "FAILED", r.secs, mbps,
                    static_cast<unsigned long long>(r.retransmits));
    }
    bool ok = http_ok && (loss > 0 || (ps.replies == pings && got == datagrams && corrupt == 0 && ps.bad == 0));
    if (writer) {
        const std::uint64_t n = writer->written(), lost = writer->dropped();
        if (!writer->close()) {
            std::fprintf(stderr, "demo: writing the trace to %s failed\n", trace.c_str());
            ok = false;
        }
        std::printf("trace: %llu records to %s (%llu beyond the budget)\n", static_cast<unsigned long long>(n),
                    trace.c_str(), static_cast<unsigned long long>(lost));
    }
    std::printf("result: %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}

}  // namespace uinet::tools
