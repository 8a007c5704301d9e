// Tests of the HTTP/1.1 test server, mostly against the test client over an
// in-memory connection cut into random pieces (seeded), and with raw bytes
// where a request must be malformed on purpose.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http_test_util.hpp"
#include "pump.hpp"
#include "services/http_client.hpp"
#include "services/pattern.hpp"
#include "services/sha256.hpp"
#include "services/stream_service.hpp"

using namespace uinet;
using namespace uinet::services;
using namespace uinet::services::test;

namespace {

constexpr std::uint64_t kSeeds[] = {1, 2, 3};

struct Exchange {
    std::string to_server, to_client;
    PumpStats stats;
};

Exchange run(HttpClient& client, StreamService& server, std::uint64_t seed, std::size_t max_piece = 3000) {
    Exchange r;
    Pump p(client, server, seed, max_piece);
    p.tap_ab = &r.to_server;
    p.tap_ba = &r.to_client;
    r.stats = p.run();
    EXPECT_FALSE(r.stats.stalled) << "seed " << seed;
    return r;
}

std::string sha_hex(std::string_view s) {
    return Sha256::hex(Sha256::of(Bytes(reinterpret_cast<const std::uint8_t*>(s.data()), s.size())));
}

std::string put_body_sha(std::uint64_t n) {
    std::vector<std::uint8_t> b(n);
    fill_put_pattern(0, b);
    return Sha256::hex(Sha256::of(b));
}

TEST(HttpServer, GetBytesOfManySizes) {
    for (std::uint64_t n : {0ull, 1ull, 250ull, 251ull, 252ull, 1000000ull}) {
        for (std::uint64_t seed : kSeeds) {
            auto server = make_http_server();
            auto client = make_http_get("/bytes/" + std::to_string(n));
            const Exchange r = run(*client, *server, seed, n > 10000 ? 20000 : 300);
            ASSERT_TRUE(client->ok()) << n << " seed " << seed << " " << client->error();
            const HttpResult& res = client->results()[0];
            EXPECT_EQ(res.status, 200);
            EXPECT_EQ(res.content_length, n);
            EXPECT_EQ(res.body_bytes, n);
            EXPECT_TRUE(res.pattern_ok);
            EXPECT_NE(r.to_client.find("\r\nServer: uinet\r\n"), std::string::npos);
            EXPECT_EQ(r.to_client.find("Date:"), std::string::npos);
            EXPECT_TRUE(server->done());  // the client closed, the server followed
        }
    }
}

TEST(HttpServer, BodyBytesAreTheMod251Pattern) {
    // Independent of the client's checker: compare the raw bytes.
    const std::string out = serve_raw("GET /bytes/600 HTTP/1.1\r\nHost: a\r\n\r\n");
    const auto v = split_responses(out);
    ASSERT_EQ(v.size(), 1u);
    ASSERT_EQ(v[0].body.size(), 600u);
    for (std::size_t i = 0; i < 600; ++i) ASSERT_EQ(static_cast<std::uint8_t>(v[0].body[i]), i % 251);
    EXPECT_TRUE(v[0].has("Content-Length: 600"));
}

TEST(HttpServer, HugeBodiesAreGeneratedLazily) {
    auto server = make_http_server();
    feed(*server, "HEAD /bytes/50000000000 HTTP/1.1\r\nHost: a\r\n\r\n"
                  "GET /bytes/1099511627776 HTTP/1.1\r\nHost: a\r\n\r\n");
    const std::string out = drain(*server, 3 << 20);
    const std::size_t second = out.find("HTTP/1.1 200", 10);
    ASSERT_NE(second, std::string::npos);
    EXPECT_NE(out.find("Content-Length: 50000000000\r\n"), std::string::npos);
    EXPECT_NE(out.find("Content-Length: 1099511627776\r\n", second), std::string::npos);
    const std::size_t body = out.find("\r\n\r\n", second) + 4;
    const std::string_view b = std::string_view(out).substr(body);
    EXPECT_GT(b.size(), 2u << 20);
    EXPECT_EQ(check_get_pattern(0, Bytes(reinterpret_cast<const std::uint8_t*>(b.data()), b.size())), b.size());
    EXPECT_TRUE(server->output_pending());
    EXPECT_FALSE(server->done());
}

TEST(HttpServer, Head) {
    for (std::uint64_t seed : kSeeds) {
        auto server = make_http_server();
        auto client = make_http_get("/bytes/1000", true);
        run(*client, *server, seed);
        ASSERT_TRUE(client->ok()) << client->error();
        EXPECT_EQ(client->results()[0].content_length, 1000u);
        EXPECT_EQ(client->results()[0].body_bytes, 0u);
    }
    // HEAD of a missing resource: the 404's fields, no content.
    const std::string out = serve_raw("HEAD /nope HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_EQ(out.substr(0, 22), "HTTP/1.1 404 Not Found");
    EXPECT_EQ(out.substr(out.size() - 4), "\r\n\r\n");
}

TEST(HttpServer, NotFoundAndMethodNotAllowed) {
    auto server = make_http_server();
    HttpRequestSpec a, b, c;
    a.path = "/nope";
    b.method = "DELETE";
    b.path = "/bytes/5";
    c.method = "get";  // methods are case-sensitive
    auto client = make_http_session({a, b, c});
    const Exchange r = run(*client, *server, 7);
    ASSERT_EQ(client->responses(), 3u) << client->error();
    EXPECT_EQ(client->results()[0].status, 404);
    EXPECT_EQ(client->results()[0].body_start, "not found\n");
    EXPECT_EQ(client->results()[1].status, 405);
    EXPECT_EQ(client->results()[2].status, 405);
    EXPECT_TRUE(client->ok());  // complete, consistent responses
    const auto v = split_responses(r.to_client);
    ASSERT_EQ(v.size(), 3u);
    EXPECT_TRUE(v[1].has("Allow: GET, HEAD, PUT"));
    for (const auto& x : v) EXPECT_FALSE(x.has("Connection: close"));
}

TEST(HttpServer, PutContentLengthAndChunked) {
    for (bool chunked : {false, true}) {
        for (std::uint64_t n : {0ull, 1ull, 65536ull, 300000ull}) {
            for (std::uint64_t seed : kSeeds) {
                auto server = make_http_server();
                auto client = make_http_put("/upload", n, chunked, false);
                const Exchange r = run(*client, *server, seed, 5000);
                ASSERT_TRUE(client->ok()) << n << " chunked " << chunked << " " << client->error();
                const HttpResult& res = client->results()[0];
                EXPECT_TRUE(res.digest_match);
                EXPECT_EQ(res.sent_sha256, put_body_sha(n));
                EXPECT_EQ(res.body_start, put_body_sha(n) + "\n");
                EXPECT_EQ(res.content_length, 65u);
                if (chunked) {
                    EXPECT_NE(r.to_server.find("Transfer-Encoding: chunked"), std::string::npos);
                    EXPECT_NE(r.to_server.find("X-Uinet-Trailer: ignored"), std::string::npos);
                    if (n > 5000) EXPECT_NE(r.to_server.find(";uinet-ext="), std::string::npos);
                }
            }
        }
    }
}

TEST(HttpServer, PutRawChunkedWithExtensionsAndTrailers) {
    const std::string out = serve_raw(
        "PUT /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        "1;a=b\r\na\r\n2 ; c\r\nbc\r\n0\r\nFoo: bar\r\nBaz: 1\r\n\r\n"
        "PUT /y HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
        "PUT /z HTTP/1.1\r\nHost: a\r\n\r\n");
    const auto v = split_responses(out);
    ASSERT_EQ(v.size(), 3u);
    const std::string abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n";
    EXPECT_EQ(v[0].body, abc);
    EXPECT_EQ(v[1].body, abc);
    EXPECT_EQ(v[2].body, sha_hex("") + "\n");
    EXPECT_TRUE(v[0].has("Content-Length: 65"));
}

TEST(HttpServer, ContinueIsSentBeforeTheBody) {
    for (bool chunked : {false, true}) {
        auto server = make_http_server();
        feed(*server, chunked ? "PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n"
                              : "PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n");
        EXPECT_EQ(drain(*server), "HTTP/1.1 100 Continue\r\n\r\n");
        EXPECT_TRUE(server->wants_input());
        feed(*server, chunked ? "3\r\nabc\r\n0\r\n\r\n" : "abc");
        const auto v = split_responses(drain(*server));
        ASSERT_EQ(v.size(), 1u);
        EXPECT_EQ(v[0].status, 200);
        EXPECT_EQ(v[0].body, sha_hex("abc") + "\n");
    }
    // No 100 for HTTP/1.0 (RFC 9110 §10.1.1) or without content.
    EXPECT_EQ(serve_raw("PUT / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc").substr(0, 12),
              "HTTP/1.1 200");
    EXPECT_EQ(serve_raw("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n")
                  .substr(0, 12),
              "HTTP/1.1 200");
}

TEST(HttpServer, ClientWaitsForContinue) {
    for (bool chunked : {false, true}) {
        for (std::uint64_t seed : kSeeds) {
            auto server = make_http_server();
            auto client = make_http_put("/", 20000, chunked, true);
            const Exchange r = run(*client, *server, seed);
            ASSERT_TRUE(client->ok()) << client->error();
            EXPECT_TRUE(client->results()[0].got_continue);
            EXPECT_EQ(r.to_client.substr(0, 25), "HTTP/1.1 100 Continue\r\n\r\n");
            EXPECT_NE(r.to_server.find("Expect: 100-continue\r\n"), std::string::npos);
        }
    }
    // Step by step: the client sends only the head until the 100 arrives.
    auto server = make_http_server();
    auto client = make_http_put("/", 10, false, true);
    const std::string head = drain(*client);
    EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");
    EXPECT_TRUE(client->waiting_for_continue());
    EXPECT_FALSE(client->output_pending());
    feed(*server, head);
    const std::string cont = drain(*server);
    EXPECT_EQ(cont, "HTTP/1.1 100 Continue\r\n\r\n");
    feed(*client, cont);
    EXPECT_TRUE(client->output_pending());
    feed(*server, drain(*client));
    feed(*client, drain(*server));
    EXPECT_TRUE(client->ok()) << client->error();
    EXPECT_TRUE(client->done());
}

TEST(HttpServer, PipelinedRequestsInOneWrite) {
    HttpClientOptions o;
    o.pipeline = true;
    HttpRequestSpec a, b;
    a.path = "/bytes/3";
    b.path = "/bytes/300";
    auto client = make_http_session({a, b}, o);
    const std::string both = drain(*client);
    EXPECT_EQ(both, "GET /bytes/3 HTTP/1.1\r\nHost: uinet\r\n\r\nGET /bytes/300 HTTP/1.1\r\nHost: uinet\r\n\r\n");
    auto server = make_http_server();
    feed(*server, both);
    const std::string answers = drain(*server);
    const auto v = split_responses(answers);
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0].body.size(), 3u);
    EXPECT_EQ(v[1].body.size(), 300u);
    feed(*client, answers);
    EXPECT_TRUE(client->ok()) << client->error();
}

