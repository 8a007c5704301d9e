// Scripts: the SACK sender (RFC 6675). Recovery on the third duplicate ACK
// or as soon as IsLost(HighACK + 1); cwnd = ssthresh and pipe bound what
// is sent; several holes resent within one RTT (NewReno needs one RTT per
// hole); new data during recovery when pipe allows; recovery ends at the
// RecoveryPoint; invalid SACK blocks are ignored; an RTO during recovery
// goes back to SND.UNA. These run the DupThresh rules alone (RACK, TLP,
// PRR and undo off); tests/script/tcp_rack covers those.
#include <gtest/gtest.h>

#include "sack_script.hpp"

using namespace uinet;
using namespace uinet::test;
using namespace uinet::test::tcps;
using namespace uinet::test::sack_script;

namespace {

// RFC 6675 alone: the DupThresh rule and cwnd - pipe (no RACK-TLP, PRR, undo).
ScriptOptions rfc6675() {
    ScriptOptions o;
    o.stack.tcp.rack = o.stack.tcp.tlp = o.stack.tcp.prr = o.stack.tcp.undo = false;
    return o;
}

// A duplicate ACK (for S0) with SACK blocks given in segment numbers.
PacketSpec dup(const Script& s, std::vector<std::pair<std::uint32_t, std::uint32_t>> b, std::uint32_t acked = 0) {
    return sack_ack(s, acked, std::move(b));
}

}  // namespace

