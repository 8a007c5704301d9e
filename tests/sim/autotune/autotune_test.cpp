// Simulation: buffer autotuning and the stack-wide memory limit
// (tcb_autotune.cpp), with byte-exact transfers in virtual time.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "sim_pair.hpp"
#include "stack/trace_writer.hpp"

using namespace uinet;
using namespace uinet::test;

namespace {

std::uint8_t pattern_byte(std::uint64_t i, std::uint64_t salt) { return static_cast<std::uint8_t>((i * 131 + salt) % 251); }

struct Flow {
    std::uint64_t size = 0, sent = 0, received = 0;
    SocketId cli{}, srv{};
    bool corrupt = false, eof = false, closed_sender = false;
    std::uint32_t max_rcvbuf = 0, max_sndbuf = 0;
};

// `n` connections from a to b, each sending `bytes`; b reads everything
// (from `read_after` on) and checks it. Returns the flows (complete or not)
// after `limit`.
std::vector<Flow> run_flows(SimPair& p, std::size_t n, std::uint64_t bytes, Duration limit,
                            std::size_t* peak_a = nullptr, std::size_t* peak_b = nullptr,
                            Duration read_after = Duration::zero()) {
    const Instant read_from = p.clock.now() + read_after;
    bool reading = read_after == Duration::zero();
    std::vector<Flow> flows(n);
    TcpSockets& sb = p.b->tcp();
    TcpSockets& sa = p.a->tcp();
    SocketId lst = *sb.open();
    EXPECT_TRUE(sb.bind(lst, {Ipv4Addr::any(), Port(80)}));
    EXPECT_TRUE(sb.listen(lst, 1024));
    std::vector<std::uint8_t> buf(65536);
    std::size_t accepted = 0, done = 0;
    auto drain = [&](Flow& f) {
        if (!reading) return;
        for (;;) {
            auto r = sb.recv(p.clock.now(), f.srv, buf);
            if (auto i = sb.info(f.srv)) f.max_rcvbuf = std::max(f.max_rcvbuf, i->rcvbuf);
            if (!r) return;
            if (*r == 0) {
                if (!f.eof) ++done;
                f.eof = true;
                sb.close(p.clock.now(), f.srv);
                return;
            }
            for (std::size_t i = 0; i < *r; ++i)
                if (buf[i] != pattern_byte(f.received + i, f.size)) f.corrupt = true;
            f.received += *r;
        }
    };
    // The k-th accepted connection is matched to its flow by its peer's port.
    sb.set_upcall(lst, [&](SocketId id, std::uint32_t) {
        while (auto c = sb.accept(id)) {
            auto peer = sb.remote_endpoint(*c);
            Flow* f = nullptr;
            for (Flow& x : flows)
                if (peer && sa.local_endpoint(x.cli) && sa.local_endpoint(x.cli)->port == peer->port) f = &x;
            if (!f) continue;
            ++accepted;
            f->srv = *c;
            sb.set_upcall(*c, [&, f](SocketId, std::uint32_t) { drain(*f); });
            drain(*f);
        }
    });
    std::vector<std::uint8_t> chunk(16384);
    auto pump = [&](Flow& f) {
        while (f.sent < f.size) {
            std::size_t m = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), f.size - f.sent));
            for (std::size_t i = 0; i < m; ++i) chunk[i] = pattern_byte(f.sent + i, f.size);
            auto r = sa.send(p.clock.now(), f.cli, {chunk.data(), m});
            if (auto i = sa.info(f.cli)) f.max_sndbuf = std::max(f.max_sndbuf, i->sndbuf);
            if (!r) return;
            f.sent += *r;
        }
        if (!f.closed_sender) {
            f.closed_sender = true;
            sa.close(p.clock.now(), f.cli);
        }
    };
    for (std::size_t k = 0; k < n; ++k) {
        Flow& f = flows[k];
        f.size = bytes + k;  // distinct sizes: distinct patterns
        f.cli = *sa.open();
        sa.set_upcall(f.cli, [&, k](SocketId, std::uint32_t ev) {
            if (ev & event::writable) pump(flows[k]);
        });
        EXPECT_TRUE(sa.connect(p.clock.now(), f.cli, {p.ip_b, Port(80)}));
    }
    std::size_t pa = 0, pb = 0;
    p.run_until(
        [&] {
            pa = std::max(pa, p.a->tcp_layer().buffer_bytes());
            pb = std::max(pb, p.b->tcp_layer().buffer_bytes());
            if (!reading && p.clock.now() >= read_from) {
                reading = true;
                for (Flow& f : flows)
                    if (f.srv.valid()) drain(f);
            }
            return done == n;
        },
        limit);
    if (peak_a) *peak_a = std::max(pa, p.a->tcp_layer().buffer_bytes_peak());
    if (peak_b) *peak_b = std::max(pb, p.b->tcp_layer().buffer_bytes_peak());
    EXPECT_EQ(accepted, n);
    sb.close(p.clock.now(), lst);
    return flows;
}

