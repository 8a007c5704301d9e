// SO_REUSEPORT: several listeners on one port, connections spread over them
// by a hash of the 4-tuple. In virtual time through the socket layer
// (deterministic), and through the C API with real threads.
#include <vector>

#include "capi_fixture.hpp"
#include "sim_pair.hpp"

using namespace uinet;
using namespace uinet::test;

namespace {

// Opens n connections from a to b:port and runs until they are set up.
std::vector<SocketId> connect_many(SimPair& p, std::uint16_t port, int n) {
    std::vector<SocketId> out;
    for (int i = 0; i < n; ++i) {
        SocketId c = *p.a->tcp().open();
        EXPECT_TRUE(p.a->tcp().connect(p.clock.now(), c, {p.ip_b, Port(port)}));
        out.push_back(c);
    }
    // SYNs beyond what ARP queues while it resolves go again after the RTO.
    EXPECT_TRUE(p.run_until(
        [&] {
            for (SocketId c : out)
                if (p.a->tcp().state(c) != tcp::TcpState::established) return false;
            return true;
        },
        Duration::seconds(10)));
    p.run_for(Duration::millis(100));  // the final ACKs reach b
    return out;
}

int accept_all(SimPair& p, SocketId l) {
    int n = 0;
    while (p.b->tcp().accept(l)) ++n;
    return n;
}

TEST(ReusePort, ListenersShareAPortAndTheConnections) {
    SimPair p;
    TcpSockets& t = p.b->tcp();
    SocketId l1 = *t.open(), l2 = *t.open(), other = *t.open();
    ASSERT_TRUE(t.bind(l1, {Ipv4Addr::any(), Port(80)}, false, true));
    ASSERT_TRUE(t.bind(l2, {Ipv4Addr::any(), Port(80)}, false, true));
    ASSERT_TRUE(t.listen(l1, 128));
    ASSERT_TRUE(t.listen(l2, 128));
    // Without SO_REUSEPORT (even with SO_REUSEADDR) the port is taken.
    auto e = t.bind(other, {Ipv4Addr::any(), Port(80)}, false, false);
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error(), tcp::BindError::address_in_use);
    EXPECT_FALSE(t.bind(other, {p.ip_b, Port(80)}, true, false));

    connect_many(p, 80, 64);
    const int n1 = accept_all(p, l1), n2 = accept_all(p, l2);
    EXPECT_EQ(64, n1 + n2);
    EXPECT_GT(n1, 0);
    EXPECT_GT(n2, 0);

    // With one listener closed, the other takes every new connection.
    t.close(p.clock.now(), l1);
    connect_many(p, 80, 8);
    EXPECT_EQ(8, accept_all(p, l2));

    // A third SO_REUSEPORT socket may join while connections exist.
    SocketId l3 = *t.open();
    EXPECT_TRUE(t.bind(l3, {Ipv4Addr::any(), Port(80)}, false, true));
}

TEST(ReusePort, AddressedListenersBeatWildcardOnes) {
    SimPair p;
    TcpSockets& t = p.b->tcp();
    SocketId wild = *t.open(), exact = *t.open();
    ASSERT_TRUE(t.bind(wild, {Ipv4Addr::any(), Port(81)}, false, true));
    ASSERT_TRUE(t.bind(exact, {p.ip_b, Port(81)}, false, true));
    ASSERT_TRUE(t.listen(wild, 16));
    ASSERT_TRUE(t.listen(exact, 16));
    connect_many(p, 81, 8);
    EXPECT_EQ(8, accept_all(p, exact));
    EXPECT_EQ(0, accept_all(p, wild));
}

TEST(ReusePort, SameFourTupleSameListener) {
    // Two runs with the same seeds pick the same listeners: the choice
    // depends on the 4-tuple and the stack's key only.
    auto run = [] {
        SimPair p;
        TcpSockets& t = p.b->tcp();
        std::vector<SocketId> ls;
        for (int i = 0; i < 3; ++i) {
            ls.push_back(*t.open());
            EXPECT_TRUE(t.bind(ls.back(), {Ipv4Addr::any(), Port(82)}, false, true));
            EXPECT_TRUE(t.listen(ls.back(), 64));
        }
        connect_many(p, 82, 30);
        std::vector<int> counts;
        for (SocketId l : ls) counts.push_back(accept_all(p, l));
        return counts;
    };
    auto first = run();
    EXPECT_EQ(first, run());
    int total = 0, used = 0;
    for (int c : first) {
        total += c;
        used += c > 0;
    }
    EXPECT_EQ(30, total);
    EXPECT_EQ(3, used);
}

using capi_test::CapiPair;

TEST_F(CapiPair, ReusePortThroughTheCApi) {
    uinet_socket* ls[2] = {nullptr, nullptr};
    auto addr = capi_test::sin(kIpB, 9000);
    for (auto& l : ls) {
        ASSERT_EQ(0, uinet_socreate(b_, UINET_AF_INET, &l, UINET_SOCK_STREAM, 0));
        ASSERT_EQ(0, capi_test::set_int(l, UINET_SOL_SOCKET, UINET_SO_REUSEPORT, 1));
        ASSERT_EQ(0, uinet_sobind(l, &addr));
        ASSERT_EQ(0, uinet_solisten(l, 64));
        ASSERT_EQ(0, uinet_sosetnonblocking(l, 1));
    }
    uinet_socket* plain = nullptr;
    ASSERT_EQ(0, uinet_socreate(b_, UINET_AF_INET, &plain, UINET_SOCK_STREAM, 0));
    EXPECT_EQ(EADDRINUSE, uinet_sobind(plain, &addr));
    EXPECT_EQ(0, uinet_soclose(plain));

    constexpr int kConns = 32;
    std::vector<uinet_socket*> clients;
    for (int i = 0; i < kConns; ++i) {
        uinet_socket* c = nullptr;
        ASSERT_EQ(0, uinet_socreate(a_, UINET_AF_INET, &c, UINET_SOCK_STREAM, 0));
        ASSERT_EQ(0, uinet_soconnect(c, &addr));
        clients.push_back(c);
    }
    int accepted[2] = {0, 0};
    std::vector<uinet_socket*> servers;
    while (accepted[0] + accepted[1] < kConns) {
        int ev[2] = {UINET_POLLIN, UINET_POLLIN};
        ASSERT_GT(uinet_sowait(ls, 2, ev, 20000), 0);
        for (int i = 0; i < 2; ++i) {
            uinet_socket* s = nullptr;
            while (uinet_soaccept(ls[i], nullptr, &s) == 0) {
                ++accepted[i];
                servers.push_back(s);
            }
        }
    }
    EXPECT_EQ(kConns, accepted[0] + accepted[1]);
    // 32 connections all on one of two listeners: probability 2^-31.
    EXPECT_GT(accepted[0], 0);
    EXPECT_GT(accepted[1], 0);
    for (uinet_socket* s : servers) EXPECT_EQ(0, uinet_soclose(s));
    for (uinet_socket* c : clients) EXPECT_EQ(0, uinet_soclose(c));
    for (uinet_socket* l : ls) EXPECT_EQ(0, uinet_soclose(l));
}

}  // namespace