TEST(HttpServer, DeepPipelineHitsBackPressureAndKeepsOrder) {
    HttpServerLimits lim;
    lim.max_queued_responses = 4;
    std::vector<HttpRequestSpec> reqs;
    for (int i = 0; i < 40; ++i) {
        HttpRequestSpec s;
        s.method = i % 5 == 3 ? "PUT" : i % 5 == 4 ? "HEAD" : "GET";
        s.path = "/bytes/" + std::to_string(i * 37);
        s.body_size = static_cast<std::uint64_t>(i) * 11;
        s.chunked = i % 2 == 0;
        reqs.push_back(s);
    }
    HttpClientOptions o;
    o.pipeline = true;
    for (std::uint64_t seed : kSeeds) {
        auto server = make_http_server(lim);
        auto client = make_http_session(reqs, o);
        run(*client, *server, seed, 9000);
        EXPECT_TRUE(client->ok()) << client->error();
        EXPECT_EQ(client->responses(), 40u);
    }
    // All requests in one feed: the server holds them back, answers in order.
    auto server = make_http_server(lim);
    std::string all;
    for (int i = 0; i < 40; ++i) all += "GET /bytes/" + std::to_string(i) + " HTTP/1.1\r\nHost: a\r\n\r\n";
    feed(*server, all);
    EXPECT_FALSE(server->wants_input());
    const auto v = split_responses(drain(*server));
    ASSERT_EQ(v.size(), 40u);
    for (std::size_t i = 0; i < v.size(); ++i) EXPECT_EQ(v[i].body.size(), i);
    EXPECT_TRUE(server->wants_input());
}