// 100 Mb/s, 20 ms each way (a 40 ms RTT: 500 KB in flight fill the pipe,
// twice the 256 KiB default buffer), a queue of 600 frames.
SimPairConfig long_fat_path(bool autotune) {
    SimPairConfig c;
    c.link = MemLinkConfig{.queue_frames = 600, .bandwidth_bps = 100'000'000, .delay = Duration::millis(20)};
    c.tcp.autotune = autotune;
    c.pool_count = 8192;
    return c;
}

struct LongRun {
    double secs = 0;
    Flow flow;
    std::uint64_t rcv_grows = 0, snd_grows = 0;
    std::uint8_t wscale = 0;
};

LongRun long_transfer(bool autotune, std::uint64_t bytes) {
    SimPair p(long_fat_path(autotune));
    const Instant t0 = p.clock.now();
    auto flows = run_flows(p, 1, bytes, Duration::seconds(120));
    LongRun r;
    r.flow = flows[0];
    r.secs = (p.clock.now() - t0).secs();
    r.rcv_grows = p.b->tcp_layer().counters().autotune_rcv_grows;
    r.snd_grows = p.a->tcp_layer().counters().autotune_snd_grows;
    return r;
}

}  // namespace

TEST(SimAutotune, ReceiveWindowGrowsOnALongFatPath) {
    const std::uint64_t bytes = 32u << 20;
    LongRun fixed = long_transfer(false, bytes);
    LongRun tuned = long_transfer(true, bytes);
    for (const LongRun* r : {&fixed, &tuned}) {
        EXPECT_EQ(r->flow.received, r->flow.size);
        EXPECT_FALSE(r->flow.corrupt);
        EXPECT_TRUE(r->flow.eof);
    }
    // Without autotuning the buffers stay at the configured 256 KiB.
    EXPECT_EQ(fixed.flow.max_rcvbuf, 256u * 1024);
    EXPECT_EQ(fixed.rcv_grows, 0u);
    // With it the receive buffer grew past the default, within rcvbuf_max.
    EXPECT_GT(tuned.flow.max_rcvbuf, 256u * 1024);
    EXPECT_LE(tuned.flow.max_rcvbuf, tcp::TcpConfig{}.rcvbuf_max);
    EXPECT_GT(tuned.rcv_grows, 0u);
    EXPECT_GT(tuned.flow.max_sndbuf, 256u * 1024);
    EXPECT_LE(tuned.flow.max_sndbuf, tcp::TcpConfig{}.sndbuf_max);
    // Figures (virtual time; reported, not asserted).
    const double mb = static_cast<double>(bytes) * 8 / 1e6;
    std::printf("autotune: 32 MiB over 100 Mb/s, 40 ms RTT: fixed 256 KiB %.2f s (%.1f Mb/s), autotuned %.2f s "
                "(%.1f Mb/s); rcvbuf max %u, sndbuf max %u, %llu/%llu grows\n",
                fixed.secs, mb / fixed.secs, tuned.secs, mb / tuned.secs, tuned.flow.max_rcvbuf, tuned.flow.max_sndbuf,
                static_cast<unsigned long long>(tuned.rcv_grows), static_cast<unsigned long long>(tuned.snd_grows));
    RecordProperty("fixed_mbps", std::to_string(mb / fixed.secs));
    RecordProperty("autotuned_mbps", std::to_string(mb / tuned.secs));
}

