// Scripts: the inline position and cut-in (docs/passive.md, "Cut-in").
// One stack with two scripted interfaces (client side, server side) set
// inline: frames of a watched connection are bridged unchanged and
// observed; cut-in turns the flow into two Tcbs whose state (sequence
// numbers, MSS, window scales, SACK, timestamps) continues what was
// observed, bytes in flight included; a gap makes cut-in wait; "reset one
// side" sends the RSTs; a SYN filter may choose to watch (accept_passive);
// an unanswered SYN is taken over after syn_takeover.
#include <gtest/gtest.h>

#include <optional>

#include "frames.hpp"
#include "host/virtual.hpp"
#include "passive_fixture.hpp"
#include "script_device.hpp"
#include "stack/stack.hpp"
#include "wire/ethernet.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"

using namespace uinet;
using namespace uinet::test;
using wire::TcpFlags;

namespace {

const MacAddr kCMac = *MacAddr::parse("02:00:00:00:00:0c");
const MacAddr kSMac = *MacAddr::parse("02:00:00:00:00:05");
const Ipv4Addr kC = Ipv4Addr::of(198, 18, 1, 1), kS = Ipv4Addr::of(198, 18, 1, 2);
constexpr std::uint16_t kCPort = 40000, kSPort = 80;
constexpr std::uint32_t kCIsn = 1000, kSIsn = 0xfffff000;  // the server's numbers wrap

struct Seg {
    bool ok = false;
    MacAddr smac, dmac;
    Ipv4Addr src, dst;
    wire::TcpRepr tcp;
    std::size_t len = 0;
};

Seg parse(const Frame& f) {
    Seg s;
    auto l2 = wire::parse_l2({f.data(), f.size()});
    if (!l2 || l2->ethertype != wire::ethertype::ipv4) return s;
    Bytes ipb{f.data() + l2->header_len, f.size() - l2->header_len};
    auto ip = wire::Ipv4Repr::parse(ipb, true);
    if (!ip || ip->protocol != wire::ip_proto::tcp) return s;
    Bytes seg = ipb.subspan(ip->header_len, ip->total_len() - ip->header_len);
    auto t = wire::TcpRepr::parse(seg, ip->src, ip->dst, true);
    if (!t) return s;
    s.ok = true;
    s.smac = l2->src;
    s.dmac = l2->dst;
    s.src = ip->src;
    s.dst = ip->dst;
    s.tcp = *t;
    s.len = seg.size() - t->header_len;
    return s;
}

// A segment with every option a modern stack sends.
struct Opts {
    std::optional<std::uint16_t> mss;
    std::optional<std::uint8_t> ws;
    bool sack = false;
    std::optional<std::pair<std::uint32_t, std::uint32_t>> ts;
};

Frame seg(bool from_client, std::uint32_t seq, std::uint32_t ack, std::uint8_t flags, const Frame& data,
          std::uint16_t window, const Opts& o = {}) {
    wire::TcpRepr t;
    t.src_port = Port(from_client ? kCPort : kSPort);
    t.dst_port = Port(from_client ? kSPort : kCPort);
    t.seq = SeqNum(seq);
    t.ack = SeqNum(ack);
    t.flags = flags;
    t.window = window;
    t.options.mss = o.mss;
    t.options.wscale = o.ws;
    t.options.sack_permitted = o.sack;
    t.options.timestamps = o.ts;
    Frame s(t.size() + data.size());
    std::copy(data.begin(), data.end(), s.begin() + static_cast<std::ptrdiff_t>(t.size()));
    const Ipv4Addr src = from_client ? kC : kS, dst = from_client ? kS : kC;
    t.emit({s.data(), t.size()}, {data.data(), data.size()}, src, dst);
    return eth(from_client ? kSMac : kCMac, from_client ? kCMac : kSMac, wire::ethertype::ipv4,
               ipv4(src, dst, wire::ip_proto::tcp, s));
}

Frame bytes(std::size_t n, std::uint8_t salt) {
    Frame f(n);
    for (std::size_t i = 0; i < n; ++i) f[i] = static_cast<std::uint8_t>(i * 7 + salt);
    return f;
}

struct Inline {
    VirtualClock clock{Instant::from_ns(1'000'000'000)};
    SeededRandom rnd{7};
    Host host{};
    std::unique_ptr<Stack> stack;
    ScriptDevice* dev[2] = {nullptr, nullptr};  // 0: client side, 1: server side
    std::size_t seen[2] = {0, 0};               // frames of dev[i]->sent already looked at

    explicit Inline(const tcp::PassiveConfig& pc = {}) {
        host.clock = &clock;
        host.random = &rnd;
        StackOptions o;
        o.tcp.passive = pc;
        o.pool.count = 1024;
        stack = std::make_unique<Stack>(host, o);
        net::IfIndex ix[2];
        for (int i = 0; i < 2; ++i) {
            auto d = std::make_unique<ScriptDevice>(stack->pool());
            dev[i] = d.get();
            net::InterfaceConfig ic;
            ic.mac = MacAddr({0x02, 0, 0, 0, 0, static_cast<std::uint8_t>(0xa1 + i)});
            ic.promiscuous = true;
            ic.announce = false;
            ix[i] = stack->add_interface(std::move(d), ic);
        }
        EXPECT_TRUE(stack->set_inline(ix[0], ix[1]));
    }
    TcpSockets& tcp() { return stack->tcp(); }
    Instant now() { return clock.now(); }
    // side 0: the frame arrives from the client.
    void feed(int side, const Frame& f) {
        dev[side]->inject({f.data(), f.size()});
        stack->poll(clock.now());
    }
    void advance(Duration d) {
        const Instant end = clock.now() + d;
        while (true) {
            Instant t = stack->next_deadline();
            if (t > end) break;
            if (t > clock.now()) clock.set(t);
            stack->poll(clock.now());
            if (t == end) break;
        }
        clock.set(end);
        stack->poll(clock.now());
    }
    // Frames sent on side i since the last call.
    std::vector<Frame> take(int i) {
        std::vector<Frame> out(dev[i]->sent.begin() + static_cast<std::ptrdiff_t>(seen[i]), dev[i]->sent.end());
        seen[i] = dev[i]->sent.size();
        return out;
    }
    std::uint64_t counter(const std::string& sec, const std::string& name) const {
        return stack_counter(*stack, sec, name);
    }
    std::string drain(SocketId id) { return drain_socket(tcp(), clock.now(), id); }
};

// The client offers MSS 1400, window scale 7, SACK, timestamps; the server
// MSS 1360, window scale 8, SACK, timestamps.
const Opts kCSyn{1400, 7, true, std::make_pair(5000u, 0u)};
const Opts kSSyn{1360, 8, true, std::make_pair(90000u, 5000u)};
Opts ts(std::uint32_t v, std::uint32_t e) { return Opts{std::nullopt, std::nullopt, false, std::make_pair(v, e)}; }

// A handshake, then the client sends 100 bytes (server ACKs 60) and the
// server 50 (client ACKs all of them). Returns the observed pair.
PassivePair observe_conn(Inline& in, SocketId pl) {
    const Frame syn = seg(true, kCIsn, 0, TcpFlags::syn, {}, 64240, kCSyn);
    in.feed(0, syn);
    auto out = in.take(1);
    EXPECT_EQ(out.size(), 1u);
    if (!out.empty()) {
        EXPECT_EQ(out[0], syn);  // bridged unchanged
    }
    auto pair = in.tcp().accept_passive(pl);
    EXPECT_TRUE(pair);
    in.feed(1, seg(false, kSIsn, kCIsn + 1, TcpFlags::syn | TcpFlags::ack, {}, 65160, kSSyn));
    in.feed(0, seg(true, kCIsn + 1, kSIsn + 1, TcpFlags::ack, {}, 502, ts(5001, 90000)));
    in.feed(0, seg(true, kCIsn + 1, kSIsn + 1, TcpFlags::ack | TcpFlags::psh, bytes(100, 1), 502, ts(5002, 90000)));
    in.feed(1, seg(false, kSIsn + 1, kCIsn + 61, TcpFlags::ack, bytes(50, 2), 250, ts(90010, 5002)));
    in.feed(0, seg(true, kCIsn + 101, kSIsn + 51, TcpFlags::ack, {}, 500, ts(5003, 90010)));
    EXPECT_EQ(in.take(0).size(), 2u);  // the server's SYN-ACK and data, bridged
    EXPECT_EQ(in.take(1).size(), 3u);
    return pair ? *pair : PassivePair{};
}

TEST(CutIn, BridgeAndObserveSendsNothingOfItsOwn) {
    Inline in;
    SocketId pl = *in.tcp().open_passive_listener({Ipv4Addr::any(), Port(kSPort)});
    PassivePair p = observe_conn(in, pl);
    EXPECT_EQ(in.drain(p.c2s), std::string(reinterpret_cast<const char*>(bytes(100, 1).data()), 100));
    EXPECT_EQ(in.drain(p.s2c).size(), 50u);
    // Not a watched flow (another port): bridged, not observed.
    Frame other = seg(true, 7, 9, TcpFlags::ack, bytes(10, 3), 100);
    other[14 + 20 + 2] = 0;
    other[14 + 20 + 3] = 22;  // destination port 22 (the checksum no longer matters to a bridge)
    in.feed(0, other);
    auto out = in.take(1);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0], other);
    // ARP is bridged both ways.
    const Frame a = arp(1, kCMac, kC, MacAddr(), kS);
    in.feed(0, eth(MacAddr::broadcast(), kCMac, wire::ethertype::arp, a));
    EXPECT_EQ(in.take(1).size(), 1u);
    EXPECT_EQ(in.counter("tcp", "segs_out"), 0u);
    EXPECT_EQ(in.counter("net", "ip_tx"), 0u);
    EXPECT_EQ(in.counter("net", "observed_frames"), 6u);
    EXPECT_EQ(in.counter("passive", "segments"), 6u);
}

TEST(CutIn, AdoptedTcbsContinueBothSequenceSpacesAndOptions) {
    tcp::PassiveConfig pc;
    pc.retain_unacked = true;
    Inline in(pc);
    SocketId pl = *in.tcp().open_passive_listener();
    PassivePair p = observe_conn(in, pl);
    EXPECT_EQ(in.drain(p.c2s).size(), 100u);  // read: still kept (the server acked only 60)
    auto r = in.tcp().cut_in(in.now(), p.s2c);
    ASSERT_TRUE(r) << tcp::to_string(r.error());
    // The passive sockets end at the cut point.
    std::uint8_t b[8];
    EXPECT_EQ(*in.tcp().recv(in.now(), p.c2s, b), 0u);
    EXPECT_EQ(in.drain(p.s2c).size(), 50u);
    EXPECT_EQ(in.tcp().passive_info(p.c2s)->end, tcp::PassiveEnd::cut_in);

    auto ti = in.tcp().info(r->to_server);
    ASSERT_TRUE(ti);
    EXPECT_EQ(ti->state, tcp::TcpState::established);
    EXPECT_EQ(ti->snd_mss, 1360u);  // the server's MSS
    EXPECT_EQ(ti->rcv_mss, 1400u);  // the client's
    EXPECT_EQ(ti->snd_wscale, 8u);
    EXPECT_EQ(ti->rcv_wscale, 7u);
    EXPECT_TRUE(ti->timestamps);
    EXPECT_TRUE(ti->sack);
    EXPECT_EQ(ti->snd_wnd, 250u << 8);
    EXPECT_EQ(ti->unacked, 40u);
    auto tc = in.tcp().info(r->to_client);
    ASSERT_TRUE(tc);
    EXPECT_EQ(tc->snd_mss, 1400u);
    EXPECT_EQ(tc->snd_wscale, 7u);
    EXPECT_EQ(tc->rcv_wscale, 8u);
    EXPECT_EQ(tc->snd_wnd, 500u << 7);
    EXPECT_EQ(tc->unacked, 0u);
    EXPECT_EQ(*in.tcp().local_endpoint(r->to_client), (Endpoint{kS, Port(kSPort)}));
    EXPECT_EQ(*in.tcp().remote_endpoint(r->to_client), (Endpoint{kC, Port(kCPort)}));
    EXPECT_EQ(*in.tcp().local_endpoint(r->to_server), (Endpoint{kC, Port(kCPort)}));
    auto l2 = in.tcp().l2info(r->to_server);
    ASSERT_TRUE(l2);
    EXPECT_EQ(l2->local_mac, kCMac);
    EXPECT_EQ(l2->peer_mac, kSMac);
    EXPECT_TRUE(in.take(0).empty());
    EXPECT_TRUE(in.take(1).empty());  // nothing sent at the cut itself

    // The RTO retransmits the server's 40 unacknowledged bytes, as the
    // client, with the client's TSval sequence continued.
    in.advance(Duration::seconds(1));
    auto out = in.take(1);
    ASSERT_EQ(out.size(), 1u);
    Seg s = parse(out[0]);
    ASSERT_TRUE(s.ok);
    EXPECT_EQ(s.smac, kCMac);
    EXPECT_EQ(s.dmac, kSMac);
    EXPECT_EQ(s.src, kC);
    EXPECT_EQ(s.tcp.src_port, Port(kCPort));
    EXPECT_EQ(s.tcp.seq, SeqNum(kCIsn + 61));
    EXPECT_EQ(s.len, 40u);
    EXPECT_EQ(s.tcp.ack, SeqNum(kSIsn + 51));
    ASSERT_TRUE(s.tcp.options.timestamps);
    EXPECT_GT(s.tcp.options.timestamps->first, 5003u);
    EXPECT_LT(s.tcp.options.timestamps->first, 5003u + 2000u);
    EXPECT_EQ(s.tcp.options.timestamps->second, 90010u);  // TS.Recent: the server's latest TSval
    EXPECT_GE(std::uint32_t{s.tcp.window} << 7, 500u << 7);  // the client's window edge is not shrunk (its scale)
    const Frame tail = bytes(100, 1);
    Frame payload(out[0].end() - 40, out[0].end());
    EXPECT_EQ(payload, Frame(tail.begin() + 60, tail.end()));
    EXPECT_TRUE(in.take(0).empty());

    // The server's ACK is the Tcb's now, not bridged; so is the client's data.
    in.feed(1, seg(false, kSIsn + 51, kCIsn + 101, TcpFlags::ack, {}, 250, ts(90500, 5003)));
    EXPECT_TRUE(in.take(0).empty());
    EXPECT_EQ(in.tcp().info(r->to_server)->unacked, 0u);
    in.feed(0, seg(true, kCIsn + 101, kSIsn + 51, TcpFlags::ack | TcpFlags::psh, bytes(10, 4), 500, ts(5100, 90010)));
    EXPECT_TRUE(in.take(1).empty());
    EXPECT_EQ(in.drain(r->to_client).size(), 10u);
    EXPECT_EQ(in.counter("tcp", "cutins"), 1u);
    EXPECT_EQ(in.counter("tcp", "adopted"), 2u);
    EXPECT_EQ(in.counter("tcp", "rsts_sent"), 0u);
}

TEST(CutIn, ObservedHandshakeSeedsEachSidesRtt) {
    Inline in;
    SocketId pl = *in.tcp().open_passive_listener();
    in.feed(0, seg(true, kCIsn, 0, TcpFlags::syn, {}, 64240, kCSyn));
    auto pair = in.tcp().accept_passive(pl);
    ASSERT_TRUE(pair);
    in.advance(Duration::millis(30));  // the server's side: 30 ms
    in.feed(1, seg(false, kSIsn, kCIsn + 1, TcpFlags::syn | TcpFlags::ack, {}, 65160, kSSyn));
    in.advance(Duration::millis(10));  // the client's side: 10 ms
    in.feed(0, seg(true, kCIsn + 1, kSIsn + 1, TcpFlags::ack, {}, 502, ts(5001, 90000)));
    auto r = in.tcp().cut_in(in.now(), pair->c2s);
    ASSERT_TRUE(r);
    EXPECT_EQ(in.tcp().info(r->to_server)->rtt, Duration::millis(30));
    EXPECT_EQ(in.tcp().info(r->to_client)->rtt, Duration::millis(10));
}

TEST(CutIn, WaitsForAGapToFill) {
    tcp::PassiveConfig pc;
    pc.retain_unacked = true;
    Inline in(pc);
    SocketId pl = *in.tcp().open_passive_listener();
    PassivePair p = observe_conn(in, pl);
    // Client bytes 110..119 arrive before 100..109.
    in.feed(0, seg(true, kCIsn + 111, kSIsn + 51, TcpFlags::ack, bytes(10, 5), 500, ts(5004, 90010)));
    auto r = in.tcp().cut_in(in.now(), p.c2s);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), tcp::CutInError::not_ready);
    EXPECT_EQ(in.counter("tcp", "cutin_not_ready"), 1u);
    in.feed(0, seg(true, kCIsn + 101, kSIsn + 51, TcpFlags::ack, bytes(10, 6), 500, ts(5005, 90010)));
    r = in.tcp().cut_in(in.now(), p.c2s);
    ASSERT_TRUE(r);
    EXPECT_EQ(in.tcp().info(r->to_server)->unacked, 60u);  // [60, 120) of the client's stream
}

