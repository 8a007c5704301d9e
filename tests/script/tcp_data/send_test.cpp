// Scripts: the sending side of data transfer. Nagle's algorithm (RFC 9293
// 3.7.4, RFC 1122 4.2.3.4) and TCP_NODELAY, sender-side silly window
// avoidance (RFC 9293 3.8.6.2.1) and its override timeout, the peer's
// window bounding what is in flight, and the initial window (RFC 6928).
#include <gtest/gtest.h>

#include "tcp_script.hpp"

using namespace uinet;
using namespace uinet::test;
using namespace uinet::test::tcps;
using tcp::TcpState;

TEST(ScriptTcpSend, NagleHoldsASmallSegmentWhileDataIsUnacknowledged) {
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    s.at(ms(10));
    send_text(s, c, "a");
    s.at(ms(10)).expect(out(s).flags("P.").seq(ours(0)).ack(theirs(0)).payload("a"));
    s.at(ms(11));
    send_text(s, c, "b");
    s.at(ms(12));
    send_text(s, c, "c");
    s.at(ms(29)).expect_nothing();
    // The ACK releases "bc" as one segment.
    s.at(ms(30)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(1)));
    s.at(ms(30)).expect(out(s).flags("P.").seq(ours(1)).ack(theirs(0)).payload("bc"));
    s.at(ms(40)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(3)));
    // A full segment goes at once; the short remainder waits for its ACK.
    s.at(ms(100));
    send_bytes(s, c, pattern(1470));
    s.at(ms(100)).expect(out(s).flags(".").seq(ours(3)).payload_len(1460));
    s.at(ms(100)).expect_nothing();
    s.at(ms(120)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(1463)));
    s.at(ms(120)).expect(out(s).flags("P.").seq(ours(1463)).payload_len(10));
}

TEST(ScriptTcpSend, NodelaySendsSmallSegmentsAtOnce) {
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    TcpOptions o;
    o.nodelay = true;
    ASSERT_TRUE(s.stack().tcp().set_options(c, o));
    s.at(ms(10));
    send_text(s, c, "a");
    s.at(ms(10)).expect(out(s).flags("P.").seq(ours(0)).payload("a"));
    s.at(ms(11));
    send_text(s, c, "b");
    s.at(ms(11)).expect(out(s).flags("P.").seq(ours(1)).payload("b"));
    s.at(ms(12));
    send_text(s, c, "c");
    s.at(ms(12)).expect(out(s).flags("P.").seq(ours(2)).payload("c"));
}

TEST(ScriptTcpSend, NodelayIsInheritedFromTheListener) {
    Script s;
    TcpOptions o;
    o.nodelay = true;
    SocketId c = accept_plain(s, listen_on(s, kPort, 8, o));
    s.at(ms(10));
    send_text(s, c, "a");
    send_text(s, c, "b");
    s.at(ms(10)).expect(out(s).flags("P.").seq(ours(0)).payload("a"));
    s.at(ms(10)).expect(out(s).flags("P.").seq(ours(1)).payload("b"));
}

TEST(ScriptTcpSend, SenderSillyWindowAvoidance) {
    // RFC 9293 3.8.6.2.1: send a full segment, or everything with Nagle's
    // blessing, or at least half the largest window the peer offered
    // (here 2000 bytes): never a sliver.
    Script s;
    SocketId c = accept_plain(s, listen_on(s), ms(0), 2000, 65535, 2000);
    s.at(ms(10));
    send_bytes(s, c, pattern(3000));
    s.at(ms(10)).expect(out(s).flags(".").seq(ours(0)).payload_len(1460));
    s.at(ms(10)).expect_nothing();  // 540 usable: less than half of 2000
    s.at(ms(30)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(1460)).win(1200));
    // 1200 usable of 1540 queued: not a full segment, but >= 1000.
    s.at(ms(30)).expect(out(s).flags(".").seq(ours(1460)).payload_len(1200));
    s.at(ms(50)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(2660)).win(2000));
    s.at(ms(50)).expect(out(s).flags("P.").seq(ours(2660)).payload_len(340));
}

TEST(ScriptTcpSend, TheOverrideTimeoutSendsIntoASmallWindow) {
    // RFC 1122 4.2.3.4 (4) / RFC 9293 3.8.6.2.1: when silly window
    // avoidance holds data back and nothing is in flight, an override
    // timeout sends what the window allows (here after one RTO, 1 s).
    Script s;
    SocketId c = accept_plain(s, listen_on(s), ms(0), 500);
    s.at(ms(10));
    send_bytes(s, c, pattern(2000));
    s.at(ms(1009)).expect_nothing();
    s.at(ms(1010)).expect(out(s).flags(".").seq(ours(0)).payload_len(500));
    s.at(ms(1020)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(500)).win(1500));
    s.at(ms(1020)).expect(out(s).flags(".").seq(ours(500)).payload_len(1460));
    s.at(ms(1020)).expect_nothing();  // 40 bytes left: Nagle
}

TEST(ScriptTcpSend, ThePeersWindowBoundsTheFlight) {
    Script s;
    SocketId c = accept_plain(s, listen_on(s), ms(0), 3000);
    s.at(ms(10));
    send_bytes(s, c, pattern(6000));
    s.at(ms(10)).expect(out(s).flags(".").seq(ours(0)).payload_len(1460));
    s.at(ms(10)).expect(out(s).flags(".").seq(ours(1460)).payload_len(1460));
    s.at(ms(10)).expect_nothing();  // 80 usable
    // The window slides with the ACK: 1460 acked, 3000 offered again.
    s.at(ms(20)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(1460)).win(3000));
    s.at(ms(20)).expect(out(s).flags(".").seq(ours(2920)).payload_len(1460));
    s.at(ms(20)).expect_nothing();
    EXPECT_EQ(s.stack().tcp().info(c)->unacked, 2920u);
}

TEST(ScriptTcpSend, TheInitialWindowIsTenSegments) {
    // RFC 6928: IW = min(10 * MSS, max(2 * MSS, 14600)).
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    s.at(ms(10));
    send_bytes(s, c, pattern(20000));
    for (int k = 0; k < 10; ++k) s.at(ms(10)).expect(out(s).flags(".").seq(ours(1460 * k)).payload_len(1460));
    s.at(ms(10)).expect_nothing();
    EXPECT_EQ(s.stack().tcp().info(c)->cwnd, 14600u);
    // Slow start: each ACK of a full segment lets two more go.
    s.at(ms(60)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(1460)));
    s.at(ms(60)).expect(out(s).flags(".").seq(ours(14600)).payload_len(1460));
    s.at(ms(60)).expect(out(s).flags(".").seq(ours(16060)).payload_len(1460));
    s.at(ms(60)).expect_nothing();
    EXPECT_EQ(s.stack().tcp().info(c)->cwnd, 16060u);
}
