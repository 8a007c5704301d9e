// Scripts: ICMP echo (RFC 792; RFC 1122 3.2.2.6), including a 4000-byte
// ping that arrives in fragments and leaves in fragments (RFC 791 2.3),
// broadcast echo ignored, and hostile echo requests dropped and counted.
#include <gtest/gtest.h>

#include "frames.hpp"
#include "script.hpp"

using namespace uinet;
using namespace uinet::test;

TEST(ScriptIcmp, EchoRequestGetsEchoReplyWithTheSameData) {
    Script s;
    s.at(ms(0)).inject(s.peer().echo_request(0x77, 1).payload(pattern(56)).tos(0x10));
    // The reply mirrors identifier, sequence, data and TOS, with our default TTL.
    s.at(ms(0)).expect(s.us().echo_reply(0x77, 1).payload(pattern(56)).ttl(64).tos(0x10).df(0).mf(0));
    s.at(ms(250)).inject(s.peer().echo_request(0x77, 2).payload("abc"));
    s.at(ms(250)).expect(s.us().echo_reply(0x77, 2).payload("abc"));
    EXPECT_EQ(s.counter("net.icmp_echo_replies_sent"), 2u);
}

TEST(ScriptIcmp, FragmentedPingIsReassembledAndTheReplyFragmented) {
    Script s;
    // 4000 bytes of data + 8 of ICMP header = 4008 bytes: 1480 + 1480 + 1048.
    PacketSpec ping = s.peer().echo_request(9, 1).payload(pattern(4000)).ip_id(4242);
    std::vector<PacketSpec> frags = ping.fragments(1480);
    ASSERT_EQ(frags.size(), 3u);
    s.at(ms(0)).inject(frags[2]);
    s.at(ms(1)).inject(frags[0]);
    s.at(ms(1)).expect_nothing();  // still a hole
    s.at(ms(2)).inject(frags[1]);
    // Three fragments out, in order, one identifier; the harness checks the
    // ICMP checksum over the reassembled reply.
    s.at(ms(2)).expect(s.us().echo_reply(9, 1).ip_id(capture("id")).frag_off(0).mf().ip_len(1500).payload_len(1472));
    s.at(ms(2)).expect(s.us().ipv4(wire::ip_proto::icmp).ip_id(var("id")).frag_off(1480).mf().ip_len(1500));
    s.at(ms(2)).expect(s.us().ipv4(wire::ip_proto::icmp).ip_id(var("id")).frag_off(2960).mf(0).ip_len(20 + 1048));
    EXPECT_EQ(s.counter("net.ip_reassembled"), 1u);
    EXPECT_EQ(s.counter("net.ip_tx_fragments"), 3u);
    // The data came back intact: the three fragments' payloads are the reply.
    std::vector<std::uint8_t> data;
    for (std::size_t i = 0; i < 3; ++i) {
        Bytes b = s.sent()[i].ip_bytes().subspan(20);
        data.insert(data.end(), b.begin(), b.end());
    }
    ASSERT_EQ(data.size(), 4008u);
    EXPECT_EQ(data[0], wire::icmpv4_type::echo_reply);
    EXPECT_TRUE(std::equal(data.begin() + 8, data.end(), pattern(4000).begin()));
}

TEST(ScriptIcmp, BroadcastEchoIsIgnoredByDefault) {
    Script s;
    s.at(ms(0)).inject(s.peer().to(Ipv4Addr::of(198, 18, 0, 255)).echo_request(1, 1).eth_dst(MacAddr::broadcast()));
    s.at(ms(0)).inject(s.peer().to(Ipv4Addr::broadcast()).echo_request(1, 2).eth_dst(MacAddr::broadcast()));
    s.at(ms(10)).expect_nothing();
    EXPECT_EQ(s.counter("net.icmp_bcast_echo_ignored"), 2u);
}

TEST(ScriptIcmp, HostileEchoRequestsAreDroppedAndCounted) {
    Script s;
    const PacketSpec ping = s.peer().echo_request(1, 1).payload(pattern(32));
    s.at(ms(0)).inject(PacketSpec(ping).bad_checksum());
    EXPECT_EQ(s.counter("net.icmp_bad"), 1u);
    s.at(ms(0)).inject(PacketSpec(ping).bad_ip_checksum());
    EXPECT_EQ(s.counter("net.ip_bad_checksum"), 1u);
    s.at(ms(0)).inject(PacketSpec(ping).ip_len(200));  // longer than the frame
    s.at(ms(0)).inject(PacketSpec(ping).ip_hl(16));     // IHL 4
    EXPECT_EQ(s.counter("net.ip_bad_length") + s.counter("net.ip_bad_header"), 2u);
    s.at(ms(0)).inject(PacketSpec(ping).ip_src(Ipv4Addr::broadcast()));
    EXPECT_EQ(s.counter("net.ip_martian_src"), 1u);
    s.at(ms(0)).inject(PacketSpec(ping).ip_dst(Ipv4Addr::of(198, 18, 0, 99)));
    EXPECT_EQ(s.counter("net.ip_not_for_us"), 1u);
    // Every truncation of a valid frame, as raw bytes.
    std::vector<std::uint8_t> whole = s.render(ping);
    for (std::size_t n = 0; n < whole.size(); ++n)
        s.at(ms(1)).inject(raw(std::vector<std::uint8_t>(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(n))));
    s.at(ms(10)).expect_nothing();
    EXPECT_EQ(s.counter("pool.in_use"), 0u);
    // And the stack still answers.
    s.at(ms(20)).inject(ping);
    s.at(ms(20)).expect(s.us().echo_reply(1, 1).payload(pattern(32)));
}

TEST(ScriptIcmp, EthernetPaddingIsIgnored) {
    Script s;
    s.at(ms(0)).inject(s.peer().echo_request(5, 5).payload("tiny").pad_to(60));
    s.at(ms(0)).expect(s.us().echo_reply(5, 5).payload("tiny").ip_len(20 + 8 + 4));
}

TEST(ScriptIcmp, UnknownProtocolGetsProtocolUnreachableUnlessBlackholed) {
    Script open({.blackhole = false});
    const PacketSpec odd = open.peer().ipv4(200).payload(pattern(16));
    open.at(ms(0)).inject(odd);
    open.at(ms(0)).expect(open.us().icmp(wire::icmpv4_type::dest_unreachable, wire::icmpv4_code::proto_unreachable).quotes(odd));

    Script hole;  // the default
    hole.at(ms(0)).inject(hole.peer().ipv4(200).payload(pattern(16)));
    hole.at(ms(0)).expect_nothing();
    EXPECT_EQ(hole.counter("net.icmp_errors_suppressed"), 1u);
}
