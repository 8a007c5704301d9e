#include "net/ipv4_reassembly.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

#include "frag_util.hpp"

using namespace frag_test;

namespace {

const std::vector<std::uint8_t> kHeader = [] {
    std::vector<std::uint8_t> h(24);
    for (std::size_t i = 0; i < h.size(); ++i) h[i] = static_cast<std::uint8_t>(0x45 + i);
    return h;
}();

std::optional<ReassemblyDone> feed(Ipv4Reassembler& r, Instant now, const FragKey& k, Piece&& p) {
    return r.add(now, k, p.offset, p.more, std::move(p.data), Bytes(kHeader.data(), kHeader.size()));
}

std::optional<ReassemblyDone> add(Ipv4Reassembler& r, Pool& pool, const FragKey& k, const std::vector<std::uint8_t>& d,
                                  std::size_t off, std::size_t n, bool more, Instant now = at_ms(0)) {
    return r.add(now, k, static_cast<std::uint16_t>(off), more, slice(pool, d, off, n),
                 Bytes(kHeader.data(), kHeader.size()));
}

// Feeds pieces in the given order; expects completion on exactly the last.
void expect_reassembles(Ipv4Reassembler& r, const FragKey& k, std::vector<Piece>& pieces,
                        const std::vector<std::size_t>& order, const std::vector<std::uint8_t>& data) {
    for (std::size_t i = 0; i < order.size(); ++i) {
        auto done = feed(r, at_ms(static_cast<std::int64_t>(i)), k, std::move(pieces[order[i]]));
        if (i + 1 < order.size()) {
            ASSERT_FALSE(done) << "completed early at piece " << i;
            continue;
        }
        ASSERT_TRUE(done);
        EXPECT_EQ(done->key, k);
        EXPECT_EQ(contents(done->payload), data);
        EXPECT_EQ(std::vector<std::uint8_t>(done->ip_header.bytes().begin(), done->ip_header.bytes().end()),
                  kHeader);
    }
}

}  // namespace

TEST(Ipv4Reassembly, InOrderIsByteExactAndZeroCopy) {
    Pool pool({.count = 64, .buf_size = 2048, .headroom = 128});
    Ipv4Reassembler r;
    auto data = pattern(4000, 1);
    auto pieces = cut(pool, data, 1480);
    ASSERT_EQ(pieces.size(), 3u);
    const auto allocs = pool.stats().allocs;
    const PacketBuf* bufs[3] = {&pieces[0].data.front(), &pieces[1].data.front(), &pieces[2].data.front()};

    EXPECT_FALSE(feed(r, at_ms(0), key_n(7), std::move(pieces[0])));
    EXPECT_FALSE(feed(r, at_ms(1), key_n(7), std::move(pieces[1])));
    EXPECT_EQ(r.datagrams_held(), 1u);
    EXPECT_EQ(r.bytes_held(), 2 * 2048u);
    auto done = feed(r, at_ms(2), key_n(7), std::move(pieces[2]));
    ASSERT_TRUE(done);
    EXPECT_EQ(contents(done->payload), data);
    // The result is the fragments' own buffers, chained in order.
    EXPECT_EQ(pool.stats().allocs, allocs);
    const PacketBuf* b = &done->payload.front();
    for (const PacketBuf* expect : bufs) {
        ASSERT_EQ(b, expect);
        b = b->next();
    }
    EXPECT_EQ(b, nullptr);
    EXPECT_EQ(r.datagrams_held(), 0u);
    EXPECT_EQ(r.bytes_held(), 0u);
    EXPECT_EQ(r.next_deadline(), Instant::never());
    EXPECT_EQ(r.stats().fragments_in, 3u);
    EXPECT_EQ(r.stats().datagrams_done, 1u);
    done.reset();
    EXPECT_EQ(pool.stats().in_use, 0u);
}

