// Unit: PassiveBuffer — in-place reassembly of an observed direction with
// holes, first-copy-wins, bounded ranges, window/capacity and memory bounds,
// and a ring that grows and wraps without losing bytes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/xoshiro.hpp"
#include "tcp/passive_buffer.hpp"

using namespace uinet;
using namespace uinet::tcp;

namespace {

Bytes b(const std::string& s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }
const Instant t0 = Instant::from_ns(1000);

std::string read_all(PassiveBuffer& pb, bool stop = false) {
    std::string out;
    std::uint8_t buf[7];  // small on purpose: many calls, wrap-around
    for (;;) {
        PassiveRead r = pb.read(buf, stop);
        if (r.hole_len) {
            out += "[" + std::to_string(r.hole_offset) + "+" + std::to_string(r.hole_len) + "]";
            continue;
        }
        if (r.bytes == 0) return out;
        out.append(reinterpret_cast<char*>(buf), r.bytes);
    }
}

TEST(PassiveBuffer, FirstCopyWinsAndInconsistenciesAreCounted) {
    MemoryBudget mb{0, 1 << 20};
    PassiveBuffer pb(mb, 1000, 2000, 8);
    EXPECT_EQ(pb.insert(3, b("defg"), t0).stored, 4u);
    PassiveInsert r = pb.insert(2, b("cDEf"), t0);
    EXPECT_EQ(r.stored, 1u);
    EXPECT_EQ(r.duplicate, 3u);
    EXPECT_EQ(r.inconsistent, 2u);
    r = pb.insert(0, b("ab"), t0);
    EXPECT_EQ(r.stored, 2u);
    EXPECT_EQ(pb.nxt(), 7u);
    EXPECT_EQ(read_all(pb), "abcdefg");
    EXPECT_EQ(pb.insert(0, b("zz"), t0).duplicate, 2u);  // already read: not comparable
}

TEST(PassiveBuffer, HolesKeepPlaceBeforeDataAndCostNothingAtTheTail) {
    MemoryBudget mb{0, 1 << 20};
    PassiveBuffer pb(mb, 1 << 16, 1 << 17, 8);
    pb.insert(0, b("aa"), t0);
    pb.insert(5, b("ff"), t0);
    EXPECT_TRUE(pb.has_gap());
    EXPECT_EQ(pb.gap_since(), t0);
    pb.skip_first_gap();
    EXPECT_EQ(pb.nxt(), 7u);
    pb.skip_to(1'000'007);  // a long tail loss: no ring space
    EXPECT_EQ(pb.holes().back().ring, 0u);
    pb.insert(1'000'007, b("zz"), t0);
    EXPECT_EQ(read_all(pb, true), "aa[2+3]ff[7+1000000]zz");
    EXPECT_EQ(pb.holes_made(), 2u);
    EXPECT_EQ(pb.hole_bytes(), 1'000'003u);
    EXPECT_LE(pb.ring_capacity(), PassiveBuffer::kInitialRing);
}

TEST(PassiveBuffer, TooManyRangesForceTheOldestGapIntoAHole) {
    MemoryBudget mb{0, 1 << 20};
    PassiveBuffer pb(mb, 1000, 1000, 2);
    pb.insert(2, b("c"), t0);
    pb.insert(4, b("e"), t0);
    PassiveInsert r = pb.insert(6, b("g"), t0);
    EXPECT_EQ(r.forced_holes, 1u);
    EXPECT_EQ(r.stored, 1u);
    EXPECT_EQ(pb.nxt(), 3u);  // [0,2) became a hole, "c" is in order
    pb.insert(3, b("d"), t0);
    pb.insert(5, b("f"), t0);
    EXPECT_EQ(read_all(pb, true), "[0+2]cdefg");
}

TEST(PassiveBuffer, WindowFromNxtAndCapacityFromTheReader) {
    MemoryBudget mb{0, 1 << 20};
    PassiveBuffer pb(mb, 10, 15, 8);
    PassiveInsert r = pb.insert(5, b("0123456789"), t0);
    EXPECT_EQ(r.stored, 5u);
    EXPECT_EQ(r.beyond_window, 5u);
    r = pb.insert(0, b("abcde"), t0);  // in order: nxt 10
    EXPECT_EQ(pb.nxt(), 10u);
    r = pb.insert(10, b("KLMNOPQ"), t0);  // window ok (nxt 10), capacity 15 from the reader (head 0)
    EXPECT_EQ(r.stored, 5u);
    EXPECT_EQ(r.overrun, 2u);
    EXPECT_EQ(read_all(pb), "abcde01234KLMNO");
}

TEST(PassiveBuffer, MemoryBudgetRefusesGrowth) {
    MemoryBudget mb{0, PassiveBuffer::kInitialRing};
    PassiveBuffer a(mb, 1 << 20, 1 << 20, 8), c(mb, 1 << 20, 1 << 20, 8);
    EXPECT_EQ(a.insert(0, b("x"), t0).stored, 1u);
    EXPECT_EQ(mb.used, PassiveBuffer::kInitialRing);
    PassiveInsert r = c.insert(0, b("y"), t0);
    EXPECT_EQ(r.overrun, 1u);
    EXPECT_EQ(mb.refused, 1u);
    a.release();
    EXPECT_EQ(mb.used, 0u);
    EXPECT_EQ(c.insert(0, b("y"), t0).stored, 1u);
}

TEST(PassiveBuffer, RandomSegmentsReassembleExactlyAcrossGrowthAndWrap) {
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
        Xoshiro256ss rng;
        std::uint64_t sm = seed;
        rng.seed(sm);
        const std::size_t n = 300'000;
        std::vector<std::uint8_t> src(n);
        for (auto& x : src) x = static_cast<std::uint8_t>(rng.next());
        MemoryBudget mb{0, 64u << 20};
        PassiveBuffer pb(mb, 100'000, 200'000, 16);
        std::vector<std::uint8_t> got;
        std::uint64_t sent = 0;
        while (got.size() < n) {
            // Segments near the front of what is missing, in random order.
            for (int k = 0; k < 8; ++k) {
                const std::uint64_t off = std::min<std::uint64_t>(sent + rng.next() % 20'000, n - 1);
                const std::size_t len = std::min<std::size_t>(1 + rng.next() % 3000, n - off);
                const PassiveInsert r = pb.insert(off, {src.data() + off, len}, t0);
                ASSERT_EQ(r.inconsistent, 0u);
                ASSERT_EQ(r.late, 0u);
            }
            const std::uint64_t fill = std::min<std::uint64_t>(pb.nxt() + 1500, n);
            if (pb.nxt() < fill) pb.insert(pb.nxt(), {src.data() + pb.nxt(), fill - pb.nxt()}, t0);
            sent = pb.nxt();
            std::uint8_t buf[5000];
            const std::size_t want = 1 + rng.next() % sizeof buf;
            const PassiveRead r = pb.read({buf, want}, false);
            got.insert(got.end(), buf, buf + r.bytes);
        }
        ASSERT_EQ(got, src) << "seed " << seed;
        EXPECT_EQ(pb.holes_made(), 0u);
    }
}

}  // namespace

