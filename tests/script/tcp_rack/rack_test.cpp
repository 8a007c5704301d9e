// Scripts: RACK-TLP loss detection (RFC 8985), PRR (RFC 6937) and undo of
// spurious retransmissions (RFC 3522 Eifel, RFC 3708 D-SACK, RFC 4015).
// The defaults are on (TcpConfig::rack, tlp, prr, undo).
//
// Timing vocabulary: the first flight leaves at 10 ms; an ACK at 58 ms
// gives min_RTT = 48 ms, so reo_wnd = min_RTT / 4 = 12 ms and SRTT = 48 ms
// (PTO = 2 SRTT = 96 ms; RTO = 200 ms, the minimum).
#include <gtest/gtest.h>

#include "sack_script.hpp"
#include "tcp/trace.hpp"

using namespace uinet;
using namespace uinet::test;
using namespace uinet::test::tcps;
using namespace uinet::test::sack_script;

namespace {

// An ACK of S(acked) with SACK blocks given in segment numbers.
PacketSpec ack(const Script& s, std::uint32_t acked, std::vector<std::pair<std::uint32_t, std::uint32_t>> b = {}) {
    return sack_ack(s, acked, std::move(b));
}

// With timestamps (accept_ts) segments carry 1448 bytes.
constexpr std::uint32_t kTsMss = 1448;
PacketSpec tseg(const Script& s, std::uint32_t k) { return out(s).seq(ours(std::int64_t{k} * kTsMss)).payload_len(kTsMss); }
VarRef T(std::uint32_t k) { return ours(std::int64_t{k} * kTsMss); }

ScriptOptions without_tlp() {
    ScriptOptions o;
    o.stack.tcp.tlp = false;
    return o;
}

}  // namespace

