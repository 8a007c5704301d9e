// Simulation: passive receive against real transfers. Two stacks exchange
// data both ways over a mem link whose a-side carries a fault injector
// (loss, duplication, reordering, corruption); a tap between stack a and the
// injector copies every frame a sends and receives to a third, passive
// stack, dropping some data frames on the way (capture loss). For every
// seed the passive streams must equal the bytes sent, except for holes
// exactly where the bytes never reached the observer before the receiver's
// ACK (as the test computes from the frames the observer was given), and a
// crafted inconsistent retransmission must be counted without changing the
// stream. The passive stack transmits nothing. UINET_SIM_SEEDS sets the
// number of seeds (default 12).
#include <gtest/gtest.h>

#include <cstdlib>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "host/virtual.hpp"
#include "link/fault.hpp"
#include "link/mem_pipe.hpp"
#include "script_device.hpp"
#include "stack/stack.hpp"
#include "wire/checksum.hpp"
#include "wire/ethernet.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"
#include "wire/vlan.hpp"

using namespace uinet;
using namespace uinet::test;
using wire::TcpFlags;

namespace {

using Frame = std::vector<std::uint8_t>;

// Copies every frame crossing it (both ways) to `mirror`.
class MirrorTap final : public Device {
public:
    MirrorTap(std::unique_ptr<Device> inner, std::function<void(Frame)> mirror)
        : inner_(std::move(inner)), mirror_(std::move(mirror)) {}
    const std::string& name() const override { return inner_->name(); }
    DeviceCaps caps() const override { return inner_->caps(); }
    std::size_t receive(Instant now, std::span<Packet> out) override {
        const std::size_t n = inner_->receive(now, out);
        for (std::size_t i = 0; i < n; ++i) copy(out[i]);
        return n;
    }
    std::size_t transmit(Instant now, std::span<Packet> pkts) override {
        for (const Packet& p : pkts) copy(p);
        return inner_->transmit(now, pkts);
    }
    Instant next_deadline() const override { return inner_->next_deadline(); }
    const DeviceStats& stats() const override { return inner_->stats(); }

private:
    void copy(const Packet& p) {
        Frame f(p.size());
        (void)p.copy_out(0, f);
        mirror_(std::move(f));
    }
    std::unique_ptr<Device> inner_;
    std::function<void(Frame)> mirror_;
};

struct Seg {
    bool ok = false;
    Ipv4Addr src, dst;
    wire::TcpRepr tcp;
    std::size_t hlen = 0, len = 0, l4 = 0;  // l4: offset of the TCP header in the frame
};

Seg parse(const Frame& f) {
    Seg s;
    auto l2 = wire::parse_l2({f.data(), f.size()});
    if (!l2 || l2->ethertype != wire::ethertype::ipv4) return s;
    Bytes ipb{f.data() + l2->header_len, f.size() - l2->header_len};
    auto ip = wire::Ipv4Repr::parse(ipb, true);
    if (!ip || ip->protocol != wire::ip_proto::tcp || ip->is_fragment()) return s;
    Bytes seg = ipb.subspan(ip->header_len, ip->total_len() - ip->header_len);
    auto t = wire::TcpRepr::parse(seg, ip->src, ip->dst, true);
    if (!t) return s;
    s.ok = true;
    s.src = ip->src;
    s.dst = ip->dst;
    s.tcp = *t;
    s.hlen = t->header_len;
    s.len = seg.size() - t->header_len;
    s.l4 = l2->header_len + ip->header_len;
    return s;
}

std::uint8_t byte_at(std::uint64_t i, std::uint64_t salt) { return static_cast<std::uint8_t>((i * 167 + salt * 13) % 251); }

// What the observer must deliver for one direction: -1 = inside a hole.
struct Expect {
    std::vector<bool> seen, hole;
    std::uint64_t frozen = 0;  // everything below was acked by the receiver
    SeqNum base;
    bool synced = false;
};

struct Transfer {
    std::uint64_t seed;
    std::uint64_t n[2];  // bytes a->b (c2s), b->a (s2c)
};

void run_seed(const Transfer& run, std::uint64_t& total_holes) {
    SCOPED_TRACE("seed " + std::to_string(run.seed));
    VirtualClock clock(Instant::from_ns(1'000'000'000));
    SeededRandom ra(run.seed * 3 + 1), rb(run.seed * 3 + 2), rp(run.seed * 3 + 3);
    Host ha{}, hb{}, hp{};
    ha.clock = hb.clock = hp.clock = &clock;
    ha.random = &ra;
    hb.random = &rb;
    hp.random = &rp;
    StackOptions o;
    o.pool.count = 4096;
    auto a = std::make_unique<Stack>(ha, o);
    auto b = std::make_unique<Stack>(hb, o);
    StackOptions po = o;
    po.net.passive = true;
    po.tcp.passive.hole_timeout = Duration::seconds(100000);  // holes only from ACKs and the end
    po.tcp.passive.max_ooo_ranges = 1024;
    Stack p(hp, po);
    auto pdev_own = std::make_unique<ScriptDevice>(p.pool(), 1500, "obs0");
    ScriptDevice& pdev = *pdev_own;
    net::InterfaceConfig pic;
    pic.promiscuous = true;
    pic.announce = false;
    p.add_interface(std::move(pdev_own), pic);
    SocketId pl = *p.tcp().open_passive_listener();

    // What the observer was given, in order, and the capture loss.
    std::vector<Frame> observed;
    Xoshiro256ss loss;
    std::uint64_t sm = run.seed * 977;
    loss.seed(sm);
    bool crafted = false;
    auto mirror = [&](Frame f) {
        const Seg s = parse(f);
        const bool data_only = s.ok && s.len > 0 && !(s.tcp.flags & (TcpFlags::syn | TcpFlags::fin | TcpFlags::rst));
        if (data_only && loss.next() % 100 < 3) return;  // lost by the capture
        pdev.inject({f.data(), f.size()});
        observed.push_back(f);
        if (!crafted && data_only && s.len >= 100 && s.src == Ipv4Addr::of(198, 18, 0, 1)) {
            // A retransmission that disagrees with the first copy.
            crafted = true;
            Frame g = f;
            g[s.l4 + s.hlen + 10] ^= 0x5a;
            g[s.l4 + 16] = g[s.l4 + 17] = 0;
            wire::Checksum c;
            wire::add_pseudo_v4(c, s.src, s.dst, wire::ip_proto::tcp, static_cast<std::uint16_t>(s.hlen + s.len));
            c.add({g.data() + s.l4, s.hlen + s.len});
            wire::set_tcp_checksum({g.data() + s.l4, s.hlen}, c.finish());
            pdev.inject({g.data(), g.size()});
        }
    };
    FaultConfig fc;
    fc.drop = 0.02;
    fc.duplicate = 0.01;
    fc.reorder = 0.02;
    fc.corrupt = 0.005;
    fc.seed = run.seed;
    fc.on_transmit = fc.on_receive = true;
    auto [ea, eb] = make_mem_pipe(a->pool(), b->pool(),
                                  MemLinkConfig{.queue_frames = 1024, .bandwidth_bps = 100'000'000,
                                                .delay = Duration::millis(5)});
    auto faults = std::make_unique<FaultInjector>(std::move(ea), a->pool(), fc);
    auto tap = std::make_unique<MirrorTap>(std::move(faults), mirror);
    net::InterfaceConfig ca, cb;
    ca.mac = *MacAddr::parse("02:00:00:00:00:01");
    ca.ipv4 = {*Ipv4Cidr::parse("198.18.0.1/24")};
    cb.mac = *MacAddr::parse("02:00:00:00:00:02");
    cb.ipv4 = {*Ipv4Cidr::parse("198.18.0.2/24")};
    a->add_interface(std::move(tap), ca);
    b->add_interface(std::move(eb), cb);

    // The transfer: a connects to b; each sends its bytes, then half-closes.
    TcpSockets &ta = a->tcp(), &tb = b->tcp();
    SocketId lst = *tb.open();
    ASSERT_TRUE(tb.bind(lst, {Ipv4Addr::any(), Port(5000)}));
    ASSERT_TRUE(tb.listen(lst));
    SocketId sock[2] = {*ta.open(), {}};
    ASSERT_TRUE(ta.connect(clock.now(), sock[0], {Ipv4Addr::of(198, 18, 0, 2), Port(5000)}));
    TcpSockets* side[2] = {&ta, &tb};
    std::uint64_t sent[2] = {0, 0}, got[2] = {0, 0};
    bool shut[2] = {false, false}, eof[2] = {false, false};
    // The passive side's view: per direction, -1 for hole bytes.
    std::vector<int> pgot[2];
    bool peof[2] = {false, false};
    std::optional<PassivePair> pair;
    std::vector<std::uint8_t> buf(65536);
    auto step_apps = [&] {
        if (!sock[1].valid())
            if (auto c = tb.accept(lst)) sock[1] = *c;
        for (int d = 0; d < 2; ++d) {
            if (!sock[d].valid()) continue;
            while (sent[d] < run.n[d]) {
                const std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), run.n[d] - sent[d]));
                for (std::size_t i = 0; i < k; ++i) buf[i] = byte_at(sent[d] + i, d + run.seed);
                auto r = side[d]->send(clock.now(), sock[d], {buf.data(), k});
                if (!r) break;
                sent[d] += *r;
            }
            if (sent[d] == run.n[d] && !shut[d]) shut[d] = static_cast<bool>(side[d]->shutdown(clock.now(), sock[d], ShutdownHow::write));
            while (auto r = side[d]->recv(clock.now(), sock[d], buf)) {
                if (*r == 0) {
                    eof[d] = true;
                    break;
                }
                for (std::size_t i = 0; i < *r; ++i) ASSERT_EQ(buf[i], byte_at(got[d] + i, (1 - d) + run.seed));
                got[d] += *r;
            }
        }
        if (!pair)
            if (auto pp = p.tcp().accept_passive(pl)) pair = *pp;
        if (pair) {
            for (int d = 0; d < 2; ++d) {
                const SocketId s = d == 0 ? pair->c2s : pair->s2c;
                while (auto r = p.tcp().recv_passive(s, buf)) {
                    if (r->hole_len) {
                        pgot[d].insert(pgot[d].end(), r->hole_len, -1);
                        continue;
                    }
                    if (r->bytes == 0) {
                        peof[d] = true;
                        break;
                    }
                    pgot[d].insert(pgot[d].end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(r->bytes));
                }
            }
        }
    };
    const Instant limit = clock.now() + Duration::seconds(600);
    while (!(eof[0] && eof[1] && peof[0] && peof[1]) && clock.now() < limit) {
        const Instant now = clock.now();
        a->poll(now);
        b->poll(now);
        p.poll(now);
        step_apps();
        Instant t = earliest(earliest(a->next_deadline(), b->next_deadline()), p.next_deadline());
        if (t <= now) t = now + Duration::nanos(1);
        clock.set(earliest(t, limit));
    }
    ASSERT_TRUE(eof[0] && eof[1]) << "the transfer did not finish";
    ASSERT_EQ(got[1], run.n[0]);
    ASSERT_EQ(got[0], run.n[1]);
    ASSERT_TRUE(peof[0] && peof[1]) << "the passive streams did not end";

