// Scripts: connection establishment (RFC 9293 3.5, figure 5's opening
// transitions). Passive open LISTEN -> SYN-RECEIVED -> ESTABLISHED, active
// open CLOSED -> SYN-SENT -> ESTABLISHED, simultaneous open (figure 8),
// the SYN and SYN-ACK retransmission schedules (RFC 6298: 1 s, doubling)
// and their give-up counts, the RFC 6298 5.7 three-second RTO after a
// retransmitted handshake, and unacceptable ACKs during the handshake.
#include <gtest/gtest.h>

#include <cerrno>

#include "tcp_script.hpp"

using namespace uinet;
using namespace uinet::test;
using namespace uinet::test::tcps;
using tcp::TcpState;

TEST(ScriptTcpHandshake, PassiveOpenWalksListenSynReceivedEstablished) {
    Script s;
    TcpSockets& tcp = s.stack().tcp();
    SocketId l = listen_on(s);
    tcp.set_upcall(l, s.recorder("listener"));
    EXPECT_EQ(state_of(s, l), TcpState::listen);

    s.at(ms(0)).inject(in(s).syn().seq(kPeerIss).win(65535).mss(1460));
    s.at(ms(0)).expect(out(s).flags("S.").seq(capture("iss")).ack(kPeerIss + 1).win(65535).mss(1460));
    // SYN-RECEIVED: a connection exists, but there is nothing to accept.
    EXPECT_EQ(s.counter("tcp.connections"), 1u);
    EXPECT_FALSE(tcp.accept(l));
    EXPECT_TRUE(s.events().empty());

    s.at(ms(10)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(0)).win(65535));
    s.at(ms(10)).expect_nothing();
    ASSERT_EQ(s.events().size(), 1u);
    EXPECT_EQ(s.events()[0].at, ms(10));
    EXPECT_TRUE(s.events()[0].events & event::readable);
    Endpoint peer;
    auto c = tcp.accept(l, &peer);
    ASSERT_TRUE(c);
    EXPECT_EQ(peer, (Endpoint{kPeerIp, Port(kPeerPort)}));
    EXPECT_EQ(state_of(s, *c), TcpState::established);
    auto info = tcp.info(*c);
    EXPECT_EQ(info->snd_mss, 1460u);
    EXPECT_FALSE(info->timestamps);
    EXPECT_FALSE(info->window_scaling);
    EXPECT_EQ(info->snd_wnd, 65535u);
    EXPECT_EQ(s.counter("tcp.passive_opens"), 1u);
    EXPECT_EQ(s.counter("tcp.established"), 1u);

    // Data both ways: "ping" in, "pong" out with the ACK piggybacked.
    s.at(ms(20)).inject(in(s).flags("P.").seq(theirs(0)).ack(ours(0)).payload("ping"));
    EXPECT_EQ(read_all(s, *c), "ping");
    send_text(s, *c, "pong");
    // The right edge advertised in the SYN-ACK stays put until it can move
    // by a full segment (RFC 9293 3.8.6.2.2): 65535 - 4.
    s.at(ms(20)).expect(out(s).flags("P.").seq(ours(0)).ack(theirs(4)).win(65531).payload("pong"));
    s.at(ms(30)).inject(in(s).flags(".").seq(theirs(4)).ack(ours(4)));
    s.at(ms(500)).expect_nothing();
}

TEST(ScriptTcpHandshake, PassiveOpenNegotiatesScaleTimestampsAndSack) {
    Script s;
    SocketId l = listen_on(s);
    SocketId c = accept_ts(s, l, ms(0), 512);
    auto info = s.stack().tcp().info(c);
    EXPECT_TRUE(info->timestamps);
    EXPECT_TRUE(info->sack);
    EXPECT_TRUE(info->window_scaling);
    EXPECT_EQ(info->snd_wscale, 7);
    EXPECT_EQ(info->rcv_wscale, 3);
    EXPECT_EQ(info->snd_wnd, 512u << 7);  // the peer's ACK is scaled
    EXPECT_EQ(info->snd_mss, 1460u);
    // 100 bytes in; the delayed ACK echoes their TSval and advertises our
    // whole buffer scaled down: (262144 - 100) >> 3.
    s.at(ms(10)).inject(in(s).flags("P.").seq(theirs(0)).ack(ours(0)).win(512).ts(110, tsv(0)).payload_len(100));
    s.at(ms(50)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(100)).win(32755).ts(tsv(50), 110));
}

