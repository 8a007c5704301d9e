// Scripts: ECN (RFC 3168 section 6.1). Negotiation on passive and active
// opens and its refusal, ECT(0) on new data only, the receiver's ECE until
// CWR, and the sender's once-per-window reduction with CWR.
#include <gtest/gtest.h>

#include "tcp_script.hpp"

using namespace uinet;
using namespace uinet::test;
using namespace uinet::test::tcps;
using tcp::EcnMode;

namespace {

constexpr std::uint8_t kNotEct = 0, kEct0 = 2, kCe = 3;

ScriptOptions with_ecn(EcnMode m) {
    ScriptOptions o;
    o.stack.tcp.ecn = m;
    return o;
}

const tcp::TcpCounters& ctr(Script& s) { return s.stack().tcp_layer().counters(); }

// Passive open with an ECN-setup SYN (ECE and CWR, RFC 3168 6.1.1) and no
// other options than MSS 1460; the SYN-ACK must be an ECN-setup SYN-ACK
// (ECE, no CWR) and not ECT.
SocketId accept_ecn(Script& s, SocketId l, std::uint16_t peer_win = 65535) {
    s.at(ms(0)).inject(in(s).syn().ece().cwr().seq(kPeerIss).win(65535).mss(1460));
    s.at(ms(0)).expect(out(s).flags("S.E").tos(kNotEct).seq(capture("iss")).ack(kPeerIss + 1).mss(1460));
    s.at(ms(0)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(0)).win(peer_win));
    auto c = s.stack().tcp().accept(l);
    EXPECT_TRUE(c);
    return c ? *c : SocketId{};
}

}  // namespace

TEST(ScriptTcpEcn, PassiveOpenAcceptsEcnSetupSyn) {
    Script s;  // the default: EcnMode::accept
    SocketId c = accept_ecn(s, listen_on(s));
    EXPECT_EQ(ctr(s).ecn_negotiated, 1u);
    EXPECT_TRUE(s.stack().tcp().info(c)->ecn);
    // New data is ECT(0); the pure ACK of the peer's data is not ECT.
    s.at(ms(10));
    send_text(s, c, "hello");
    s.at(ms(10)).expect(out(s).flags("P.").tos(kEct0).seq(ours(0)).payload("hello"));
    s.at(ms(20)).inject(in(s).flags("P.").tos(kEct0).seq(theirs(0)).ack(ours(5)).payload("x"));
    s.at(ms(60)).expect(out(s).flags(".").tos(kNotEct).seq(ours(5)).ack(theirs(1)));
}

TEST(ScriptTcpEcn, PassiveOpenRefusesWhenOff) {
    Script s(with_ecn(EcnMode::off));
    SocketId l = listen_on(s);
    s.at(ms(0)).inject(in(s).syn().ece().cwr().seq(kPeerIss).win(65535).mss(1460));
    s.at(ms(0)).expect(out(s).flags("S.").tos(kNotEct).seq(capture("iss")).ack(kPeerIss + 1));
    s.at(ms(0)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(0)));
    SocketId c = *s.stack().tcp().accept(l);
    EXPECT_EQ(ctr(s).ecn_negotiated, 0u);
    EXPECT_EQ(ctr(s).ecn_refused, 1u);
    s.at(ms(10));
    send_text(s, c, "hello");
    s.at(ms(10)).expect(out(s).flags("P.").tos(kNotEct).payload("hello"));
}

TEST(ScriptTcpEcn, SynWithEceAloneIsNotEcnSetup) {
    Script s;
    listen_on(s);
    s.at(ms(0)).inject(in(s).syn().ece().seq(kPeerIss).win(65535).mss(1460));
    s.at(ms(0)).expect(out(s).flags("S.").seq(capture("iss")).ack(kPeerIss + 1));
    EXPECT_EQ(ctr(s).ecn_negotiated, 0u);
}

TEST(ScriptTcpEcn, PerSocketOverrideOnTheListener) {
    Script s;
    TcpOptions o;
    o.ecn = EcnMode::off;
    listen_on(s, kPort, 8, o);
    s.at(ms(0)).inject(in(s).syn().ece().cwr().seq(kPeerIss).win(65535).mss(1460));
    s.at(ms(0)).expect(out(s).flags("S.").seq(capture("iss")).ack(kPeerIss + 1));
    EXPECT_EQ(ctr(s).ecn_refused, 1u);
}

