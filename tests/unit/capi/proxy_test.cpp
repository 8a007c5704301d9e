// C API transparent-proxy calls: promiscuous sockets on a promiscuous
// interface accepting connections to an address the instance does not own,
// uinet_getl2info / uinet_setl2info, uinet_sosettxif, and SYN filters with
// immediate and deferred verdicts (delivered from another thread).
#include <atomic>
#include <cstring>
#include <thread>

#include "capi_fixture.hpp"

using namespace capi_test;

namespace {

bool zero_mac(const std::uint8_t* m) {
    static const std::uint8_t z[6] = {};
    return std::memcmp(m, z, 6) == 0;
}

std::uint16_t ntoh16(std::uint16_t v) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(&v);
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

// Sends `msg` one way and checks it arrives whole.
void exchange(uinet_socket* from, uinet_socket* to, const std::string& msg) {
    ASSERT_EQ(0, send_all(from, msg.data(), msg.size()));
    std::string got;
    while (got.size() < msg.size()) {
        char buf[256];
        std::size_t n = 0;
        ASSERT_EQ(0, recv_some(to, buf, sizeof buf, &n));
        ASSERT_GT(n, 0u);
        got.append(buf, n);
    }
    EXPECT_EQ(got, msg);
}

struct FilterState {
    std::atomic<int> verdict{UINET_SYNF_ACCEPT};
    std::atomic<int> calls{0};
    uinet_synf_info last{};  // written on b's thread before `seen` is raised
    Flag seen;
};

int filter(uinet_socket*, void* arg, const uinet_synf_info* info) {
    auto* f = static_cast<FilterState*>(arg);
    f->last = *info;
    ++f->calls;
    f->seen.raise();
    return f->verdict.load();
}

}  // namespace

TEST_F(CapiPair, PromiscuousListenerAcceptsAForeignAddressWithL2Info) {
    ASSERT_EQ(0, uinet_if_set_promisc(b_, 1, 1));
    EXPECT_EQ(ENXIO, uinet_if_set_promisc(b_, 9, 1));
    ASSERT_EQ(0, uinet_add_route(a_, "203.0.113.0/24", kIpB));

    uinet_socket* l = nullptr;
    ASSERT_EQ(0, uinet_socreate(b_, UINET_AF_INET, &l, UINET_SOCK_STREAM, 0));
    auto foreign = sin("203.0.113.7", 8080);
    EXPECT_EQ(EADDRNOTAVAIL, uinet_sobind(l, &foreign));  // not promiscuous yet
    ASSERT_EQ(0, uinet_make_socket_promiscuous(l, 0));
    auto any = sin(nullptr, 0);  // every address, every port
    ASSERT_EQ(0, uinet_sobind(l, &any));
    EXPECT_EQ(EINVAL, uinet_make_socket_promiscuous(l, 0));  // only before bind
    ASSERT_EQ(0, uinet_solisten(l, 8));

    uinet_socket* cli = nullptr;
    ASSERT_EQ(0, uinet_socreate(a_, UINET_AF_INET, &cli, UINET_SOCK_STREAM, 0));
    ASSERT_EQ(0, uinet_soconnect(cli, &foreign));
    uinet_socket* srv = nullptr;
    uinet_sockaddr_in peer;
    ASSERT_EQ(0, uinet_soaccept(l, &peer, &srv));
    EXPECT_EQ(ip_of(peer), kIpA);
    uinet_sockaddr_in local;
    ASSERT_EQ(0, uinet_sogetsockaddr(srv, &local));
    EXPECT_EQ(ip_of(local), "203.0.113.7");
    EXPECT_EQ(port_of(local), 8080);

    uinet_in_l2info l2;
    ASSERT_EQ(0, uinet_getl2info(srv, &l2));
    EXPECT_FALSE(zero_mac(l2.inl2i_local_addr));
    EXPECT_FALSE(zero_mac(l2.inl2i_foreign_addr));
    EXPECT_NE(0, std::memcmp(l2.inl2i_local_addr, l2.inl2i_foreign_addr, 6));
    EXPECT_EQ(l2.inl2i_tagstack.inl2t_cnt, 0);
    uinet_in_l2info none;
    EXPECT_EQ(UINET_ENOENT, uinet_getl2info(cli, &none));  // an ordinary outbound socket has none

    exchange(cli, srv, "to the dialled host");
    exchange(srv, cli, "from the dialled host");

    // A second client that sends with exactly the MACs just learnt (a's and
    // b's) on a forced interface, to another foreign port.
    uinet_socket* c2 = nullptr;
    ASSERT_EQ(0, uinet_socreate(a_, UINET_AF_INET, &c2, UINET_SOCK_STREAM, 0));
    uinet_in_l2info mine;
    std::memset(&mine, 0, sizeof mine);
    std::memcpy(mine.inl2i_local_addr, l2.inl2i_foreign_addr, 6);
    std::memcpy(mine.inl2i_foreign_addr, l2.inl2i_local_addr, 6);
    ASSERT_EQ(0, uinet_setl2info(c2, &mine));
    ASSERT_EQ(0, uinet_sosettxif(c2, 1));
    EXPECT_EQ(EINVAL, uinet_sosettxif(c2, 7));  // no such interface
    auto foreign2 = sin("203.0.113.8", 9090);
    ASSERT_EQ(0, uinet_soconnect(c2, &foreign2));
    uinet_socket* srv2 = nullptr;
    ASSERT_EQ(0, uinet_soaccept(l, nullptr, &srv2));
    ASSERT_EQ(0, uinet_sogetsockaddr(srv2, &local));
    EXPECT_EQ(ip_of(local), "203.0.113.8");
    uinet_in_l2info back;
    ASSERT_EQ(0, uinet_getl2info(c2, &back));
    EXPECT_EQ(0, std::memcmp(back.inl2i_local_addr, mine.inl2i_local_addr, 6));
    exchange(c2, srv2, "second");
    for (uinet_socket* so : {cli, srv, c2, srv2, l}) EXPECT_EQ(0, uinet_soclose(so));
}

