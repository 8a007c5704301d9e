// Scripts: SACK-permitted negotiation (RFC 2018 section 2) both ways, and
// the receiver's SACK blocks (RFC 2018 section 4): the block holding the
// latest segment first, then the earlier ones most recent first, 4 blocks
// without timestamps and 3 with them; D-SACK (RFC 2883 section 4) for a
// duplicate, reported once as the first block.
#include <gtest/gtest.h>

#include "tcp_script.hpp"

using namespace uinet;
using namespace uinet::test;
using namespace uinet::test::tcps;

namespace {

// Passive open with a peer offering MSS 1460 and SACK only: our SYN-ACK
// carries exactly MSS and SACK-permitted.
SocketId accept_sack(Script& s, SocketId listener) {
    s.at(ms(0)).inject(in(s).syn().seq(kPeerIss).win(65535).mss(1460).sack_ok());
    s.at(ms(0)).expect(out(s).flags("S.").seq(capture("iss")).ack(kPeerIss + 1).win(65535).mss(1460).sack_ok());
    s.at(ms(0)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(0)).win(65535));
    s.at(ms(0)).expect_nothing();
    auto c = s.stack().tcp().accept(listener);
    EXPECT_TRUE(c);
    return c ? *c : SocketId{};
}

// 100 bytes of the peer's stream at offset k.
PacketSpec seg100(const Script& s, std::uint32_t k) {
    return in(s).flags("P.").seq(theirs(k)).ack(ours(0)).win(65535).payload(pattern(100));
}
PacketSpec seg100ts(const Script& s, std::uint32_t k, std::uint32_t tsval) {
    return in(s).flags("P.").seq(theirs(k)).ack(ours(0)).win(512).ts(tsval, 0).payload(pattern(100));
}
std::pair<Val, Val> blk(std::uint32_t l, std::uint32_t r) { return {theirs(l), theirs(r)}; }

}  // namespace

TEST(ScriptTcpSack, NegotiatedPassivelyWhenThePeerOffersIt) {
    Script s;
    SocketId c = accept_sack(s, listen_on(s));
    EXPECT_TRUE(s.stack().tcp().info(c)->sack);
}

TEST(ScriptTcpSack, NotUsedWhenThePeerDoesNotOfferIt) {
    Script s;
    SocketId c = accept_plain(s, listen_on(s));  // SYN-ACK without SACK-permitted (exact options)
    EXPECT_FALSE(s.stack().tcp().info(c)->sack);
    // Out-of-order data: a duplicate ACK without any SACK option.
    s.at(ms(10)).inject(seg100(s, 100));
    s.at(ms(10)).expect(out(s).flags(".").ack(theirs(0)).no_options());
}

TEST(ScriptTcpSack, NegotiatedActivelyOnlyWhenTheSynAckCarriesIt) {
    for (bool peer_sack : {true, false}) {
        SCOPED_TRACE(peer_sack ? "peer offers SACK" : "peer does not");
        Script s;
        SocketId c = connect_plain(s);  // our SYN offers SACK-permitted (exact options)
        auto synack = ina(s).flags("S.").seq(kPeerIss).ack(ours(0)).win(65535).mss(1460);
        if (peer_sack) synack.sack_ok();
        s.at(ms(5)).inject(synack);
        s.at(ms(5)).expect(outa(s).flags(".").seq(ours(0)).ack(theirs(0)).no_options());
        EXPECT_EQ(s.stack().tcp().info(c)->sack, peer_sack);
        s.at(ms(10)).inject(ina(s).flags("P.").seq(theirs(100)).ack(ours(0)).win(65535).payload(pattern(100)));
        if (peer_sack)
            s.at(ms(10)).expect(outa(s).flags(".").ack(theirs(0)).sack({blk(100, 200)}));
        else
            s.at(ms(10)).expect(outa(s).flags(".").ack(theirs(0)).no_options());
    }
}

TEST(ScriptTcpSack, NotOfferedWhenDisabled) {
    ScriptOptions o;
    o.stack.tcp.sack = false;
    Script s(o);
    // A peer offering SACK gets a SYN-ACK without it.
    listen_on(s);
    s.at(ms(0)).inject(in(s).syn().seq(kPeerIss).win(65535).mss(1460).sack_ok());
    s.at(ms(0)).expect(out(s).flags("S.").ack(kPeerIss + 1).mss(1460));
    // Our own SYN does not offer it either.
    SocketId c = *s.stack().tcp().open();
    ASSERT_TRUE(s.stack().tcp().connect(s.instant(), c, {kPeerIp, Port(80)}));
    s.at(ms(0)).expect(s.us().tcp(any, 80).flags("S").mss(1460).ts(any, 0).wscale(any));
}