TEST(ScriptTcpHandshake, SynAckIsRetransmittedAt1_3_7_15_31sThenAbandoned) {
    Script s({.blackhole = false});
    listen_on(s);
    s.at(ms(0)).inject(in(s).syn().seq(kPeerIss).win(65535).mss(1460));
    const auto synack = [&] { return out(s).flags("S.").seq(var("iss")).ack(kPeerIss + 1).win(65535).mss(1460); };
    s.at(ms(0)).expect(out(s).flags("S.").seq(capture("iss")).ack(kPeerIss + 1).win(65535).mss(1460));
    for (int t : {1, 3, 7, 15, 31}) {
        s.at(sec(t) - ms(1)).expect_nothing();
        s.at(sec(t)).expect(synack());
    }
    // Five retransmissions (max_synack_retransmits); the sixth timeout,
    // at 63 s, ends the embryonic connection silently.
    s.at(sec(63) - ms(1));
    EXPECT_EQ(s.counter("tcp.connections"), 1u);
    s.at(sec(63)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.connections"), 0u);
    EXPECT_EQ(s.counter("tcp.conn_timeout"), 1u);
    EXPECT_EQ(s.counter("tcp.retransmits"), 5u);
    // The peer's ACK arrives too late: the listener answers it with a RST.
    s.at(sec(64)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(0)));
    s.at(sec(64)).expect(out(s).flags("R").seq(ours(0)).win(0));
}

TEST(ScriptTcpHandshake, RetransmittedSynDrawsTheSameSynAck) {
    Script s;
    SocketId l = listen_on(s);
    s.at(ms(0)).inject(in(s).syn().seq(kPeerIss).win(65535).mss(1460));
    s.at(ms(0)).expect(out(s).flags("S.").seq(capture("iss")).ack(kPeerIss + 1).win(65535).mss(1460));
    // The SYN-ACK was lost; the peer tries again before our timer fires.
    s.at(ms(500)).inject(in(s).syn().seq(kPeerIss).win(65535).mss(1460));
    s.at(ms(500)).expect(out(s).flags("S.").seq(var("iss")).ack(kPeerIss + 1).win(65535).mss(1460));
    EXPECT_EQ(s.counter("tcp.connections"), 1u);
    EXPECT_EQ(s.counter("tcp.passive_opens"), 1u);
    s.at(sec(1)).expect(out(s).flags("S.").seq(var("iss")).ack(kPeerIss + 1).win(65535).mss(1460));
    s.at(ms(1100)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(0)));
    ASSERT_TRUE(s.stack().tcp().accept(l));
    s.at(sec(10)).expect_nothing();
}

TEST(ScriptTcpHandshake, SynReceivedAnswersABadAckWithReset) {
    // RFC 9293 3.10.7.4 fifth, SYN-RECEIVED: an ACK outside
    // SND.UNA < SEG.ACK =< SND.NXT draws <SEQ=SEG.ACK><CTL=RST>; the
    // connection waits on for the right one.
    Script s;
    SocketId l = listen_on(s);
    s.at(ms(0)).inject(in(s).syn().seq(kPeerIss).win(65535).mss(1460));
    s.at(ms(0)).expect(out(s).flags("S.").seq(capture("iss")).ack(kPeerIss + 1).win(65535).mss(1460));
    s.at(ms(10)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(100)));
    s.at(ms(10)).expect(out(s).flags("R").seq(ours(100)));
    s.at(ms(20)).inject(in(s).flags(".").seq(theirs(0)).ack(var("iss")));  // acks nothing
    s.at(ms(20)).expect(out(s).flags("R").seq(var("iss")));
    EXPECT_FALSE(s.stack().tcp().accept(l));
    s.at(ms(30)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(0)));
    auto c = s.stack().tcp().accept(l);
    ASSERT_TRUE(c);
    EXPECT_EQ(state_of(s, *c), TcpState::established);
}

