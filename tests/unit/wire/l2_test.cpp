// Ethernet, VLAN stacks and ARP: round trips, truncation, tag limits.
#include <gtest/gtest.h>

#include "wire/arp.hpp"
#include "wire/ethernet.hpp"
#include "wire/vlan.hpp"
#include "wire_test_util.hpp"

using namespace uinet;
using namespace uinet::wire;
using namespace wiretest;

namespace {
const MacAddr kA({0x02, 0x00, 0x5e, 0x10, 0x00, 0x01});
const MacAddr kB({0x52, 0x54, 0x00, 0xab, 0xcd, 0xef});
}  // namespace

TEST(Ethernet, ParsesHandMadeHeader) {
    const std::uint8_t f[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0xab,
                              0xcd, 0xef, 0x08, 0x06, 0xde, 0xad};
    auto r = EthernetRepr::parse(Bytes(f));
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->dst.is_broadcast());
    EXPECT_EQ(r->src, kB);
    EXPECT_EQ(r->ethertype, ethertype::arp);
    EXPECT_EQ(r->ethertype, EtherType::arp);
    EthernetView v{Bytes(f)};
    ASSERT_TRUE(v.check_len());
    EXPECT_EQ(v.payload().size(), 2u);
    EXPECT_EQ(v.payload()[0], 0xde);
}

TEST(Ethernet, RoundTrip) {
    for (int i = 0; i < 50; ++i) {
        EthernetRepr e{MacAddr::from_bytes(rand_bytes(6).data()), MacAddr::from_bytes(rand_bytes(6).data()),
                       rand16()};
        Buf out(EthernetRepr::size());
        e.emit(MutBytes(out));
        auto p = EthernetRepr::parse(Bytes(out));
        ASSERT_TRUE(p);
        EXPECT_EQ(*p, e);
    }
}

TEST(Ethernet, EveryTruncationFails) {
    Buf f(14, 0x11);
    for (std::size_t n = 0; n < 14; ++n) {
        auto r = EthernetRepr::parse(sub(f, 0, n));
        ASSERT_FALSE(r) << n;
        EXPECT_EQ(r.error(), ParseError::truncated);
    }
}

TEST(Vlan, TciAccessors) {
    VlanTag t{ethertype::vlan_ctag, 0xb064};  // pcp 5, dei 1, vid 100
    EXPECT_EQ(t.pcp(), 5);
    EXPECT_TRUE(t.dei());
    EXPECT_EQ(t.vid(), 100);
    EXPECT_EQ(VlanTag::make(ethertype::vlan_ctag, 100, 5, true), t);
    VlanTag u = VlanTag::make(ethertype::vlan_stag, 0xfff, 7, false);
    EXPECT_EQ(u.tci, 0xefff);
    EXPECT_FALSE(u.dei());
}

TEST(Vlan, StackCapacity) {
    VlanStack s;
    EXPECT_TRUE(s.empty());
    for (std::size_t i = 0; i < kMaxVlanTags; ++i) EXPECT_TRUE(s.push_back(VlanTag::make(0x8100, static_cast<std::uint16_t>(i))));
    EXPECT_TRUE(s.full());
    EXPECT_FALSE(s.push_back(VlanTag{}));
    EXPECT_EQ(s.size(), kMaxVlanTags);
    std::size_t i = 0;
    for (const VlanTag& t : s) EXPECT_EQ(t.vid(), i++);
    VlanStack t = s;
    EXPECT_EQ(s, t);
    t[3].tci = 999;
    EXPECT_FALSE(s == t);
    t.clear();
    EXPECT_TRUE(t.empty());
    EXPECT_EQ(l2_header_len(s), 14 + 4 * kMaxVlanTags);
}

TEST(Vlan, ParsesUntaggedFrame) {
    Buf f(60, 0);
    EthernetRepr{kA, kB, ethertype::ipv4}.emit(MutBytes(f));
    auto h = parse_l2(Bytes(f));
    ASSERT_TRUE(h);
    EXPECT_TRUE(h->vlans.empty());
    EXPECT_EQ(h->ethertype, ethertype::ipv4);
    EXPECT_EQ(h->header_len, 14u);
    EXPECT_EQ(h->dst, kA);
    EXPECT_EQ(h->src, kB);
}

TEST(Vlan, ParsesQinQHandMade) {
    // S-tag vid 10 pcp 3, then C-tag vid 20, then IPv6.
    const std::uint8_t f[] = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x01, 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef,
                              0x88, 0xa8, 0x60, 0x0a, 0x81, 0x00, 0x00, 0x14, 0x86, 0xdd, 0x60, 0x00};
    auto h = parse_l2(Bytes(f));
    ASSERT_TRUE(h);
    ASSERT_EQ(h->vlans.size(), 2u);
    EXPECT_EQ(h->vlans[0].tpid, ethertype::vlan_stag);
    EXPECT_EQ(h->vlans[0].vid(), 10);
    EXPECT_EQ(h->vlans[0].pcp(), 3);
    EXPECT_EQ(h->vlans[1].tpid, ethertype::vlan_ctag);
    EXPECT_EQ(h->vlans[1].vid(), 20);
    EXPECT_EQ(h->ethertype, ethertype::ipv6);
    EXPECT_EQ(h->header_len, 22u);

    Buf out(l2_header_len(h->vlans));
    emit_l2(MutBytes(out), h->dst, h->src, h->vlans, h->ethertype);
    EXPECT_EQ(out, Buf(f, f + 22));
}

