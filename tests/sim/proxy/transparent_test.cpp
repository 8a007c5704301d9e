// Simulation: a transparent proxy's server side. The client stack routes
// 203.0.113.0/24 through the server stack; between them a VLAN tagger turns
// the link into a QinQ trunk (S-tag 100, C-tag 200) as the server sees it.
// The server's promiscuous interface and listener accept connections to an
// address that is not its own; getl2info shows both tags and the client's
// MAC; data flows both ways byte-exact, over seeded loss. The server's
// interface itself is untagged: only the accepted connection's mirrored L2
// header (the SYN's tags) gets its frames through the tagger.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "host/virtual.hpp"
#include "link/fault.hpp"
#include "link/mem_pipe.hpp"
#include "link/vlan_tagger.hpp"
#include "stack/stack.hpp"
#include "wire/ethernet.hpp"

using namespace uinet;

namespace {

const MacAddr kMacA({0x02, 0, 0, 0, 0, 0x01});
const MacAddr kMacB({0x02, 0, 0, 0, 0, 0x02});
const Ipv4Addr kIpA = Ipv4Addr::of(198, 18, 0, 1), kIpB = Ipv4Addr::of(198, 18, 0, 2);
const Ipv4Addr kDialled = Ipv4Addr::of(203, 0, 113, 7);  // nobody's address
constexpr std::uint16_t kSTag = 100, kCTag = 200;

std::uint8_t pat(std::size_t i, std::size_t salt) { return static_cast<std::uint8_t>((i * 31 + salt * 7) % 251); }

struct ProxyPair {
    VirtualClock clock;
    SeededRandom ra, rb;
    Host ha{}, hb{};
    std::unique_ptr<Stack> a, b;

