// Scripts: passive receive (tcp/passive.hpp, docs/passive.md). A passive
// stack is fed the frames of connections between two other hosts and must
// deliver each direction as a stream: ordering, retransmissions, first copy
// wins with inconsistent overlaps counted, holes (timeout, ACK, end) with
// reads stopping at their boundary, FIN and RST, idle timeouts, the flow
// table bound, and never a transmitted frame.
#include <gtest/gtest.h>

#include "passive_fixture.hpp"

using namespace uinet;
using namespace uinet::test;
using tcp::PassiveEnd;

namespace {

struct Pair {
    SocketId c2s, s2c;
};

Pair accept_pair(PassiveStack& ps) {
    auto p = ps.tcp().accept_passive(ps.listener);
    EXPECT_TRUE(p);
    if (!p) return {};
    return {p->c2s, p->s2c};
}

void expect_silent(PassiveStack& ps) {
    EXPECT_TRUE(ps.dev->sent.empty());
    EXPECT_EQ(ps.dev->stats().tx_packets, 0u);
}

TEST(Passive, HandshakeDataBothWaysAndFin) {
    PassiveStack ps;
    ObservedConn c;
    ps.feed(c.syn());
    Pair p = accept_pair(ps);
    ps.feed(c.synack());
    ps.feed(c.c2s(0, {}));  // handshake ACK
    ps.feed(c.c2s(0, bytes_of("GET / HTTP/1.1\r\n\r\n")));
    ps.feed(c.s2c(0, bytes_of("HTTP/1.1 200 OK\r\n"), 18));
    ps.feed(c.s2c(17, bytes_of("\r\nbody"), 18));
    EXPECT_EQ(ps.drain(p.c2s), "GET / HTTP/1.1\r\n\r\n");
    EXPECT_EQ(ps.drain(p.s2c), "HTTP/1.1 200 OK\r\n\r\nbody");
    std::uint8_t b[8];
    EXPECT_EQ(ps.tcp().recv(ps.clock.now(), p.c2s, b).error(), TcpRecvError::would_block);
    ps.feed(c.s2c(23, {}, 18, TcpFlags::fin));
    ps.feed(c.c2s(18, {}, 24, TcpFlags::fin));
    ps.feed(c.s2c(24, {}, 19));
    EXPECT_EQ(*ps.tcp().recv(ps.clock.now(), p.c2s, b), 0u);
    EXPECT_EQ(*ps.tcp().recv(ps.clock.now(), p.s2c, b), 0u);
    EXPECT_TRUE(ps.tcp().poll(p.c2s) & event::hangup);
    auto in = ps.tcp().passive_info(p.c2s);
    ASSERT_TRUE(in);
    EXPECT_EQ(in->end, PassiveEnd::fin);
    EXPECT_EQ(in->client, (Endpoint{c.c, Port(c.cport)}));
    EXPECT_EQ(in->server, (Endpoint{c.s, Port(c.sport)}));
    EXPECT_EQ(in->l2.local_mac, c.smac);
    EXPECT_EQ(in->l2.peer_mac, c.cmac);
    EXPECT_EQ(in->c2s.bytes, 18u);
    EXPECT_EQ(in->s2c.bytes, 23u);
    EXPECT_EQ(in->c2s.holes + in->s2c.holes, 0u);
    EXPECT_EQ(*ps.tcp().local_endpoint(p.s2c), (Endpoint{c.s, Port(c.sport)}));
    EXPECT_EQ(*ps.tcp().passive_direction(p.s2c), 1);
    expect_silent(ps);
}

TEST(Passive, ReorderingDuplicatesAndInconsistentOverlapFirstCopyWins) {
    PassiveStack ps;
    ObservedConn c;
    ps.feed(c.syn());
    Pair p = accept_pair(ps);
    ps.feed(c.synack());
    ps.feed(c.c2s(6, bytes_of("world!")));
    ps.feed(c.c2s(6, bytes_of("WORLD!")));  // inconsistent retransmission of held bytes
    EXPECT_EQ(ps.drain(p.c2s), "");
    ps.feed(c.c2s(0, bytes_of("hello ")));
    ps.feed(c.c2s(0, bytes_of("hello ")));  // consistent duplicate
    EXPECT_EQ(ps.drain(p.c2s), "hello world!");
    ps.feed(c.c2s(10, bytes_of("XX!more")));  // 2 bytes already read: counted, not comparable
    EXPECT_EQ(ps.drain(p.c2s), "!more");
    auto in = *ps.tcp().passive_info(p.c2s);
    EXPECT_EQ(in.c2s.inconsistent_segments, 1u);
    EXPECT_EQ(in.c2s.inconsistent_bytes, 5u);  // "world" vs "WORLD"
    EXPECT_EQ(in.c2s.duplicate_bytes, 6u + 6u + 2u);
    EXPECT_EQ(ps.counter("passive", "inconsistent_segments"), 1u);
    EXPECT_EQ(ps.counter("passive", "inconsistent_bytes"), 5u);
    // An inconsistent overlap with bytes still unread is compared too.
    ps.feed(c.c2s(17, bytes_of("abc")));
    ps.feed(c.c2s(16, bytes_of("eXbc")));
    EXPECT_EQ(ps.drain(p.c2s), "abc");
    EXPECT_EQ(ps.tcp().passive_info(p.c2s)->c2s.inconsistent_segments, 2u);
    expect_silent(ps);
}

TEST(Passive, HoleAfterTimeoutStopsReadAtBoundary) {
    tcp::PassiveConfig pc;
    pc.hole_timeout = Duration::seconds(2);
    pc.ack_holes = false;
    PassiveStack ps(pc);
    ObservedConn c;
    ps.feed(c.syn());
    Pair p = accept_pair(ps);
    ps.feed(c.synack());
    ps.feed(c.c2s(0, bytes_of("aaaa")));
    ps.feed(c.c2s(10, bytes_of("cccc")));  // bytes 4..9 never come
    ps.advance(Duration::seconds(1));
    std::uint8_t b[64];
    auto r = ps.tcp().recv_passive(p.c2s, b);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->bytes, 4u);
    EXPECT_FALSE(ps.tcp().recv_passive(p.c2s, b));  // the gap is not a hole yet
    ps.advance(Duration::seconds(2));
    EXPECT_TRUE(ps.tcp().poll(p.c2s) & event::readable);
    ps.feed(c.c2s(4, bytes_of("bbbbbb")));  // too late: counted, not delivered
    r = ps.tcp().recv_passive(p.c2s, b);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->bytes, 0u);
    EXPECT_EQ(r->hole_offset, 4u);
    EXPECT_EQ(r->hole_len, 6u);
    r = ps.tcp().recv_passive(p.c2s, b);
    ASSERT_TRUE(r);
    EXPECT_EQ(std::string(reinterpret_cast<char*>(b), r->bytes), "cccc");
    EXPECT_EQ(ps.drain(p.c2s), "");
    auto in = *ps.tcp().passive_info(p.c2s);
    EXPECT_EQ(in.c2s.holes, 1u);
    EXPECT_EQ(in.c2s.hole_bytes, 6u);
    EXPECT_EQ(in.c2s.late_bytes, 6u);
    EXPECT_EQ(ps.counter("passive", "timeout_holes"), 1u);
    expect_silent(ps);
}