// Active open at 0 whose SYN must carry `syn_flags`; the peer answers
// with a SYN-ACK carrying `synack_flags` (ISN 5000, MSS 1460 only).
SocketId connect_ecn(Script& s, std::string_view syn_flags, std::string_view synack_flags) {
    TcpSockets& tcp = s.stack().tcp();
    SocketId c = *tcp.open();
    s.at(ms(0));
    EXPECT_TRUE(tcp.connect(s.instant(), c, {kPeerIp, Port(80)}));
    s.at(ms(0)).expect(s.us().tcp(capture("port"), 80).flags(syn_flags).tos(kNotEct).seq(capture("iss")));
    s.at(ms(5)).inject(ina(s).flags(synack_flags).seq(5000).ack(ours(0)).win(65535).mss(1460));
    s.at(ms(5)).expect(outa(s).flags(".").tos(kNotEct).seq(ours(0)).ack(5001));
    return c;
}

TEST(ScriptTcpEcn, ActiveOpenAsksWhenOn) {
    Script s(with_ecn(EcnMode::on));
    SocketId c = connect_ecn(s, "SEW", "S.E");
    EXPECT_EQ(ctr(s).ecn_negotiated, 1u);
    s.at(ms(10));
    send_text(s, c, "hello");
    s.at(ms(10)).expect(outa(s).flags("P.").tos(kEct0).seq(ours(0)).payload("hello"));
}

TEST(ScriptTcpEcn, ActiveOpenWithoutEceInTheSynAckIsNotEcn) {
    Script s(with_ecn(EcnMode::on));
    // A SYN-ACK with ECE and CWR (a reflected SYN's flags) is not an
    // ECN-setup SYN-ACK either (RFC 3168 6.1.1).
    SocketId c = connect_ecn(s, "SEW", "S.EW");
    EXPECT_EQ(ctr(s).ecn_negotiated, 0u);
    s.at(ms(10));
    send_text(s, c, "hello");
    s.at(ms(10)).expect(outa(s).flags("P.").tos(kNotEct).payload("hello"));
}

TEST(ScriptTcpEcn, ActiveOpenDoesNotAskByDefault) {
    Script s;  // accept: answer, never ask
    SocketId c = connect_ecn(s, "S", "S.E");
    EXPECT_EQ(ctr(s).ecn_negotiated, 0u);
    s.at(ms(10));
    send_text(s, c, "hello");
    s.at(ms(10)).expect(outa(s).flags("P.").tos(kNotEct).payload("hello"));
}

TEST(ScriptTcpEcn, RetransmissionsWindowProbesAndFinsAreNotEct) {
    Script s;
    SocketId c = accept_ecn(s, listen_on(s));
    s.at(ms(10));
    send_text(s, c, "abc");
    s.at(ms(10)).expect(out(s).flags("P.").tos(kEct0).seq(ours(0)).payload("abc"));
    // RFC 3168 6.1.5: the timeout's retransmission is not ECT (RTO 1 s).
    s.at(ms(1010)).expect(out(s).flags("P.").tos(kNotEct).seq(ours(0)).payload("abc"));
    // The peer closes its window: the probe (6.1.6) is not ECT.
    s.at(ms(1020)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(3)).win(0));
    send_text(s, c, "defg");
    // The probe: one byte past the closed window, not ECT, within the
    // persist timer's first interval (one RTO, at most the 2 s backed off).
    s.at(ms(3020)).expect(out(s).flags(".").tos(kNotEct).seq(ours(3)).payload_len(1).within(ms(2000)));
    // A bare FIN is not ECT either.
    s.at(ms(3030)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(4)).win(65535));
    s.at(ms(3030)).expect(out(s).flags("P.").tos(kEct0).seq(ours(4)).payload("efg"));
    s.at(ms(3040)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(7)));
    ASSERT_TRUE(s.stack().tcp().shutdown(s.instant(), c, ShutdownHow::write));
    s.at(ms(3040)).expect(out(s).flags("F.").tos(kNotEct).seq(ours(7)));
}

