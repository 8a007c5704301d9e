// C API, blocking use from application threads: a 1 MB exchange with
// scatter/gather, shutdown and close; SO_LINGER (abortive and lingering);
// SO_RCVTIMEO; refused connections; calls after the instance stops.
#include <thread>

#include "capi_fixture.hpp"

using namespace capi_test;

namespace {

std::uint8_t pattern(std::size_t i) { return static_cast<std::uint8_t>((i * 7 + i / 251) % 253); }

TEST_F(CapiPair, BlockingMegabyteWithScatterGather) {
    uinet_socket *cli = nullptr, *srv = nullptr;
    connect_pair(8000, &cli, &srv);
    ASSERT_TRUE(cli && srv);

    constexpr std::size_t kSize = 1 << 20;
    std::vector<std::uint8_t> out(kSize);
    for (std::size_t i = 0; i < kSize; ++i) out[i] = pattern(i);

    int send_err = -1;
    std::size_t send_left = 1;
    std::thread sender([&] {
        // Three gather pieces of uneven sizes.
        uinet_iovec v[3] = {{out.data(), 1000}, {out.data() + 1000, 700000}, {out.data() + 701000, kSize - 701000}};
        uinet_uio u{v, 3, kSize};
        send_err = uinet_sosend(cli, nullptr, &u, 0);
        send_left = u.uio_resid;
        if (send_err == 0) send_err = uinet_soshutdown(cli, UINET_SHUT_WR);
    });

    // Scatter into four pieces, waiting for all bytes.
    std::vector<std::uint8_t> in(kSize + 10, 0);
    uinet_iovec v[4] = {{in.data(), 3}, {in.data() + 3, 65536}, {in.data() + 65539, 500000},
                        {in.data() + 565539, kSize + 10 - 565539}};
    uinet_uio u{v, 4, kSize};  // the last 10 bytes of the buffers stay unused
    int flags = UINET_MSG_WAITALL;
    EXPECT_EQ(0, uinet_soreceive(srv, nullptr, &u, &flags));
    EXPECT_EQ(0u, u.uio_resid);
    sender.join();
    EXPECT_EQ(0, send_err);
    EXPECT_EQ(0u, send_left);
    EXPECT_TRUE(std::equal(out.begin(), out.end(), in.begin()));
    EXPECT_EQ(0, in[kSize]);

    // The client shut its side: end of stream.
    std::uint8_t b[16];
    std::size_t got = 99;
    EXPECT_EQ(0, recv_some(srv, b, sizeof b, &got));
    EXPECT_EQ(0u, got);
    int state = 0;
    ASSERT_EQ(0, uinet_sogetstate(srv, &state));
    EXPECT_TRUE(state & UINET_SS_CANTRCVMORE);
    ASSERT_EQ(0, uinet_sogetstate(cli, &state));
    EXPECT_TRUE(state & UINET_SS_CANTSENDMORE);

    // The other direction still works; then the server closes, lingering
    // until the client has acknowledged its FIN: the client then holds
    // "bye" and the end of the stream, and one read must report both.
    EXPECT_EQ(0, send_all(srv, "bye", 3));
    uinet_linger lg{1, 30};
    ASSERT_EQ(0, setopt(srv, UINET_SOL_SOCKET, UINET_SO_LINGER, lg));
    EXPECT_EQ(0, uinet_soclose(srv));
    char r[8] = {};
    uinet_iovec rv{r, sizeof r};
    uinet_uio ru{&rv, 1, sizeof r};
    flags = UINET_MSG_WAITALL;  // ends early at the end of the stream
    uinet_sockaddr_in from;
    EXPECT_EQ(0, uinet_soreceive(cli, &from, &ru, &flags));
    EXPECT_EQ(sizeof r - 3, ru.uio_resid);
    EXPECT_EQ(std::string(r, 3), "bye");
    EXPECT_EQ(ip_of(from), kIpB);
    EXPECT_EQ(port_of(from), 8000);
    EXPECT_EQ(0, uinet_soclose(cli));
}

TEST_F(CapiPair, PeekLeavesDataAndWaitAllCollectsPieces) {
    uinet_socket *cli = nullptr, *srv = nullptr;
    connect_pair(8001, &cli, &srv);
    EXPECT_EQ(0, send_all(cli, "abc", 3));
    char p[8] = {};
    uinet_iovec pv[2] = {{p, 1}, {p + 1, 7}};
    uinet_uio pu{pv, 2, 3};
    int flags = UINET_MSG_PEEK | UINET_MSG_WAITALL;
    ASSERT_EQ(0, uinet_soreceive(srv, nullptr, &pu, &flags));
    EXPECT_EQ(std::string(p, 3), "abc");
    // MSG_WAITALL across two sends from another thread.
    std::thread later([&] { EXPECT_EQ(0, send_all(cli, "defg", 4)); });
    char r[7] = {};
    uinet_iovec rv{r, sizeof r};
    uinet_uio ru{&rv, 1, sizeof r};
    flags = UINET_MSG_WAITALL;
    EXPECT_EQ(0, uinet_soreceive(srv, nullptr, &ru, &flags));
    later.join();
    EXPECT_EQ(0u, ru.uio_resid);
    EXPECT_EQ(std::string(r, 7), "abcdefg");
    EXPECT_EQ(0, uinet_soclose(cli));
    EXPECT_EQ(0, uinet_soclose(srv));
}

TEST_F(CapiPair, LingerZeroResetsThePeer) {
    uinet_socket *cli = nullptr, *srv = nullptr;
    connect_pair(8002, &cli, &srv);
    uinet_linger l{1, 0};
    ASSERT_EQ(0, setopt(cli, UINET_SOL_SOCKET, UINET_SO_LINGER, l));
    EXPECT_EQ(0, uinet_soclose(cli));
    std::uint8_t b[8];
    std::size_t got = 0;
    EXPECT_EQ(ECONNRESET, recv_some(srv, b, sizeof b, &got));
    EXPECT_EQ(ECONNRESET, uinet_sogeterror(srv));
    int err = 0;
    EXPECT_EQ(0, get_int(srv, UINET_SOL_SOCKET, UINET_SO_ERROR, &err));
    EXPECT_EQ(ECONNRESET, err);
    EXPECT_EQ(ECONNRESET, send_all(srv, "x", 1));
    EXPECT_EQ(0, uinet_soclose(srv));
}

TEST_F(CapiPair, LingerWaitsUntilTheFinIsAcknowledged) {
    uinet_socket *cli = nullptr, *srv = nullptr;
    connect_pair(8003, &cli, &srv);
    uinet_linger l{1, 30};
    ASSERT_EQ(0, setopt(cli, UINET_SOL_SOCKET, UINET_SO_LINGER, l));
    std::vector<std::uint8_t> data(100000, 0x5a);
    EXPECT_EQ(0, send_all(cli, data.data(), data.size()));
    EXPECT_EQ(0, uinet_soclose(cli));
    // When close returned, the peer had acknowledged our FIN: it has every
    // byte and the end of the stream queued, so its state says so now.
    int state = 0;
    ASSERT_EQ(0, uinet_sogetstate(srv, &state));
    EXPECT_TRUE(state & UINET_SS_CANTRCVMORE);
    std::vector<std::uint8_t> in(data.size());
    uinet_iovec v{in.data(), in.size()};
    uinet_uio u{&v, 1, in.size()};
    int flags = UINET_MSG_WAITALL;
    EXPECT_EQ(0, uinet_soreceive(srv, nullptr, &u, &flags));
    EXPECT_EQ(0u, u.uio_resid);
    EXPECT_EQ(in, data);
    std::size_t got = 1;
    std::uint8_t b[4];
    EXPECT_EQ(0, recv_some(srv, b, sizeof b, &got));
    EXPECT_EQ(0u, got);
    EXPECT_EQ(0, uinet_soclose(srv));
}

TEST_F(CapiPair, ReceiveTimeoutGivesEagain) {
    uinet_socket *cli = nullptr, *srv = nullptr;
    uinet_socket* lst = nullptr;
    connect_pair(8004, &cli, &srv, &lst);
    uinet_timeval tv{0, 30000};
    ASSERT_EQ(0, setopt(srv, UINET_SOL_SOCKET, UINET_SO_RCVTIMEO, tv));
    std::uint8_t b[8];
    std::size_t got = 7;
    EXPECT_EQ(EAGAIN, recv_some(srv, b, sizeof b, &got));
    EXPECT_EQ(0u, got);
    // accept() honours it too.
    ASSERT_EQ(0, setopt(lst, UINET_SOL_SOCKET, UINET_SO_RCVTIMEO, tv));
    uinet_socket* none = nullptr;
    EXPECT_EQ(EAGAIN, uinet_soaccept(lst, nullptr, &none));
    EXPECT_EQ(nullptr, none);
    // Data that arrived is returned even with a timeout set.
    EXPECT_EQ(0, send_all(cli, "hi", 2));
    EXPECT_EQ(0, recv_some(srv, b, sizeof b, &got));
    EXPECT_EQ(2u, got);
    EXPECT_EQ(0, uinet_soclose(lst));
    EXPECT_EQ(0, uinet_soclose(cli));
    EXPECT_EQ(0, uinet_soclose(srv));
}

TEST_F(CapiPair, DontWaitOnBlockingSocket) {
    uinet_socket *cli = nullptr, *srv = nullptr;
    connect_pair(8005, &cli, &srv);
    std::uint8_t b[8];
    std::size_t got = 0;
    EXPECT_EQ(EAGAIN, recv_some(srv, b, sizeof b, &got, UINET_MSG_DONTWAIT));
    EXPECT_EQ(0, uinet_soclose(cli));
    EXPECT_EQ(0, uinet_soclose(srv));
}

TEST_F(CapiPair, BlockedCallsEndWhenTheInstanceStops) {
    uinet_socket *cli = nullptr, *srv = nullptr;
    connect_pair(8006, &cli, &srv);
    int err = -1;
    std::thread t([&] {
        std::uint8_t b[8];
        std::size_t got = 0;
        err = recv_some(srv, b, sizeof b, &got);
    });
    EXPECT_EQ(0, uinet_instance_stop(b_));
    t.join();
    EXPECT_EQ(ECANCELED, err);
    // Calls that need no wait still work on the stopped instance.
    int state = 0;
    EXPECT_EQ(0, uinet_sogetstate(srv, &state));
    EXPECT_TRUE(state & UINET_SS_ISCONNECTED);
    EXPECT_EQ(0, uinet_instance_start(b_));
    EXPECT_EQ(EALREADY, uinet_instance_start(b_));
    EXPECT_EQ(0, send_all(cli, "ok", 2));
    std::uint8_t b[8];
    std::size_t got = 0;
    EXPECT_EQ(0, recv_some(srv, b, sizeof b, &got));
    EXPECT_EQ(2u, got);
    EXPECT_EQ(0, uinet_soclose(cli));
    EXPECT_EQ(0, uinet_soclose(srv));
}

class CapiPairRst : public CapiPair {
protected:
    CapiPairRst() { blackhole_ = 0; }
};

TEST_F(CapiPairRst, ConnectToClosedPortIsRefused) {
    uinet_socket* cli = nullptr;
    ASSERT_EQ(0, uinet_socreate(a_, UINET_AF_INET, &cli, UINET_SOCK_STREAM, 0));
    auto s = sin(kIpB, 9999);
    EXPECT_EQ(ECONNREFUSED, uinet_soconnect(cli, &s));
    int state = 0;
    ASSERT_EQ(0, uinet_sogetstate(cli, &state));
    EXPECT_TRUE(state & UINET_SS_ISDISCONNECTED);
    EXPECT_EQ(0, uinet_soclose(cli));
}

TEST(CapiInstance, ArgumentsAndAddresses) {
    uinet_instance_t* inst = nullptr;
    uinet_instance_cfg c;
    uinet_instance_default_cfg(&c);
    c.pool_buffers = 0;
    EXPECT_EQ(EINVAL, uinet_instance_create(&c, &inst));
    EXPECT_EQ(nullptr, inst);
    ASSERT_EQ(0, uinet_instance_create(nullptr, &inst));
    EXPECT_GE(uinet_instance_fd(inst), 0);
    EXPECT_EQ(-1, uinet_instance_fd(nullptr));
    EXPECT_EQ(EINVAL, uinet_memlink_create(inst, "1.2.3.4/24", inst, "1.2.3.5/24"));
    EXPECT_EQ(EINVAL, uinet_add_route(inst, "10.0.0.0/8", "not an address"));
    EXPECT_EQ(ENETUNREACH, uinet_add_route(inst, "10.0.0.0/8", "192.0.2.1"));
    uinet_socket* so = nullptr;
    EXPECT_EQ(EAFNOSUPPORT, uinet_socreate(inst, 10, &so, UINET_SOCK_STREAM, 0));
    EXPECT_EQ(EPROTONOSUPPORT, uinet_socreate(inst, UINET_AF_INET, &so, UINET_SOCK_STREAM, UINET_IPPROTO_UDP));
    EXPECT_EQ(EPROTOTYPE, uinet_socreate(inst, UINET_AF_INET, &so, 77, 0));
    // Before start, calls run on the caller's thread.
    ASSERT_EQ(0, uinet_socreate(inst, UINET_AF_INET, &so, UINET_SOCK_STREAM, 0));
    auto bad = sin("192.0.2.9", 80);
    EXPECT_EQ(EADDRNOTAVAIL, uinet_sobind(so, &bad));
    uinet_sockaddr_in name;
    EXPECT_EQ(0, uinet_sogetsockaddr(so, &name));
    EXPECT_EQ(0, port_of(name));
    EXPECT_EQ(ENOTCONN, uinet_sogetpeeraddr(so, &name));
    // Receiving on a socket that never connected.
    std::uint8_t b[4];
    std::size_t got = 0;
    EXPECT_EQ(ENOTCONN, recv_some(so, b, sizeof b, &got));
    EXPECT_EQ(0, uinet_instance_stop(inst));  // not running: nothing to do
    uinet_in_addr ia;
    EXPECT_EQ(EINVAL, uinet_inet_pton("300.1.1.1", &ia));
    ASSERT_EQ(0, uinet_inet_pton("10.1.2.3", &ia));
    EXPECT_EQ(0x0a, reinterpret_cast<std::uint8_t*>(&ia.s_addr)[0]);  // network order
    char txt[16];
    EXPECT_EQ(ENOSPC, uinet_inet_ntop(&ia, txt, 8));
    ASSERT_EQ(0, uinet_inet_ntop(&ia, txt, sizeof txt));
    EXPECT_STREQ(txt, "10.1.2.3");
    EXPECT_EQ(0, uinet_instance_destroy(inst));  // frees the socket left open
}

}  // namespace