TEST(ScriptTcpRack, ReorderingWithinTheWindowIsNoLoss) {
    Script s;
    sack_conn(s, 10);
    s.at(ms(58)).inject(ack(s, 3));  // min_RTT 48 ms
    // S3 is late: S4 is SACKed at 60 ms. S3 would be lost at 10 + 50
    // (RACK.rtt) + 12 (reo_wnd) = 72 ms; it arrives at 65 ms.
    s.at(ms(60)).inject(ack(s, 3, {{4, 5}}));
    s.at(ms(60)).expect_nothing();
    s.at(ms(65)).inject(ack(s, 5));
    s.at(ms(100)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.retransmits"), 0u);
    EXPECT_EQ(s.counter("tcp.rack_losses"), 0u);
    s.at(ms(110)).inject(ack(s, 10));
    s.at(sec(2)).expect_nothing();
}

TEST(ScriptTcpRack, ReorderingBeyondTheWindowFiresTheTimer) {
    Script s;
    SocketId c = sack_conn(s, 10);
    s.at(ms(58)).inject(ack(s, 3));
    s.at(ms(60)).inject(ack(s, 3, {{4, 5}}));
    // One SACKed segment is not DupThresh: the reordering timer waits
    // reo_wnd, then S3 goes at exactly 72 ms.
    s.at(usecs(71999)).expect_nothing();
    s.at(ms(72)).expect(seg(s, 3));
    s.at(ms(80)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.rack_timer_fired"), 1u);
    EXPECT_EQ(s.counter("tcp.rack_losses"), 1u);
    EXPECT_EQ(s.counter("tcp.sack_recoveries"), 1u);
    // ssthresh = FlightSize / 2 (7 segments in flight at the loss).
    EXPECT_EQ(s.stack().tcp().info(c)->ssthresh, 7 * kMss / 2);
    s.at(ms(122)).inject(ack(s, 10));
    s.at(sec(2)).expect_nothing();
}

TEST(ScriptTcpRack, ThreeSackedSegmentsAreLossAtOnce) {
    Script s;
    sack_conn(s, 10);
    s.at(ms(58)).inject(ack(s, 0, {{1, 2}}));
    s.at(ms(59)).inject(ack(s, 0, {{1, 3}}));
    s.at(ms(59)).expect_nothing();
    // DupThresh segments SACKed and no reordering seen: reo_wnd = 0, and
    // S0 (sent at 10 ms, RACK.rtt 50 ms) is lost at 60 ms.
    s.at(ms(60)).inject(ack(s, 0, {{1, 4}}));
    s.at(ms(60)).expect(seg(s, 0));
    s.at(ms(110)).inject(ack(s, 10));
    s.at(sec(2)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.rto_expired"), 0u);
}

TEST(ScriptTcpRack, LostRetransmissionIsDetectedWithoutTimeout) {
    Script s;
    sack_conn(s, 14);
    // Three SACKed: S0 lost at once. PRR (RecoverFS 10, ssthresh 5,
    // DeliveredData 3 segments): 1.5 segments, S0 and new S10.
    s.at(ms(58)).inject(ack(s, 0, {{1, 4}}));
    s.at(ms(58)).expect(seg(s, 0));
    s.at(ms(58)).expect(seg(s, 10));
    // S10, sent with the retransmission, is SACKed RACK.rtt (50 ms) later
    // while S0 is not: the retransmission was lost too, and goes again at
    // once (RFC 6675 alone would wait for the RTO).
    s.at(ms(108)).inject(ack(s, 0, {{10, 11}, {1, 6}}));
    s.at(ms(108)).expect(seg(s, 0));
    // S0 twice, and S6..S9 (sent at 10 ms, not SACKed while S10 is).
    EXPECT_EQ(s.counter("tcp.rack_losses"), 6u);
    s.at(ms(158)).inject(ack(s, 11));
    EXPECT_EQ(s.counter("tcp.rto_expired"), 0u);
    s.allow_extra();
}

TEST(ScriptTcpRack, TailLossProbeSendsNewData) {
    Script s;
    SocketId c = sack_conn(s, 16);
    s.at(ms(58)).inject(ack(s, 3));
    // Slow start: cwnd 11, 7 in flight: S10..S13 go.
    for (std::uint32_t k = 10; k <= 13; ++k) s.at(ms(58)).expect(seg(s, k));
    EXPECT_EQ(s.stack().tcp().info(c)->cwnd, 11 * kMss);
    // Nothing more comes back: PTO = 2 SRTT = 96 ms after the last send,
    // and the probe is new data (S14) although cwnd is full.
    s.at(ms(153)).expect_nothing();
    s.at(ms(154)).expect(seg(s, 14));
    EXPECT_EQ(s.counter("tcp.tlp_probes"), 1u);
    EXPECT_EQ(s.counter("tcp.rto_expired"), 0u);
    s.at(ms(200)).inject(ack(s, 15));
    s.at(ms(200)).expect(seg(s, 15));
    s.at(ms(250)).inject(ack(s, 16));
    s.at(sec(2)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.tlp_recoveries"), 0u);
}

TEST(ScriptTcpRack, TailLossProbeResendsTheLastSegment) {
    // The connection's trace sees the probe, then the recovery it starts
    // (the sink outlives the script's connections).
    struct : tcp::TraceSink {
        std::vector<tcp::TraceEvent> events;
        void trace(const tcp::TraceRecord& r) override {
            if (r.event == tcp::TraceEvent::tlp || r.event == tcp::TraceEvent::recovery_enter ||
                r.event == tcp::TraceEvent::recovery_exit || r.event == tcp::TraceEvent::rto)
                events.push_back(r.event);
        }
    } rec;
    Script s;
    s.stack().tcp_layer().set_trace(&rec);
    sack_conn(s, 10);
    // S8 and S9 outstanding, no new data: the probe is S9 at 58 + 96 ms.
    s.at(ms(58)).inject(ack(s, 8));
    s.at(ms(153)).expect_nothing();
    s.at(ms(154)).expect(seg(s, 9));
    EXPECT_EQ(s.counter("tcp.tlp_probes"), 1u);
    // The probe's SACK shows S8 lost (sent before it, RACK.rtt ago): S8
    // goes at once, in recovery, without a timeout.
    s.at(ms(202)).inject(ack(s, 8, {{9, 10}}));
    s.at(ms(202)).expect(seg(s, 8));
    s.at(ms(250)).inject(ack(s, 10));
    s.at(sec(2)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.rto_expired"), 0u);
    EXPECT_EQ(s.counter("tcp.sack_recoveries"), 1u);
    EXPECT_EQ(rec.events, (std::vector<tcp::TraceEvent>{tcp::TraceEvent::tlp, tcp::TraceEvent::recovery_enter,
                                                        tcp::TraceEvent::recovery_exit}));
}

TEST(ScriptTcpRack, ProbeThatRepairedALossReducesCwnd) {
    Script s;
    SocketId c = sack_conn(s, 10);
    // Only S9 is lost. One segment in flight: PTO = 2 SRTT + 200 ms, capped
    // by the RTO (58 + 200 ms): the probe goes instead of the timeout.
    s.at(ms(58)).inject(ack(s, 9));
    s.at(ms(257)).expect_nothing();
    s.at(ms(258)).expect(seg(s, 9));
    EXPECT_EQ(s.counter("tcp.tlp_probes"), 1u);
    EXPECT_EQ(s.counter("tcp.rto_expired"), 0u);
    // The ACK up to the probe cannot tell whether the original arrived...
    s.at(ms(306)).inject(ack(s, 10));
    const std::uint32_t cwnd = s.stack().tcp().info(c)->cwnd;
    EXPECT_EQ(cwnd, 11 * kMss);
    // ... an ACK beyond it with no D-SACK in between can (7.4.2): cwnd is
    // reduced once.
    s.at(ms(310));
    send_bytes(s, c, pattern(kMss));
    s.at(ms(310)).expect(seg(s, 10));
    s.at(ms(360)).inject(ack(s, 11));
    EXPECT_EQ(s.counter("tcp.tlp_recoveries"), 1u);
    EXPECT_EQ(s.stack().tcp().info(c)->ssthresh, cwnd / 2);
    EXPECT_EQ(s.stack().tcp().info(c)->cwnd, cwnd / 2);
    s.at(sec(2)).expect_nothing();
}

TEST(ScriptTcpRack, ProbeDsackedMeansNoLoss) {
    Script s;
    SocketId c = sack_conn(s, 10);
    s.at(ms(58)).inject(ack(s, 9));
    s.at(ms(258)).expect(seg(s, 9));
    // The original S9 was only late; the probe comes back as a D-SACK.
    s.at(ms(300)).inject(ack(s, 10));
    s.at(ms(306)).inject(ack(s, 10, {{9, 10}}));
    s.at(ms(310));
    send_bytes(s, c, pattern(kMss));
    s.at(ms(310)).expect(seg(s, 10));
    s.at(ms(360)).inject(ack(s, 11));
    EXPECT_EQ(s.counter("tcp.tlp_recoveries"), 0u);
    EXPECT_EQ(s.stack().tcp().info(c)->ssthresh, UINT32_MAX);
    s.at(sec(2)).expect_nothing();
}

TEST(ScriptTcpRack, PrrSendsOneSegmentEveryOtherAck) {
    Script s;
    SocketId c = sack_conn(s, 15);
    // S0 lost. The first two duplicates send new data (RFC 3042).
    s.at(ms(58)).inject(ack(s, 0, {{1, 2}}));
    s.at(ms(58)).expect(seg(s, 10));
    s.at(ms(59)).inject(ack(s, 0, {{1, 3}}));
    s.at(ms(59)).expect(seg(s, 11));
    // The third: S0 lost (RACK, reo_wnd 0), recovery with RecoverFS = 12
    // segments, ssthresh = 6, pipe 9 (S4..S11 and S0 again). While pipe >
    // ssthresh PRR sends ceil(prr_delivered * ssthresh / RecoverFS) -
    // prr_out: half a segment per segment delivered, one segment every
    // other ACK.
    s.at(ms(60)).inject(ack(s, 0, {{1, 4}}));
    s.at(ms(60)).expect(seg(s, 0));
    EXPECT_EQ(s.stack().tcp().info(c)->ssthresh, 6 * kMss);
    s.at(ms(61)).inject(ack(s, 0, {{1, 5}}));
    s.at(ms(61)).expect_nothing();
    s.at(ms(62)).inject(ack(s, 0, {{1, 6}}));
    s.at(ms(62)).expect(seg(s, 12));
    s.at(ms(63)).inject(ack(s, 0, {{1, 7}}));
    s.at(ms(63)).expect_nothing();
    // pipe = ssthresh now: PRR-SSRB keeps it there, one segment per
    // segment delivered.
    s.at(ms(64)).inject(ack(s, 0, {{1, 8}}));
    s.at(ms(64)).expect_nothing();
    s.at(ms(65)).inject(ack(s, 0, {{1, 9}}));
    s.at(ms(65)).expect(seg(s, 13));
    s.at(ms(66)).inject(ack(s, 0, {{1, 10}}));
    s.at(ms(66)).expect(seg(s, 14));
    EXPECT_EQ(s.counter("tcp.prr_recoveries"), 1u);
    s.at(ms(110)).inject(ack(s, 15));
    s.at(sec(3)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.retransmits"), 1u);
}

TEST(ScriptTcpRack, DsackUndoesASpuriousFastRetransmit) {
    Script s;
    SocketId c = sack_conn(s, 10);
    s.at(ms(58)).inject(ack(s, 0, {{1, 2}}));
    s.at(ms(59)).inject(ack(s, 0, {{1, 3}}));
    s.at(ms(60)).inject(ack(s, 0, {{1, 4}}));
    s.at(ms(60)).expect(seg(s, 0));
    EXPECT_EQ(s.stack().tcp().info(c)->ssthresh, 5 * kMss);
    // S0 was only late: everything is acknowledged, then the retransmission
    // comes back as a D-SACK: the one retransmission was needless.
    s.at(ms(62)).inject(ack(s, 10));
    s.at(ms(110)).inject(ack(s, 10, {{0, 1}}));
    EXPECT_EQ(s.counter("tcp.spurious_fast_rexmits"), 1u);
    EXPECT_EQ(s.counter("tcp.undos"), 1u);
    EXPECT_EQ(s.stack().tcp().info(c)->cwnd, 10 * kMss);
    EXPECT_EQ(s.stack().tcp().info(c)->ssthresh, UINT32_MAX);
    s.at(sec(2)).expect_nothing();
}

TEST(ScriptTcpRack, EifelUndoesASpuriousTimeout) {
    Script s(without_tlp());
    SocketId l = listen_on(s);
    SocketId c = accept_ts(s, l);
    s.at(ms(10));
    send_bytes(s, c, pattern(3 * kTsMss));
    for (std::uint32_t k = 0; k < 3; ++k) s.at(ms(10)).expect(tseg(s, k));
    // SRTT from the handshake is ~1 ms: RTO = 200 ms. The peer's ACKs are
    // only late: the timeout resends S0 with cwnd 1 SMSS...
    s.at(ms(210)).expect(tseg(s, 0).ts(tsv(210), 101));
    EXPECT_EQ(s.stack().tcp().info(c)->cwnd, kTsMss);
    // ... and the late ACK of the original echoes its TSval (10 ms), older
    // than the retransmission's: spurious (RFC 3522). cwnd and ssthresh
    // come back and go-back-N stops (RFC 4015): S1 and S2 are not resent.
    s.at(ms(215)).inject(in(s).flags(".").seq(theirs(0)).ack(T(1)).win(512).ts(120, tsv(10)));
    s.at(ms(215)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.spurious_rtos"), 1u);
    EXPECT_EQ(s.counter("tcp.undos"), 1u);
    EXPECT_EQ(s.stack().tcp().info(c)->ssthresh, UINT32_MAX);
    EXPECT_GE(s.stack().tcp().info(c)->cwnd, 10 * kTsMss);
    s.at(ms(216)).inject(in(s).flags(".").seq(theirs(0)).ack(T(3)).win(512).ts(121, tsv(10)));
    s.at(sec(2)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.retransmits"), 1u);
}

TEST(ScriptTcpRack, GenuineTimeoutIsNotUndone) {
    Script s(without_tlp());
    SocketId l = listen_on(s);
    SocketId c = accept_ts(s, l);
    s.at(ms(10));
    send_bytes(s, c, pattern(kTsMss));
    s.at(ms(10)).expect(tseg(s, 0));
    s.at(ms(210)).expect(tseg(s, 0).ts(tsv(210), 101));
    // The ACK echoes the retransmission's TSval: it was needed.
    s.at(ms(215)).inject(in(s).flags(".").seq(theirs(0)).ack(T(1)).win(512).ts(120, tsv(210)));
    EXPECT_EQ(s.counter("tcp.undos"), 0u);
    EXPECT_LT(s.stack().tcp().info(c)->ssthresh, UINT32_MAX);
    s.at(sec(2)).expect_nothing();
}
