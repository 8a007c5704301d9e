#include "link/fault.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <set>

#include "link/mem_pipe.hpp"
#include "link_test_util.hpp"
#include "wire/checksum.hpp"
#include "wire/ipv4.hpp"

using namespace uinet;
using namespace uinet::test;

namespace {

Instant at_ms(std::int64_t ms) { return Instant::from_ns(ms * 1000000); }

struct Rig {
    explicit Rig(FaultConfig cfg) {
        auto f = std::make_unique<FakeDevice>(pool);
        fake = f.get();
        fi = std::make_unique<FaultInjector>(std::move(f), pool, cfg);
        fi->set_observer([this](FaultKind k, Bytes b, bool tx) {
            kinds.push_back(k);
            seen.emplace_back(b.begin(), b.end());
            dirs.push_back(tx);
        });
    }
    std::vector<Frame> frames(std::size_t n, std::size_t len = 100) {
        std::vector<Frame> v;
        for (std::size_t i = 0; i < n; ++i) v.push_back(make_frame(len, static_cast<std::uint8_t>(i)));
        return v;
    }
    Pool pool;
    FakeDevice* fake = nullptr;
    std::unique_ptr<FaultInjector> fi;
    std::vector<FaultKind> kinds;
    std::vector<Frame> seen;
    std::vector<bool> dirs;
};

int bit_difference(const Frame& a, const Frame& b, std::size_t* first_byte = nullptr) {
    int bits = 0;
    for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
        const int d = std::popcount(static_cast<unsigned>(a[i] ^ b[i]));
        if (d && first_byte && bits == 0) *first_byte = i;
        bits += d;
    }
    return bits;
}

}  // namespace

TEST(FaultInjector, PassesEverythingByDefault) {
    Rig r({});
    auto f = r.frames(10);
    EXPECT_EQ(send(*r.fi, r.pool, at_ms(0), f), 10u);
    EXPECT_EQ(r.fake->sent, f);
    EXPECT_EQ(r.kinds, std::vector<FaultKind>(10, FaultKind::pass));
    EXPECT_EQ(r.fi->fault_stats().tx.passed, 10u);
    EXPECT_EQ(r.fi->stats().tx_packets, 10u);
    EXPECT_EQ(r.fi->stats().tx_bytes, 1000u);
}

TEST(FaultInjector, DropAll) {
    Rig r({.drop = 1});
    EXPECT_EQ(send(*r.fi, r.pool, at_ms(0), r.frames(10)), 10u);
    EXPECT_TRUE(r.fake->sent.empty());
    EXPECT_EQ(r.fi->fault_stats().tx.dropped, 10u);
    EXPECT_EQ(r.fi->stats().tx_dropped, 10u);
    EXPECT_EQ(r.kinds, std::vector<FaultKind>(10, FaultKind::drop));
    EXPECT_EQ(r.seen, r.frames(10));
    EXPECT_EQ(r.pool.stats().in_use, 0u);
}

TEST(FaultInjector, DuplicateAll) {
    Rig r({.duplicate = 1});
    auto f = r.frames(3);
    send(*r.fi, r.pool, at_ms(0), f);
    EXPECT_EQ(r.fake->sent, (std::vector<Frame>{f[0], f[0], f[1], f[1], f[2], f[2]}));
    EXPECT_EQ(r.fi->fault_stats().tx.duplicated, 3u);
    EXPECT_EQ(r.kinds, std::vector<FaultKind>(3, FaultKind::duplicate));  // one call per frame
}

TEST(FaultInjector, DuplicateWithoutBuffersPasses) {
    Pool small({.count = 1, .buf_size = 2048, .headroom = 128});
    Pool senders;
    auto f = std::make_unique<FakeDevice>(senders);
    FakeDevice* fake = f.get();
    FaultInjector fi(std::move(f), small, {.duplicate = 1});
    auto busy = small.alloc();  // the injector's pool is now empty
    send(fi, senders, at_ms(0), {make_frame(64, 1)});
    EXPECT_EQ(fake->sent.size(), 1u);
    EXPECT_EQ(fi.fault_stats().tx.no_buffer, 1u);
    EXPECT_EQ(fi.fault_stats().tx.duplicated, 0u);
}