TEST(Passive, PlainRecvSkipsHolesAndReadStopsBeforeOne) {
    PassiveStack ps;
    ObservedConn c;
    ps.feed(c.syn());
    Pair p = accept_pair(ps);
    ps.feed(c.synack());
    ps.feed(c.s2c(0, bytes_of("12345")));
    ps.feed(c.s2c(8, bytes_of("9ab")));
    ps.feed(c.c2s(0, {}, 11));  // the client ACKs everything: 5..7 are a hole now
    EXPECT_EQ(ps.counter("passive", "ack_holes"), 1u);
    std::uint8_t b[3];
    auto r = ps.tcp().recv_passive(p.s2c, b);
    EXPECT_EQ(r->bytes, 3u);
    r = ps.tcp().recv_passive(p.s2c, b);
    EXPECT_EQ(r->bytes, 2u);  // stops at the hole's boundary
    EXPECT_EQ(r->hole_len, 0u);
    r = ps.tcp().recv_passive(p.s2c, b);
    EXPECT_EQ(r->hole_offset, 5u);
    EXPECT_EQ(r->hole_len, 3u);
    EXPECT_EQ(ps.drain(p.s2c), "9ab");
    // A tail hole: acked bytes never seen.
    ps.feed(c.c2s(0, {}, 20));
    r = ps.tcp().recv_passive(p.s2c, b);
    EXPECT_EQ(r->hole_offset, 11u);
    EXPECT_EQ(r->hole_len, 9u);
    ps.feed(c.s2c(20, bytes_of("z")));
    EXPECT_EQ(ps.drain(p.s2c), "z");
}