TEST(ScriptTcpHandshake, ActiveOpenWalksSynSentEstablished) {
    Script s;
    SocketId c = connect_plain(s);
    s.stack().tcp().set_upcall(c, s.recorder("client"));
    EXPECT_EQ(state_of(s, c), TcpState::syn_sent);
    EXPECT_FALSE(s.stack().tcp().send(s.instant(), c, text("early")));  // EAGAIN until connected
    s.at(ms(50)).inject(ina(s).flags("S.").seq(5000).ack(ours(0)).win(65535).mss(1460));
    // Our ACK carries no options: the peer offered none (RFC 7323 2.2, 3.2).
    s.at(ms(50)).expect(outa(s).flags(".").seq(ours(0)).ack(5001).win(65535).no_options());
    EXPECT_EQ(state_of(s, c), TcpState::established);
    ASSERT_EQ(s.events().size(), 1u);
    EXPECT_TRUE(s.events()[0].events & event::writable);
    auto info = s.stack().tcp().info(c);
    EXPECT_EQ(info->rtt, ms(50));  // the SYN's round trip (not retransmitted)
    EXPECT_EQ(info->rto, ms(200)); // 50 + 4 * 25 ms, raised to min_rto
    EXPECT_EQ(s.counter("tcp.active_opens"), 1u);
    send_text(s, c, "GET /");
    s.at(ms(50)).expect(outa(s).flags("P.").seq(ours(0)).ack(5001).win(65535).payload("GET /"));
    // Nothing answers: the first retransmission comes one RTO later.
    s.at(ms(250)).expect(outa(s).flags("P.").seq(ours(0)).ack(5001).payload("GET /"));
    s.at(ms(260)).inject(ina(s).flags(".").seq(5001).ack(ours(5)));
    s.at(sec(5)).expect_nothing();
}

TEST(ScriptTcpHandshake, ActiveOpenAdoptsThePeersOptions) {
    Script s;
    SocketId c = connect_plain(s);
    s.at(ms(50)).inject(ina(s).flags("S.").seq(5000).ack(ours(0)).win(65535).mss(1400).sack_ok().ts(7000, tsv(0))
                            .wscale(5));
    // The whole 256 KiB buffer, scaled by our shift 3.
    s.at(ms(50)).expect(outa(s).flags(".").seq(ours(0)).ack(5001).win(32768).ts(tsv(50), 7000));
    auto info = s.stack().tcp().info(c);
    EXPECT_EQ(info->snd_mss, 1400u);
    EXPECT_EQ(info->snd_wscale, 5);
    EXPECT_EQ(info->rcv_wscale, 3);
    EXPECT_EQ(info->snd_wnd, 65535u);  // a SYN's window is never scaled (RFC 7323 2.2)
    EXPECT_TRUE(info->timestamps);
    EXPECT_TRUE(info->sack);
    // Payload per segment: 1400 - 12 bytes of timestamp option (RFC 6691).
    send_bytes(s, c, pattern(3000));
    s.at(ms(50)).expect(outa(s).flags(".").seq(ours(0)).ack(5001).payload_len(1388));
    s.at(ms(50)).expect(outa(s).flags(".").seq(ours(1388)).ack(5001).payload_len(1388));
    // Nagle (RFC 9293 3.7.4): the short tail waits for the ACK.
    s.at(ms(50)).expect_nothing();
    s.at(ms(60)).inject(ina(s).flags(".").seq(5001).ack(ours(2776)).win(2048).ts(7010, tsv(50)));
    EXPECT_EQ(s.stack().tcp().info(c)->snd_wnd, 2048u << 5);
    s.at(ms(60)).expect(outa(s).flags("P.").seq(ours(2776)).ack(5001).payload_len(224).ts(tsv(60), 7010));
}

TEST(ScriptTcpHandshake, SynIsRetransmittedAt1_3_7_15_31_63sThenTimesOut) {
    Script s;
    SocketId c = connect_plain(s);
    s.stack().tcp().set_upcall(c, s.recorder("client"));
    for (int t : {1, 3, 7, 15, 31, 63}) {
        s.at(sec(t) - ms(1)).expect_nothing();
        // The same SYN, with a fresh TSval.
        s.at(sec(t)).expect(outa(s).flags("S").seq(var("iss")).ack(0).win(65535).mss(1460).sack_ok()
                                .ts(tsv(t * 1000), 0).wscale(3));
    }
    s.at(sec(127) - ms(1));
    EXPECT_EQ(state_of(s, c), TcpState::syn_sent);
    EXPECT_TRUE(s.events().empty());
    // Six retransmissions (max_syn_retransmits): at 127 s connect() fails
    // with ETIMEDOUT, without a segment.
    s.at(sec(127)).expect_nothing();
    EXPECT_EQ(state_of(s, c), TcpState::closed);
    EXPECT_EQ(s.stack().tcp().error(c), ETIMEDOUT);
    ASSERT_EQ(s.events().size(), 1u);
    EXPECT_TRUE(s.events()[0].events & event::error);
    std::vector<std::uint8_t> buf(16);
    auto r = s.stack().tcp().recv(s.instant(), c, buf);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), TcpRecvError::timed_out);
    EXPECT_EQ(s.counter("tcp.conn_timeout"), 1u);
}

