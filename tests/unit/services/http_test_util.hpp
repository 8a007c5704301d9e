// Helpers of the HTTP tests: feed raw request bytes to a server, split its
// output into responses.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "pump.hpp"
#include "services/http_syntax.hpp"
#include "services/stream_service.hpp"

namespace uinet::services::test {

struct RawResponse {
    int status = 0;
    std::string head;  // status line and fields, up to and including the empty line
    std::string body;
    bool has(std::string_view field_line) const {
        return head.find(std::string(field_line) + "\r\n") != std::string::npos;
    }
};

// Splits a server's output into responses, framed by Content-Length (the
// server always sends it). `no_body` lists indexes of responses to HEAD.
inline std::vector<RawResponse> split_responses(std::string_view out, std::vector<std::size_t> no_body = {}) {
    std::vector<RawResponse> v;
    while (!out.empty()) {
        const std::size_t end = out.find("\r\n\r\n");
        if (end == std::string_view::npos) {
            ADD_FAILURE() << "trailing bytes without a complete head: " << out.substr(0, 80);
            break;
        }
        RawResponse r;
        r.head = std::string(out.substr(0, end + 4));
        out.remove_prefix(end + 4);
        http::ResponseHead h;
        if (http::parse_response_head(r.head, 200, h) != http::HeadError::none) {
            ADD_FAILURE() << "malformed response head: " << r.head;
            break;
        }
        r.status = h.status;
        const http::ContentLength cl = http::content_length_of(h.fields);
        bool skip = h.status < 200;
        for (std::size_t i : no_body) skip = skip || i == v.size();
        if (!skip) {
            EXPECT_TRUE(cl.present && cl.valid) << r.head;
            const std::size_t n = std::min<std::size_t>(cl.value, out.size());
            r.body = std::string(out.substr(0, n));
            out.remove_prefix(n);
        }
        v.push_back(std::move(r));
    }
    return v;
}

// Feeds `request` in one piece (or in pieces of `piece` bytes), optionally
// then EOF, and collects everything the server produces.
inline std::string serve_raw(StreamService& server, std::string_view request, std::size_t piece = 0) {
    std::string out;
    if (piece == 0) piece = request.size() + 1;
    for (std::size_t off = 0; off < request.size(); off += piece) {
        feed(server, request.substr(off, piece));
        out += drain(server);
    }
    out += drain(server);
    return out;
}

inline std::string serve_raw(std::string_view request, const HttpServerLimits& lim = {}) {
    auto s = make_http_server(lim);
    return serve_raw(*s, request);
}

}  // namespace uinet::services::test
