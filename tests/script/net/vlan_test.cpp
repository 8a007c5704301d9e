// Scripts: a VLAN-tagged interface (IEEE 802.1Q C-tag, 802.1ad S-tag). The
// interface accepts only frames carrying exactly its tag stack and tags
// everything it sends with it: ARP, echo replies, UDP, announcements.
#include <gtest/gtest.h>

#include "frames.hpp"
#include "script.hpp"

using namespace uinet;
using namespace uinet::test;

namespace {

const Ipv4Addr kUs = Ipv4Addr::of(198, 18, 0, 2);
const Ipv4Addr kPeer = Ipv4Addr::of(198, 18, 0, 1);

wire::VlanStack qinq() {
    wire::VlanStack v;
    v.push_back(wire::VlanTag::make(wire::ethertype::vlan_stag, 100));
    v.push_back(wire::VlanTag::make(wire::ethertype::vlan_ctag, 200, 5));
    return v;
}

wire::VlanStack single(std::uint16_t vid) {
    wire::VlanStack v;
    v.push_back(wire::VlanTag::make(wire::ethertype::vlan_ctag, vid));
    return v;
}

}  // namespace

TEST(ScriptVlan, QinQInterfaceAnswersArpAndPingWithItsTags) {
    Script s({.vlans = qinq(), .learn_peer = false});
    // peer() and us() carry the interface's tags by default.
    s.at(ms(0)).inject(s.peer().arp_request(kUs));
    s.at(ms(0)).expect(s.us().arp_reply().untagged().vlan(100, 0, 0x88a8).vlan(200, 5));  // the same, spelt out
    s.at(ms(5)).inject(s.peer().echo_request(3, 1).payload(pattern(64)));
    s.at(ms(5)).expect(s.us().echo_reply(3, 1).payload(pattern(64)));
    EXPECT_EQ(s.counter("net.rx_vlan_mismatch"), 0u);
}

TEST(ScriptVlan, FramesWithOtherTagStacksAreDropped) {
    Script s({.vlans = qinq()});
    const PacketSpec ping = s.peer().echo_request(3, 1);
    s.at(ms(0)).inject(PacketSpec(ping).untagged());
    s.at(ms(0)).inject(PacketSpec(ping).vlans(single(100)));             // the outer tag only
    s.at(ms(0)).inject(PacketSpec(ping).untagged().vlan(200).vlan(100));  // reversed
    s.at(ms(0)).inject(PacketSpec(ping).untagged().vlan(100, 0, 0x88a8).vlan(201));
    s.at(ms(10)).expect_nothing();
    EXPECT_EQ(s.counter("net.rx_vlan_mismatch"), 4u);
    s.at(ms(20)).inject(ping);
    s.at(ms(20)).expect(s.us().echo_reply(3, 1));
}

TEST(ScriptVlan, UntaggedInterfaceDropsTaggedFrames) {
    Script s;
    s.at(ms(0)).inject(s.peer().echo_request(1, 1).vlans(single(7)));
    s.at(ms(0)).expect_nothing();
    EXPECT_EQ(s.counter("net.rx_vlan_mismatch"), 1u);
}

TEST(ScriptVlan, EverythingSentIsTagged) {
    Script s({.vlans = single(42), .learn_peer = false, .announce = true});
    s.at(ms(0)).expect(s.us().arp_announce().vlans(single(42)));
    SocketId u = *s.stack().udp().open();
    const std::uint8_t data[] = {'t', 'a', 'g'};
    ASSERT_TRUE(s.stack().udp().sendto(s.instant(), u, data, Endpoint{kPeer, Port(9)}));
    s.at(ms(0)).expect(s.us().arp_request(kPeer).vlans(single(42)));
    s.at(ms(1)).inject(s.peer().arp_reply());
    s.at(ms(1)).expect(s.us().udp(any, 9).payload("tag").vlans(single(42)));
}

TEST(ScriptVlan, SixteenTagsAreParsedSeventeenDropped) {
    ScriptOptions o;
    o.promiscuous = true;  // accept any tag stack, to see the parser's limit
    Script s(o);
    PacketSpec ping = s.peer().echo_request(1, 1).untagged();
    for (int i = 0; i < 16; ++i) ping.vlan(static_cast<std::uint16_t>(i + 1));
    s.at(ms(0)).inject(ping);
    EXPECT_EQ(s.counter("net.icmp_echo_rx"), 1u);
    s.at(ms(0)).inject(PacketSpec(ping).vlan(17));
    EXPECT_EQ(s.counter("net.rx_too_many_tags"), 1u);
    s.allow_extra();  // the reply to the first ping goes out untagged (the interface's own stack)
}
