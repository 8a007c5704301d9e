// Simulation: TCP transfers between two stacks in virtual time, with and
// without faults; every byte checked.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "sim_transfer.hpp"

using namespace uinet;
using namespace uinet::test;

namespace {

}  // namespace

TEST(SimTcp, CleanTransferOneMegabyte) {
    SimPair p;
    Transfer t = run_transfer(p, 1 << 20, 7, Duration::seconds(60));
    EXPECT_EQ(t.received, t.size);
    EXPECT_FALSE(t.corrupt);
    EXPECT_TRUE(t.eof);
    // The sender closed first and sits in TIME-WAIT, holding no buffer.
    p.run_for(Duration::seconds(1));
    ASSERT_EQ(p.a->tcp_layer().time_wait_count(), 1u);
    for (tcp::TcbId id = 1; id < 4; ++id)
        if (const tcp::Tcb* tw = p.a->tcp_layer().tcb(id); tw && tw->state() == tcp::TcpState::time_wait)
            EXPECT_EQ(tw->buffer_bytes(), 0u);
    p.run_for(Duration::seconds(200));  // FIN exchange, TIME-WAIT expiry
    EXPECT_EQ(p.a->tcp_layer().tcb_count(), 0u);
    EXPECT_EQ(p.b->tcp_layer().tcb_count(), 0u);
    EXPECT_EQ(p.a->tcp_layer().counters().retransmits, 0u);
}

namespace {

void lossy_transfers(std::uint64_t default_seeds, tcp::CcAlgorithm cc, bool sack = true) {
    std::uint64_t sack_recoveries = 0;
    std::uint64_t seeds = std::getenv("UINET_SIM_SEEDS") ? std::strtoull(std::getenv("UINET_SIM_SEEDS"), nullptr, 10) : default_seeds;
    std::uint64_t first = std::getenv("UINET_SIM_SEED") ? std::strtoull(std::getenv("UINET_SIM_SEED"), nullptr, 10) : 1;
    if (std::getenv("UINET_SIM_SEED")) seeds = 1;
    for (std::uint64_t seed = first; seed < first + seeds; ++seed) {
        SCOPED_TRACE("replay with UINET_SIM_SEED=" + std::to_string(seed));
        SimPairConfig c;
        c.seed = seed;
        c.tcp.congestion_control = cc;
        c.tcp.sack = sack;
        // The drop rate applies on transmit and again on receive: at 30% a
        // frame crosses with probability 0.49 and a round trip 0.24, so 15
        // timeouts in a row without one (the default give-up, Linux's
        // tcp_retries2) happen in about 1.6% of tail stalls: a 1000-seed
        // run meets one (seed 2298 before RACK, 186 with it). Byte-exact
        // delivery is what this checks; the give-up has its own scripts.
        // (Hence also 4 hours of virtual time: at 30% the RTO can stay
        // backed off for long, echoes being stale, Karn's rule.)
        c.tcp.max_retransmits = 30;
        FaultConfig f;
        f.seed = seed;
        f.on_transmit = f.on_receive = true;
        const double loss = static_cast<double>(seed % 11) * 0.03;  // 0 .. 30%
        f.drop = loss;
        f.delay = Duration::millis(static_cast<std::int64_t>(seed % 3));  // extra delay, with jitter
        f.jitter = Duration::micros(static_cast<std::int64_t>(seed % 5) * 500);
        f.duplicate = 0.01;
        f.reorder = 0.02;
        f.corrupt = 0.01;
        // ARP has no checksum: a flipped sender MAC would be believed (as by
        // any stack). Corrupt only past byte 42, which ARP frames never reach.
        f.corrupt_min_offset = 42;
        c.faults = f;
        SimPair p(c);
        Transfer t = run_transfer(p, 32 * 1024 + (seed * 997) % (192 * 1024), seed, Duration::seconds(4 * 3600));
        if (std::getenv("UINET_SIM_DUMP")) std::printf("%s\n%s\n", p.a->counters_json().c_str(), p.b->counters_json().c_str());
        ASSERT_FALSE(t.corrupt);
        ASSERT_EQ(t.received, t.size) << "loss " << loss;
        ASSERT_TRUE(t.eof);
        sack_recoveries += p.a->tcp_layer().counters().sack_recoveries;
    }
    // SACK recovery ran (RFC 6675) exactly when both ends negotiated it.
    if (seeds >= 20) {
        if (sack)
            EXPECT_GT(sack_recoveries, 0u);
        else
            EXPECT_EQ(sack_recoveries, 0u);
    }
}

}  // namespace

