// Scripts: MSS and window scaling. The MSS is negotiated (RFC 9293 3.7.1,
// RFC 6691): at most the peer's, 536 without the option, never more than
// our own, clamped by TCP_MAXSEG (which, as on Linux, is also what we
// announce). Window scaling (RFC 7323 2) is used only when both SYNs carry
// it, scales the windows we advertise (rounded down, never above what the
// buffer holds) and the peer's, never the window of a SYN, and a shift
// above 14 counts as 14.
#include <gtest/gtest.h>

#include "tcp_script.hpp"

using namespace uinet;
using namespace uinet::test;
using namespace uinet::test::tcps;
using tcp::TcpState;

namespace {

TcpOptions with_rcvbuf(std::size_t n) {
    TcpOptions o;
    o.rcvbuf = n;
    return o;
}

// Passive open where the peer's SYN is `syn` (from port 40000, ISN 1000);
// the SYN-ACK is matched against `synack` and the handshake completed with
// window field `win`.
SocketId open_with(Script& s, SocketId l, const PacketSpec& syn, const PacketSpec& synack, std::uint16_t win = 65535) {
    s.at(ms(0)).inject(syn);
    s.at(ms(0)).expect(synack);
    s.at(ms(0)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(0)).win(win));
    auto c = s.stack().tcp().accept(l);
    EXPECT_TRUE(c);
    return c ? *c : SocketId{};
}

void expect_segments(Script& s, Duration t, std::initializer_list<std::size_t> sizes) {
    std::int64_t off = 0;
    for (std::size_t n : sizes) {
        s.at(t).expect(out(s).seq(ours(off)).payload_len(n));
        off += static_cast<std::int64_t>(n);
    }
    s.at(t).expect_nothing();
}

}  // namespace

TEST(ScriptTcpMss, WithoutTheOptionTheMssIs536) {
    Script s;
    SocketId l = listen_on(s);
    SocketId c = open_with(s, l, in(s).syn().seq(kPeerIss).win(65535),
                           out(s).flags("S.").seq(capture("iss")).ack(kPeerIss + 1).win(65535).mss(1460));
    EXPECT_EQ(s.stack().tcp().info(c)->snd_mss, 536u);
    s.at(ms(10));
    send_bytes(s, c, pattern(2000));
    expect_segments(s, ms(10), {536, 536, 536});  // the 392-byte tail waits (Nagle)
}

TEST(ScriptTcpMss, ThePeersSmallerMssBoundsOurSegments) {
    Script s;
    SocketId l = listen_on(s);
    SocketId c = open_with(s, l, in(s).syn().seq(kPeerIss).win(65535).mss(1000),
                           out(s).flags("S.").seq(capture("iss")).ack(kPeerIss + 1).mss(1460));
    s.at(ms(10));
    send_bytes(s, c, pattern(2000));
    expect_segments(s, ms(10), {1000, 1000});
    EXPECT_EQ(s.stack().tcp().info(c)->snd_mss, 1000u);
}

TEST(ScriptTcpMss, ALargerPeerMssIsClampedToOurs) {
    // RFC 6691: never send more than our own interface allows (MTU 1500).
    Script s;
    SocketId l = listen_on(s);
    SocketId c = open_with(s, l, in(s).syn().seq(kPeerIss).win(65535).mss(8960),
                           out(s).flags("S.").seq(capture("iss")).ack(kPeerIss + 1).mss(1460));
    s.at(ms(10));
    send_bytes(s, c, pattern(3000));
    expect_segments(s, ms(10), {1460, 1460});
}

TEST(ScriptTcpMss, OurMssFollowsTheInterfaceMtu) {
    ScriptOptions o;
    o.mtu = 1280;
    Script s(o);
    SocketId l = listen_on(s);
    open_with(s, l, in(s).syn().seq(kPeerIss).win(65535).mss(1460),
              out(s).flags("S.").seq(capture("iss")).ack(kPeerIss + 1).mss(1240));
}

TEST(ScriptTcpMss, MaxsegClampsWhatWeSendAndWhatWeAnnounce) {
    // TCP_MAXSEG (Linux tcp(7)): set before the connection exists, it is
    // also the MSS announced in the SYN; accepted connections inherit it.
    Script s;
    TcpOptions o;
    o.maxseg = 1000;
    SocketId l = listen_on(s, kPort, 8, o);
    SocketId c = open_with(s, l, in(s).syn().seq(kPeerIss).win(65535).mss(1460),
                           out(s).flags("S.").seq(capture("iss")).ack(kPeerIss + 1).mss(1000));
    EXPECT_EQ(s.stack().tcp().info(c)->snd_mss, 1000u);
    s.at(ms(10));
    send_bytes(s, c, pattern(2500));
    expect_segments(s, ms(10), {1000, 1000});
}

