// Network layer tests with hand-made frames: ARP, ICMP echo, IPv4 checks,
// VLAN handling, fragments and every drop counter.
#include <gtest/gtest.h>

#include <memory>

#include "frames.hpp"
#include "net/net.hpp"
#include "script_device.hpp"
#include "wire/checksum.hpp"

using namespace uinet;
using namespace uinet::net;
using namespace uinet::test;

namespace {

const MacAddr kUs = *MacAddr::parse("02:00:00:00:00:02");
const MacAddr kPeer = *MacAddr::parse("02:00:00:00:00:01");
const Ipv4Addr kIpUs = Ipv4Addr::of(198, 18, 0, 2);
const Ipv4Addr kIpPeer = Ipv4Addr::of(198, 18, 0, 1);

class NetTest : public ::testing::Test {
protected:
    Pool pool{{.count = 1024, .buf_size = 2048, .headroom = 192}};
    std::unique_ptr<NetLayer> net;
    Interface* ifc = nullptr;
    Instant now = Instant::from_ns(1'000'000'000);

    void make(NetConfig cfg = {}, wire::VlanStack vlans = {}, bool promisc = false) {
        net = std::make_unique<NetLayer>(pool, cfg);
        InterfaceConfig ic;
        ic.name = "t0";
        ic.mac = kUs;
        ic.ipv4 = {Ipv4Cidr{kIpUs, 24}};
        ic.vlans = vlans;
        ic.promiscuous = promisc;
        ic.announce = false;
        ifc = net->interface(net->add_interface(now, std::make_unique<ScriptDevice>(pool), ic));
    }
    void rx(const Frame& f) { net->input(now, *ifc, pool.copy_of(f, 64)); }
    std::vector<Frame> tx() {
        std::vector<Frame> out;
        for (Packet& p : ifc->txq) {
            Frame f(p.size());
            p.copy_out(0, f);
            out.push_back(std::move(f));
        }
        ifc->txq.clear();
        return out;
    }
    // Teaches the layer the peer's MAC with an ARP request for us.
    void learn_peer() {
        rx(eth(MacAddr::broadcast(), kPeer, wire::ethertype::arp,
               arp(wire::arp_op::request, kPeer, kIpPeer, MacAddr(), kIpUs)));
        tx();
    }
    Frame ping(std::size_t n, std::uint16_t seq = 1, Ipv4Addr dst = kIpUs) {
        return ipv4(kIpPeer, dst, 1, icmp(8, 0, (0x77u << 16) | seq, pattern(n)));
    }
};

}  // namespace

TEST_F(NetTest, AnswersArpRequestForOurAddress) {
    make();
    rx(eth(MacAddr::broadcast(), kPeer, wire::ethertype::arp,
           arp(wire::arp_op::request, kPeer, kIpPeer, MacAddr(), kIpUs)));
    auto out = tx();
    ASSERT_EQ(out.size(), 1u);
    auto l2 = wire::parse_l2(out[0]);
    ASSERT_TRUE(l2);
    EXPECT_EQ(l2->dst, kPeer);
    EXPECT_EQ(l2->src, kUs);
    auto a = wire::ArpRepr::parse(Bytes(out[0]).subspan(14));
    ASSERT_TRUE(a);
    EXPECT_EQ(a->op, wire::arp_op::reply);
    EXPECT_EQ(a->sender_mac, kUs);
    EXPECT_EQ(a->sender_ip, kIpUs);
    EXPECT_EQ(a->target_mac, kPeer);
    EXPECT_EQ(a->target_ip, kIpPeer);
    EXPECT_EQ(ifc->arp().lookup(now, kIpPeer), kPeer);
    EXPECT_EQ(net->counters().arp_replies_sent, 1u);
}

TEST_F(NetTest, IgnoresArpForOthersAndDoesNotLearnFromIt) {
    make();
    rx(eth(MacAddr::broadcast(), kPeer, wire::ethertype::arp,
           arp(wire::arp_op::request, kPeer, kIpPeer, MacAddr(), Ipv4Addr::of(198, 18, 0, 77))));
    EXPECT_TRUE(tx().empty());
    EXPECT_EQ(net->counters().arp_not_for_us, 1u);
    EXPECT_FALSE(ifc->arp().lookup(now, kIpPeer));
}

TEST_F(NetTest, CountsArpConflict) {
    make();
    rx(eth(MacAddr::broadcast(), kPeer, wire::ethertype::arp,
           arp(wire::arp_op::request, kPeer, kIpUs, MacAddr(), kIpUs)));
    EXPECT_EQ(net->counters().arp_conflicts, 1u);
}

TEST_F(NetTest, EchoReplyMirrorsRequest) {
    make();
    learn_peer();
    rx(eth(kUs, kPeer, wire::ethertype::ipv4, ping(100, 9)));
    auto out = tx();
    ASSERT_EQ(out.size(), 1u);
    Bytes ipb = Bytes(out[0]).subspan(14);
    auto ip = wire::Ipv4Repr::parse(ipb);
    ASSERT_TRUE(ip);
    EXPECT_EQ(ip->src, kIpUs);
    EXPECT_EQ(ip->dst, kIpPeer);
    Bytes msg = ipb.subspan(20);
    auto m = wire::Icmpv4Repr::parse(msg);  // verifies the checksum
    ASSERT_TRUE(m);
    EXPECT_EQ(m->type, 0);
    EXPECT_EQ(m->rest, (0x77u << 16) | 9);
    Frame want = pattern(100);
    EXPECT_TRUE(std::equal(want.begin(), want.end(), msg.begin() + 8));
    EXPECT_EQ(net->counters().icmp_echo_replies_sent, 1u);
}

TEST_F(NetTest, PingBeforeArpQueuesReplyAndResolves) {
    make();
    rx(eth(kUs, kPeer, wire::ethertype::ipv4, ping(10)));
    auto out = tx();
    ASSERT_EQ(out.size(), 1u);  // an ARP request; the reply waits
    EXPECT_EQ(wire::parse_l2(out[0])->ethertype, wire::ethertype::arp);
    rx(eth(kUs, kPeer, wire::ethertype::arp, arp(wire::arp_op::reply, kPeer, kIpPeer, kUs, kIpUs)));
    out = tx();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(wire::parse_l2(out[0])->ethertype, wire::ethertype::ipv4);
    EXPECT_EQ(wire::parse_l2(out[0])->dst, kPeer);
}

TEST_F(NetTest, DropsBadChecksumAndCountsIt) {
    make();
    learn_peer();
    Frame f = eth(kUs, kPeer, wire::ethertype::ipv4, ping(20));
    f[14 + 10] ^= 0x01;  // IP header checksum
    rx(f);
    EXPECT_TRUE(tx().empty());
    EXPECT_EQ(net->counters().ip_bad_checksum, 1u);
    Frame g = eth(kUs, kPeer, wire::ethertype::ipv4, ping(20));
    g[14 + 20 + 8] ^= 0x40;  // ICMP payload
    rx(g);
    EXPECT_TRUE(tx().empty());
    EXPECT_EQ(net->counters().icmp_bad, 1u);
}

TEST_F(NetTest, EveryTruncationIsDroppedAndCounted) {
    make();
    learn_peer();
    Frame f = eth(kUs, kPeer, wire::ethertype::ipv4, ping(40));
    for (std::size_t n = 0; n < f.size(); ++n) rx(Frame(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(n)));
    EXPECT_TRUE(tx().empty());
    const NetCounters& c = net->counters();
    EXPECT_EQ(c.rx_frames, 1u + f.size());
    EXPECT_EQ(c.rx_bad_l2 + c.ip_bad_length + c.ip_bad_header + c.icmp_bad, f.size());
    EXPECT_EQ(pool.stats().in_use, 0u);
}

TEST_F(NetTest, LengthFieldLiesAreDropped) {
    make();
    learn_peer();
    Frame f = eth(kUs, kPeer, wire::ethertype::ipv4, ping(40));
    Frame longer = f;
    longer[14 + 3] = static_cast<std::uint8_t>(longer[14 + 3] + 8);  // total length beyond the frame
    rx(longer);
    Frame ihl = f;
    ihl[14] = 0x44;  // IHL 4 < 5
    rx(ihl);
    EXPECT_TRUE(tx().empty());
    EXPECT_EQ(net->counters().ip_bad_length + net->counters().ip_bad_header, 2u);
    // Ethernet padding beyond the IP total length is accepted and ignored.
    Frame padded = f;
    padded.resize(padded.size() + 30, 0xee);
    rx(padded);
    EXPECT_EQ(tx().size(), 1u);
}

TEST_F(NetTest, FiltersOtherMacsAndAddresses) {
    make();
    learn_peer();
    rx(eth(*MacAddr::parse("02:00:00:00:00:99"), kPeer, wire::ethertype::ipv4, ping(8)));
    EXPECT_EQ(net->counters().rx_not_for_us_mac, 1u);
    rx(eth(kUs, kPeer, wire::ethertype::ipv4, ping(8, 1, Ipv4Addr::of(198, 18, 0, 50))));
    EXPECT_EQ(net->counters().ip_not_for_us, 1u);
    rx(eth(kUs, kPeer, 0x88b5, ping(8)));
    EXPECT_EQ(net->counters().rx_unknown_ethertype, 1u);
    EXPECT_TRUE(tx().empty());
}

TEST_F(NetTest, PromiscuousInterfaceAcceptsAnyMacAndAddress) {
    make({}, {}, true);
    learn_peer();
    rx(eth(*MacAddr::parse("02:00:00:00:00:99"), kPeer, wire::ethertype::ipv4,
           ping(8, 1, Ipv4Addr::of(203, 0, 113, 9))));
    EXPECT_EQ(net->counters().icmp_echo_rx, 1u);
}

TEST_F(NetTest, MartianSourceDropped) {
    make();
    rx(eth(kUs, kPeer, wire::ethertype::ipv4, ipv4(Ipv4Addr::broadcast(), kIpUs, 1, icmp(8, 0, 1, pattern(8)))));
    EXPECT_EQ(net->counters().ip_martian_src, 1u);
}

TEST_F(NetTest, VlanInterfaceAnswersWithItsTagsAndRejectsOthers) {
    wire::VlanStack qinq;
    qinq.push_back(wire::VlanTag::make(0x88a8, 100));
    qinq.push_back(wire::VlanTag::make(0x8100, 200));
    make({}, qinq);
    rx(eth(MacAddr::broadcast(), kPeer, wire::ethertype::arp,
           arp(wire::arp_op::request, kPeer, kIpPeer, MacAddr(), kIpUs), qinq));
    auto out = tx();
    ASSERT_EQ(out.size(), 1u);
    auto l2 = wire::parse_l2(out[0]);
    ASSERT_TRUE(l2);
    EXPECT_EQ(l2->vlans, qinq);
    // Untagged, or with a different stack: dropped.
    rx(eth(kUs, kPeer, wire::ethertype::ipv4, ping(8)));
    wire::VlanStack other;
    other.push_back(wire::VlanTag::make(0x8100, 7));
    rx(eth(kUs, kPeer, wire::ethertype::ipv4, ping(8), other));
    EXPECT_EQ(net->counters().rx_vlan_mismatch, 2u);
    EXPECT_TRUE(tx().empty());
}

TEST_F(NetTest, SeventeenVlanTagsAreDroppedSixteenAreParsed) {
    make({}, {}, true);
    Frame f = eth(kUs, kPeer, wire::ethertype::ipv4, ping(8));
    Frame tags;
    for (int i = 0; i < 17; ++i) {
        tags.push_back(0x81);
        tags.push_back(0x00);
        tags.push_back(0x00);
        tags.push_back(static_cast<std::uint8_t>(i + 1));
    }
    Frame g(f.begin(), f.begin() + 12);
    g.insert(g.end(), tags.begin(), tags.end());
    g.insert(g.end(), f.begin() + 12, f.end());
    rx(g);
    EXPECT_EQ(net->counters().rx_too_many_tags, 1u);
    Frame h(f.begin(), f.begin() + 12);
    h.insert(h.end(), tags.begin(), tags.end() - 4);
    h.insert(h.end(), f.begin() + 12, f.end());
    rx(h);
    EXPECT_EQ(net->counters().icmp_echo_rx, 1u);
}

TEST_F(NetTest, FragmentedPingIsReassembledAndReplyFragmented) {
    make();
    learn_peer();
    Frame msg = icmp(8, 0, (1u << 16) | 1, pattern(3000));
    // Three fragments of 1480, 1480 and the rest, delivered out of order.
    std::vector<Frame> frags;
    for (std::size_t off = 0; off < msg.size(); off += 1480) {
        std::size_t n = std::min<std::size_t>(1480, msg.size() - off);
        Frame piece(msg.begin() + static_cast<std::ptrdiff_t>(off), msg.begin() + static_cast<std::ptrdiff_t>(off + n));
        frags.push_back(eth(kUs, kPeer, wire::ethertype::ipv4,
                            ipv4(kIpPeer, kIpUs, 1, piece, 42, static_cast<std::uint16_t>(off), off + n < msg.size())));
    }
    rx(frags[2]);
    rx(frags[0]);
    EXPECT_TRUE(tx().empty());
    rx(frags[1]);
    auto out = tx();
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(net->counters().ip_reassembled, 1u);
    EXPECT_EQ(net->counters().ip_tx_fragments, 3u);
    std::size_t total = 0;
    for (auto& f : out) {
        auto ip = wire::Ipv4Repr::parse(Bytes(f).subspan(14));
        ASSERT_TRUE(ip);
        EXPECT_EQ(ip->frag_offset % 8, 0);
        total += ip->payload_len;
    }
    EXPECT_EQ(total, msg.size());
}

TEST_F(NetTest, OverlappingFragmentsAreDropped) {
    make();
    learn_peer();
    Frame msg = icmp(8, 0, 1, pattern(2000));
    Frame a(msg.begin(), msg.begin() + 1000), b(msg.begin() + 992, msg.end());
    rx(eth(kUs, kPeer, wire::ethertype::ipv4, ipv4(kIpPeer, kIpUs, 1, a, 7, 0, true)));
    rx(eth(kUs, kPeer, wire::ethertype::ipv4, ipv4(kIpPeer, kIpUs, 1, b, 7, 992, false)));
    EXPECT_TRUE(tx().empty());
    EXPECT_EQ(net->counters().ip_reassembled, 0u);
    EXPECT_GE(net->reassembly_stats().dropped_overlap, 1u);
}

TEST_F(NetTest, UnknownProtocolGetsUnreachableUnlessBlackholed) {
    NetConfig cfg;
    cfg.blackhole = false;
    make(cfg);
    learn_peer();
    rx(eth(kUs, kPeer, wire::ethertype::ipv4, ipv4(kIpPeer, kIpUs, 200, pattern(16))));
    auto out = tx();
    ASSERT_EQ(out.size(), 1u);
    Bytes msg = Bytes(out[0]).subspan(14 + 20);
    auto m = wire::Icmpv4Repr::parse(msg);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->type, 3);
    EXPECT_EQ(m->code, 2);
    EXPECT_EQ(net->counters().icmp_unreach_sent, 1u);

