// The harness's TCP builders and matchers, ready for TCP scripts before
// the stack has TCP: every header field and option rendered, decoded and
// matched (and each one able to cause a mismatch); option-set exactness;
// captures with modulo-2^32 arithmetic; raw and malformed options; and TCP
// segments travelling through a real stack (sent by it, checksums verified
// by the harness; injected in fragments and reassembled by it).
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include "frames.hpp"
#include "script.hpp"

using namespace uinet;
using namespace uinet::test;

namespace {

const Ipv4Addr kPeer = Ipv4Addr::of(198, 18, 0, 1);

// The script's two sides, without a stack.
Side peer() {
    ScriptOptions o;
    return Side(o.peer, o.us, o.vlans);
}
Side us() {
    ScriptOptions o;
    return Side(o.us, o.peer, o.vlans);
}

// A SYN with every field and option set to a distinctive value.
PacketSpec full_syn() {
    return peer()
        .tcp(40000, 80)
        .flags("SEW")
        .seq(1000)
        .ack(0)
        .win(65535)
        .urgent(3)
        .reserved(0)
        .mss(1460)
        .wscale(7)
        .sack_ok()
        .ts(100, 0)
        .payload("x");
}

Decoded rendered(const PacketSpec& p, const Vars& vars = {}) {
    auto r = render(p, vars);
    EXPECT_TRUE(r) << (r ? "" : r.error());
    return decode(r ? std::move(*r) : std::vector<std::uint8_t>{});
}

void stack_sends(Script& s, const PacketSpec& seg) {
    Decoded d = decode(s.render(seg));
    ASSERT_TRUE(d.ip);
    Bytes l4 = d.ip_bytes().subspan(d.ip->header_len);
    Packet p = s.stack().pool().alloc(192);
    ASSERT_TRUE(p.append(l4));
    net::SendOptions o;
    o.dst = kPeer;
    o.protocol = wire::ip_proto::tcp;
    ASSERT_TRUE(s.stack().net().send(s.instant(), o, std::move(p)));
}

}  // namespace

TEST(ScriptTcpSpec, EveryFieldIsRenderedAndDecoded) {
    Decoded d = rendered(full_syn());
    EXPECT_TRUE(d.problems.empty()) << d.line();
    ASSERT_EQ(d.l4, PacketSpec::L4::tcp);
    EXPECT_EQ(d.tcp.src_port, Port(40000));
    EXPECT_EQ(d.tcp.dst_port, Port(80));
    EXPECT_EQ(d.tcp.flags, wire::TcpFlags::syn | wire::TcpFlags::ece | wire::TcpFlags::cwr);
    EXPECT_EQ(d.tcp.seq, SeqNum(1000));
    EXPECT_EQ(d.tcp.window, 65535);
    EXPECT_EQ(d.tcp.urgent, 3);
    EXPECT_EQ(d.tcp.options.mss, 1460);
    EXPECT_EQ(d.tcp.options.wscale, 7);
    EXPECT_TRUE(d.tcp.options.sack_permitted);
    EXPECT_EQ(d.tcp.options.timestamps, std::make_pair(100u, 0u));
    EXPECT_EQ(d.tcp.header_len, 20 + 20);  // MSS 4, SACK-permitted+TS 12, NOP+WS 4
    EXPECT_EQ(d.payload_len, 1u);
    EXPECT_EQ(d.line(),
              "#0 0.000s 02:00:00:00:00:01 > 02:00:00:00:00:02 IPv4 198.18.0.1 > 198.18.0.2 proto=6 id=1 ttl=64 len=61 "
              "TCP 40000 > 80 [SEW] seq=1000 ack=0 win=65535 urp=3 hl=40 <mss 1460,sackOK,TS val 100 ecr 0,wscale 7> "
              "payload=1");
    MatchResult m = match(full_syn(), d, {});
    EXPECT_TRUE(m.ok) << ::testing::PrintToString(m.why);
}