TEST(Ipv4Reassembly, ReverseOrder) {
    Pool pool({.count = 64, .buf_size = 2048, .headroom = 128});
    Ipv4Reassembler r;
    auto data = pattern(9000, 2);
    auto pieces = cut(pool, data, 1000 & ~7u);
    std::vector<std::size_t> order(pieces.size());
    std::iota(order.rbegin(), order.rend(), 0);
    expect_reassembles(r, key_n(1), pieces, order, data);
    EXPECT_EQ(r.stats().datagrams_done, 1u);
    EXPECT_EQ(pool.stats().in_use, 0u);
}

TEST(Ipv4Reassembly, RandomOrderManySeeds) {
    Pool pool({.count = 512, .buf_size = 512, .headroom = 64});
    Ipv4Reassembler r;
    for (std::uint32_t seed = 0; seed < 400; ++seed) {
        std::mt19937 rng(seed);
        const std::size_t size = 1 + rng() % 12000;
        // 8..480 bytes, but at most 64 pieces (max_fragments_per_datagram).
        const std::size_t min_step = ((size + 63) / 64 + 7) & ~std::size_t{7};
        const std::size_t step = std::max<std::size_t>(8 * (1 + rng() % 60), min_step);
        auto data = pattern(size, seed);
        auto pieces = cut(pool, data, step);
        ASSERT_LE(pieces.size(), 64u);
        std::vector<std::size_t> order(pieces.size());
        std::iota(order.begin(), order.end(), 0);
        std::shuffle(order.begin(), order.end(), rng);
        expect_reassembles(r, key_n(seed), pieces, order, data);
        if (::testing::Test::HasFatalFailure()) return;
        ASSERT_EQ(pool.stats().in_use, 0u) << "seed " << seed;
        ASSERT_EQ(r.datagrams_held(), 0u);
    }
    EXPECT_EQ(r.stats().datagrams_done, 400u);
}

TEST(Ipv4Reassembly, InterleavedDatagramsWithChainedFragments) {
    // Fragments that are themselves chains (small buffers) and several
    // datagrams in flight at once, completed in random order.
    Pool pool({.count = 2048, .buf_size = 128, .headroom = 16});
    ReassemblyConfig cfg;
    cfg.hash_seed = 0x1234;
    cfg.max_fragments_per_datagram = 200;
    cfg.max_bytes = 8 << 20;
    Ipv4Reassembler r(cfg);
    for (std::uint32_t seed = 0; seed < 20; ++seed) {
        std::mt19937 rng(seed);
        struct Dg {
            FragKey key;
            std::vector<std::uint8_t> data;
            std::vector<Piece> pieces;
        };
        std::vector<Dg> dgs(10);
        std::vector<std::pair<std::size_t, std::size_t>> all;  // (datagram, piece)
        for (std::size_t d = 0; d < dgs.size(); ++d) {
            dgs[d].key = FragKey{Ipv4Addr(rng()), Ipv4Addr(rng()), static_cast<std::uint16_t>(rng()),
                                 static_cast<std::uint8_t>(rng())};
            dgs[d].data = pattern(100 + rng() % 3000, seed * 100 + static_cast<std::uint32_t>(d));
            dgs[d].pieces = cut(pool, dgs[d].data, 8 * (8 + rng() % 40));
            for (std::size_t p = 0; p < dgs[d].pieces.size(); ++p) all.emplace_back(d, p);
        }
        std::shuffle(all.begin(), all.end(), rng);
        std::vector<std::size_t> left(dgs.size());
        for (std::size_t d = 0; d < dgs.size(); ++d) left[d] = dgs[d].pieces.size();
        for (auto [d, p] : all) {
            auto done = feed(r, at_ms(0), dgs[d].key, std::move(dgs[d].pieces[p]));
            ASSERT_EQ(done.has_value(), --left[d] == 0) << "seed " << seed;
            if (done) EXPECT_EQ(contents(done->payload), dgs[d].data) << "seed " << seed;
        }
        ASSERT_EQ(r.datagrams_held(), 0u);
        ASSERT_EQ(pool.stats().in_use, 0u);
    }
    EXPECT_EQ(r.stats().datagrams_done, 200u);
}

