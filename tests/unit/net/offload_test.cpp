// Offloads in the network layer and at TCP's edges: checksums skipped only
// for frames the device verified, partial checksums finished in software
// where the interface cannot, TSO super-segments never fragmented.
#include <gtest/gtest.h>

#include <memory>

#include "frames.hpp"
#include "host/virtual.hpp"
#include "net/net.hpp"
#include "script_device.hpp"
#include "tcp/tcp_layer.hpp"
#include "wire/checksum.hpp"
#include "wire/tcp.hpp"

using namespace uinet;
using namespace uinet::net;
using namespace uinet::test;

namespace {

const MacAddr kUs = *MacAddr::parse("02:00:00:00:00:02");
const MacAddr kPeer = *MacAddr::parse("02:00:00:00:00:01");
const Ipv4Addr kIpUs = Ipv4Addr::of(198, 18, 0, 2);
const Ipv4Addr kIpPeer = Ipv4Addr::of(198, 18, 0, 1);
constexpr std::uint8_t kProto = 253;  // RFC 3692 experimentation

struct Recorder : Ipv4Handler {
    std::vector<std::size_t> sizes;
    Delivery on_ipv4(Instant, const Ipv4Rx&, Packet payload) override {
        sizes.push_back(payload.size());
        return Delivery::delivered;
    }
    void on_icmp_error(Instant, const IcmpErrorRx&) override {}
};

class OffloadTest : public ::testing::Test {
protected:
    Pool pool{{.count = 1024, .buf_size = 2048, .headroom = 192}};
    std::unique_ptr<NetLayer> net;
    Interface* ifc = nullptr;
    Recorder rec;
    Instant now = Instant::from_ns(1'000'000'000);

    void make(DeviceCaps caps) {
        net = std::make_unique<NetLayer>(pool, NetConfig{});
        auto dev = std::make_unique<ScriptDevice>(pool);
        dev->set_caps(caps);
        InterfaceConfig ic;
        ic.name = "t0";
        ic.mac = kUs;
        ic.ipv4 = {Ipv4Cidr{kIpUs, 24}};
        ic.announce = false;
        ifc = net->interface(net->add_interface(now, std::move(dev), ic));
        net->set_handler(kProto, &rec);
        // Learn the peer's MAC so that output goes straight to the queue.
        rx(eth(MacAddr::broadcast(), kPeer, wire::ethertype::arp,
               arp(wire::arp_op::request, kPeer, kIpPeer, MacAddr(), kIpUs)),
           false);
        ifc->txq.clear();
    }
    void rx(const Frame& f, bool verified) {
        Packet p = pool.copy_of(f, 64);
        p.meta().rx_csum_verified = verified;
        net->input(now, *ifc, std::move(p));
    }
    // An L4 payload of `n` bytes whose checksum (at offset 16, as TCP's) is
    // left partial: the field holds the pseudo-header sum.
    Packet partial_l4(std::size_t n, std::uint16_t tso_mss = 0) {
        Frame body = pattern(n, 5);
        body[16] = body[17] = 0;
        Packet p = pool.alloc(192);
        EXPECT_TRUE(p.append(body));
        store_be16(p.front().data() + 16,
                   wire::pseudo_partial_v4(kIpUs, kIpPeer, kProto, static_cast<std::uint16_t>(n)));
        p.meta().tx_csum_partial = true;
        p.meta().csum_start = 0;
        p.meta().csum_offset = 16;
        p.meta().tso_mss = tso_mss;
        return p;
    }
    Result<void, SendError> send(Packet l4) {
        SendOptions o;
        o.dst = kIpPeer;
        o.protocol = kProto;
        o.dont_frag = true;
        return net->send(now, o, std::move(l4));
    }
    static Frame bytes(const Packet& p) {
        Frame f(p.size());
        p.copy_out(0, f);
        return f;
    }
};

}  // namespace

TEST_F(OffloadTest, IpHeaderChecksumSkippedOnlyWhenTheDeviceVerified) {
    make({});
    Frame f = eth(kUs, kPeer, wire::ethertype::ipv4, ipv4(kIpPeer, kIpUs, kProto, pattern(100)));
    f[14 + 10] ^= 0x40;  // header checksum corrupted
    rx(f, false);
    EXPECT_EQ(net->counters().ip_bad_checksum, 1u);
    EXPECT_TRUE(rec.sizes.empty());
    rx(f, true);  // the device vouches for it: not checked again
    EXPECT_EQ(net->counters().ip_bad_checksum, 1u);
    ASSERT_EQ(rec.sizes.size(), 1u);
    EXPECT_EQ(rec.sizes[0], 100u);
}

TEST_F(OffloadTest, ChainedLargeDatagramIsAccepted) {
    make({});
    // 6000 bytes arrive in a chain of 2 KiB buffers (a super-frame or a
    // jumbo frame): the length is checked against the whole chain.
    rx(eth(kUs, kPeer, wire::ethertype::ipv4, ipv4(kIpPeer, kIpUs, kProto, pattern(6000))), true);
    ASSERT_EQ(rec.sizes.size(), 1u);
    EXPECT_EQ(rec.sizes[0], 6000u);
    // ... and a length field beyond the chain is still refused.
    Frame f = eth(kUs, kPeer, wire::ethertype::ipv4, ipv4(kIpPeer, kIpUs, kProto, pattern(6000)));
    f.resize(f.size() - 1);
    rx(f, true);
    EXPECT_EQ(net->counters().ip_bad_length, 1u);
    EXPECT_EQ(rec.sizes.size(), 1u);
}

TEST_F(OffloadTest, PartialChecksumLeftToAnOffloadingDevice) {
    make({.mtu = 1500, .rx_csum_verified = true, .tx_csum_offload = true});
    ASSERT_TRUE(send(partial_l4(300)));
    ASSERT_EQ(ifc->txq.size(), 1u);
    const OffloadMeta& m = ifc->txq[0].meta();
    EXPECT_TRUE(m.tx_csum_partial);
    EXPECT_EQ(m.csum_start, 14 + 20);  // moved past the Ethernet and IP headers
    EXPECT_EQ(m.csum_offset, 16);
}

TEST_F(OffloadTest, PartialChecksumFinishedInSoftwareWithoutOffload) {
    make({});
    ASSERT_TRUE(send(partial_l4(300)));
    ASSERT_EQ(ifc->txq.size(), 1u);
    EXPECT_FALSE(ifc->txq[0].meta().tx_csum_partial);
    const Frame f = bytes(ifc->txq[0]);
    ASSERT_EQ(f.size(), 14u + 20 + 300);
    wire::Checksum c;
    wire::add_pseudo_v4(c, kIpUs, kIpPeer, kProto, 300);
    c.add(Bytes(f).subspan(34));
    EXPECT_EQ(c.finish(), 0);  // verifies as a whole
}

TEST_F(OffloadTest, SuperSegmentGoesWholeOnlyOnATsoInterface) {
    make({.mtu = 1500, .rx_csum_verified = true, .tx_csum_offload = true, .tso_max = 65535});
    ASSERT_TRUE(send(partial_l4(20000, 1448)));
    ASSERT_EQ(ifc->txq.size(), 1u);  // one frame, not fragments
    EXPECT_EQ(ifc->txq[0].size(), 14u + 20 + 20000);
    EXPECT_EQ(ifc->txq[0].meta().tso_mss, 1448u);
    EXPECT_TRUE(ifc->txq[0].meta().tx_csum_partial);
    ifc->txq.clear();
    // Beyond tso_max, or without tso_mss, it is an ordinary DF datagram: too big.
    EXPECT_FALSE(send(partial_l4(65535 - 19, 1448)));
    EXPECT_FALSE(send(partial_l4(20000, 0)));
    EXPECT_EQ(net->counters().ip_tx_too_big, 2u);
    EXPECT_TRUE(ifc->txq.empty());
}

TEST_F(OffloadTest, SuperSegmentRefusedWithoutTso) {
    make({.mtu = 1500, .rx_csum_verified = true, .tx_csum_offload = true});
    auto r = send(partial_l4(20000, 1448));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), SendError::too_big);
    EXPECT_TRUE(ifc->txq.empty());
}

