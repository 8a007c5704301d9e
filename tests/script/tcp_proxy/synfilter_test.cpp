// Scripts: SYN filters (libuinet's uinet_synfilter_install). The filter sees
// each new SYN before any state exists and answers accept (SYN-ACK),
// reject_rst (RST, ACK = ISN + 1), reject_silent (nothing) or defer: then
// nothing is sent, retransmitted SYNs are absorbed, and the application's
// later verdict (or the timeout's) decides; deferrals are bounded.
#include <gtest/gtest.h>

#include "tcp_script.hpp"

using namespace uinet;
using namespace uinet::test;
using namespace uinet::test::tcps;
using tcp::SynVerdict;
using tcp::TcpState;

namespace {

struct Seen {
    std::vector<tcp::SynInfo> syns;
    std::vector<SocketId> listeners;
};

// A listener on port 80 whose filter records each SYN and answers `v`.
SocketId filtered(Script& s, Seen& seen, SynVerdict v, const tcp::SynFilterConfig& cfg = {}) {
    SocketId l = listen_on(s);
    EXPECT_TRUE(s.stack().tcp().set_syn_filter(
        l,
        [&seen, v](SocketId lid, const tcp::SynInfo& info) {
            seen.syns.push_back(info);
            seen.listeners.push_back(lid);
            return v;
        },
        cfg));
    return l;
}

PacketSpec syn(const Script& s, std::uint16_t port = kPeerPort) {
    return s.peer().tcp(port, kPort).syn().seq(kPeerIss).win(65535).mss(1460).sack_ok().ts(100, 0).wscale(7);
}
PacketSpec to(const Script& s, std::uint16_t port = kPeerPort) { return s.us().tcp(kPort, port); }

}  // namespace

TEST(ScriptTcpSynFilter, AcceptSeesTheSynAndAnswersWithSynAck) {
    Script s;
    Seen seen;
    SocketId l = filtered(s, seen, SynVerdict::accept);
    s.at(ms(0)).inject(syn(s));
    s.at(ms(0)).expect(to(s).flags("S.").seq(capture("iss")).ack(kPeerIss + 1).mss(1460).sack_ok()
                           .ts(tsv(0), 100).wscale(3));
    ASSERT_EQ(seen.syns.size(), 1u);
    const tcp::SynInfo& i = seen.syns[0];
    EXPECT_EQ(seen.listeners[0], l);
    EXPECT_EQ(i.local, (Endpoint{kUsIp, Port(kPort)}));
    EXPECT_EQ(i.remote, (Endpoint{kPeerIp, Port(kPeerPort)}));
    EXPECT_EQ(i.l2.local_mac, s.options().us.mac);
    EXPECT_EQ(i.l2.peer_mac, s.options().peer.mac);
    EXPECT_TRUE(i.l2.vlans.empty());
    EXPECT_EQ(i.options.mss, std::optional<std::uint16_t>(1460));
    EXPECT_EQ(i.options.wscale, std::optional<std::uint8_t>(7));
    EXPECT_TRUE(i.options.sack_permitted);
    ASSERT_TRUE(i.options.timestamps);
    EXPECT_EQ(i.options.timestamps->first, 100u);
    EXPECT_EQ(i.seq, SeqNum(kPeerIss));
    EXPECT_EQ(i.ifindex, s.interface().index());
    EXPECT_NE(i.handle, 0u);  // a deferral handle is offered (unused: no deferral)
    EXPECT_EQ(s.counter("tcp.synf_accept"), 1u);
    // The retransmitted SYN meets the connection, not the filter.
    s.at(ms(500)).inject(syn(s));
    s.at(ms(500)).expect(to(s).flags("S.").seq(var("iss")));
    EXPECT_EQ(seen.syns.size(), 1u);
    // A deferral handle offered to a filter that did not defer is stale.
    auto r = s.stack().tcp().deliver_syn_verdict(s.instant(), i.handle, SynVerdict::accept);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), tcp::VerdictError::stale_handle);
}