TEST(Ipv4Reassembly, ManyKeysChurnKeepsIndexConsistent) {
    // Datagrams start, complete, overlap-die and time out in random order
    // while the table stays near full: exercises index deletion.
    Pool pool({.count = 1024, .buf_size = 256, .headroom = 16});
    ReassemblyConfig cfg;
    cfg.max_datagrams = 16;
    cfg.timeout = Duration::millis(500);
    Ipv4Reassembler r(cfg);
    std::mt19937 rng(99);
    auto data = pattern(64, 5);  // 4 fragments of 16 bytes
    struct Live {
        FragKey key;
        unsigned mask = 0;  // fragments fed
    };
    std::vector<Live> live;
    std::uint64_t completed = 0, killed = 0;
    std::int64_t t = 0;
    for (int step = 0; step < 20000; ++step) {
        t += rng() % 2;
        unsigned expired = 0;
        r.expire(at_ms(t), [&](ReassemblyExpired&& e) {
            ++expired;
            auto it = std::find_if(live.begin(), live.end(), [&](const Live& l) { return l.key == e.key; });
            ASSERT_NE(it, live.end());
            EXPECT_EQ(e.first_fragment.empty(), (it->mask & 1) == 0);
            live.erase(it);
        });
        if (live.size() < 16 && (live.empty() || rng() % 3 == 0)) {
            FragKey k{Ipv4Addr(rng() % 4), Ipv4Addr(rng() % 4), static_cast<std::uint16_t>(rng() % 64), 6};
            if (std::none_of(live.begin(), live.end(), [&](const Live& l) { return l.key == k; })) live.push_back({k, 0});
            continue;
        }
        if (live.empty()) continue;
        Live& l = live[rng() % live.size()];
        if (l.mask != 0 && rng() % 50 == 0) {  // an overlapping fragment kills the datagram
            unsigned held = 0;
            while (!(l.mask & (1u << held))) ++held;
            auto res = add(r, pool, l.key, data, held < 3 ? held * 16 + 8 : 40, 16, true, at_ms(t));
            EXPECT_FALSE(res);
            ++killed;
            l = live.back();
            live.pop_back();
            continue;
        }
        unsigned i = rng() % 4;
        auto res = add(r, pool, l.key, data, i * 16, 16, i != 3, at_ms(t));
        if (l.mask & (1u << i)) {
            EXPECT_FALSE(res);
            continue;
        }
        l.mask |= 1u << i;
        if (l.mask == 15) {
            ASSERT_TRUE(res) << "step " << step;
            EXPECT_EQ(contents(res->payload), data);
            ++completed;
            l = live.back();
            live.pop_back();
        } else {
            ASSERT_FALSE(res) << "step " << step;
        }
    }
    EXPECT_GT(completed, 1000u);
    EXPECT_EQ(r.stats().datagrams_done, completed);
    EXPECT_EQ(r.stats().dropped_overlap, killed);
    EXPECT_EQ(r.stats().dropped_limits, 0u);
    r.clear();
    EXPECT_EQ(r.datagrams_held(), 0u);
    EXPECT_EQ(r.bytes_held(), 0u);
    EXPECT_EQ(pool.stats().in_use, 0u);
}

TEST(Ipv4Reassembly, ExactDuplicatesAreIgnored) {
    Pool pool({.count = 64, .buf_size = 2048, .headroom = 128});
    Ipv4Reassembler r;
    auto data = pattern(100, 3);
    EXPECT_FALSE(add(r, pool, key_n(1), data, 0, 40, true));
    EXPECT_FALSE(add(r, pool, key_n(1), data, 0, 40, true));
    EXPECT_FALSE(add(r, pool, key_n(1), data, 80, 20, false));
    EXPECT_FALSE(add(r, pool, key_n(1), data, 80, 20, false));
    EXPECT_EQ(r.stats().duplicates, 2u);
    EXPECT_EQ(r.bytes_held(), 2 * 2048u);
    auto done = add(r, pool, key_n(1), data, 40, 40, true);
    ASSERT_TRUE(done);
    EXPECT_EQ(contents(done->payload), data);
    EXPECT_EQ(r.stats().dropped_overlap, 0u);
    done.reset();
    EXPECT_EQ(pool.stats().in_use, 0u);
}

