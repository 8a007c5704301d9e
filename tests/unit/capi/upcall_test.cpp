// C API on the stack's own thread: an echo server written entirely in
// upcalls with non-blocking sockets; EDEADLK for blocking calls made inside
// an upcall; uinet_sowait() across threads.
#include <atomic>
#include <thread>

#include "capi_fixture.hpp"

using namespace capi_test;

namespace {

// Echo server state, touched only on instance b's thread.
struct Echo {
    int accepted = 0;
    int closed = 0;
    int errors = 0;
    Flag done;  // the client's connection ended
};

void echo_conn(uinet_socket* so, void* arg, int events) {
    auto* e = static_cast<Echo*>(arg);
    if (events & UINET_POLLIN) {
        for (;;) {
            std::uint8_t buf[4096];
            uinet_iovec v{buf, sizeof buf};
            uinet_uio u{&v, 1, sizeof buf};
            int r = uinet_soreceive(so, nullptr, &u, nullptr);
            if (r == EAGAIN) return;
            const std::size_t n = sizeof buf - u.uio_resid;
            if (r != 0 || n == 0) {  // end of stream or error: close from inside the upcall
                if (r != 0) ++e->errors;
                ++e->closed;
                if (uinet_soclose(so) != 0) ++e->errors;
                e->done.raise();
                return;
            }
            uinet_iovec w{buf, n};
            uinet_uio wu{&w, 1, n};
            if (uinet_sosend(so, nullptr, &wu, 0) != 0 || wu.uio_resid != 0) ++e->errors;
        }
    }
}

void echo_listener(uinet_socket* l, void* arg, int events) {
    auto* e = static_cast<Echo*>(arg);
    if (!(events & UINET_POLLIN)) return;
    for (;;) {
        uinet_socket* c = nullptr;
        int r = uinet_soaccept(l, nullptr, &c);
        if (r == EAGAIN) return;
        if (r != 0) {
            ++e->errors;
            return;
        }
        ++e->accepted;
        int st = 0;
        if (uinet_sogetstate(c, &st) != 0 || !(st & UINET_SS_NBIO)) ++e->errors;  // inherited
        if (uinet_sosetupcall(c, echo_conn, e) != 0) ++e->errors;
        echo_conn(c, e, UINET_POLLIN);  // data may have come before the upcall was set
    }
}

TEST_F(CapiPair, EchoServerInUpcalls) {
    Echo echo;
    uinet_socket* l = nullptr;
    ASSERT_EQ(0, uinet_socreate(b_, UINET_AF_INET, &l, UINET_SOCK_STREAM, 0));
    ASSERT_EQ(0, uinet_sosetnonblocking(l, 1));
    auto s = sin(nullptr, 7);
    ASSERT_EQ(0, uinet_sobind(l, &s));
    ASSERT_EQ(0, uinet_solisten(l, 8));
    ASSERT_EQ(0, uinet_sosetupcall(l, echo_listener, &echo));

    uinet_socket* cli = nullptr;
    ASSERT_EQ(0, uinet_socreate(a_, UINET_AF_INET, &cli, UINET_SOCK_STREAM, 0));
    auto dst = sin(kIpB, 7);
    ASSERT_EQ(0, uinet_soconnect(cli, &dst));
    std::string got;
    for (int i = 0; i < 50; ++i) {
        std::string msg = "message " + std::to_string(i) + ";";
        ASSERT_EQ(0, send_all(cli, msg.data(), msg.size()));
        std::string back(msg.size(), '\0');
        uinet_iovec v{back.data(), back.size()};
        uinet_uio u{&v, 1, back.size()};
        int f = UINET_MSG_WAITALL;
        ASSERT_EQ(0, uinet_soreceive(cli, nullptr, &u, &f));
        got += back;
        EXPECT_EQ(back, msg);
    }
    EXPECT_EQ(0, uinet_soshutdown(cli, UINET_SHUT_WR));
    ASSERT_TRUE(echo.done.wait());
    std::uint8_t b[4];
    std::size_t n = 1;
    EXPECT_EQ(0, recv_some(cli, b, sizeof b, &n));  // the server closed too
    EXPECT_EQ(0u, n);
    EXPECT_EQ(0, uinet_soclose(cli));
    // The upcalls ran on b's thread: read their counters there too.
    ASSERT_EQ(0, uinet_sosetupcall(l, nullptr, nullptr));
    EXPECT_EQ(0, uinet_soclose(l));
    EXPECT_EQ(1, echo.accepted);
    EXPECT_EQ(1, echo.closed);
    EXPECT_EQ(0, echo.errors);
}

struct DeadlockProbe {
    uinet_instance_t* inst = nullptr;
    std::atomic<int> recv_err{-1}, stop_err{-1}, wait_err{0}, close_err{-1}, nb_recv_err{-1};
    std::atomic<int> calls{0};
    Flag seen;
};

void probe_upcall(uinet_socket* so, void* arg, int events) {
    auto* p = static_cast<DeadlockProbe*>(arg);
    if (!(events & UINET_POLLIN) || p->calls++ > 0) return;
    std::uint8_t b[8];
    uinet_iovec v{b, sizeof b};
    uinet_uio u{&v, 1, sizeof b};
    p->recv_err = uinet_soreceive(so, nullptr, &u, nullptr);  // blocking socket: would wait for itself
    p->close_err = uinet_soclose(so);
    p->stop_err = uinet_instance_stop(p->inst);
    int ev = UINET_POLLIN;
    p->wait_err = uinet_sowait(&so, 1, &ev, 1000);
    // The same call on a non-blocking socket runs here and now.
    uinet_sosetnonblocking(so, 1);
    u.uio_resid = sizeof b;
    p->nb_recv_err = uinet_soreceive(so, nullptr, &u, nullptr);
    uinet_sosetnonblocking(so, 0);
    p->seen.raise();
}

TEST_F(CapiPair, BlockingCallInsideUpcallIsEdeadlk) {
    uinet_socket *cli = nullptr, *srv = nullptr;
    connect_pair(8100, &cli, &srv);
    DeadlockProbe p;
    p.inst = b_;
    ASSERT_EQ(0, uinet_sosetupcall(srv, probe_upcall, &p));
    ASSERT_EQ(0, send_all(cli, "ping", 4));
    ASSERT_TRUE(p.seen.wait());
    EXPECT_EQ(EDEADLK, p.recv_err.load());
    EXPECT_EQ(EDEADLK, p.close_err.load());
    EXPECT_EQ(EDEADLK, p.stop_err.load());
    EXPECT_EQ(-EDEADLK, p.wait_err.load());
    EXPECT_EQ(0, p.nb_recv_err.load());
    // The socket is intact: the data was read by the non-blocking call.
    ASSERT_EQ(0, uinet_sosetupcall(srv, nullptr, nullptr));
    EXPECT_EQ(0, send_all(cli, "pong", 4));
    char b[4];
    std::size_t n = 0;
    EXPECT_EQ(0, recv_some(srv, b, sizeof b, &n, UINET_MSG_WAITALL));
    EXPECT_EQ(std::string(b, n), "pong");
    EXPECT_EQ(0, uinet_soclose(cli));
    EXPECT_EQ(0, uinet_soclose(srv));
}

TEST_F(CapiPair, NonblockingConnectFromAnotherThread) {
    uinet_socket* l = listener(8101);
    uinet_socket* cli = nullptr;
    ASSERT_EQ(0, uinet_socreate(a_, UINET_AF_INET, &cli, UINET_SOCK_STREAM, 0));
    ASSERT_EQ(0, uinet_sosetnonblocking(cli, 1));
    auto dst = sin(kIpB, 8101);
    EXPECT_EQ(EINPROGRESS, uinet_soconnect(cli, &dst));
    int ev = UINET_POLLOUT;
    EXPECT_EQ(1, uinet_sowait(&cli, 1, &ev, -1));
    EXPECT_EQ(UINET_POLLOUT, ev);
    EXPECT_EQ(0, uinet_sogeterror(cli));
    EXPECT_EQ(EISCONN, uinet_soconnect(cli, &dst));
    int st = 0;
    ASSERT_EQ(0, uinet_sogetstate(cli, &st));
    EXPECT_TRUE(st & UINET_SS_ISCONNECTED);
    EXPECT_TRUE(st & UINET_SS_NBIO);
    std::uint8_t b[4];
    std::size_t n = 0;
    EXPECT_EQ(EAGAIN, recv_some(cli, b, sizeof b, &n));
    uinet_socket* srv = nullptr;
    ASSERT_EQ(0, uinet_soaccept(l, nullptr, &srv));
    uinet_sockaddr_in me, peer;
    ASSERT_EQ(0, uinet_sogetsockaddr(cli, &me));
    ASSERT_EQ(0, uinet_sogetpeeraddr(srv, &peer));
    EXPECT_EQ(port_of(me), port_of(peer));
    EXPECT_EQ(ip_of(me), kIpA);
    EXPECT_EQ(0, uinet_soclose(srv));
    EXPECT_EQ(0, uinet_soclose(cli));
    EXPECT_EQ(0, uinet_soclose(l));
}

TEST_F(CapiPair, SowaitAcrossSockets) {
    uinet_socket *c1 = nullptr, *s1 = nullptr, *c2 = nullptr, *s2 = nullptr;
    connect_pair(8200, &c1, &s1);
    connect_pair(8201, &c2, &s2);
    uinet_socket* socks[2] = {s1, s2};
    int ev[2] = {UINET_POLLIN, UINET_POLLIN};
    EXPECT_EQ(0, uinet_sowait(socks, 2, ev, 0));  // nothing yet
    EXPECT_EQ(0, ev[0] | ev[1]);
    ev[0] = ev[1] = UINET_POLLIN;
    EXPECT_EQ(0, uinet_sowait(socks, 2, ev, 20));  // times out
    // A waiter on another thread is woken by data for the second socket.
    int result = -1;
    int wev[2] = {UINET_POLLIN, UINET_POLLIN};
    std::thread waiter([&] { result = uinet_sowait(socks, 2, wev, -1); });
    EXPECT_EQ(0, send_all(c2, "x", 1));
    waiter.join();
    EXPECT_EQ(1, result);
    EXPECT_EQ(0, wev[0]);
    EXPECT_EQ(UINET_POLLIN, wev[1]);
    // Writability is ready at once; read interest on a quiet socket is not.
    uinet_socket* mixed[2] = {c1, s1};
    int mev[2] = {UINET_POLLOUT, UINET_POLLIN};
    EXPECT_EQ(1, uinet_sowait(mixed, 2, mev, -1));
    EXPECT_EQ(UINET_POLLOUT, mev[0]);
    EXPECT_EQ(0, mev[1]);
    // A reset shows as an error whatever was asked.
    uinet_linger l{1, 0};
    ASSERT_EQ(0, setopt(c1, UINET_SOL_SOCKET, UINET_SO_LINGER, l));
    EXPECT_EQ(0, uinet_soclose(c1));
    int e1 = 0;
    EXPECT_EQ(1, uinet_sowait(&s1, 1, &e1, -1));
    EXPECT_TRUE(e1 & UINET_POLLERR);
    EXPECT_EQ(-EINVAL, uinet_sowait(nullptr, 1, &e1, 0));
    for (uinet_socket* s : {s1, c2, s2}) EXPECT_EQ(0, uinet_soclose(s));
}

TEST_F(CapiPair, RcvLowatHoldsReadinessAndBlockingReceive) {
    uinet_socket *cli = nullptr, *srv = nullptr;
    connect_pair(8300, &cli, &srv);
    ASSERT_EQ(0, set_int(srv, UINET_SOL_SOCKET, UINET_SO_RCVLOWAT, 6));
    ASSERT_EQ(0, send_all(cli, "abc", 3));
    // Wait until the 3 bytes are there: MSG_PEEK | MSG_WAITALL waits for
    // exactly what it asks, whatever the mark.
    char p[3];
    uinet_iovec pv{p, 3};
    uinet_uio pu{&pv, 1, 3};
    int f = UINET_MSG_PEEK | UINET_MSG_WAITALL;
    ASSERT_EQ(0, uinet_soreceive(srv, nullptr, &pu, &f));
    int ev = UINET_POLLIN;
    EXPECT_EQ(0, uinet_sowait(&srv, 1, &ev, 0));  // 3 bytes < 6
    char b[16];
    std::size_t n = 0;
    EXPECT_EQ(EAGAIN, recv_some(srv, b, sizeof b, &n, UINET_MSG_DONTWAIT));
    std::thread more([&] { EXPECT_EQ(0, send_all(cli, "defghi", 6)); });
    EXPECT_EQ(0, recv_some(srv, b, sizeof b, &n));  // blocks until >= 6 bytes
    more.join();
    EXPECT_GE(n, 6u);
    EXPECT_EQ(std::string(b, 6), "abcdef");
    EXPECT_EQ(0, uinet_soclose(cli));
    EXPECT_EQ(0, uinet_soclose(srv));
}

}  // namespace
