// tools/passive/http_bodies.hpp — HTTP/1.x message bodies out of an observed
// byte stream (`uinet passive --http-bodies`).
//
// Contract:
//  * One HttpBodies per stream direction: requests (client to server) or
//    responses (server to client). Bytes arrive in stream order through
//    data(); hole(n) says n bytes are missing; eof() ends the stream.
//  * Message framing per RFC 9112 section 6.3: a request has a body only
//    with Transfer-Encoding chunked or Content-Length. A response to HEAD,
//    a 1xx, 204 or 304 has none; otherwise chunked, then Content-Length,
//    else the body runs to the end of the stream (close-delimited). The
//    request methods, in order, come from the client side's extractor
//    (shared queue) so a HEAD's response is framed right; a 101 or a 2xx to
//    CONNECT ends parsing (the stream is no longer HTTP).
//  * Each body is written to `<prefix>.<k>.body` (k from 1, the message's
//    number in the stream), decoded (no chunk framing). A hole inside a body
//    of known length leaves that many zero bytes (sparse) and marks the
//    message incomplete; a hole in a head or in chunk framing loses the
//    message boundaries: parsing stops for this stream (desynced).
//  * Heads are bounded (64 KiB); nothing else is buffered.
#pragma once

#include <cstdint>
#include <deque>
#include <string>

#include "base/bytes.hpp"
#include "services/http_syntax.hpp"

namespace uinet::tools {

class HttpBodies {
public:
    HttpBodies(std::string prefix, bool responses, std::deque<std::string>& methods);
    ~HttpBodies();
    HttpBodies(const HttpBodies&) = delete;
    HttpBodies& operator=(const HttpBodies&) = delete;

    void data(Bytes in);
    void hole(std::uint64_t len);
    void eof();

    std::uint64_t messages() const { return messages_; }  // heads parsed
    std::uint64_t bodies() const { return bodies_; }      // body files written
    std::uint64_t incomplete() const { return incomplete_; }
    bool desynced() const { return state_ == State::desynced; }

private:
    enum class State : std::uint8_t { head, length, chunked, to_close, opaque, desynced };
    void start_message();
    void begin_body();
    void write_body(Bytes b);
    void end_body();

    std::string prefix_;
    bool responses_;
    std::deque<std::string>& methods_;
    services::http::HeadReader head_;
    services::http::ChunkedDecoder chunked_;
    services::http::RequestHead req_;
    services::http::ResponseHead resp_;
    State state_ = State::head;
    std::uint64_t remaining_ = 0;
    int fd_ = -1;
    std::uint64_t written_ = 0;
    bool hole_in_body_ = false;
    std::uint64_t messages_ = 0, bodies_ = 0, incomplete_ = 0;
};

}  // namespace uinet::tools
