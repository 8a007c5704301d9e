// Scripts: transparent-proxy sockets (libuinet's promiscuous sockets and L2
// info). On a promiscuous interface, a promiscuous listener accepts SYNs to
// addresses that are not the stack's and to any port, answers as the host
// the peer dialled (its address, its MAC, the SYN's VLAN tags), and reports
// the SYN's L2 info; listener precedence; the tag stack is part of the
// connection's identity; listeners restricted to a tag stack; outbound
// sockets with their own L2 header (no ARP) and from a non-local address.
#include <gtest/gtest.h>

#include "tcp_script.hpp"

using namespace uinet;
using namespace uinet::test;
using namespace uinet::test::tcps;
using tcp::TcpState;

namespace {

const MacAddr kServerMac({0x02, 0, 0, 0, 0, 0x99});
const Ipv4Addr kServer = Ipv4Addr::of(203, 0, 113, 7);  // not ours

wire::VlanStack qinq(std::uint16_t outer = 100, std::uint16_t inner = 200) {
    wire::VlanStack v;
    v.push_back(wire::VlanTag::make(wire::ethertype::vlan_stag, outer));
    v.push_back(wire::VlanTag::make(wire::ethertype::vlan_ctag, inner, 3));
    return v;
}

wire::VlanStack ctag(std::uint16_t vid) {
    wire::VlanStack v;
    v.push_back(wire::VlanTag::make(wire::ethertype::vlan_ctag, vid));
    return v;
}

ScriptOptions promisc() {
    ScriptOptions o;
    o.promiscuous = true;
    return o;
}

// The peer (198.18.0.1:cport) talking to dst:dport through the server's
// MAC, on `tags`; and the answers as they must look.
PacketSpec c2s(const Script& s, Ipv4Addr dst, std::uint16_t dport, const wire::VlanStack& tags,
               std::uint16_t cport = kPeerPort) {
    return Side(s.options().peer, Node{kServerMac, dst}, tags).tcp(cport, dport);
}
PacketSpec s2c(const Script& s, Ipv4Addr src, std::uint16_t sport, const wire::VlanStack& tags,
               std::uint16_t cport = kPeerPort) {
    return Side(Node{kServerMac, src}, s.options().peer, tags).tcp(sport, cport);
}

SocketId promisc_listener(Script& s, Endpoint at, bool reuse_port = false) {
    TcpSockets& tcp = s.stack().tcp();
    SocketId l = *tcp.open();
    EXPECT_TRUE(tcp.set_promiscuous(l));
    EXPECT_TRUE(tcp.bind(l, at, false, reuse_port));
    EXPECT_TRUE(tcp.listen(l));
    return l;
}

// A full handshake to dst:dport on tags; our ISN captured as `iss`.
void handshake(Script& s, Ipv4Addr dst, std::uint16_t dport, const wire::VlanStack& tags, const std::string& iss,
               std::uint16_t cport = kPeerPort) {
    s.inject(c2s(s, dst, dport, tags, cport).syn().seq(kPeerIss).win(65535).mss(1460));
    s.expect(s2c(s, dst, dport, tags, cport).flags("S.").seq(capture(iss)).ack(kPeerIss + 1).mss(1460));
    s.inject(c2s(s, dst, dport, tags, cport).flags(".").seq(theirs(0)).ack(var(iss) + 1));
}

}  // namespace