TEST(ScriptTcpMss, MaxsegOnAnActiveOpen) {
    Script s;
    TcpSockets& tcp = s.stack().tcp();
    SocketId c = *tcp.open();
    TcpOptions o;
    o.maxseg = 700;
    ASSERT_TRUE(tcp.set_options(c, o));
    ASSERT_TRUE(tcp.connect(s.instant(), c, {kPeerIp, Port(80)}));
    s.at(ms(0)).expect(s.us().tcp(capture("port"), 80).flags("S").seq(capture("iss")).mss(700).more_options());
    s.at(ms(10)).inject(ina(s).flags("S.").seq(5000).ack(ours(0)).win(65535).mss(1460));
    s.at(ms(10)).expect(outa(s).flags(".").seq(ours(0)).ack(5001));
    send_bytes(s, c, pattern(1000));
    s.at(ms(10)).expect(outa(s).seq(ours(0)).payload_len(700));
}

TEST(ScriptTcpWscale, OurWindowIsScaledAndRoundedDown) {
    // A 1 MiB buffer needs shift 5 (RFC 7323 2.3: the smallest that fits).
    Script s;
    SocketId l = listen_on(s, kPort, 8, with_rcvbuf(1 << 20));
    SocketId c = open_with(s, l, in(s).syn().seq(kPeerIss).win(65535).mss(1460).wscale(2),
                           out(s).flags("S.").seq(capture("iss")).ack(kPeerIss + 1).win(65535).mss(1460).wscale(5));
    EXPECT_EQ(s.stack().tcp().info(c)->rcv_wscale, 5);
    s.at(ms(10)).inject(in(s).flags("P.").seq(theirs(0)).ack(ours(0)).payload_len(100));
    // (1048576 - 100) >> 5 = 32764.875: 32764, never more than is free.
    s.at(ms(50)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(100)).win(32764));
    EXPECT_EQ(read_all(s, c).size(), 100u);
}

TEST(ScriptTcpWscale, ThePeersScaleAppliesToItsWindowButNotToItsSyn) {
    Script s;
    SocketId l = listen_on(s);
    // SYN window 1000 (unscaled), shift 4; then a window field of 250:
    // 4000 bytes.
    SocketId c = open_with(s, l, in(s).syn().seq(kPeerIss).win(1000).mss(1460).wscale(4),
                           out(s).flags("S.").seq(capture("iss")).ack(kPeerIss + 1).mss(1460).wscale(3), 250);
    EXPECT_EQ(s.stack().tcp().info(c)->snd_wnd, 4000u);
    s.at(ms(10));
    send_bytes(s, c, pattern(6000));
    // Two full segments; 1080 more would fit but is less than half of the
    // largest window (4000): silly window avoidance holds it.
    expect_segments(s, ms(10), {1460, 1460});
    s.at(ms(20)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(2920)).win(2));  // 32 bytes
    EXPECT_EQ(s.stack().tcp().info(c)->snd_wnd, 32u);
}

TEST(ScriptTcpWscale, NoScalingUnlessBothSynsCarryIt) {
    // Our SYN offers shift 3; the peer's SYN-ACK has none: windows are
    // unscaled both ways (RFC 7323 2.2), so our ACK says 65535, not 32768.
    Script s;
    SocketId c = connect_plain(s);
    s.at(ms(10)).inject(ina(s).flags("S.").seq(5000).ack(ours(0)).win(3000).mss(1460));
    s.at(ms(10)).expect(outa(s).flags(".").seq(ours(0)).ack(5001).win(65535));
    auto info = s.stack().tcp().info(c);
    EXPECT_FALSE(info->window_scaling);
    EXPECT_EQ(info->rcv_wscale, 0);
    EXPECT_EQ(info->snd_wnd, 3000u);
    s.at(ms(20)).inject(ina(s).flags(".").seq(5001).ack(ours(0)).win(100));
    EXPECT_EQ(s.stack().tcp().info(c)->snd_wnd, 100u);
}

TEST(ScriptTcpWscale, AShiftAbove14CountsAs14) {
    Script s;
    SocketId l = listen_on(s);
    SocketId c = open_with(s, l, in(s).syn().seq(kPeerIss).win(65535).mss(1460).wscale(15),
                           out(s).flags("S.").seq(capture("iss")).ack(kPeerIss + 1).mss(1460).wscale(3), 1);
    EXPECT_EQ(s.stack().tcp().info(c)->snd_wscale, 14);
    EXPECT_EQ(s.stack().tcp().info(c)->snd_wnd, 1u << 14);
}
