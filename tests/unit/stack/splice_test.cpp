// Splicer: a proxy stack relays a connection between two sockets, both ways,
// with half-close, reset propagation and back-pressure (stack/splice.hpp).
//
// Stack a holds both endpoints (a client and a server on port 9); stack b
// is the proxy: it accepts the client on port 80, connects to a's server and
// splices the two sockets.
#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "sim_pair.hpp"
#include "stack/splice.hpp"

using namespace uinet;
using namespace uinet::test;

namespace {

std::vector<std::uint8_t> bytes_of(std::size_t n, std::uint8_t seed) {
    std::vector<std::uint8_t> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::uint8_t>((i * 7 + seed) % 251);
    return v;
}

struct ProxyFixture : ::testing::Test {
    SimPair p;
    TcpSockets& at = p.a->tcp();
    TcpSockets& bt = p.b->tcp();
    Splicer splicer{*p.b};
    SocketId server_listener, client, server, proxy_listener;
    std::optional<SpliceResult> result;

    void SetUp() override {
        server_listener = *at.open();
        ASSERT_TRUE(at.bind(server_listener, Endpoint{Ipv4Addr::any(), Port(9)}));
        ASSERT_TRUE(at.listen(server_listener));
        proxy_listener = *bt.open();
        ASSERT_TRUE(bt.bind(proxy_listener, Endpoint{Ipv4Addr::any(), Port(80)}));
        ASSERT_TRUE(bt.listen(proxy_listener));
        // The proxy: for each client, connect to the server and splice.
        bt.set_upcall(proxy_listener, [this](SocketId, std::uint32_t) {
            while (auto in = bt.accept(proxy_listener)) {
                SocketId out = *bt.open();
                ASSERT_TRUE(bt.connect(p.clock.now(), out, Endpoint{p.ip_a, Port(9)}));
                ASSERT_TRUE(splicer.join(*in, out, [this](const SpliceResult& r) { result = r; }));
            }
        });
        client = *at.open();
        ASSERT_TRUE(at.connect(p.clock.now(), client, Endpoint{p.ip_b, Port(80)}));
        ASSERT_TRUE(p.run_until(
            [&] {
                if (auto s = at.accept(server_listener)) server = *s;
                return server.slot != 0 && at.state(client) == tcp::TcpState::established;
            },
            Duration::seconds(5)));
    }

    // Moves `data` into `from` as the socket takes it, and reads `to` until
    // EOF (or until `want` bytes if want is set).
    std::vector<std::uint8_t> got_client, got_server;
    bool eof_client = false, eof_server = false;
    void drain(SocketId s, std::vector<std::uint8_t>& got, bool& eof) {
        std::uint8_t buf[16384];
        for (;;) {
            auto r = at.recv(p.clock.now(), s, buf);
            if (!r || *r == 0) {
                if (r && *r == 0) eof = true;
                return;
            }
            got.insert(got.end(), buf, buf + *r);
        }
    }
    void feed(SocketId s, const std::vector<std::uint8_t>& data, std::size_t& off) {
        while (off < data.size()) {
            auto r = at.send(p.clock.now(), s, {data.data() + off, data.size() - off});
            if (!r) return;
            off += *r;
        }
    }
};

}  // namespace

TEST_F(ProxyFixture, RelaysBothWaysWithHalfClose) {
    const auto up = bytes_of(1'000'000, 1), down = bytes_of(600'000, 2);
    std::size_t up_off = 0, down_off = 0;
    bool client_shut = false, server_closed = false;
    ASSERT_TRUE(p.run_until(
        [&] {
            feed(client, up, up_off);
            if (up_off == up.size() && !client_shut) client_shut = static_cast<bool>(at.shutdown(p.clock.now(), client, ShutdownHow::write));
            drain(server, got_server, eof_server);
            // The server answers after seeing the client's end of stream (half-close).
            if (eof_server) feed(server, down, down_off);
            if (eof_server && down_off == down.size() && !server_closed) {
                at.close(p.clock.now(), server);
                server_closed = true;
            }
            drain(client, got_client, eof_client);
            return eof_client && result.has_value();
        },
        Duration::seconds(60)));
    EXPECT_EQ(got_server, up);
    EXPECT_EQ(got_client, down);
    ASSERT_TRUE(result);
    EXPECT_EQ(result->end, SpliceEnd::clean);
    EXPECT_EQ(result->a_to_b, up.size());
    EXPECT_EQ(result->b_to_a, down.size());
    EXPECT_EQ(splicer.live(), 0u);
    EXPECT_EQ(splicer.counters().clean, 1u);
    at.close(p.clock.now(), client);
    p.run_for(Duration::seconds(1));
    EXPECT_EQ(p.b->tcp_layer().counters().rsts_sent, 0u);
    EXPECT_EQ(p.a->tcp_layer().counters().rsts_sent, 0u);
}

TEST_F(ProxyFixture, ServerResetReachesTheClient) {
    const auto up = bytes_of(10'000, 3);
    std::size_t off = 0;
    ASSERT_TRUE(p.run_until(
        [&] {
            feed(client, up, off);
            drain(server, got_server, eof_server);
            return got_server.size() == up.size();
        },
        Duration::seconds(10)));
    at.abort(p.clock.now(), server);
    ASSERT_TRUE(p.run_until([&] { return result.has_value() && at.state(client) == tcp::TcpState::closed; },
                            Duration::seconds(10)));
    EXPECT_EQ(result->end, SpliceEnd::reset_b);
    EXPECT_EQ(at.error(client), ECONNRESET);
    EXPECT_EQ(splicer.counters().reset, 1u);
}

TEST_F(ProxyFixture, ClientResetReachesTheServer) {
    at.abort(p.clock.now(), client);
    ASSERT_TRUE(p.run_until([&] { return result.has_value() && at.state(server) == tcp::TcpState::closed; },
                            Duration::seconds(10)));
    EXPECT_EQ(result->end, SpliceEnd::reset_a);
    EXPECT_EQ(at.error(server), ECONNRESET);
}

TEST_F(ProxyFixture, ASlowReaderHoldsTheWriterBack) {
    const auto up = bytes_of(8'000'000, 4);
    std::size_t off = 0;
    // The server reads nothing: the client must stall with the proxy
    // holding no more than its two sockets' buffers.
    p.run_until([&] { feed(client, up, off); return false; }, Duration::seconds(5));
    EXPECT_LT(off, up.size());
    EXPECT_LT(splicer.counters().bytes, 2'000'000u);
    EXPECT_EQ(p.b->pool().stats().alloc_failures, 0u);
    // Now the server reads: everything arrives, in order.
    ASSERT_TRUE(p.run_until(
        [&] {
            feed(client, up, off);
            drain(server, got_server, eof_server);
            return got_server.size() == up.size();
        },
        Duration::seconds(120)));
    EXPECT_EQ(got_server, up);
}
