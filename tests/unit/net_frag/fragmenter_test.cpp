#include "net/ipv4_fragmenter.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <random>
#include <vector>

#include "frag_util.hpp"
#include "net/ipv4_reassembly.hpp"

using namespace frag_test;

namespace {

struct Emitted {
    std::uint16_t offset;
    bool more;
    Packet piece;
};

// Fragments `payload` and checks the shape of every piece; returns them.
std::vector<Emitted> fragment_checked(const Packet& payload, std::size_t mtu, std::size_t hlen, Pool& pool,
                                      std::size_t headroom) {
    std::vector<Emitted> out;
    bool ok = fragment_payload(payload, mtu, hlen, pool, headroom, [&](std::uint16_t off, bool more, Packet p) {
        out.push_back({off, more, std::move(p)});
    });
    EXPECT_TRUE(ok);
    std::size_t expect_off = 0;
    for (std::size_t i = 0; i < out.size(); ++i) {
        const Emitted& e = out[i];
        const std::size_t n = e.piece.size();
        EXPECT_EQ(e.offset, expect_off);
        EXPECT_EQ(e.more, i + 1 < out.size());
        EXPECT_LE(hlen + n, mtu);
        if (e.more) EXPECT_EQ(n % 8, 0u);
        if (e.more) EXPECT_GT(hlen + n + 8, mtu);  // as large as allowed
        EXPECT_TRUE(e.piece.unique());
        EXPECT_EQ(e.piece.front().headroom(), std::min(headroom, pool.config().buf_size));
        expect_off += n;
    }
    EXPECT_EQ(expect_off, payload.empty() ? 0 : payload.size());
    return out;
}

}  // namespace

TEST(Ipv4Fragmenter, RoundTripThroughReassembly) {
    // Payloads are chains of small buffers; pieces are reassembled in a
    // shuffled order and must reproduce the payload exactly.
    Pool src_pool({.count = 256, .buf_size = 512, .headroom = 0});
    Pool pool({.count = 1024, .buf_size = 2048, .headroom = 128});
    ReassemblyConfig cfg;
    cfg.max_fragments_per_datagram = 1024;  // 5000 bytes in 8-byte pieces (MTU 68, 60-byte header)
    cfg.max_bytes = 4 << 20;
    Ipv4Reassembler r(cfg);
    std::mt19937 rng(7);
    std::size_t datagrams = 0;
    for (std::size_t mtu : {68u, 576u, 1500u}) {
        for (std::size_t hlen : {20u, 60u}) {
            for (std::size_t size = 1; size <= 5000; size += (size < 100 ? 1 : 97)) {
                auto data = pattern(size, static_cast<std::uint32_t>(size * 31 + mtu));
                Packet payload = src_pool.copy_of(Bytes(data), 0);
                ASSERT_TRUE(payload);
                auto pieces = fragment_checked(payload, mtu, hlen, pool, 54);
                if (::testing::Test::HasFailure()) return;
                std::shuffle(pieces.begin(), pieces.end(), rng);
                FragKey key = key_n(static_cast<std::uint32_t>(size));
                std::optional<ReassemblyDone> done;
                for (std::size_t i = 0; i < pieces.size(); ++i) {
                    // The receive side sees the pieces after the headers are gone.
                    done = r.add(at_ms(0), key, pieces[i].offset, pieces[i].more, std::move(pieces[i].piece), {});
                    ASSERT_EQ(done.has_value(), i + 1 == pieces.size()) << "mtu " << mtu << " size " << size;
                }
                ASSERT_EQ(contents(done->payload), data) << "mtu " << mtu << " size " << size;
                ++datagrams;
                done.reset();
                payload.reset();
                ASSERT_EQ(pool.stats().in_use, 0u);
                ASSERT_EQ(src_pool.stats().in_use, 0u);
            }
        }
    }
    EXPECT_EQ(r.stats().datagrams_done, datagrams);
    EXPECT_EQ(pool.stats().alloc_failures, 0u);
}

TEST(Ipv4Fragmenter, PieceSizesForStandardMtus) {
    Pool pool({.count = 600, .buf_size = 2048, .headroom = 128});
    auto data = pattern(4000, 1);
    Packet payload = pool.copy_of(Bytes(data), 0);
    auto pieces = fragment_checked(payload, 1500, 20, pool, 64);
    ASSERT_EQ(pieces.size(), 3u);
    EXPECT_EQ(pieces[0].piece.size(), 1480u);
    EXPECT_EQ(pieces[1].offset, 1480u);
    EXPECT_EQ(pieces[2].piece.size(), 4000u - 2960u);
    pieces = fragment_checked(payload, 576, 24, pool, 64);
    ASSERT_EQ(pieces.size(), 8u);
    EXPECT_EQ(pieces[0].piece.size(), 552u);  // (576 - 24) rounded down to 8
    pieces = fragment_checked(payload, 68, 60, pool, 64);
    EXPECT_EQ(pieces[0].piece.size(), 8u);
    EXPECT_EQ(pieces.size(), 500u);
}

