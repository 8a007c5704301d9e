// The mem pipe's opt-in offloads (checksum offload, TSO super-frames), the
// hand-over mode (one copy per frame), and how the wrappers report them.
#include <gtest/gtest.h>

#include <cstdio>
#include <unistd.h>

#include "link/fault.hpp"
#include "link/mem_pipe.hpp"
#include "link/pcap_writer.hpp"
#include "link/vlan_tagger.hpp"
#include "link_test_util.hpp"

using namespace uinet;
using namespace uinet::test;

namespace {

const Instant t0 = Instant::from_ns(0);

MemLinkConfig offload_cfg(bool hand_over) {
    MemLinkConfig c;
    c.queue_frames = 8;
    c.csum_offload = true;
    c.tso_max = 65535;
    c.hand_over = hand_over;
    return c;
}

Packet frame_with(Pool& pool, const Frame& f, std::uint16_t tso_mss, bool partial) {
    Packet p = packet_of(pool, f);
    p.meta().tso_mss = tso_mss;
    p.meta().tx_csum_partial = partial;
    p.meta().csum_start = 34;
    p.meta().csum_offset = 16;
    return p;
}

std::size_t transmit_one(Device& d, Packet p) {
    std::vector<Packet> v;
    v.push_back(std::move(p));
    return d.transmit(t0, v);
}

}  // namespace

TEST(MemPipeOffload, CapsFollowTheConfig) {
    Pool pa, pb;
    {
        auto [a, b] = make_mem_pipe(pa, pb);
        const DeviceCaps c = a->caps();
        EXPECT_FALSE(c.tx_csum_offload);
        EXPECT_FALSE(c.rx_csum_verified);
        EXPECT_EQ(c.tso_max, 0u);
        EXPECT_EQ(a->max_super_frame(), 0u);
    }
    {
        auto [a, b] = make_mem_pipe(pa, pb, offload_cfg(false));
        EXPECT_TRUE(b->caps().tx_csum_offload);
        EXPECT_TRUE(b->caps().rx_csum_verified);
        EXPECT_EQ(b->caps().tso_max, 65535u);
        EXPECT_EQ(b->max_super_frame(), 65535u + 14 + 64);
    }
    {
        MemLinkConfig c;
        c.tso_max = 100000;  // TSO without checksum offload: not offered
        auto [a, b] = make_mem_pipe(pa, pb, c);
        EXPECT_EQ(a->caps().tso_max, 0u);
        c.csum_offload = true;  // and never beyond the largest IPv4 datagram
        auto [a2, b2] = make_mem_pipe(pa, pb, c);
        EXPECT_EQ(a2->caps().tso_max, 65535u);
    }
}

TEST(MemPipeOffload, SuperFramesNeedTsoMssAndPartialChecksum) {
    for (bool hand_over : {false, true}) {
        SCOPED_TRACE(hand_over ? "hand_over" : "copy");
        Pool pa, pb;
        auto [a, b] = make_mem_pipe(pa, pb, offload_cfg(hand_over));
        const Frame big = make_frame(40000, 7);
        EXPECT_EQ(transmit_one(*a, frame_with(pa, big, 0, true)), 1u);      // no tso_mss
        EXPECT_EQ(transmit_one(*a, frame_with(pa, big, 1448, false)), 1u);  // checksum not partial
        EXPECT_EQ(transmit_one(*a, frame_with(pa, make_frame(65535 + 14 + 65, 1), 1448, true)), 1u);  // too long
        EXPECT_EQ(a->stats().tx_errors, 3u);
        EXPECT_EQ(a->stats().tx_packets, 0u);
        EXPECT_EQ(transmit_one(*a, frame_with(pa, big, 1448, true)), 1u);
        EXPECT_EQ(a->stats().tx_errors, 3u);
        EXPECT_EQ(a->stats().tx_packets, 1u);
        std::vector<Packet> out(4);
        ASSERT_EQ(b->receive(t0, out), 1u);  // one frame, whole
        EXPECT_EQ(bytes_of(out[0]), big);
        EXPECT_EQ(out[0].meta().tso_mss, 1448u);
        EXPECT_TRUE(out[0].meta().rx_csum_verified);
        EXPECT_FALSE(out[0].meta().tx_csum_partial);
        EXPECT_EQ(&out[0].pool(), &pb);
    }
}

TEST(MemPipeOffload, SuperFramesRefusedWithoutTso) {
    Pool pa, pb;
    MemLinkConfig c;
    c.csum_offload = true;  // checksum offload alone
    auto [a, b] = make_mem_pipe(pa, pb, c);
    EXPECT_EQ(transmit_one(*a, frame_with(pa, make_frame(4000, 1), 1448, true)), 1u);
    EXPECT_EQ(a->stats().tx_errors, 1u);
    EXPECT_EQ(b->pending(), 0u);
}