TEST(SimTcp, LossyTransfersOverSeeds) { lossy_transfers(1000, tcp::CcAlgorithm::newreno); }

// The same faults with CUBIC (RFC 9438) on both ends.
TEST(SimTcp, LossyTransfersOverSeedsCubic) { lossy_transfers(300, tcp::CcAlgorithm::cubic); }

// Without SACK (TcpConfig::sack = false): NewReno recovery (RFC 6582).
TEST(SimTcp, LossyTransfersOverSeedsNoSack) { lossy_transfers(300, tcp::CcAlgorithm::newreno, false); }

// The figure for the docs (printed, no threshold): virtual time of a 4 MB
// transfer on the SimPair link (100 Mb/s, 5 ms each way) with 1% and 5%
// random loss on the data direction, mean of 5 seeds: without SACK, with
// SACK and RFC 6675 alone, and with the default RACK-TLP, PRR and undo.
TEST(SimTcp, SackFigureFourMegabytes) {
    enum Mode { no_sack, rfc6675, rack_tlp };
    for (double loss : {0.01, 0.05}) {
        for (Mode mode : {no_sack, rfc6675, rack_tlp}) {
            double total_ms = 0;
            std::uint64_t rexmits = 0, rtos = 0, probes = 0;
            const int runs = 5;
            for (int seed = 1; seed <= runs; ++seed) {
                SimPairConfig c;
                c.seed = static_cast<std::uint64_t>(seed);
                c.tcp.sack = mode != no_sack;
                c.tcp.rack = c.tcp.tlp = c.tcp.prr = c.tcp.undo = mode == rack_tlp;
                FaultConfig f;
                f.seed = static_cast<std::uint64_t>(seed);
                f.on_transmit = true;
                f.drop = loss;
                c.faults = f;
                SimPair p(c);
                const Instant start = p.clock.now();
                Transfer t = run_transfer(p, 4 << 20, 5, Duration::seconds(600));
                ASSERT_EQ(t.received, t.size);
                ASSERT_FALSE(t.corrupt);
                total_ms += static_cast<double>((p.clock.now() - start).us()) / 1000.0;
                rexmits += p.a->tcp_layer().counters().retransmits;
                rtos += p.a->tcp_layer().counters().rto_expired;
                probes += p.a->tcp_layer().counters().tlp_probes;
            }
            const char* name = mode == no_sack ? "no SACK" : mode == rfc6675 ? "SACK RFC 6675" : "SACK RACK-TLP+PRR";
            std::printf("[figure] 4 MB, %.0f%% loss, %-17s: %8.1f ms (mean of %d; %llu retransmits, %llu RTOs, %llu TLPs)\n",
                        loss * 100, name, total_ms / runs, runs, static_cast<unsigned long long>(rexmits),
                        static_cast<unsigned long long>(rtos), static_cast<unsigned long long>(probes));
        }
    }
}

// A long clean transfer on a 100 Mb/s, 10 ms RTT link with a 64-frame
// bottleneck queue: CUBIC and NewReno both fill the pipe, find the queue's
// limit by loss, recover, and deliver every byte.
TEST(SimTcp, BottleneckTransferBothAlgorithms) {
    for (auto cc : {tcp::CcAlgorithm::newreno, tcp::CcAlgorithm::cubic}) {
        SCOPED_TRACE(cc == tcp::CcAlgorithm::cubic ? "cubic" : "newreno");
        SimPairConfig c;
        c.link.queue_frames = 64;
        c.tcp.congestion_control = cc;
        c.tcp.sndbuf = c.tcp.rcvbuf = 1 << 20;
        SimPair p(c);
        Transfer t = run_transfer(p, 16 << 20, 3, Duration::seconds(120));
        EXPECT_EQ(t.received, t.size);
        EXPECT_FALSE(t.corrupt);
        EXPECT_TRUE(t.eof);
        // The queue overflowed at least once: the algorithm met congestion.
        EXPECT_GT(p.a->tcp_layer().counters().retransmits, 0u);
    }
}

