// Scripts: the receiving side of data transfer. Segment acceptability
// (RFC 9293 3.10.7.4: old duplicates, segments beyond the window, zero
// window probes, data without ACK), out-of-order reassembly with overlaps
// (the first copy wins) and the immediate duplicate ACKs of RFC 5681 4.2,
// the delayed ACK (40 ms timer; every second full-sized segment acked at
// once, RFC 9293 3.8.6.3), receiver-side silly window avoidance and the
// window updates after the application reads (3.8.6.2.2), urgent data
// delivered inline (RFC 6093).
#include <gtest/gtest.h>

#include "tcp_script.hpp"

using namespace uinet;
using namespace uinet::test;
using namespace uinet::test::tcps;
using tcp::TcpState;

namespace {

std::vector<std::uint8_t> filled(std::size_t n, char c) { return std::vector<std::uint8_t>(n, static_cast<std::uint8_t>(c)); }

std::vector<std::uint8_t> read_bytes(Script& s, SocketId c, std::size_t max) {
    std::vector<std::uint8_t> buf(max);
    auto r = s.stack().tcp().recv(s.instant(), c, buf);
    buf.resize(r ? *r : 0);
    return buf;
}

TcpOptions rcvbuf(std::size_t n) {
    TcpOptions o;
    o.rcvbuf = n;
    return o;
}

}  // namespace

TEST(ScriptTcpReceive, OldDuplicatesAreAcknowledgedAndDropped) {
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    s.at(ms(10)).inject(in(s).flags("P.").seq(theirs(0)).ack(ours(0)).payload("hello"));
    // The same segment again: wholly before RCV.NXT, not acceptable: an
    // immediate ACK (which also stands for the delayed one).
    s.at(ms(20)).inject(in(s).flags("P.").seq(theirs(0)).ack(ours(0)).payload("hello"));
    s.at(ms(20)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(5)).win(65530).no_options());
    EXPECT_EQ(s.counter("tcp.unacceptable"), 1u);
    // Partly old: only the new part is taken, and the ACK is immediate.
    s.at(ms(30)).inject(in(s).flags("P.").seq(theirs(3)).ack(ours(0)).payload("lo world"));
    s.at(ms(30)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(11)).win(65524));
    s.at(ms(100)).expect_nothing();
    EXPECT_EQ(read_all(s, c), "hello world");
}

TEST(ScriptTcpReceive, DataWithoutAckIsDropped) {
    // RFC 9293 3.10.7.4 fifth: if the ACK bit is off, drop the segment.
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    s.at(ms(10)).inject(in(s).flags("P").seq(theirs(0)).payload("noack"));
    s.at(ms(100)).expect_nothing();
    EXPECT_EQ(read_all(s, c), "");
    s.at(ms(110)).inject(in(s).flags("P.").seq(theirs(0)).ack(ours(0)).payload("noack"));
    EXPECT_EQ(read_all(s, c), "noack");
    s.at(ms(150)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(5)));
}

TEST(ScriptTcpReceive, SegmentsBeyondTheWindowAreAcknowledgedAndTrimmed) {
    Script s;
    SocketId c = accept_plain(s, listen_on(s, kPort, 8, rcvbuf(4096)), ms(0), 65535, 4096);
    // Wholly beyond RCV.NXT + RCV.WND: not acceptable, ACK.
    s.at(ms(10)).inject(in(s).flags("P.").seq(theirs(4096)).ack(ours(0)).payload_len(10));
    s.at(ms(10)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(0)).win(4096));
    // Straddling the right edge: kept up to it (out of order: ACK now).
    s.at(ms(20)).inject(in(s).flags("P.").seq(theirs(4000)).ack(ours(0)).payload(pattern(200, 7)));
    s.at(ms(20)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(0)).win(4096));
    // The bytes before it: each segment into the hole is acknowledged at
    // once (RFC 5681 4.2); the last one fills it and closes the window.
    s.at(ms(30)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(0)).payload(filled(1460, 'a')));
    s.at(ms(30)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(1460)).win(2636));
    s.at(ms(30)).inject(in(s).flags(".").seq(theirs(1460)).ack(ours(0)).payload(filled(1460, 'b')));
    s.at(ms(30)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(2920)).win(1176));
    s.at(ms(30)).inject(in(s).flags(".").seq(theirs(2920)).ack(ours(0)).payload(filled(1080, 'c')));
    s.at(ms(30)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(4096)).win(0));
    auto got = read_bytes(s, c, 8192);
    ASSERT_EQ(got.size(), 4096u);
    EXPECT_EQ(got[4000], 7);
    EXPECT_EQ(got[4095], 7 + 95);
    EXPECT_EQ(got[3999], 'c');
    // Reading it all opens the window: an update at once.
    s.at(ms(30)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(4096)).win(4096));
}