TEST(MemPipeOffload, OnlyPartialChecksumsArriveVerified) {
    for (bool offload : {false, true}) {
        SCOPED_TRACE(offload ? "csum_offload" : "plain");
        Pool pa, pb;
        MemLinkConfig c;
        c.csum_offload = offload;
        auto [a, b] = make_mem_pipe(pa, pb, c);
        transmit_one(*a, frame_with(pa, make_frame(200, 1), 0, true));   // checksum left to the device
        transmit_one(*a, frame_with(pa, make_frame(200, 2), 0, false));  // computed by software
        std::vector<Packet> out(4);
        ASSERT_EQ(b->receive(t0, out), 2u);
        // Without offload the flag means nothing to the pipe; with it, only
        // a frame whose checksum the device was to finish counts as verified:
        // a software checksum (maybe corrupted above the pipe) is checked.
        EXPECT_EQ(out[0].meta().rx_csum_verified, offload);
        EXPECT_FALSE(out[1].meta().rx_csum_verified);
        EXPECT_EQ(out[0].meta().tso_mss, 0u);
    }
}

TEST(MemPipeOffload, HandOverCopiesOnceAndGivesBuffersBack) {
    Pool pa({.count = 64, .buf_size = 256, .headroom = 32});
    Pool pb({.count = 64, .buf_size = 256, .headroom = 32});
    MemLinkConfig c;
    c.hand_over = true;
    c.queue_frames = 4;
    auto [a, b] = make_mem_pipe(pa, pb, c);
    const Frame f = make_frame(1000, 3);  // a chain of several buffers
    send(*a, pa, t0, {f, f});
    const std::size_t held = pa.stats().in_use;
    EXPECT_GE(held, 8u);  // the queue holds the sender's own buffers
    EXPECT_EQ(recv_all(*b, t0), (std::vector<Frame>{f, f}));
    EXPECT_EQ(pb.stats().in_use, 0u);
    EXPECT_EQ(pa.stats().in_use, held);  // consumed, but freed only on a's thread ...
    std::vector<Packet> none;
    a->transmit(t0, none);
    EXPECT_EQ(pa.stats().in_use, 0u);  // ... at its next transmit
    // The queue bound still counts frames in flight; drops free at once.
    send(*a, pa, t0, {f, f, f, f, f});
    EXPECT_EQ(a->stats().tx_dropped, 1u);
    EXPECT_EQ(b->pending(), 4u);
    // Destroying the sending end gives its queued frames back to its pool.
    a.reset();
    EXPECT_EQ(pa.stats().in_use, 0u);
    EXPECT_EQ(b->pending(), 0u);
}

TEST(MemPipeOffload, HandOverRxPoolExhaustionIsCounted) {
    Pool pa;
    Pool pb({.count = 2, .buf_size = 256, .headroom = 32});
    MemLinkConfig c;
    c.hand_over = true;
    auto [a, b] = make_mem_pipe(pa, pb, c);
    send(*a, pa, t0, {make_frame(1000, 1)});  // needs 5 buffers of pb
    EXPECT_TRUE(recv_all(*b, t0).empty());
    EXPECT_EQ(b->stats().rx_dropped, 1u);
    EXPECT_EQ(pb.stats().in_use, 0u);
    a->transmit(t0, std::span<Packet>());
    EXPECT_EQ(pa.stats().in_use, 0u);
}

TEST(MemPipeOffload, WrappersReportCapsHonestly) {
    Pool pa, pb;
    {
        auto [a, b] = make_mem_pipe(pa, pb, offload_cfg(false));
        FaultInjector fi(std::move(a), pa, FaultConfig{});
        EXPECT_FALSE(fi.caps().tx_csum_offload);
        EXPECT_FALSE(fi.caps().rx_csum_verified);
        EXPECT_EQ(fi.caps().tso_max, 0u);
    }
    {
        auto [a, b] = make_mem_pipe(pa, pb, offload_cfg(false));
        char tmpl[] = "/tmp/uinet_offload_XXXXXX";
        const int fd = ::mkstemp(tmpl);
        ASSERT_GE(fd, 0);
        ::close(fd);
        auto w = PcapWriter::create(tmpl);
        ASSERT_TRUE(w);
        PcapCapture cap(std::move(a), std::move(*w));
        // The capture sees frames as the wire would: complete, MTU-sized.
        EXPECT_FALSE(cap.caps().tx_csum_offload);
        EXPECT_EQ(cap.caps().tso_max, 0u);
        EXPECT_EQ(cap.caps().mtu, 1500u);
        std::remove(tmpl);
    }
    {
        auto [a, b] = make_mem_pipe(pa, pb, offload_cfg(false));
        VlanTagger vt(std::move(a), {{0x8100, 100}});
        // Tags do not touch the datagram: the offloads pass through.
        EXPECT_TRUE(vt.caps().tx_csum_offload);
        EXPECT_EQ(vt.caps().tso_max, 65535u);
    }
}
