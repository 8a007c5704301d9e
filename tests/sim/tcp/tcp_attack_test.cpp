// Simulation: TCP under attack. (1) Blind injection (RFC 5961): during a
// transfer between two stacks, RSTs, SYNs and data segments from the
// right 4-tuple with random sequence and acknowledgment numbers are
// injected at both ends; the transfer completes byte-exactly. (2) A SYN
// flood (RFC 4987): 100,000 spoofed SYNs per second of virtual time
// (sources only in 198.18.0.0/15, random ports) reach the server's device
// beside 100 legitimate clients; SYN cookies let >= 99% of the clients in
// while the server's TCBs and buffers stay within their bounds. The rates
// achieved are printed (figures, not thresholds).
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdio>

#include "inject_device.hpp"
#include "sim_pair.hpp"

using namespace uinet;
using namespace uinet::test;

namespace {

const MacAddr kMacA = *MacAddr::parse("02:00:00:00:00:01");
const MacAddr kMacB = *MacAddr::parse("02:00:00:00:00:02");
const MacAddr kMacSpoof = *MacAddr::parse("02:00:00:00:00:99");

std::uint8_t pattern_byte(std::uint64_t i) { return static_cast<std::uint8_t>((i * 131 + 17) % 251); }

// Forged segments from `src`:`sport` to `dst`:`dport`, `rate` per second
// from `start` while `on` says so: RST, SYN or 100 bytes of data (ACK set)
// in turn, each with random SEQ and ACK.
struct Forger {
    SeededRandom rng;
    Ipv4Addr src, dst;
    MacAddr smac, dmac;
    Port sport{0}, dport{0};
    Instant start = Instant::never();
    Duration gap = Duration::micros(100);
    std::uint64_t made = 0;
    std::uint64_t rsts = 0, syns = 0, data = 0;

    Forger(std::uint64_t seed, Ipv4Addr s, Ipv4Addr d, MacAddr sm, MacAddr dm)
        : rng(seed), src(s), dst(d), smac(sm), dmac(dm) {}
    Instant next() const {
        if (start.is_never() || sport.is_any()) return Instant::never();
        return start + gap * static_cast<std::int64_t>(made);
    }
    void make(std::vector<std::uint8_t>& f) {
        wire::TcpRepr t;
        t.src_port = sport;
        t.dst_port = dport;
        t.seq = SeqNum(static_cast<std::uint32_t>(rng.next()));
        t.ack = SeqNum(static_cast<std::uint32_t>(rng.next()));
        t.window = 65535;
        static const std::array<std::uint8_t, 100> junk{};
        switch (made++ % 3) {
            case 0:
                t.flags = wire::TcpFlags::rst | ((rng.next() & 1) ? wire::TcpFlags::ack : 0);
                ++rsts;
                tcp_frame(f, dmac, smac, src, dst, t);
                break;
            case 1:
                t.flags = wire::TcpFlags::syn;
                ++syns;
                tcp_frame(f, dmac, smac, src, dst, t);
                break;
            default:
                t.flags = wire::TcpFlags::ack | wire::TcpFlags::psh;
                ++data;
                tcp_frame(f, dmac, smac, src, dst, t, Bytes{junk.data(), junk.size()});
                break;
        }
    }
};

}  // namespace