TEST(CutIn, WithoutRetentionReadBytesInFlightAreNotReady) {
    Inline in;  // retain_unacked off
    SocketId pl = *in.tcp().open_passive_listener();
    PassivePair p = observe_conn(in, pl);
    EXPECT_EQ(in.drain(p.c2s).size(), 100u);  // read, and 40 of them unacknowledged: gone
    auto r = in.tcp().cut_in(in.now(), p.c2s);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), tcp::CutInError::not_ready);
    // Once the server acknowledges them, cut-in can go.
    in.feed(1, seg(false, kSIsn + 51, kCIsn + 101, TcpFlags::ack, {}, 250, ts(90020, 5003)));
    EXPECT_TRUE(in.tcp().cut_in(in.now(), p.c2s));
}

TEST(CutIn, ResetServerSideKeepsTheClientSide) {
    tcp::PassiveConfig pc;
    pc.retain_unacked = true;
    Inline in(pc);
    SocketId pl = *in.tcp().open_passive_listener();
    PassivePair p = observe_conn(in, pl);
    auto r = in.tcp().cut_in(in.now(), p.c2s, tcp::CutInMode::reset_server);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->to_server.valid());
    ASSERT_TRUE(r->to_client.valid());
    EXPECT_EQ(*in.tcp().state(r->to_client), tcp::TcpState::established);
    // RSTs from the client's identity at SND.NXT and SND.UNA (RFC 5961 3.2).
    in.stack->poll(in.now());  // frames leave at the stack's next iteration
    auto out = in.take(1);
    ASSERT_EQ(out.size(), 2u);
    Seg a = parse(out[0]), b = parse(out[1]);
    ASSERT_TRUE(a.ok && b.ok);
    EXPECT_EQ(a.tcp.flags & TcpFlags::rst, TcpFlags::rst);
    EXPECT_EQ(a.src, kC);
    EXPECT_EQ(a.smac, kCMac);
    EXPECT_EQ(a.tcp.seq, SeqNum(kCIsn + 101));
    EXPECT_EQ(b.tcp.seq, SeqNum(kCIsn + 61));
    EXPECT_TRUE(in.take(0).empty());
    EXPECT_EQ(in.counter("tcp", "cutin_resets"), 1u);
    // The client side goes on: its data is ours to read.
    in.feed(0, seg(true, kCIsn + 101, kSIsn + 51, TcpFlags::ack, bytes(5, 7), 500, ts(5100, 90010)));
    EXPECT_EQ(in.drain(r->to_client).size(), 5u);
}

