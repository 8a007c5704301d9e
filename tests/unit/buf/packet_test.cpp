#include "buf/packet.hpp"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

using namespace uinet;

TEST(Pool, ExhaustionIsCountedNotFatal) {
    Pool pool({.count = 2, .buf_size = 256, .headroom = 32});
    Packet a = pool.alloc(), b = pool.alloc(), c = pool.alloc();
    EXPECT_TRUE(a);
    EXPECT_TRUE(b);
    EXPECT_FALSE(c);
    EXPECT_EQ(pool.stats().alloc_failures, 1u);
    a.reset();
    EXPECT_EQ(pool.available(), 1u);
    EXPECT_TRUE(pool.alloc());
}

TEST(PacketBuf, PushPullPutTrim) {
    Pool pool({.count = 1, .buf_size = 256, .headroom = 32});
    Packet p = pool.alloc();
    PacketBuf& b = p.front();
    EXPECT_EQ(b.headroom(), 32u);
    ASSERT_NE(b.put(10), nullptr);
    ASSERT_NE(b.push(14), nullptr);
    EXPECT_EQ(b.size(), 24u);
    EXPECT_EQ(b.push(19), nullptr);  // only 18 bytes of headroom left
    EXPECT_TRUE(b.pull(14));
    EXPECT_FALSE(b.pull(11));
    EXPECT_TRUE(b.trim(4));
    EXPECT_FALSE(b.trim(5));
    EXPECT_EQ(b.put(1000), nullptr);
}

TEST(Packet, ChainsAcrossBuffersAndReturnsThemAll) {
    Pool pool({.count = 8, .buf_size = 128, .headroom = 16});
    std::vector<std::uint8_t> data(500);
    std::iota(data.begin(), data.end(), 0);
    {
        Packet p = pool.copy_of(data, 16);
        ASSERT_TRUE(p);
        EXPECT_TRUE(p.is_chain());
        EXPECT_EQ(p.size(), 500u);
        std::vector<std::uint8_t> out(100);
        ASSERT_TRUE(p.copy_out(300, out));
        EXPECT_EQ(out[0], static_cast<std::uint8_t>(300));
        EXPECT_FALSE(p.copy_out(450, out));
        ASSERT_TRUE(p.pull(200));
        ASSERT_TRUE(p.copy_out(0, out));
        EXPECT_EQ(out[0], static_cast<std::uint8_t>(200));
        ASSERT_TRUE(p.trim(150));
        EXPECT_EQ(p.size(), 150u);
        EXPECT_FALSE(p.trim(151));
    }
    EXPECT_EQ(pool.stats().in_use, 0u);
}

TEST(Packet, CopyOfFailsCleanlyWhenPoolRunsDry) {
    Pool pool({.count = 2, .buf_size = 128, .headroom = 0});
    std::vector<std::uint8_t> data(1000);
    Packet p = pool.copy_of(data, 0);
    EXPECT_FALSE(p);
    EXPECT_EQ(pool.stats().in_use, 0u);
    EXPECT_GE(pool.stats().alloc_failures, 1u);
}

TEST(Packet, ShareKeepsBuffersAlive) {
    Pool pool({.count = 2, .buf_size = 128, .headroom = 0});
    Packet a = pool.alloc();
    Packet b = a.share();
    EXPECT_FALSE(a.unique());
    a.reset();
    EXPECT_TRUE(b.unique());
    EXPECT_EQ(pool.stats().in_use, 1u);
    b.reset();
    EXPECT_EQ(pool.stats().in_use, 0u);
}

TEST(Packet, AppendPacketCopiesAWholeChainAcrossPools) {
    Pool src({.count = 16, .buf_size = 128, .headroom = 16});
    Pool dst({.count = 16, .buf_size = 256, .headroom = 32});
    std::vector<std::uint8_t> data(900);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 7);
    Packet s = src.copy_of(data, 16);
    ASSERT_TRUE(s.is_chain());
    Packet d = dst.alloc(32);
    ASSERT_TRUE(d.append(Bytes(data.data(), 10)));
    ASSERT_TRUE(d.append(s));
    ASSERT_EQ(d.size(), 910u);
    std::vector<std::uint8_t> out(910);
    ASSERT_TRUE(d.copy_out(0, out));
    EXPECT_TRUE(std::equal(data.begin(), data.begin() + 10, out.begin()));
    EXPECT_TRUE(std::equal(data.begin(), data.end(), out.begin() + 10));
    EXPECT_EQ(src.stats().in_use, 8u);  // the source is untouched
    // The destination pool running dry is reported, not a crash.
    Pool tiny({.count = 2, .buf_size = 256, .headroom = 32});
    Packet t = tiny.alloc(32);
    EXPECT_FALSE(t.append(s));
    EXPECT_GE(tiny.stats().alloc_failures, 1u);
}