TEST(ScriptTcpSpec, EachFieldCanMismatch) {
    const Decoded d = rendered(full_syn());
    struct Case {
        const char* field;
        PacketSpec pattern;
    };
    const std::vector<Case> cases = {
        {"tcp.sport", full_syn().sport(40001)},
        {"tcp.dport", full_syn().dport(81)},
        {"tcp.flags", full_syn().flags("S")},
        {"tcp.seq", full_syn().seq(1001)},
        {"tcp.ack", full_syn().ack(1)},
        {"tcp.win", full_syn().win(65534)},
        {"tcp.urp", full_syn().urgent(0)},
        {"tcp.hl", full_syn().tcp_hl(44)},
        {"tcp.reserved", full_syn().reserved(1)},
        {"tcp.mss", full_syn().mss(536)},
        {"tcp.wscale", full_syn().wscale(8)},
        {"tcp.tsval", full_syn().ts(101, 0)},
        {"tcp.tsecr", full_syn().ts(100, 1)},
        {"tcp.sack", full_syn().sack({{1, 2}})},
        {"tcp.options", full_syn().tcp_option_bytes({2, 4, 5, 0xb4})},
        {"checksum", full_syn().checksum(0)},
        {"payload", full_syn().payload("y")},
        {"payload_len", full_syn().payload_len(2)},
        {"ip.ttl", full_syn().ttl(1)},
        {"ip.tos", full_syn().tos(4)},
        {"ip.id", full_syn().ip_id(2)},
        {"ip.df", full_syn().df()},
        {"ip.len", full_syn().ip_len(60)},
        {"ip.src", full_syn().ip_src(Ipv4Addr::of(1, 2, 3, 4))},
        {"eth.dst", full_syn().eth_dst(MacAddr::broadcast())},
        {"vlans", full_syn().vlan(5)},
        {"ip.proto", peer().udp(40000, 80)},  // then "l4: got TCP, want UDP"
    };
    for (const Case& c : cases) {
        MatchResult m = match(c.pattern, d, {});
        EXPECT_FALSE(m.ok) << c.field;
        ASSERT_FALSE(m.why.empty()) << c.field;
        EXPECT_EQ(m.why[0].rfind(c.field, 0), 0u) << c.field << ": " << m.why[0];
    }
}

TEST(ScriptTcpSpec, NamedOptionsAreAnExactSetUnlessMoreOptions) {
    const Decoded d = rendered(full_syn());
    auto why = [&](const PacketSpec& p) {
        MatchResult m = match(p, d, {});
        return m.ok ? std::string("ok") : m.why[0];
    };
    const PacketSpec base = peer().tcp(40000, 80);
    EXPECT_EQ(why(base), "ok");  // no option named: options not compared
    EXPECT_EQ(why(PacketSpec(base).mss(1460)), "tcp.wscale: got present, want absent");
    EXPECT_EQ(why(PacketSpec(base).mss(1460).more_options()), "ok");
    EXPECT_EQ(why(PacketSpec(base).mss(1460).wscale(7).sack_ok().ts(any, any)), "ok");
    EXPECT_EQ(why(PacketSpec(base).no_options()), "tcp.mss: got present, want absent");
    EXPECT_EQ(why(PacketSpec(base).mss(any).wscale(any).sack_ok().ts(100, 0).sack({{1, 2}})),
              "tcp.sack: got absent, want present");
    const Decoded bare = rendered(peer().tcp(40000, 80).ack_flag());
    EXPECT_EQ(match(PacketSpec(base).no_options(), bare, {}).ok, true);
    EXPECT_EQ(bare.tcp.header_len, 20);
}

TEST(ScriptTcpSpec, SackBlocksRoundTrip) {
    PacketSpec p = peer().tcp(80, 40000).ack_flag().ack(5000).sack({{6000, 7000}, {8000, 9000}, {0xfffffff0u, 16}});
    Decoded d = rendered(p);
    ASSERT_EQ(d.tcp.options.sack_count, 3);
    EXPECT_EQ(d.tcp.options.sack[2].left, SeqNum(0xfffffff0u));
    EXPECT_TRUE(match(p, d, {}).ok);
    MatchResult m = match(peer().tcp(80, 40000).sack({{6000, 7000}, {8000, 9001}, {any, any}}), d, {});
    ASSERT_FALSE(m.ok);
    EXPECT_EQ(m.why[0], "tcp.sack.right: got 9000, want 9001");
    m = match(peer().tcp(80, 40000).sack({{6000, 7000}}), d, {});
    EXPECT_EQ(m.why[0], "tcp.sack blocks: got 3, want 1");
}

TEST(ScriptTcpSpec, CapturesAndVariablesWrapModulo32Bits) {
    const Decoded syn = rendered(peer().tcp(40000, 80).syn().seq(0xffffffffu));
    MatchResult m = match(peer().tcp(40000, 80).seq(capture("iss")), syn, {});
    ASSERT_TRUE(m.ok);
    Vars vars = m.bound;
    EXPECT_EQ(vars.at("iss"), 0xffffffffu);
    const Decoded ack = rendered(peer().tcp(80, 40000).ack_flag().ack(var("iss") + 1), vars);
    EXPECT_EQ(ack.tcp.ack, SeqNum(0));
    EXPECT_TRUE(match(peer().tcp(80, 40000).ack(var("iss") + 1), ack, vars).ok);
    m = match(peer().tcp(80, 40000).ack(var("iss") + 2), ack, vars);
    ASSERT_FALSE(m.ok);
    EXPECT_EQ(m.why[0], "tcp.ack: got 0, want 1 ($iss+2)");
    // A capture in a failed match binds nothing.
    m = match(peer().tcp(1, 2).seq(capture("x")), syn, {});
    EXPECT_FALSE(m.ok);
    EXPECT_TRUE(m.bound.empty());
    // A capture can be used later in the same pattern.
    EXPECT_TRUE(match(peer().tcp(40000, 80).seq(capture("s")).ack(var("s") + 1), rendered(peer().tcp(40000, 80).seq(9).ack(10)), {}).ok);
}

