// Simulation: `uinet proxy`'s library (tools/proxy/transparent_proxy.hpp)
// inline between a client stack and a server stack, on two mem links, in
// virtual time:
//
//   client C ==(mem, QinQ)== [client_if  proxy P  server_if] ==(mem, QinQ)== server S
//
// Both wires carry double-tagged frames (802.1ad S-tag 100 + 802.1Q C-tag
// 200): the endpoints' interfaces are QinQ sub-interfaces. P has no
// address; ARP, ping and UDP between C and S cross it by its bridge.
// Checked: a connection through P reaches S from C's own address, port and
// MAC with both tags, carries bytes both ways with half-close, and ends
// cleanly in P's log; the same 4-tuple on two tag stacks is two proxied
// connections; the server's refusal (RST) and silence are mirrored to the
// client; a connection opened from the server side is bridged untouched;
// lossy links over seeds (5 % loss). UINET_SIM_SEEDS=<n> runs n seeds;
// UINET_SIM_SEED=<s> replays one.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "host/virtual.hpp"
#include "link/fault.hpp"
#include "link/mem_pipe.hpp"
#include "proxy/transparent_proxy.hpp"
#include "stack/stack.hpp"
#include "wire/ethernet.hpp"

using namespace uinet;
using proxy::ConnLog;
using proxy::TransparentProxy;

namespace {

const MacAddr kMacC({0x02, 0, 0, 0, 0, 0x0c});
const MacAddr kMacS({0x02, 0, 0, 0, 0, 0x05});
const Ipv4Addr kIpC = Ipv4Addr::of(198, 18, 0, 1), kIpS = Ipv4Addr::of(198, 18, 0, 2);
constexpr std::uint16_t kSTag = 100, kCTag = 200;

wire::VlanStack qinq(std::uint16_t ctag = kCTag) {
    wire::VlanStack v;
    v.push_back(wire::VlanTag::make(wire::ethertype::vlan_stag, kSTag));
    v.push_back(wire::VlanTag::make(wire::ethertype::vlan_ctag, ctag));
    return v;
}

std::uint64_t env_u64(const char* name, std::uint64_t dflt) {
    const char* v = std::getenv(name);
    return v ? std::strtoull(v, nullptr, 10) : dflt;
}

std::uint8_t pat(std::size_t i, std::size_t salt) { return static_cast<std::uint8_t>((i * 31 + salt * 7) % 251); }

std::uint64_t counter(const Stack& s, const std::string& sec, const std::string& name) {
    std::uint64_t out = 0;
    s.visit_counters([&](const char* a, const char* b, std::uint64_t v) {
        if (sec == a && name == b) out = v;
    });
    return out;
}

struct LineConfig {
    std::uint64_t seed = 1;
    double loss = 0;
    bool tagged_hosts = true;     // C and S are QinQ sub-interfaces (else untagged and promiscuous)
    bool server_blackhole = false;
    Duration connect_timeout = Duration::seconds(5);
};

// Client, proxy and server stacks, the proxy's library driven beside them.
struct Line {
    VirtualClock clock;
    SeededRandom rc, rp, rs;
    Host hc{}, hp{}, hs{};
    std::unique_ptr<Stack> c, p, s;
    std::unique_ptr<TransparentProxy> px;
    std::vector<ConnLog> log;