TEST(Ipv4Reassembly, SharedFragmentIsCopiedNotCorrupted) {
    Pool pool({.count = 64, .buf_size = 256, .headroom = 32});
    Ipv4Reassembler r;
    auto data = pattern(300, 4);
    Packet a = slice(pool, data, 0, 200);  // a chain of two buffers
    Packet b = slice(pool, data, 200, 100);
    ASSERT_TRUE(a.is_chain());
    Packet keep_a = a.share(), keep_b = b.share();
    EXPECT_FALSE(r.add(at_ms(0), key_n(1), 0, true, std::move(a), {}));
    auto done = r.add(at_ms(0), key_n(1), 200, false, std::move(b), {});
    ASSERT_TRUE(done);
    EXPECT_EQ(contents(done->payload), data);
    EXPECT_TRUE(done->ip_header.empty());
    // The caller's handles still see their own bytes.
    EXPECT_EQ(contents(keep_a), std::vector<std::uint8_t>(data.begin(), data.begin() + 200));
    EXPECT_EQ(contents(keep_b), std::vector<std::uint8_t>(data.begin() + 200, data.end()));
    EXPECT_TRUE(keep_a.unique());
    done.reset();
    keep_a.reset();
    keep_b.reset();
    EXPECT_EQ(pool.stats().in_use, 0u);
}

TEST(Ipv4Reassembly, SharedFragmentWithDryPoolIsCounted) {
    Pool pool({.count = 1, .buf_size = 256, .headroom = 32});
    Ipv4Reassembler r;
    auto data = pattern(16, 4);
    Packet a = slice(pool, data, 0, 16);
    Packet keep = a.share();
    EXPECT_FALSE(r.add(at_ms(0), key_n(1), 0, true, std::move(a), {}));
    EXPECT_EQ(r.stats().dropped_nobufs, 1u);
    EXPECT_EQ(r.datagrams_held(), 0u);
    keep.reset();
    EXPECT_EQ(pool.stats().in_use, 0u);
}

TEST(Ipv4Reassembly, UnfragmentedDatagramCompletesAtOnce) {
    Pool pool({.count = 8, .buf_size = 2048, .headroom = 128});
    Ipv4Reassembler r;
    auto data = pattern(33, 5);
    auto done = add(r, pool, key_n(1), data, 0, 33, false);
    ASSERT_TRUE(done);
    EXPECT_EQ(contents(done->payload), data);
}

TEST(Ipv4Reassembly, ChecksumVerifiedFlagIsCleared) {
    Pool pool({.count = 8, .buf_size = 2048, .headroom = 128});
    Ipv4Reassembler r;
    auto data = pattern(64, 5);
    Packet a = slice(pool, data, 0, 32), b = slice(pool, data, 32, 32);
    a.meta().rx_csum_verified = true;
    a.meta().ifindex = 3;
    EXPECT_FALSE(r.add(at_ms(0), key_n(1), 0, true, std::move(a), {}));
    auto done = r.add(at_ms(0), key_n(1), 32, false, std::move(b), {});
    ASSERT_TRUE(done);
    EXPECT_FALSE(done->payload.meta().rx_csum_verified);
    EXPECT_EQ(done->payload.meta().ifindex, 3u);
}

// --- overlap -------------------------------------------------------------

struct OverlapCase {
    const char* name;
    std::size_t off1, len1;
    bool more1;
    std::size_t off2, len2;
    bool more2;
};

void PrintTo(const OverlapCase& c, std::ostream* os) { *os << c.name; }

class Ipv4ReassemblyOverlap : public ::testing::TestWithParam<OverlapCase> {};

