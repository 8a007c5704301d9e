// `uinet proxy`'s text and frame parsers: device specs, VLAN tag stacks
// (tools/proxy/device_spec.hpp) and the first-look hook's TCP peek
// (tools/proxy/transparent_proxy.hpp), on hand-built and hostile input.
#include <gtest/gtest.h>

#include "frames.hpp"
#include "proxy/device_spec.hpp"
#include "proxy/transparent_proxy.hpp"
#include "wire/tcp.hpp"

using namespace uinet;
using namespace uinet::test;

namespace {

const MacAddr kA({0x02, 0, 0, 0, 0, 1}), kB({0x02, 0, 0, 0, 0, 2});
const Ipv4Addr kIpA = Ipv4Addr::of(198, 18, 0, 1), kIpB = Ipv4Addr::of(198, 18, 0, 2);

// A TCP header with ports and flags (the rest zero; peek_tcp reads no more).
Frame tcp_hdr(std::uint16_t sport, std::uint16_t dport, std::uint8_t flags) {
    Frame t(20, 0);
    t[0] = static_cast<std::uint8_t>(sport >> 8);
    t[1] = static_cast<std::uint8_t>(sport);
    t[2] = static_cast<std::uint8_t>(dport >> 8);
    t[3] = static_cast<std::uint8_t>(dport);
    t[12] = 5 << 4;
    t[13] = flags;
    return t;
}

wire::VlanStack qinq() {
    wire::VlanStack v;
    v.push_back(wire::VlanTag::make(wire::ethertype::vlan_stag, 100));
    v.push_back(wire::VlanTag::make(wire::ethertype::vlan_ctag, 200));
    return v;
}

}  // namespace

TEST(ProxyDeviceSpec, TapNames) {
    auto s = proxy::parse_device_spec("tap:tap0");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->driver, "tap");
    EXPECT_EQ(s->name, "tap0");
    EXPECT_TRUE(proxy::parse_device_spec("tap:123456789012345"));
    for (const char* bad : {"tap0", "tap:", "tap:1234567890123456", "tap:a/b", "tap:a:b", "tap:.."}) {
        auto r = proxy::parse_device_spec(bad);
        EXPECT_FALSE(r) << bad;
    }
    auto u = proxy::parse_device_spec("dpdk:0000:01:00.0");
    ASSERT_FALSE(u);
    EXPECT_NE(u.error().find("unknown driver 'dpdk'"), std::string::npos) << u.error();
}

TEST(ProxyVlanStack, ListsOfTpidVid) {
    auto t = proxy::parse_vlan_stack("0x88a8:100,0x8100:200");
    ASSERT_TRUE(t);
    ASSERT_EQ(t->size(), 2u);
    EXPECT_EQ((*t)[0], (VlanTagger::Tag{0x88a8, 100}));
    EXPECT_EQ((*t)[1], (VlanTagger::Tag{0x8100, 200}));
    auto d = proxy::parse_vlan_stack("33024:7");  // decimal 0x8100
    ASSERT_TRUE(d);
    EXPECT_EQ((*d)[0], (VlanTagger::Tag{0x8100, 7}));
    auto e = proxy::parse_vlan_stack("");
    ASSERT_TRUE(e);
    EXPECT_TRUE(e->empty());
    for (const char* bad : {"0x8100", "0x8100:", ":5", "0x0800:5", "0x8100:4095", "0x8100:1,", "0x8100:1,,0x8100:2",
                            "0x8100:-1", "0xzz:1", "0x8100:1x"}) {
        EXPECT_FALSE(proxy::parse_vlan_stack(bad)) << bad;
    }
    std::string many;
    for (int i = 0; i < 17; ++i) many += (i ? "," : "") + std::string("0x8100:1");
    EXPECT_FALSE(proxy::parse_vlan_stack(many));
}

TEST(ProxyPeek, TaggedTcpSegment) {
    Frame f = eth(kB, kA, wire::ethertype::ipv4,
                  ipv4(kIpA, kIpB, wire::ip_proto::tcp, tcp_hdr(40000, 80, wire::TcpFlags::syn)), qinq());
    auto p = proxy::peek_tcp({f.data(), f.size()});
    ASSERT_TRUE(p);
    EXPECT_EQ(p->src, (Endpoint{kIpA, Port(40000)}));
    EXPECT_EQ(p->dst, (Endpoint{kIpB, Port(80)}));
    EXPECT_EQ(p->flags, wire::TcpFlags::syn);
    EXPECT_TRUE(p->vlans == qinq());
}

TEST(ProxyPeek, EverythingElseIsNotTcp) {
    const Frame t = tcp_hdr(1, 2, wire::TcpFlags::ack);
    const Frame cases[] = {
        eth(kB, kA, wire::ethertype::arp, test::arp(1, kA, kIpA, MacAddr{}, kIpB)),
        eth(kB, kA, wire::ethertype::ipv4, ipv4(kIpA, kIpB, wire::ip_proto::udp, test::udp(kIpA, kIpB, 1, 2, {1, 2}))),
        eth(kB, kA, wire::ethertype::ipv6, Frame(60, 0)),
        // Multicast destination MAC: TCP is unicast only.
        eth(*MacAddr::parse("01:00:5e:00:00:01"), kA, wire::ethertype::ipv4, ipv4(kIpA, kIpB, wire::ip_proto::tcp, t)),
        // Fragments: a first one (MF) and a later one (offset).
        eth(kB, kA, wire::ethertype::ipv4, ipv4(kIpA, kIpB, wire::ip_proto::tcp, t, 9, 0, true)),
        eth(kB, kA, wire::ethertype::ipv4, ipv4(kIpA, kIpB, wire::ip_proto::tcp, t, 9, 8, false)),
    };
    for (const Frame& f : cases) EXPECT_FALSE(proxy::peek_tcp({f.data(), f.size()}));
}

TEST(ProxyPeek, TruncatedAndHostileFramesNeverReadPastTheEnd) {
    Frame f = eth(kB, kA, wire::ethertype::ipv4, ipv4(kIpA, kIpB, wire::ip_proto::tcp, tcp_hdr(1, 2, 0x12)), qinq());
    // Every prefix: no crash; only those holding the flags byte parse.
    const std::size_t need = 14 + 8 + 20 + 14;
    for (std::size_t n = 0; n <= f.size(); ++n) {
        std::vector<std::uint8_t> cut(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(n));
        EXPECT_EQ(proxy::peek_tcp({cut.data(), cut.size()}).has_value(), n >= need) << n;
    }
    // An IHL pointing past the frame, an IHL below 5, a wrong version.
    const std::size_t ip = 14 + 8;
    for (std::uint8_t b0 : {std::uint8_t{0x4f}, std::uint8_t{0x44}, std::uint8_t{0x65}}) {
        Frame g = f;
        g[ip] = b0;
        EXPECT_FALSE(proxy::peek_tcp({g.data(), g.size()})) << int(b0);
    }
}

TEST(ProxyLog, OneLineWithEverything) {
    proxy::ConnLog l;
    l.id = 7;
    l.client = {kIpA, Port(40000)};
    l.server = {kIpB, Port(80)};
    l.l2 = tcp::ConnL2{kB, kA, qinq()};
    l.end = "clean";
    l.c2s = 10;
    l.s2c = 20;
    l.duration = Duration::millis(1500);
    EXPECT_EQ(proxy::format_log(l),
              "conn id=7 client=198.18.0.1:40000 server=198.18.0.2:80 client_mac=02:00:00:00:00:01 "
              "server_mac=02:00:00:00:00:02 vlans=88a8:100,8100:200 end=clean c2s=10 s2c=20 ms=1500");
}
