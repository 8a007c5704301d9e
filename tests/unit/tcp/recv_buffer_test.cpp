// RecvBuffer: in-order delivery, out-of-order reassembly against a reference
// model, overlaps, trimming, the range bound and sequence wrap.
#include <gtest/gtest.h>

#include <numeric>
#include <random>
#include <vector>

#include "tcp/recv_buffer.hpp"
#include "unit/base/alloc_count.hpp"

using namespace uinet;
using namespace uinet::tcp;

namespace {

std::vector<std::uint8_t> pattern(std::size_t n, std::uint8_t start = 0) {
    std::vector<std::uint8_t> v(n);
    std::iota(v.begin(), v.end(), start);
    return v;
}

std::vector<std::uint8_t> read_all(RecvBuffer& rb) {
    std::vector<std::uint8_t> out(rb.readable());
    EXPECT_EQ(rb.read(out), out.size());
    return out;
}

}  // namespace

TEST(RecvBuffer, InOrder) {
    RecvBuffer rb(100);
    rb.reset(SeqNum(500));
    auto a = pattern(30);
    auto r = rb.insert(SeqNum(500), a);
    EXPECT_EQ(r.in_order, 30u);
    EXPECT_EQ(r.duplicate, 0u);
    EXPECT_FALSE(r.out_of_order);
    EXPECT_EQ(rb.rcv_nxt(), SeqNum(530));
    EXPECT_EQ(rb.readable(), 30u);
    EXPECT_EQ(rb.window(), 70u);
    std::vector<std::uint8_t> p(10);
    EXPECT_EQ(rb.peek(p), 10u);
    EXPECT_EQ(p, pattern(10));
    EXPECT_EQ(rb.readable(), 30u);
    EXPECT_EQ(rb.read(p), 10u);
    EXPECT_EQ(rb.consume(5), 5u);
    EXPECT_EQ(read_all(rb), pattern(15, 15));
    EXPECT_EQ(rb.window(), 100u);
    EXPECT_EQ(rb.stats().bytes_in_order, 30u);
    EXPECT_EQ(rb.insert(SeqNum(530), Bytes{}).in_order, 0u);
}

TEST(RecvBuffer, OutOfOrderFillsHole) {
    RecvBuffer rb(100);
    rb.reset(SeqNum(0));
    auto data = pattern(60);
    auto r = rb.insert(SeqNum(20), Bytes(data).subspan(20, 20));
    EXPECT_TRUE(r.out_of_order);
    EXPECT_FALSE(r.filled_hole);
    EXPECT_EQ(r.in_order, 0u);
    EXPECT_EQ(rb.readable(), 0u);
    EXPECT_EQ(rb.ooo_bytes(), 20u);
    ASSERT_EQ(rb.ooo_ranges().size(), 1u);
    EXPECT_EQ(rb.ooo_ranges()[0].left, SeqNum(20));
    EXPECT_EQ(rb.ooo_ranges()[0].right, SeqNum(40));
    EXPECT_EQ(rb.window(), 100u);  // OOO bytes live inside the window
    r = rb.insert(SeqNum(50), Bytes(data).subspan(50, 10));
    EXPECT_TRUE(r.out_of_order);
    EXPECT_TRUE(r.filled_hole == false);
    EXPECT_EQ(rb.ooo_ranges().size(), 2u);
    r = rb.insert(SeqNum(0), Bytes(data).subspan(0, 20));
    EXPECT_EQ(r.in_order, 40u);
    EXPECT_TRUE(r.filled_hole);
    EXPECT_FALSE(r.out_of_order);
    EXPECT_EQ(rb.rcv_nxt(), SeqNum(40));
    EXPECT_EQ(rb.ooo_bytes(), 10u);
    r = rb.insert(SeqNum(40), Bytes(data).subspan(40, 10));
    EXPECT_EQ(r.in_order, 20u);
    EXPECT_TRUE(rb.ooo_ranges().empty());
    EXPECT_EQ(rb.ooo_bytes(), 0u);
    EXPECT_EQ(read_all(rb), data);
    EXPECT_EQ(rb.stats().bytes_in_order, 60u);
    EXPECT_EQ(rb.stats().bytes_ooo, 30u);
}

