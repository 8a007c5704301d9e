// Scripts: the retransmission timer (RFC 6298). Exponential backoff (5.5),
// Karn's algorithm (section 3 and the note after 5.7: no sample from a
// retransmitted segment, and the backed-off RTO is kept until a valid
// sample), the loss window and go-back-N after a timeout (RFC 5681 3.1),
// and giving up after max_retransmits (RFC 1122 4.2.3.5, R2) with a RST.
#include <gtest/gtest.h>

#include <cerrno>

#include "tcp_script.hpp"

using namespace uinet;
using namespace uinet::test;
using namespace uinet::test::tcps;
using tcp::TcpState;

namespace {

// An active open whose SYN-ACK comes back after 50 ms without timestamps:
// SRTT 50 ms, RTTVAR 25 ms, RTO = max(200 ms, 50 + 4 * 25) = 200 ms.
SocketId connect_50ms(Script& s) {
    SocketId c = connect_plain(s);
    s.at(ms(50)).inject(ina(s).flags("S.").seq(5000).ack(ours(0)).win(65535).mss(1460));
    s.at(ms(50)).expect(outa(s).flags(".").seq(ours(0)).ack(5001));
    EXPECT_EQ(s.stack().tcp().info(c)->rto, ms(200));
    return c;
}

PacketSpec ack_of(const Script& s, std::int64_t k) { return ina(s).flags(".").seq(5001).ack(ours(k)).win(65535); }

}  // namespace

TEST(ScriptTcpRto, BackoffDoublesAndKarnKeepsItUntilAValidSample) {
    Script s;
    SocketId c = connect_50ms(s);
    s.at(ms(100));
    send_text(s, c, "a");
    s.at(ms(100)).expect(outa(s).flags("P.").seq(ours(0)).payload("a"));
    s.at(ms(299)).expect_nothing();
    s.at(ms(300)).expect(outa(s).flags("P.").seq(ours(0)).payload("a"));  // RTO 200 ms
    s.at(ms(699)).expect_nothing();
    s.at(ms(700)).expect(outa(s).flags("P.").seq(ours(0)).payload("a"));  // 400 ms
    // The ACK may answer either copy: no RTT sample (Karn), and the
    // backed-off RTO (800 ms) stays for the next segment.
    s.at(ms(750)).inject(ack_of(s, 1));
    EXPECT_EQ(s.stack().tcp().info(c)->rtt, ms(50));
    EXPECT_EQ(s.stack().tcp().info(c)->rto, ms(800));
    s.at(ms(800));
    send_text(s, c, "b");
    s.at(ms(800)).expect(outa(s).flags("P.").seq(ours(1)).payload("b"));
    s.at(ms(1599)).expect_nothing();
    s.at(ms(1600)).expect(outa(s).flags("P.").seq(ours(1)).payload("b"));
    s.at(ms(1650)).inject(ack_of(s, 2));
    // A segment sent once and acknowledged gives a sample: the backoff
    // collapses and the RTO is computed afresh (RFC 6298 2.3).
    s.at(ms(1700));
    send_text(s, c, "c");
    s.at(ms(1700)).expect(outa(s).flags("P.").seq(ours(2)).payload("c"));
    s.at(ms(1750)).inject(ack_of(s, 3));
    EXPECT_EQ(s.stack().tcp().info(c)->rto, ms(200));
    s.at(ms(1800));
    send_text(s, c, "d");
    s.at(ms(1800)).expect(outa(s).flags("P.").seq(ours(3)).payload("d"));
    s.at(ms(2000)).expect(outa(s).flags("P.").seq(ours(3)).payload("d"));
    s.at(ms(2010)).inject(ack_of(s, 4));
    s.at(sec(10)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.rto_expired"), 4u);
}

TEST(ScriptTcpRto, ATimeoutResendsOneSegmentThenSlowStartsGoingBackN) {
    Script s;
    SocketId c = connect_50ms(s);
    s.at(ms(100));
    send_bytes(s, c, pattern(3 * 1460));
    s.at(ms(100)).expect(outa(s).flags(".").seq(ours(0)).payload_len(1460));
    s.at(ms(100)).expect(outa(s).flags(".").seq(ours(1460)).payload_len(1460));
    s.at(ms(100)).expect(outa(s).flags("P.").seq(ours(2920)).payload_len(1460));
    // RFC 5681 3.1: loss window of one segment; ssthresh = max(FlightSize / 2, 2 SMSS).
    s.at(ms(300)).expect(outa(s).flags(".").seq(ours(0)).payload_len(1460));
    s.at(ms(300)).expect_nothing();
    EXPECT_EQ(s.stack().tcp().info(c)->cwnd, 1460u);
    EXPECT_EQ(s.stack().tcp().info(c)->ssthresh, 2920u);
    // Its ACK opens cwnd to two segments: the rest goes again.
    s.at(ms(350)).inject(ack_of(s, 1460));
    s.at(ms(350)).expect(outa(s).flags(".").seq(ours(1460)).payload_len(1460));
    s.at(ms(350)).expect(outa(s).flags("P.").seq(ours(2920)).payload_len(1460));
    s.at(ms(400)).inject(ack_of(s, 4380));
    s.at(sec(10)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.retransmits"), 3u);
}

TEST(ScriptTcpRto, GivingUpAfterMaxRetransmitsResets) {
    ScriptOptions o;
    o.stack.tcp.max_retransmits = 4;
    Script s(o);
    SocketId c = connect_50ms(s);
    s.stack().tcp().set_upcall(c, s.recorder("client"));
    s.at(ms(100));
    send_text(s, c, "x");
    s.at(ms(100)).expect(outa(s).flags("P.").seq(ours(0)).payload("x"));
    for (int t : {300, 700, 1500, 3100}) s.at(ms(t)).expect(outa(s).flags("P.").seq(ours(0)).payload("x"));
    s.at(ms(6299)).expect_nothing();
    EXPECT_EQ(state_of(s, c), TcpState::established);
    s.at(ms(6300)).expect(outa(s).flags("R").seq(ours(1)));
    EXPECT_EQ(state_of(s, c), TcpState::closed);
    EXPECT_EQ(s.stack().tcp().error(c), ETIMEDOUT);
    ASSERT_FALSE(s.events().empty());
    EXPECT_TRUE(s.events().back().events & event::error);
    EXPECT_EQ(s.counter("tcp.conn_timeout"), 1u);
}

TEST(ScriptTcpRto, TheRtoIsCappedAt120s) {
    // RFC 6298 2.5: a maximum may be placed on RTO (at least 60 s).
    ScriptOptions o;
    o.stack.tcp.max_retransmits = 12;
    Script s(o);
    SocketId c = connect_50ms(s);
    s.at(ms(100));
    send_text(s, c, "x");
    s.at(ms(100)).expect(outa(s).flags("P.").seq(ours(0)).payload("x"));
    // 0.2, 0.4, ... 102.4 s, then 120 s each.
    std::int64_t t = 100, rto = 200;
    for (int k = 0; k < 12; ++k) {
        t += rto;
        s.at(ms(t)).expect(outa(s).flags("P.").seq(ours(0)).payload("x"));
        rto = std::min<std::int64_t>(rto * 2, 120000);
    }
    EXPECT_EQ(s.stack().tcp().info(c)->rto, sec(120));
    s.at(ms(t + 120000)).expect(outa(s).flags("R").seq(ours(1)));
}
