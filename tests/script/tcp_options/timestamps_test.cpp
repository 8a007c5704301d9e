// Scripts: the timestamps option (RFC 7323 3-5). TSval is a millisecond
// clock with a per-connection offset; TS.Recent is taken from a segment
// only when SEG.SEQ =< Last.ACK.sent (4.3), so a delayed ACK echoes the
// earliest unacknowledged segment, out-of-order data echoes the last
// in-order one and the segment that fills a hole is echoed; an
// out-of-window duplicate does not refresh it; PAWS (5.3) drops a segment
// with an older TSval and answers with an ACK, spares RSTs, and expires
// after 24 days of idleness (5.5).
#include <gtest/gtest.h>

#include "tcp_script.hpp"

using namespace uinet;
using namespace uinet::test;
using namespace uinet::test::tcps;
using tcp::TcpState;

namespace {

PacketSpec data(const Script& s, std::uint32_t at, std::size_t n, std::uint32_t tsval) {
    return in(s).flags("P.").seq(theirs(at)).ack(ours(0)).win(512).ts(tsval, 0).payload_len(n);
}

}  // namespace

TEST(ScriptTcpTimestamps, OurTsvalIsAMillisecondClock) {
    Script s;
    SocketId c = accept_ts(s, listen_on(s));
    s.at(ms(10));
    send_text(s, c, "a");
    s.at(ms(10)).expect(out(s).flags("P.").seq(ours(0)).ts(tsv(10), 101).payload("a"));
    s.at(ms(110)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(1)).win(512).ts(102, tsv(10)));
    send_text(s, c, "b");
    s.at(ms(110)).expect(out(s).flags("P.").seq(ours(1)).ts(tsv(110), 102).payload("b"));
    // RTT samples from the echoes: 1 ms (the handshake: 0 counts as 1),
    // then 100 ms: SRTT = 7/8 * 1 + 1/8 * 100 ms (RFC 6298 2.3).
    EXPECT_EQ(s.stack().tcp().info(c)->rtt, ms(100) / 8 + ms(1) * 7 / 8);
}

TEST(ScriptTcpTimestamps, EchoRulesFollowLastAckSent) {
    Script s;
    SocketId c = accept_ts(s, listen_on(s));
    // (A) Two segments before our ACK: it echoes the earlier one.
    s.at(ms(10)).inject(data(s, 0, 100, 200));
    s.at(ms(20)).inject(data(s, 100, 100, 210));
    s.at(ms(20)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(200)).ts(tsv(20), 200));
    // (C) Beyond a hole: the duplicate ACK echoes TS.Recent, not 220.
    s.at(ms(30)).inject(data(s, 300, 100, 220));
    s.at(ms(30)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(200)).ts(tsv(30), 200)
                            .sack({{theirs(300), theirs(400)}}));
    // The segment that fills the hole is the one echoed.
    s.at(ms(40)).inject(data(s, 200, 100, 230));
    s.at(ms(40)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(400)).ts(tsv(40), 230));
    // An old duplicate (outside the window) is rejected before its TSval
    // could count (RFC 7323 5.3, R2 before R3); SACK reports it as a
    // duplicate (D-SACK, RFC 2883).
    s.at(ms(50)).inject(data(s, 0, 100, 240));
    s.at(ms(50)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(400)).ts(tsv(50), 230)
                            .sack({{theirs(0), theirs(100)}}));
    EXPECT_EQ(read_all(s, c).size(), 400u);
}

TEST(ScriptTcpTimestamps, PawsDropsAnOlderTimestampWithAnAck) {
    Script s;
    SocketId c = accept_ts(s, listen_on(s));  // TS.Recent = 101
    s.at(ms(10)).inject(data(s, 0, 100, 50));
    s.at(ms(10)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(0)).ts(tsv(10), 101));
    EXPECT_EQ(read_all(s, c), "");
    EXPECT_EQ(s.counter("tcp.paws_dropped"), 1u);
    // The same data with a current timestamp is taken.
    s.at(ms(20)).inject(data(s, 0, 100, 150));
    s.at(ms(60)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(100)).ts(tsv(60), 150));
    EXPECT_EQ(read_all(s, c).size(), 100u);
    // An equal TSval is not older: accepted.
    s.at(ms(70)).inject(data(s, 100, 100, 150));
    s.at(ms(110)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(200)).ts(tsv(110), 150));
}

TEST(ScriptTcpTimestamps, PawsExpiresAfter24DaysIdle) {
    // RFC 7323 5.5: a TS.Recent older than 24 days is invalid; the next
    // segment is not checked against it.
    ScriptOptions o;
    o.stack.net.arp.reachable = sec(40 * 86400);  // no ARP refresh in the idle month
    Script s(o);
    SocketId c = accept_ts(s, listen_on(s));
    s.at(sec(25 * 86400)).inject(data(s, 0, 100, 60));
    s.at(sec(25 * 86400) + ms(40)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(100)).ts(any, 60));
    EXPECT_EQ(read_all(s, c).size(), 100u);
    EXPECT_EQ(s.counter("tcp.paws_dropped"), 0u);
}

TEST(ScriptTcpTimestamps, TimestampsAreUsedOnlyIfBothSynsCarryThem) {
    // Our SYN offers them (connect_plain); the SYN-ACK does not.
    Script s;
    SocketId c = connect_plain(s);
    s.at(ms(10)).inject(ina(s).flags("S.").seq(5000).ack(ours(0)).win(65535).mss(1460).sack_ok());
    s.at(ms(10)).expect(outa(s).flags(".").seq(ours(0)).ack(5001).no_options());
    EXPECT_FALSE(s.stack().tcp().info(c)->timestamps);
    EXPECT_TRUE(s.stack().tcp().info(c)->sack);
    send_bytes(s, c, pattern(1460));
    s.at(ms(10)).expect(outa(s).seq(ours(0)).payload_len(1460).no_options());  // the whole MSS is payload
}
