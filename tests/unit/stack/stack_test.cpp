// Stack instance tests: mailbox and blocking calls across threads,
// independent instances, UDP sockets end to end over a mem link, events
// delivered after the batch, stale socket handles.
#include <gtest/gtest.h>

#include <thread>

#include "host/posix.hpp"
#include "host/virtual.hpp"
#include "link/mem_pipe.hpp"
#include "stack/stack.hpp"

using namespace uinet;

namespace {

struct TwoStacks {
    VirtualClock clock;
    SeededRandom ra{1}, rb{2};
    Host ha{}, hb{};
    std::unique_ptr<Stack> a, b;
    const Ipv4Addr ip_a = Ipv4Addr::of(198, 18, 0, 1), ip_b = Ipv4Addr::of(198, 18, 0, 2);

    explicit TwoStacks(bool blackhole = true) {
        clock.set(Instant::from_ns(1'000'000'000));
        ha.clock = hb.clock = &clock;
        ha.random = &ra;
        hb.random = &rb;
        StackOptions o;
        o.pool.count = 256;
        o.net.blackhole = blackhole;
        o.name = "a";
        a = std::make_unique<Stack>(ha, o);
        o.name = "b";
        b = std::make_unique<Stack>(hb, o);
        MemLinkConfig lc;
        lc.delay = Duration::millis(1);
        auto [ea, eb] = make_mem_pipe(a->pool(), b->pool(), lc);
        net::InterfaceConfig ca, cb;
        ca.mac = *MacAddr::parse("02:00:00:00:00:01");
        ca.ipv4 = {Ipv4Cidr{ip_a, 24}};
        cb.mac = *MacAddr::parse("02:00:00:00:00:02");
        cb.ipv4 = {Ipv4Cidr{ip_b, 24}};
        a->add_interface(std::move(ea), ca);
        b->add_interface(std::move(eb), cb);
    }
    void run_for(Duration d) {
        Instant end = clock.now() + d;
        while (clock.now() < end) {
            a->poll(clock.now());
            b->poll(clock.now());  // deadlines only after both ran: each may have sent to the other
            Instant t = earliest(a->next_deadline(), b->next_deadline());
            if (t <= clock.now()) t = clock.now() + Duration::micros(1);
            clock.set(earliest(t, end));
        }
        a->poll(clock.now());
        b->poll(clock.now());
    }
};

}  // namespace

TEST(Stack, UdpRoundTripWithEventsAfterBatch) {
    TwoStacks s;
    SocketId srv = *s.b->udp().open();
    ASSERT_TRUE(s.b->udp().bind(srv, {Ipv4Addr::any(), Port(7)}));
    int events = 0;
    std::vector<std::uint8_t> buf(2048);
    s.b->udp().set_upcall(srv, [&](SocketId id, std::uint32_t ev) {
        ++events;
        EXPECT_TRUE(ev & event::readable);
        while (auto r = s.b->udp().recvfrom(id, buf)) {
            EXPECT_EQ(r->to.port, Port(7));
            (void)s.b->udp().sendto(s.b->now(), id, {buf.data(), r->size}, r->from);
        }
    });
    SocketId cli = *s.a->udp().open();
    ASSERT_TRUE(s.a->udp().connect(cli, {s.ip_b, Port(7)}));
    auto local = s.a->udp().local_endpoint(cli);
    ASSERT_TRUE(local);
    EXPECT_GE(local->port.value(), 49152);
    const std::string msg = "three datagrams";
    for (int i = 0; i < 3; ++i)
        ASSERT_TRUE(s.a->udp().sendto(s.clock.now(), cli, {reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size()}));
    s.run_for(Duration::millis(50));
    int got = 0;
    while (auto r = s.a->udp().recvfrom(cli, buf)) {
        EXPECT_EQ(std::string(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(r->size)), msg);
        EXPECT_EQ(r->from.addr, s.ip_b);
        ++got;
    }
    EXPECT_EQ(got, 3);
    EXPECT_GE(events, 1);
    auto rr = s.a->udp().recvfrom(cli, buf);
    ASSERT_FALSE(rr);
    EXPECT_EQ(rr.error(), SockRecvError::would_block);
}

TEST(Stack, UpcallMayCloseItsOwnSocketAndStaleIdsAreRefused) {
    TwoStacks s;
    SocketId srv = *s.b->udp().open();
    ASSERT_TRUE(s.b->udp().bind(srv, {Ipv4Addr::any(), Port(9)}));
    int calls = 0;
    s.b->udp().set_upcall(srv, [&](SocketId id, std::uint32_t) {
        ++calls;
        s.b->udp().close(id);
    });
    SocketId cli = *s.a->udp().open();
    std::uint8_t x = 1;
    for (int i = 0; i < 5; ++i) (void)s.a->udp().sendto(s.clock.now(), cli, {&x, 1}, Endpoint{s.ip_b, Port(9)});
    s.run_for(Duration::millis(50));
    EXPECT_EQ(calls, 1);
    std::vector<std::uint8_t> buf(16);
    auto r = s.b->udp().recvfrom(srv, buf);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), SockRecvError::bad_socket);
    // A new socket reusing the slot does not answer to the stale id.
    SocketId again = *s.b->udp().open();
    EXPECT_EQ(again.slot, srv.slot);
    EXPECT_NE(again.gen, srv.gen);
    EXPECT_FALSE(s.b->udp().bind(srv, {Ipv4Addr::any(), Port(9)}));
}

