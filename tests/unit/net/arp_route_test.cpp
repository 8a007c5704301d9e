#include <gtest/gtest.h>

#include "net/arp_cache.hpp"
#include "net/route.hpp"

using namespace uinet;
using namespace uinet::net;

namespace {
Instant at(std::int64_t ms) { return Instant::from_ns(ms * 1'000'000); }
const Ipv4Addr kPeer = Ipv4Addr::of(198, 18, 0, 9);
const MacAddr kMac = *MacAddr::parse("02:00:00:00:00:09");
}  // namespace

TEST(ArpCache, QueuesUntilResolvedThenReleases) {
    Pool pool({.count = 16, .buf_size = 256, .headroom = 64});
    ArpCache c;
    Packet p1 = pool.alloc(), p2 = pool.alloc();
    EXPECT_EQ(c.resolve(at(0), kPeer, p1).verdict, ArpCache::Verdict::send_request);
    EXPECT_EQ(c.resolve(at(1), kPeer, p2).verdict, ArpCache::Verdict::queued);
    EXPECT_EQ(c.pending_total(), 2u);
    std::vector<Packet> out;
    EXPECT_TRUE(c.update(at(5), kPeer, kMac, false, out));
    EXPECT_EQ(out.size(), 2u);
    EXPECT_EQ(c.pending_total(), 0u);
    Packet p3 = pool.alloc();
    auto r = c.resolve(at(6), kPeer, p3);
    EXPECT_EQ(r.verdict, ArpCache::Verdict::ready);
    EXPECT_EQ(r.mac, kMac);
    EXPECT_TRUE(p3);  // left with the caller
}

TEST(ArpCache, RetriesThenGivesUpAndDropsPending) {
    Pool pool({.count = 16, .buf_size = 256, .headroom = 64});
    ArpConfig cfg;
    cfg.max_requests = 3;
    cfg.retry_interval = Duration::seconds(1);
    ArpCache c(cfg);
    Packet p = pool.alloc();
    ASSERT_EQ(c.resolve(at(0), kPeer, p).verdict, ArpCache::Verdict::send_request);
    int requests = 0;
    for (std::int64_t t = 0; t <= 5000; t += 100) c.poll(at(t), [&](Ipv4Addr ip, const MacAddr* known) {
            EXPECT_EQ(known, nullptr);
            EXPECT_EQ(ip, kPeer);
            ++requests;
        });
    EXPECT_EQ(requests, 2);  // the first request came from resolve()
    EXPECT_EQ(c.stats().failed, 1u);
    EXPECT_EQ(c.stats().pending_dropped, 1u);
    EXPECT_EQ(c.size(), 0u);
    EXPECT_EQ(pool.stats().in_use, 0u);
}

TEST(ArpCache, BoundedPendingQueue) {
    Pool pool({.count = 32, .buf_size = 256, .headroom = 64});
    ArpConfig cfg;
    cfg.pending_per_entry = 2;
    ArpCache c(cfg);
    std::vector<ArpCache::Verdict> v;
    for (int i = 0; i < 4; ++i) {
        Packet p = pool.alloc();
        v.push_back(c.resolve(at(0), kPeer, p).verdict);
    }
    EXPECT_EQ(v[0], ArpCache::Verdict::send_request);
    EXPECT_EQ(v[1], ArpCache::Verdict::queued);
    EXPECT_EQ(v[2], ArpCache::Verdict::dropped);
    EXPECT_EQ(v[3], ArpCache::Verdict::dropped);
    EXPECT_EQ(c.stats().pending_dropped, 2u);
    EXPECT_EQ(pool.stats().in_use, 2u);  // the two queued packets
}