TEST_P(Ipv4ReassemblyOverlap, DiscardsTheWholeDatagram) {
    const OverlapCase& c = GetParam();
    Pool pool({.count = 64, .buf_size = 2048, .headroom = 128});
    Ipv4Reassembler r;
    auto data = pattern(256, 6);
    EXPECT_FALSE(add(r, pool, key_n(1), data, 128, 64, true));  // an unrelated held piece
    EXPECT_FALSE(add(r, pool, key_n(1), data, c.off1, c.len1, c.more1));
    EXPECT_FALSE(add(r, pool, key_n(1), data, c.off2, c.len2, c.more2));
    EXPECT_EQ(r.stats().dropped_overlap, 1u) << c.name;
    EXPECT_EQ(r.datagrams_held(), 0u);
    EXPECT_EQ(r.bytes_held(), 0u);
    EXPECT_EQ(pool.stats().in_use, 0u);
    // Later fragments of the same datagram start afresh and can complete.
    EXPECT_FALSE(add(r, pool, key_n(1), data, 0, 128, true));
    auto done = add(r, pool, key_n(1), data, 128, 128, false);
    ASSERT_TRUE(done);
    EXPECT_EQ(contents(done->payload), data);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, Ipv4ReassemblyOverlap,
    ::testing::Values(OverlapCase{"partial_after", 0, 16, true, 8, 16, true},
                      OverlapCase{"partial_before", 8, 16, true, 0, 16, true},
                      OverlapCase{"containing", 8, 16, true, 0, 32, true},
                      OverlapCase{"contained", 0, 32, true, 8, 16, true},
                      OverlapCase{"same_offset_longer", 0, 16, true, 0, 24, true},
                      OverlapCase{"same_offset_shorter", 0, 24, true, 0, 16, true},
                      OverlapCase{"same_end", 0, 32, true, 16, 16, true},
                      OverlapCase{"into_held_piece", 120, 8, true, 112, 24, true},
                      OverlapCase{"last_over_held", 16, 16, true, 24, 232, false}),
    [](const ::testing::TestParamInfo<OverlapCase>& i) { return std::string(i.param.name); });

// --- invalid and oversized fragments --------------------------------------

TEST(Ipv4Reassembly, InvalidFragmentsAreCountedAndDiscardTheDatagram) {
    Pool pool({.count = 64, .buf_size = 2048, .headroom = 128});
    Ipv4Reassembler r;
    auto data = pattern(256, 7);
    std::uint64_t invalid = 0;
    auto check = [&](const char* what) {
        EXPECT_EQ(r.stats().dropped_invalid, ++invalid) << what;
        EXPECT_EQ(r.datagrams_held(), 0u) << what;
        EXPECT_EQ(pool.stats().in_use, 0u) << what;
    };

    EXPECT_FALSE(add(r, pool, key_n(1), data, 0, 16, true));
    EXPECT_FALSE(add(r, pool, key_n(1), data, 16, 12, true));  // MF, not a multiple of 8
    check("mf_not_multiple_of_8");

    EXPECT_FALSE(add(r, pool, key_n(1), data, 0, 16, true));
    EXPECT_FALSE(r.add(at_ms(0), key_n(1), 20, false, slice(pool, data, 20, 8), {}));  // offset % 8
    check("offset_not_multiple_of_8");

    EXPECT_FALSE(add(r, pool, key_n(1), data, 0, 16, true));
    EXPECT_FALSE(r.add(at_ms(0), key_n(1), 16, false, Packet(), {}));
    check("empty_fragment");
    EXPECT_FALSE(add(r, pool, key_n(1), data, 0, 0, true));
    ++invalid;
    EXPECT_EQ(r.stats().dropped_invalid, invalid);

    EXPECT_FALSE(add(r, pool, key_n(1), data, 64, 10, false));
    EXPECT_FALSE(add(r, pool, key_n(1), data, 64, 20, false));  // a second, different end
    check("two_ends");

    EXPECT_FALSE(add(r, pool, key_n(1), data, 64, 10, false));
    EXPECT_FALSE(add(r, pool, key_n(1), data, 64, 16, true));  // data beyond the known end
    check("beyond_end");

    EXPECT_FALSE(add(r, pool, key_n(1), data, 64, 16, true));
    EXPECT_FALSE(add(r, pool, key_n(1), data, 40, 10, false));  // end before held data
    check("end_before_held_data");

    std::vector<std::uint8_t> big_header(64, 0x4f);
    EXPECT_FALSE(add(r, pool, key_n(1), data, 64, 16, true));
    EXPECT_FALSE(r.add(at_ms(0), key_n(1), 0, true, slice(pool, data, 0, 16), Bytes(big_header)));
    check("header_over_60");

    // A lone invalid fragment creates nothing.
    EXPECT_FALSE(add(r, pool, key_n(2), data, 8, 9, true));
    check("lone");
}

