// SendBuffer: sequence-indexed ring, wrap of both the ring and 2^32.
#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "tcp/send_buffer.hpp"
#include "unit/base/alloc_count.hpp"

using namespace uinet;
using namespace uinet::tcp;

namespace {

std::vector<std::uint8_t> pattern(std::size_t n, std::uint8_t start = 0) {
    std::vector<std::uint8_t> v(n);
    std::iota(v.begin(), v.end(), start);
    return v;
}

}  // namespace

TEST(SendBuffer, AppendBeyondCapacityTakesWhatFits) {
    SendBuffer sb(100);
    sb.reset(SeqNum(1000));
    auto data = pattern(150);
    EXPECT_EQ(sb.append(data), 100u);
    EXPECT_EQ(sb.size(), 100u);
    EXPECT_EQ(sb.free_space(), 0u);
    EXPECT_EQ(sb.append(data), 0u);
    EXPECT_EQ(sb.head_seq(), SeqNum(1000));
    EXPECT_EQ(sb.end_seq(), SeqNum(1100));
    std::vector<std::uint8_t> out(100);
    ASSERT_TRUE(sb.copy(SeqNum(1000), out));
    EXPECT_EQ(out, std::vector<std::uint8_t>(data.begin(), data.begin() + 100));
}

TEST(SendBuffer, AckPartialOldAndOverAck) {
    SendBuffer sb(64);
    sb.reset(SeqNum(10));
    auto data = pattern(50);
    ASSERT_EQ(sb.append(data), 50u);
    EXPECT_EQ(sb.ack(SeqNum(5)), 0u);  // old ACK
    EXPECT_EQ(sb.ack(SeqNum(10)), 0u);
    EXPECT_EQ(sb.ack(SeqNum(30)), 20u);
    EXPECT_EQ(sb.head_seq(), SeqNum(30));
    EXPECT_EQ(sb.size(), 30u);
    EXPECT_EQ(sb.ack(SeqNum(20)), 0u);  // behind head now
    std::vector<std::uint8_t> b(1);
    EXPECT_FALSE(sb.copy(SeqNum(29), b));
    ASSERT_TRUE(sb.copy(SeqNum(30), b));
    EXPECT_EQ(b[0], 20);
    // Over-ack (e.g. covering the FIN): clamps to what is held.
    EXPECT_EQ(sb.ack(SeqNum(61)), 30u);
    EXPECT_EQ(sb.size(), 0u);
    EXPECT_EQ(sb.head_seq(), SeqNum(60));
    EXPECT_EQ(sb.end_seq(), SeqNum(60));
}

TEST(SendBuffer, CopyRangesAcrossRingEdge) {
    SendBuffer sb(16);
    sb.reset(SeqNum(0));
    auto a = pattern(12);
    ASSERT_EQ(sb.append(a), 12u);
    ASSERT_EQ(sb.ack(SeqNum(10)), 10u);  // ring start at index 10
    auto b = pattern(14, 100);
    ASSERT_EQ(sb.append(b), 14u);  // wraps the ring
    EXPECT_EQ(sb.size(), 16u);
    std::vector<std::uint8_t> expect = {10, 11};
    expect.insert(expect.end(), b.begin(), b.end());
    for (std::size_t from = 0; from <= 16; ++from) {
        for (std::size_t len = 0; from + len <= 16; ++len) {
            std::vector<std::uint8_t> out(len, 0xee);
            ASSERT_TRUE(sb.copy(SeqNum(10 + static_cast<std::uint32_t>(from)), out)) << from << "+" << len;
            EXPECT_EQ(out, std::vector<std::uint8_t>(expect.begin() + from, expect.begin() + from + len));
        }
    }
    std::vector<std::uint8_t> out(2);
    EXPECT_FALSE(sb.copy(SeqNum(25), out));  // one past the end
    EXPECT_FALSE(sb.copy(SeqNum(9), out));   // before the head
    int pieces = 0;
    EXPECT_TRUE(sb.for_each_span(SeqNum(10), 16, [&](Bytes) { ++pieces; }));
    EXPECT_EQ(pieces, 2);
    EXPECT_EQ(sb.bytes_from(SeqNum(20)), 6u);
    EXPECT_EQ(sb.bytes_from(SeqNum(27)), 0u);
}