TEST(Stack, BindConflictsAndWildcards) {
    TwoStacks s;
    UdpSockets& u = s.b->udp();
    SocketId x = *u.open(), y = *u.open(), z = *u.open();
    ASSERT_TRUE(u.bind(x, {Ipv4Addr::any(), Port(53)}));
    auto e = u.bind(y, {s.ip_b, Port(53)});
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error(), udp::BindError::address_in_use);
    auto f = u.bind(z, {Ipv4Addr::of(10, 9, 9, 9), Port(54)});
    ASSERT_FALSE(f);
    EXPECT_EQ(f.error(), udp::BindError::address_not_available);
    EXPECT_EQ(udp::to_errno(e.error()), EADDRINUSE);
}

TEST(Stack, PortUnreachableReachesConnectedSocket) {
    TwoStacks s(false);
    SocketId cli = *s.a->udp().open();
    ASSERT_TRUE(s.a->udp().connect(cli, {s.ip_b, Port(4444)}));
    std::uint8_t x = 1;
    ASSERT_TRUE(s.a->udp().sendto(s.clock.now(), cli, {&x, 1}));
    s.run_for(Duration::millis(50));
    EXPECT_EQ(s.b->net().counters().icmp_unreach_sent, 1u);
    std::vector<std::uint8_t> buf(16);
    auto r = s.a->udp().recvfrom(cli, buf);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), SockRecvError::connection_refused);
}

TEST(Stack, BlackholeIsSilent) {
    TwoStacks s(true);
    SocketId cli = *s.a->udp().open();
    ASSERT_TRUE(s.a->udp().connect(cli, {s.ip_b, Port(4444)}));
    std::uint8_t x = 1;
    ASSERT_TRUE(s.a->udp().sendto(s.clock.now(), cli, {&x, 1}));
    s.run_for(Duration::millis(50));
    EXPECT_EQ(s.b->udp_layer().counters().rx_no_port, 1u);
    EXPECT_EQ(s.b->net().counters().icmp_unreach_sent, 0u);
    EXPECT_EQ(s.b->net().counters().icmp_errors_suppressed, 1u);
}

TEST(Stack, CallAcrossThreadsAndDeadlockOnOwnThread) {
    PosixHost ph;
    Stack st(ph.host());
    auto before = st.call([] { return 1; });
    ASSERT_FALSE(before);
    EXPECT_EQ(before.error(), CallError::not_running);
    std::thread loop([&] { st.run(); });
    // Blocking calls from this thread are run by the loop thread.
    std::thread::id loop_id{};
    Result<int, CallError> r = Err{CallError::not_running};
    while (!(r = st.call([&] {
                 loop_id = std::this_thread::get_id();
                 return 42;
             })) &&
           r.error() == CallError::not_running) {
        std::this_thread::yield();  // the loop thread has not entered run() yet
    }
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, 42);
    EXPECT_EQ(loop_id, loop.get_id());
    // On the stack's own thread a blocking call refuses instead of hanging.
    auto inner = st.call([&] { return st.call([] { return 1; }).ok() ? 1 : (st.call([] { return 1; }).error() == CallError::deadlock ? 2 : 3); });
    ASSERT_TRUE(inner);
    EXPECT_EQ(*inner, 2);
    st.stop();
    loop.join();
    EXPECT_FALSE(st.running());
}

TEST(Stack, IndependentInstancesShareNothing) {
    TwoStacks s1, s2;
    SocketId a = *s1.b->udp().open();
    SocketId b = *s2.b->udp().open();
    EXPECT_TRUE(s1.b->udp().bind(a, {Ipv4Addr::any(), Port(7)}));
    EXPECT_TRUE(s2.b->udp().bind(b, {Ipv4Addr::any(), Port(7)}));  // no conflict across instances
    EXPECT_NE(&s1.b->pool(), &s2.b->pool());
    std::string j = s1.a->counters_json();
    EXPECT_NE(j.find("\"net\":{"), std::string::npos);
    EXPECT_NE(j.find("\"arp_announcements_sent\":1"), std::string::npos);
}