TEST(RecvBuffer, OverlapsFirstCopyWins) {
    RecvBuffer rb(100);
    rb.reset(SeqNum(0));
    std::vector<std::uint8_t> first(10, 0xaa), second(30, 0xbb);
    rb.insert(SeqNum(10), first);                  // [10,20) OOO
    auto r = rb.insert(SeqNum(5), second);         // [5,35): 10 overlap
    EXPECT_EQ(r.duplicate, 10u);
    EXPECT_TRUE(r.out_of_order);
    EXPECT_TRUE(r.filled_hole);
    ASSERT_EQ(rb.ooo_ranges().size(), 1u);
    EXPECT_EQ(rb.ooo_ranges()[0].left, SeqNum(5));
    EXPECT_EQ(rb.ooo_ranges()[0].right, SeqNum(35));
    EXPECT_EQ(rb.ooo_bytes(), 30u);
    std::vector<std::uint8_t> third(40, 0xcc);
    r = rb.insert(SeqNum(0), third);  // [0,40): 30 held
    EXPECT_EQ(r.duplicate, 30u);
    EXPECT_EQ(r.in_order, 40u);
    auto got = read_all(rb);
    std::vector<std::uint8_t> expect(40, 0xcc);
    std::fill(expect.begin() + 5, expect.begin() + 35, 0xbb);
    std::fill(expect.begin() + 10, expect.begin() + 20, 0xaa);
    EXPECT_EQ(got, expect);
    EXPECT_EQ(rb.stats().duplicate_bytes, 40u);
}

TEST(RecvBuffer, OldDataIsTrimmedAsDuplicate) {
    RecvBuffer rb(100);
    rb.reset(SeqNum(1000));
    auto d = pattern(20);
    rb.insert(SeqNum(1000), d);
    auto r = rb.insert(SeqNum(990), pattern(15, 7));  // all before rcv_nxt (1020)
    EXPECT_EQ(r.duplicate, 15u);
    EXPECT_EQ(r.in_order, 0u);
    auto e = pattern(20, 100);
    r = rb.insert(SeqNum(1010), e);  // 10 old, 10 new
    EXPECT_EQ(r.duplicate, 10u);
    EXPECT_EQ(r.in_order, 10u);
    auto got = read_all(rb);
    ASSERT_EQ(got.size(), 30u);
    EXPECT_EQ(got[19], 19);
    EXPECT_EQ(got[20], 110);
}

TEST(RecvBuffer, BeyondWindowTrimmed) {
    RecvBuffer rb(50);
    rb.reset(SeqNum(0));
    rb.insert(SeqNum(0), pattern(20));  // window now 30
    auto r = rb.insert(SeqNum(40), pattern(20));  // [40,60), edge at 50
    EXPECT_EQ(r.beyond_window, 10u);
    EXPECT_TRUE(r.out_of_order);
    EXPECT_EQ(rb.ooo_ranges()[0].right, SeqNum(50));
    r = rb.insert(SeqNum(50), pattern(5));  // entirely past the edge
    EXPECT_EQ(r.beyond_window, 5u);
    EXPECT_FALSE(r.out_of_order);
    EXPECT_EQ(rb.stats().trimmed_bytes, 15u);
    // Zero window: even the next byte is refused.
    rb.insert(SeqNum(20), pattern(20));
    rb.insert(SeqNum(40), pattern(10));
    EXPECT_EQ(rb.window(), 0u);
    r = rb.insert(SeqNum(50), pattern(1));
    EXPECT_EQ(r.beyond_window, 1u);
    EXPECT_EQ(rb.rcv_nxt(), SeqNum(50));
    rb.consume(10);
    EXPECT_EQ(rb.insert(SeqNum(50), pattern(20)).in_order, 10u);
}

