// Scripts: loss recovery driven by duplicate ACKs. Limited transmit on the
// first two duplicates (RFC 3042), fast retransmit on the third (RFC 5681
// 3.2), NewReno's partial ACKs resending the next hole and the full ACK
// ending recovery (RFC 6582 3.2), what is not a duplicate ACK (RFC 5681
// section 2), and no second recovery for losses of the same window.
#include <gtest/gtest.h>

#include "tcp_script.hpp"

using namespace uinet;
using namespace uinet::test;
using namespace uinet::test::tcps;
using tcp::TcpState;

namespace {

constexpr std::uint32_t kMss = 1460;

PacketSpec dupack(const Script& s, std::uint32_t acked) {
    return in(s).flags(".").seq(theirs(0)).ack(ours(acked)).win(65535);
}

// A connection with 12 full segments queued: the initial window (10
// segments, RFC 6928) goes out at 10 ms; S10 and S11 wait.
SocketId twelve_segments(Script& s) {
    SocketId c = accept_plain(s, listen_on(s));
    s.at(ms(10));
    send_bytes(s, c, pattern(12 * kMss));
    for (std::uint32_t k = 0; k < 10; ++k) s.at(ms(10)).expect(out(s).flags(".").seq(ours(k * kMss)).payload_len(kMss));
    s.at(ms(10)).expect_nothing();
    return c;
}

}  // namespace

TEST(ScriptTcpRecovery, LimitedTransmitFastRetransmitAndNewRenoPartialAcks) {
    Script s;
    SocketId c = twelve_segments(s);
    // S0 and S5 are lost. S1..S4 and S6..S9 each draw a duplicate ACK.
    // The first two send new segments (limited transmit).
    s.at(ms(60)).inject(dupack(s, 0));
    s.at(ms(60)).expect(out(s).flags(".").seq(ours(10 * kMss)).payload_len(kMss));
    s.at(ms(61)).inject(dupack(s, 0));
    s.at(ms(61)).expect(out(s).flags("P.").seq(ours(11 * kMss)).payload_len(kMss));
    // The third: fast retransmit of S0; ssthresh = 12 * 1460 / 2.
    s.at(ms(62)).inject(dupack(s, 0));
    s.at(ms(62)).expect(out(s).flags(".").seq(ours(0)).payload_len(kMss));
    EXPECT_EQ(s.stack().tcp().info(c)->ssthresh, 6 * kMss);
    EXPECT_EQ(s.stack().tcp().info(c)->cwnd, 9 * kMss);  // ssthresh + 3 SMSS
    // More duplicates inflate the window; there is no new data to send.
    for (int k = 0; k < 7; ++k) s.at(ms(63 + k)).inject(dupack(s, 0));
    s.at(ms(70)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.dup_acks"), 10u);
    // S0 arrives: a partial ACK up to the hole at S5, which is resent at
    // once without waiting for more duplicates (RFC 6582 3.2 step 5).
    s.at(ms(110)).inject(dupack(s, 5 * kMss));
    s.at(ms(110)).expect(out(s).flags(".").seq(ours(5 * kMss)).payload_len(kMss));
    s.at(ms(111)).inject(dupack(s, 5 * kMss));  // S10 or S11 reaching the peer
    s.at(ms(111)).expect_nothing();
    // The full ACK ends recovery: cwnd = min(ssthresh, FlightSize + SMSS).
    s.at(ms(160)).inject(dupack(s, 12 * kMss));
    s.at(ms(160)).expect_nothing();
    EXPECT_EQ(s.stack().tcp().info(c)->cwnd, 2 * kMss);
    EXPECT_EQ(s.stack().tcp().info(c)->unacked, 0u);
    EXPECT_EQ(s.counter("tcp.fast_retransmits"), 1u);
    EXPECT_EQ(s.counter("tcp.retransmits"), 2u);
    EXPECT_EQ(s.counter("tcp.rto_expired"), 0u);
    s.at(sec(10)).expect_nothing();
}

TEST(ScriptTcpRecovery, AcksThatAreNotDuplicatesDoNotCount) {
    // RFC 5681 section 2: a duplicate ACK carries no data, does not move
    // the window, and arrives while data is outstanding.
    Script s;
    twelve_segments(s);
    s.at(ms(60)).inject(dupack(s, 0).payload("data"));                   // carries data
    s.at(ms(60)).expect(out(s).flags(".").seq(ours(10 * kMss)).ack(theirs(4)).within(ms(40)));
    s.at(ms(101)).inject(in(s).flags(".").seq(theirs(4)).ack(ours(0)).win(60000));  // window update
    s.at(ms(102)).inject(in(s).flags(".").seq(theirs(4)).ack(ours(0)).win(60000));  // a duplicate
    s.at(ms(102)).expect(out(s).flags(".").seq(ours(10 * kMss)).payload_len(kMss));  // limited transmit
    s.at(ms(103)).inject(in(s).flags(".").seq(theirs(4)).ack(ours(0)).win(60000));
    s.at(ms(103)).expect(out(s).flags("P.").seq(ours(11 * kMss)).payload_len(kMss));
    s.at(ms(103)).expect_nothing();  // two duplicates only: no fast retransmit yet
    EXPECT_EQ(s.counter("tcp.dup_acks"), 2u);
    EXPECT_EQ(s.counter("tcp.fast_retransmits"), 0u);
}

TEST(ScriptTcpRecovery, NoSecondFastRetransmitForTheSameWindow) {
    // RFC 6582 3.2 step 2: after a timeout, duplicates for data sent
    // before it (below "recover") do not start a new recovery.
    Script s;
    twelve_segments(s);
    // Nothing comes back: the RTO (1 s) resends S0 with cwnd = 1 SMSS.
    s.at(ms(1010)).expect(out(s).flags(".").seq(ours(0)).payload_len(kMss));
    // Late duplicates from the original flight.
    for (int k = 0; k < 4; ++k) s.at(ms(1020 + k)).inject(dupack(s, 0));
    s.at(ms(1030)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.fast_retransmits"), 0u);
}