    // The expected streams, from the observed frames in order.
    Expect ex[2];
    for (int d = 0; d < 2; ++d) {
        ex[d].seen.assign(run.n[d], false);
        ex[d].hole.assign(run.n[d], false);
    }
    const Ipv4Addr client = Ipv4Addr::of(198, 18, 0, 1);
    for (const Frame& f : observed) {
        const Seg s = parse(f);
        if (!s.ok) continue;
        const int d = s.src == client ? 0 : 1;
        Expect& e = ex[d];
        if (s.tcp.flags & TcpFlags::syn) {
            e.base = s.tcp.seq + 1;
            e.synced = true;
        }
        if (e.synced && s.len > 0) {
            const std::int64_t off = (s.tcp.seq + ((s.tcp.flags & TcpFlags::syn) ? 1u : 0u)) - e.base;
            for (std::int64_t i = std::max<std::int64_t>(off, 0); i < off + static_cast<std::int64_t>(s.len); ++i)
                if (static_cast<std::uint64_t>(i) < run.n[d] && static_cast<std::uint64_t>(i) >= e.frozen)
                    e.seen[static_cast<std::size_t>(i)] = true;
        }
        Expect& r = ex[1 - d];
        if ((s.tcp.flags & TcpFlags::ack) && r.synced) {
            const std::int64_t a_off = s.tcp.ack - r.base;
            const std::uint64_t upto = std::min<std::uint64_t>(a_off > 0 ? static_cast<std::uint64_t>(a_off) : 0, run.n[1 - d]);
            for (; r.frozen < upto; ++r.frozen)
                if (!r.seen[r.frozen]) r.hole[r.frozen] = true;
        }
    }
    std::uint64_t holes = 0;
    for (int d = 0; d < 2; ++d) {
        Expect& e = ex[d];
        for (; e.frozen < run.n[d]; ++e.frozen)
            if (!e.seen[e.frozen]) e.hole[e.frozen] = true;
        ASSERT_EQ(pgot[d].size(), run.n[d]) << "direction " << d;
        for (std::uint64_t i = 0; i < run.n[d]; ++i) {
            const int want = e.hole[i] ? -1 : byte_at(i, d + run.seed);
            ASSERT_EQ(pgot[d][i], want) << "direction " << d << " offset " << i;
            holes += e.hole[i] ? 1 : 0;
        }
    }
    auto in = *p.tcp().passive_info(pair->c2s);
    EXPECT_EQ(in.c2s.hole_bytes + in.s2c.hole_bytes, holes);
    total_holes += holes;
    EXPECT_EQ(in.end, tcp::PassiveEnd::fin);
    EXPECT_EQ(in.c2s.inconsistent_segments + in.s2c.inconsistent_segments, crafted ? 1u : 0u);
    EXPECT_TRUE(crafted);
    EXPECT_EQ(pdev.stats().tx_packets, 0u);
    EXPECT_TRUE(pdev.sent.empty());
}

TEST(PassiveSim, StreamsMatchExceptWhereTheObserverMissedBytes) {
    int seeds = 12;
    if (const char* s = std::getenv("UINET_SIM_SEEDS")) seeds = std::max(1, std::atoi(s) / 100);
    std::uint64_t holes = 0;
    for (int i = 1; i <= seeds; ++i) {
        run_seed(Transfer{static_cast<std::uint64_t>(i), {300'000 + static_cast<std::uint64_t>(i) * 1000, 120'000}},
                 holes);
        if (HasFatalFailure()) return;
    }
    std::printf("  %d seeds, %llu hole bytes in all\n", seeds, static_cast<unsigned long long>(holes));
    EXPECT_GT(holes, 0u);  // the capture loss did make holes
}

}  // namespace