TEST(ScriptTcpSynFilter, RejectRstAnswersWithAReset) {
    Script s;
    Seen seen;
    filtered(s, seen, SynVerdict::reject_rst);
    s.at(ms(0)).inject(syn(s));
    // RFC 9293 3.10.7.2: <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK>.
    s.at(ms(0)).expect(to(s).flags("R.").seq(0).ack(kPeerIss + 1).no_options());
    s.at(ms(10)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.synf_reject_rst"), 1u);
    EXPECT_EQ(s.counter("tcp.connections"), 0u);
    EXPECT_EQ(s.counter("tcp.rsts_sent"), 1u);
}

TEST(ScriptTcpSynFilter, RejectSilentSendsNothingAndKeepsNoState) {
    Script s;
    Seen seen;
    filtered(s, seen, SynVerdict::reject_silent);
    s.at(ms(0)).inject(syn(s));
    s.at(ms(1000)).inject(syn(s));  // the peer retries: asked again
    s.at(sec(5)).expect_nothing();
    EXPECT_EQ(seen.syns.size(), 2u);
    EXPECT_EQ(s.counter("tcp.synf_reject_silent"), 2u);
    EXPECT_EQ(s.counter("tcp.connections"), 0u);
    EXPECT_EQ(s.stack().tcp_layer().tcb_count(), 1u);  // the listener only
}

TEST(ScriptTcpSynFilter, DeferThenAcceptSendsTheSynAckOnlyAfterTheVerdict) {
    Script s;
    Seen seen;
    SocketId l = filtered(s, seen, SynVerdict::defer);
    s.at(ms(0)).inject(syn(s));
    s.at(ms(500)).expect_nothing();
    ASSERT_EQ(seen.syns.size(), 1u);
    const tcp::SynHandle h = seen.syns[0].handle;
    ASSERT_NE(h, 0u);
    EXPECT_EQ(s.counter("tcp.synf_defer"), 1u);
    EXPECT_EQ(s.counter("tcp.synf_deferred_now"), 1u);
    EXPECT_EQ(s.counter("tcp.connections"), 0u);
    // The peer retransmits (1 s, 3 s): absorbed, the filter is not asked again.
    s.at(sec(1)).inject(syn(s));
    s.at(sec(3)).inject(syn(s));
    s.at(sec(3) + ms(200)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.synf_defer_absorbed"), 2u);
    EXPECT_EQ(seen.syns.size(), 1u);
    // The verdict: the connection is made from the stored SYN (all its
    // options) and the SYN-ACK leaves at once.
    s.at(sec(3) + ms(500));
    ASSERT_TRUE(s.stack().tcp().deliver_syn_verdict(s.instant(), h, SynVerdict::accept));
    s.at(sec(3) + ms(500)).expect(to(s).flags("S.").seq(capture("iss")).ack(kPeerIss + 1).mss(1460).sack_ok()
                                      .ts(tsv(3500), 100).wscale(3));
    s.at(sec(3) + ms(510)).inject(s.peer().tcp(kPeerPort, kPort).flags(".").seq(theirs(0)).ack(ours(0))
                                      .ts(101, tsv(3500)));
    auto c = s.stack().tcp().accept(l);
    ASSERT_TRUE(c);
    EXPECT_EQ(state_of(s, *c), TcpState::established);
    EXPECT_EQ(s.counter("tcp.synf_deferred_accept"), 1u);
    EXPECT_EQ(s.counter("tcp.synf_deferred_now"), 0u);
    // Used: the handle is stale now.
    auto again = s.stack().tcp().deliver_syn_verdict(s.instant(), h, SynVerdict::accept);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error(), tcp::VerdictError::stale_handle);
    EXPECT_EQ(s.counter("tcp.synf_stale_verdict"), 1u);
    // The timeout (10 s by default) no longer applies.
    s.at(sec(15)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.synf_defer_timeout"), 0u);
}

TEST(ScriptTcpSynFilter, DeferThenRejectFromTheMailbox) {
    Script s;
    Seen seen;
    filtered(s, seen, SynVerdict::defer);
    s.at(ms(0)).inject(syn(s));
    s.at(ms(0)).expect_nothing();
    ASSERT_EQ(seen.syns.size(), 1u);
    // Not on the stack's thread (no thread runs it): posted, applied at
    // the stack's next iteration.
    s.at(ms(100));
    s.stack().post_syn_verdict(seen.syns[0].handle, SynVerdict::reject_rst);
    EXPECT_EQ(s.stack().tcp_layer().counters().synf_deferred_reject_rst, 0u);  // not yet
    s.at(ms(100)).expect(to(s).flags("R.").seq(0).ack(kPeerIss + 1));
    EXPECT_EQ(s.counter("tcp.synf_deferred_reject_rst"), 1u);
    // A new SYN after the verdict is a new question for the filter.
    s.at(ms(200)).inject(syn(s));
    EXPECT_EQ(seen.syns.size(), 2u);
    EXPECT_NE(seen.syns[1].handle, seen.syns[0].handle);
    ASSERT_TRUE(s.stack().tcp().deliver_syn_verdict(s.instant(), seen.syns[1].handle, SynVerdict::reject_silent));
    s.at(ms(300)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.synf_deferred_reject_silent"), 1u);
    // `defer` is not a verdict the application can deliver.
    auto bad = s.stack().tcp().deliver_syn_verdict(s.instant(), seen.syns[1].handle, SynVerdict::defer);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error(), tcp::VerdictError::invalid_verdict);
}

TEST(ScriptTcpSynFilter, DeferralsBeyondTheBoundGetTheOverflowVerdict) {
    Script s;
    Seen seen;
    tcp::SynFilterConfig cfg;
    cfg.max_deferred = 2;
    cfg.overflow_verdict = SynVerdict::reject_rst;
    filtered(s, seen, SynVerdict::defer, cfg);
    s.at(ms(0)).inject(syn(s, 40001));
    s.at(ms(0)).inject(syn(s, 40002));
    s.at(ms(0)).expect_nothing();
    s.at(ms(10)).inject(syn(s, 40003));
    s.at(ms(10)).expect(to(s, 40003).flags("R.").seq(0).ack(kPeerIss + 1));
    ASSERT_EQ(seen.syns.size(), 3u);
    EXPECT_EQ(seen.syns[2].handle, 0u);  // the filter was told it could not defer
    EXPECT_EQ(s.counter("tcp.synf_defer"), 2u);
    EXPECT_EQ(s.counter("tcp.synf_defer_overflow"), 1u);
    // One decided: room for another.
    ASSERT_TRUE(s.stack().tcp().deliver_syn_verdict(s.instant(), seen.syns[0].handle, SynVerdict::accept));
    s.at(ms(10)).expect(to(s, 40001).flags("S.").ack(kPeerIss + 1));
    s.at(ms(20)).inject(syn(s, 40004));
    s.at(ms(20)).expect_nothing();
    EXPECT_NE(seen.syns[3].handle, 0u);
    EXPECT_EQ(s.counter("tcp.synf_defer"), 3u);
    EXPECT_EQ(s.counter("tcp.synf_defer_overflow"), 1u);
    s.allow_extra();  // SYN-ACK retransmissions and timeouts are other scripts' business
}

class ScriptTcpSynFilterTimeout : public ::testing::TestWithParam<SynVerdict> {};

TEST_P(ScriptTcpSynFilterTimeout, TheTimeoutVerdictAppliesWhenTheDeferralRunsOut) {
    Script s;
    Seen seen;
    tcp::SynFilterConfig cfg;
    cfg.defer_timeout = sec(2);
    cfg.timeout_verdict = GetParam();
    SocketId l = filtered(s, seen, SynVerdict::defer, cfg);
    s.at(ms(0)).inject(syn(s));
    s.at(sec(1)).inject(syn(s));  // absorbed
    s.at(sec(2) - ms(1)).expect_nothing();
    EXPECT_EQ(s.counter("tcp.synf_defer_timeout"), 0u);
    switch (GetParam()) {
        case SynVerdict::accept:
            s.at(sec(2)).expect(to(s).flags("S.").seq(capture("iss")).ack(kPeerIss + 1).mss(1460).sack_ok()
                                    .ts(tsv(2000), 100).wscale(3));
            s.at(sec(2) + ms(10)).inject(s.peer().tcp(kPeerPort, kPort).flags(".").seq(theirs(0)).ack(ours(0))
                                             .ts(101, tsv(2000)));
            EXPECT_TRUE(s.stack().tcp().accept(l));
            break;
        case SynVerdict::reject_rst: s.at(sec(2)).expect(to(s).flags("R.").seq(0).ack(kPeerIss + 1)); break;
        default: s.at(sec(2)).expect_nothing(); break;
    }
    EXPECT_EQ(s.counter("tcp.synf_defer_timeout"), 1u);
    EXPECT_EQ(s.counter("tcp.synf_deferred_now"), 0u);
    auto late = s.stack().tcp().deliver_syn_verdict(s.instant(), seen.syns[0].handle, SynVerdict::accept);
    ASSERT_FALSE(late);
    EXPECT_EQ(late.error(), tcp::VerdictError::stale_handle);
    s.at(sec(2) + ms(100)).expect_nothing();
}

INSTANTIATE_TEST_SUITE_P(Verdicts, ScriptTcpSynFilterTimeout,
                         ::testing::Values(SynVerdict::accept, SynVerdict::reject_rst, SynVerdict::reject_silent),
                         [](const auto& p) { return std::string(tcp::to_string(p.param)); });

TEST(ScriptTcpSynFilter, ClosingTheListenerDropsItsDeferrals) {
    Script s;
    Seen seen;
    SocketId l = filtered(s, seen, SynVerdict::defer);
    s.at(ms(0)).inject(syn(s));
    ASSERT_EQ(s.counter("tcp.synf_deferred_now"), 1u);
    s.stack().tcp().close(s.instant(), l);
    EXPECT_EQ(s.counter("tcp.synf_deferred_now"), 0u);
    auto r = s.stack().tcp().deliver_syn_verdict(s.instant(), seen.syns[0].handle, SynVerdict::accept);
    ASSERT_FALSE(r);
    s.at(sec(20)).expect_nothing();
}

TEST(ScriptTcpSynFilter, PromiscuousListenerRejectsAsTheDialledServer) {
    ScriptOptions o;
    o.promiscuous = true;
    Script s(o);
    Seen seen;
    TcpSockets& tcp = s.stack().tcp();
    SocketId l = *tcp.open();
    ASSERT_TRUE(tcp.set_promiscuous(l));
    ASSERT_TRUE(tcp.bind(l, {Ipv4Addr::any(), Port(0)}));
    ASSERT_TRUE(tcp.listen(l));
    ASSERT_TRUE(tcp.set_syn_filter(l, [&](SocketId, const tcp::SynInfo& i) {
        seen.syns.push_back(i);
        return SynVerdict::defer;
    }));
    const MacAddr server_mac({0x02, 0, 0, 0, 0, 0x77});
    const Ipv4Addr server = Ipv4Addr::of(203, 0, 113, 9);
    wire::VlanStack tags;
    tags.push_back(wire::VlanTag::make(wire::ethertype::vlan_ctag, 42));
    const Side client(s.options().peer, Node{server_mac, server}, tags);
    const Side answer(Node{server_mac, server}, s.options().peer, tags);
    s.at(ms(0)).inject(client.tcp(40000, 443).syn().seq(kPeerIss).mss(1460));
    ASSERT_EQ(seen.syns.size(), 1u);
    EXPECT_EQ(seen.syns[0].local, (Endpoint{server, Port(443)}));
    EXPECT_EQ(seen.syns[0].l2.local_mac, server_mac);
    EXPECT_TRUE(seen.syns[0].l2.vlans == tags);
    s.at(ms(0)).inject(client.tcp(40000, 443).syn().seq(kPeerIss).mss(1460).untagged());  // another stack: asked
    EXPECT_EQ(seen.syns.size(), 2u);
    s.at(ms(50));
    ASSERT_TRUE(tcp.deliver_syn_verdict(s.instant(), seen.syns[0].handle, SynVerdict::reject_rst));
    s.at(ms(50)).expect(answer.tcp(443, 40000).flags("R.").seq(0).ack(kPeerIss + 1));
    ASSERT_TRUE(tcp.deliver_syn_verdict(s.instant(), seen.syns[1].handle, SynVerdict::accept));
    s.at(ms(50)).expect(answer.tcp(443, 40000).untagged().flags("S.").ack(kPeerIss + 1));
}