TEST(RecvBuffer, RangeBoundRefusesFragmentingSegment) {
    RecvBuffer rb(1000, 3);
    rb.reset(SeqNum(0));
    auto one = pattern(1);
    EXPECT_TRUE(rb.insert(SeqNum(10), one).out_of_order);
    EXPECT_TRUE(rb.insert(SeqNum(20), one).out_of_order);
    EXPECT_TRUE(rb.insert(SeqNum(30), one).out_of_order);
    auto r = rb.insert(SeqNum(40), one);  // a fourth range
    EXPECT_TRUE(r.dropped);
    EXPECT_FALSE(r.out_of_order);
    EXPECT_EQ(rb.stats().dropped_too_fragmented, 1u);
    EXPECT_EQ(rb.ooo_ranges().size(), 3u);
    EXPECT_EQ(rb.ooo_bytes(), 3u);
    // Extending or bridging existing ranges is fine.
    EXPECT_FALSE(rb.insert(SeqNum(31), one).dropped);
    EXPECT_FALSE(rb.insert(SeqNum(11), pattern(9)).dropped);  // bridges 10..20
    EXPECT_EQ(rb.ooo_ranges().size(), 2u);
    EXPECT_FALSE(rb.insert(SeqNum(40), one).dropped);
    EXPECT_EQ(rb.ooo_ranges().size(), 3u);
    // In-order data is never refused.
    r = rb.insert(SeqNum(0), pattern(5));
    EXPECT_FALSE(r.dropped);
    EXPECT_EQ(r.in_order, 5u);
    RecvBuffer none(100, 0);
    none.reset(SeqNum(0));
    EXPECT_TRUE(none.insert(SeqNum(1), one).dropped);
    EXPECT_EQ(none.insert(SeqNum(0), pattern(3)).in_order, 3u);
}

TEST(RecvBuffer, SequenceWrapAtTwoToThe32) {
    RecvBuffer rb(64);
    const SeqNum base(0xffffffe0u);
    rb.reset(base);
    auto d = pattern(64);
    auto r = rb.insert(base + 40, Bytes(d).subspan(40, 24));  // past 2^32
    EXPECT_TRUE(r.out_of_order);
    EXPECT_EQ(rb.ooo_ranges()[0].left, SeqNum(8));
    EXPECT_EQ(rb.ooo_ranges()[0].right, SeqNum(32));
    r = rb.insert(base, Bytes(d).subspan(0, 40));  // crosses 2^32
    EXPECT_EQ(r.in_order, 64u);
    EXPECT_EQ(rb.rcv_nxt(), SeqNum(32));
    EXPECT_EQ(read_all(rb), d);
    // Old data from before the wrap.
    EXPECT_EQ(rb.insert(base + 60, pattern(4)).duplicate, 4u);
}

TEST(RecvBuffer, PacketOverloadCopiesFromChain) {
    Pool pool({.count = 8, .buf_size = 128, .headroom = 32});
    auto d = pattern(300);
    Packet p = pool.copy_of(d, 32);
    ASSERT_TRUE(p.is_chain());
    RecvBuffer rb(1000);
    rb.reset(SeqNum(7));
    // Payload = bytes 50..249 of the packet; put the middle first.
    auto r = rb.insert(SeqNum(7 + 100), p, 150, 100);
    EXPECT_TRUE(r.out_of_order);
    r = rb.insert(SeqNum(7), p, 50, 100);
    EXPECT_EQ(r.in_order, 200u);
    EXPECT_EQ(read_all(rb), std::vector<std::uint8_t>(d.begin() + 50, d.begin() + 250));
    r = rb.insert(SeqNum(207), p, 280, 1000);  // clamps to the 20 bytes left
    EXPECT_EQ(r.in_order, 20u);
    EXPECT_EQ(rb.insert(SeqNum(227), p, 400, 10).in_order, 0u);
}