TEST(FaultInjector, ReorderSwapsPairsAndReleasesTheLastOneLater) {
    Rig r({.reorder = 1, .reorder_max_hold = Duration::millis(5)});
    auto f = r.frames(5);
    send(*r.fi, r.pool, at_ms(0), f);
    EXPECT_EQ(r.fake->sent, (std::vector<Frame>{f[1], f[0], f[3], f[2]}));
    EXPECT_EQ(r.kinds, (std::vector<FaultKind>{FaultKind::reorder, FaultKind::pass, FaultKind::reorder,
                                               FaultKind::pass, FaultKind::reorder}));
    EXPECT_EQ(r.fi->held(), 1u);
    EXPECT_EQ(r.fi->next_deadline(), at_ms(5));
    std::vector<Packet> out(4);
    r.fi->receive(at_ms(4), out);
    EXPECT_EQ(r.fake->sent.size(), 4u);
    r.fi->receive(at_ms(5), out);  // time-driven release happens on receive() too
    ASSERT_EQ(r.fake->sent.size(), 5u);
    EXPECT_EQ(r.fake->sent[4], f[4]);
    EXPECT_EQ(r.fake->sent_at[4], at_ms(5));
    EXPECT_EQ(r.fi->next_deadline(), Instant::never());
}

TEST(FaultInjector, CorruptFlipsExactlyOneBitPastTheHeader) {
    Rig r({.corrupt = 1});
    const std::size_t len = 20;  // 6 bytes = 48 bits past the Ethernet header
    std::vector<Frame> f;
    for (int i = 0; i < 2000; ++i) f.push_back(make_frame(len, static_cast<std::uint8_t>(i)));
    send(*r.fi, r.pool, at_ms(0), f);
    ASSERT_EQ(r.fake->sent.size(), f.size());
    std::set<std::size_t> positions;
    for (std::size_t i = 0; i < f.size(); ++i) {
        const Frame& out = r.fake->sent[i];
        ASSERT_EQ(out.size(), len);
        std::size_t byte = 0;
        ASSERT_EQ(bit_difference(f[i], out, &byte), 1) << "frame " << i;
        EXPECT_GE(byte, 14u);
        for (int bit = 0; bit < 8; ++bit)
            if ((f[i][byte] ^ out[byte]) == (1 << bit)) positions.insert(byte * 8 + static_cast<std::size_t>(bit));
        EXPECT_EQ(r.seen[i], out);  // the observer sees the corrupted bytes
    }
    EXPECT_EQ(positions.size(), 48u);  // every eligible bit position gets picked
    EXPECT_EQ(r.fi->fault_stats().tx.corrupted, 2000u);
}

TEST(FaultInjector, CorruptHonoursMinOffsetAndShortFrames) {
    Rig r({.corrupt = 1, .corrupt_min_offset = 34});
    auto f = r.frames(50, 40);
    f.push_back(make_frame(34, 99));  // nothing past the offset: passes untouched
    send(*r.fi, r.pool, at_ms(0), f);
    for (std::size_t i = 0; i < 50; ++i) {
        std::size_t byte = 0;
        ASSERT_EQ(bit_difference(f[i], r.fake->sent[i], &byte), 1);
        EXPECT_GE(byte, 34u);
    }
    EXPECT_EQ(r.fake->sent[50], f[50]);
    EXPECT_EQ(r.kinds.back(), FaultKind::pass);
}

TEST(FaultInjector, CorruptCopiesSharedFrames) {
    Rig r({.corrupt = 1});
    const Frame f = make_frame(200, 7);
    Packet original = packet_of(r.pool, f);
    std::vector<Packet> pkts;
    pkts.push_back(original.share());
    r.fi->transmit(at_ms(0), pkts);
    EXPECT_EQ(bytes_of(original), f);  // the sender's copy is untouched
    ASSERT_EQ(r.fake->sent.size(), 1u);
    EXPECT_EQ(bit_difference(f, r.fake->sent[0]), 1);
}

