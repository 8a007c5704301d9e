// The per-interface first-look hook: take, drop and bridge verdicts, and
// the bridge's error cases (net/first_look.hpp).
#include <gtest/gtest.h>

#include <memory>

#include "frames.hpp"
#include "net/net.hpp"
#include "script_device.hpp"

using namespace uinet;
using namespace uinet::net;
using namespace uinet::test;

namespace {

const MacAddr kA = *MacAddr::parse("02:00:00:00:00:0a");
const MacAddr kB = *MacAddr::parse("02:00:00:00:00:0b");
const MacAddr kPeer = *MacAddr::parse("02:00:00:00:00:01");
const MacAddr kOther = *MacAddr::parse("02:00:00:00:00:99");
const Ipv4Addr kIpA = Ipv4Addr::of(198, 18, 0, 2);
const Ipv4Addr kIpPeer = Ipv4Addr::of(198, 18, 0, 1);

class FirstLookTest : public ::testing::Test {
protected:
    Pool pool{{.count = 256, .buf_size = 2048, .headroom = 192}};
    NetLayer net{pool, NetConfig{}};
    Interface* a = nullptr;
    Interface* b = nullptr;
    Instant now = Instant::from_ns(1'000'000'000);
    int calls = 0;

    void SetUp() override {
        a = add("a0", kA, {Ipv4Cidr{kIpA, 24}}, 1500);
        b = add("b0", kB, {}, 1000);
    }
    Interface* add(const char* name, MacAddr mac, std::vector<Ipv4Cidr> addrs, std::uint32_t mtu) {
        InterfaceConfig ic;
        ic.name = name;
        ic.mac = mac;
        ic.ipv4 = std::move(addrs);
        ic.announce = false;
        ic.mtu = mtu;
        return net.interface(net.add_interface(now, std::make_unique<ScriptDevice>(pool), ic));
    }
    void rx(Interface& ifc, const Frame& f) { net.input(now, ifc, pool.copy_of(f, 64)); }
    Frame ping_to(MacAddr dst_mac, std::size_t n = 32) {
        return eth(dst_mac, kPeer, wire::ethertype::ipv4,
                   ipv4(kIpPeer, kIpA, 1, icmp(8, 0, (0x77u << 16) | 1, pattern(n))), {});
    }
    static Frame contents(Packet& p) {
        Frame f(p.size());
        p.copy_out(0, f);
        return f;
    }
};

}  // namespace

TEST_F(FirstLookTest, TakeLetsTheStackAnswer) {
    Frame seen;
    a->first_look = [&](Instant, IfIndex in, Bytes frame) {
        ++calls;
        EXPECT_EQ(in, a->index());
        seen.assign(frame.begin(), frame.end());
        return FirstLookVerdict::take();
    };
    Frame f = ping_to(kA);
    rx(*a, f);
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(seen, f);  // the whole frame, Ethernet header included
    EXPECT_EQ(a->txq.size(), 1u);  // the echo reply
    EXPECT_EQ(net.counters().icmp_echo_replies_sent, 1u);
}

TEST_F(FirstLookTest, DropIsCountedAndNothingIsProcessed) {
    a->first_look = [&](Instant, IfIndex, Bytes) { return FirstLookVerdict::drop(); };
    rx(*a, ping_to(kA));
    EXPECT_TRUE(a->txq.empty());
    EXPECT_EQ(net.counters().rx_first_look_dropped, 1u);
    EXPECT_EQ(net.counters().icmp_echo_rx, 0u);
}

TEST_F(FirstLookTest, BridgeSendsTheFrameUnchangedEvenIfNotForUs) {
    a->first_look = [&](Instant, IfIndex, Bytes) { return FirstLookVerdict::bridge(b->index()); };
    Frame f = ping_to(kOther);  // another host's MAC: the stack would drop it
    rx(*a, f);
    ASSERT_EQ(b->txq.size(), 1u);
    EXPECT_EQ(contents(b->txq[0]), f);
    EXPECT_TRUE(a->txq.empty());
    EXPECT_EQ(net.counters().bridged_frames, 1u);
    EXPECT_EQ(net.counters().rx_not_for_us_mac, 0u);
}

TEST_F(FirstLookTest, BridgeErrorsAreCounted) {
    IfIndex target = 0;
    a->first_look = [&](Instant, IfIndex, Bytes) { return FirstLookVerdict::bridge(target); };
    target = 0;  // no such interface
    rx(*a, ping_to(kA));
    target = 42;  // no such interface either
    rx(*a, ping_to(kA));
    target = a->index();  // back where it came from
    rx(*a, ping_to(kA));
    target = b->index();  // b's MTU is 1000: a 1200-byte ping does not fit
    rx(*a, ping_to(kA, 1200));
    EXPECT_EQ(net.counters().bridge_errors, 4u);
    EXPECT_EQ(net.counters().bridged_frames, 0u);
    EXPECT_TRUE(a->txq.empty());
    EXPECT_TRUE(b->txq.empty());
    target = b->index();
    rx(*a, ping_to(kA, 900));
    EXPECT_EQ(b->txq.size(), 1u);
}

TEST_F(FirstLookTest, RemovingTheHookRestoresNormalInput) {
    a->first_look = [&](Instant, IfIndex, Bytes) { return FirstLookVerdict::drop(); };
    a->first_look = nullptr;
    rx(*a, ping_to(kA));
    EXPECT_EQ(a->txq.size(), 1u);
    EXPECT_EQ(net.counters().rx_first_look_dropped, 0u);
}