TEST(RecvBuffer, SetCapacityKeepsReadableAndOoo) {
    RecvBuffer rb(32);
    rb.reset(SeqNum(0));
    auto d = pattern(80);
    rb.insert(SeqNum(0), Bytes(d).subspan(0, 20));
    rb.consume(20);  // read position 20
    rb.insert(SeqNum(20), Bytes(d).subspan(20, 10));  // readable wraps? 20..30
    rb.insert(SeqNum(40), Bytes(d).subspan(40, 10));  // OOO, wraps the ring
    rb.set_capacity(8);  // below held: clamped to 10 readable + 20 up to the OOO end
    EXPECT_EQ(rb.capacity(), 30u);
    rb.set_capacity(100);
    EXPECT_EQ(rb.capacity(), 100u);
    EXPECT_EQ(rb.insert(SeqNum(30), Bytes(d).subspan(30, 50)).in_order, 50u);
    EXPECT_EQ(read_all(rb), std::vector<std::uint8_t>(d.begin() + 20, d.end()));
}

TEST(RecvBuffer, SteadyStateDoesNotAllocate) {
    RecvBuffer rb(4096);
    rb.reset(SeqNum(1));
    auto seg = pattern(500);
    std::vector<std::uint8_t> out(2000);
    // The first stored byte allocates the ring; nothing after that does.
    SeqNum s(1);
    rb.insert(s, seg);
    rb.read(out);
    s = s + 500;
    const std::size_t before = uinet_test::allocation_count();
    for (int i = 0; i < 50; ++i) {
        rb.insert(s + 500, seg);  // OOO first
        rb.insert(s + 1500, seg);
        rb.insert(s, seg);
        rb.insert(s + 1000, seg);
        rb.insert(s + 500, seg);
        s = s + 2000;
        rb.read(out);
    }
    EXPECT_EQ(uinet_test::allocation_count(), before);
    EXPECT_EQ(rb.rcv_nxt(), s);
}

// ---- Randomised comparison with a byte-level reference model -------------

namespace {

// Reference: one slot per stream offset, -1 while absent; the first write wins.
struct Model {
    std::size_t cap;
    std::size_t max_ranges;
    std::vector<int> mem;
    std::size_t nxt = 0;
    std::size_t rd = 0;

    std::size_t window() const { return cap - (nxt - rd); }
    std::size_t runs_from(std::size_t from, std::size_t to, const std::vector<int>& m) const {
        std::size_t runs = 0;
        for (std::size_t o = from; o < to; ++o)
            if (m[o] >= 0 && (o == from || m[o - 1] < 0)) ++runs;
        return runs;
    }

    RecvBuffer::InsertResult insert(std::size_t a, const std::vector<std::uint8_t>& bytes) {
        RecvBuffer::InsertResult r;
        const std::size_t b = a + bytes.size();
        const std::size_t edge = nxt + window();
        for (std::size_t o = a; o < b; ++o) {
            if (o < nxt) ++r.duplicate;
            else if (o >= edge) ++r.beyond_window;
        }
        const std::size_t s = std::max(a, nxt), e = std::min(b, edge);
        if (s >= e) return r;
        std::vector<int> after(mem.begin() + static_cast<std::ptrdiff_t>(nxt),
                               mem.begin() + static_cast<std::ptrdiff_t>(edge));
        std::size_t fresh = 0, dup = 0;
        bool held_at_or_after_s = false;
        for (std::size_t o = s; o < edge; ++o) held_at_or_after_s |= mem[o] >= 0;
        for (std::size_t o = s; o < e; ++o) {
            if (after[o - nxt] >= 0) ++dup;
            else { after[o - nxt] = bytes[o - a]; ++fresh; }
        }
        if (s > nxt && runs_from(0, after.size(), after) > max_ranges) {
            r.dropped = true;
            return r;
        }
        r.duplicate += dup;
        r.filled_hole = fresh > 0 && held_at_or_after_s;
        std::copy(after.begin(), after.end(), mem.begin() + static_cast<std::ptrdiff_t>(nxt));
        const std::size_t old = nxt;
        while (nxt < edge && mem[nxt] >= 0) ++nxt;
        r.in_order = nxt - old;
        r.out_of_order = fresh > 0 && nxt == old;
        return r;
    }

