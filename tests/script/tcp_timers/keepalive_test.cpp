// Scripts: keepalive (RFC 1122 4.2.3.6). Off by default; SO_KEEPALIVE
// with TCP_KEEPIDLE/INTVL/CNT sends probes with SEG.SEQ = SND.UNA - 1 and
// no data after the idle time, every interval, and after CNT unanswered
// probes resets the connection (ETIMEDOUT); any segment from the peer
// restarts the idle time. The defaults are 2 h, 75 s and 9 probes.
#include <gtest/gtest.h>

#include <cerrno>

#include "tcp_script.hpp"

using namespace uinet;
using namespace uinet::test;
using namespace uinet::test::tcps;
using tcp::TcpState;

namespace {

TcpOptions keepalive(Duration idle, Duration intvl, std::uint32_t cnt) {
    TcpOptions o;
    o.keepalive = true;
    o.keep_idle = idle;
    o.keep_intvl = intvl;
    o.keep_cnt = cnt;
    return o;
}

PacketSpec probe(const Script& s) {
    return out(s).flags(".").seq(var("iss")).ack(theirs(0)).win(65535).payload_len(0).no_options();
}

}  // namespace

TEST(ScriptTcpKeepalive, OffByDefault) {
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    s.at(sec(3 * 3600)).expect_nothing();
    EXPECT_EQ(state_of(s, c), TcpState::established);
    EXPECT_EQ(s.counter("tcp.keepalive_probes"), 0u);
}

TEST(ScriptTcpKeepalive, UnansweredProbesEndTheConnection) {
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    s.stack().tcp().set_upcall(c, s.recorder("conn"));
    ASSERT_TRUE(s.stack().tcp().set_options(c, keepalive(sec(10), sec(5), 3)));
    s.at(sec(10) - ms(1)).expect_nothing();
    s.at(sec(10)).expect(probe(s));  // SEQ = SND.UNA - 1 = ISS: outside the peer's window
    s.at(sec(15)).expect(probe(s));
    s.at(sec(20)).expect(probe(s));
    s.at(sec(25) - ms(1)).expect_nothing();
    EXPECT_EQ(state_of(s, c), TcpState::established);
    s.at(sec(25)).expect(out(s).flags("R").seq(ours(0)));
    EXPECT_EQ(state_of(s, c), TcpState::closed);
    EXPECT_EQ(s.stack().tcp().error(c), ETIMEDOUT);
    EXPECT_EQ(s.counter("tcp.keepalive_probes"), 3u);
    EXPECT_TRUE(s.events().back().events & event::error);
}

TEST(ScriptTcpKeepalive, AnAnsweredProbeRestartsTheIdleTime) {
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    ASSERT_TRUE(s.stack().tcp().set_options(c, keepalive(sec(10), sec(5), 3)));
    s.at(sec(10)).expect(probe(s));
    // The peer answers the out-of-window probe with an ACK.
    s.at(sec(10) + ms(50)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(0)));
    s.at(sec(20) + ms(49)).expect_nothing();
    s.at(sec(20) + ms(50)).expect(probe(s));
    // Data from the peer counts too.
    s.at(sec(21)).inject(in(s).flags("P.").seq(theirs(0)).ack(ours(0)).payload("hi"));
    s.at(sec(21) + ms(40)).expect(out(s).flags(".").seq(ours(0)).ack(theirs(2)));
    s.at(sec(31) - ms(1)).expect_nothing();
    s.at(sec(31)).expect(out(s).flags(".").seq(var("iss")).ack(theirs(2)).payload_len(0));
    EXPECT_EQ(state_of(s, c), TcpState::established);
}

TEST(ScriptTcpKeepalive, TheDefaultsAreTwoHours75sAndNineProbes) {
    Script s;
    SocketId c = accept_plain(s, listen_on(s));
    TcpOptions o;
    o.keepalive = true;
    ASSERT_TRUE(s.stack().tcp().set_options(c, o));
    s.at(sec(7200) - ms(1)).expect_nothing();
    for (int k = 0; k < 9; ++k) s.at(sec(7200 + 75 * k)).expect(probe(s));
    s.at(sec(7200 + 75 * 9)).expect(out(s).flags("R").seq(ours(0)));
    EXPECT_EQ(s.stack().tcp().error(c), ETIMEDOUT);
}

TEST(ScriptTcpKeepalive, AcceptedConnectionsInheritTheListenersKeepalive) {
    Script s;
    SocketId c = accept_plain(s, listen_on(s, kPort, 8, keepalive(sec(30), sec(10), 1)));
    s.at(sec(30)).expect(probe(s));
    s.at(sec(40)).expect(out(s).flags("R").seq(ours(0)));
    EXPECT_EQ(s.stack().tcp().error(c), ETIMEDOUT);
}
