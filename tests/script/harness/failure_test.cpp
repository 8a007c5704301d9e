// The harness itself: scripts that must fail do fail, with the message a
// reader needs (the pattern, each candidate frame decoded, the mismatching
// fields); misuse is a fatal failure; timing rules (too early, within(),
// exact timer instants); unordered expectations and ignored frames.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include "frames.hpp"
#include "script.hpp"

using namespace uinet;
using namespace uinet::test;

namespace {

const Ipv4Addr kPeer = Ipv4Addr::of(198, 18, 0, 1);

// Makes the stack transmit the L4 part of `seg` (an us() spec) as is, so
// the harness can be tested on segments no protocol of today would send.
void stack_sends(Script& s, const PacketSpec& seg, std::uint8_t proto) {
    Decoded d = decode(s.render(seg));
    ASSERT_TRUE(d.ip);
    Bytes l4 = d.ip_bytes().subspan(d.ip->header_len);
    Packet p = s.stack().pool().alloc(192);
    ASSERT_TRUE(p.append(l4));
    net::SendOptions o;
    o.dst = kPeer;
    o.protocol = proto;
    ASSERT_TRUE(s.stack().net().send(s.instant(), o, std::move(p)));
}

void ping(Script& s, std::uint16_t seq) { s.inject(s.peer().echo_request(7, seq).payload_len(20)); }

// The messages of the failures `body` reports.
template <class F>
std::vector<std::string> failures_of(F&& body) {
    ::testing::TestPartResultArray results;
    {
        ::testing::ScopedFakeTestPartResultReporter intercept(
            ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &results);
        body();
    }
    std::vector<std::string> out;
    for (int i = 0; i < results.size(); ++i) out.emplace_back(results.GetTestPartResult(i).message());
    return out;
}

}  // namespace

TEST(ScriptHarness, AWrongFieldFails) {
    EXPECT_NONFATAL_FAILURE(
        {
            Script s;
            s.at(ms(0));
            ping(s, 1);
            s.expect(s.us().echo_reply(7, 2));
        },
        "mismatch icmp.echo_seq: got 1, want 2");
}