TEST(ScriptTcpSack, BlocksMostRecentFirstFourWithoutTimestamps) {
    Script s;
    accept_sack(s, listen_on(s));
    // One hole, then two, three, four: the newest block leads.
    s.at(ms(10)).inject(seg100(s, 100));
    s.at(ms(10)).expect(out(s).flags(".").ack(theirs(0)).sack({blk(100, 200)}));
    s.at(ms(11)).inject(seg100(s, 300));
    s.at(ms(11)).expect(out(s).flags(".").ack(theirs(0)).sack({blk(300, 400), blk(100, 200)}));
    s.at(ms(12)).inject(seg100(s, 500));
    s.at(ms(12)).expect(out(s).flags(".").ack(theirs(0)).sack({blk(500, 600), blk(300, 400), blk(100, 200)}));
    s.at(ms(13)).inject(seg100(s, 700));
    s.at(ms(13)).expect(
        out(s).flags(".").ack(theirs(0)).sack({blk(700, 800), blk(500, 600), blk(300, 400), blk(100, 200)}));
    // A fifth block: the oldest one no longer fits.
    s.at(ms(14)).inject(seg100(s, 900));
    s.at(ms(14)).expect(
        out(s).flags(".").ack(theirs(0)).sack({blk(900, 1000), blk(700, 800), blk(500, 600), blk(300, 400)}));
    // Filling between 100 and 400 merges three blocks; the merged one is newest.
    s.at(ms(15)).inject(seg100(s, 200));
    s.at(ms(15)).expect(
        out(s).flags(".").ack(theirs(0)).sack({blk(100, 400), blk(900, 1000), blk(700, 800), blk(500, 600)}));
    // An older block gets a new segment: it moves to the front.
    s.at(ms(16)).inject(in(s).flags("P.").seq(theirs(600)).ack(ours(0)).win(65535).payload(pattern(50)));
    s.at(ms(16)).expect(
        out(s).flags(".").ack(theirs(0)).sack({blk(500, 650), blk(100, 400), blk(900, 1000), blk(700, 800)}));
    // The first hole fills: RCV.NXT jumps to 400; the rest stay reported.
    s.at(ms(17)).inject(seg100(s, 0));
    s.at(ms(17)).expect(out(s).flags(".").ack(theirs(400)).sack({blk(500, 650), blk(900, 1000), blk(700, 800)}));
    // D-SACK: the segment at 0 again, wholly below RCV.NXT, leads as a
    // duplicate block once, followed by the usual blocks.
    s.at(ms(18)).inject(seg100(s, 0));
    s.at(ms(18)).expect(out(s).flags(".").ack(theirs(400)).sack(
        {blk(0, 100), blk(500, 650), blk(900, 1000), blk(700, 800)}));
    EXPECT_EQ(s.counter("tcp.dsacks_sent"), 1u);
    // Everything filled: no more blocks at all.
    s.at(ms(19)).inject(seg100(s, 400));
    s.at(ms(19)).expect(out(s).flags(".").ack(theirs(650)).sack({blk(900, 1000), blk(700, 800)}));
    s.at(ms(20)).inject(in(s).flags("P.").seq(theirs(650)).ack(ours(0)).win(65535).payload(pattern(50)));
    s.at(ms(20)).expect(out(s).flags(".").ack(theirs(800)).sack({blk(900, 1000)}));
    s.at(ms(21)).inject(seg100(s, 800));
    s.at(ms(21)).expect(out(s).flags(".").ack(theirs(1000)).no_options());
}

TEST(ScriptTcpSack, ThreeBlocksBesideTimestamps) {
    Script s;
    accept_ts(s, listen_on(s));
    s.at(ms(10)).inject(seg100ts(s, 100, 110));
    s.at(ms(10)).expect(out(s).flags(".").ack(theirs(0)).ts(any, 101).sack({blk(100, 200)}));
    s.at(ms(11)).inject(seg100ts(s, 300, 111));
    s.at(ms(11)).expect(out(s).flags(".").ack(theirs(0)).ts(any, 101).sack({blk(300, 400), blk(100, 200)}));
    s.at(ms(12)).inject(seg100ts(s, 500, 112));
    s.at(ms(12)).expect(
        out(s).flags(".").ack(theirs(0)).ts(any, 101).sack({blk(500, 600), blk(300, 400), blk(100, 200)}));
    s.at(ms(13)).inject(seg100ts(s, 700, 113));
    s.at(ms(13)).expect(
        out(s).flags(".").ack(theirs(0)).ts(any, 101).sack({blk(700, 800), blk(500, 600), blk(300, 400)}));
    // D-SACK for a duplicate inside held data (RFC 2883 4.1.2 style):
    // the duplicate first, then the block that holds it.
    s.at(ms(14)).inject(seg100ts(s, 300, 114));
    s.at(ms(14)).expect(
        out(s).flags(".").ack(theirs(0)).ts(any, 101).sack({blk(300, 400), blk(300, 400), blk(700, 800)}));
    EXPECT_EQ(s.counter("tcp.dsacks_sent"), 1u);
}