// --- offloads: checksum offload and TSO super-frames on the mem pipe ------

namespace {
MemLinkConfig offload_link(bool hand_over) {
    MemLinkConfig l{.queue_frames = 256, .bandwidth_bps = 1'000'000'000, .delay = Duration::millis(1)};
    l.csum_offload = true;
    l.tso_max = 65535;
    l.hand_over = hand_over;
    return l;
}
}  // namespace

TEST(SimTcp, OffloadTransferUsesSuperSegments) {
    for (bool hand_over : {true, false}) {
        SCOPED_TRACE(hand_over ? "hand_over" : "copy");
        SimPairConfig c;
        c.link = offload_link(hand_over);
        SimPair p(c);
        const std::uint64_t bytes = 8u << 20;
        Transfer t = run_transfer(p, bytes, 11, Duration::seconds(60));
        EXPECT_EQ(t.received, t.size);
        EXPECT_FALSE(t.corrupt);
        EXPECT_TRUE(t.eof);
        const tcp::TcpCounters& ca = p.a->tcp_layer().counters();
        const tcp::TcpCounters& cb = p.b->tcp_layer().counters();
        // Most bytes left in super-segments: far fewer segments than MSS
        // segments would take (8 MiB / 1448 = 5794), every one received as one.
        if (std::getenv("UINET_SIM_DUMP")) std::printf("%s\n%s\n", p.a->counters_json().c_str(), p.b->counters_json().c_str());
        EXPECT_GT(ca.super_segs_out, 50u);
        EXPECT_EQ(cb.super_segs_in, ca.super_segs_out);
        EXPECT_LT(ca.segs_out, bytes / 1448 / 4);
        EXPECT_EQ(ca.retransmits, 0u);
        EXPECT_EQ(ca.bad_checksum + cb.bad_checksum, 0u);
        EXPECT_EQ(p.a->net().counters().ip_tx_too_big, 0u);
        // A super-segment is ACKed at once: about one ACK per super-segment
        // (plus window updates), not one per two MSS.
        EXPECT_LT(cb.segs_out, ca.segs_out * 3);
        p.run_for(Duration::seconds(200));
        EXPECT_EQ(p.a->tcp_layer().tcb_count(), 0u);
        EXPECT_EQ(p.b->tcp_layer().tcb_count(), 0u);
    }
}

TEST(SimTcp, OffloadPipeBehindFaultInjectorLossyOverSeeds) {
    // The fault injector masks the offloads: a's TCP checksums in software
    // and never builds super-frames, so corruption is caught and loss
    // recovered by MSS-sized segments; b (no wrapper) keeps offloads.
    for (std::uint64_t seed = 1; seed <= 60; ++seed) {
        SCOPED_TRACE("seed " + std::to_string(seed));
        SimPairConfig c;
        c.seed = seed;
        c.link = offload_link(seed % 2 == 0);
        FaultConfig f;
        f.seed = seed;
        f.on_transmit = f.on_receive = true;
        f.drop = static_cast<double>(seed % 6) * 0.03;
        f.duplicate = 0.01;
        f.reorder = 0.02;
        f.corrupt = 0.02;
        f.corrupt_min_offset = 42;
        c.faults = f;
        SimPair p(c);
        Transfer t = run_transfer(p, 64 * 1024 + (seed * 7919) % (256 * 1024), seed, Duration::seconds(3600));
        ASSERT_FALSE(t.corrupt);
        ASSERT_EQ(t.received, t.size);
        ASSERT_TRUE(t.eof);
        EXPECT_EQ(p.a->tcp_layer().counters().super_segs_out, 0u);
        EXPECT_EQ(p.b->tcp_layer().counters().super_segs_in, 0u);
    }
}