TEST(Vlan, SixteenTagsParseSeventeenDoNot) {
    const std::uint16_t tpids[] = {ethertype::vlan_ctag, ethertype::vlan_stag, ethertype::vlan_legacy_qinq};
    VlanStack s;
    for (std::size_t i = 0; i < kMaxVlanTags; ++i)
        s.push_back(VlanTag::make(tpids[i % 3], static_cast<std::uint16_t>(100 + i), static_cast<std::uint8_t>(i % 8)));
    Buf f(l2_header_len(s) + 20, 0xee);
    emit_l2(MutBytes(f), kA, kB, s, ethertype::ipv4);
    auto h = parse_l2(Bytes(f));
    ASSERT_TRUE(h);
    EXPECT_EQ(h->vlans, s);
    EXPECT_EQ(h->ethertype, ethertype::ipv4);
    EXPECT_EQ(h->header_len, 14 + 4 * kMaxVlanTags);

    // Make the inner ethertype another tag: 17 tags.
    Buf g(f.size() + 4, 0xee);
    emit_l2(MutBytes(g), kA, kB, s, ethertype::vlan_ctag);
    store_be16(g.data() + 12 + 4 * kMaxVlanTags + 2, 0x0017);
    store_be16(g.data() + 12 + 4 * kMaxVlanTags + 4, ethertype::ipv4);
    auto h17 = parse_l2(Bytes(g));
    ASSERT_FALSE(h17);
    EXPECT_EQ(h17.error(), ParseError::too_many_tags);
}

TEST(Vlan, RoundTripRandomStacks) {
    for (int round = 0; round < 200; ++round) {
        VlanStack s;
        std::size_t n = rand_below(kMaxVlanTags + 1);
        for (std::size_t i = 0; i < n; ++i) {
            std::uint16_t tpid = std::array<std::uint16_t, 3>{0x8100, 0x88a8, 0x9100}[rand_below(3)];
            s.push_back(VlanTag{tpid, rand16()});
        }
        std::uint16_t et = rand16();
        while (is_vlan_tpid(et)) et = rand16();
        Buf f(l2_header_len(s));
        emit_l2(MutBytes(f), kA, kB, s, et);
        auto h = parse_l2(Bytes(f));
        ASSERT_TRUE(h);
        EXPECT_EQ(*h, (L2Header{kA, kB, s, et, l2_header_len(s)}));
    }
}

TEST(Vlan, EveryTruncationFails) {
    VlanStack s;
    s.push_back(VlanTag::make(0x88a8, 1));
    s.push_back(VlanTag::make(0x8100, 2));
    s.push_back(VlanTag::make(0x9100, 3));
    Buf f(l2_header_len(s));
    emit_l2(MutBytes(f), kA, kB, s, ethertype::arp);
    ASSERT_TRUE(parse_l2(Bytes(f)));
    for (std::size_t n = 0; n < f.size(); ++n) {
        auto h = parse_l2(sub(f, 0, n));
        ASSERT_FALSE(h) << n;
        EXPECT_EQ(h.error(), ParseError::truncated) << n;
    }
}

TEST(Arp, ParsesHandMadeRequest) {
    // who-has 192.168.1.1 tell 192.168.1.100, then 18 bytes of Ethernet padding.
    const std::uint8_t a[] = {0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x52, 0x54, 0x00, 0xab,
                              0xcd, 0xef, 0xc0, 0xa8, 0x01, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                              0xc0, 0xa8, 0x01, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    auto r = ArpRepr::parse(Bytes(a));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->op, arp_op::request);
    EXPECT_EQ(r->sender_mac, kB);
    EXPECT_EQ(r->sender_ip, Ipv4Addr::of(192, 168, 1, 100));
    EXPECT_TRUE(r->target_mac.is_zero());
    EXPECT_EQ(r->target_ip, Ipv4Addr::of(192, 168, 1, 1));
    Buf out(ArpRepr::size());
    r->emit(MutBytes(out));
    EXPECT_EQ(out, Buf(a, a + 28));
}

TEST(Arp, RoundTrip) {
    for (int i = 0; i < 50; ++i) {
        ArpRepr a{static_cast<std::uint16_t>(1 + rand_below(2)), MacAddr::from_bytes(rand_bytes(6).data()),
                  Ipv4Addr(rand32()), MacAddr::from_bytes(rand_bytes(6).data()), Ipv4Addr(rand32())};
        Buf out(ArpRepr::size());
        a.emit(MutBytes(out));
        auto p = ArpRepr::parse(Bytes(out));
        ASSERT_TRUE(p);
        EXPECT_EQ(*p, a);
    }
}

TEST(Arp, RejectsOtherHardwareAndProtocols) {
    Buf base(28);
    ArpRepr{arp_op::reply, kA, Ipv4Addr::of(1, 2, 3, 4), kB, Ipv4Addr::of(5, 6, 7, 8)}.emit(MutBytes(base));
    struct Case { std::size_t off; std::uint8_t val; };
    for (Case c : {Case{1, 6} /*htype IEEE 802*/, Case{2, 0x86} /*ptype*/, Case{4, 8} /*hlen*/,
                   Case{5, 16} /*plen*/}) {
        Buf b = base;
        b[c.off] = c.val;
        auto r = ArpRepr::parse(Bytes(b));
        ASSERT_FALSE(r) << c.off;
        EXPECT_EQ(r.error(), ParseError::unsupported);
    }
}

TEST(Arp, EveryTruncationFails) {
    Buf b(28);
    ArpRepr{arp_op::request, kA, Ipv4Addr::of(1, 2, 3, 4), kB, Ipv4Addr::of(5, 6, 7, 8)}.emit(MutBytes(b));
    for (std::size_t n = 0; n < b.size(); ++n) {
        auto r = ArpRepr::parse(sub(b, 0, n));
        ASSERT_FALSE(r) << n;
        EXPECT_EQ(r.error(), ParseError::truncated);
    }
}
