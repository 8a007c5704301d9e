// Simulation: two stacks on a mem link with 20% loss each way, in virtual
// time, over many seeds. For every seed:
//  * ARP resolves exactly when a request and its reply got through;
//  * exactly the UDP datagrams whose every fragment the injector let pass
//    arrive, byte-exact, and nothing else does;
//  * the same seed replays identically (same trace, same counters).
// UINET_SIM_SEEDS=<n> runs n seeds; UINET_SIM_SEED=<s> replays one.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "frames.hpp"
#include "host/virtual.hpp"
#include "link/fault.hpp"
#include "link/mem_pipe.hpp"
#include "stack/stack.hpp"
#include "wire/ipv4.hpp"

using namespace uinet;

namespace {

const Ipv4Addr kA = Ipv4Addr::of(198, 18, 0, 1), kB = Ipv4Addr::of(198, 18, 0, 2);
constexpr int kDatagrams = 24;  // per seed in the main test

struct Outcome {
    std::string trace;  // every fault decision, in order
    std::string counters;
    bool arp_resolved = false;
    bool reply_passed = false;
    std::uint64_t requests_passed = 0;
    std::uint64_t b_replies_sent = 0;
    std::uint64_t rx_frames_seen = 0;
    std::uint64_t b_tx_frames = 0;
    std::uint64_t a_requests_sent = 0;
    std::set<std::uint32_t> expected;  // datagram ids whose fragments all passed
    std::set<std::uint32_t> received;
    int corrupt = 0;
};

std::uint32_t id_of(const std::uint8_t* p) {
    return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24;
}

Outcome run_seed(std::uint64_t seed, double loss = 0.2, int datagrams = kDatagrams) {
    Outcome o;
    VirtualClock clock;
    clock.set(Instant::from_ns(1'000'000'000));
    SeededRandom ra(seed * 2 + 1), rb(seed * 2 + 2);
    Host ha, hb;
    ha.clock = hb.clock = &clock;
    ha.random = &ra;
    hb.random = &rb;
    StackOptions opt;
    opt.pool.count = 512;
    auto a = std::make_unique<Stack>(ha, opt);
    auto b = std::make_unique<Stack>(hb, opt);

    MemLinkConfig lc;
    lc.delay = Duration::millis(1);
    lc.bandwidth_bps = 100'000'000;
    auto [ea, eb] = make_mem_pipe(a->pool(), b->pool(), lc);
    FaultConfig fc;
    fc.drop = loss;
    fc.seed = seed;
    fc.on_transmit = fc.on_receive = true;
    auto inj = std::make_unique<FaultInjector>(std::move(ea), a->pool(), fc);

    // ident -> (fragments seen, fragments passed, datagram id if known)
    struct Frag {
        int seen = 0, passed = 0;
        bool last_seen = false;
        std::int64_t id = -1;
    };
    std::map<std::uint16_t, Frag> frags;
    inj->set_observer([&](FaultKind k, Bytes f, bool tx) {
        o.trace += std::to_string(static_cast<int>(k)) + (tx ? "t" : "r") + std::to_string(f.size()) + ";";
        bool pass = k == FaultKind::pass;
        auto l2 = wire::parse_l2(f);
        if (!l2) return;
        if (!tx) {
            ++o.rx_frames_seen;
            if (l2->ethertype == wire::ethertype::arp && pass) o.reply_passed = true;
            return;
        }
        if (l2->ethertype == wire::ethertype::arp) {
            if (pass) ++o.requests_passed;
            return;
        }
        auto ip = wire::Ipv4Repr::parse(f.subspan(l2->header_len));
        if (!ip || ip->protocol != wire::ip_proto::udp) return;
        Frag& fr = frags[ip->ident];
        ++fr.seen;
        if (pass) ++fr.passed;
        if (!ip->more_frags) fr.last_seen = true;
        if (ip->frag_offset == 0) fr.id = id_of(f.data() + l2->header_len + ip->header_len + 8);
    });

    net::InterfaceConfig ca, cb;
    ca.mac = *MacAddr::parse("02:00:00:00:00:01");
    ca.ipv4 = {Ipv4Cidr{kA, 24}};
    ca.announce = false;
    cb.mac = *MacAddr::parse("02:00:00:00:00:02");
    cb.ipv4 = {Ipv4Cidr{kB, 24}};
    cb.announce = false;
    a->add_interface(std::move(inj), ca);
    b->add_interface(std::move(eb), cb);

    SocketId rs = *b->udp().open();
    EXPECT_TRUE(b->udp().bind(rs, {Ipv4Addr::any(), Port(9000)}));
    std::vector<std::uint8_t> buf(65536);
    b->udp().set_upcall(rs, [&](SocketId id, std::uint32_t) {
        while (auto r = b->udp().recvfrom(id, buf)) {
            std::uint32_t did = id_of(buf.data());
            o.received.insert(did);
            auto want = test::pattern(r->size - 4, static_cast<std::uint8_t>(did));
            if (!std::equal(want.begin(), want.end(), buf.begin() + 4)) ++o.corrupt;
        }
    });
    SocketId ss = *a->udp().open();
    EXPECT_TRUE(a->udp().connect(ss, {kB, Port(9000)}));

    // One datagram every 400 ms of virtual time (every fourth one is
    // fragmented), then quiet until all timers have run out.
    Instant next_send = clock.now();
    int sent = 0;
    const Instant end = clock.now() + Duration::seconds(20);
    while (clock.now() < end) {
        Instant now = clock.now();
        if (sent < datagrams && now >= next_send) {
            std::size_t size = sent % 4 == 3 ? 3000 : 100 + static_cast<std::size_t>(sent) * 7;
            std::vector<std::uint8_t> msg(4);
            for (int k = 0; k < 4; ++k) msg[static_cast<std::size_t>(k)] = static_cast<std::uint8_t>(sent >> (8 * k));
            auto body = test::pattern(size - 4, static_cast<std::uint8_t>(sent));
            msg.insert(msg.end(), body.begin(), body.end());
            (void)a->udp().sendto(now, ss, msg);
            ++sent;
            next_send = now + Duration::millis(400);
        }
        // Each stack may have sent to the other: ask both for deadlines
        // only after both have run.
        a->poll(now);
        b->poll(now);
        Instant t = earliest(a->next_deadline(), b->next_deadline());
        if (sent < datagrams) t = earliest(t, next_send);
        if (t <= now) t = now + Duration::micros(1);
        if (t.is_never()) break;
        clock.set(earliest(t, end));
    }
    for (const auto& [ident, fr] : frags)
        if (fr.id >= 0 && fr.last_seen && fr.seen == fr.passed) o.expected.insert(static_cast<std::uint32_t>(fr.id));
    o.arp_resolved = a->net().arp_stat_sum(&net::ArpStats::resolved) > 0;
    o.b_replies_sent = b->net().counters().arp_replies_sent;
    o.b_tx_frames = b->net().counters().tx_frames;
    o.a_requests_sent = a->net().counters().arp_requests_sent;
    o.counters = a->counters_json() + b->counters_json();
    if (std::getenv("UINET_SIM_VERBOSE")) std::printf("%s\n", o.counters.c_str());
    return o;
}

std::uint64_t env_u64(const char* name, std::uint64_t dflt) {
    const char* v = std::getenv(name);
    return v ? std::strtoull(v, nullptr, 10) : dflt;
}

}  // namespace

TEST(SimArpUdpLoss, EverySeedDeliversExactlyWhatPassed) {
    std::uint64_t first = env_u64("UINET_SIM_SEED", 1);
    std::uint64_t count = std::getenv("UINET_SIM_SEED") ? 1 : env_u64("UINET_SIM_SEEDS", 1000);
    std::uint64_t resolved_seeds = 0, delivered = 0, lost = 0;
    for (std::uint64_t seed = first; seed < first + count; ++seed) {
        Outcome o = run_seed(seed);
        SCOPED_TRACE("replay with UINET_SIM_SEED=" + std::to_string(seed));
        ASSERT_EQ(o.arp_resolved, o.reply_passed);
        ASSERT_EQ(o.b_replies_sent, o.requests_passed);
        ASSERT_EQ(o.rx_frames_seen, o.b_tx_frames);
        ASSERT_EQ(o.received, o.expected);
        ASSERT_EQ(o.corrupt, 0);
        if (!o.arp_resolved) ASSERT_TRUE(o.received.empty());
        resolved_seeds += o.arp_resolved;
        delivered += o.received.size();
        lost += kDatagrams - o.received.size();
        if (seed % 97 == 0 || count == 1) {
            Outcome again = run_seed(seed);
            ASSERT_EQ(again.trace, o.trace);
            ASSERT_EQ(again.counters, o.counters);
        }
    }
    // The loss is real: across many seeds some datagrams must be lost and
    // most must arrive.
    if (count >= 100) {
        EXPECT_GT(lost, 0u);
        EXPECT_GT(delivered, lost);
        EXPECT_GT(resolved_seeds, count * 9 / 10);
    }
    std::printf("seeds %llu: arp resolved in %llu, datagrams delivered %llu, lost %llu\n",
                static_cast<unsigned long long>(count), static_cast<unsigned long long>(resolved_seeds),
                static_cast<unsigned long long>(delivered), static_cast<unsigned long long>(lost));
}

// One datagram per seed at 50% loss each way: ARP either resolves within
// its budget of three requests or gives up, and both outcomes occur.
TEST(SimArpUdpLoss, ArpResolvesExactlyWhenARequestAndItsReplyPass) {
    std::uint64_t first = env_u64("UINET_SIM_SEED", 1);
    std::uint64_t count = std::getenv("UINET_SIM_SEED") ? 1 : env_u64("UINET_SIM_SEEDS", 1000);
    std::uint64_t resolved = 0, failed = 0;
    for (std::uint64_t seed = first; seed < first + count; ++seed) {
        Outcome o = run_seed(seed, 0.5, 1);
        SCOPED_TRACE("replay with UINET_SIM_SEED=" + std::to_string(seed));
        ASSERT_EQ(o.arp_resolved, o.reply_passed);
        ASSERT_EQ(o.b_replies_sent, o.requests_passed);
        ASSERT_LE(o.a_requests_sent, 3u);
        if (!o.arp_resolved) {
            ASSERT_EQ(o.a_requests_sent, 3u);  // the whole budget was spent
            ASSERT_TRUE(o.received.empty());
        }
        ASSERT_EQ(o.received, o.expected);
        (o.arp_resolved ? resolved : failed)++;
    }
    if (count >= 100) {
        EXPECT_GT(resolved, 0u);
        EXPECT_GT(failed, 0u);
    }
    std::printf("seeds %llu: arp resolved %llu, gave up %llu\n", static_cast<unsigned long long>(count),
                static_cast<unsigned long long>(resolved), static_cast<unsigned long long>(failed));
}