TEST(ScriptTcpHandshake, SynSentAnswersABadAckWithReset) {
    // RFC 9293 3.10.7.3: SEG.ACK =< ISS or > SND.NXT draws
    // <SEQ=SEG.ACK><CTL=RST>; the connection attempt goes on.
    Script s;
    SocketId c = connect_plain(s);
    s.at(ms(10)).inject(ina(s).flags("S.").seq(5000).ack(ours(100)).win(65535).mss(1460));
    s.at(ms(10)).expect(outa(s).flags("R").seq(ours(100)).no_options());
    s.at(ms(20)).inject(ina(s).flags(".").seq(5000).ack(var("iss")));  // ACK = ISS is not acceptable either
    s.at(ms(20)).expect(outa(s).flags("R").seq(var("iss")));
    EXPECT_EQ(state_of(s, c), TcpState::syn_sent);
    s.at(ms(30)).inject(ina(s).flags("S.").seq(5000).ack(ours(0)).win(65535).mss(1460));
    s.at(ms(30)).expect(outa(s).flags(".").seq(ours(0)).ack(5001));
    EXPECT_EQ(state_of(s, c), TcpState::established);
}

TEST(ScriptTcpHandshake, SynSentIgnoresAnAckWithoutSyn) {
    // RFC 9293 3.10.7.3 fourth/fifth: neither SYN nor RST: drop.
    Script s;
    SocketId c = connect_plain(s);
    s.at(ms(10)).inject(ina(s).flags(".").seq(5000).ack(ours(0)));
    s.at(ms(10)).expect_nothing();
    EXPECT_EQ(state_of(s, c), TcpState::syn_sent);
    s.at(sec(1)).expect(outa(s).flags("S").seq(var("iss")));
}

TEST(ScriptTcpHandshake, SimultaneousOpenFollowsFigure8) {
    // RFC 9293 figure 8: both sides send a SYN; each answers the other's
    // SYN with a SYN-ACK from SYN-RECEIVED, and each SYN-ACK completes the
    // other side's handshake. No further segment is needed.
    Script s;
    SocketId c = connect_plain(s);
    s.at(ms(10)).inject(ina(s).syn().seq(5000).win(65535).mss(1460));
    s.at(ms(10)).expect(outa(s).flags("S.").seq(var("iss")).ack(5001).win(65535).mss(1460));
    EXPECT_EQ(state_of(s, c), TcpState::syn_received);
    s.at(ms(20)).inject(ina(s).flags("S.").seq(5000).ack(ours(0)).win(65535).mss(1460));
    s.at(ms(20)).expect_nothing();
    EXPECT_EQ(state_of(s, c), TcpState::established);
    EXPECT_EQ(s.counter("tcp.established"), 1u);
    // The connection works, and its retransmission timer is no longer the
    // SYN-ACK's.
    send_text(s, c, "hi");
    s.at(ms(20)).expect(outa(s).flags("P.").seq(ours(0)).ack(5001).payload("hi"));
    s.at(ms(30)).inject(ina(s).flags(".").seq(5001).ack(ours(2)));
    s.at(sec(10)).expect_nothing();
}

TEST(ScriptTcpHandshake, SimultaneousOpenCompletedByAPureAck) {
    Script s;
    SocketId c = connect_plain(s);
    s.at(ms(10)).inject(ina(s).syn().seq(5000).win(65535).mss(1460));
    s.at(ms(10)).expect(outa(s).flags("S.").seq(var("iss")).ack(5001).win(65535).mss(1460));
    // Our SYN-ACK's timer runs on the SYN's schedule: 1 s after the SYN.
    s.at(sec(1)).expect(outa(s).flags("S.").seq(var("iss")).ack(5001).win(65535).mss(1460));
    s.at(ms(1010)).inject(ina(s).flags(".").seq(5001).ack(ours(0)));
    s.at(ms(1010)).expect_nothing();
    EXPECT_EQ(state_of(s, c), TcpState::established);
}