TEST(ScriptHarness, TheFailureMessageShowsPatternAndDecodedCandidates) {
    auto msgs = failures_of([] {
        Script s;
        ping(s, 1);
        s.expect(s.us().echo_reply(7, 1).ttl(63));
    });
    ASSERT_EQ(msgs.size(), 1u);
    const std::string& m = msgs[0];
    EXPECT_NE(m.find("the next frame the stack sent does not match"), std::string::npos) << m;
    EXPECT_NE(m.find("02:00:00:00:00:02 > 02:00:00:00:00:01 untagged IPv4 198.18.0.2 > 198.18.0.1 proto=1 ttl=63 ICMP "
                     "type=0 code=0 id=7 seq=1"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("#0 0.000s 02:00:00:00:00:02 > 02:00:00:00:00:01 IPv4 198.18.0.2 > 198.18.0.1 proto=1 id=1 "
                     "ttl=64 len=48 ICMP echo-reply id=7 seq=1 payload=20"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("mismatch ip.ttl: got 64, want 63"), std::string::npos) << m;
    EXPECT_NE(m.find("in #0 0.000s 02:00:00:00:00:01 > 02:00:00:00:00:02"), std::string::npos) << m;
}

TEST(ScriptHarness, AMissingFrameFails) {
    EXPECT_NONFATAL_FAILURE(
        {
            Script s;
            s.at(ms(10)).expect(s.us().udp(7, 4000));
        },
        "no frame was sent");
}

TEST(ScriptHarness, AnUnexpectedFrameAtTheEndFails) {
    EXPECT_NONFATAL_FAILURE(
        {
            Script s;
            ping(s, 1);
        },
        "frames nobody expected");
    Script s;  // ...unless the script allows it
    ping(s, 1);
    s.allow_extra();
}

TEST(ScriptHarness, ExpectNothingFailsWhenSomethingWasSent) {
    EXPECT_NONFATAL_FAILURE(
        {
            Script s;
            ping(s, 1);
            s.at(ms(5)).expect_nothing();
        },
        "expected no frame by 0.005s");
}

TEST(ScriptHarness, OnlyTheFirstFailureIsReported) {
    EXPECT_NONFATAL_FAILURE(
        {
            Script s;
            ping(s, 1);
            ping(s, 2);
            s.expect(s.us().echo_reply(7, 9));  // reported
            s.expect(s.us().echo_reply(7, 8));  // a cascade: not reported
        },  // nor the unmatched frames at the end
        "want 9");
}

TEST(ScriptHarness, AFrameSentEarlierThanExpectedFails) {
    EXPECT_NONFATAL_FAILURE(
        {
            Script s;
            ping(s, 1);
            s.at(ms(10)).expect(s.us().echo_reply(7, 1));
        },
        "frame sent too early, at 0.000s");
    Script s;  // within() tolerates it
    ping(s, 1);
    s.at(ms(10)).expect(s.us().echo_reply(7, 1).within(ms(10)));
}

TEST(ScriptHarness, WithinWaitsForALateFrameUpToItsBound) {
    Script s({.learn_peer = false});
    SocketId u = *s.stack().udp().open();
    const std::uint8_t x[] = {1};
    ASSERT_TRUE(s.stack().udp().sendto(s.instant(), u, x, Endpoint{kPeer, Port(9)}));
    s.at(ms(0)).expect(s.us().arp_request(kPeer));
    // The retry is due at 1 s: expected at 990 ms +- 20 ms, it is waited for.
    s.at(ms(990)).expect(s.us().arp_request(kPeer).within(ms(20)));
    EXPECT_EQ(s.now(), sec(1));
    EXPECT_EQ(s.last().at, sec(1));
    s.at(sec(1)).expect_nothing();  // the same instant again is fine
    EXPECT_NONFATAL_FAILURE(
        {
            Script t({.learn_peer = false});
            SocketId v = *t.stack().udp().open();
            ASSERT_TRUE(t.stack().udp().sendto(t.instant(), v, x, Endpoint{kPeer, Port(9)}));
            t.expect(t.us().arp_request(kPeer));
            t.at(ms(900)).expect(t.us().arp_request(kPeer).within(ms(50)));
        },
        "no frame was sent");
    s.allow_extra();
}

TEST(ScriptHarness, AFrameSentAfterTheExpectedTimeFails) {
    // Two neighbours retried at 1 s; a within() wait consumes the first at
    // 1 s, but the script's time is still 990 ms for the next expectation.
    EXPECT_NONFATAL_FAILURE(
        {
            Script s({.learn_peer = false});
            SocketId u = *s.stack().udp().open();
            const std::uint8_t x[] = {1};
            const Ipv4Addr other = Ipv4Addr::of(198, 18, 0, 3);
            ASSERT_TRUE(s.stack().udp().sendto(s.instant(), u, x, Endpoint{kPeer, Port(9)}));
            ASSERT_TRUE(s.stack().udp().sendto(s.instant(), u, x, Endpoint{other, Port(9)}));
            s.expect_unordered({s.us().arp_request(kPeer), s.us().arp_request(other)});
            const PacketSpec an_arp_request = s.us().eth(wire::ethertype::arp).eth_dst(MacAddr::broadcast());
            s.at(ms(990)).expect(PacketSpec(an_arp_request).within(ms(20)));
            s.expect(an_arp_request);
            s.allow_extra();
        },
        "frame sent too late, at 1.000s");
}

TEST(ScriptHarness, FramesOutOfOrderAreReportedAsSuch) {
    EXPECT_NONFATAL_FAILURE(
        {
            Script s;
            ping(s, 1);
            ping(s, 2);
            s.expect(s.us().echo_reply(7, 2));
            s.allow_extra();
        },
        "frame #1 matches: frames out of order");
    Script s;  // expect_unordered() accepts any order
    ping(s, 1);
    ping(s, 2);
    s.expect_unordered({s.us().echo_reply(7, 2), s.us().echo_reply(7, 1)});
}

TEST(ScriptHarness, UnorderedNeedsAOneToOneMatch) {
    EXPECT_NONFATAL_FAILURE(
        {
            Script s;
            ping(s, 1);
            ping(s, 2);
            s.expect_unordered({s.us().echo_reply(7, 1), s.us().echo_reply(7, 1)});
        },
        "no one-to-one match");
}

TEST(ScriptHarness, IgnoredFramesNeedNoExpectation) {
    Script s({.announce = true});
    s.ignore(s.us().arp_announce());
    ping(s, 1);
    s.expect(s.us().echo_reply(7, 1));
}

TEST(ScriptHarness, AWrongQuoteFails) {
    EXPECT_NONFATAL_FAILURE(
        {
            Script s({.blackhole = false});
            s.inject(s.peer().udp(4000, 9999).payload("a"));
            s.expect(s.us().icmp(3, 3).quotes(s.peer().udp(4000, 9999).payload("b")));
        },
        "mismatch icmp.quote");
}

TEST(ScriptHarness, CapturesAndVariables) {
    Script s;
    ping(s, 1);
    s.expect(s.us().echo_reply(7, 1).ip_id(capture("id")));
    ping(s, 2);
    s.expect(s.us().echo_reply(7, 2).ip_id(var("id") + 1));
    EXPECT_EQ(s.value("id"), s.sent()[0].ip->ident);
    EXPECT_NONFATAL_FAILURE(
        {
            Script t;
            ping(t, 1);
            t.expect(t.us().echo_reply(7, 1).ip_id(capture("id")));
            ping(t, 2);
            t.expect(t.us().echo_reply(7, 2).ip_id(var("id")));
        },
        "mismatch ip.id: got 2, want 1 ($id)");
}

TEST(ScriptHarness, ABadChecksumFromTheStackFails) {
    EXPECT_NONFATAL_FAILURE(
        {
            Script s;
            stack_sends(s, s.us().udp(1, 2).payload("x").bad_checksum(), wire::ip_proto::udp);
            s.expect(s.us().udp(1, 2));
        },
        "does not verify");
    EXPECT_NONFATAL_FAILURE(
        {
            Script s;
            stack_sends(s, s.us().tcp(1, 2).syn().bad_checksum(), wire::ip_proto::tcp);
            s.allow_extra();
        },
        "TCP: bad_checksum");
    EXPECT_NONFATAL_FAILURE(
        {
            Script s;
            stack_sends(s, s.us().udp(1, 2).payload("x").checksum(0), wire::ip_proto::udp);
            s.allow_extra();
        },
        "without a checksum");
    // A fragmented datagram is verified once all its fragments are seen.
    EXPECT_NONFATAL_FAILURE(
        {
            Script s;
            stack_sends(s, s.us().udp(1, 2).payload(pattern(3000)).bad_checksum(), wire::ip_proto::udp);
            s.allow_extra();
        },
        "does not verify once reassembled (frames #0 #1 #2)");
    Script s;  // and a good one passes
    stack_sends(s, s.us().udp(1, 2).payload(pattern(3000)), wire::ip_proto::udp);
    s.expect(s.us().udp(1, 2).frag_off(0).mf());
    s.expect(s.us().ipv4(wire::ip_proto::udp).frag_off(1480));
    s.expect(s.us().ipv4(wire::ip_proto::udp).frag_off(2960).mf(0));
}

TEST(ScriptHarness, AnL4PatternDoesNotMatchALaterFragment) {
    EXPECT_NONFATAL_FAILURE(
        {
            Script s;
            stack_sends(s, s.us().udp(1, 2).payload(pattern(2000)), wire::ip_proto::udp);
            s.expect(s.us().udp(1, 2));
            s.expect(s.us().udp(1, 2));
        },
        "a fragment at offset 1480 (no L4 header)");
}

TEST(ScriptHarness, MisuseIsFatal) {
    EXPECT_FATAL_FAILURE(
        {
            Script s;
            s.at(ms(10));
            s.at(ms(5));
        },
        "time goes backwards");
    EXPECT_FATAL_FAILURE(
        {
            Script s;
            s.inject(s.peer().udp(any, 7));
        },
        "udp.sport: cannot inject a wildcard");
    EXPECT_FATAL_FAILURE(
        {
            Script s;
            s.inject(s.peer().tcp(1, 2).seq(var("nope")));
        },
        "tcp.seq: undefined variable $nope");
    EXPECT_FATAL_FAILURE(
        {
            Script s;
            s.inject(s.peer().echo_request(1, 1));
            s.expect(s.us().echo_reply(1, 1).ip_id(var("nope") + 1));
        },
        "undefined variable $nope+1");
    EXPECT_FATAL_FAILURE(
        {
            Script s;
            (void)s.counter("net.no_such_counter");
        },
        "no counter named net.no_such_counter");
}

TEST(ScriptHarness, TimersFireAtTheirExactInstants) {
    // The reassembly timer (30 s) fires at 30 s exactly even when the script
    // jumps straight to 100 s: the harness polls at every deadline.
    Script s({.blackhole = false});
    auto frags = s.peer().udp(1, 2).payload(pattern(2000)).fragments(1480);
    s.at(ms(3)).inject(frags[0]);
    s.at(sec(100)).expect(s.us().icmp(11, 1).within(sec(100)));
    EXPECT_EQ(s.last().at, sec(30) + ms(3));
}

TEST(ScriptHarness, EventsAreRecordedWithTheirTimes) {
    Script s;
    UdpSockets& udp = s.stack().udp();
    SocketId id = *udp.open();
    ASSERT_TRUE(udp.bind(id, {Ipv4Addr::any(), Port(7)}));
    int calls = 0;
    udp.set_upcall(id, s.recorder("srv", [&](SocketId, std::uint32_t) { ++calls; }));
    s.at(ms(7)).inject(s.peer().udp(1, 7).payload("a"));
    ASSERT_EQ(s.events().size(), 1u);
    EXPECT_EQ(s.events()[0].tag, "srv");
    EXPECT_EQ(s.events()[0].at, ms(7));
    EXPECT_EQ(s.events()[0].socket, id);
    EXPECT_EQ(s.events()[0].events, event::readable);
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(s.take_events().size(), 1u);
    EXPECT_TRUE(s.events().empty());
}