TEST(ScriptTcpSpec, RawAndMalformedOptions) {
    // MSS 1460, NOP, NOP, SACK-permitted: a layout the fixed emitter would not choose.
    PacketSpec p = peer().tcp(1, 2).syn().tcp_option_bytes({2, 4, 0x05, 0xb4, 1, 1, 4, 2});
    Decoded d = rendered(p);
    EXPECT_TRUE(d.problems.empty()) << d.line();
    EXPECT_EQ(d.tcp.options.mss, 1460);
    EXPECT_TRUE(d.tcp.options.sack_permitted);
    EXPECT_TRUE(match(p, d, {}).ok);
    EXPECT_TRUE(match(peer().tcp(1, 2).mss(1460).sack_ok(), d, {}).ok);
    // An option with length 1 is malformed; the header is still 24 bytes.
    Decoded bad = rendered(peer().tcp(1, 2).syn().tcp_option_bytes({2, 1}));
    ASSERT_EQ(bad.problems.size(), 1u);
    EXPECT_EQ(bad.problems[0], "TCP: bad_option");
    // A data offset pointing past the segment.
    Decoded off = rendered(peer().tcp(1, 2).tcp_hl(60));
    ASSERT_EQ(off.problems.size(), 1u);
    EXPECT_EQ(off.problems[0], "TCP: bad_header_len");
    // Checksums: computed unless told otherwise.
    EXPECT_EQ(rendered(peer().tcp(1, 2).bad_checksum()).problems, std::vector<std::string>{"TCP: bad_checksum"});
}

TEST(ScriptTcpSpec, PatternsDescribeThemselves) {
    PacketSpec p = us().tcp(80, 40000)
                       .syn()
                       .ack_flag()
                       .seq(capture("iss"))
                       .ack(1001)
                       .win(any)
                       .mss(1460)
                       .sack_ok()
                       .ts(any, 100)
                       .wscale(7);
    EXPECT_EQ(p.describe(),
              "02:00:00:00:00:02 > 02:00:00:00:00:01 untagged IPv4 198.18.0.2 > 198.18.0.1 proto=6 TCP 80 > 40000 [S.] "
              "seq=?iss ack=1001 win=* <mss 1460,sackOK,TS val * ecr 100,wscale 7>");
}

TEST(ScriptTcpSpec, SegmentsSentByTheStackAreVerifiedAndMatched) {
    Script s;
    stack_sends(s, s.us().tcp(80, 40000).syn().ack_flag().seq(5000).ack(1001).win(29200).mss(1460).sack_ok().ts(12345, 100).wscale(7));
    s.expect(s.us().tcp(80, 40000).flags("S.").seq(capture("iss")).ack(1001).win(any).mss(1460).sack_ok().ts(any, 100).wscale(7));
    EXPECT_EQ(s.value("iss"), 5000u);
    s.at(ms(40));
    stack_sends(s, s.us().tcp(80, 40000).ack_flag().psh().seq(5001).ack(1001).win(229).ts(12385, 101).payload("hello"));
    s.at(ms(40)).expect(s.us().tcp(80, 40000).flags("P.").seq(var("iss") + 1).ack(1001).ts(any, 101).payload("hello"));
    // A segment large enough to be fragmented: the first fragment still matches a TCP pattern.
    stack_sends(s, s.us().tcp(80, 40000).ack_flag().seq(5006).payload(pattern(2000)));
    s.expect(s.us().tcp(80, 40000).seq(var("iss") + 6).frag_off(0).mf());
    s.expect(s.us().ipv4(wire::ip_proto::tcp).frag_off(1480));
}

TEST(ScriptTcpSpec, InjectedTcpFragmentsAreReassembledByTheStack) {
    // The reassembled segment reaches TCP (its checksum covers all three
    // fragments): with no listener on port 80 it draws the RFC 9293
    // 3.10.7.1 reset, <SEQ=SEG.ACK><CTL=RST>.
    Script s({.blackhole = false});
    PacketSpec seg = s.peer().tcp(40000, 80).ack_flag().seq(1).ack(777).payload(pattern(3000)).ip_id(99);
    std::vector<PacketSpec> frags = seg.fragments(1480);
    s.inject({frags[1], frags[2], frags[0]});
    s.expect(s.us().tcp(80, 40000).flags("R").seq(777));
    EXPECT_EQ(s.counter("net.ip_reassembled"), 1u);
    EXPECT_EQ(s.counter("tcp.no_listener"), 1u);
}