    explicit Line(const LineConfig& cfg) : rc(cfg.seed * 3 + 1), rp(cfg.seed * 3 + 2), rs(cfg.seed * 3 + 3) {
        clock.set(Instant::from_ns(1'000'000'000));
        for (Host* h : {&hc, &hp, &hs}) h->clock = &clock;
        hc.random = &rc;
        hp.random = &rp;
        hs.random = &rs;
        StackOptions o;
        o.pool.count = 4096;
        o.net.blackhole = false;
        o.name = "client";
        c = std::make_unique<Stack>(hc, o);
        o.name = "proxy";
        o.net.blackhole = true;
        p = std::make_unique<Stack>(hp, o);
        o.name = "server";
        o.net.blackhole = cfg.server_blackhole;
        s = std::make_unique<Stack>(hs, o);

        MemLinkConfig link{.queue_frames = 1024, .bandwidth_bps = 100'000'000, .delay = Duration::millis(2)};
        auto [c_end, pc_end] = make_mem_pipe(c->pool(), p->pool(), link);
        auto [ps_end, s_end] = make_mem_pipe(p->pool(), s->pool(), link);
        auto faulty = [&](std::unique_ptr<Device> d, Pool& pool, std::uint64_t salt) -> std::unique_ptr<Device> {
            if (cfg.loss <= 0) return d;
            FaultConfig f;
            f.seed = cfg.seed * 7 + salt;
            f.on_transmit = f.on_receive = true;
            f.drop = cfg.loss;
            return std::make_unique<FaultInjector>(std::move(d), pool, f);
        };
        net::InterfaceConfig ic, is, pc, ps;
        ic.mac = kMacC;
        ic.ipv4 = {Ipv4Cidr{kIpC, 24}};
        is.mac = kMacS;
        is.ipv4 = {Ipv4Cidr{kIpS, 24}};
        if (cfg.tagged_hosts) {
            ic.vlans = is.vlans = qinq();
        } else {
            ic.promiscuous = is.promiscuous = true;  // tagged frames of per-socket L2 info reach them
        }
        pc.name = "client";
        pc.mac = *MacAddr::parse("02:00:00:00:00:a1");
        ps.name = "server";
        ps.mac = *MacAddr::parse("02:00:00:00:00:a2");
        pc.announce = ps.announce = false;
        c->add_interface(faulty(std::move(c_end), c->pool(), 1), ic);
        const net::IfIndex cif = p->add_interface(std::move(pc_end), pc);
        const net::IfIndex sif = p->add_interface(std::move(ps_end), ps);
        s->add_interface(faulty(std::move(s_end), s->pool(), 2), is);

        proxy::ProxyConfig cfgp;
        cfgp.client_if = cif;
        cfgp.server_if = sif;
        cfgp.connect_timeout = cfg.connect_timeout;
        px = std::make_unique<TransparentProxy>(*p, cfgp, [this](const ConnLog& l) { log.push_back(l); });
        auto r = px->start();
        EXPECT_TRUE(r) << (r ? "" : r.error());
    }

    void step(Instant limit) {
        const Instant now = clock.now();
        c->poll(now);
        p->poll(now);
        px->poll(now);
        s->poll(now);
        Instant t = earliest(earliest(c->next_deadline(), p->next_deadline()),
                             earliest(px->next_deadline(), s->next_deadline()));
        if (t <= now) t = now + Duration::nanos(1);
        clock.set(earliest(t, limit));
    }

    bool run_until(const std::function<bool()>& done, Duration limit) {
        const Instant end = clock.now() + limit;
        while (!done()) {
            if (clock.now() >= end) return done();
            step(end);
        }
        return true;
    }
    void run_for(Duration d) {
        run_until([] { return false; }, d);
    }
};

// Moves bytes between a client socket and a server socket of their stacks:
// the client sends `up` bytes then shuts its write side; the server reads
// to end of stream, then sends `down` bytes and closes; the client reads to
// end of stream. Patterns are checked byte by byte.
struct Exchange {
    TcpSockets& ct;
    TcpSockets& st;
    SocketId cs, ss;
    std::size_t up, down;
    std::size_t salt = 0;
    std::size_t c_sent = 0, c_got = 0, s_sent = 0, s_got = 0;
    bool c_shut = false, s_eof = false, s_closed = false, c_eof = false, bad = false;
    std::vector<std::uint8_t> buf = std::vector<std::uint8_t>(16384);

    bool pump(Instant now) {
        while (c_sent < up) {
            const std::size_t n = std::min(buf.size(), up - c_sent);
            for (std::size_t i = 0; i < n; ++i) buf[i] = pat(c_sent + i, 1 + salt);
            auto r = ct.send(now, cs, {buf.data(), n});
            if (!r) break;
            c_sent += *r;
        }
        if (c_sent == up && !c_shut) c_shut = static_cast<bool>(ct.shutdown(now, cs, ShutdownHow::write));
        while (!s_eof) {
            auto r = st.recv(now, ss, buf);
            if (!r) break;
            if (*r == 0) {
                s_eof = true;
                break;
            }
            for (std::size_t i = 0; i < *r; ++i) bad |= buf[i] != pat(s_got + i, 1 + salt);
            s_got += *r;
        }
        // Half-close: the server answers only after the client's end of stream.
        while (s_eof && s_sent < down) {
            const std::size_t n = std::min(buf.size(), down - s_sent);
            for (std::size_t i = 0; i < n; ++i) buf[i] = pat(s_sent + i, 2 + salt);
            auto r = st.send(now, ss, {buf.data(), n});
            if (!r) break;
            s_sent += *r;
        }
        if (s_eof && s_sent == down && !s_closed) {
            st.close(now, ss);
            s_closed = true;
        }
        while (!c_eof) {
            auto r = ct.recv(now, cs, buf);
            if (!r) break;
            if (*r == 0) {
                c_eof = true;
                break;
            }
            for (std::size_t i = 0; i < *r; ++i) bad |= buf[i] != pat(c_got + i, 2 + salt);
            c_got += *r;
        }
        return c_eof && s_closed;
    }
};

// One proxied connection from C to S:80, `up` bytes up and `down` down.
void run_session(const LineConfig& cfg, std::size_t up, std::size_t down) {
    SCOPED_TRACE(testing::Message() << "seed " << cfg.seed << " loss " << cfg.loss);
    Line l(cfg);
    TcpSockets& ct = l.c->tcp();
    TcpSockets& st = l.s->tcp();
    SocketId lst = *st.open();
    ASSERT_TRUE(st.bind(lst, {Ipv4Addr::any(), Port(80)}));
    ASSERT_TRUE(st.listen(lst));
    SocketId cs = *ct.open();
    ASSERT_TRUE(ct.connect(l.clock.now(), cs, {kIpS, Port(80)}));  // ARP for S crosses the bridge first
    std::optional<SocketId> ss;
    ASSERT_TRUE(l.run_until(
        [&] {
            if (!ss)
                if (auto r = st.accept(lst)) ss = *r;
            return ss.has_value() && ct.state(cs) == tcp::TcpState::established;
        },
        Duration::seconds(120)));

    // The server sees the client itself: address, port, MAC and both tags.
    const Endpoint client = *ct.local_endpoint(cs);
    EXPECT_EQ(*st.remote_endpoint(*ss), client);
    EXPECT_EQ(st.remote_endpoint(*ss)->addr, kIpC);
    EXPECT_EQ(*st.local_endpoint(*ss), (Endpoint{kIpS, Port(80)}));
    auto l2 = st.l2info(*ss);
    ASSERT_TRUE(l2);
    EXPECT_EQ(l2->peer_mac, kMacC);
    EXPECT_EQ(l2->local_mac, kMacS);
    EXPECT_TRUE(l2->vlans == qinq());
    EXPECT_EQ(*ct.remote_endpoint(cs), (Endpoint{kIpS, Port(80)}));
    // The proxy's stack claims both connections' segments, by 4-tuple and tags.
    const Endpoint server{kIpS, Port(80)};
    const tcp::TcpLayer& pt = l.p->tcp_layer();
    EXPECT_TRUE(pt.claims(client, server, qinq()));  // client side, as the client sends
    EXPECT_TRUE(pt.claims(server, client, qinq()));  // server side, as the server answers
    EXPECT_FALSE(pt.claims(client, server, qinq(kCTag + 1)));
    EXPECT_FALSE(pt.claims(client, server, {}));
    EXPECT_FALSE(pt.claims(client, Endpoint{kIpS, Port(81)}, qinq()));

    Exchange x{ct, st, cs, *ss, up, down};
    ASSERT_TRUE(l.run_until([&] { return x.pump(l.clock.now()); }, Duration::seconds(600)));
    EXPECT_FALSE(x.bad);
    EXPECT_EQ(x.s_got, up);
    EXPECT_EQ(x.c_got, down);
    ct.close(l.clock.now(), cs);
    ASSERT_TRUE(l.run_until([&] { return !l.log.empty(); }, Duration::seconds(120)));

    // The proxy's account: one connection, relayed both ways, ended cleanly.
    ASSERT_EQ(l.log.size(), 1u);
    const ConnLog& g = l.log[0];
    EXPECT_STREQ(g.end, "clean");
    EXPECT_EQ(g.client, client);
    EXPECT_EQ(g.server, (Endpoint{kIpS, Port(80)}));
    EXPECT_EQ(g.l2.peer_mac, kMacC);
    EXPECT_EQ(g.l2.local_mac, kMacS);
    EXPECT_TRUE(g.l2.vlans == qinq());
    EXPECT_EQ(g.c2s, up);
    EXPECT_EQ(g.s2c, down);
    const proxy::ProxyCounters& k = l.px->counters();
    EXPECT_EQ(k.syns, 1u);
    EXPECT_EQ(k.accepted, 1u);
    EXPECT_EQ(k.completed, 1u);
    EXPECT_EQ(k.reset + k.refused + k.silent + k.orphans + k.client_gone + k.connect_errors, 0u);
    EXPECT_EQ(k.bytes_c2s, up);
    EXPECT_EQ(k.bytes_s2c, down);
    EXPECT_GT(k.bridged_c2s, 0u);  // ARP at least
    EXPECT_GT(k.bridged_s2c, 0u);
    EXPECT_EQ(l.px->pending(), 0u);
    EXPECT_EQ(l.px->active(), 0u);
    // Nothing the proxy sent on either side lacked the tags the hosts expect.
    EXPECT_EQ(counter(*l.c, "net", "rx_vlan_mismatch"), 0u);
    EXPECT_EQ(counter(*l.s, "net", "rx_vlan_mismatch"), 0u);
    EXPECT_EQ(counter(*l.p, "net", "bridge_errors"), 0u);
}

}  // namespace

TEST(SimInlineProxy, QinQConnectionCarriesTheClientsIdentityBothWays) {
    run_session(LineConfig{}, 400'000, 1'000'000);
}

TEST(SimInlineProxy, LossyLinksOverSeeds) {
    const std::uint64_t first = env_u64("UINET_SIM_SEED", 1);
    const std::uint64_t count = std::getenv("UINET_SIM_SEED") ? 1 : env_u64("UINET_SIM_SEEDS", 12);
    for (std::uint64_t seed = first; seed < first + count; ++seed) {
        LineConfig cfg;
        cfg.seed = seed;
        cfg.loss = 0.05;
        run_session(cfg, 50'000, 120'000);
        if (HasFailure()) break;
    }
}

TEST(SimInlineProxy, PingAndUdpCrossTheBridge) {
    Line l(LineConfig{});
    std::vector<net::EchoReply> replies;
    l.c->net().set_echo_listener([&](const net::EchoReply& r) { replies.push_back(r); });
    UdpSockets& su = l.s->udp();
    SocketId echo = *su.open();
    ASSERT_TRUE(su.bind(echo, {Ipv4Addr::any(), Port(7)}));
    std::uint8_t buf[2048];
    su.set_upcall(echo, [&](SocketId id, std::uint32_t) {
        while (auto r = su.recvfrom(id, buf)) (void)su.sendto(l.clock.now(), id, {buf, r->size}, r->from);
    });
    UdpSockets& cu = l.c->udp();
    SocketId cli = *cu.open();
    ASSERT_TRUE(cu.bind(cli, {Ipv4Addr::any(), Port(5555)}));
    std::vector<std::uint8_t> got;
    for (std::uint16_t i = 0; i < 3; ++i) {
        ASSERT_TRUE(l.c->net().send_echo_request(l.clock.now(), kIpS, 7, i, 100));
        l.run_for(Duration::millis(100));
    }
    const std::uint8_t msg[] = {'v', 'i', 'a', ' ', 'b', 'r', 'i', 'd', 'g', 'e'};
    ASSERT_TRUE(cu.sendto(l.clock.now(), cli, msg, Endpoint{kIpS, Port(7)}));
    ASSERT_TRUE(l.run_until(
        [&] {
            if (auto r = cu.recvfrom(cli, buf)) got.assign(buf, buf + r->size);
            return !got.empty();
        },
        Duration::seconds(5)));
    EXPECT_EQ(got, std::vector<std::uint8_t>(std::begin(msg), std::end(msg)));
    ASSERT_EQ(replies.size(), 3u);
    for (const auto& r : replies) EXPECT_TRUE(r.payload_ok);
    // Bridged, never terminated: the proxy's stack saw no ICMP or UDP.
    EXPECT_EQ(counter(*l.p, "net", "ip_rx"), 0u) << l.p->counters_json();
    EXPECT_EQ(l.px->counters().taken_c2s + l.px->counters().taken_s2c, 0u);
    EXPECT_GE(l.px->counters().bridged_c2s, 5u);  // ARP request, 3 echo requests, the datagram
}

TEST(SimInlineProxy, SameFourTupleOnTwoTagStacksIsTwoConnections) {
    LineConfig cfg;
    cfg.tagged_hosts = false;
    Line l(cfg);
    TcpSockets& ct = l.c->tcp();
    TcpSockets& st = l.s->tcp();
    // The server: a promiscuous listener on port 80 takes any tag stack and
    // answers each connection with its own SYN's tags.
    SocketId lst = *st.open();
    ASSERT_TRUE(st.set_promiscuous(lst));
    ASSERT_TRUE(st.bind(lst, {Ipv4Addr::any(), Port(80)}));
    ASSERT_TRUE(st.listen(lst));
    // Two client sockets with one 4-tuple, tagged 100/200 and 100/201.
    SocketId cs[2];
    for (int i = 0; i < 2; ++i) {
        cs[i] = *ct.open();
        ASSERT_TRUE(ct.set_promiscuous(cs[i]));
        ASSERT_TRUE(ct.bind(cs[i], {kIpC, Port(40000)}, true));
        ASSERT_TRUE(ct.set_l2info(cs[i], tcp::ConnL2{kMacC, kMacS, qinq(static_cast<std::uint16_t>(kCTag + i))}));
        ASSERT_TRUE(ct.connect(l.clock.now(), cs[i], {kIpS, Port(80)}));
    }
    std::vector<SocketId> ss;
    ASSERT_TRUE(l.run_until(
        [&] {
            while (auto r = st.accept(lst)) ss.push_back(*r);
            return ss.size() == 2 && ct.state(cs[0]) == tcp::TcpState::established &&
                   ct.state(cs[1]) == tcp::TcpState::established;
        },
        Duration::seconds(30)));
    // Match each server socket to its client by tag stack.
    SocketId by_tag[2];
    for (SocketId s : ss) {
        EXPECT_EQ(*st.remote_endpoint(s), (Endpoint{kIpC, Port(40000)}));
        auto l2 = st.l2info(s);
        ASSERT_TRUE(l2);
        EXPECT_EQ(l2->peer_mac, kMacC);
        ASSERT_EQ(l2->vlans.size(), 2u);
        const int i = l2->vlans[1].vid() - kCTag;
        ASSERT_TRUE(i == 0 || i == 1);
        by_tag[i] = s;
    }
    ASSERT_FALSE(by_tag[0] == by_tag[1]);
    Exchange x0{ct, st, cs[0], by_tag[0], 30'000, 70'000, 0}, x1{ct, st, cs[1], by_tag[1], 50'000, 20'000, 5};
    ASSERT_TRUE(l.run_until(
        [&] {
            const bool a = x0.pump(l.clock.now()), b = x1.pump(l.clock.now());
            return a && b;
        },
        Duration::seconds(60)));
    EXPECT_FALSE(x0.bad || x1.bad);  // each pattern arrived on its own tag stack's connection
    EXPECT_EQ(x0.c_got, 70'000u);
    EXPECT_EQ(x1.c_got, 20'000u);
    ct.close(l.clock.now(), cs[0]);
    ct.close(l.clock.now(), cs[1]);
    ASSERT_TRUE(l.run_until([&] { return l.log.size() == 2; }, Duration::seconds(60)));
    EXPECT_EQ(l.px->counters().syns, 2u);
    EXPECT_EQ(l.px->counters().completed, 2u);
    EXPECT_FALSE(l.log[0].l2.vlans == l.log[1].l2.vlans);
    EXPECT_EQ(l.log[0].client, l.log[1].client);
    EXPECT_EQ(l.log[0].server, l.log[1].server);
}

TEST(SimInlineProxy, ServerRefusalReachesTheClientAsReset) {
    Line l(LineConfig{});  // the server answers unclaimed ports with RST
    TcpSockets& ct = l.c->tcp();
    SocketId cs = *ct.open();
    ASSERT_TRUE(ct.connect(l.clock.now(), cs, {kIpS, Port(81)}));
    ASSERT_TRUE(l.run_until([&] { return ct.state(cs) == tcp::TcpState::closed; }, Duration::seconds(10)));
    EXPECT_EQ(ct.error(cs), ECONNREFUSED);
    EXPECT_EQ(counter(*l.c, "tcp", "rsts_rcvd"), 1u);
    EXPECT_EQ(counter(*l.s, "tcp", "rsts_sent"), 1u);  // to the proxy's SYN, which came as the client
    const proxy::ProxyCounters& k = l.px->counters();
    EXPECT_EQ(k.syns, 1u);
    EXPECT_EQ(k.refused, 1u);
    EXPECT_EQ(k.accepted, 0u);
    ASSERT_EQ(l.log.size(), 1u);
    EXPECT_STREQ(l.log[0].end, "refused");
    EXPECT_EQ(counter(*l.p, "tcp", "synf_deferred_reject_rst"), 1u);
}

TEST(SimInlineProxy, ServerSilenceReachesTheClientAsSilence) {
    LineConfig cfg;
    cfg.server_blackhole = true;  // no listener and no RST: the server says nothing
    Line l(cfg);
    TcpSockets& ct = l.c->tcp();
    SocketId cs = *ct.open();
    ASSERT_TRUE(ct.connect(l.clock.now(), cs, {kIpS, Port(81)}));
    // While the proxy waits for the server, the SYN is deferred: claimed.
    ASSERT_TRUE(l.run_until([&] { return l.px->pending() > 0; }, Duration::seconds(5)));
    EXPECT_TRUE(l.p->tcp_layer().claims(*ct.local_endpoint(cs), Endpoint{kIpS, Port(81)}, qinq()));
    EXPECT_EQ(counter(*l.p, "tcp", "synf_deferred_now"), 1u);
    // The client's own SYN retries (1 + 2 + 4 + ... s) run out: it times out
    // without one segment having reached it.
    ASSERT_TRUE(l.run_until([&] { return ct.state(cs) == tcp::TcpState::closed; }, Duration::seconds(300)));
    EXPECT_EQ(ct.error(cs), ETIMEDOUT);
    EXPECT_EQ(counter(*l.c, "tcp", "segs_in"), 0u);
    EXPECT_GT(counter(*l.c, "tcp", "segs_out"), 2u);
    EXPECT_GT(counter(*l.s, "tcp", "no_listener"), 0u);  // the proxy's SYNs did reach the server
    EXPECT_EQ(counter(*l.s, "tcp", "rsts_sent"), 0u);
    const proxy::ProxyCounters& k = l.px->counters();
    EXPECT_GE(k.silent, 2u);  // each attempt gave up silently; the client's next SYN made a new one
    EXPECT_EQ(k.syns, k.silent + l.px->pending());
    EXPECT_EQ(k.refused + k.accepted, 0u);
    for (const ConnLog& g : l.log) EXPECT_STREQ(g.end, "silent");
}

TEST(SimInlineProxy, ConnectionFromTheServerSideIsBridged) {
    Line l(LineConfig{});
    TcpSockets& ct = l.c->tcp();
    TcpSockets& st = l.s->tcp();
    SocketId lst = *ct.open();
    ASSERT_TRUE(ct.bind(lst, {Ipv4Addr::any(), Port(7000)}));
    ASSERT_TRUE(ct.listen(lst));
    SocketId ss = *st.open();
    ASSERT_TRUE(st.connect(l.clock.now(), ss, {kIpC, Port(7000)}));
    std::optional<SocketId> cs;
    ASSERT_TRUE(l.run_until(
        [&] {
            if (!cs)
                if (auto r = ct.accept(lst)) cs = *r;
            return cs.has_value() && st.state(ss) == tcp::TcpState::established;
        },
        Duration::seconds(10)));
    // Here the "client" of the exchange is the server stack's socket.
    Exchange x{st, ct, ss, *cs, 80'000, 40'000};
    ASSERT_TRUE(l.run_until([&] { return x.pump(l.clock.now()); }, Duration::seconds(60)));
    EXPECT_FALSE(x.bad);
    EXPECT_EQ(x.c_got, 40'000u);
    const proxy::ProxyCounters& k = l.px->counters();
    EXPECT_EQ(k.syns, 0u);
    EXPECT_EQ(k.taken_c2s + k.taken_s2c, 0u);
    EXPECT_GT(k.bridged_s2c, 50u);
    EXPECT_EQ(counter(*l.p, "tcp", "segs_in"), 0u);
}
