// Tests of the shared HTTP/1.1 syntax: head collection, field parsing,
// decimal and Content-Length rules, the chunked decoder.
#include "services/http_syntax.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace uinet;
using namespace uinet::services::http;

namespace {

Bytes bytes_of(std::string_view s) { return Bytes(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()); }

TEST(HeadReader, StopsExactlyAtTheEndOfTheHead) {
    HeadReader r(1024, true);
    const std::string in = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\nBODY";
    const std::size_t n = r.feed(bytes_of(in));
    EXPECT_EQ(r.state(), HeadReader::State::complete);
    EXPECT_EQ(in.substr(n), "BODY");
    EXPECT_EQ(r.text(), "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_EQ(r.feed(bytes_of("more")), 0u);
}

TEST(HeadReader, ByteByByte) {
    HeadReader r(1024, false);
    const std::string in = "HTTP/1.1 200 OK\r\nA: b\r\n\r\n";
    for (char c : in) {
        ASSERT_EQ(r.state(), HeadReader::State::collecting);
        EXPECT_EQ(r.feed(bytes_of(std::string_view(&c, 1))), 1u);
    }
    EXPECT_EQ(r.state(), HeadReader::State::complete);
}

TEST(HeadReader, BareCrOrLfAndSizeLimit) {
    for (std::string_view bad : {"GET / HTTP/1.1\nHost: a\n\n", "GET / HTTP/1.1\rHost: a\r\n\r\n",
                                 "GET / HTTP/1.1\r\n\n"}) {
        HeadReader r(1024, true);
        r.feed(bytes_of(bad));
        EXPECT_EQ(r.state(), HeadReader::State::bad) << bad;
    }
    HeadReader r(16, true);
    r.feed(bytes_of("GET / HTTP/1.1\r\n"));
    EXPECT_EQ(r.state(), HeadReader::State::collecting);
    EXPECT_EQ(r.feed(bytes_of("Host: a\r\n\r\n")), 1u);
    EXPECT_EQ(r.state(), HeadReader::State::too_large);
}

TEST(ParseRequestHead, FieldsAndTrimming) {
    RequestHead h;
    ASSERT_EQ(parse_request_head("PUT /x?y HTTP/1.0\r\nHost: a \r\nX-Empty:\r\nA:\t b c\t\r\n\r\n", 10, h),
              HeadError::none);
    EXPECT_EQ(h.method, "PUT");
    EXPECT_EQ(h.target, "/x?y");
    EXPECT_EQ(h.major, 1);
    EXPECT_EQ(h.minor, 0);
    ASSERT_EQ(h.fields.size(), 3u);
    EXPECT_EQ(h.fields[0].value, "a");
    EXPECT_EQ(h.fields[1].value, "");
    EXPECT_EQ(h.fields[2].value, "b c");
}

TEST(ParseRequestHead, Rejections) {
    RequestHead h;
    EXPECT_EQ(parse_request_head("GET / HTTP/2.0\r\n\r\n", 10, h), HeadError::version);
    EXPECT_EQ(parse_request_head("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n", 1, h), HeadError::too_many_fields);
    for (std::string_view bad : {
             "GET  / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1 \r\n\r\n", "GET /\r\n\r\n", "GET / http/1.1\r\n\r\n",
             "GET / HTTP/1.10\r\n\r\n", "G(T / HTTP/1.1\r\n\r\n", " GET / HTTP/1.1\r\n\r\n",
             "GET /a\x7f HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", "GET / HTTP/1.1\r\nHost a\r\n\r\n",
             "GET / HTTP/1.1\r\n: a\r\n\r\n", "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n",
             "GET / HTTP/1.1\r\nA: b\x01\r\n\r\n"}) {
        EXPECT_EQ(parse_request_head(bad, 10, h), HeadError::syntax) << bad;
    }
}

TEST(ParseResponseHead, StatusLine) {
    ResponseHead h;
    ASSERT_EQ(parse_response_head("HTTP/1.1 404 Not Found\r\nA: b\r\n\r\n", 10, h), HeadError::none);
    EXPECT_EQ(h.status, 404);
    EXPECT_EQ(h.reason, "Not Found");
    ASSERT_EQ(parse_response_head("HTTP/1.1 204\r\n\r\n", 10, h), HeadError::none);
    EXPECT_EQ(h.status, 204);
    EXPECT_EQ(parse_response_head("HTTP/1.1 20 OK\r\n\r\n", 10, h), HeadError::syntax);
    EXPECT_EQ(parse_response_head("HTTP/1.1 099 X\r\n\r\n", 10, h), HeadError::syntax);
}

TEST(Decimal, DigitsOnlyAndBounded) {
    EXPECT_EQ(parse_decimal("0", 10), 0u);
    EXPECT_EQ(parse_decimal("1099511627776", std::uint64_t{1} << 40), std::uint64_t{1} << 40);
    EXPECT_FALSE(parse_decimal("1099511627777", std::uint64_t{1} << 40));
    EXPECT_EQ(parse_decimal("18446744073709551615", ~std::uint64_t{0}), ~std::uint64_t{0});
    EXPECT_FALSE(parse_decimal("18446744073709551616", ~std::uint64_t{0}));
    for (std::string_view bad : {"", "+1", "-1", " 1", "1 ", "0x10", "1e3", "12a"})
        EXPECT_FALSE(parse_decimal(bad, 1000)) << bad;
}

TEST(ContentLength, ListsMustAgree) {
    auto cl = [](std::vector<Field> f) { return content_length_of(f); };
    EXPECT_FALSE(cl({}).present);
    EXPECT_TRUE(cl({{"Content-Length", "5"}}).valid);
    EXPECT_EQ(cl({{"content-length", "5, 5"}, {"Content-Length", "5"}}).value, 5u);
    EXPECT_TRUE(cl({{"content-length", "5, 5"}}).valid);
    EXPECT_FALSE(cl({{"content-length", "5, 6"}}).valid);
    EXPECT_FALSE(cl({{"content-length", "5"}, {"Content-Length", "6"}}).valid);
    EXPECT_FALSE(cl({{"content-length", ""}}).valid);
    EXPECT_FALSE(cl({{"content-length", "-5"}}).valid);
    EXPECT_FALSE(cl({{"content-length", "99999999999999999999999"}}).valid);
}

// Decodes `in` in pieces of `piece` bytes; returns the data, and through
// `consumed` how much input the decoder took.
std::string decode(ChunkedDecoder& d, std::string_view in, std::size_t piece, std::size_t& consumed) {
    std::string data;
    consumed = 0;
    while (consumed < in.size() && !d.finished() && !d.failed()) {
        Bytes out;
        const std::string_view p = in.substr(consumed, piece);
        const std::size_t n = d.decode(bytes_of(p), out);
        data.append(reinterpret_cast<const char*>(out.data()), out.size());
        consumed += n;
        if (n == 0) break;
    }
    return data;
}

TEST(Chunked, ExtensionsAndTrailers) {
    const std::string in = "3;name=\"v;x\"\r\nabc\r\nA ; ext\r\n0123456789\r\n0\r\nX-T: 1\r\nY: 2\r\n\r\nNEXT";
    for (std::size_t piece : {1, 2, 5, 1000}) {
        ChunkedDecoder d(1024, 10);
        std::size_t used = 0;
        EXPECT_EQ(decode(d, in, piece, used), "abc0123456789") << piece;
        EXPECT_TRUE(d.finished());
        EXPECT_EQ(in.substr(used), "NEXT");
    }
}

TEST(Chunked, Errors) {
    for (std::string_view bad : {
             "FFFFFFFFFFFFFFFFFF\r\n",  // chunk-size overflow
             "1000000000000000\r\n",    // 2^60: one bit too many
             "\r\n", "x\r\n", "3\nabc\r\n", "3\r\nabcX", "3\r\nabc\r0", "3 x\r\n", "3;a\x01\r\n",
             "0\r\n bad-trailer\r\n\r\n", "0\r\nA: b\rX"}) {
        ChunkedDecoder d(1024, 10);
        std::size_t used = 0;
        decode(d, bad, 1000, used);
        EXPECT_TRUE(d.failed()) << bad;
    }
    ChunkedDecoder d(1024, 10);
    std::size_t used = 0;
    decode(d, "0FFFFFFFFFFFFFFF\r\n", 1000, used);  // 2^60 - 1 with a leading zero is fine
    EXPECT_FALSE(d.failed());
    std::string long_ext = "1;";
    long_ext.append(kMaxChunkLine, 'a');
    ChunkedDecoder e(1024, 10);
    decode(e, long_ext, 100, used);
    EXPECT_TRUE(e.failed());
    ChunkedDecoder t(20, 10);  // trailer section bound
    decode(t, "0\r\nA-Long-Trailer-Field: xxxxxxxxxxxx\r\n\r\n", 7, used);
    EXPECT_TRUE(t.failed());
    ChunkedDecoder l(1000, 2);  // trailer line bound
    decode(l, "0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 7, used);
    EXPECT_TRUE(l.failed());
}

}  // namespace