TEST(ScriptTcpReceive, ZeroWindowProbesAreAnswered) {
    // RFC 1122 4.2.2.17 / RFC 9293 3.8.6.1: a receiver with a closed
    // window must still acknowledge probes (with RCV.NXT and its window).
    Script s;
    SocketId c = accept_plain(s, listen_on(s, kPort, 8, rcvbuf(4096)), ms(0), 65535, 4096);
    s.at(ms(10)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(0)).payload_len(1460));
    s.at(ms(10)).inject(in(s).flags(".").seq(theirs(1460)).ack(ours(0)).payload_len(1460));
    s.at(ms(10)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(2920)).win(1176));
    s.at(ms(10)).inject(in(s).flags("P.").seq(theirs(2920)).ack(ours(0)).payload_len(1176));
    s.at(ms(50)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(4096)).win(0));  // delayed ACK
    // A one-byte probe past the closed window.
    s.at(ms(300)).inject(in(s).flags(".").seq(theirs(4096)).ack(ours(0)).payload("x"));
    s.at(ms(300)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(4096)).win(0));
    s.at(ms(700)).inject(in(s).flags(".").seq(theirs(4096)).ack(ours(0)).payload("x"));
    s.at(ms(700)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(4096)).win(0));
    // Receiver silly-window avoidance: reading 1000 bytes opens less than
    // min(buffer/2, MSS); no update.
    EXPECT_EQ(read_bytes(s, c, 1000).size(), 1000u);
    s.at(ms(800)).expect_nothing();
    // 2100 bytes read: past half the buffer; the update goes out at once.
    EXPECT_EQ(read_bytes(s, c, 1100).size(), 1100u);
    s.at(ms(800)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(4096)).win(2100));
    EXPECT_EQ(s.counter("tcp.window_updates"), 1u);
    // The probe's byte is now welcome.
    s.at(ms(900)).inject(in(s).flags("P.").seq(theirs(4096)).ack(ours(0)).payload("x"));
    s.at(ms(940)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(4097)).win(2099));
}

TEST(ScriptTcpReceive, WindowUpdatesFollowTheApplicationsReads) {
    Script s;
    SocketId c = accept_plain(s, listen_on(s, kPort, 8, rcvbuf(8192)), ms(0), 65535, 8192);
    for (int k = 0; k < 4; ++k)
        s.at(ms(10)).inject(in(s).flags(".").seq(theirs(1460 * k)).ack(ours(0)).payload_len(1460));
    s.at(ms(10)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(2920)).win(5272));
    s.at(ms(10)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(5840)).win(2352));
    // 2000 bytes read: the window would grow by less than two segments
    // and less than half the buffer: no update yet.
    EXPECT_EQ(read_bytes(s, c, 2000).size(), 2000u);
    s.at(ms(20)).expect_nothing();
    EXPECT_EQ(read_bytes(s, c, 1000).size(), 1000u);  // 3000: two segments' worth
    s.at(ms(20)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(5840)).win(5352));
    EXPECT_EQ(s.counter("tcp.window_updates"), 1u);
}

TEST(ScriptTcpReceive, OutOfOrderDataIsReassembledFirstCopyWins) {
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    // [200, 300) "X", then [150, 350) "Y" over it, then [0, 150) "Z".
    s.at(ms(10)).inject(in(s).flags(".").seq(theirs(200)).ack(ours(0)).payload(filled(100, 'X')));
    s.at(ms(10)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(0)).win(65535));  // duplicate ACK at once
    s.at(ms(11)).inject(in(s).flags(".").seq(theirs(150)).ack(ours(0)).payload(filled(200, 'Y')));
    s.at(ms(11)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(0)).win(65535));
    EXPECT_EQ(read_all(s, c), "");
    s.at(ms(12)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(0)).payload(filled(150, 'Z')));
    // Filling the hole is acknowledged at once (RFC 5681 4.2).
    s.at(ms(12)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(350)).win(65185));
    EXPECT_EQ(read_all(s, c), std::string(150, 'Z') + std::string(50, 'Y') + std::string(100, 'X') + std::string(50, 'Y'));
    EXPECT_EQ(s.counter("tcp.ooo_segments"), 2u);
    s.at(ms(100)).expect_nothing();
}

TEST(ScriptTcpReceive, DelayedAckWaits40msButTwoFullSegmentsAreAckedAtOnce) {
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    s.at(ms(10)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(0)).payload_len(1460));
    s.at(ms(49)).expect_nothing();
    s.at(ms(50)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(1460)).win(65535));
    s.at(ms(100)).inject(in(s).flags(".").seq(theirs(1460)).ack(ours(0)).payload_len(1460));
    s.at(ms(100)).expect_nothing();
    s.at(ms(101)).inject(in(s).flags(".").seq(theirs(2920)).ack(ours(0)).payload_len(1460));
    s.at(ms(101)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(4380)).win(65535));
    s.at(ms(200)).inject(in(s).flags("P.").seq(theirs(4380)).ack(ours(0)).payload_len(100));
    s.at(ms(240)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(4480)).win(65435));
    EXPECT_EQ(s.counter("tcp.delayed_acks"), 2u);
    // A reply within the delay carries the ACK; the timer is cancelled.
    s.at(ms(300)).inject(in(s).flags("P.").seq(theirs(4480)).ack(ours(0)).payload_len(100));
    s.at(ms(310));
    send_text(s, c, "reply");
    s.at(ms(310)).expect(out(s).flags("P.").seq(ours(0)).ack(theirs(4580)).win(65335).payload("reply"));
    s.at(ms(400)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.delayed_acks"), 2u);
}

TEST(ScriptTcpReceive, UrgentDataIsDeliveredInline) {
    // RFC 6093 (and RFC 9293 3.8.5): urgent data stays in the stream.
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    s.at(ms(10)).inject(in(s).flags("UP.").seq(theirs(0)).ack(ours(0)).urgent(3).payload("!!!rest"));
    EXPECT_EQ(read_all(s, c), "!!!rest");
    EXPECT_EQ(s.counter("tcp.urgent_rcvd"), 1u);
    s.at(ms(50)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(7)).urgent(0));
}