TEST(CutIn, ResetClientSideKeepsTheServerSide) {
    tcp::PassiveConfig pc;
    pc.retain_unacked = true;
    Inline in(pc);
    SocketId pl = *in.tcp().open_passive_listener();
    PassivePair p = observe_conn(in, pl);
    auto r = in.tcp().cut_in(in.now(), p.c2s, tcp::CutInMode::reset_client);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->to_client.valid());
    in.stack->poll(in.now());
    auto out = in.take(0);
    ASSERT_EQ(out.size(), 1u);  // the client acked everything: SND.UNA == SND.NXT, one RST
    Seg a = parse(out[0]);
    ASSERT_TRUE(a.ok);
    EXPECT_EQ(a.src, kS);
    EXPECT_EQ(a.smac, kSMac);
    EXPECT_EQ(a.tcp.seq, SeqNum(kSIsn + 51));
    EXPECT_EQ(*in.tcp().state(r->to_server), tcp::TcpState::established);
}

TEST(CutIn, SynFilterMayChooseToWatch) {
    Inline in;
    TcpSockets& t = in.tcp();
    SocketId l = *t.open();
    ASSERT_TRUE(t.set_promiscuous(l));
    ASSERT_TRUE(t.bind(l, {Ipv4Addr::any(), Port(0)}));
    ASSERT_TRUE(t.listen(l));
    ASSERT_TRUE(t.set_syn_filter(l, [](SocketId, const tcp::SynInfo&) { return tcp::SynVerdict::accept_passive; }));
    const Frame syn = seg(true, kCIsn, 0, TcpFlags::syn, {}, 64240, kCSyn);
    in.feed(0, syn);
    EXPECT_TRUE(in.take(0).empty());  // no SYN-ACK of ours
    auto out = in.take(1);
    ASSERT_EQ(out.size(), 1u);  // passed on to the server, as received
    Seg s = parse(out[0]);
    ASSERT_TRUE(s.ok);
    EXPECT_EQ(s.smac, kCMac);
    EXPECT_EQ(s.dmac, kSMac);
    EXPECT_EQ(s.src, kC);
    EXPECT_EQ(s.dst, kS);
    EXPECT_EQ(s.tcp.seq, SeqNum(kCIsn));
    EXPECT_EQ(s.tcp.flags, TcpFlags::syn);
    EXPECT_EQ(s.tcp.options.mss, kCSyn.mss);
    EXPECT_EQ(s.tcp.options.wscale, kCSyn.ws);
    EXPECT_TRUE(s.tcp.options.sack_permitted);
    EXPECT_EQ(s.tcp.options.timestamps, kCSyn.ts);
    auto pair = t.accept_passive(l);
    ASSERT_TRUE(pair);
    EXPECT_FALSE(t.accept(l));
    // The rest of the connection is watched and bridged.
    in.feed(1, seg(false, kSIsn, kCIsn + 1, TcpFlags::syn | TcpFlags::ack, {}, 65160, kSSyn));
    EXPECT_EQ(in.take(0).size(), 1u);
    in.feed(0, seg(true, kCIsn + 1, kSIsn + 1, TcpFlags::ack, bytes(20, 8), 502, ts(5001, 90000)));
    EXPECT_EQ(in.take(1).size(), 1u);
    EXPECT_EQ(in.drain(pair->c2s).size(), 20u);
    EXPECT_EQ(in.counter("tcp", "synf_accept_passive"), 1u);
    EXPECT_EQ(in.counter("tcp", "passive_opens"), 0u);
}