TEST(Ipv4Reassembly, DuplicateLastFragmentMayNameTheEnd) {
    // A duplicate range whose MF is clear still tells where the end is.
    Pool pool({.count = 64, .buf_size = 2048, .headroom = 128});
    Ipv4Reassembler r;
    auto data = pattern(32, 8);
    EXPECT_FALSE(add(r, pool, key_n(1), data, 16, 16, true));
    EXPECT_FALSE(add(r, pool, key_n(1), data, 16, 16, false));
    EXPECT_EQ(r.stats().duplicates, 1u);
    auto done = add(r, pool, key_n(1), data, 0, 16, true);
    ASSERT_TRUE(done);
    EXPECT_EQ(contents(done->payload), data);
}

TEST(Ipv4Reassembly, OversizedDatagramIsDropped) {
    Pool pool({.count = 64, .buf_size = 2048, .headroom = 128});
    Ipv4Reassembler r;
    auto data = pattern(64, 9);
    // 65496 + 24 = 65520 > 65515: a "ping of death".
    EXPECT_FALSE(add(r, pool, key_n(1), data, 0, 64, true));
    EXPECT_FALSE(r.add(at_ms(0), key_n(1), 65496, false, slice(pool, data, 0, 24), {}));
    EXPECT_EQ(r.stats().dropped_too_big, 1u);
    EXPECT_EQ(r.datagrams_held(), 0u);
    // The largest representable end is accepted.
    EXPECT_FALSE(r.add(at_ms(0), key_n(2), 65512, false, slice(pool, data, 0, 3), {}));
    EXPECT_EQ(r.stats().dropped_too_big, 1u);
    EXPECT_EQ(r.datagrams_held(), 1u);
    EXPECT_FALSE(r.add(at_ms(0), key_n(2), 65512, false, slice(pool, data, 0, 4), {}));
    EXPECT_EQ(r.stats().dropped_too_big, 2u);
    EXPECT_EQ(r.datagrams_held(), 0u);
    EXPECT_EQ(pool.stats().in_use, 0u);
}

// --- limits -------------------------------------------------------------------

TEST(Ipv4Reassembly, MaxDatagramsDropsNewOnesAndKeepsOld) {
    Pool pool({.count = 64, .buf_size = 2048, .headroom = 128});
    ReassemblyConfig cfg;
    cfg.max_datagrams = 2;
    Ipv4Reassembler r(cfg);
    auto data = pattern(32, 10);
    EXPECT_FALSE(add(r, pool, key_n(1), data, 0, 16, true));
    EXPECT_FALSE(add(r, pool, key_n(2), data, 0, 16, true));
    EXPECT_FALSE(add(r, pool, key_n(3), data, 0, 16, true));
    EXPECT_EQ(r.stats().dropped_limits, 1u);
    EXPECT_EQ(r.datagrams_held(), 2u);
    EXPECT_EQ(pool.stats().in_use, 2u);
    EXPECT_TRUE(add(r, pool, key_n(1), data, 16, 16, false));
    EXPECT_TRUE(add(r, pool, key_n(2), data, 16, 16, false));
    // Room again.
    EXPECT_FALSE(add(r, pool, key_n(3), data, 0, 16, true));
    EXPECT_EQ(r.datagrams_held(), 1u);
    EXPECT_TRUE(add(r, pool, key_n(3), data, 16, 16, false));
    EXPECT_EQ(r.stats().dropped_limits, 1u);
    EXPECT_EQ(pool.stats().in_use, 0u);
}