TEST(ScriptTcpProxy, PromiscuousListenerAnswersAsTheDialledServer) {
    Script s(promisc());
    TcpSockets& tcp = s.stack().tcp();
    SocketId l = promisc_listener(s, {Ipv4Addr::any(), Port(0)});  // every address, every port
    s.at(ms(0)).inject(c2s(s, kServer, 8443, qinq()).syn().seq(kPeerIss).win(65535).mss(1460));
    // The SYN-ACK comes from the dialled address and port, from the
    // server's MAC to the peer's, with the SYN's two tags.
    s.at(ms(0)).expect(s2c(s, kServer, 8443, qinq()).flags("S.").seq(capture("iss")).ack(kPeerIss + 1).mss(1460));
    EXPECT_EQ(s.last().l2.src, kServerMac);
    EXPECT_EQ(s.last().l2.dst, s.options().peer.mac);
    s.at(ms(10)).inject(c2s(s, kServer, 8443, qinq()).flags(".").seq(theirs(0)).ack(ours(0)));
    auto c = tcp.accept(l);
    ASSERT_TRUE(c);
    ASSERT_TRUE(tcp.local_endpoint(*c));
    EXPECT_EQ(*tcp.local_endpoint(*c), (Endpoint{kServer, Port(8443)}));
    EXPECT_EQ(*tcp.remote_endpoint(*c), (Endpoint{kPeerIp, Port(kPeerPort)}));
    auto l2 = tcp.l2info(*c);
    ASSERT_TRUE(l2);
    EXPECT_EQ(l2->local_mac, kServerMac);
    EXPECT_EQ(l2->peer_mac, s.options().peer.mac);
    EXPECT_TRUE(l2->vlans == qinq());
    EXPECT_TRUE(tcp.promiscuous(*c));

    // Data both ways, every segment mirrored.
    s.at(ms(20)).inject(c2s(s, kServer, 8443, qinq()).flags("P.").seq(theirs(0)).ack(ours(0)).payload("hello"));
    EXPECT_EQ(read_all(s, *c), "hello");
    send_text(s, *c, "world");
    s.at(ms(20)).expect(s2c(s, kServer, 8443, qinq()).flags("P.").seq(ours(0)).ack(theirs(5)).payload("world"));
    // Another address and port: the same catch-all listener.
    s.at(ms(30)).inject(c2s(s, Ipv4Addr::of(192, 0, 2, 9), 25, ctag(7), 40001).syn().seq(kPeerIss).mss(1460));
    s.at(ms(30)).expect(s2c(s, Ipv4Addr::of(192, 0, 2, 9), 25, ctag(7), 40001).flags("S.").ack(kPeerIss + 1));
    EXPECT_EQ(s.counter("tcp.connections"), 2u);
    // The stack never ARPs for anything: every answer used the SYN's MACs.
    for (const Decoded& d : s.sent()) EXPECT_FALSE(d.arp.has_value());
}