TEST(Ipv4Fragmenter, PayloadFittingOneFragmentAndEmptyPayload) {
    Pool pool({.count = 8, .buf_size = 2048, .headroom = 128});
    auto data = pattern(100, 2);
    Packet payload = pool.copy_of(Bytes(data), 0);
    auto pieces = fragment_checked(payload, 1500, 20, pool, 64);
    ASSERT_EQ(pieces.size(), 1u);
    EXPECT_FALSE(pieces[0].more);
    EXPECT_EQ(contents(pieces[0].piece), data);
    pieces = fragment_checked(Packet(), 1500, 20, pool, 64);
    ASSERT_EQ(pieces.size(), 1u);
    EXPECT_EQ(pieces[0].piece.size(), 0u);
}

TEST(Ipv4Fragmenter, SharedPayloadIsOnlyRead) {
    Pool pool({.count = 16, .buf_size = 2048, .headroom = 128});
    auto data = pattern(3000, 3);
    Packet payload = pool.copy_of(Bytes(data), 0);
    Packet other = payload.share();
    auto pieces = fragment_checked(payload, 1500, 20, pool, 64);
    EXPECT_EQ(pieces.size(), 3u);
    EXPECT_EQ(contents(other), data);
}

TEST(Ipv4Fragmenter, RejectsImpossibleRequestsWithoutEmitting) {
    Pool pool({.count = 64, .buf_size = 2048, .headroom = 128});
    auto data = pattern(1000, 4);
    Packet payload = pool.copy_of(Bytes(data), 0);
    int emitted = 0;
    auto count = [&](std::uint16_t, bool, Packet) { ++emitted; };
    EXPECT_FALSE(fragment_payload(payload, 67, 20, pool, 64, count));   // below RFC 791's 68
    EXPECT_FALSE(fragment_payload(payload, 0, 20, pool, 64, count));
    EXPECT_FALSE(fragment_payload(payload, 1500, 16, pool, 64, count));  // header too short
    EXPECT_FALSE(fragment_payload(payload, 1500, 64, pool, 64, count));  // header too long
    EXPECT_FALSE(fragment_payload(payload, 1500, 22, pool, 64, count));  // not whole words
    EXPECT_TRUE(fragment_payload(payload, 68, 20, pool, 64, count));
    EXPECT_EQ(emitted, 21);  // 1000 / 48, rounded up

    // A datagram beyond 65535 bytes cannot be expressed.
    Pool big({.count = 40, .buf_size = 2048, .headroom = 0});
    auto huge = pattern(65535 - 20 + 1, 5);
    Packet too_big = big.copy_of(Bytes(huge), 0);
    ASSERT_TRUE(too_big);
    emitted = 0;
    EXPECT_FALSE(fragment_payload(too_big, 1500, 20, pool, 64, count));
    EXPECT_EQ(emitted, 0);
    too_big.trim(65535 - 20);
    EXPECT_TRUE(fragment_payload(too_big, 9000, 20, pool, 64, count));
    EXPECT_EQ(emitted, 8);
}

TEST(Ipv4Fragmenter, DryPoolFailsUpFrontWithoutEmitting) {
    Pool src({.count = 8, .buf_size = 2048, .headroom = 0});
    auto data = pattern(5000, 6);
    Packet payload = src.copy_of(Bytes(data), 0);
    Pool pool({.count = 3, .buf_size = 2048, .headroom = 128});  // 4 pieces at MTU 1500
    int emitted = 0;
    EXPECT_FALSE(fragment_payload(payload, 1500, 20, pool, 64, [&](std::uint16_t, bool, Packet) { ++emitted; }));
    EXPECT_EQ(emitted, 0);
    EXPECT_EQ(pool.stats().in_use, 0u);
    EXPECT_EQ(pool.stats().allocs, 0u);
    // Headroom beyond a buffer's tailroom makes each piece a chain: the
    // up-front check counts those buffers too.
    Pool tight({.count = 6, .buf_size = 1024, .headroom = 0});
    EXPECT_FALSE(fragment_payload(payload, 1500, 20, tight, 64, [&](std::uint16_t, bool, Packet) { ++emitted; }));
    EXPECT_EQ(emitted, 0);
    EXPECT_EQ(tight.stats().allocs, 0u);
    auto plan = plan_fragments(5000, 1500, 20, tight, 64);
    ASSERT_TRUE(plan);
    EXPECT_EQ(plan->pieces, 4u);
    EXPECT_EQ(plan->buffers, 3u * 2u + 1u);  // 1480 = 960 + 520; the last 560 fits one
}