namespace {

// Retention (cut-in): bytes read stay copyable until release_to() passes
// them, across ring growth and wrap-around, in random steps checked against
// a model.
TEST(PassiveBuffer, RetainedBytesSurviveReadsGrowthAndWrap) {
    MemoryBudget mb{0, 64 << 20};
    PassiveBuffer pb(mb, 200'000, 300'000, 8);
    pb.set_retain(true);
    auto byte = [](std::uint64_t i) { return static_cast<std::uint8_t>(i * 131 + (i >> 9)); };
    Xoshiro256ss rng;
    std::uint64_t sm = 5;
    rng.seed(sm);
    std::uint64_t written = 0, acked = 0, read = 0;
    std::vector<std::uint8_t> chunk, out;
    for (int step = 0; step < 4000; ++step) {
        // Write up to the window beyond the ACK, read some, ACK some.
        const std::uint64_t room = acked + 150'000 - written;
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(room, rng.next() % 3000));
        chunk.resize(n);
        for (std::size_t i = 0; i < n; ++i) chunk[i] = byte(written + i);
        ASSERT_EQ(pb.insert(written, {chunk.data(), n}, t0).stored, n);
        written += n;
        out.resize(static_cast<std::size_t>(rng.next() % 4000));
        read += pb.read({out.data(), out.size()}, false).bytes;
        ASSERT_LE(read, written);
        if (rng.next() % 2) acked = std::min(written, acked + rng.next() % 4000);
        pb.release_to(acked);
        ASSERT_EQ(pb.kept(), std::min(acked, read));
        // Everything from the ACK on is still there (checked every few steps).
        if (step % 8 != 0) continue;
        out.resize(static_cast<std::size_t>(written - acked));
        ASSERT_TRUE(pb.copy_range(acked, {out.data(), out.size()}));
        for (std::size_t i = 0; i < out.size(); ++i) ASSERT_EQ(out[i], byte(acked + i)) << "step " << step;
    }
    EXPECT_GT(written, 2'000'000u);                   // the ring wrapped many times
    EXPECT_LE(pb.ring_capacity(), 300'000u + 150'000u);  // capacity plus at most a window retained
    // Below the retained span: refused.
    if (acked > 0) {
        std::uint8_t one[1];
        EXPECT_FALSE(pb.copy_range(acked - 1, one));
    }
    // Without retention a read frees its bytes at once.
    pb.set_retain(false);
    EXPECT_EQ(pb.kept(), read);
}

}  // namespace