TEST_F(CapiPair, L2InfoSetAndReadBack) {
    uinet_socket* so = nullptr;
    ASSERT_EQ(0, uinet_socreate(a_, UINET_AF_INET, &so, UINET_SOCK_STREAM, 0));
    uinet_in_l2info in;
    std::memset(&in, 0, sizeof in);
    const std::uint8_t lm[6] = {0x02, 1, 2, 3, 4, 5}, fm[6] = {0x02, 6, 7, 8, 9, 10};
    std::memcpy(in.inl2i_local_addr, lm, 6);
    std::memcpy(in.inl2i_foreign_addr, fm, 6);
    in.inl2i_tagstack.inl2t_cnt = 2;
    in.inl2i_tagstack.inl2t_tags[0] = 0x88a80064u;  // S-tag 100
    in.inl2i_tagstack.inl2t_tags[1] = 0x8100a0c8u;  // C-tag 200, PCP 5
    ASSERT_EQ(0, uinet_setl2info(so, &in));
    uinet_in_l2info out;
    ASSERT_EQ(0, uinet_getl2info(so, &out));
    EXPECT_EQ(0, std::memcmp(out.inl2i_local_addr, lm, 6));
    EXPECT_EQ(0, std::memcmp(out.inl2i_foreign_addr, fm, 6));
    ASSERT_EQ(out.inl2i_tagstack.inl2t_cnt, 2);
    EXPECT_EQ(out.inl2i_tagstack.inl2t_tags[0], 0x88a80064u);
    EXPECT_EQ(out.inl2i_tagstack.inl2t_tags[1], 0x8100a0c8u);
    // Hostile values.
    in.inl2i_tagstack.inl2t_tags[1] = 0x08000001u;  // not a tag protocol
    EXPECT_EQ(EINVAL, uinet_setl2info(so, &in));
    in.inl2i_tagstack.inl2t_cnt = 17;
    EXPECT_EQ(EINVAL, uinet_setl2info(so, &in));
    EXPECT_EQ(EINVAL, uinet_setl2info(so, nullptr));
    EXPECT_EQ(EINVAL, uinet_getl2info(nullptr, &out));
    EXPECT_EQ(0, uinet_soclose(so));
    // Not on datagram sockets.
    uinet_socket* u = nullptr;
    ASSERT_EQ(0, uinet_socreate(a_, UINET_AF_INET, &u, UINET_SOCK_DGRAM, 0));
    EXPECT_EQ(EOPNOTSUPP, uinet_make_socket_promiscuous(u, 0));
    EXPECT_EQ(EOPNOTSUPP, uinet_getl2info(u, &out));
    EXPECT_EQ(0, uinet_soclose(u));
}