TEST(ScriptTcpSackSender, SackedHoleResentOnTheThirdDuplicate) {
    Script s(rfc6675());
    SocketId c = sack_conn(s, 12);
    // S0 is lost; the first two duplicates send new data (RFC 3042).
    s.at(ms(60)).inject(dup(s, {{1, 2}}));
    s.at(ms(60)).expect(seg(s, 10));
    s.at(ms(61)).inject(dup(s, {{1, 3}}));
    s.at(ms(61)).expect(seg(s, 11));
    // The third: S0 again; ssthresh = cwnd = FlightSize / 2 (no inflation).
    s.at(ms(62)).inject(dup(s, {{1, 4}}));
    s.at(ms(62)).expect(seg(s, 0));
    EXPECT_EQ(s.stack().tcp().info(c)->ssthresh, 6 * kMss);
    EXPECT_EQ(s.stack().tcp().info(c)->cwnd, 6 * kMss);
    // pipe = S0 (resent) + S4..S11 = 9 segments > cwnd: nothing more.
    s.at(ms(70)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.sack_recoveries"), 1u);
    EXPECT_EQ(s.counter("tcp.fast_retransmits"), 1u);
}

TEST(ScriptTcpSackSender, IsLostStartsRecoveryBeforeThreeDuplicates) {
    Script s(rfc6675());
    sack_conn(s, 12);
    // One duplicate whose block covers three segments above S0: more than
    // (DupThresh - 1) * SMSS SACKed above it, so S0 is lost (RFC 6675 4).
    s.at(ms(60)).inject(dup(s, {{1, 4}}));
    s.at(ms(60)).expect(seg(s, 0));
    s.at(ms(70)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.sack_recoveries"), 1u);
}

TEST(ScriptTcpSackSender, SeveralHolesResentWithinOneRoundTrip) {
    Script s(rfc6675());
    SocketId c = sack_conn(s, 10);
    // S0 and S3 lost. No new data to send on the first duplicates.
    s.at(ms(60)).inject(dup(s, {{1, 2}}));
    s.at(ms(61)).inject(dup(s, {{1, 3}}));
    s.at(ms(61)).expect_nothing();
    s.at(ms(62)).inject(dup(s, {{4, 5}, {1, 3}}));
    s.at(ms(62)).expect(seg(s, 0));
    EXPECT_EQ(s.stack().tcp().info(c)->cwnd, 5 * kMss);
    s.at(ms(63)).inject(dup(s, {{4, 6}, {1, 3}}));
    s.at(ms(63)).expect_nothing();  // S3 has only 2 segments SACKed above it
    s.at(ms(64)).inject(dup(s, {{4, 7}, {1, 3}}));
    s.at(ms(64)).expect(seg(s, 3));  // lost now, and pipe (4) leaves room: same RTT
    for (std::uint32_t k = 8; k <= 10; ++k) s.at(ms(57 + k)).inject(dup(s, {{4, k}, {1, 3}}));
    s.at(ms(70)).expect_nothing();
    // S0's retransmission arrives: a partial ACK up to S3 (already resent).
    s.at(ms(112)).inject(dup(s, {{4, 10}}, 3));
    s.at(ms(112)).expect_nothing();
    // S3's: everything acknowledged, recovery over.
    s.at(ms(114)).inject(dup(s, {}, 10));
    s.at(ms(114)).expect_nothing();
    EXPECT_EQ(s.stack().tcp().info(c)->unacked, 0u);
    EXPECT_EQ(s.counter("tcp.retransmits"), 2u);
    EXPECT_EQ(s.counter("tcp.fast_retransmits"), 1u);
    EXPECT_EQ(s.counter("tcp.rto_expired"), 0u);
    s.at(sec(5)).expect_nothing();
}

TEST(ScriptTcpSackSender, PipeLimitsSendingThenNewDataGoesAndRecoveryEnds) {
    Script s(rfc6675());
    SocketId c = sack_conn(s, 20);
    s.at(ms(60)).inject(dup(s, {{1, 2}}));
    s.at(ms(60)).expect(seg(s, 10));
    s.at(ms(61)).inject(dup(s, {{1, 3}}));
    s.at(ms(61)).expect(seg(s, 11));
    s.at(ms(62)).inject(dup(s, {{1, 4}}));
    s.at(ms(62)).expect(seg(s, 0));
    EXPECT_EQ(s.stack().tcp().info(c)->cwnd, 6 * kMss);
    // pipe 8, 7, 6 segments: cwnd (6) leaves no room.
    for (std::uint32_t k = 5; k <= 7; ++k) s.at(ms(58 + k)).inject(dup(s, {{1, k}}));
    s.at(ms(65)).expect_nothing();
    // From pipe 5 on, each duplicate lets one new segment go (rule 2).
    for (std::uint32_t k = 8; k <= 11; ++k) {
        s.at(ms(58 + k)).inject(dup(s, {{1, k}}));
        s.at(ms(58 + k)).expect(seg(s, 12 + (k - 8)));
    }
    // The ACK of RecoveryPoint (S12, HighData at the start) ends recovery:
    // cwnd = min(ssthresh, FlightSize + SMSS) = 5 segments; 4 in flight.
    s.at(ms(112)).inject(dup(s, {}, 12));
    s.at(ms(112)).expect(seg(s, 16));
    EXPECT_EQ(s.stack().tcp().info(c)->cwnd, 5 * kMss);
    EXPECT_EQ(s.counter("tcp.retransmits"), 1u);
}

TEST(ScriptTcpSackSender, InvalidBlocksAreIgnored) {
    Script s(rfc6675());
    sack_conn(s, 10);
    // Below SND.UNA, beyond SND.MAX, inverted: had any counted, S0 would
    // be lost at once.
    s.at(ms(60)).inject(in(s).flags(".").seq(theirs(0)).ack(S(0)).win(65535).sack(
        {{var("iss") + (1 - 500), S(4)}, {S(5), S(12)}, {S(9), S(2)}}));
    s.at(ms(60)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.sack_blocks_invalid"), 3u);
    EXPECT_EQ(s.counter("tcp.sack_recoveries"), 0u);
    s.at(ms(61)).inject(dup(s, {{1, 2}}));
    s.at(ms(61)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.sack_recoveries"), 0u);
    s.at(ms(62)).inject(dup(s, {{1, 3}}));
    s.at(ms(62)).expect(seg(s, 0));  // the third duplicate
    EXPECT_EQ(s.counter("tcp.sack_blocks_invalid"), 3u);
}

TEST(ScriptTcpSackSender, TimeoutDuringRecoveryGoesBackToSndUna) {
    Script s(rfc6675());
    SocketId c = sack_conn(s, 10);
    s.at(ms(60)).inject(dup(s, {{1, 4}}));
    s.at(ms(60)).expect(seg(s, 0));
    // Nothing more comes back: the RTO resends S0 with cwnd = 1 SMSS.
    const Duration rto = s.stack().tcp().info(c)->rto;
    s.at(ms(60) + rto).expect(seg(s, 0));
    EXPECT_EQ(s.stack().tcp().info(c)->cwnd, kMss);
    // The peer (which kept S1..S3) acknowledges up to S4: go-back-N goes
    // on from there, 2 segments in slow start.
    s.at(ms(100) + rto).inject(dup(s, {}, 4));
    s.at(ms(100) + rto).expect(seg(s, 4));
    s.at(ms(100) + rto).expect(seg(s, 5));
    EXPECT_EQ(s.counter("tcp.sack_recoveries"), 1u);
    EXPECT_EQ(s.counter("tcp.rto_expired"), 1u);
}