    explicit ProxyPair(std::uint64_t seed, double loss) : ra(seed * 2 + 1), rb(seed * 2 + 2) {
        clock.set(Instant::from_ns(1'000'000'000));
        ha.clock = hb.clock = &clock;
        ha.random = &ra;
        hb.random = &rb;
        StackOptions o;
        o.pool.count = 4096;
        o.net.blackhole = false;
        o.net.arp.reachable = Duration::seconds(86400);  // no refresh of the seeded entry (below)
        o.name = "client";
        a = std::make_unique<Stack>(ha, o);
        o.name = "proxy";
        b = std::make_unique<Stack>(hb, o);
        MemLinkConfig link{.queue_frames = 1024, .bandwidth_bps = 100'000'000, .delay = Duration::millis(2)};
        auto [ea, eb] = make_mem_pipe(a->pool(), b->pool(), link);
        std::unique_ptr<Device> da = std::move(ea);
        if (loss > 0) {
            FaultConfig f;
            f.seed = seed;
            f.on_transmit = f.on_receive = true;
            f.drop = loss;
            da = std::make_unique<FaultInjector>(std::move(da), a->pool(), f);
        }
        // The server sees every frame with the QinQ pair and must send its
        // own with exactly that pair (the tagger pops it).
        auto db = std::make_unique<VlanTagger>(
            std::move(eb), std::vector<VlanTagger::Tag>{{wire::ethertype::vlan_stag, kSTag},
                                                        {wire::ethertype::vlan_ctag, kCTag}});
        net::InterfaceConfig ca, cb;
        ca.mac = kMacA;
        ca.ipv4 = {Ipv4Cidr{kIpA, 24}};
        cb.mac = kMacB;
        cb.ipv4 = {Ipv4Cidr{kIpB, 24}};
        // Untagged and silent itself (no announcement: the tagger would
        // refuse an untagged frame), so that only the connections' mirrored
        // L2 headers can put the pair on what it sends.
        cb.promiscuous = true;
        cb.announce = false;
        ca.announce = false;
        a->add_interface(std::move(da), ca);
        b->add_interface(std::move(db), cb);
        EXPECT_TRUE(a->add_route(Ipv4Cidr{Ipv4Addr::of(203, 0, 113, 0), 24}, kIpB));
        // The client knows the proxy's MAC (the proxy itself never ARPs).
        std::vector<Packet> released;
        a->net().interface(1)->arp().update(clock.now(), kIpB, kMacB, true, released);
    }

    bool run_until(const std::function<bool()>& done, Duration limit) {
        const Instant end = clock.now() + limit;
        while (!done()) {
            if (clock.now() >= end) return false;
            Instant now = clock.now();
            a->poll(now);
            b->poll(now);
            Instant t = earliest(a->next_deadline(), b->next_deadline());
            if (t <= now) t = now + Duration::nanos(1);
            clock.set(earliest(t, end));
        }
        return true;
    }
};

// One connection from a to kDialled:port carrying `up` bytes up and `down`
// bytes down; the server echoes nothing but its own pattern.
void run_session(std::uint64_t seed, double loss, std::size_t up, std::size_t down) {
    SCOPED_TRACE(testing::Message() << "seed " << seed << " loss " << loss);
    ProxyPair p(seed, loss);
    TcpSockets& ta = p.a->tcp();
    TcpSockets& tb = p.b->tcp();
    SocketId l = *tb.open();
    ASSERT_TRUE(tb.set_promiscuous(l));
    ASSERT_TRUE(tb.bind(l, {Ipv4Addr::any(), Port(0)}));  // every address, every port
    ASSERT_TRUE(tb.listen(l));

    SocketId c = *ta.open();
    ASSERT_TRUE(ta.connect(p.clock.now(), c, {kDialled, Port(8080)}));
    std::optional<SocketId> s;
    ASSERT_TRUE(p.run_until(
        [&] {
            if (!s)
                if (auto r = tb.accept(l)) s = *r;
            return s.has_value() && ta.state(c) == tcp::TcpState::established;
        },
        Duration::seconds(60)));

    // The server side: it answers as the dialled host, and knows the
    // client's MAC and both tags.
    EXPECT_EQ(*tb.local_endpoint(*s), (Endpoint{kDialled, Port(8080)}));
    EXPECT_EQ(tb.remote_endpoint(*s)->addr, kIpA);
    auto l2 = tb.l2info(*s);
    ASSERT_TRUE(l2);
    EXPECT_EQ(l2->peer_mac, kMacA);
    EXPECT_EQ(l2->local_mac, kMacB);  // a routed to us: its frames went to our MAC
    ASSERT_EQ(l2->vlans.size(), 2u);
    EXPECT_EQ(l2->vlans[0].tpid, wire::ethertype::vlan_stag);
    EXPECT_EQ(l2->vlans[0].vid(), kSTag);
    EXPECT_EQ(l2->vlans[1].tpid, wire::ethertype::vlan_ctag);
    EXPECT_EQ(l2->vlans[1].vid(), kCTag);
    // The client sees the dialled address as its peer.
    EXPECT_EQ(*ta.remote_endpoint(c), (Endpoint{kDialled, Port(8080)}));

    std::size_t a_sent = 0, a_got = 0, b_sent = 0, b_got = 0;
    bool bad = false;
    std::vector<std::uint8_t> buf(16384);
    auto pump = [&] {
        const Instant now = p.clock.now();
        while (a_sent < up) {
            std::size_t n = std::min(buf.size(), up - a_sent);
            for (std::size_t i = 0; i < n; ++i) buf[i] = pat(a_sent + i, 1);
            auto r = ta.send(now, c, {buf.data(), n});
            if (!r) break;
            a_sent += *r;
        }
        while (b_sent < down) {
            std::size_t n = std::min(buf.size(), down - b_sent);
            for (std::size_t i = 0; i < n; ++i) buf[i] = pat(b_sent + i, 2);
            auto r = tb.send(now, *s, {buf.data(), n});
            if (!r) break;
            b_sent += *r;
        }
        while (auto r = tb.recv(now, *s, buf)) {
            if (*r == 0) break;
            for (std::size_t i = 0; i < *r; ++i) bad |= buf[i] != pat(b_got + i, 1);
            b_got += *r;
        }
        while (auto r = ta.recv(now, c, buf)) {
            if (*r == 0) break;
            for (std::size_t i = 0; i < *r; ++i) bad |= buf[i] != pat(a_got + i, 2);
            a_got += *r;
        }
        return a_got == down && b_got == up;
    };
    ASSERT_TRUE(p.run_until(pump, Duration::seconds(600)));
    EXPECT_FALSE(bad);
    EXPECT_EQ(b_got, up);
    EXPECT_EQ(a_got, down);
    // The server never had to ARP for the client: it answered with the SYN's L2.
    std::uint64_t arp_requests = 0;
    p.b->visit_counters([&](const char* sec, const char* n, std::uint64_t v) {
        if (std::string(sec) == "net" && std::string(n) == "arp_requests_sent") arp_requests = v;
    });
    EXPECT_EQ(arp_requests, 0u);
    const auto& vs = static_cast<VlanTagger&>(p.b->net().interface(1)->device()).vlan_stats();
    EXPECT_EQ(vs.tag_mismatch, 0u) << p.b->counters_json();  // everything the server sent carried the pair
    EXPECT_GT(vs.tx_untagged, 0u);
}

}  // namespace

TEST(SimTransparentProxy, QinQClientReachesAnAddressTheProxyDoesNotOwn) { run_session(1, 0.0, 300'000, 500'000); }

TEST(SimTransparentProxy, SurvivesLossOverManySeeds) {
    for (std::uint64_t seed = 1; seed <= 20; ++seed) run_session(seed, 0.05, 60'000, 90'000);
}