TEST(SimAutotune, ExplicitBufferSizeTurnsAutotuningOff) {
    SimPair p(long_fat_path(true));
    TcpSockets& sb = p.b->tcp();
    SocketId lst = *sb.open();
    TcpOptions o;
    o.rcvbuf = 128 * 1024;
    ASSERT_TRUE(sb.set_options(lst, o));
    ASSERT_TRUE(sb.bind(lst, {Ipv4Addr::any(), Port(80)}));
    ASSERT_TRUE(sb.listen(lst, 4));
    SocketId cli = *p.a->tcp().open();
    ASSERT_TRUE(p.a->tcp().connect(p.clock.now(), cli, {p.ip_b, Port(80)}));
    SocketId srv{};
    p.run_until(
        [&] {
            if (auto c = sb.accept(lst)) srv = *c;
            return srv.valid();
        },
        Duration::seconds(5));
    ASSERT_TRUE(srv.valid());
    // The listener's SO_RCVBUF: a window scale for 128 KiB, not rcvbuf_max;
    // the client, autotuning, chose its scale for rcvbuf_max (6 MiB: 7).
    EXPECT_EQ(sb.info(srv)->rcv_wscale, 2);
    EXPECT_EQ(p.a->tcp().info(cli)->rcv_wscale, 7);
    std::vector<std::uint8_t> data(4u << 20, 0x5a), buf(65536);
    std::size_t off = 0, got = 0;
    std::uint32_t max_rcvbuf = 0;
    p.run_until(
        [&] {
            while (off < data.size()) {
                auto r = p.a->tcp().send(p.clock.now(), cli, {data.data() + off, data.size() - off});
                if (!r) break;
                off += *r;
            }
            while (auto r = sb.recv(p.clock.now(), srv, buf)) {
                if (*r == 0) break;
                got += *r;
            }
            max_rcvbuf = std::max(max_rcvbuf, sb.info(srv)->rcvbuf);
            return got == data.size();
        },
        Duration::seconds(60));
    EXPECT_EQ(got, data.size());
    EXPECT_EQ(max_rcvbuf, 128u * 1024);
}

TEST(SimAutotune, ManyConnectionsStayWithinTheMemoryLimit) {
    SimPairConfig c;
    c.link = MemLinkConfig{.queue_frames = 1024, .bandwidth_bps = 100'000'000, .delay = Duration::millis(5)};
    c.tcp.autotune = true;
    c.tcp.memory_limit = 4u << 20;  // 32 connections at 256 KiB each way would need 8 MiB per stack
    c.pool_count = 8192;
    SimPair p(c);
    std::size_t peak_a = 0, peak_b = 0;
    auto flows = run_flows(p, 32, 512 * 1024, Duration::seconds(900), &peak_a, &peak_b);
    for (const Flow& f : flows) {
        EXPECT_EQ(f.received, f.size);
        EXPECT_FALSE(f.corrupt);
        EXPECT_TRUE(f.eof);
    }
    EXPECT_LE(peak_a, c.tcp.memory_limit);
    EXPECT_LE(peak_b, c.tcp.memory_limit);
    const auto& ca = p.a->tcp_layer().counters();
    const auto& cb = p.b->tcp_layer().counters();
    EXPECT_GT(ca.mem_pressure_entered + cb.mem_pressure_entered, 0u);
    EXPECT_GT(ca.mem_send_blocked + cb.mem_limit_drops, 0u);
    std::printf("memory: 32 x 512 KiB, limit 4 MiB: peak a %zu b %zu; pressure entered %llu/%llu, trims %llu/%llu, "
                "sends blocked %llu, text dropped %llu\n",
                peak_a, peak_b, static_cast<unsigned long long>(ca.mem_pressure_entered),
                static_cast<unsigned long long>(cb.mem_pressure_entered), static_cast<unsigned long long>(ca.mem_trims),
                static_cast<unsigned long long>(cb.mem_trims), static_cast<unsigned long long>(ca.mem_send_blocked),
                static_cast<unsigned long long>(cb.mem_limit_drops));
    // Everything ends and every buffer byte is given back.
    p.run_for(Duration::seconds(200));
    EXPECT_EQ(p.a->tcp_layer().tcb_count(), 0u);
    EXPECT_EQ(p.b->tcp_layer().tcb_count(), 0u);
    EXPECT_EQ(p.a->tcp_layer().buffer_bytes(), 0u);
    EXPECT_EQ(p.b->tcp_layer().buffer_bytes(), 0u);
}