TEST(ScriptTcpProxy, OrdinaryListenersIgnoreAddressesThatAreNotOurs) {
    Script s(promisc());
    listen_on(s, 80);  // 0.0.0.0:80, not promiscuous
    s.at(ms(0)).inject(c2s(s, kServer, 80, {}).syn().seq(kPeerIss).mss(1460));
    s.at(ms(10)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.no_listener"), 1u);
    // The stack's own address still works.
    s.at(ms(20)).inject(in(s).syn().seq(kPeerIss).mss(1460));
    s.at(ms(20)).expect(out(s).flags("S.").ack(kPeerIss + 1));
    // And a non-promiscuous socket cannot bind a foreign address.
    SocketId x = *s.stack().tcp().open();
    auto b = s.stack().tcp().bind(x, {kServer, Port(80)});
    ASSERT_FALSE(b);
    EXPECT_EQ(b.error(), tcp::BindError::address_not_available);
    // Promiscuous only before bind.
    SocketId y = *s.stack().tcp().open();
    ASSERT_TRUE(s.stack().tcp().bind(y, {kUsIp, Port(81)}));
    EXPECT_FALSE(s.stack().tcp().set_promiscuous(y));
}

TEST(ScriptTcpProxy, ListenerPrecedence) {
    // exact (addr, port) > wildcard address on the port > any-port on the
    // address > catch-all. Listeners whose addresses overlap share a port
    // only with SO_REUSEPORT (as on Linux), and then the most specific wins.
    Script s(promisc());
    TcpSockets& tcp = s.stack().tcp();
    SocketId exact = promisc_listener(s, {kServer, Port(80)}, true);
    SocketId wild = promisc_listener(s, {Ipv4Addr::any(), Port(80)}, true);
    SocketId anyport = promisc_listener(s, {kServer, Port(0)}, true);
    SocketId all = promisc_listener(s, {Ipv4Addr::any(), Port(0)}, true);
    const Ipv4Addr other = Ipv4Addr::of(203, 0, 113, 8);
    struct Case {
        Ipv4Addr dst;
        std::uint16_t port;
        SocketId want;
    } cases[] = {{kServer, 80, exact}, {other, 80, wild}, {kServer, 81, anyport}, {other, 81, all}};
    int i = 0;
    for (const Case& k : cases) {
        s.at(ms(10 * i));
        handshake(s, k.dst, k.port, {}, "iss" + std::to_string(i));
        for (SocketId l : {exact, wild, anyport, all}) {
            auto c = tcp.accept(l);
            EXPECT_EQ(static_cast<bool>(c), l == k.want) << "case " << i;
            if (c) {
                EXPECT_EQ(*tcp.local_endpoint(*c), (Endpoint{k.dst, Port(k.port)}));
            }
        }
        ++i;
    }
    // Two any-port sockets on one address conflict like any other bind.
    SocketId dup = *tcp.open();
    ASSERT_TRUE(tcp.set_promiscuous(dup));
    auto b = tcp.bind(dup, {kServer, Port(0)});
    ASSERT_FALSE(b);
    EXPECT_EQ(b.error(), tcp::BindError::address_in_use);
}

TEST(ScriptTcpProxy, SameFourTupleOnTwoTagStacksIsTwoConnections) {
    Script s(promisc());
    TcpSockets& tcp = s.stack().tcp();
    SocketId l = promisc_listener(s, {Ipv4Addr::any(), Port(0)});
    s.at(ms(0));
    handshake(s, kServer, 80, ctag(10), "a");
    handshake(s, kServer, 80, ctag(20), "b");
    EXPECT_EQ(s.counter("tcp.connections"), 2u);
    auto c1 = tcp.accept(l), c2 = tcp.accept(l);
    ASSERT_TRUE(c1 && c2);
    EXPECT_TRUE(tcp.l2info(*c1)->vlans == ctag(10));
    EXPECT_TRUE(tcp.l2info(*c2)->vlans == ctag(20));
    // Each tag stack reaches its own connection.
    s.at(ms(10)).inject(c2s(s, kServer, 80, ctag(20)).flags("P.").seq(theirs(0)).ack(var("b") + 1).payload("twenty"));
    s.at(ms(10)).inject(c2s(s, kServer, 80, ctag(10)).flags("P.").seq(theirs(0)).ack(var("a") + 1).payload("ten"));
    EXPECT_EQ(read_all(s, *c1), "ten");
    EXPECT_EQ(read_all(s, *c2), "twenty");
    // A third stack matches neither: to the listener, an ACK draws a RST
    // (mirrored, on that stack), and neither connection sees the data.
    s.at(ms(20)).inject(c2s(s, kServer, 80, ctag(30)).flags("P.").seq(theirs(3)).ack(var("a") + 1).payload("x"));
    s.at(ms(20)).expect(s2c(s, kServer, 80, ctag(30)).flags("R").seq(var("a") + 1));
    // The delayed ACKs of the two connections, each on its own stack.
    s.at(ms(50)).expect_unordered({s2c(s, kServer, 80, ctag(10)).flags(".").ack(theirs(3)),
                                   s2c(s, kServer, 80, ctag(20)).flags(".").ack(theirs(6))});
    EXPECT_EQ(read_all(s, *c1), "");
    EXPECT_EQ(read_all(s, *c2), "");
}

TEST(ScriptTcpProxy, ListenerRestrictedToATagStackIgnoresOthers) {
    Script s(promisc());
    TcpSockets& tcp = s.stack().tcp();
    SocketId l = *tcp.open();
    ASSERT_TRUE(tcp.set_promiscuous(l));
    ASSERT_TRUE(tcp.bind(l, {Ipv4Addr::any(), Port(80)}, false, true));
    ASSERT_TRUE(tcp.set_listen_vlans(l, qinq()));
    ASSERT_TRUE(tcp.listen(l));
    s.at(ms(0)).inject(c2s(s, kServer, 80, ctag(100)).syn().seq(kPeerIss).mss(1460));
    s.at(ms(0)).inject(c2s(s, kServer, 80, {}).syn().seq(kPeerIss).mss(1460));
    s.at(ms(0)).inject(c2s(s, kServer, 80, qinq(100, 201)).syn().seq(kPeerIss).mss(1460));
    s.at(ms(10)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.no_listener"), 3u);
    s.at(ms(20));
    handshake(s, kServer, 80, qinq(), "a");
    EXPECT_TRUE(tcp.accept(l));
    // A listener that takes any stack on the same port (SO_REUSEPORT)
    // gets the other stacks; the restricted one still wins for its own.
    SocketId anyl = *tcp.open();
    ASSERT_TRUE(tcp.set_promiscuous(anyl));
    ASSERT_TRUE(tcp.bind(anyl, {Ipv4Addr::any(), Port(80)}, false, true));
    ASSERT_TRUE(tcp.listen(anyl));
    s.at(ms(30));
    handshake(s, kServer, 80, ctag(100), "b");
    handshake(s, kServer, 80, qinq(), "c", 40001);
    EXPECT_TRUE(tcp.accept(anyl));
    EXPECT_FALSE(tcp.accept(anyl));
    EXPECT_TRUE(tcp.accept(l));
    EXPECT_EQ(s.counter("tcp.no_listener"), 3u);
}

TEST(ScriptTcpProxy, OutboundSocketSendsWithItsOwnL2HeaderAndNoArp) {
    ScriptOptions o = promisc();
    o.learn_peer = false;  // an ordinary socket would have to ARP
    Script s(o);
    TcpSockets& tcp = s.stack().tcp();
    const MacAddr mine({0x02, 0xaa, 0, 0, 0, 1}), theirs_mac({0x02, 0xbb, 0, 0, 0, 2});
    SocketId c = *tcp.open();
    ASSERT_TRUE(tcp.set_l2info(c, tcp::ConnL2{mine, theirs_mac, qinq()}));
    ASSERT_TRUE(tcp.set_tx_interface(c, s.interface().index()));
    s.at(ms(0));
    ASSERT_TRUE(tcp.connect(s.instant(), c, {kPeerIp, Port(80)}));
    const Side out_side(Node{mine, kUsIp}, Node{theirs_mac, kPeerIp}, qinq());
    const Side in_side(Node{theirs_mac, kPeerIp}, Node{mine, kUsIp}, qinq());
    s.at(ms(0)).expect(out_side.tcp(capture("port"), 80).flags("S").seq(capture("iss")));
    s.at(ms(0)).expect_nothing();  // and no ARP request
    // The retransmission too.
    s.at(sec(1)).expect(out_side.tcp(var("port"), 80).flags("S").seq(var("iss")));
    s.at(sec(1) + ms(10)).inject(in_side.tcp(80, var("port")).flags("S.").seq(5000).ack(ours(0)).mss(1460));
    s.at(sec(1) + ms(10)).expect(out_side.tcp(var("port"), 80).flags(".").seq(ours(0)).ack(5001));
    EXPECT_EQ(state_of(s, c), TcpState::established);
    send_text(s, c, "ping");
    s.at(sec(1) + ms(10)).expect(out_side.tcp(var("port"), 80).flags("P.").seq(ours(0)).payload("ping"));
    // The same reply untagged is another connection's (none): the listener-less RST path, black hole.
    s.at(sec(1) + ms(20)).inject(Side(Node{theirs_mac, kPeerIp}, Node{mine, kUsIp}, {}).tcp(80, var("port"))
                                     .flags("P.").seq(5001).ack(ours(4)).payload("pong"));
    s.at(sec(1) + ms(20)).inject(in_side.tcp(80, var("port")).flags("P.").seq(5001).ack(ours(4)).payload("pong"));
    EXPECT_EQ(read_all(s, c), "pong");
    tcp.abort(s.instant(), c);
    s.at(sec(1) + ms(20)).expect(out_side.tcp(var("port"), 80).flags("R").seq(ours(4)));
    for (const Decoded& d : s.sent()) EXPECT_FALSE(d.arp.has_value());
    EXPECT_EQ(s.counter("net.arp_requests_sent"), 0u);
}

TEST(ScriptTcpProxy, ConnectFromAnAddressThatIsNotOurs) {
    Script s(promisc());
    TcpSockets& tcp = s.stack().tcp();
    const Ipv4Addr client = Ipv4Addr::of(192, 0, 2, 50);  // the proxied client's address
    SocketId c = *tcp.open();
    ASSERT_TRUE(tcp.set_promiscuous(c));
    ASSERT_TRUE(tcp.bind(c, {client, Port(5555)}));
    s.at(ms(0));
    ASSERT_TRUE(tcp.connect(s.instant(), c, {kPeerIp, Port(80)}));
    // Routed (the peer is on our subnet), from the client's address and port.
    s.at(ms(0)).expect(s.us().from(client).tcp(5555, 80).flags("S").seq(capture("iss")));
    s.at(ms(5)).inject(s.peer().to(client).tcp(80, 5555).flags("S.").seq(7000).ack(ours(0)).mss(1460));
    s.at(ms(5)).expect(s.us().from(client).tcp(5555, 80).flags(".").seq(ours(0)).ack(7001));
    EXPECT_EQ(state_of(s, c), TcpState::established);
    EXPECT_EQ(*tcp.local_endpoint(c), (Endpoint{client, Port(5555)}));
    send_text(s, c, "GET /");
    s.at(ms(5)).expect(s.us().from(client).tcp(5555, 80).flags("P.").seq(ours(0)).payload("GET /"));
    s.at(ms(10)).inject(s.peer().to(client).tcp(80, 5555).flags("P.").seq(7001).ack(ours(5)).payload("200 OK"));
    EXPECT_EQ(read_all(s, c), "200 OK");
    s.at(ms(50)).expect(s.us().from(client).tcp(5555, 80).flags(".").ack(7007));
}
