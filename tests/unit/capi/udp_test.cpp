// C API datagram sockets: sendto through uinet_sosend with a destination,
// receive with the source address, gather/scatter, truncation, connected
// sockets, timeouts.
#include <thread>

#include "capi_fixture.hpp"

using namespace capi_test;

namespace {

TEST_F(CapiPair, UdpSendtoAndReceiveFrom) {
    uinet_socket *ua = nullptr, *ub = nullptr;
    ASSERT_EQ(0, uinet_socreate(a_, UINET_AF_INET, &ua, UINET_SOCK_DGRAM, 0));
    ASSERT_EQ(0, uinet_socreate(b_, UINET_AF_INET, &ub, UINET_SOCK_DGRAM, UINET_IPPROTO_UDP));
    auto la = sin(nullptr, 5000), lb = sin(kIpB, 7000);
    ASSERT_EQ(0, uinet_sobind(ua, &la));
    ASSERT_EQ(0, uinet_sobind(ub, &lb));

    // One datagram gathered from two pieces.
    char h[] = "hello, ", w[] = "world";
    uinet_iovec gv[2] = {{h, 7}, {w, 5}};
    uinet_uio gu{gv, 2, 12};
    ASSERT_EQ(0, uinet_sosend(ua, &lb, &gu, 0));
    EXPECT_EQ(0u, gu.uio_resid);

    // Scattered over three pieces on receipt; the sender's address comes back.
    char r1[4], r2[4], r3[16];
    uinet_iovec sv[3] = {{r1, 4}, {r2, 4}, {r3, 16}};
    uinet_uio su{sv, 3, 24};
    uinet_sockaddr_in from;
    int flags = 0;
    ASSERT_EQ(0, uinet_soreceive(ub, &from, &su, &flags));
    EXPECT_EQ(0, flags);
    EXPECT_EQ(12u, 24 - su.uio_resid);
    EXPECT_EQ(std::string(r1, 4) + std::string(r2, 4) + std::string(r3, 4), "hello, world");
    EXPECT_EQ(ip_of(from), kIpA);
    EXPECT_EQ(port_of(from), 5000);

    // A datagram longer than the buffers is cut and flagged.
    EXPECT_EQ(EDESTADDRREQ, send_all(ua, "0123456789", 10));  // not connected: needs a destination
    uinet_iovec lv{const_cast<char*>("0123456789"), 10};
    uinet_uio lu{&lv, 1, 10};
    ASSERT_EQ(0, uinet_sosend(ua, &lb, &lu, 0));
    char small[4];
    std::size_t n = 0;
    uinet_iovec smv{small, 4};
    uinet_uio smu{&smv, 1, 4};
    flags = 0;
    ASSERT_EQ(0, uinet_soreceive(ub, nullptr, &smu, &flags));
    EXPECT_EQ(UINET_MSG_TRUNC, flags);
    EXPECT_EQ(std::string(small, 4), "0123");

    // Connected: no destination needed; the reply goes back to the source.
    auto back = sin(kIpA, 5000);
    ASSERT_EQ(0, uinet_soconnect(ub, &back));
    ASSERT_EQ(0, send_all(ub, "pong", 4));
    char pr[8];
    ASSERT_EQ(0, recv_some(ua, pr, sizeof pr, &n));
    EXPECT_EQ(std::string(pr, n), "pong");
    uinet_sockaddr_in peer;
    ASSERT_EQ(0, uinet_sogetpeeraddr(ub, &peer));
    EXPECT_EQ(port_of(peer), 5000);
    int st = 0;
    ASSERT_EQ(0, uinet_sogetstate(ub, &st));
    EXPECT_TRUE(st & UINET_SS_ISCONNECTED);

    // Timeouts, MSG_DONTWAIT and the unsupported MSG_PEEK.
    uinet_timeval tv{0, 20000};
    ASSERT_EQ(0, setopt(ua, UINET_SOL_SOCKET, UINET_SO_RCVTIMEO, tv));
    EXPECT_EQ(EAGAIN, recv_some(ua, pr, sizeof pr, &n));
    EXPECT_EQ(EAGAIN, recv_some(ub, pr, sizeof pr, &n, UINET_MSG_DONTWAIT));
    EXPECT_EQ(EOPNOTSUPP, recv_some(ub, pr, sizeof pr, &n, UINET_MSG_PEEK));
    EXPECT_EQ(EOPNOTSUPP, uinet_solisten(ub, 1));
    std::vector<char> huge(70000);
    uinet_iovec hv{huge.data(), huge.size()};
    uinet_uio hu{&hv, 1, huge.size()};
    EXPECT_EQ(EMSGSIZE, uinet_sosend(ua, &lb, &hu, 0));
    // Shut for writing: sends fail.
    ASSERT_EQ(0, uinet_soshutdown(ub, UINET_SHUT_WR));
    EXPECT_EQ(EPIPE, send_all(ub, "x", 1));
    EXPECT_EQ(0, uinet_soclose(ua));
    EXPECT_EQ(0, uinet_soclose(ub));
}

TEST_F(CapiPair, UdpBlockingReceiveWokenByData) {
    uinet_socket *ua = nullptr, *ub = nullptr;
    ASSERT_EQ(0, uinet_socreate(a_, UINET_AF_INET, &ua, UINET_SOCK_DGRAM, 0));
    ASSERT_EQ(0, uinet_socreate(b_, UINET_AF_INET, &ub, UINET_SOCK_DGRAM, 0));
    auto lb = sin(nullptr, 53);
    ASSERT_EQ(0, uinet_sobind(ub, &lb));
    int err = -1;
    std::string got;
    std::thread rx([&] {
        char b[32];
        std::size_t n = 0;
        err = recv_some(ub, b, sizeof b, &n);
        got.assign(b, n);
    });
    auto dst = sin(kIpB, 53);
    uinet_iovec v{const_cast<char*>("query"), 5};
    uinet_uio u{&v, 1, 5};
    ASSERT_EQ(0, uinet_sosend(ua, &dst, &u, 0));
    rx.join();
    EXPECT_EQ(0, err);
    EXPECT_EQ(got, "query");
    uinet_sockaddr_in me;
    ASSERT_EQ(0, uinet_sogetsockaddr(ua, &me));
    EXPECT_NE(0, port_of(me));  // an ephemeral port was bound by the send
    EXPECT_EQ(0, uinet_soclose(ua));
    EXPECT_EQ(0, uinet_soclose(ub));
}

}  // namespace