TEST(Ipv4Reassembly, MaxFragmentsPerDatagramDiscardsIt) {
    Pool pool({.count = 64, .buf_size = 2048, .headroom = 128});
    ReassemblyConfig cfg;
    cfg.max_fragments_per_datagram = 3;
    Ipv4Reassembler r(cfg);
    auto data = pattern(64, 11);
    EXPECT_FALSE(add(r, pool, key_n(1), data, 0, 8, true));
    EXPECT_FALSE(add(r, pool, key_n(1), data, 8, 8, true));
    EXPECT_FALSE(add(r, pool, key_n(1), data, 16, 8, true));
    EXPECT_EQ(r.stats().dropped_limits, 0u);
    EXPECT_FALSE(add(r, pool, key_n(1), data, 24, 8, true));
    EXPECT_EQ(r.stats().dropped_limits, 1u);
    EXPECT_EQ(r.datagrams_held(), 0u);
    EXPECT_EQ(pool.stats().in_use, 0u);
    // Three fragments are fine.
    EXPECT_FALSE(add(r, pool, key_n(2), data, 0, 24, true));
    EXPECT_FALSE(add(r, pool, key_n(2), data, 48, 16, false));
    EXPECT_TRUE(add(r, pool, key_n(2), data, 24, 24, true));
}

TEST(Ipv4Reassembly, MaxBytesCountsWholeBuffers) {
    Pool pool({.count = 64, .buf_size = 256, .headroom = 32});
    ReassemblyConfig cfg;
    cfg.max_bytes = 4 * 256;
    Ipv4Reassembler r(cfg);
    auto data = pattern(4096, 12);
    // Tiny fragments still cost a whole buffer each.
    EXPECT_FALSE(add(r, pool, key_n(1), data, 0, 8, true));
    EXPECT_FALSE(add(r, pool, key_n(1), data, 8, 8, true));
    EXPECT_FALSE(add(r, pool, key_n(2), data, 0, 8, true));
    EXPECT_EQ(r.bytes_held(), 3 * 256u);
    // A two-buffer fragment does not fit: its datagram is discarded.
    EXPECT_FALSE(add(r, pool, key_n(2), data, 8, 400, true));
    EXPECT_EQ(r.stats().dropped_limits, 1u);
    EXPECT_EQ(r.datagrams_held(), 1u);
    EXPECT_EQ(r.bytes_held(), 2 * 256u);
    EXPECT_EQ(pool.stats().in_use, 2u);
    // A fragment that would start a datagram beyond the budget: nothing kept.
    EXPECT_FALSE(add(r, pool, key_n(3), data, 0, 600, true));
    EXPECT_EQ(r.stats().dropped_limits, 2u);
    EXPECT_EQ(r.datagrams_held(), 1u);
    EXPECT_EQ(pool.stats().in_use, 2u);
    auto done = add(r, pool, key_n(1), data, 16, 8, false);
    ASSERT_TRUE(done);
    EXPECT_EQ(r.bytes_held(), 0u);
    done.reset();
    EXPECT_EQ(pool.stats().in_use, 0u);
}

TEST(Ipv4Reassembly, ZeroDatagramsAllowedDropsEverything) {
    Pool pool({.count = 8, .buf_size = 256, .headroom = 32});
    ReassemblyConfig cfg;
    cfg.max_datagrams = 0;
    Ipv4Reassembler r(cfg);
    auto data = pattern(16, 13);
    EXPECT_FALSE(add(r, pool, key_n(1), data, 0, 8, true));
    EXPECT_EQ(r.stats().dropped_limits, 1u);
    EXPECT_EQ(pool.stats().in_use, 0u);
}

// --- timeouts -------------------------------------------------------------------