TEST(CutIn, UnansweredSynIsTakenOver) {
    tcp::PassiveConfig pc;
    pc.syn_takeover = Duration::seconds(1);
    Inline in(pc);
    SocketId pl = *in.tcp().open_passive_listener();
    in.feed(0, seg(true, kCIsn, 0, TcpFlags::syn, {}, 64240, kCSyn));
    EXPECT_EQ(in.take(1).size(), 1u);
    auto pair = in.tcp().accept_passive(pl);
    ASSERT_TRUE(pair);
    in.advance(Duration::millis(999));
    EXPECT_TRUE(in.take(0).empty());
    in.advance(Duration::millis(1));
    auto out = in.take(0);
    ASSERT_EQ(out.size(), 1u);  // our SYN-ACK, as the server
    Seg s = parse(out[0]);
    ASSERT_TRUE(s.ok);
    EXPECT_EQ(s.tcp.flags, TcpFlags::syn | TcpFlags::ack);
    EXPECT_EQ(s.tcp.ack, SeqNum(kCIsn + 1));
    EXPECT_EQ(s.src, kS);
    EXPECT_EQ(s.smac, kSMac);
    EXPECT_EQ(s.dmac, kCMac);
    EXPECT_EQ(in.tcp().passive_info(pair->c2s)->end, tcp::PassiveEnd::taken_over);
    // The server answering late is not passed on: the stack is the server now.
    in.feed(1, seg(false, kSIsn, kCIsn + 1, TcpFlags::syn | TcpFlags::ack, {}, 65160, kSSyn));
    EXPECT_TRUE(in.take(0).empty());
    EXPECT_EQ(in.counter("net", "rx_first_look_dropped"), 1u);
    // The client's ACK completes it with us; it is accepted on the listener.
    in.feed(0, seg(true, kCIsn + 1, s.tcp.seq.raw() + 1, TcpFlags::ack, bytes(3, 9), 502,
                   ts(5100, s.tcp.options.timestamps ? s.tcp.options.timestamps->first : 0)));
    EXPECT_TRUE(in.take(1).empty());
    auto a = in.tcp().accept(pl);
    ASSERT_TRUE(a);
    EXPECT_EQ(in.drain(*a).size(), 3u);
    EXPECT_EQ(in.counter("tcp", "syn_takeovers"), 1u);
    EXPECT_EQ(in.counter("passive", "takeovers"), 1u);
}

TEST(CutIn, ServerThatAnswersIsNotTakenOver) {
    tcp::PassiveConfig pc;
    pc.syn_takeover = Duration::seconds(1);
    Inline in(pc);
    SocketId pl = *in.tcp().open_passive_listener();
    in.feed(0, seg(true, kCIsn, 0, TcpFlags::syn, {}, 64240, kCSyn));
    in.advance(Duration::millis(500));
    in.feed(1, seg(false, kSIsn, kCIsn + 1, TcpFlags::syn | TcpFlags::ack, {}, 65160, kSSyn));
    in.advance(Duration::seconds(3));
    EXPECT_EQ(in.take(0).size(), 1u);  // only the server's SYN-ACK, bridged
    EXPECT_EQ(in.counter("tcp", "syn_takeovers"), 0u);
    EXPECT_EQ(in.counter("tcp", "segs_out"), 0u);
    (void)pl;
}

}  // namespace