TEST(SendBuffer, WrapsAtTwoToThe32) {
    SendBuffer sb(1000);
    sb.reset(SeqNum(0xffffff00u));
    std::vector<std::uint8_t> all;
    std::uint8_t next = 0;
    SeqNum acked(0xffffff00u);
    // Push 5000 bytes through in uneven chunks, acking as we go.
    while (all.size() < 5000) {
        auto chunk = pattern(333, next);
        std::size_t n = sb.append(chunk);
        all.insert(all.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
        next = static_cast<std::uint8_t>(next + n);
        // Everything held matches the stream at its sequence number.
        std::vector<std::uint8_t> out(sb.size());
        ASSERT_TRUE(sb.copy(sb.head_seq(), out));
        const std::size_t base = static_cast<std::size_t>(sb.head_seq() - SeqNum(0xffffff00u));
        ASSERT_EQ(out, std::vector<std::uint8_t>(all.begin() + static_cast<std::ptrdiff_t>(base), all.end()));
        acked = acked + 217;
        sb.ack(acked);
    }
    EXPECT_LT(sb.head_seq().raw(), 0x10000u);  // wrapped
    EXPECT_EQ(sb.end_seq() - sb.head_seq(), static_cast<std::int32_t>(sb.size()));
}

TEST(SendBuffer, AppendToPacketAndPoolDry) {
    Pool pool({.count = 4, .buf_size = 256, .headroom = 64});
    SendBuffer sb(1024);
    sb.reset(SeqNum(0xfffffff0u));
    auto data = pattern(600);
    ASSERT_EQ(sb.append(data), 600u);
    Packet p = pool.alloc();
    ASSERT_TRUE(sb.append_to(p, SeqNum(0xfffffff0u) + 5, 300));  // crosses 2^32, chains
    ASSERT_EQ(p.size(), 300u);
    std::vector<std::uint8_t> out(300);
    ASSERT_TRUE(p.copy_out(0, out));
    EXPECT_EQ(out, std::vector<std::uint8_t>(data.begin() + 5, data.begin() + 305));
    Packet q = pool.alloc();
    EXPECT_FALSE(sb.append_to(q, SeqNum(0xfffffff0u) + 590, 11));  // past end
    EXPECT_EQ(q.size(), 0u);
    // 3 buffers used by p + q; a 600-byte copy needs more than remain.
    EXPECT_FALSE(sb.append_to(q, SeqNum(0xfffffff0u), 600));
    Packet none;
    EXPECT_FALSE(sb.append_to(none, SeqNum(0xfffffff0u), 1));
}

TEST(SendBuffer, SetCapacityKeepsDataAndNeverShrinksBelowSize) {
    SendBuffer sb(8);
    sb.reset(SeqNum(0));
    auto a = pattern(8);
    sb.append(a);
    sb.ack(SeqNum(6));
    auto b = pattern(5, 50);
    ASSERT_EQ(sb.append(b), 5u);  // wrapped
    sb.set_capacity(4);           // below size(): clamps to 7
    EXPECT_EQ(sb.capacity(), 7u);
    sb.set_capacity(32);
    EXPECT_EQ(sb.capacity(), 32u);
    std::vector<std::uint8_t> out(7);
    ASSERT_TRUE(sb.copy(SeqNum(6), out));
    EXPECT_EQ(out, (std::vector<std::uint8_t>{6, 7, 50, 51, 52, 53, 54}));
    EXPECT_EQ(sb.append(pattern(30)), 25u);
}

TEST(SendBuffer, SteadyStateDoesNotAllocate) {
    SendBuffer sb(4096);
    sb.reset(SeqNum(1));
    auto chunk = pattern(1000);
    std::vector<std::uint8_t> out(1460);
    sb.append(chunk);  // the first byte allocates the ring; nothing after that does
    sb.ack(sb.end_seq());
    const std::size_t before = uinet_test::allocation_count();
    for (int i = 0; i < 100; ++i) {
        sb.append(chunk);
        sb.copy(sb.head_seq(), MutBytes{out.data(), std::min<std::size_t>(out.size(), sb.size())});
        sb.ack(sb.head_seq() + 900);
    }
    EXPECT_EQ(uinet_test::allocation_count(), before);
}

TEST(SendBuffer, AllocatesAtFirstAppendAndReleasesWhenEmpty) {
    SendBuffer b(4096);
    b.reset(SeqNum(1000));
    EXPECT_FALSE(b.allocated());
    EXPECT_EQ(b.free_space(), 4096u);
    b.set_capacity(8192);  // no memory yet: just the number changes
    EXPECT_FALSE(b.allocated());
    EXPECT_EQ(b.capacity(), 8192u);
    std::vector<std::uint8_t> data(3000);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 3);
    EXPECT_EQ(b.append(data), 3000u);
    EXPECT_TRUE(b.allocated());
    EXPECT_FALSE(b.release());  // bytes held: refused
    EXPECT_TRUE(b.allocated());
    b.ack(SeqNum(4000));
    EXPECT_TRUE(b.release());
    EXPECT_FALSE(b.allocated());
    EXPECT_EQ(b.capacity(), 8192u);
    // Usable again after a release, with sequence numbers continuing.
    EXPECT_EQ(b.append(data), 3000u);
    std::vector<std::uint8_t> out(3000);
    ASSERT_TRUE(b.copy(SeqNum(4000), out));
    EXPECT_EQ(out, data);
}