TEST(Passive, RstEndsBothStreamsAsReset) {
    PassiveStack ps;
    ObservedConn c;
    ps.feed(c.syn());
    Pair p = accept_pair(ps);
    ps.feed(c.synack());
    ps.feed(c.c2s(0, bytes_of("req")));
    ps.feed(c.s2c(100000000, {}, 3, TcpFlags::rst));  // far outside the window: ignored
    EXPECT_EQ(ps.counter("passive", "rst_ignored"), 1u);
    ps.feed(c.s2c(0, {}, 3, TcpFlags::rst));
    EXPECT_EQ(ps.drain(p.c2s), "req");
    std::uint8_t b[4];
    EXPECT_EQ(*ps.tcp().recv(ps.clock.now(), p.s2c, b), 0u);
    EXPECT_EQ(ps.tcp().passive_info(p.c2s)->end, PassiveEnd::reset);
    EXPECT_EQ(ps.tcp().passive_info(p.c2s)->c2s.end, PassiveEnd::reset);
    EXPECT_EQ(ps.tcp().error(p.c2s), ECONNRESET);
    // A RST answering a SYN (port closed) ends a flow that never synchronized.
    ObservedConn d;
    d.cport = 40001;
    ps.feed(d.syn());
    Pair q = accept_pair(ps);
    ps.feed(tcp_frame(d.smac, d.cmac, d.s, d.c, d.sport, d.cport, 0, d.cisn + 1, TcpFlags::rst | TcpFlags::ack, {}));
    EXPECT_EQ(ps.tcp().passive_info(q.s2c)->end, PassiveEnd::reset);
    expect_silent(ps);
}

TEST(Passive, FinWaitsForMissingBytesThenHoles) {
    tcp::PassiveConfig pc;
    pc.hole_timeout = Duration::seconds(5);
    pc.ack_holes = false;
    PassiveStack ps(pc);
    ObservedConn c;
    ps.feed(c.syn());
    Pair p = accept_pair(ps);
    ps.feed(c.synack());
    ps.feed(c.c2s(0, bytes_of("ab")));
    ps.feed(c.c2s(4, bytes_of("ef"), 0, TcpFlags::fin));  // "cd" missing before the FIN
    EXPECT_EQ(ps.drain(p.c2s), "ab");
    EXPECT_FALSE(ps.tcp().poll(p.c2s) & event::hangup);
    ps.feed(c.c2s(2, bytes_of("cd")));  // the retransmission fills it
    EXPECT_EQ(ps.drain(p.c2s), "cdef");
    EXPECT_TRUE(ps.tcp().poll(p.c2s) & event::hangup);
    EXPECT_EQ(ps.tcp().passive_info(p.c2s)->c2s.end, PassiveEnd::fin);
    // The other direction: FIN with bytes that never come -> hole at the deadline.
    ps.feed(c.s2c(3, {}, 7, TcpFlags::fin));
    EXPECT_FALSE(ps.tcp().poll(p.s2c) & event::hangup);
    ps.advance(Duration::seconds(6));
    std::uint8_t b[8];
    auto r = ps.tcp().recv_passive(p.s2c, b);
    EXPECT_EQ(r->hole_offset, 0u);
    EXPECT_EQ(r->hole_len, 3u);
    r = ps.tcp().recv_passive(p.s2c, b);
    EXPECT_EQ(r->bytes, 0u);
    EXPECT_EQ(r->hole_len, 0u);  // end of stream
    EXPECT_EQ(ps.tcp().passive_info(p.s2c)->end, PassiveEnd::fin);
}

TEST(Passive, IdleAndHalfClosedTimeouts) {
    tcp::PassiveConfig pc;
    pc.idle_timeout = Duration::seconds(300);
    pc.half_closed_timeout = Duration::seconds(60);
    PassiveStack ps(pc);
    ObservedConn c;
    ps.feed(c.syn());
    Pair p = accept_pair(ps);
    ps.feed(c.synack());
    ps.feed(c.c2s(0, bytes_of("x")));
    ps.advance(Duration::seconds(299));
    EXPECT_EQ(ps.tcp().passive_info(p.c2s)->end, PassiveEnd::open);
    ps.advance(Duration::seconds(2));
    EXPECT_EQ(ps.tcp().passive_info(p.c2s)->end, PassiveEnd::timeout);
    EXPECT_EQ(ps.drain(p.c2s), "x");
    std::uint8_t b[4];
    EXPECT_EQ(*ps.tcp().recv(ps.clock.now(), p.c2s, b), 0u);

    ObservedConn d;
    d.cport = 40001;
    ps.feed(d.syn());
    Pair q = accept_pair(ps);
    ps.feed(d.synack());
    ps.feed(d.c2s(0, {}, 0, TcpFlags::fin));  // the client is done; the server goes silent
    EXPECT_EQ(ps.tcp().passive_info(q.c2s)->c2s.end, PassiveEnd::fin);
    ps.advance(Duration::seconds(61));
    EXPECT_EQ(ps.tcp().passive_info(q.c2s)->end, PassiveEnd::timeout);
    EXPECT_EQ(ps.tcp().passive_info(q.c2s)->s2c.end, PassiveEnd::timeout);
    EXPECT_EQ(ps.counter("passive", "end_timeout"), 2u);
    // Closed and ended flows are freed after the linger.
    ps.tcp().close(ps.clock.now(), p.c2s);
    ps.tcp().close(ps.clock.now(), p.s2c);
    ps.advance(Duration::seconds(20));
    EXPECT_EQ(ps.counter("passive", "flows_now"), 1u);  // q is still held by its sockets
}

