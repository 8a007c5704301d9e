// Simulation: HyStart++ (RFC 9406) against slow-start overshoot on a
// bottleneck, and ECN (RFC 3168) transfers with CE marks and no losses.
// Figures are printed (the [figure] lines); assertions compare runs in
// virtual time, which replays exactly.
#include <gtest/gtest.h>

#include <cstdio>

#include "sim_transfer.hpp"

using namespace uinet;
using namespace uinet::test;

namespace {

struct RunResult {
    bool ok = false;
    Duration took{};
    tcp::TcpCounters a;  // the sender's counters
    tcp::TcpCounters b;  // the receiver's
};

// a connects to b and sends `bytes`, then closes; b checks every byte.
RunResult transfer(SimPair& p, std::uint64_t bytes, Duration limit) {
    const Transfer t = run_transfer(p, bytes, 9, limit);
    RunResult res;
    res.ok = t.ok();
    res.took = t.took;
    res.a = p.a->tcp_layer().counters();
    res.b = p.b->tcp_layer().counters();
    return res;
}

// 100 Mb/s, 10 ms each way (20 ms RTT, a BDP of 250 kB or ~170 frames),
// a 256-frame (~1.5 BDP) drop-tail bottleneck queue, buffers large enough that only
// the congestion window limits the sender.
SimPairConfig bottleneck(tcp::CcAlgorithm cc, bool hystart) {
    SimPairConfig c;
    c.link = MemLinkConfig{.queue_frames = 256, .bandwidth_bps = 100'000'000, .delay = Duration::millis(10)};
    c.tcp.congestion_control = cc;
    c.tcp.hystart = hystart;
    c.tcp.sndbuf = c.tcp.rcvbuf = 4 << 20;
    return c;
}

}  // namespace

// The figure: slow-start overshoot losses with and without HyStart++ for
// both algorithms (a 4 MB transfer: the first slow start and a little
// congestion avoidance). HyStart++ must lose less.
TEST(SimCcEcn, HyStartCutsSlowStartOvershoot) {
    for (auto cc : {tcp::CcAlgorithm::newreno, tcp::CcAlgorithm::cubic}) {
        const char* name = cc == tcp::CcAlgorithm::cubic ? "cubic" : "newreno";
        SCOPED_TRACE(name);
        std::uint64_t rexmit[2] = {0, 0};
        for (bool hs : {false, true}) {
            SimPair p(bottleneck(cc, hs));
            RunResult r = transfer(p, 4 << 20, Duration::seconds(60));
            ASSERT_TRUE(r.ok);
            rexmit[hs] = r.a.retransmits;
            std::printf("[figure] %-7s 4 MB, 100 Mb/s, 20 ms RTT, 256-frame queue, HyStart++ %-3s: %7.1f ms, "
                        "%llu retransmits (%llu RTOs), CSS entered %llu, ssthresh set by CSS %llu\n",
                        name, hs ? "on" : "off", static_cast<double>(r.took.us()) / 1000.0,
                        static_cast<unsigned long long>(r.a.retransmits),
                        static_cast<unsigned long long>(r.a.rto_expired),
                        static_cast<unsigned long long>(r.a.hystart_css_entered),
                        static_cast<unsigned long long>(r.a.hystart_ss_exits));
            if (hs) EXPECT_GT(r.a.hystart_css_entered, 0u);
        }
        EXPECT_LT(rexmit[1], rexmit[0]);
    }
}

// ECN: CE marks (1% of the data frames) instead of drops, on a link with
// a deep queue: the transfer completes with reductions counted on both
// sides and not one retransmission.
TEST(SimCcEcn, CeMarksReduceWithoutLoss) {
    for (auto cc : {tcp::CcAlgorithm::newreno, tcp::CcAlgorithm::cubic}) {
        SCOPED_TRACE(cc == tcp::CcAlgorithm::cubic ? "cubic" : "newreno");
        SimPairConfig c;
        c.link.queue_frames = 4096;
        c.tcp.congestion_control = cc;
        c.tcp.ecn = tcp::EcnMode::on;
        c.tcp.sndbuf = c.tcp.rcvbuf = 1 << 20;
        FaultConfig f;
        f.on_transmit = true;
        f.ce_mark = 0.01;
        c.faults = f;
        c.pool_count = 8192;
        SimPair p(c);
        RunResult r = transfer(p, 8 << 20, Duration::seconds(60));
        ASSERT_TRUE(r.ok);
        EXPECT_EQ(r.a.ecn_negotiated, 1u);
        EXPECT_EQ(r.b.ecn_negotiated, 1u);
        EXPECT_GT(p.faults->fault_stats().tx.ce_marked, 0u);
        EXPECT_EQ(r.b.ce_rcvd, p.faults->fault_stats().tx.ce_marked);
        EXPECT_GT(r.a.ece_rcvd, 0u);
        EXPECT_GT(r.a.ecn_reductions, 0u);
        EXPECT_GT(r.a.cwr_sent, 0u);
        EXPECT_EQ(r.a.cwr_sent, r.b.cwr_rcvd);
        EXPECT_EQ(r.a.retransmits, 0u);
        std::printf("[figure] ECN %s 8 MB, 1%% CE: %.1f ms, %llu CE marks, %llu ECE ACKs, %llu reductions, "
                    "%llu retransmits\n",
                    cc == tcp::CcAlgorithm::cubic ? "cubic" : "newreno", static_cast<double>(r.took.us()) / 1000.0,
                    static_cast<unsigned long long>(r.b.ce_rcvd), static_cast<unsigned long long>(r.a.ece_rcvd),
                    static_cast<unsigned long long>(r.a.ecn_reductions),
                    static_cast<unsigned long long>(r.a.retransmits));
    }
}

