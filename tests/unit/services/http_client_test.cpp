// Tests of the HTTP test client against scripted server bytes: response
// framing (length, chunked, close-delimited), truncation, protocol errors,
// and the expectation flow when the server refuses.
#include <gtest/gtest.h>

#include <string>

#include "pump.hpp"
#include "services/http_client.hpp"
#include "services/pattern.hpp"

using namespace uinet;
using namespace uinet::services;
using namespace uinet::services::test;

namespace {

std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    fill_get_pattern(0, MutBytes(reinterpret_cast<std::uint8_t*>(s.data()), n));
    return s;
}

TEST(HttpClient, RequestHeadFormat) {
    HttpRequestSpec s;
    s.method = "PUT";
    s.path = "/up";
    s.body_size = 3;
    s.close = true;
    HttpClientOptions o;
    o.host = "198.18.0.2";
    auto c = make_http_session({s}, o);
    const std::string out = drain(*c);
    EXPECT_EQ(out, std::string("PUT /up HTTP/1.1\r\nHost: 198.18.0.2\r\nContent-Length: 3\r\nConnection: close\r\n\r\n") +
                       std::string("\x00\x07\x0e", 3));
    EXPECT_FALSE(c->output_pending());
}

TEST(HttpClient, ChunkedResponseAndBodyChecks) {
    auto c = make_http_get("/bytes/300");
    drain(*c);
    const std::string body = pattern(300);
    feed(*c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n12c;x=y\r\n" + body + "\r\n0\r\nT: 1\r\n\r\n");
    ASSERT_TRUE(c->done());
    EXPECT_FALSE(c->ok());  // a /bytes/N answer without Content-Length N does not pass
    EXPECT_EQ(c->results()[0].body_bytes, 300u);
    EXPECT_TRUE(c->results()[0].pattern_ok);
    EXPECT_FALSE(c->failed());
}

TEST(HttpClient, DetectsAWrongByte) {
    auto c = make_http_get("/bytes/300");
    drain(*c);
    std::string body = pattern(300);
    body[299] ^= 0x40;
    feed(*c, "HTTP/1.1 200 OK\r\nContent-Length: 300\r\n\r\n" + body);
    ASSERT_TRUE(c->done());
    EXPECT_FALSE(c->results()[0].pattern_ok);
    EXPECT_FALSE(c->ok());
}

TEST(HttpClient, CloseDelimitedBody) {
    auto c = make_http_get("/other");
    drain(*c);
    feed(*c, "HTTP/1.1 200 OK\r\n\r\nabc");
    EXPECT_FALSE(c->done());
    feed(*c, "def");
    c->on_eof();
    ASSERT_TRUE(c->done());
    EXPECT_TRUE(c->ok()) << c->error();
    EXPECT_EQ(c->results()[0].body_start, "abcdef");
    EXPECT_TRUE(c->results()[0].server_close);
}

TEST(HttpClient, TruncatedResponseFails) {
    auto c = make_http_get("/bytes/10");
    drain(*c);
    feed(*c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    c->on_eof();
    EXPECT_TRUE(c->failed());
    EXPECT_TRUE(c->done());
    EXPECT_FALSE(c->ok());
    EXPECT_NE(c->error().find("inside response 1"), std::string::npos) << c->error();
}

TEST(HttpClient, ProtocolErrors) {
    for (const char* bad : {"HTTP/1.1 200 OK\nContent-Length: 0\n\n", "HTTP/1.1 2x0 OK\r\n\r\n",
                            "HTTP/1.1 101 Switching Protocols\r\n\r\n",
                            "HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n",
                            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
                            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZ\r\n"}) {
        auto c = make_http_get("/bytes/1");
        drain(*c);
        feed(*c, bad);
        EXPECT_TRUE(c->failed()) << bad;
        EXPECT_TRUE(c->done());
    }
    // A second response before the second request was sent.
    std::vector<HttpRequestSpec> two(2);
    auto c = make_http_session(two);
    drain(*c);
    feed(*c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    EXPECT_TRUE(c->failed());
    EXPECT_EQ(c->error(), "a response without a request");
}

TEST(HttpClient, FinalStatusInsteadOfContinue) {
    auto c = make_http_put("/", 1000, false, true);
    drain(*c);
    ASSERT_TRUE(c->waiting_for_continue());
    feed(*c, "HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n");
    EXPECT_TRUE(c->done());
    EXPECT_FALSE(c->output_pending());
    EXPECT_EQ(drain(*c), "");  // the content is never sent
    EXPECT_EQ(c->results()[0].status, 417);
    EXPECT_FALSE(c->ok());
}

TEST(HttpClient, SendBodyNowStopsWaiting) {
    auto c = make_http_put("/", 5, false, true);
    drain(*c);
    EXPECT_FALSE(c->output_pending());
    c->send_body_now();
    EXPECT_EQ(drain(*c), std::string("\x00\x07\x0e\x15\x1c", 5));
    EXPECT_FALSE(c->waiting_for_continue());
}

TEST(HttpClient, KeepAliveWaitsForEachResponse) {
    std::vector<HttpRequestSpec> reqs(2);
    reqs[0].path = "/a";
    reqs[1].path = "/b";
    auto c = make_http_session(reqs);
    EXPECT_EQ(drain(*c), "GET /a HTTP/1.1\r\nHost: uinet\r\n\r\n");
    EXPECT_FALSE(c->output_pending());
    feed(*c, "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno");
    EXPECT_EQ(drain(*c), "GET /b HTTP/1.1\r\nHost: uinet\r\n\r\n");
    feed(*c, "HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno");
    EXPECT_TRUE(c->done());
    EXPECT_TRUE(c->ok());
    // The server closing early leaves the rest unanswered.
    auto d = make_http_session(reqs);
    drain(*d);
    feed(*d, "HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 2\r\n\r\nno");
    EXPECT_TRUE(d->done());
    EXPECT_FALSE(d->output_pending());
    EXPECT_FALSE(d->ok());
    EXPECT_EQ(d->responses(), 1u);
}

}  // namespace