TEST(Passive, FlowTableIsBounded) {
    tcp::PassiveConfig pc;
    pc.max_flows = 2;
    PassiveStack ps(pc);
    for (std::uint16_t i = 0; i < 3; ++i) {
        ObservedConn c;
        c.cport = static_cast<std::uint16_t>(41000 + i);
        ps.feed(c.syn());
    }
    EXPECT_EQ(ps.counter("passive", "flows"), 2u);
    EXPECT_EQ(ps.counter("passive", "flows_table_full"), 1u);
    EXPECT_TRUE(ps.tcp().accept_passive(ps.listener));
    EXPECT_TRUE(ps.tcp().accept_passive(ps.listener));
    EXPECT_EQ(ps.tcp().accept_passive(ps.listener).error(), AcceptError::would_block);
}

TEST(Passive, DataBeyondTheReceiversWindowIsCounted) {
    PassiveStack ps;
    ObservedConn c;
    c.cws = std::nullopt;  // no scaling: the server's window is at most 65535
    ps.feed(c.syn());
    Pair p = accept_pair(ps);
    ps.feed(c.synack());
    ps.feed(c.c2s(70000, bytes_of("far")));
    auto in = *ps.tcp().passive_info(p.c2s);
    EXPECT_EQ(in.c2s.out_of_window_bytes, 3u);
    EXPECT_EQ(ps.counter("passive", "out_of_window_bytes"), 3u);
}

TEST(Passive, MidstreamPickupIsOffByDefault) {
    {
        PassiveStack ps;
        ObservedConn c;
        ps.feed(c.c2s(500, bytes_of("mid")));
        EXPECT_EQ(ps.counter("passive", "no_flow"), 1u);
        EXPECT_FALSE(ps.tcp().accept_passive(ps.listener));
    }
    tcp::PassiveConfig pc;
    pc.midstream = true;
    PassiveStack ps(pc);
    ObservedConn c;
    ps.feed(c.s2c(500, bytes_of("resp"), 77));  // the server's port is the lower one
    Pair p = accept_pair(ps);
    ps.feed(c.c2s(77, bytes_of("more")));
    EXPECT_EQ(ps.drain(p.s2c), "resp");
    EXPECT_EQ(ps.drain(p.c2s), "more");
    auto in = *ps.tcp().passive_info(p.c2s);
    EXPECT_TRUE(in.midstream);
    EXPECT_EQ(in.server, (Endpoint{c.s, Port(c.sport)}));
}

TEST(Passive, VlanTagsAreKeptAndPartOfTheIdentity) {
    PassiveStack ps;
    ObservedConn a, b;
    b.vlans.push_back(wire::VlanTag::make(wire::ethertype::vlan_ctag, 42));
    ps.feed(a.syn());
    ps.feed(b.syn());  // same 4-tuple, other tag stack: another connection
    Pair pa = accept_pair(ps), pb = accept_pair(ps);
    ps.feed(a.synack());
    ps.feed(b.synack());
    ps.feed(a.c2s(0, bytes_of("untagged")));
    ps.feed(b.c2s(0, bytes_of("tagged")));
    EXPECT_EQ(ps.drain(pa.c2s), "untagged");
    EXPECT_EQ(ps.drain(pb.c2s), "tagged");
    EXPECT_EQ(ps.tcp().l2info(pb.c2s)->vlans, b.vlans);
    EXPECT_TRUE(ps.tcp().l2info(pa.c2s)->vlans.empty());
}

TEST(Passive, NewSynReplacesAnEndedFlow) {
    PassiveStack ps;
    ObservedConn c;
    ps.feed(c.syn());
    Pair p = accept_pair(ps);
    ps.feed(c.synack());
    ps.feed(c.c2s(0, {}, 0, TcpFlags::rst));
    ObservedConn d = c;
    d.cisn = 555555;
    ps.feed(d.syn());
    Pair q = accept_pair(ps);
    ps.feed(d.synack());
    ps.feed(d.c2s(0, bytes_of("second")));
    EXPECT_EQ(ps.drain(q.c2s), "second");
    EXPECT_EQ(ps.tcp().passive_info(p.c2s)->end, PassiveEnd::reset);
    EXPECT_EQ(ps.tcp().passive_info(q.c2s)->serial, 2u);
}