// TCP: the checksum is trusted only when the device verified the frame.
TEST_F(OffloadTest, TcpDropsBadChecksumUnlessVerified) {
    make({.mtu = 1500, .rx_csum_verified = true, .tx_csum_offload = true, .tso_max = 65535});
    SeededRandom rnd(1);
    tcp::TcpLayer tcp(*net, rnd);
    auto id = tcp.open(1);
    ASSERT_TRUE(id);
    ASSERT_TRUE(tcp.bind(*id, {Ipv4Addr::any(), Port(80)}, false));
    ASSERT_TRUE(tcp.listen(*id, 8));
    auto syn = [&](std::uint16_t sport) {
        wire::TcpRepr s;
        s.src_port = Port(sport);
        s.dst_port = Port(80);
        s.seq = SeqNum(1000);
        s.flags = wire::TcpFlags::syn;
        s.window = 65535;
        s.options.mss = 1460;
        Frame t(s.size());
        s.emit(t, {}, kIpPeer, kIpUs);
        t[16] ^= 0x01;  // TCP checksum corrupted
        return eth(kUs, kPeer, wire::ethertype::ipv4, ipv4(kIpPeer, kIpUs, wire::ip_proto::tcp, t));
    };
    rx(syn(4000), false);
    EXPECT_EQ(tcp.counters().bad_checksum, 1u);
    EXPECT_EQ(tcp.counters().passive_opens, 0u);
    EXPECT_TRUE(ifc->txq.empty());
    rx(syn(4001), true);  // verified by the device: accepted as it is
    EXPECT_EQ(tcp.counters().bad_checksum, 1u);
    ASSERT_EQ(ifc->txq.size(), 1u);  // the SYN-ACK, its checksum left to the device
    EXPECT_TRUE(ifc->txq[0].meta().tx_csum_partial);
    EXPECT_EQ(ifc->txq[0].meta().csum_start, 14 + 20);
    ifc->txq.clear();
}