    std::vector<std::pair<std::size_t, std::size_t>> ranges() const {
        std::vector<std::pair<std::size_t, std::size_t>> out;
        for (std::size_t o = nxt; o < nxt + window(); ++o) {
            if (mem[o] < 0) continue;
            if (out.empty() || out.back().second != o) out.push_back({o, o + 1});
            else out.back().second++;
        }
        return out;
    }
};

void run_seed(std::uint32_t seed, RecvStats& total) {
    std::mt19937 rng(seed);
    const std::size_t len = 3000;
    const std::size_t cap = 256 + rng() % 1024;
    const std::size_t max_ranges = (seed % 3 == 0) ? 2 + rng() % 4 : 64;
    const std::uint32_t isn = (seed % 2) ? 0xffffffffu - rng() % 4000 : rng();
    RecvBuffer rb(cap, max_ranges);
    rb.reset(SeqNum(isn));
    Model m{cap, max_ranges, std::vector<int>(len + 4096, -1)};
    std::vector<std::uint8_t> got;
    std::vector<std::uint8_t> expect;
    for (int step = 0; step < 2000 && m.rd < len; ++step) {
        // A segment near the window, sometimes old, sometimes past the edge.
        const std::size_t lo = m.nxt > 300 ? m.nxt - 300 : 0;
        std::size_t a = lo + rng() % (m.window() + 400 + (m.nxt - lo));
        if (rng() % 6 == 0) a = m.nxt - std::min<std::size_t>(m.nxt, rng() % 100);  // at or just before rcv_nxt
        if (a >= len) a = m.nxt;
        std::size_t n = 1 + rng() % 200;
        n = std::min(n, len - a);
        std::vector<std::uint8_t> bytes(n);
        const auto tag = static_cast<std::uint8_t>(rng());
        for (std::size_t k = 0; k < n; ++k) bytes[k] = static_cast<std::uint8_t>((a + k) * 7 + tag);
        const auto want = m.insert(a, bytes);
        const auto have = rb.insert(SeqNum(isn + static_cast<std::uint32_t>(a)), bytes);
        ASSERT_EQ(have.in_order, want.in_order) << "seed " << seed << " step " << step;
        ASSERT_EQ(have.duplicate, want.duplicate) << "seed " << seed << " step " << step;
        ASSERT_EQ(have.beyond_window, want.beyond_window) << "seed " << seed << " step " << step;
        ASSERT_EQ(have.out_of_order, want.out_of_order) << "seed " << seed << " step " << step;
        ASSERT_EQ(have.filled_hole, want.filled_hole) << "seed " << seed << " step " << step;
        ASSERT_EQ(have.dropped, want.dropped) << "seed " << seed << " step " << step;
        ASSERT_EQ(rb.rcv_nxt(), SeqNum(isn + static_cast<std::uint32_t>(m.nxt)));
        const auto mr = m.ranges();
        ASSERT_EQ(rb.ooo_ranges().size(), mr.size()) << "seed " << seed << " step " << step;
        std::size_t ooo = 0;
        for (std::size_t k = 0; k < mr.size(); ++k) {
            ASSERT_EQ(rb.ooo_ranges()[k].left, SeqNum(isn + static_cast<std::uint32_t>(mr[k].first)));
            ASSERT_EQ(rb.ooo_ranges()[k].right, SeqNum(isn + static_cast<std::uint32_t>(mr[k].second)));
            ooo += mr[k].second - mr[k].first;
        }
        ASSERT_EQ(rb.ooo_bytes(), ooo);
        ASSERT_EQ(rb.window(), m.window());
        // Read a random amount now and then.
        if (rng() % 3 == 0) {
            std::vector<std::uint8_t> buf(rng() % 400);
            const std::size_t k = rb.read(buf);
            ASSERT_EQ(k, std::min(buf.size(), m.nxt - m.rd));
            got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(k));
            for (std::size_t o = m.rd; o < m.rd + k; ++o) expect.push_back(static_cast<std::uint8_t>(m.mem[o]));
            m.rd += k;
        }
    }
    total.dropped_too_fragmented += rb.stats().dropped_too_fragmented;
    total.trimmed_bytes += rb.stats().trimmed_bytes;
    total.duplicate_bytes += rb.stats().duplicate_bytes;
    total.bytes_ooo += rb.stats().bytes_ooo;
    total.bytes_in_order += rb.stats().bytes_in_order;
    ASSERT_EQ(got, expect) << "seed " << seed;
    ASSERT_GT(got.size(), 0u) << "seed " << seed << " nxt " << m.nxt << " cap " << cap;
}

}  // namespace