TEST(ScriptTcpHandshake, PassiveRetransmittedSynAckLeavesAThreeSecondRto) {
    // RFC 6298 5.7: the SYN-ACK's timer expired and no RTT sample exists,
    // so data starts with RTO = 3 s, not the 1 s initial value.
    Script s;
    SocketId l = listen_on(s);
    s.at(ms(0)).inject(in(s).syn().seq(kPeerIss).win(65535).mss(1460));
    s.at(ms(0)).expect(out(s).flags("S.").seq(capture("iss")).ack(kPeerIss + 1));
    s.at(sec(1)).expect(out(s).flags("S.").seq(var("iss")).ack(kPeerIss + 1));
    s.at(ms(1100)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(0)));
    auto c = s.stack().tcp().accept(l);
    ASSERT_TRUE(c);
    EXPECT_EQ(s.stack().tcp().info(*c)->rto, sec(3));
    s.at(sec(2));
    send_text(s, *c, "x");
    s.at(sec(2)).expect(out(s).flags("P.").seq(ours(0)).payload("x"));
    s.at(sec(5) - ms(1)).expect_nothing();
    s.at(sec(5)).expect(out(s).flags("P.").seq(ours(0)).payload("x"));
    s.at(sec(5) + ms(10)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(1)));
    s.at(sec(30)).expect_nothing();
}

TEST(ScriptTcpHandshake, ActiveRetransmittedSynLeavesAThreeSecondRto) {
    Script s;
    SocketId c = connect_plain(s);
    s.at(sec(1)).expect(outa(s).flags("S").seq(var("iss")));
    s.at(ms(1050)).inject(ina(s).flags("S.").seq(5000).ack(ours(0)).win(65535).mss(1460));
    s.at(ms(1050)).expect(outa(s).flags(".").seq(ours(0)).ack(5001));
    // Karn: the SYN was retransmitted, so no sample; RFC 6298 5.7: 3 s.
    EXPECT_FALSE(s.stack().tcp().info(c)->rtt > Duration::zero());
    EXPECT_EQ(s.stack().tcp().info(c)->rto, sec(3));
    send_text(s, c, "x");
    s.at(ms(1050)).expect(outa(s).flags("P.").seq(ours(0)).payload("x"));
    s.at(ms(4050)).expect(outa(s).flags("P.").seq(ours(0)).payload("x"));
    s.at(ms(4060)).inject(ina(s).flags(".").seq(5001).ack(ours(1)));
    s.at(sec(30)).expect_nothing();
}

TEST(ScriptTcpHandshake, TheHandshakesAckMayCarryData) {
    Script s;
    SocketId l = listen_on(s);
    s.at(ms(0)).inject(in(s).syn().seq(kPeerIss).win(65535).mss(1460));
    s.at(ms(0)).expect(out(s).flags("S.").seq(capture("iss")).ack(kPeerIss + 1));
    // The third segment brings the request along (its pure ACK was lost,
    // or the peer simply sends at once).
    s.at(ms(10)).inject(in(s).flags("P.").seq(theirs(0)).ack(ours(0)).payload("GET"));
    auto c = s.stack().tcp().accept(l);
    ASSERT_TRUE(c);
    EXPECT_EQ(read_all(s, *c), "GET");
    s.at(ms(50)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(3)));
}

TEST(ScriptTcpHandshake, ClosingInSynSentForgetsTheAttempt) {
    // RFC 9293 3.10.4, CLOSE in SYN-SENT: delete the TCB; nothing is sent.
    Script s;
    SocketId c = connect_plain(s);
    s.at(ms(10));
    s.stack().tcp().close(s.instant(), c);
    EXPECT_EQ(s.counter("tcp.connections"), 0u);
    s.at(sec(5)).expect_nothing();  // no SYN retransmission
    // A late SYN-ACK finds no connection: black-holed, silence.
    s.at(sec(5)).inject(ina(s).flags("S.").seq(5000).ack(ours(0)).win(65535).mss(1460));
    s.at(sec(5)).expect_nothing();
}

TEST(ScriptTcpHandshake, ARstInASimultaneousOpenRefuses) {
    // SYN-RECEIVED reached from an active OPEN: a RST at RCV.NXT refuses
    // the connection (RFC 9293 3.10.7.4 second).
    Script s;
    SocketId c = connect_plain(s);
    s.at(ms(10)).inject(ina(s).syn().seq(5000).win(65535).mss(1460));
    s.at(ms(10)).expect(outa(s).flags("S.").seq(var("iss")).ack(5001));
    s.at(ms(20)).inject(ina(s).flags("R").seq(5001));
    EXPECT_EQ(state_of(s, c), TcpState::closed);
    EXPECT_EQ(s.stack().tcp().error(c), ECONNREFUSED);
    EXPECT_EQ(s.counter("tcp.conn_refused"), 1u);
    s.at(sec(5)).expect_nothing();
}
