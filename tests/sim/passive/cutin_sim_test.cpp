// Simulation: cut-in. A client stack and a server stack talk through a third
// stack in the inline position (two interfaces on mem pipes, Stack::
// set_inline) that watches their connection with a passive listener while
// bridging every frame. Both ends send 4 MB (then FIN). Once the observer
// has read 1 MB of the client's stream it cuts in (TcpSockets::cut_in) and
// splices the two new sockets; from then on it terminates both sides. The
// transfer must complete byte-exact both ways with the FINs passed on, the
// endpoints must never see a RST (tcp.rsts_rcvd == 0), and the bytes the
// observer's application saw (passive stream, then the splice) must be the
// stream exactly: nothing lost, nothing twice. Run plain, with 1 % loss on
// both wires over seeds, and with a QinQ tag stack on both wires.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "host/virtual.hpp"
#include "link/fault.hpp"
#include "link/mem_pipe.hpp"
#include "link/vlan_tagger.hpp"
#include "stack/splice.hpp"
#include "stack/stack.hpp"
#include "wire/ethernet.hpp"

using namespace uinet;

namespace {

const MacAddr kMacC({0x02, 0, 0, 0, 0, 0x01}), kMacS({0x02, 0, 0, 0, 0, 0x02});
const Ipv4Addr kIpC = Ipv4Addr::of(198, 18, 0, 1), kIpS = Ipv4Addr::of(198, 18, 0, 2);

std::uint8_t pat(std::uint64_t i, std::uint64_t salt) { return static_cast<std::uint8_t>((i * 31 + salt * 7) % 251); }

std::uint64_t counter(const Stack& s, const std::string& sec, const std::string& name) {
    std::uint64_t v = 0;
    s.visit_counters([&](const char* sc, const char* n, std::uint64_t x) {
        if (sec == sc && name == n) v = x;
    });
    return v;
}

struct Params {
    std::uint64_t seed = 1;
    double loss = 0;
    bool vlans = false;
    std::size_t bytes = 4u << 20;
    std::size_t cut_after = 1u << 20;
    tcp::CutInMode mode = tcp::CutInMode::both;
};

struct Net3 {
    VirtualClock clock;
    SeededRandom rc, rp, rs;
    Host hc{}, hp{}, hs{};
    std::unique_ptr<Stack> c, p, s;