TEST(FaultInjector, CorruptChainedFrame) {
    Pool small({.count = 64, .buf_size = 128, .headroom = 16});
    auto fd = std::make_unique<FakeDevice>(small);
    FakeDevice* fake = fd.get();
    FaultInjector fi(std::move(fd), small, {.corrupt = 1, .seed = 77});
    std::vector<Frame> f;
    for (int i = 0; i < 50; ++i) f.push_back(make_frame(600, static_cast<std::uint8_t>(i)));
    std::size_t late = 0;
    for (const Frame& x : f) {
        std::vector<Packet> one;
        one.push_back(packet_of(small, x));
        ASSERT_TRUE(one[0].is_chain());
        fi.transmit(at_ms(0), one);
    }
    for (std::size_t i = 0; i < f.size(); ++i) {
        std::size_t byte = 0;
        ASSERT_EQ(bit_difference(f[i], fake->sent[i], &byte), 1);
        if (byte >= 112) ++late;  // past the first buffer
    }
    EXPECT_GT(late, 0u);
}

TEST(FaultInjector, DelayHoldsFramesUntilDue) {
    Rig r({.delay = Duration::millis(10)});
    auto f = r.frames(3);
    send(*r.fi, r.pool, at_ms(0), {f[0], f[1]});
    send(*r.fi, r.pool, at_ms(3), {f[2]});
    EXPECT_TRUE(r.fake->sent.empty());
    EXPECT_EQ(r.kinds, std::vector<FaultKind>(3, FaultKind::delay));
    EXPECT_EQ(r.fi->held(), 3u);
    EXPECT_EQ(r.fi->next_deadline(), at_ms(10));
    std::vector<Packet> out(4);
    r.fi->receive(at_ms(9), out);
    EXPECT_TRUE(r.fake->sent.empty());
    r.fi->receive(at_ms(11), out);
    EXPECT_EQ(r.fake->sent, (std::vector<Frame>{f[0], f[1]}));
    EXPECT_EQ(r.fi->next_deadline(), at_ms(13));
    send(*r.fi, r.pool, at_ms(13), {});  // transmit() releases due frames too
    EXPECT_EQ(r.fake->sent.size(), 3u);
    EXPECT_EQ(r.fake->sent[2], f[2]);
    EXPECT_EQ(r.fi->fault_stats().tx.delayed, 3u);
}

TEST(FaultInjector, JitterStaysWithinBoundsAndIsReproducible) {
    auto run = [](std::uint64_t seed) {
        Rig r({.delay = Duration::millis(10), .jitter = Duration::millis(5), .seed = seed});
        send(*r.fi, r.pool, at_ms(0), r.frames(100));
        std::vector<Packet> out(4);
        for (int ms = 0; ms <= 16; ++ms) r.fi->receive(at_ms(ms), out);
        return std::make_pair(r.fake->sent, r.fake->sent_at);
    };
    auto [frames, when] = run(5);
    ASSERT_EQ(when.size(), 100u);
    std::set<std::int64_t> distinct;
    for (Instant t : when) {
        EXPECT_GE(t, at_ms(10));
        EXPECT_LE(t, at_ms(15));
        distinct.insert(t.ns());
    }
    EXPECT_GT(distinct.size(), 1u);
    auto again = run(5);
    EXPECT_EQ(again.first, frames);
    EXPECT_EQ(again.second, when);
}

TEST(FaultInjector, DelayQueueOverflowDrops) {
    Rig r({.delay = Duration::millis(1), .delay_queue = 2});
    send(*r.fi, r.pool, at_ms(0), r.frames(3));
    EXPECT_EQ(r.kinds, (std::vector<FaultKind>{FaultKind::delay, FaultKind::delay, FaultKind::drop}));
    EXPECT_EQ(r.fi->fault_stats().tx.delay_overflow, 1u);
    EXPECT_EQ(r.fi->stats().tx_dropped, 1u);
    std::vector<Packet> out(1);
    r.fi->receive(at_ms(1), out);
    EXPECT_EQ(r.fake->sent.size(), 2u);
}

TEST(FaultInjector, SameSeedSameDecisions) {
    const FaultConfig cfg{.drop = 0.1, .duplicate = 0.1, .reorder = 0.1, .corrupt = 0.1, .seed = 42};
    auto run = [&](FaultConfig c) {
        Rig r(c);
        std::vector<Frame> f;
        for (int i = 0; i < 500; ++i) f.push_back(make_frame(64 + i % 50, static_cast<std::uint8_t>(i)));
        send(*r.fi, r.pool, at_ms(0), f);
        return std::make_pair(r.kinds, r.fake->sent);
    };
    const auto a = run(cfg);
    const auto b = run(cfg);
    EXPECT_EQ(a.first, b.first);
    EXPECT_EQ(a.second, b.second);
    FaultConfig other = cfg;
    other.seed = 43;
    EXPECT_NE(run(other).first, a.first);
    // Each kind shows up with roughly its probability.
    for (FaultKind k : {FaultKind::drop, FaultKind::duplicate, FaultKind::reorder, FaultKind::corrupt}) {
        const auto n = std::count(a.first.begin(), a.first.end(), k);
        EXPECT_GT(n, 20) << to_string(k);
        EXPECT_LT(n, 90) << to_string(k);
    }
}