TEST(ScriptTcpEcn, CeIsEchoedUntilCwr) {
    Script s;
    SocketId c = accept_ecn(s, listen_on(s));
    // RFC 3168 6.1.3: a CE mark: ECE at once, and on every ACK after it.
    s.at(ms(10)).inject(in(s).flags("P.").tos(kCe).seq(theirs(0)).ack(ours(0)).payload("a"));
    s.at(ms(10)).expect(out(s).flags(".E").tos(kNotEct).ack(theirs(1)));
    s.at(ms(20)).inject(in(s).flags("P.").tos(kEct0).seq(theirs(1)).ack(ours(0)).payload("b"));
    s.at(ms(60)).expect(out(s).flags(".E").ack(theirs(2)));  // delayed, still ECE
    // Our data segments carry ECE too (they ACK).
    send_text(s, c, "x");
    s.at(ms(60)).expect(out(s).flags("P.E").tos(kEct0).payload("x"));
    // CWR and CE on one segment: the new mark keeps ECE on (and, as the
    // start of a new train, is ACKed at once).
    s.at(ms(70)).inject(in(s).flags("P.W").tos(kCe).seq(theirs(2)).ack(ours(1)).payload("c"));
    s.at(ms(70)).expect(out(s).flags(".E").ack(theirs(3)));
    // CWR alone stops the echo.
    s.at(ms(120)).inject(in(s).flags("P.W").tos(kEct0).seq(theirs(3)).ack(ours(1)).payload("d"));
    s.at(ms(160)).expect(out(s).flags(".").ack(theirs(4)));
    EXPECT_EQ(ctr(s).ce_rcvd, 2u);
    EXPECT_EQ(ctr(s).cwr_rcvd, 2u);
    EXPECT_EQ(read_all(s, c), "abcd");
}

TEST(ScriptTcpEcn, EceReducesOncePerWindowAndCwrFollows) {
    Script s;
    SocketId c = accept_ecn(s, listen_on(s));
    s.at(ms(10));
    send_bytes(s, c, pattern(40 * 1460));
    for (int i = 0; i < 10; ++i)  // the initial window: 10 segments
        s.at(ms(10)).expect(out(s).flags(".").tos(kEct0).seq(ours(i * 1460)).payload_len(1460));
    s.at(ms(10)).expect_nothing();
    const std::uint32_t cwnd0 = s.stack().tcp().info(c)->cwnd;
    EXPECT_EQ(cwnd0, 14600u);
    // ECE on the ACK of two segments: cwnd = ssthresh = flight / 2; with
    // 8 segments still in flight nothing may go.
    s.at(ms(30)).inject(in(s).flags(".E").seq(theirs(0)).ack(ours(2 * 1460)));
    s.at(ms(30)).expect_nothing();
    EXPECT_EQ(ctr(s).ecn_reductions, 1u);
    EXPECT_EQ(s.stack().tcp().info(c)->ssthresh, 7300u);
    EXPECT_EQ(s.stack().tcp().info(c)->cwnd, 7300u);
    // More ECE from the same window: no second reduction (6.1.2). The
    // window has grown by one segment in congestion avoidance (7300 +
    // 1460, flight 4 segments): two new segments, the first with CWR.
    s.at(ms(31)).inject(in(s).flags(".E").seq(theirs(0)).ack(ours(6 * 1460)));
    s.at(ms(31)).expect(out(s).flags(".W").tos(kEct0).seq(ours(10 * 1460)).payload_len(1460));
    s.at(ms(31)).expect(out(s).flags(".").tos(kEct0).seq(ours(11 * 1460)).payload_len(1460));
    s.at(ms(31)).expect_nothing();
    s.at(ms(32)).inject(in(s).flags(".E").seq(theirs(0)).ack(ours(10 * 1460)));
    EXPECT_EQ(ctr(s).ecn_reductions, 1u);
    EXPECT_EQ(ctr(s).ece_rcvd, 3u);
    EXPECT_EQ(ctr(s).cwr_sent, 1u);
    EXPECT_EQ(s.stack().tcp().info(c)->ssthresh, 7300u);
    s.allow_extra();
    // ECE for data sent after the reduction: the next window reduces again.
    s.at(ms(50)).inject(in(s).flags(".E").seq(theirs(0)).ack(ours(12 * 1460)));
    EXPECT_EQ(ctr(s).ecn_reductions, 2u);
    EXPECT_LT(s.stack().tcp().info(c)->ssthresh, 7300u);
    EXPECT_EQ(ctr(s).retransmits, 0u);
}