TEST(HttpServer, IgnoringBackPressureFails) {
    HttpServerLimits lim;
    lim.max_queued_responses = 1;
    auto server = make_http_server(lim);
    const std::string req = "GET /bytes/10 HTTP/1.1\r\nHost: a\r\n\r\n";
    for (int i = 0; i < 20000 && !server->failed(); ++i) feed(*server, req);
    EXPECT_TRUE(server->failed());
    EXPECT_TRUE(server->done());
    EXPECT_FALSE(server->output_pending());
}

TEST(HttpServer, KeepAliveAcrossFiveRequests) {
    std::vector<HttpRequestSpec> reqs(5);
    reqs[0].path = "/bytes/100000";
    reqs[1].method = "HEAD";
    reqs[1].path = "/bytes/7";
    reqs[2].method = "PUT";
    reqs[2].body_size = 5000;
    reqs[3].method = "PUT";
    reqs[3].body_size = 7000;
    reqs[3].chunked = true;
    reqs[3].expect_continue = true;
    reqs[4].path = "/bytes/251";
    for (std::uint64_t seed : kSeeds) {
        auto server = make_http_server();
        auto client = make_http_session(reqs);
        const Exchange r = run(*client, *server, seed);
        ASSERT_TRUE(client->ok()) << client->error();
        for (const HttpResult& res : client->results()) EXPECT_FALSE(res.server_close);
        EXPECT_EQ(r.to_client.find("Connection: close"), std::string::npos);
        EXPECT_TRUE(server->done());  // only after the client's FIN
    }
    // Without the client's FIN the server keeps the connection.
    auto server = make_http_server();
    const auto v = split_responses(serve_raw(*server, "GET /bytes/1 HTTP/1.1\r\nHost: a\r\n\r\n"));
    ASSERT_EQ(v.size(), 1u);
    EXPECT_FALSE(server->done());
    EXPECT_TRUE(server->wants_input());
    server->on_eof();
    EXPECT_TRUE(server->done());
}