TEST(FaultInjector, ReceiveDirectionOnly) {
    Rig r({.drop = 1, .on_transmit = false, .on_receive = true});
    auto f = r.frames(4);
    send(*r.fi, r.pool, at_ms(0), f);
    EXPECT_EQ(r.fake->sent, f);  // transmit untouched
    EXPECT_TRUE(r.kinds.empty());
    for (auto& x : f) r.fake->incoming.push_back(x);
    EXPECT_TRUE(recv_all(*r.fi, at_ms(0)).empty());
    EXPECT_EQ(r.fi->fault_stats().rx.dropped, 4u);
    EXPECT_EQ(r.fi->stats().rx_dropped, 4u);
    EXPECT_EQ(r.dirs, std::vector<bool>(4, false));
}

TEST(FaultInjector, ReceiveDuplicatesWaitForRoom) {
    Rig r({.duplicate = 1, .on_transmit = false, .on_receive = true});
    auto f = r.frames(3);
    for (auto& x : f) r.fake->incoming.push_back(x);
    std::vector<Packet> out(2);
    ASSERT_EQ(r.fi->receive(at_ms(0), out), 2u);
    EXPECT_EQ(bytes_of(out[0]), f[0]);
    EXPECT_EQ(bytes_of(out[1]), f[0]);
    // More is ready: the deadline says "now".
    EXPECT_LT(r.fi->next_deadline(), at_ms(0));
    std::vector<Frame> rest = recv_all(*r.fi, at_ms(0), 2);
    EXPECT_EQ(rest, (std::vector<Frame>{f[1], f[1], f[2], f[2]}));
    EXPECT_EQ(r.fi->next_deadline(), Instant::never());
}

TEST(FaultInjector, ReceiveCorruptionClearsVerifiedChecksumFlag) {
    Pool pool;
    auto fd = std::make_unique<FakeDevice>(pool);
    fd->caps_.rx_csum_verified = true;
    fd->caps_.tx_csum_offload = true;
    fd->caps_.tso_max = 65536;
    fd->caps_.mtu = 9000;
    FakeDevice* fake = fd.get();
    FaultInjector fi(std::move(fd), pool, {.corrupt = 1, .on_transmit = false, .on_receive = true});
    const DeviceCaps c = fi.caps();
    EXPECT_EQ(c.mtu, 9000u);
    EXPECT_FALSE(c.rx_csum_verified);
    EXPECT_FALSE(c.tx_csum_offload);
    EXPECT_EQ(c.tso_max, 0u);
    fake->incoming.push_back(make_frame(100, 1));
    std::vector<Packet> out(1);
    fake->mark_verified = true;  // as a checksumming NIC would
    ASSERT_EQ(fi.receive(at_ms(0), out), 1u);
    EXPECT_FALSE(out[0].meta().rx_csum_verified);
    EXPECT_EQ(bit_difference(bytes_of(out[0]), make_frame(100, 1)), 1);
}

TEST(FaultInjector, InnerRefusalsAreCounted) {
    Rig r({});
    r.fake->accept_limit = 3;
    EXPECT_EQ(send(*r.fi, r.pool, at_ms(0), r.frames(5)), 5u);
    EXPECT_EQ(r.fake->sent.size(), 3u);
    EXPECT_EQ(r.fi->stats().tx_packets, 3u);
    EXPECT_EQ(r.fi->stats().tx_dropped, 2u);
    EXPECT_EQ(r.pool.stats().in_use, 0u);
}