TEST(SimAutotune, ReceiverAtItsLimitDropsTextAndRecovers) {
    SimPairConfig c;
    c.link = MemLinkConfig{.queue_frames = 1024, .bandwidth_bps = 100'000'000, .delay = Duration::millis(5)};
    c.tcp.memory_limit = 2u << 20;  // room for 8 receive buffers of 256 KiB
    c.pool_count = 8192;
    SimPair p(c);
    p.a->tcp_layer().config().memory_limit = 0;  // the senders are not limited (taken at the next poll)
    std::size_t peak_b = 0;
    // b reads nothing for the first 2 s: 8 full receive buffers reach the
    // limit and the other connections' text is dropped until b reads.
    auto flows = run_flows(p, 16, 512 * 1024, Duration::seconds(900), nullptr, &peak_b, Duration::seconds(2));
    for (const Flow& f : flows) {
        EXPECT_EQ(f.received, f.size);
        EXPECT_FALSE(f.corrupt);
    }
    EXPECT_LE(peak_b, c.tcp.memory_limit);
    EXPECT_GT(p.b->tcp_layer().counters().mem_limit_drops, 0u);

    EXPECT_EQ(p.a->tcp_layer().counters().mem_send_blocked, 0u);
    EXPECT_GT(p.a->tcp_layer().buffer_bytes_peak(), c.tcp.memory_limit);
    std::printf("receiver limit 2 MiB: peak %zu, text dropped %llu times\n", peak_b,
                static_cast<unsigned long long>(p.b->tcp_layer().counters().mem_limit_drops));
}

namespace {

struct Recorder : tcp::TraceSink {
    std::vector<tcp::TraceRecord> recs;
    void trace(const tcp::TraceRecord& r) override { recs.push_back(r); }
    std::size_t count(tcp::TraceEvent e) const {
        return static_cast<std::size_t>(std::count_if(recs.begin(), recs.end(), [e](const auto& r) { return r.event == e; }));
    }
};

}  // namespace

TEST(SimTrace, LossyTransferReportsAcksLossAndRecovery) {
    SimPairConfig c;
    FaultConfig f;
    f.drop = 0.01;
    f.seed = 5;
    f.on_transmit = f.on_receive = true;
    c.faults = f;
    SimPair p(c);
    Recorder rec;
    p.a->tcp_layer().set_trace(&rec);  // the sender's connections
    auto flows = run_flows(p, 1, 2u << 20, Duration::seconds(120));
    ASSERT_EQ(flows[0].received, flows[0].size);
    EXPECT_FALSE(flows[0].corrupt);
    p.run_for(Duration::seconds(5));  // the last ACKs reach the sender
    ASSERT_FALSE(rec.recs.empty());
    EXPECT_EQ(rec.count(tcp::TraceEvent::established), 1u);
    EXPECT_GT(rec.count(tcp::TraceEvent::ack), 100u);
    EXPECT_GT(rec.count(tcp::TraceEvent::dupack), 0u);
    EXPECT_GT(rec.count(tcp::TraceEvent::recovery_enter), 0u);
    const std::size_t enters = rec.count(tcp::TraceEvent::recovery_enter);
    const std::size_t exits = rec.count(tcp::TraceEvent::recovery_exit);
    EXPECT_LE(exits, enters);
    EXPECT_LE(enters - exits, 1u);  // every way out (ACK, undo, RTO) is traced once
    // Each tail-loss probe is an event (tests/script/tcp_rack has one that fires).
    EXPECT_EQ(rec.count(tcp::TraceEvent::tlp), p.a->tcp_layer().counters().tlp_probes);
    EXPECT_GT(rec.count(tcp::TraceEvent::fast_retransmit) + rec.count(tcp::TraceEvent::retransmit), 0u);
    // Time, snd_una and delivered never go back; snd_una <= snd_nxt; a
    // retransmission names bytes below snd_nxt.
    const tcp::TraceRecord* prev = nullptr;
    for (const auto& r : rec.recs) {
        EXPECT_EQ(r.conn, rec.recs.front().conn);
        EXPECT_LE(r.snd_una, r.snd_nxt);
        if (r.event == tcp::TraceEvent::fast_retransmit || r.event == tcp::TraceEvent::retransmit) {
            EXPECT_GT(r.len, 0u);
            EXPECT_LT(r.seq, r.snd_nxt);
        }
        if (prev) {
            EXPECT_GE(r.time, prev->time);
            EXPECT_GE(r.snd_una, prev->snd_una);
            EXPECT_GE(r.delivered, prev->delivered);
        }
        prev = &r;
    }
    EXPECT_GE(rec.recs.back().delivered, flows[0].size);
    EXPECT_GT(rec.recs.back().srtt, Duration::millis(10));  // 5 ms each way
}