TEST(Passive, APassiveStackNeverTransmits) {
    // No listener at all: unclaimed SYNs, ARP and ICMP for the stack's own
    // address, with the black hole off — still nothing leaves.
    VirtualClock clock{Instant::from_ns(1'000'000'000)};
    SeededRandom rnd{3};
    Host host{};
    host.clock = &clock;
    host.random = &rnd;
    StackOptions o;
    o.net.passive = true;
    o.net.blackhole = false;
    Stack st(host, o);
    auto d = std::make_unique<ScriptDevice>(st.pool());
    ScriptDevice& dev = *d;
    net::InterfaceConfig ic;
    ic.mac = *MacAddr::parse("02:00:00:00:00:ee");
    ic.ipv4 = {*Ipv4Cidr::parse("198.18.9.9/16")};
    st.add_interface(std::move(d), ic);
    const MacAddr peer = *MacAddr::parse("02:00:00:00:00:01");
    const Ipv4Addr me = Ipv4Addr::of(198, 18, 9, 9), them = Ipv4Addr::of(198, 18, 0, 1);
    auto inject = [&](const Frame& f) {
        dev.inject({f.data(), f.size()});
        st.poll(clock.now());
    };
    inject(eth(MacAddr::broadcast(), peer, wire::ethertype::arp,
               arp(wire::arp_op::request, peer, them, MacAddr(), me)));
    inject(eth(ic.mac, peer, wire::ethertype::ipv4,
               ipv4(them, me, wire::ip_proto::icmp, icmp(8, 0, 0x00010001, pattern(8)))));
    inject(tcp_frame(peer, ic.mac, them, me, 5555, 22, 1, 0, TcpFlags::syn, {}));
    inject(eth(ic.mac, peer, wire::ethertype::ipv4, ipv4(them, me, wire::ip_proto::udp, test::udp(them, me, 5, 9, pattern(4)))));
    // An ordinary (active) listener on a passive stack cannot answer either.
    SocketId l = *st.tcp().open();
    ASSERT_TRUE(st.tcp().bind(l, {Ipv4Addr::any(), Port(80)}));
    ASSERT_TRUE(st.tcp().listen(l));
    inject(tcp_frame(peer, ic.mac, them, me, 5556, 80, 1, 0, TcpFlags::syn, {}));
    clock.advance(Duration::seconds(5));
    st.poll(clock.now());
    EXPECT_TRUE(dev.sent.empty());
    EXPECT_EQ(dev.stats().tx_packets, 0u);
    std::uint64_t suppressed = 0;
    st.visit_counters([&](const char* s, const char* n, std::uint64_t v) {
        if (std::string(s) == "net" && std::string(n) == "tx_passive_suppressed") suppressed = v;
    });
    EXPECT_GE(suppressed, 4u);  // ARP reply, echo reply, RST, port unreachable, SYN-ACKs...
}

}  // namespace

namespace {

TEST(Passive, ClosingTheListenerDropsQueuedFlowsOnly) {
    PassiveStack ps;
    ObservedConn a, b;
    b.cport = 40001;
    ps.feed(a.syn());
    Pair pa = accept_pair(ps);
    ps.feed(b.syn());  // queued, never accepted
    ps.tcp().close(ps.clock.now(), ps.listener);
    EXPECT_EQ(ps.counter("passive", "flows_accept_dropped"), 1u);
    ps.feed(a.synack());
    ps.feed(a.c2s(0, bytes_of("still observed")));
    EXPECT_EQ(ps.drain(pa.c2s), "still observed");
    // A socket made passive but closed before listening leaves nothing behind.
    SocketId s = *ps.tcp().open();
    ASSERT_TRUE(ps.tcp().set_passive(s));
    ps.tcp().close(ps.clock.now(), s);
    SocketId l = *ps.tcp().open();
    ASSERT_TRUE(ps.tcp().bind(l, {Ipv4Addr::any(), Port(81)}));
    ASSERT_TRUE(ps.tcp().listen(l));
    EXPECT_EQ(ps.tcp().accept_passive(l).error(), AcceptError::not_listening);
    EXPECT_EQ(ps.tcp().set_passive(l).error(), tcp::ProxyError::invalid_state);  // after listen: too late
}

}  // namespace