TEST(SimTcpAttack, BlindInjectionDoesNotDisturbATransfer) {
    const std::uint64_t kBytes = 4 << 20;
    std::uint64_t seeds = 3;
    for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
        SCOPED_TRACE("seed " + std::to_string(seed));
        InjectingDevice* dev_a = nullptr;
        InjectingDevice* dev_b = nullptr;
        SimPairConfig c;
        c.seed = seed;
        c.wrap_a = [&](std::unique_ptr<Device> d, Pool& pool) {
            auto w = std::make_unique<InjectingDevice>(std::move(d), pool);
            dev_a = w.get();
            return std::unique_ptr<Device>(std::move(w));
        };
        c.wrap_b = [&](std::unique_ptr<Device> d, Pool& pool) {
            auto w = std::make_unique<InjectingDevice>(std::move(d), pool);
            dev_b = w.get();
            return std::unique_ptr<Device>(std::move(w));
        };
        SimPair p(c);
        // Into b as if from a's connection, and into a as if from b's.
        Forger to_b(seed * 77 + 1, p.ip_a, p.ip_b, kMacA, kMacB);
        Forger to_a(seed * 77 + 2, p.ip_b, p.ip_a, kMacB, kMacA);
        dev_b->set_generator({[&] { return to_b.next(); }, [&](auto& f) { to_b.make(f); }});
        dev_a->set_generator({[&] { return to_a.next(); }, [&](auto& f) { to_a.make(f); }});

        TcpSockets& sa = p.a->tcp();
        TcpSockets& sb = p.b->tcp();
        SocketId lst = *sb.open();
        ASSERT_TRUE(sb.bind(lst, {Ipv4Addr::any(), Port(80)}));
        ASSERT_TRUE(sb.listen(lst, 16));
        std::uint64_t received = 0, sent = 0;
        bool corrupt = false, eof = false, closed = false;
        std::vector<std::uint8_t> buf(65536);
        auto drain = [&](SocketId id) {
            for (;;) {
                auto r = sb.recv(p.clock.now(), id, buf);
                if (!r) return;
                if (*r == 0) {
                    eof = true;
                    return;
                }
                for (std::size_t i = 0; i < *r; ++i)
                    if (buf[i] != pattern_byte(received + i)) corrupt = true;
                received += *r;
            }
        };
        sb.set_upcall(lst, [&](SocketId id, std::uint32_t) {
            while (auto s = sb.accept(id)) {
                sb.set_upcall(*s, [&](SocketId x, std::uint32_t) { drain(x); });
                drain(*s);
            }
        });
        SocketId cli = *sa.open();
        ASSERT_TRUE(sa.connect(p.clock.now(), cli, {p.ip_b, Port(80)}));
        std::vector<std::uint8_t> chunk(16384);
        sa.set_upcall(cli, [&](SocketId id, std::uint32_t ev) {
            if (!(ev & event::writable)) return;
            if (to_b.start.is_never() && sa.state(id) == tcp::TcpState::established) {
                // Connected: the attackers know the 4-tuple, not the numbers.
                const Endpoint le = *sa.local_endpoint(id);
                to_b.sport = le.port;
                to_b.dport = Port(80);
                to_a.sport = Port(80);
                to_a.dport = le.port;
                to_b.start = to_a.start = p.clock.now();
            }
            while (sent < kBytes) {
                const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), kBytes - sent));
                for (std::size_t i = 0; i < n; ++i) chunk[i] = pattern_byte(sent + i);
                auto r = sa.send(p.clock.now(), id, {chunk.data(), n});
                if (!r || *r == 0) return;
                sent += *r;
            }
            if (!closed) {
                closed = true;
                sa.close(p.clock.now(), id);
            }
        });
        const Instant t0 = p.clock.now();
        ASSERT_TRUE(p.run_until([&] { return eof; }, Duration::seconds(120)));
        const double secs = static_cast<double>((p.clock.now() - t0).ns()) / 1e9;
        EXPECT_EQ(received, kBytes);
        EXPECT_FALSE(corrupt);
        const auto& cb = p.b->tcp_layer().counters();
        const auto& ca = p.a->tcp_layer().counters();
        EXPECT_EQ(cb.conn_reset + ca.conn_reset, 0u);
        EXPECT_EQ(cb.rsts_rcvd + ca.rsts_rcvd, 0u);
        EXPECT_GT(to_b.made, 1000u);
        std::printf("blind injection seed %llu: %.3f s virtual for %llu bytes; forged into b %llu (rst %llu syn %llu "
                    "data %llu), into a %llu; challenge ACKs %llu sent, %llu limited; bad ACKs dropped %llu; "
                    "unacceptable %llu\n",
                    (unsigned long long)seed, secs, (unsigned long long)kBytes, (unsigned long long)to_b.made,
                    (unsigned long long)to_b.rsts, (unsigned long long)to_b.syns, (unsigned long long)to_b.data,
                    (unsigned long long)to_a.made, (unsigned long long)(ca.challenge_acks + cb.challenge_acks),
                    (unsigned long long)(ca.challenge_acks_limited + cb.challenge_acks_limited),
                    (unsigned long long)(ca.bad_ack_dropped + cb.bad_ack_dropped),
                    (unsigned long long)(ca.unacceptable + cb.unacceptable));
    }
}

