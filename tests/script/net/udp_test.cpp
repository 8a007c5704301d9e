// Scripts: UDP (RFC 768, RFC 1122 4.1). An echo service on a socket opened
// by the script, datagrams sent through the API at scripted times, a
// closed port with and without black-holing (RFC 1122 4.1.3.1 port
// unreachable), checksums, and ICMP errors reaching a connected socket.
#include <gtest/gtest.h>

#include <string>

#include "frames.hpp"
#include "script.hpp"

using namespace uinet;
using namespace uinet::test;

namespace {

const Ipv4Addr kPeer = Ipv4Addr::of(198, 18, 0, 1);

Bytes text(std::string_view t) { return {reinterpret_cast<const std::uint8_t*>(t.data()), t.size()}; }

// Opens a UDP socket on port 7 whose upcall echoes every datagram back.
SocketId echo_service(Script& s, std::uint16_t port = 7) {
    UdpSockets& udp = s.stack().udp();
    SocketId id = *udp.open();
    EXPECT_TRUE(udp.bind(id, {Ipv4Addr::any(), Port(port)}));
    udp.set_upcall(id, s.recorder("echo", [&s](SocketId sock, std::uint32_t) {
        std::vector<std::uint8_t> buf(2048);
        while (auto r = s.stack().udp().recvfrom(sock, buf))
            EXPECT_TRUE(s.stack().udp().sendto(s.instant(), sock, {buf.data(), r->size}, r->from));
    }));
    return id;
}

}  // namespace

TEST(ScriptUdp, EchoServiceOnAScriptSocket) {
    Script s;
    echo_service(s);
    s.at(ms(0)).inject(s.peer().udp(4000, 7).payload("hi"));
    s.at(ms(0)).expect(s.us().udp(7, 4000).payload("hi").udp_len(10));
    s.at(ms(40)).inject(s.peer().udp(4001, 7).payload(pattern(1000)));
    s.at(ms(40)).expect(s.us().udp(7, 4001).payload(pattern(1000)));
    // One readable event per input batch, recorded at its time.
    ASSERT_EQ(s.events().size(), 2u);
    EXPECT_EQ(s.events()[0].at, ms(0));
    EXPECT_EQ(s.events()[1].at, ms(40));
    EXPECT_TRUE(s.events()[1].events & event::readable);
    EXPECT_EQ(s.counter("udp.rx_datagrams"), 2u);
    EXPECT_EQ(s.counter("udp.tx_datagrams"), 2u);
}

TEST(ScriptUdp, ABatchOfDatagramsRaisesOneEvent) {
    Script s;
    echo_service(s);
    s.at(ms(0)).inject({s.peer().udp(4000, 7).payload("a"), s.peer().udp(4000, 7).payload("b"),
                        s.peer().udp(4000, 7).payload("c")});
    s.at(ms(0)).expect(s.us().udp(7, 4000).payload("a"));
    s.at(ms(0)).expect(s.us().udp(7, 4000).payload("b"));
    s.at(ms(0)).expect(s.us().udp(7, 4000).payload("c"));
    EXPECT_EQ(s.events().size(), 1u);
}

TEST(ScriptUdp, DatagramsSentThroughTheApiLeaveAtTheScriptedTime) {
    Script s;
    UdpSockets& udp = s.stack().udp();
    SocketId c = *udp.open();
    ASSERT_TRUE(udp.connect(c, {kPeer, Port(53)}));
    const std::uint16_t port = udp.local_endpoint(c)->port.value();
    EXPECT_GE(port, 49152);  // an ephemeral port (RFC 6056 range)
    s.at(ms(100));
    ASSERT_TRUE(udp.sendto(s.instant(), c, text("query")));
    s.at(ms(100)).expect(s.us().udp(port, 53).payload("query").ttl(64).df(0));
    s.at(ms(500)).expect_nothing();
    s.at(ms(600)).inject(s.peer().udp(53, port).payload("answer"));
    std::vector<std::uint8_t> buf(64);
    auto r = udp.recvfrom(c, buf);
    ASSERT_TRUE(r);
    EXPECT_EQ(std::string(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(r->size)), "answer");
    EXPECT_EQ(r->from, (Endpoint{kPeer, Port(53)}));
}