TEST(RecvBuffer, RandomOrderMatchesReferenceModel) {
    RecvStats total;
    for (std::uint32_t seed = 1; seed <= 300; ++seed) {
        run_seed(seed, total);
        if (::testing::Test::HasFatalFailure()) return;
    }
    // The generator reaches every path.
    EXPECT_GT(total.dropped_too_fragmented, 100u);
    EXPECT_GT(total.trimmed_bytes, 10000u);
    EXPECT_GT(total.duplicate_bytes, 10000u);
    EXPECT_GT(total.bytes_ooo, 10000u);
    EXPECT_GT(total.bytes_in_order, 300u * 2000u);
}

// Every permutation-ish order of disjoint pieces reassembles the stream exactly.
TEST(RecvBuffer, ShuffledPiecesReassembleExactly) {
    for (std::uint32_t seed = 1; seed <= 200; ++seed) {
        std::mt19937 rng(seed);
        const std::size_t len = 5000;
        std::vector<std::uint8_t> stream(len);
        for (auto& b : stream) b = static_cast<std::uint8_t>(rng());
        std::vector<std::pair<std::size_t, std::size_t>> pieces;
        for (std::size_t o = 0; o < len;) {
            const std::size_t n = std::min<std::size_t>(1 + rng() % 300, len - o);
            pieces.push_back({o, n});
            o += n;
        }
        std::shuffle(pieces.begin(), pieces.end(), rng);
        const SeqNum isn(0xffffffffu - static_cast<std::uint32_t>(rng() % 6000));
        RecvBuffer rb(len);
        rb.reset(isn);
        for (auto [o, n] : pieces)
            rb.insert(isn + static_cast<std::uint32_t>(o), Bytes(stream).subspan(o, n));
        ASSERT_EQ(rb.readable(), len) << "seed " << seed;
        ASSERT_TRUE(rb.ooo_ranges().empty());
        ASSERT_EQ(read_all(rb), stream) << "seed " << seed;
        ASSERT_EQ(rb.stats().bytes_in_order, len);
        ASSERT_EQ(rb.stats().duplicate_bytes, 0u);
    }
}

TEST(RecvBuffer, AllocatesAtFirstStoreAndReleasesWhenEmpty) {
    RecvBuffer b(4096);
    b.reset(SeqNum(500));
    EXPECT_FALSE(b.allocated());
    EXPECT_EQ(b.window(), 4096u);
    std::vector<std::uint8_t> data(1000);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 7);
    // Out of order first: held, so no release.
    b.insert(SeqNum(1000), Bytes(data).subspan(500));
    EXPECT_TRUE(b.allocated());
    EXPECT_FALSE(b.release());
    b.insert(SeqNum(500), Bytes(data).first(500));
    EXPECT_EQ(b.readable(), 1000u);
    EXPECT_FALSE(b.release());
    std::vector<std::uint8_t> out(1000);
    EXPECT_EQ(b.read(out), 1000u);
    EXPECT_EQ(out, data);
    EXPECT_TRUE(b.release());
    EXPECT_FALSE(b.allocated());
    b.insert(SeqNum(1500), Bytes(data).first(10));
    EXPECT_EQ(b.read(out), 10u);
    EXPECT_TRUE(std::equal(out.begin(), out.begin() + 10, data.begin()));
}
