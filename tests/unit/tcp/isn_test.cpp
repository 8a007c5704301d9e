// IsnGenerator (RFC 6528) and PortPicker (RFC 6056 Algorithm 4).
#include <gtest/gtest.h>

#include <set>

#include "tcp/isn.hpp"

using namespace uinet;
using namespace uinet::tcp;

namespace {
const SipKey kKey{0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};
const Ipv4Addr kL = Ipv4Addr::of(198, 18, 0, 1);
const Ipv4Addr kR = Ipv4Addr::of(198, 18, 0, 2);
Instant at_ns(std::int64_t ns) { return Instant::from_ns(ns); }
}  // namespace

TEST(Isn, DeterministicForSameInputs) {
    IsnGenerator a(kKey), b(kKey);
    const Instant now = at_ns(123'456'789'000);
    EXPECT_EQ(a.next(now, kL, Port(1234), kR, Port(80)), b.next(now, kL, Port(1234), kR, Port(80)));
    IsnGenerator other(SipKey{1, 2});
    EXPECT_NE(a.next(now, kL, Port(1234), kR, Port(80)), other.next(now, kL, Port(1234), kR, Port(80)));
}

TEST(Isn, DifferentTuplesDiffer) {
    IsnGenerator g(kKey);
    const Instant now = at_ns(5'000'000'000);
    std::set<std::uint32_t> seen;
    for (std::uint16_t p = 1000; p < 1500; ++p) seen.insert(g.next(now, kL, Port(p), kR, Port(80)).raw());
    for (std::uint16_t p = 1; p < 500; ++p)
        if (p != 80) seen.insert(g.next(now, kL, Port(1000), kR, Port(p)).raw());
    for (std::uint32_t h = 1; h < 500; ++h)
        seen.insert(g.next(now, kL, Port(1000), Ipv4Addr(kR.value() + h), Port(80)).raw());
    for (std::uint32_t h = 1; h < 500; ++h)
        seen.insert(g.next(now, Ipv4Addr(kL.value() + h), Port(1000), kR, Port(80)).raw());
    EXPECT_EQ(seen.size(), 500u + 498u + 499u + 499u);  // 32-bit collisions among 2k: ~0.05%
    // Swapping the ends is a different connection.
    EXPECT_NE(g.next(now, kL, Port(1), kR, Port(2)), g.next(now, kR, Port(2), kL, Port(1)));
}

TEST(Isn, AdvancesAt250kPerSecond) {
    IsnGenerator g(kKey);
    const Instant t = at_ns(77'000'000'000);
    const SeqNum a = g.next(t, kL, Port(5), kR, Port(6));
    EXPECT_EQ(g.next(t + Duration::seconds(1), kL, Port(5), kR, Port(6)) - a, 250'000);
    EXPECT_EQ(g.next(t + Duration::micros(4), kL, Port(5), kR, Port(6)) - a, 1);
    EXPECT_EQ(g.next(t + Duration::nanos(3999), kL, Port(5), kR, Port(6)) - a, 0);
    // The 4 us clock wraps 2^32 after about 4.77 hours; the ISN wraps with it.
    const Instant wrap = at_ns(std::int64_t{4000} << 32);
    EXPECT_EQ(g.next(wrap, kL, Port(5), kR, Port(6)), g.next(at_ns(0), kL, Port(5), kR, Port(6)));
}

TEST(Isn, Ipv6Tuples) {
    IsnGenerator g(kKey);
    const Ipv6Addr l = *Ipv6Addr::parse("2001:db8::1");
    const Ipv6Addr r = *Ipv6Addr::parse("2001:db8::2");
    const Instant now = at_ns(1'000'000);
    EXPECT_EQ(g.next(now, l, Port(1), r, Port(2)), g.next(now, l, Port(1), r, Port(2)));
    EXPECT_NE(g.next(now, l, Port(1), r, Port(2)), g.next(now, l, Port(1), r, Port(3)));
    EXPECT_EQ(g.next(now + Duration::seconds(2), l, Port(1), r, Port(2)) - g.next(now, l, Port(1), r, Port(2)),
              500'000);
}

TEST(PortPicker, ReturnsFreePortsInRange) {
    PortPicker pp(kKey);
    std::set<std::uint16_t> used;
    auto in_use = [&](Port p) { return used.count(p.value()) != 0; };
    for (int i = 0; i < 2000; ++i) {
        auto p = pp.pick(kL, kR, Port(80), in_use);
        ASSERT_TRUE(p.has_value());
        ASSERT_GE(p->value(), 49152);
        ASSERT_LE(p->value(), 65535);
        ASSERT_TRUE(used.insert(p->value()).second) << "picked an in-use port";
    }
}

TEST(PortPicker, SkipsInUseAndReportsExhaustion) {
    PortPicker pp(kKey, 1000, 1099);
    int calls = 0;
    auto only_1042_free = [&](Port p) {
        ++calls;
        return p.value() != 1042;
    };
    auto p = pp.pick(kL, kR, Port(80), only_1042_free);
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->value(), 1042);
    calls = 0;
    EXPECT_FALSE(pp.pick(kL, kR, Port(80), [&](Port) {
        ++calls;
        return true;
    }));
    EXPECT_EQ(calls, 100);  // every port tried exactly once
    std::set<std::uint16_t> tried;
    EXPECT_FALSE(pp.pick(kL, kR, Port(81), [&](Port q) {
        tried.insert(q.value());
        return true;
    }));
    EXPECT_EQ(tried.size(), 100u);
    EXPECT_EQ(*tried.begin(), 1000);
    EXPECT_EQ(*tried.rbegin(), 1099);
}

TEST(PortPicker, SuccessiveCallsWalkTheRange) {
    // Same destination: consecutive calls give consecutive ports (mod range)
    // from a secret offset, so a port is reused only after the range is used.
    PortPicker pp(kKey, 2000, 2009);
    auto none = [](Port) { return false; };
    std::vector<std::uint16_t> seq;
    for (int i = 0; i < 10; ++i) seq.push_back(pp.pick(kL, kR, Port(443), none)->value());
    EXPECT_EQ(std::set<std::uint16_t>(seq.begin(), seq.end()).size(), 10u);
    for (int i = 1; i < 10; ++i) EXPECT_EQ((seq[i] - 2000) % 10, (seq[i - 1] - 2000 + 1) % 10);
}

TEST(PortPicker, DifferentDestinationsSpread) {
    PortPicker pp(kKey);
    auto none = [](Port) { return false; };
    std::set<std::uint16_t> firsts;
    for (std::uint32_t h = 0; h < 1000; ++h) firsts.insert(pp.pick(kL, Ipv4Addr(kR.value() + h), Port(80), none)->value());
    EXPECT_GT(firsts.size(), 900u);  // ~970 expected from 16384 ports
    // Another key, another sequence.
    PortPicker other(SipKey{9, 9});
    int same = 0;
    PortPicker again(kKey);
    for (std::uint32_t h = 0; h < 100; ++h) {
        const Ipv4Addr r(kR.value() + h);
        same += again.pick(kL, r, Port(80), none) == other.pick(kL, r, Port(80), none);
    }
    EXPECT_LT(same, 5);
}

TEST(PortPicker, OddBoundsAreSane) {
    PortPicker swapped(kKey, 5010, 5000);
    EXPECT_EQ(swapped.low(), 5000);
    EXPECT_EQ(swapped.high(), 5010);
    PortPicker zero(kKey, 0, 3, 1);
    std::set<std::uint16_t> got;
    auto in_use = [&](Port p) { return got.count(p.value()) != 0; };
    while (auto p = zero.pick(kL, kR, Port(1), in_use)) got.insert(p->value());
    EXPECT_EQ(got, (std::set<std::uint16_t>{1, 2, 3}));
}