TEST(ScriptUdp, ClosedPortIsSilentWhenBlackholed) {
    Script s;  // black hole: the stack's default
    s.at(ms(0)).inject(s.peer().udp(4000, 9999).payload("anyone?"));
    s.at(ms(100)).expect_nothing();
    EXPECT_EQ(s.counter("udp.rx_no_port"), 1u);
    EXPECT_EQ(s.counter("net.icmp_errors_suppressed"), 1u);
    EXPECT_EQ(s.counter("net.icmp_unreach_sent"), 0u);
}

TEST(ScriptUdp, ClosedPortGetsPortUnreachableQuotingTheDatagram) {
    Script s({.blackhole = false});
    const PacketSpec probe = s.peer().udp(4000, 9999).payload("anyone?").ip_id(77);
    s.at(ms(0)).inject(probe);
    s.at(ms(0)).expect(s.us().icmp(wire::icmpv4_type::dest_unreachable, wire::icmpv4_code::port_unreachable)
                           .icmp_rest(0)
                           .quotes(probe));
    EXPECT_EQ(s.counter("net.icmp_unreach_sent"), 1u);
    // Broadcast datagrams never draw an error (RFC 1122 4.1.3.1).
    s.at(ms(10)).inject(s.peer().to(Ipv4Addr::broadcast()).udp(4000, 9999).eth_dst(MacAddr::broadcast()));
    s.at(ms(10)).expect_nothing();
}

TEST(ScriptUdp, BadChecksumIsDroppedZeroChecksumAccepted) {
    Script s;
    SocketId srv = echo_service(s);
    s.at(ms(0)).inject(s.peer().udp(4000, 7).payload("bad").bad_checksum());
    s.at(ms(0)).expect_nothing();
    EXPECT_EQ(s.counter("udp.rx_bad_checksum"), 1u);
    // A zero checksum means "none" over IPv4 (RFC 768).
    s.at(ms(1)).inject(s.peer().udp(4000, 7).payload("none").checksum(0));
    s.at(ms(1)).expect(s.us().udp(7, 4000).payload("none"));
    // A length field larger than the datagram.
    s.at(ms(2)).inject(s.peer().udp(4000, 7).payload("lie").udp_len(100));
    s.at(ms(2)).expect_nothing();
    EXPECT_EQ(s.counter("udp.rx_bad_header"), 1u);
    (void)srv;
}

TEST(ScriptUdp, PortUnreachableReachesTheConnectedSocket) {
    Script s;
    UdpSockets& udp = s.stack().udp();
    SocketId c = *udp.open();
    ASSERT_TRUE(udp.connect(c, {kPeer, Port(9)}));
    udp.set_upcall(c, s.recorder("client"));
    ASSERT_TRUE(udp.sendto(s.instant(), c, text("ping")));
    s.at(ms(0)).expect(s.us().udp(capture("port"), 9).payload("ping"));
    // The peer answers with port unreachable, quoting what we sent.
    Bytes quoted = s.last().ip_bytes();
    s.at(ms(5)).inject(s.peer().icmp(3, 3).payload(std::vector<std::uint8_t>(quoted.begin(), quoted.begin() + 28)));
    ASSERT_EQ(s.events().size(), 1u);
    EXPECT_TRUE(s.events()[0].events & event::error);
    std::vector<std::uint8_t> buf(16);
    auto r = udp.recvfrom(c, buf);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), SockRecvError::connection_refused);
    EXPECT_EQ(s.counter("udp.icmp_errors_rx"), 1u);
}
