// C API socket options: every option set and read back, bad values and
// levels, TCP_INFO on a live connection, options inherited by accept().
#include "capi_fixture.hpp"

using namespace capi_test;

namespace {

TEST_F(CapiPair, EveryOptionRoundTrips) {
    uinet_socket* so = nullptr;
    ASSERT_EQ(0, uinet_socreate(a_, UINET_AF_INET, &so, UINET_SOCK_STREAM, 0));
    struct IntOpt {
        int level, name, value;
    };
    const IntOpt opts[] = {
        {UINET_SOL_SOCKET, UINET_SO_REUSEADDR, 1}, {UINET_SOL_SOCKET, UINET_SO_REUSEPORT, 1},
        {UINET_SOL_SOCKET, UINET_SO_KEEPALIVE, 1}, {UINET_SOL_SOCKET, UINET_SO_SNDBUF, 100000},
        {UINET_SOL_SOCKET, UINET_SO_RCVBUF, 120000}, {UINET_SOL_SOCKET, UINET_SO_RCVLOWAT, 10},
        {UINET_SOL_SOCKET, UINET_SO_SNDLOWAT, 2048}, {UINET_IPPROTO_TCP, UINET_TCP_NODELAY, 1},
        {UINET_IPPROTO_TCP, UINET_TCP_MAXSEG, 1200}, {UINET_IPPROTO_TCP, UINET_TCP_KEEPIDLE, 30},
        {UINET_IPPROTO_TCP, UINET_TCP_KEEPINTVL, 5}, {UINET_IPPROTO_TCP, UINET_TCP_KEEPCNT, 4},
    };
    for (const IntOpt& o : opts) {
        SCOPED_TRACE(o.name);
        int before = -1;
        ASSERT_EQ(0, get_int(so, o.level, o.name, &before));
        EXPECT_NE(before, o.value);
        ASSERT_EQ(0, set_int(so, o.level, o.name, o.value));
        int after = -1;
        ASSERT_EQ(0, get_int(so, o.level, o.name, &after));
        EXPECT_EQ(after, o.value);
    }
    // Setting one keepalive option keeps the others.
    ASSERT_EQ(0, set_int(so, UINET_SOL_SOCKET, UINET_SO_KEEPALIVE, 0));
    int v = 0;
    ASSERT_EQ(0, get_int(so, UINET_IPPROTO_TCP, UINET_TCP_KEEPIDLE, &v));
    EXPECT_EQ(30, v);
    ASSERT_EQ(0, get_int(so, UINET_SOL_SOCKET, UINET_SO_KEEPALIVE, &v));
    EXPECT_EQ(0, v);

    uinet_linger l{1, 7}, lo{};
    ASSERT_EQ(0, setopt(so, UINET_SOL_SOCKET, UINET_SO_LINGER, l));
    unsigned int len = sizeof lo;
    ASSERT_EQ(0, uinet_sogetsockopt(so, UINET_SOL_SOCKET, UINET_SO_LINGER, &lo, &len));
    EXPECT_EQ(1, lo.l_onoff);
    EXPECT_EQ(7, lo.l_linger);
    for (int name : {UINET_SO_RCVTIMEO, UINET_SO_SNDTIMEO}) {
        uinet_timeval tv{2, 500000}, to{};
        ASSERT_EQ(0, setopt(so, UINET_SOL_SOCKET, name, tv));
        len = sizeof to;
        ASSERT_EQ(0, uinet_sogetsockopt(so, UINET_SOL_SOCKET, name, &to, &len));
        EXPECT_EQ(2, to.tv_sec);
        EXPECT_EQ(500000, to.tv_usec);
        uinet_timeval bad{0, 1000000};
        EXPECT_EQ(EINVAL, setopt(so, UINET_SOL_SOCKET, name, bad));
    }
    // Read-only options.
    ASSERT_EQ(0, get_int(so, UINET_SOL_SOCKET, UINET_SO_TYPE, &v));
    EXPECT_EQ(UINET_SOCK_STREAM, v);
    ASSERT_EQ(0, get_int(so, UINET_SOL_SOCKET, UINET_SO_ERROR, &v));
    EXPECT_EQ(0, v);
    ASSERT_EQ(0, get_int(so, UINET_SOL_SOCKET, UINET_SO_ACCEPTCONN, &v));
    EXPECT_EQ(0, v);
    EXPECT_EQ(ENOPROTOOPT, set_int(so, UINET_SOL_SOCKET, UINET_SO_ERROR, 1));
    EXPECT_EQ(ENOPROTOOPT, set_int(so, UINET_SOL_SOCKET, UINET_SO_TYPE, 1));
    // Bad values, sizes, names and levels.
    EXPECT_EQ(EINVAL, set_int(so, UINET_SOL_SOCKET, UINET_SO_SNDBUF, 0));
    EXPECT_EQ(EINVAL, set_int(so, UINET_IPPROTO_TCP, UINET_TCP_MAXSEG, 10));
    EXPECT_EQ(EINVAL, set_int(so, UINET_IPPROTO_TCP, UINET_TCP_KEEPCNT, 0));
    uinet_linger neg{1, -1};
    EXPECT_EQ(EINVAL, setopt(so, UINET_SOL_SOCKET, UINET_SO_LINGER, neg));
    char small = 1;
    EXPECT_EQ(EINVAL, uinet_sosetsockopt(so, UINET_SOL_SOCKET, UINET_SO_REUSEADDR, &small, 1));
    len = 1;
    EXPECT_EQ(EINVAL, uinet_sogetsockopt(so, UINET_SOL_SOCKET, UINET_SO_REUSEADDR, &small, &len));
    EXPECT_EQ(ENOPROTOOPT, set_int(so, UINET_SOL_SOCKET, 0x7777, 1));
    EXPECT_EQ(ENOPROTOOPT, set_int(so, 12345, UINET_SO_REUSEADDR, 1));
    uinet_tcp_info ti;
    len = sizeof ti;
    EXPECT_EQ(ENOPROTOOPT, uinet_sosetsockopt(so, UINET_IPPROTO_TCP, UINET_TCP_INFO, &ti, len));
    ASSERT_EQ(0, uinet_sogetsockopt(so, UINET_IPPROTO_TCP, UINET_TCP_INFO, &ti, &len));
    EXPECT_EQ(UINET_TCPS_CLOSED, ti.tcpi_state);
    // TCP_CONGESTION: a name in, a NUL-terminated name out.
    char cc[16] = {};
    len = sizeof cc;
    ASSERT_EQ(0, uinet_sogetsockopt(so, UINET_IPPROTO_TCP, UINET_TCP_CONGESTION, cc, &len));
    EXPECT_STREQ("newreno", cc);
    ASSERT_EQ(0, uinet_sosetsockopt(so, UINET_IPPROTO_TCP, UINET_TCP_CONGESTION, "cubic", 5));
    len = sizeof cc;
    ASSERT_EQ(0, uinet_sogetsockopt(so, UINET_IPPROTO_TCP, UINET_TCP_CONGESTION, cc, &len));
    EXPECT_STREQ("cubic", cc);
    EXPECT_EQ(6u, len);
    EXPECT_EQ(ENOENT, uinet_sosetsockopt(so, UINET_IPPROTO_TCP, UINET_TCP_CONGESTION, "bbr", 3));
    EXPECT_EQ(EINVAL, uinet_sosetsockopt(so, UINET_IPPROTO_TCP, UINET_TCP_CONGESTION, cc, 0));
    EXPECT_EQ(0, uinet_soclose(so));

    // Datagram sockets: no TCP level; SO_RCVBUF reaches the UDP layer.
    ASSERT_EQ(0, uinet_socreate(a_, UINET_AF_INET, &so, UINET_SOCK_DGRAM, 0));
    EXPECT_EQ(ENOPROTOOPT, set_int(so, UINET_IPPROTO_TCP, UINET_TCP_NODELAY, 1));
    ASSERT_EQ(0, set_int(so, UINET_SOL_SOCKET, UINET_SO_RCVBUF, 5000));
    ASSERT_EQ(0, get_int(so, UINET_SOL_SOCKET, UINET_SO_RCVBUF, &v));
    EXPECT_EQ(5000, v);
    ASSERT_EQ(0, get_int(so, UINET_SOL_SOCKET, UINET_SO_TYPE, &v));
    EXPECT_EQ(UINET_SOCK_DGRAM, v);
    EXPECT_EQ(0, uinet_soclose(so));
}

TEST_F(CapiPair, TcpInfoAndInheritedOptions) {
    uinet_socket* l = nullptr;
    ASSERT_EQ(0, uinet_socreate(b_, UINET_AF_INET, &l, UINET_SOCK_STREAM, 0));
    ASSERT_EQ(0, set_int(l, UINET_IPPROTO_TCP, UINET_TCP_NODELAY, 1));
    ASSERT_EQ(0, set_int(l, UINET_SOL_SOCKET, UINET_SO_RCVLOWAT, 3));
    uinet_linger lg{1, 9};
    ASSERT_EQ(0, setopt(l, UINET_SOL_SOCKET, UINET_SO_LINGER, lg));
    auto s = sin(kIpB, 8400);
    ASSERT_EQ(0, uinet_sobind(l, &s));
    ASSERT_EQ(0, uinet_solisten(l, 4));
    int v = 0;
    ASSERT_EQ(0, get_int(l, UINET_SOL_SOCKET, UINET_SO_ACCEPTCONN, &v));
    EXPECT_EQ(1, v);
    int st = 0;
    ASSERT_EQ(0, uinet_sogetstate(l, &st));
    EXPECT_EQ(UINET_SS_ACCEPTCONN, st);

    uinet_socket* cli = nullptr;
    ASSERT_EQ(0, uinet_socreate(a_, UINET_AF_INET, &cli, UINET_SOCK_STREAM, 0));
    ASSERT_EQ(0, set_int(cli, UINET_IPPROTO_TCP, UINET_TCP_MAXSEG, 1000));
    ASSERT_EQ(0, uinet_soconnect(cli, &s));
    uinet_socket* srv = nullptr;
    ASSERT_EQ(0, uinet_soaccept(l, nullptr, &srv));
    ASSERT_EQ(0, get_int(srv, UINET_IPPROTO_TCP, UINET_TCP_NODELAY, &v));
    EXPECT_EQ(1, v);
    ASSERT_EQ(0, get_int(srv, UINET_SOL_SOCKET, UINET_SO_RCVLOWAT, &v));
    EXPECT_EQ(3, v);
    uinet_linger got{};
    unsigned int len = sizeof got;
    ASSERT_EQ(0, uinet_sogetsockopt(srv, UINET_SOL_SOCKET, UINET_SO_LINGER, &got, &len));
    EXPECT_EQ(9, got.l_linger);

    std::vector<std::uint8_t> data(50000, 1);
    ASSERT_EQ(0, send_all(cli, data.data(), data.size()));
    std::vector<std::uint8_t> in(data.size());
    std::size_t n = 0;
    ASSERT_EQ(0, recv_some(srv, in.data(), in.size(), &n, UINET_MSG_WAITALL));
    EXPECT_EQ(data.size(), n);

    uinet_tcp_info ti;
    len = sizeof ti;
    ASSERT_EQ(0, uinet_sogetsockopt(cli, UINET_IPPROTO_TCP, UINET_TCP_INFO, &ti, &len));
    EXPECT_EQ(sizeof ti, len);
    EXPECT_EQ(UINET_TCPS_ESTABLISHED, ti.tcpi_state);
    EXPECT_LE(ti.tcpi_snd_mss, 1000u);  // our own TCP_MAXSEG caps what we send
    EXPECT_GT(ti.tcpi_snd_mss, 0u);
    EXPECT_GE(ti.tcpi_bytes_sent, data.size());
    EXPECT_GT(ti.tcpi_segs_sent, 0u);
    EXPECT_GT(ti.tcpi_snd_cwnd, 0u);
    EXPECT_GT(ti.tcpi_rto, 0u);
    EXPECT_TRUE(ti.tcpi_options & UINET_TCPI_OPT_TIMESTAMPS);
    ASSERT_EQ(0, get_int(cli, UINET_IPPROTO_TCP, UINET_TCP_MAXSEG, &v));
    EXPECT_EQ(static_cast<int>(ti.tcpi_snd_mss), v);
    ASSERT_EQ(0, uinet_sogetsockopt(srv, UINET_IPPROTO_TCP, UINET_TCP_INFO, &ti, &len));
    EXPECT_GE(ti.tcpi_bytes_received, data.size());

    lg.l_linger = 0;  // abortive close for both, no waiting
    ASSERT_EQ(0, setopt(srv, UINET_SOL_SOCKET, UINET_SO_LINGER, lg));
    EXPECT_EQ(0, uinet_soclose(srv));
    EXPECT_EQ(0, uinet_soclose(cli));
    EXPECT_EQ(0, uinet_soclose(l));
}

}  // namespace