    make();  // the default: a black hole
    learn_peer();
    rx(eth(kUs, kPeer, wire::ethertype::ipv4, ipv4(kIpPeer, kIpUs, 200, pattern(16))));
    EXPECT_TRUE(tx().empty());
    EXPECT_EQ(net->counters().icmp_errors_suppressed, 1u);
}

TEST_F(NetTest, ArpRetriesThenFailsAndCounts) {
    make();
    Packet p = pool.alloc(192);
    p.append(pattern(8));
    SendOptions o;
    o.dst = Ipv4Addr::of(198, 18, 0, 77);
    o.protocol = 200;
    ASSERT_TRUE(net->send(now, o, std::move(p)));
    EXPECT_EQ(tx().size(), 1u);  // first request
    for (int i = 1; i <= 5; ++i) {
        net->poll(now + Duration::seconds(i));
        tx();
    }
    EXPECT_EQ(net->counters().arp_requests_sent, 3u);
    EXPECT_EQ(net->counters().arp_resolve_failed, 1u);
    EXPECT_EQ(ifc->arp().stats().pending_dropped, 1u);
    EXPECT_EQ(pool.stats().in_use, 0u);
}

TEST_F(NetTest, DontFragmentTooBigIsRefused) {
    make();
    learn_peer();
    Packet p = pool.alloc(192);
    p.append(pattern(1600));
    SendOptions o;
    o.dst = kIpPeer;
    o.protocol = 200;
    o.dont_frag = true;
    auto r = net->send(now, o, std::move(p));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), SendError::too_big);
}