TEST(Ipv4Reassembly, TimeoutReportsTheFirstFragment) {
    Pool pool({.count = 64, .buf_size = 2048, .headroom = 128});
    Ipv4Reassembler r;  // 30 s
    auto data = pattern(200, 14);
    EXPECT_EQ(r.next_deadline(), Instant::never());
    EXPECT_FALSE(add(r, pool, key_n(1), data, 0, 64, true, at_ms(1000)));
    EXPECT_FALSE(add(r, pool, key_n(2), data, 64, 64, true, at_ms(2000)));
    // A later fragment does not push the deadline back.
    EXPECT_FALSE(add(r, pool, key_n(1), data, 128, 64, true, at_ms(20000)));
    EXPECT_EQ(r.next_deadline(), at_ms(31000));

    std::vector<ReassemblyExpired> seen;
    auto collect = [&](ReassemblyExpired&& e) { seen.push_back(std::move(e)); };
    r.expire(at_ms(30999), collect);
    EXPECT_TRUE(seen.empty());
    r.expire(at_ms(31000), collect);
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].key, key_n(1));
    EXPECT_EQ(contents(seen[0].first_fragment), std::vector<std::uint8_t>(data.begin(), data.begin() + 64));
    EXPECT_EQ(std::vector<std::uint8_t>(seen[0].ip_header.bytes().begin(), seen[0].ip_header.bytes().end()),
              kHeader);
    EXPECT_EQ(r.next_deadline(), at_ms(32000));
    EXPECT_EQ(r.stats().timed_out, 1u);

    r.expire(at_ms(100000), collect);
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[1].key, key_n(2));
    EXPECT_TRUE(seen[1].first_fragment.empty());  // fragment zero never came
    EXPECT_TRUE(seen[1].ip_header.empty());
    EXPECT_EQ(r.stats().timed_out, 2u);
    EXPECT_EQ(r.next_deadline(), Instant::never());
    EXPECT_EQ(r.datagrams_held(), 0u);
    EXPECT_EQ(r.bytes_held(), 0u);
    seen.clear();
    EXPECT_EQ(pool.stats().in_use, 0u);
}

TEST(Ipv4Reassembly, ExpiryStaysOrderedWhenTimeGoesBackwards) {
    Pool pool({.count = 8, .buf_size = 256, .headroom = 32});
    ReassemblyConfig cfg;
    cfg.timeout = Duration::seconds(10);
    Ipv4Reassembler r(cfg);
    auto data = pattern(32, 15);
    EXPECT_FALSE(add(r, pool, key_n(1), data, 8, 8, true, at_ms(5000)));
    EXPECT_FALSE(add(r, pool, key_n(2), data, 8, 8, true, at_ms(1000)));
    EXPECT_TRUE(add(r, pool, key_n(1), data, 0, 8, true, at_ms(5000)) == std::nullopt);
    EXPECT_TRUE(add(r, pool, key_n(1), data, 16, 8, false, at_ms(5000)));
    // key 2 arrived "earlier" but after key 1: its deadline is clamped to key 1's.
    EXPECT_EQ(r.next_deadline(), at_ms(15000));
    int n = 0;
    r.expire(at_ms(14999), [&](ReassemblyExpired&&) { ++n; });
    EXPECT_EQ(n, 0);
    r.expire(at_ms(15000), [&](ReassemblyExpired&& e) {
        ++n;
        EXPECT_EQ(e.key, key_n(2));
    });
    EXPECT_EQ(n, 1);
    EXPECT_EQ(pool.stats().in_use, 0u);
}

TEST(Ipv4Reassembly, ExpiryCallbackMayAddFragments) {
    Pool pool({.count = 8, .buf_size = 256, .headroom = 32});
    Ipv4Reassembler r;
    auto data = pattern(16, 16);
    EXPECT_FALSE(add(r, pool, key_n(1), data, 0, 8, true, at_ms(0)));
    r.expire(at_ms(60000), [&](ReassemblyExpired&& e) {
        EXPECT_FALSE(add(r, pool, e.key, data, 0, 8, true, at_ms(60000)));
    });
    EXPECT_EQ(r.datagrams_held(), 1u);
    EXPECT_EQ(r.next_deadline(), at_ms(90000));
    r.clear();
    EXPECT_EQ(pool.stats().in_use, 0u);
}