    explicit Net3(const Params& pr) : rc(pr.seed * 3 + 1), rp(pr.seed * 3 + 2), rs(pr.seed * 3 + 3) {
        clock.set(Instant::from_ns(1'000'000'000));
        hc.clock = hp.clock = hs.clock = &clock;
        hc.random = &rc;
        hp.random = &rp;
        hs.random = &rs;
        StackOptions o;
        o.pool.count = 8192;
        o.name = "client";
        c = std::make_unique<Stack>(hc, o);
        o.name = "server";
        s = std::make_unique<Stack>(hs, o);
        StackOptions po = o;
        po.name = "inline";
        po.tcp.passive.retain_unacked = true;
        p = std::make_unique<Stack>(hp, po);
        MemLinkConfig link{.queue_frames = 1024, .bandwidth_bps = 200'000'000, .delay = Duration::millis(1)};
        auto [c_end, pc_end] = make_mem_pipe(c->pool(), p->pool(), link);
        auto [ps_end, s_end] = make_mem_pipe(p->pool(), s->pool(), link);
        std::unique_ptr<Device> dc = std::move(c_end), ds = std::move(s_end);
        if (pr.loss > 0) {  // both wires, both ways, at the endpoints' ends
            FaultConfig f;
            f.on_transmit = f.on_receive = true;
            f.drop = pr.loss;
            f.seed = pr.seed * 11 + 1;
            dc = std::make_unique<FaultInjector>(std::move(dc), c->pool(), f);
            f.seed = pr.seed * 11 + 2;
            ds = std::make_unique<FaultInjector>(std::move(ds), s->pool(), f);
        }
        std::unique_ptr<Device> dpc = std::move(pc_end), dps = std::move(ps_end);
        if (pr.vlans) {  // the inline stack sees S-tag 100 + C-tag 200 on both sides and must send them back
            const std::vector<VlanTagger::Tag> tags{{wire::ethertype::vlan_stag, 100}, {wire::ethertype::vlan_ctag, 200}};
            dpc = std::make_unique<VlanTagger>(std::move(dpc), tags);
            dps = std::make_unique<VlanTagger>(std::move(dps), tags);
        }
        net::InterfaceConfig cc, sc, pic;
        cc.mac = kMacC;
        cc.ipv4 = {Ipv4Cidr{kIpC, 24}};
        sc.mac = kMacS;
        sc.ipv4 = {Ipv4Cidr{kIpS, 24}};
        c->add_interface(std::move(dc), cc);
        s->add_interface(std::move(ds), sc);
        pic.promiscuous = true;
        pic.announce = false;
        pic.mac = MacAddr({0x02, 0, 0, 0, 0, 0xa1});
        const net::IfIndex pi1 = p->add_interface(std::move(dpc), pic);
        pic.mac = MacAddr({0x02, 0, 0, 0, 0, 0xa2});
        const net::IfIndex pi2 = p->add_interface(std::move(dps), pic);
        EXPECT_TRUE(p->set_inline(pi1, pi2));
    }

    bool run_until(const std::function<bool()>& done, Duration limit) {
        const Instant end = clock.now() + limit;
        while (!done()) {
            if (clock.now() >= end) return false;
            const Instant now = clock.now();
            c->poll(now);
            p->poll(now);
            s->poll(now);
            Instant t = earliest(earliest(c->next_deadline(), p->next_deadline()), s->next_deadline());
            if (t <= now) t = now + Duration::nanos(1);
            clock.set(earliest(t, end));
        }
        return true;
    }
};

// One endpoint's side of the bulk transfer: send `n` bytes then FIN, read
// until EOF.
struct Side {
    SocketId sock;
    std::uint64_t salt_out = 0, salt_in = 0;
    std::size_t sent = 0, got = 0;
    bool shut = false, eof = false, bad = false;

    void pump(TcpSockets& t, Instant now, std::size_t n, std::vector<std::uint8_t>& buf) {
        while (sent < n) {
            const std::size_t k = std::min(buf.size(), n - sent);
            for (std::size_t i = 0; i < k; ++i) buf[i] = pat(sent + i, salt_out);
            auto r = t.send(now, sock, {buf.data(), k});
            if (!r || *r == 0) break;
            sent += *r;
        }
        if (sent == n && !shut) shut = static_cast<bool>(t.shutdown(now, sock, ShutdownHow::write));
        while (!eof) {
            auto r = t.recv(now, sock, buf);
            if (!r) break;
            if (*r == 0) {
                eof = true;
                break;
            }
            for (std::size_t i = 0; i < *r; ++i) bad |= buf[i] != pat(got + i, salt_in);
            got += *r;
        }
    }
};

void run(const Params& pr) {
    SCOPED_TRACE(testing::Message() << "seed " << pr.seed << " loss " << pr.loss << " vlans " << pr.vlans);
    Net3 n(pr);
    TcpSockets& tc = n.c->tcp();
    TcpSockets& ts = n.s->tcp();
    TcpSockets& tp = n.p->tcp();

    // The observer: a passive listener for every connection.
    SocketId pl = *tp.open_passive_listener();
    std::optional<PassivePair> pair;
    tp.set_upcall(pl, [&](SocketId, std::uint32_t) {
        while (auto r = tp.accept_passive(pl)) pair = *r;
    });

    SocketId l = *ts.open();
    ASSERT_TRUE(ts.bind(l, {kIpS, Port(5001)}));
    ASSERT_TRUE(ts.listen(l));
    Side cl, sv;
    cl.salt_out = 1;
    cl.salt_in = 2;
    sv.salt_out = 2;
    sv.salt_in = 1;
    cl.sock = *tc.open();
    ASSERT_TRUE(tc.connect(n.clock.now(), cl.sock, {kIpS, Port(5001)}));
    bool accepted = false;

    Splicer splicer(*n.p);
    std::optional<SpliceResult> spliced;
    bool cut = false;
    std::uint64_t not_ready = 0;
    std::uint64_t seen[2] = {0, 0};  // bytes the observer read from the passive streams
    bool seen_eof[2] = {false, false};
    bool seen_bad = false;
    std::vector<std::uint8_t> buf(64 * 1024), pbuf(64 * 1024);

    auto step = [&] {
        const Instant now = n.clock.now();
        if (!accepted)
            if (auto r = ts.accept(l)) {
                sv.sock = *r;
                accepted = true;
            }
        cl.pump(tc, now, pr.bytes, buf);
        if (accepted) sv.pump(ts, now, pr.bytes, buf);
        if (pair) {
            const SocketId ps[2] = {pair->c2s, pair->s2c};
            for (int d = 0; d < 2; ++d) {
                while (!seen_eof[d]) {
                    auto r = tp.recv(now, ps[d], pbuf);
                    if (!r) break;
                    if (*r == 0) {
                        seen_eof[d] = true;
                        break;
                    }
                    for (std::size_t i = 0; i < *r; ++i) seen_bad |= pbuf[i] != pat(seen[d] + i, d == 0 ? 1 : 2);
                    seen[d] += *r;
                }
            }
            if (!cut && seen[0] >= pr.cut_after) {
                auto r = tp.cut_in(now, pair->c2s, pr.mode);
                if (r) {
                    cut = true;
                    EXPECT_TRUE(splicer.join(r->to_client, r->to_server, [&](const SpliceResult& x) { spliced = x; }));
                } else {
                    EXPECT_EQ(r.error(), tcp::CutInError::not_ready);
                    ++not_ready;
                }
            }
        }
        return cl.eof && sv.eof && cl.shut && sv.shut && spliced.has_value() && seen_eof[0] && seen_eof[1];
    };
    ASSERT_TRUE(n.run_until(step, Duration::seconds(600)))
        << "client sent " << cl.sent << " got " << cl.got << " server sent " << sv.sent << " got " << sv.got
        << " cut " << cut << " seen " << seen[0] << "/" << seen[1] << "\n"
        << n.p->counters_json();
    tc.close(n.clock.now(), cl.sock);
    ts.close(n.clock.now(), sv.sock);
    const Instant settle = n.clock.now() + Duration::seconds(5);
    (void)n.run_until([&] { return n.clock.now() >= settle; }, Duration::seconds(6));

    EXPECT_FALSE(cl.bad);
    EXPECT_FALSE(sv.bad);
    EXPECT_FALSE(seen_bad);
    EXPECT_EQ(cl.got, pr.bytes);
    EXPECT_EQ(sv.got, pr.bytes);
    ASSERT_TRUE(cut);
    // The observer's application saw each stream exactly once: the passive
    // socket up to the cut point, the splice after it. The bytes in flight
    // at the cut (in the new server-/client-facing send buffers) were
    // already read from the passive sockets.
    EXPECT_EQ(seen[0] + spliced->a_to_b, pr.bytes);
    EXPECT_EQ(seen[1] + spliced->b_to_a, pr.bytes);
    EXPECT_EQ(spliced->end, SpliceEnd::clean);
    EXPECT_GT(spliced->a_to_b, 0u);
    EXPECT_EQ(counter(*n.c, "tcp", "rsts_rcvd"), 0u);
    EXPECT_EQ(counter(*n.s, "tcp", "rsts_rcvd"), 0u);
    EXPECT_EQ(counter(*n.p, "tcp", "cutins"), 1u);
    EXPECT_EQ(counter(*n.p, "tcp", "adopted"), 2u);
    EXPECT_EQ(counter(*n.p, "passive", "cut_ins"), 1u);
    EXPECT_GT(counter(*n.p, "net", "observed_frames"), 0u);
    EXPECT_EQ(counter(*n.p, "tcp", "rsts_sent"), 0u);
    if (pr.vlans)  // everything the inline stack sent (bridged or its own) carried the pair
        for (net::IfIndex i = 1; i <= 2; ++i)
            EXPECT_EQ(static_cast<VlanTagger&>(n.p->net().interface(i)->device()).vlan_stats().tag_mismatch, 0u);
    std::printf("cut-in seed %llu loss %.2f vlans %d: not_ready %llu, observed %llu+%llu, spliced %llu+%llu\n",
                static_cast<unsigned long long>(pr.seed), pr.loss, pr.vlans ? 1 : 0,
                static_cast<unsigned long long>(not_ready), static_cast<unsigned long long>(seen[0]),
                static_cast<unsigned long long>(seen[1]), static_cast<unsigned long long>(spliced->a_to_b),
                static_cast<unsigned long long>(spliced->b_to_a));
}

}  // namespace

TEST(SimCutIn, BulkBothWaysCompletesThroughTheCutIn) { run(Params{}); }

TEST(SimCutIn, OnePercentLossOnBothWires) {
    for (std::uint64_t seed = 1; seed <= 4; ++seed) {
        Params p;
        p.seed = seed;
        p.loss = 0.01;
        p.bytes = 2u << 20;
        p.cut_after = 512u << 10;
        run(p);
    }
}

TEST(SimCutIn, QinQTagsOnBothWires) {
    Params p;
    p.vlans = true;
    p.seed = 7;
    run(p);
}