TEST(ArpCache, MergeDoesNotCreateAndEntriesAge) {
    ArpConfig cfg;
    cfg.reachable = Duration::seconds(60);
    ArpCache c(cfg);
    std::vector<Packet> out;
    EXPECT_FALSE(c.update(at(0), kPeer, kMac, false, out));
    EXPECT_FALSE(c.lookup(at(0), kPeer));
    EXPECT_TRUE(c.update(at(0), kPeer, kMac, true, out));
    EXPECT_TRUE(c.lookup(at(59'999), kPeer));
    EXPECT_FALSE(c.lookup(at(60'000), kPeer));
    c.poll(at(60'000), [](Ipv4Addr, const MacAddr*) { FAIL() << "no request for an unused aged entry"; });
    EXPECT_EQ(c.size(), 0u);
    EXPECT_EQ(c.stats().expired, 1u);
}

TEST(ArpCache, TableIsBounded) {
    ArpConfig cfg;
    cfg.max_entries = 4;
    ArpCache c(cfg);
    std::vector<Packet> out;
    for (std::uint32_t i = 0; i < 10; ++i) c.update(at(0), Ipv4Addr(0x0a000000 + i), kMac, true, out);
    EXPECT_EQ(c.size(), 4u);
    EXPECT_EQ(c.stats().table_full, 6u);
}

TEST(RouteTable, LongestPrefixWins) {
    RouteTable t;
    t.add({*Ipv4Cidr::parse("0.0.0.0/0"), Ipv4Addr::of(198, 18, 0, 1), 1});
    t.add({*Ipv4Cidr::parse("198.18.0.0/24"), Ipv4Addr::any(), 1});
    t.add({*Ipv4Cidr::parse("198.18.0.128/25"), Ipv4Addr::any(), 2});
    auto a = t.lookup(Ipv4Addr::of(198, 18, 0, 5));
    ASSERT_TRUE(a);
    EXPECT_EQ(a->ifindex, 1u);
    EXPECT_EQ(a->addr, Ipv4Addr::of(198, 18, 0, 5));
    auto b = t.lookup(Ipv4Addr::of(198, 18, 0, 200));
    EXPECT_EQ(b->ifindex, 2u);
    auto c = t.lookup(Ipv4Addr::of(203, 0, 113, 1));
    EXPECT_EQ(c->addr, Ipv4Addr::of(198, 18, 0, 1));
    EXPECT_EQ(t.remove(*Ipv4Cidr::parse("0.0.0.0/0"), 1), 1u);
    EXPECT_FALSE(t.lookup(Ipv4Addr::of(203, 0, 113, 1)));
}

TEST(ArpCache, EntryInUseIsRefreshedByUnicastAndStaysUsable) {
    Pool pool({.count = 4, .buf_size = 256, .headroom = 64});
    ArpConfig cfg;
    cfg.reachable = Duration::seconds(60);
    cfg.max_requests = 3;
    ArpCache c(cfg);
    std::vector<Packet> out;
    ASSERT_TRUE(c.update(at(0), kPeer, kMac, true, out));
    Packet p = pool.alloc();
    ASSERT_EQ(c.resolve(at(30'000), kPeer, p).verdict, ArpCache::Verdict::ready);  // used
    std::vector<const MacAddr*> polls;
    c.poll(at(60'000), [&](Ipv4Addr, const MacAddr* known) { polls.push_back(known); });
    ASSERT_EQ(polls.size(), 1u);
    ASSERT_NE(polls[0], nullptr);
    EXPECT_EQ(*polls[0], kMac);  // unicast refresh to the known MAC
    // Still usable while the refresh is outstanding.
    EXPECT_EQ(c.resolve(at(60'500), kPeer, p).verdict, ArpCache::Verdict::ready);
    // No answer: two more requests, then the entry goes.
    for (std::int64_t t = 61'000; t <= 64'000; t += 1000) c.poll(at(t), [&](Ipv4Addr, const MacAddr* k) { polls.push_back(k); });
    EXPECT_EQ(polls.size(), 3u);
    EXPECT_EQ(c.size(), 0u);
    EXPECT_EQ(c.stats().failed, 1u);
    // An answer in time makes it fresh again.
    ASSERT_TRUE(c.update(at(70'000), kPeer, kMac, true, out));
    c.resolve(at(71'000), kPeer, p);
    c.poll(at(130'000), [](Ipv4Addr, const MacAddr*) {});
    ASSERT_TRUE(c.update(at(130'500), kPeer, kMac, false, out));
    EXPECT_TRUE(c.lookup(at(131'000), kPeer));
}