TEST(Ipv4Fragmenter, PlanMatchesBuffersActuallyUsed) {
    Pool src({.count = 64, .buf_size = 2048, .headroom = 0});
    for (std::size_t buf_size : {256u, 600u, 2048u}) {
        for (std::size_t headroom : {0u, 64u, 200u, 4000u}) {
            Pool pool({.count = 1024, .buf_size = buf_size, .headroom = 0});
            for (std::size_t size : {0u, 1u, 8u, 1479u, 1480u, 1481u, 4000u, 20000u}) {
                auto data = pattern(size, 7);
                Packet payload = size ? src.copy_of(Bytes(data), 0) : Packet();
                auto plan = plan_fragments(size, 1500, 20, pool, headroom);
                ASSERT_TRUE(plan);
                std::vector<Packet> kept;
                std::vector<std::uint8_t> joined;
                ASSERT_TRUE(fragment_payload(payload, 1500, 20, pool, headroom, [&](std::uint16_t, bool, Packet p) {
                    auto c = contents(p);
                    joined.insert(joined.end(), c.begin(), c.end());
                    kept.push_back(std::move(p));
                }));
                EXPECT_EQ(kept.size(), plan->pieces);
                EXPECT_EQ(pool.stats().in_use, plan->buffers)
                    << "buf " << buf_size << " headroom " << headroom << " size " << size;
                EXPECT_EQ(joined, data);
            }
        }
    }
    EXPECT_EQ(src.stats().in_use, 0u);
}

TEST(Ipv4Fragmenter, PoolRunningDryInsideEmitIsReported) {
    // emit() itself takes buffers from the same pool (as a caller pushing
    // headers into a fresh buffer would): the pool runs dry part way.
    Pool src({.count = 8, .buf_size = 2048, .headroom = 0});
    auto data = pattern(6000, 8);
    Packet payload = src.copy_of(Bytes(data), 0);
    Pool pool({.count = 6, .buf_size = 2048, .headroom = 128});  // 5 pieces fit the up-front check
    std::vector<Packet> hoard;
    std::vector<Packet> got;
    bool ok = fragment_payload(payload, 1500, 20, pool, 64, [&](std::uint16_t, bool, Packet p) {
        got.push_back(std::move(p));
        hoard.push_back(pool.alloc());
    });
    EXPECT_FALSE(ok);
    EXPECT_FALSE(got.empty());
    EXPECT_LT(got.size(), 5u);
    got.clear();  // the caller discards the partial output
    hoard.clear();
    EXPECT_EQ(pool.stats().in_use, 0u);
}

TEST(Ipv4Fragmenter, OptionsCopiedIntoLaterFragments) {
    // Record route (7, not copied), NOP, security (130, copied),
    // loose source route (131, copied), end of list.
    const std::vector<std::uint8_t> opts = {7,   7,   4,   0,   0,    0, 0, 1, 130, 4, 0xaa, 0xbb,
                                            131, 7,   4,   1,   2,    3, 4, 0, 0,   0, 0,    0};
    std::array<std::uint8_t, 40> out{};
    auto n = ipv4_fragment_options(Bytes(opts), MutBytes(out));
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 12u);  // 4 + 7, padded to 12
    const std::vector<std::uint8_t> expect = {130, 4, 0xaa, 0xbb, 131, 7, 4, 1, 2, 3, 4, 0};
    EXPECT_EQ(std::vector<std::uint8_t>(out.begin(), out.begin() + 12), expect);

    const std::vector<std::uint8_t> none = {7, 3, 4, 1};
    n = ipv4_fragment_options(Bytes(none), MutBytes(out));
    ASSERT_TRUE(n);
    EXPECT_EQ(*n, 0u);
    EXPECT_EQ(ipv4_fragment_options({}, MutBytes(out)), std::optional<std::size_t>(0));

    for (std::vector<std::uint8_t> bad : {std::vector<std::uint8_t>{130}, {130, 1, 0, 0}, {130, 9, 0, 0},
                                          {1, 1, 1, 131}, {131, 0}})
        EXPECT_FALSE(ipv4_fragment_options(Bytes(bad), MutBytes(out)));
    std::array<std::uint8_t, 4> small{};
    EXPECT_FALSE(ipv4_fragment_options(Bytes(opts), MutBytes(small)));
}