TEST_F(CapiPair, SynFilterRejectRstRefusesTheConnection) {
    FilterState f;
    f.verdict = UINET_SYNF_REJECT_RST;
    uinet_socket* l = listener(7000);
    ASSERT_EQ(0, uinet_synfilter_install(l, filter, &f));
    uinet_socket* cli = nullptr;
    ASSERT_EQ(0, uinet_socreate(a_, UINET_AF_INET, &cli, UINET_SOCK_STREAM, 0));
    auto dst = sin(kIpB, 7000);
    EXPECT_EQ(ECONNREFUSED, uinet_soconnect(cli, &dst));
    EXPECT_EQ(f.calls.load(), 1);
    EXPECT_EQ(0, uinet_soclose(cli));
    // Removed: connections go through.
    ASSERT_EQ(0, uinet_synfilter_install(l, nullptr, nullptr));
    ASSERT_EQ(0, uinet_socreate(a_, UINET_AF_INET, &cli, UINET_SOCK_STREAM, 0));
    EXPECT_EQ(0, uinet_soconnect(cli, &dst));
    EXPECT_EQ(f.calls.load(), 1);
    EXPECT_EQ(0, uinet_soclose(cli));
    EXPECT_EQ(0, uinet_soclose(l));
}

TEST_F(CapiPair, SynFilterDeferredVerdictFromAnotherThread) {
    FilterState f;
    f.verdict = UINET_SYNF_DEFER;
    uinet_socket* l = listener(7001);
    uinet_synf_cfg cfg;
    uinet_synfilter_default_cfg(&cfg);
    EXPECT_EQ(cfg.timeout_verdict, UINET_SYNF_REJECT_SILENT);
    cfg.timeout_ms = 60'000;
    cfg.overflow_verdict = UINET_SYNF_DEFER;
    EXPECT_EQ(EINVAL, uinet_synfilter_setcfg(l, &cfg));  // DEFER is not an overflow verdict
    cfg.overflow_verdict = UINET_SYNF_REJECT_RST;
    ASSERT_EQ(0, uinet_synfilter_setcfg(l, &cfg));
    ASSERT_EQ(0, uinet_synfilter_install(l, filter, &f));

    uinet_socket* cli = nullptr;
    ASSERT_EQ(0, uinet_socreate(a_, UINET_AF_INET, &cli, UINET_SOCK_STREAM, 0));
    ASSERT_EQ(0, uinet_sosetnonblocking(cli, 1));
    auto dst = sin(kIpB, 7001);
    ASSERT_EQ(EINPROGRESS, uinet_soconnect(cli, &dst));
    ASSERT_TRUE(f.seen.wait());
    const uinet_synf_info info = f.last;
    EXPECT_EQ(ip_of(uinet_sockaddr_in{16, UINET_AF_INET, 0, info.inc.inc_laddr, {}}), kIpB);
    EXPECT_EQ(ntoh16(info.inc.inc_lport), 7001);
    EXPECT_EQ(ip_of(uinet_sockaddr_in{16, UINET_AF_INET, 0, info.inc.inc_faddr, {}}), kIpA);
    EXPECT_EQ(info.mss, 1460);
    EXPECT_GE(info.wscale, 0);
    EXPECT_EQ(info.sack_permitted, 1);
    EXPECT_EQ(info.has_timestamps, 1);
    EXPECT_EQ(info.ifindex, 1u);
    EXPECT_FALSE(zero_mac(info.l2i.inl2i_foreign_addr));
    ASSERT_NE(info.deferral, 0u);

    // Still waiting: nothing was answered.
    int ev = UINET_POLLOUT;
    EXPECT_EQ(0, uinet_sowait(&cli, 1, &ev, 0));
    // The verdict from this (non-instance) thread.
    EXPECT_EQ(EINVAL, uinet_synfilter_deferral_deliver(l, info.deferral, UINET_SYNF_DEFER));
    EXPECT_EQ(EINVAL, uinet_synfilter_deferral_deliver(l, info.deferral, 42));
    ASSERT_EQ(0, uinet_synfilter_deferral_deliver(l, info.deferral, UINET_SYNF_ACCEPT));
    ev = UINET_POLLOUT;
    ASSERT_EQ(1, uinet_sowait(&cli, 1, &ev, 20'000));
    EXPECT_TRUE(ev & UINET_POLLOUT);
    EXPECT_EQ(0, uinet_sogeterror(cli));
    uinet_socket* srv = nullptr;
    ASSERT_EQ(0, uinet_soaccept(l, nullptr, &srv));
    ASSERT_EQ(0, uinet_sosetnonblocking(cli, 0));
    exchange(cli, srv, "after the verdict");
    // Used once: stale afterwards.
    EXPECT_EQ(UINET_ENOENT, uinet_synfilter_deferral_deliver(l, info.deferral, UINET_SYNF_ACCEPT));
    EXPECT_EQ(1, f.calls.load());
    for (uinet_socket* so : {cli, srv, l}) EXPECT_EQ(0, uinet_soclose(so));
}

TEST_F(CapiPair, TaggedClientAndListenerRestrictedToItsTags) {
    // Both interfaces promiscuous (they accept tagged frames). A first,
    // plain connection teaches the test both MACs.
    ASSERT_EQ(0, uinet_if_set_promisc(a_, 1, 1));
    ASSERT_EQ(0, uinet_if_set_promisc(b_, 1, 1));
    uinet_socket *c0 = nullptr, *s0 = nullptr;
    connect_pair(7003, &c0, &s0);
    uinet_in_l2info learnt;
    ASSERT_EQ(0, uinet_getl2info(s0, &learnt));

    // b's listener (promiscuous: its answers mirror the SYN's tags) takes
    // only C-tag 5, and its filter refuses everything it sees.
    FilterState f;
    f.verdict = UINET_SYNF_REJECT_RST;
    uinet_socket* l = nullptr;
    ASSERT_EQ(0, uinet_socreate(b_, UINET_AF_INET, &l, UINET_SOCK_STREAM, 0));
    ASSERT_EQ(0, uinet_make_socket_promiscuous(l, 0));
    auto at = sin(kIpB, 7002);
    ASSERT_EQ(0, uinet_sobind(l, &at));
    uinet_in_l2info only5;
    std::memset(&only5, 0, sizeof only5);
    only5.inl2i_tagstack.inl2t_cnt = 1;
    only5.inl2i_tagstack.inl2t_tags[0] = 0x81000005u;
    ASSERT_EQ(0, uinet_setl2info(l, &only5));
    ASSERT_EQ(0, uinet_solisten(l, 8));
    ASSERT_EQ(0, uinet_synfilter_install(l, filter, &f));

    // An untagged client first: its SYN never reaches the filter.
    uinet_socket* plain = nullptr;
    ASSERT_EQ(0, uinet_socreate(a_, UINET_AF_INET, &plain, UINET_SOCK_STREAM, 0));
    ASSERT_EQ(0, uinet_sosetnonblocking(plain, 1));
    auto dst = sin(kIpB, 7002);
    ASSERT_EQ(EINPROGRESS, uinet_soconnect(plain, &dst));
    // Then a client that sends with C-tag 5: the filter sees it (after the
    // plain SYN, which went first on the same link) and refuses it; the RST
    // comes back with the tag, so it reaches the tagged connection.
    uinet_socket* tagged = nullptr;
    ASSERT_EQ(0, uinet_socreate(a_, UINET_AF_INET, &tagged, UINET_SOCK_STREAM, 0));
    uinet_in_l2info mine = only5;
    std::memcpy(mine.inl2i_local_addr, learnt.inl2i_foreign_addr, 6);
    std::memcpy(mine.inl2i_foreign_addr, learnt.inl2i_local_addr, 6);
    ASSERT_EQ(0, uinet_setl2info(tagged, &mine));
    EXPECT_EQ(ECONNREFUSED, uinet_soconnect(tagged, &dst));
    EXPECT_EQ(1, f.calls.load());
    ASSERT_TRUE(f.seen.wait());
    EXPECT_EQ(f.last.l2i.inl2i_tagstack.inl2t_cnt, 1);
    EXPECT_EQ(f.last.l2i.inl2i_tagstack.inl2t_tags[0], 0x81000005u);
    EXPECT_EQ(0, std::memcmp(f.last.l2i.inl2i_foreign_addr, learnt.inl2i_foreign_addr, 6));
    int st = 0;
    ASSERT_EQ(0, uinet_sogetstate(plain, &st));
    EXPECT_TRUE(st & UINET_SS_ISCONNECTING);
    for (uinet_socket* so : {c0, s0, plain, tagged, l}) EXPECT_EQ(0, uinet_soclose(so));
}

namespace {

struct FirstLook {
    std::atomic<int> frames{0};
    std::atomic<int> dropped{0};
    std::atomic<bool> ethernet_seen{false};
    Flag dropped_syn;
};

// Takes everything except TCP segments to port 7778, which it drops.
int first_look(void* arg, uinet_if_t, const uint8_t* f, size_t len, uinet_if_t*) {
    auto* s = static_cast<FirstLook*>(arg);
    ++s->frames;
    if (len >= 14 && f[12] == 0x08 && f[13] == 0x00) s->ethernet_seen = true;
    if (len >= 14 + 20 + 4 && f[12] == 0x08 && f[13] == 0x00 && f[14 + 9] == 6) {
        const std::size_t l4 = 14 + std::size_t{f[14] & 0x0fu} * 4;
        if (len >= l4 + 4 && f[l4 + 2] == 0x1e && f[l4 + 3] == 0x62) {  // port 7778
            ++s->dropped;
            s->dropped_syn.raise();
            return UINET_FIRST_LOOK_DROP;
        }
    }
    return UINET_FIRST_LOOK_TAKE;
}

}  // namespace

TEST_F(CapiPair, FirstLookSeesWholeFramesAndCanDrop) {
    FirstLook st;
    EXPECT_EQ(ENXIO, uinet_if_set_first_look(b_, 9, first_look, &st));
    ASSERT_EQ(0, uinet_if_set_first_look(b_, 1, first_look, &st));
    // Taken frames: a connection on port 7777 works as usual.
    uinet_socket *cli = nullptr, *srv = nullptr, *lst = nullptr;
    connect_pair(7777, &cli, &srv, &lst);
    exchange(cli, srv, "seen first");
    EXPECT_GT(st.frames.load(), 0);
    EXPECT_TRUE(st.ethernet_seen.load());
    // Dropped frames: a SYN to port 7778 never reaches the stack.
    uinet_socket* l2 = listener(7778);
    uinet_socket* c2 = nullptr;
    ASSERT_EQ(0, uinet_socreate(a_, UINET_AF_INET, &c2, UINET_SOCK_STREAM, 0));
    ASSERT_EQ(0, uinet_sosetnonblocking(c2, 1));
    auto s = sin(kIpB, 7778);
    EXPECT_EQ(EINPROGRESS, uinet_soconnect(c2, &s));
    ASSERT_TRUE(st.dropped_syn.wait());
    uinet_tcp_info ti;
    unsigned int tlen = sizeof ti;
    ASSERT_EQ(0, uinet_sogetsockopt(c2, UINET_IPPROTO_TCP, UINET_TCP_INFO, &ti, &tlen));
    EXPECT_EQ(UINET_TCPS_SYN_SENT, ti.tcpi_state);
    // Removing the handler: frames flow to the stack again, none counted.
    ASSERT_EQ(0, uinet_if_set_first_look(b_, 1, nullptr, nullptr));
    const int before = st.frames.load();
    exchange(srv, cli, "no longer seen");
    EXPECT_EQ(st.frames.load(), before);
    for (uinet_socket* so : {cli, srv, lst, l2, c2}) EXPECT_EQ(0, uinet_soclose(so));
}