namespace {

struct Departures {
    std::uint64_t frames = 0;
    std::uint64_t max_at_once = 0;  // most data frames handed to the link at one instant
    Instant first{}, last{};
};

}  // namespace

// Pacing: the same transfer on a 100 Mb/s, 20 ms RTT link with a shallow
// 32-frame queue, paced and not. Paced, the sender hands the link small
// bursts spread over time instead of window-sized trains, and loses less.
TEST(SimCcEcn, PacingSpreadsBurstsAndCutsLosses) {
    std::uint64_t most[2] = {0, 0}, rexmit[2] = {0, 0};
    for (bool pacing : {false, true}) {
        SimPairConfig c;
        c.link = MemLinkConfig{.queue_frames = 32, .bandwidth_bps = 100'000'000, .delay = Duration::millis(10)};
        c.tcp.pacing = pacing;
        c.tcp.sndbuf = c.tcp.rcvbuf = 4 << 20;
        FaultConfig f;  // no faults: the observer watches departures
        f.on_transmit = true;
        c.faults = f;
        SimPair p(c);
        Departures d;
        Instant at = Instant::never();
        std::uint64_t run = 0;
        p.faults->set_observer([&](FaultKind, Bytes frame, bool tx) {
            if (!tx || frame.size() < 1000) return;  // data frames only
            const Instant now = p.clock.now();
            if (d.frames == 0) d.first = now;
            d.last = now;
            ++d.frames;
            run = now == at ? run + 1 : 1;
            at = now;
            d.max_at_once = std::max(d.max_at_once, run);
        });
        RunResult r = transfer(p, 4 << 20, Duration::seconds(60));
        ASSERT_TRUE(r.ok);
        most[pacing] = d.max_at_once;
        rexmit[pacing] = r.a.retransmits;
        std::printf("[figure] pacing %-3s 4 MB, 100 Mb/s, 20 ms RTT, 32-frame queue: %7.1f ms, %llu retransmits, "
                    "largest train %llu frames at one instant, %llu paced bursts\n",
                    pacing ? "on" : "off", static_cast<double>(r.took.us()) / 1000.0,
                    static_cast<unsigned long long>(r.a.retransmits), static_cast<unsigned long long>(d.max_at_once),
                    static_cast<unsigned long long>(r.a.paced_delays));
        if (pacing) EXPECT_GT(r.a.paced_delays, 0u);
    }
    EXPECT_LT(most[1], most[0]);
    EXPECT_LE(rexmit[1], rexmit[0]);
}

// Pacing with TSO: super-segments are cut to the pacing quantum (about
// 1 ms of the rate), and the transfer still completes byte-exactly.
TEST(SimCcEcn, PacingWithTsoSuperSegments) {
    SimPairConfig c;
    c.link = MemLinkConfig{.queue_frames = 256, .bandwidth_bps = 1'000'000'000, .delay = Duration::millis(1)};
    c.link.csum_offload = true;
    c.link.tso_max = 65535;
    c.tcp.pacing = true;
    c.tcp.sndbuf = c.tcp.rcvbuf = 1 << 20;
    SimPair p(c);
    RunResult r = transfer(p, 8 << 20, Duration::seconds(60));
    ASSERT_TRUE(r.ok);
    EXPECT_GT(r.a.super_segs_out, 0u);
    EXPECT_GT(r.a.paced_delays, 0u);
    EXPECT_EQ(r.b.super_segs_in, r.a.super_segs_out);
}
