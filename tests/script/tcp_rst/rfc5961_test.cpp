// Scripts: RFC 5961 beyond the reset and SYN cases of rst_test.cpp. ACK
// validation (section 5.2): an ACK of data never sent draws a challenge
// ACK and the segment, text and all, is dropped; so does one older than
// SND.UNA - MAX.SND.WND ("MUST be discarded and an ACK sent back"). Challenge ACKs (RST, SYN and ACK cases) share
// one stack-wide token bucket (section 7): past it they are counted, not
// sent.
#include <gtest/gtest.h>

#include "tcp_script.hpp"

using namespace uinet;
using namespace uinet::test;
using namespace uinet::test::tcps;
using tcp::TcpState;

TEST(ScriptTcpRfc5961, AnAckOfUnsentDataDrawsAChallengeAckAndIsDropped) {
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    s.at(ms(10)).inject(in(s).flags("P.").seq(theirs(0)).ack(ours(100)).payload("abc"));
    s.at(ms(10)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(0)).no_options());
    EXPECT_EQ(s.counter("tcp.challenge_acks"), 1u);
    EXPECT_EQ(s.counter("tcp.bad_ack_dropped"), 1u);
    EXPECT_EQ(read_all(s, c), "");
    EXPECT_EQ(state_of(s, c), TcpState::established);
    // The same text with a valid ACK is taken.
    s.at(ms(20)).inject(in(s).flags("P.").seq(theirs(0)).ack(ours(0)).payload("abc"));
    EXPECT_EQ(read_all(s, c), "abc");
    s.allow_extra();
}

TEST(ScriptTcpRfc5961, AnAckOlderThanTheMaxWindowDrawsAChallengeAckAndIsDropped) {
    Script s;
    SocketId c = accept_plain(s, listen_on(s));  // the peer's window: 65535
    s.at(ms(10)).inject(in(s).flags("P.").seq(theirs(0)).ack(ours(0) - 70000).payload("abc"));
    s.at(ms(10)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(0)).no_options());
    EXPECT_EQ(s.counter("tcp.challenge_acks"), 1u);
    EXPECT_EQ(s.counter("tcp.bad_ack_dropped"), 1u);
    EXPECT_EQ(read_all(s, c), "");
    // Within one window back: an old ACK, the text is taken.
    s.at(ms(20)).inject(in(s).flags("P.").seq(theirs(0)).ack(ours(0) - 60000).payload("abc"));
    EXPECT_EQ(read_all(s, c), "abc");
    EXPECT_EQ(s.counter("tcp.bad_ack_dropped"), 1u);
    s.allow_extra();
}

TEST(ScriptTcpRfc5961, ChallengeAcksAreRateLimitedStackWide) {
    ScriptOptions o;
    o.stack.tcp.challenge_ack_limit = 3;  // per second
    Script s(o);
    SocketId c = accept_plain(s, listen_on(s));
    // Five in-window RSTs and a SYN at once: three challenge ACKs.
    s.at(ms(10));
    for (std::uint32_t k = 1; k <= 5; ++k) s.inject(in(s).flags("R").seq(theirs(k * 100)));
    s.inject(in(s).syn().seq(theirs(7)).win(65535).mss(1460));
    for (int i = 0; i < 3; ++i) s.expect(out(s).flags(".").seq(ours(0)).ack(theirs(0)));
    s.at(ms(10)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.challenge_acks"), 3u);
    EXPECT_EQ(s.counter("tcp.challenge_acks_limited"), 3u);
    // 200 ms later the bucket holds 0.6 of an ACK: still nothing.
    s.at(ms(210)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(50)));
    s.at(ms(210)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.challenge_acks_limited"), 4u);
    // A second on, the bucket is full again.
    s.at(ms(1010)).inject(in(s).flags("R").seq(theirs(1)));
    s.at(ms(1010)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(0)));
    EXPECT_EQ(s.counter("tcp.challenge_acks"), 4u);
    EXPECT_EQ(state_of(s, c), TcpState::established);
    EXPECT_EQ(s.counter("tcp.rsts_rcvd"), 0u);
    // The exact RST still resets, limit or not.
    s.at(ms(1011)).inject(in(s).flags("R").seq(theirs(0)));
    EXPECT_EQ(state_of(s, c), TcpState::closed);
}