TEST(FaultInjector, SetConfigChangesFaultsAndForwardsDeadlines) {
    Rig r({.drop = 1});
    send(*r.fi, r.pool, at_ms(0), r.frames(2));
    EXPECT_TRUE(r.fake->sent.empty());
    FaultConfig c = r.fi->config();
    c.drop = 0;
    r.fi->set_config(c);
    send(*r.fi, r.pool, at_ms(0), r.frames(2));
    EXPECT_EQ(r.fake->sent.size(), 2u);
    r.fake->deadline = at_ms(7);
    r.fake->fd = 42;
    EXPECT_EQ(r.fi->next_deadline(), at_ms(7));
    EXPECT_EQ(r.fi->poll_fd(), 42);
    EXPECT_EQ(&r.fi->inner(), r.fake);
}

// Wrappers stack: a lossy, delaying mem link, end to end.
TEST(FaultInjector, OverMemPipe) {
    Pool pa, pb;
    auto [a, b] = make_mem_pipe(pa, pb, {.delay = Duration::millis(1)});
    FaultInjector fa(std::move(a), pa, {.drop = 0.5, .delay = Duration::millis(2), .seed = 9});
    std::vector<bool> passed;
    fa.set_observer([&](FaultKind k, Bytes, bool) { passed.push_back(k != FaultKind::drop); });
    auto f = std::vector<Frame>{};
    for (int i = 0; i < 40; ++i) f.push_back(make_frame(80, static_cast<std::uint8_t>(i)));
    send(fa, pa, at_ms(0), f);
    std::vector<Frame> expect;
    for (std::size_t i = 0; i < f.size(); ++i)
        if (passed[i]) expect.push_back(f[i]);
    EXPECT_TRUE(recv_all(*b, at_ms(2)).empty());
    std::vector<Packet> none;
    fa.receive(at_ms(2), none);  // the injector releases its delayed frames into the pipe
    EXPECT_EQ(b->next_deadline(), at_ms(3));
    EXPECT_EQ(recv_all(*b, at_ms(3)), expect);
    EXPECT_GT(expect.size(), 5u);
    EXPECT_LT(expect.size(), 35u);
}

namespace {

// An untagged Ethernet frame carrying a 20-byte IPv4 header (checksummed)
// with the given TOS byte and `payload` bytes after it.
Frame ipv4_frame(std::uint8_t tos, std::size_t payload = 50) {
    Frame f(14 + 20 + payload, 0);
    f[12] = 0x08;
    f[13] = 0x00;
    wire::Ipv4Repr ip;
    ip.src = Ipv4Addr::of(198, 18, 0, 1);
    ip.dst = Ipv4Addr::of(198, 18, 0, 2);
    ip.protocol = 6;
    ip.ttl = 64;
    ip.tos = tos;
    ip.payload_len = static_cast<std::uint16_t>(payload);
    ip.emit({f.data() + 14, 20});
    return f;
}

}  // namespace

TEST(FaultInjector, CeMarkingRewritesOnlyEctFramesAndKeepsTheChecksum) {
    FaultConfig cfg;
    cfg.ce_mark = 1.0;
    Rig r(cfg);
    std::vector<Frame> f = {ipv4_frame(0x02), ipv4_frame(0x01), ipv4_frame(0x00), ipv4_frame(0xb8 | 0x02),
                            ipv4_frame(0x03), make_frame(100, 1)};
    EXPECT_EQ(send(*r.fi, r.pool, at_ms(0), f), f.size());
    ASSERT_EQ(r.fake->sent.size(), f.size());
    const std::uint8_t want_tos[] = {0x03, 0x03, 0x00, 0xbb, 0x03};
    for (std::size_t i = 0; i < 5; ++i) {
        const Frame& out = r.fake->sent[i];
        EXPECT_EQ(out[15], want_tos[i]) << i;
        // The header still verifies (RFC 1624 incremental update).
        EXPECT_EQ(wire::internet_checksum({out.data() + 14, 20}), 0) << i;
    }
    EXPECT_EQ(r.fake->sent[5], f[5]);  // not IPv4: untouched
    EXPECT_EQ(r.fi->fault_stats().tx.ce_marked, 3u);

    // With probability 0 nothing changes, and other faults' draws are the same.
    Rig plain({});
    EXPECT_EQ(send(*plain.fi, plain.pool, at_ms(0), f), f.size());
    EXPECT_EQ(plain.fake->sent, f);
    EXPECT_EQ(plain.fi->fault_stats().tx.ce_marked, 0u);
}