TEST(HttpServer, ConnectionClose) {
    std::vector<HttpRequestSpec> reqs(2);
    reqs[0].path = "/bytes/10";
    reqs[0].close = true;
    reqs[1].path = "/bytes/20";
    auto server = make_http_server();
    auto client = make_http_session(reqs);
    const Exchange r = run(*client, *server, 5);
    EXPECT_EQ(client->responses(), 1u);
    EXPECT_TRUE(client->results()[0].ok);
    EXPECT_TRUE(client->results()[0].server_close);
    EXPECT_FALSE(client->results()[1].complete);
    EXPECT_EQ(r.to_server.find("/bytes/20"), std::string::npos);  // never sent after close
    EXPECT_TRUE(server->done());

    // The server stops reading after "Connection: close", even with more pipelined.
    auto s2 = make_http_server();
    const std::string out = serve_raw(*s2,
                                      "GET /bytes/1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
                                      "GET /bytes/2 HTTP/1.1\r\nHost: a\r\n\r\n");
    const auto v = split_responses(out);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_TRUE(v[0].has("Connection: close"));
    EXPECT_TRUE(s2->done());
    EXPECT_FALSE(s2->wants_input());
}

TEST(HttpServer, Http10ClosesUnlessKeepAlive) {
    auto s1 = make_http_server();
    auto v = split_responses(serve_raw(*s1, "GET /bytes/5 HTTP/1.0\r\n\r\n"));
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].status, 200);
    EXPECT_TRUE(v[0].has("Connection: close"));
    EXPECT_TRUE(s1->done());
    auto s2 = make_http_server();
    v = split_responses(serve_raw(*s2, "GET /bytes/5 HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"
                                       "GET /bytes/6 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    ASSERT_EQ(v.size(), 2u);
    EXPECT_TRUE(v[1].has("Connection: keep-alive"));
    EXPECT_FALSE(s2->done());
}

TEST(HttpServer, TargetForms) {
    const auto v = split_responses(serve_raw(
        "\r\nGET http://uinet/bytes/3 HTTP/1.1\r\nHost: uinet\r\n\r\n"
        "GET /bytes/4?x=1 HTTP/1.1\r\nHost: a\r\n\r\n"
        "GET HTTP://uinet HTTP/1.1\r\nHost: a\r\n\r\n"
        "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"
        "HEAD /bytes/1099511627776 HTTP/1.1\r\nHost: a\r\n\r\n"
        "GET /bytes/007 HTTP/1.1\r\nHost: a\r\n\r\n"),
        {4});
    ASSERT_EQ(v.size(), 6u);
    EXPECT_EQ(v[0].body.size(), 3u);
    EXPECT_EQ(v[1].body.size(), 4u);
    EXPECT_EQ(v[2].status, 404);
    EXPECT_EQ(v[3].status, 405);
    EXPECT_TRUE(v[4].has("Content-Length: 1099511627776"));
    EXPECT_EQ(v[5].body.size(), 7u);
}

TEST(HttpServer, BadBytesResourceIs400ButKeepsTheConnection) {
    for (const char* n : {"abc", "+5", "-1", "", "1099511627777", "99999999999999999999999", "5x", "%35"}) {
        auto server = make_http_server();
        const auto v = split_responses(serve_raw(*server, "GET /bytes/" + std::string(n) +
                                                              " HTTP/1.1\r\nHost: a\r\n\r\n"
                                                              "GET /bytes/2 HTTP/1.1\r\nHost: a\r\n\r\n"));
        ASSERT_EQ(v.size(), 2u) << n;
        EXPECT_EQ(v[0].status, 400) << n;
        EXPECT_EQ(v[1].status, 200) << n;
    }
}

// Requests that must be answered with `status` and a close.
void expect_rejected(const std::string& request, int status, const HttpServerLimits& lim = {}) {
    for (std::size_t piece : {std::size_t{0}, std::size_t{1}, std::size_t{7}}) {
        auto server = make_http_server(lim);
        // A valid request first: the error must not disturb it.
        const std::string out =
            serve_raw(*server, "GET /bytes/2 HTTP/1.1\r\nHost: a\r\n\r\n" + request + "GET / HTTP/1.1\r\n", piece);
        const auto v = split_responses(out);
        ASSERT_EQ(v.size(), 2u) << request;
        EXPECT_EQ(v[0].status, 200);
        EXPECT_EQ(v[1].status, status) << request;
        EXPECT_TRUE(v[1].has("Connection: close")) << request;
        EXPECT_TRUE(v[1].has("Server: uinet"));
        EXPECT_TRUE(server->done()) << request;
        EXPECT_FALSE(server->wants_input());
    }
}

TEST(HttpServer, MalformedRequestsAre400) {
    for (const char* r : {
             "GET  /bytes/1 HTTP/1.1\r\nHost: a\r\n\r\n",
             "GET /bytes/1 HTTP/1.1 \r\nHost: a\r\n\r\n",
             "GET /bytes/1\r\n\r\n",
             "GET /bytes/1 HTTX/1.1\r\nHost: a\r\n\r\n",
             "G@T /bytes/1 HTTP/1.1\r\nHost: a\r\n\r\n",
             "GET /bytes/1 HTTP/1.1\nHost: a\n\n",
             "GET /bytes/1 HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n",
             "GET /bytes/1 HTTP/1.1\r\nHost : a\r\n\r\n",
             "GET /bytes/1 HTTP/1.1\r\nHost: a\r\nX: y\r\n folded\r\n\r\n",
             "GET /bytes/1 HTTP/1.1\r\nHost: a\r\nno colon\r\n\r\n",
             "GET /bytes/1 HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n",
             "GET /bytes/1 HTTP/1.1\r\n\r\n",                    // no Host
             "GET /bytes/1 HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",  // two Hosts
             "GET bytes/1 HTTP/1.1\r\nHost: a\r\n\r\n",          // not origin-form
             "PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n",
             "PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\n",
             "PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: -3\r\n\r\n",
             "PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 4\r\n\r\n",
             "PUT / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n",
             "PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n",
             "PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
             "PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
             "PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
             "PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
             "PUT / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
             "PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\n",
             "PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX",
             "PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
         }) {
        expect_rejected(r, 400);
    }
}

TEST(HttpServer, OtherRejections) {
    expect_rejected("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505);
    expect_rejected("PUT / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501);
    expect_rejected("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\n", 417);
}

TEST(HttpServer, OversizeHeadersAre431) {
    expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(17000, 'x') + "\r\n\r\n", 431);
    expect_rejected("GET /" + std::string(17000, 'x') + " HTTP/1.1\r\nHost: a\r\n\r\n", 431);
    std::string many = "GET / HTTP/1.1\r\nHost: a\r\n";
    for (int i = 0; i < 100; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
    expect_rejected(many + "\r\n", 431);  // 101 field lines
    // Exactly at the limits is fine: 100 field lines; a head of 16 KiB.
    std::string hundred = "GET /bytes/1 HTTP/1.1\r\nHost: a\r\n";
    for (int i = 0; i < 99; ++i) hundred += "X-" + std::to_string(i) + ": v\r\n";
    EXPECT_EQ(split_responses(serve_raw(hundred + "\r\n"))[0].status, 200);
    std::string exact = "GET /bytes/1 HTTP/1.1\r\nHost: a\r\nX: ";
    exact += std::string(16 * 1024 - exact.size() - 4, 'y') + "\r\n\r\n";
    ASSERT_EQ(exact.size(), 16u * 1024);
    EXPECT_EQ(split_responses(serve_raw(exact))[0].status, 200);
    EXPECT_EQ(split_responses(serve_raw("\r\n" + exact))[0].status, 431);
}

TEST(HttpServer, BodyOfGetIsSkipped) {
    const auto v = split_responses(serve_raw(
        "GET /bytes/1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
        "DELETE / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"
        "GET /bytes/2 HTTP/1.1\r\nHost: a\r\n\r\n"));
    ASSERT_EQ(v.size(), 3u);
    EXPECT_EQ(v[0].status, 200);
    EXPECT_EQ(v[1].status, 405);
    EXPECT_EQ(v[2].body.size(), 2u);
}

TEST(HttpServer, EofInsideARequestEndsQuietly) {
    auto server = make_http_server();
    feed(*server, "PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
    server->on_eof();
    EXPECT_EQ(drain(*server), "");
    EXPECT_TRUE(server->done());
    auto s2 = make_http_server();
    feed(*s2, "GET /bytes/1 HTTP/1.1\r\nHost: a\r\n\r\nGET /by");
    s2->on_eof();
    EXPECT_FALSE(s2->done());  // the first response is still owed
    EXPECT_EQ(split_responses(drain(*s2)).size(), 1u);
    EXPECT_TRUE(s2->done());
}

TEST(HttpServer, SameOutputWhateverTheInputPieces) {
    const std::string reqs =
        "GET /bytes/1000 HTTP/1.1\r\nHost: a\r\n\r\n"
        "PUT /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;x\r\nhello\r\n0\r\n\r\n"
        "HEAD /bytes/9 HTTP/1.1\r\nHost: a\r\n\r\n"
        "PUT /p HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nabcd"
        "GET /missing HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    auto ref_server = make_http_server();
    const std::string ref = serve_raw(*ref_server, reqs);
    EXPECT_TRUE(ref_server->done());
    for (std::size_t piece : {1, 2, 3, 10, 64}) {
        auto server = make_http_server();
        EXPECT_EQ(serve_raw(*server, reqs, piece), ref) << piece;
    }
    const auto v = split_responses(ref, {2});
    ASSERT_EQ(v.size(), 6u);
    EXPECT_EQ(v[1].body, sha_hex("hello") + "\n");
    EXPECT_EQ(v[3].status, 100);
    EXPECT_EQ(v[4].body, sha_hex("abcd") + "\n");
    EXPECT_EQ(v[5].status, 404);
}

}  // namespace

namespace {

// Valid request streams with a few bytes changed, fed in random pieces: the
// server must answer only with well-formed responses and, after the peer's
// FIN and a drain, be done. (Sizes stay small: digits are never mutated
// into a huge /bytes/N because the drain is bounded and checked.)
TEST(HttpServer, MutatedInputNeverBreaksIt) {
    const std::string base =
        "GET /bytes/1000 HTTP/1.1\r\nHost: a\r\n\r\n"
        "PUT /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;x\r\nhello\r\n0\r\nT: 1\r\n\r\n"
        "HEAD /bytes/9 HTTP/1.1\r\nHost: a\r\n\r\n"
        "PUT /p HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nabcd"
        "GET /missing HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
    std::mt19937_64 rng(99);
    int closed_early = 0;
    for (int iter = 0; iter < 2000; ++iter) {
        std::string in = base;
        const int flips = 1 + static_cast<int>(rng() % 4);
        for (int k = 0; k < flips; ++k) in[rng() % in.size()] = static_cast<char>(rng() % 256);
        HttpServerLimits lim;
        lim.max_bytes_resource = 100000;
        auto server = make_http_server(lim);
        std::string out;
        std::size_t off = 0;
        while (off < in.size()) {
            const std::size_t n = std::min<std::size_t>(1 + rng() % 40, in.size() - off);
            if (server->wants_input()) {
                feed(*server, std::string_view(in).substr(off, n));
                off += n;
            }
            out += drain(*server, 1 << 20);
            if (server->done()) break;
        }
        server->on_eof();
        out += drain(*server, 1 << 20);
        ASSERT_FALSE(server->output_pending()) << iter;
        ASSERT_TRUE(server->done()) << iter;
        ASSERT_FALSE(server->failed()) << iter;
        ASSERT_EQ(out.substr(0, 9), "HTTP/1.1 ") << iter;
        if (out.find("Connection: close") != std::string::npos) ++closed_early;
    }
    EXPECT_GT(closed_early, 100);  // the mutations did hit the error paths
}

}  // namespace