TEST(SimTcpAttack, SynFloodWithCookiesLetsLegitimateClientsIn) {
    constexpr std::uint64_t kRate = 100'000;  // spoofed SYNs per second
    constexpr Duration kFlood = Duration::seconds(5);
    constexpr int kClients = 100;
    InjectingDevice* dev_b = nullptr;
    SimPairConfig c;
    c.tcp.syn_backlog = 128;
    c.tcp.max_syn_received = 512;
    c.tcp.max_connections = 1024;
    c.wrap_b = [&](std::unique_ptr<Device> d, Pool& pool) {
        auto w = std::make_unique<InjectingDevice>(std::move(d), pool);
        dev_b = w.get();
        return std::unique_ptr<Device>(std::move(w));
    };
    SimPair p(c);
    // Spoofed SYNs, 100 per virtual millisecond, from 198.18.0.0/15 (not
    // the two real hosts), random ports and ISNs, various options.
    SeededRandom rng(4987);
    const Instant t0 = p.clock.now();
    std::uint64_t made = 0;
    const std::uint64_t total = kRate * static_cast<std::uint64_t>(kFlood.ns() / 1'000'000'000);
    auto next = [&] {
        if (made >= total) return Instant::never();
        return t0 + Duration::millis(static_cast<std::int64_t>(made * 1000 / kRate));
    };
    auto make = [&](std::vector<std::uint8_t>& f) {
        ++made;
        std::uint32_t host;
        do {
            host = static_cast<std::uint32_t>(rng.next() & 0x1ffff);
        } while (host == 1 || host == 2);
        const Ipv4Addr src(Ipv4Addr::of(198, 18, 0, 0).value() | host);
        wire::TcpRepr t;
        t.src_port = Port(static_cast<std::uint16_t>(1024 + rng.next() % 64000));
        t.dst_port = Port(80);
        t.seq = SeqNum(static_cast<std::uint32_t>(rng.next()));
        t.flags = wire::TcpFlags::syn;
        t.window = 65535;
        t.options.mss = 1460;
        if (made & 1) {
            t.options.wscale = 7;
            t.options.sack_permitted = true;
            t.options.timestamps = std::make_pair(static_cast<std::uint32_t>(rng.next()), 0u);
        }
        tcp_frame(f, kMacB, kMacSpoof, src, p.ip_b, t);
    };
    dev_b->set_generator({next, make});

    TcpSockets& sa = p.a->tcp();
    TcpSockets& sb = p.b->tcp();
    SocketId lst = *sb.open();
    ASSERT_TRUE(sb.bind(lst, {Ipv4Addr::any(), Port(80)}));
    ASSERT_TRUE(sb.listen(lst, 128));
    int accepted = 0;
    sb.set_upcall(lst, [&](SocketId id, std::uint32_t) {
        while (auto s = sb.accept(id)) {
            ++accepted;
            sb.close(p.clock.now(), *s);
        }
    });
    std::vector<SocketId> clients;
    int established = 0;
    std::size_t max_tcbs = 0, max_syn_rcvd = 0, max_pool = 0;
    const auto wall0 = std::chrono::steady_clock::now();
    const Instant end = t0 + kFlood;
    for (int i = 0; i < kClients; ++i) {
        // Clients start every 45 ms, from 10 ms on: all inside the flood.
        const Instant at = t0 + Duration::millis(10 + 45 * i);
        while (p.clock.now() < at) {
            p.step(at);
            max_tcbs = std::max(max_tcbs, p.b->tcp_layer().tcb_count());
            max_syn_rcvd = std::max(max_syn_rcvd, p.b->tcp_layer().syn_received_count());
            max_pool = std::max(max_pool, p.b->pool().stats().in_use);
        }
        SocketId cs = *sa.open();
        clients.push_back(cs);
        sa.set_upcall(cs, [&](SocketId id, std::uint32_t ev) {
            if ((ev & event::writable) && sa.state(id) == tcp::TcpState::established) {
                ++established;
                sa.close(p.clock.now(), id);
                sa.set_upcall(id, {});
            }
        });
        ASSERT_TRUE(sa.connect(p.clock.now(), cs, {p.ip_b, Port(80)}));
    }
    while (p.clock.now() < end + Duration::seconds(1)) {
        p.step(end + Duration::seconds(1));
        max_tcbs = std::max(max_tcbs, p.b->tcp_layer().tcb_count());
        max_syn_rcvd = std::max(max_syn_rcvd, p.b->tcp_layer().syn_received_count());
        max_pool = std::max(max_pool, p.b->pool().stats().in_use);
    }
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    const auto& cb = p.b->tcp_layer().counters();
    EXPECT_EQ(made, total);
    EXPECT_EQ(dev_b->dropped(), 0u);
    EXPECT_GE(established * 100, kClients * 99);
    EXPECT_GE(accepted * 100, kClients * 99);
    // Bounds: the SYN queue, and TCBs = listener + SYN queue + the clients.
    EXPECT_LE(max_syn_rcvd, c.tcp.syn_backlog);
    EXPECT_LE(max_tcbs, 1 + c.tcp.syn_backlog + static_cast<std::size_t>(kClients));
    EXPECT_LT(max_pool, c.pool_count);
    EXPECT_EQ(p.b->pool().stats().alloc_failures, 0u);
    EXPECT_GT(cb.syncookies_sent, total * 9 / 10);
    std::printf("SYN flood: %llu spoofed SYNs in %.1f s virtual (%.0f/s), %.2f s wall (%.0f SYNs/s processed); "
                "cookies sent %llu, ok %llu, failed %llu; clients %d/%d established, %d accepted; "
                "server peak TCBs %zu, SYN-RECEIVED %zu, pool buffers %zu of %zu\n",
                (unsigned long long)made, static_cast<double>(kFlood.ns()) / 1e9,
                static_cast<double>(made) / (static_cast<double>(kFlood.ns()) / 1e9), wall,
                static_cast<double>(made) / wall, (unsigned long long)cb.syncookies_sent,
                (unsigned long long)cb.syncookies_ok, (unsigned long long)cb.syncookies_failed, established, kClients,
                accepted, max_tcbs, max_syn_rcvd, max_pool, c.pool_count);
}
