// tools/services/http_client.hpp — HTTP/1.1 test clients for `uinet demo` and the tests.
//
// Contract:
//  * An HttpClient is the client end of one connection with the same shape
//    as a StreamService (it is one): the driver pulls request bytes with
//    produce() and feeds response bytes with on_data()/on_eof(). done()
//    turns true once every response has arrived (or the server closed, or
//    an error ended the exchange); the driver then closes.
//  * It sends a list of requests over one connection, one at a time
//    (keep-alive) or, with HttpClientOptions::pipeline, without waiting for
//    earlier responses (RFC 9112 §9.3.2). A request with close = true ends
//    the list.
//  * Request content (when method is PUT, body_size > 0 or chunked) is byte
//    i == (7 i) mod 256 (or comes from HttpClientOptions::content_source),
//    generated while it is sent and hashed with SHA-256 on the way. Chunked content uses varied chunk sizes, a chunk extension
//    on every third chunk and a trailer field, all of which a server must
//    accept (RFC 9112 §7.1).
//  * With expect_continue the head carries "Expect: 100-continue" and the
//    content waits for "100 Continue" (RFC 9110 §10.1.1); send_body_now()
//    stops waiting (a driver's timeout). A final status that arrives before
//    the content was sent ends the exchange: nothing more is sent.
//  * Responses are parsed with the shared RFC 9112 syntax; the body is
//    streamed through a SHA-256 and a check that byte i == i mod 251 and is
//    never stored beyond its first keep_body bytes (body_sink, if set, sees
//    all of it). The per-request checks
//    (HttpResult::ok): a complete response whose body length matches its
//    Content-Length; for GET /bytes/N also status 200, Content-Length N and
//    the mod-251 pattern; for HEAD /bytes/N status 200, Content-Length N and
//    no body; for PUT status 200 and the server's digest equal to the one
//    computed while sending.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "services/byte_queue.hpp"
#include "services/http_syntax.hpp"
#include "services/sha256.hpp"
#include "services/stream_service.hpp"

namespace uinet::services {

struct HttpRequestSpec {
    std::string method = "GET";
    std::string path = "/";
    std::uint64_t body_size = 0;   // content length (sent when PUT, or > 0, or chunked)
    bool chunked = false;          // Transfer-Encoding: chunked instead of Content-Length
    bool expect_continue = false;  // Expect: 100-continue, content held until 100 arrives
    bool close = false;            // Connection: close
};

struct HttpResult {
    bool complete = false;       // a final response arrived in full
    int status = 0;
    bool got_continue = false;   // a 100 (Continue) came before it
    std::optional<std::uint64_t> content_length;
    bool chunked = false;        // the body came in the chunked coding
    std::uint64_t body_bytes = 0;
    bool pattern_ok = true;      // every body byte i was i mod 251
    std::string body_sha256;     // hex digest of the received body
    std::string body_start;      // its first keep_body bytes
    std::string sent_sha256;     // hex digest of the content sent (once sent in full)
    bool digest_match = false;   // PUT: the server's answer equals sent_sha256
    bool server_close = false;   // the response ended the connection
    bool ok = false;             // the checks of the header comment passed
};

struct HttpClientOptions {
    bool pipeline = false;
    // Where request content comes from: fills `out` with the content bytes
    // at `offset`, or returns false (a read error: the exchange fails).
    // Unset: the PUT pattern.
    std::function<bool(std::uint64_t offset, MutBytes out)> content_source;
    // Receives every response body byte, in order, with the response's
    // index; returning false (a write error) fails the exchange.
    std::function<bool(std::size_t index, Bytes data)> body_sink;
    std::string host = "uinet";
    std::size_t max_head_bytes = 64 * 1024;
    std::size_t max_header_lines = 200;
    std::size_t keep_body = 256;
};

class HttpClient final : public StreamService {
public:
    explicit HttpClient(std::vector<HttpRequestSpec> requests, HttpClientOptions opts = {});

    void on_data(Bytes in) override;
    void on_eof() override;
    std::size_t produce(MutBytes out) override;
    bool output_pending() const override;
    bool wants_input() const override { return !finished_; }
    bool done() const override { return finished_; }
    bool failed() const override { return !error_.empty(); }

    const std::vector<HttpRequestSpec>& requests() const { return reqs_; }
    const std::vector<HttpResult>& results() const { return results_; }
    std::size_t responses() const { return recv_idx_; }
    // Every request answered, every check passed, no protocol error.
    bool ok() const;
    const std::string& error() const { return error_; }
    bool waiting_for_continue() const { return send_ == Send::wait_continue && !continue_ok_; }
    void send_body_now();

private:
    enum class Send : std::uint8_t { idle, wait_continue, body };
    enum class Recv : std::uint8_t { head, body_length, body_chunked, body_eof };

    bool can_start() const;
    void start_request();
    void normalize();
    void finish_sent_body();
    void on_response_head();
    void take_body(Bytes data);
    void complete_response();
    void fail(std::string why);
    bool has_content(const HttpRequestSpec& s) const { return s.method == "PUT" || s.body_size > 0 || s.chunked; }

    std::vector<HttpRequestSpec> reqs_;
    std::vector<HttpResult> results_;
    HttpClientOptions opts_;

    // Sending.
    ByteQueue pend_;  // heads and chunk framing not yet produced
    Sha256 sent_hash_;
    Send send_ = Send::idle;
    std::size_t send_idx_ = 0;  // requests whose sending has begun
    std::uint64_t body_off_ = 0, body_left_ = 0, chunk_left_ = 0;
    std::size_t chunk_no_ = 0;
    bool continue_ok_ = false;
    bool stop_sending_ = false;

    // Receiving.
    http::HeadReader head_;
    http::ResponseHead resp_;
    http::ChunkedDecoder chunks_;
    Sha256 recv_hash_;
    Recv recv_ = Recv::head;
    std::size_t recv_idx_ = 0;  // responses complete
    std::uint64_t recv_left_ = 0;

    bool finished_ = false;
    std::string error_;
};

std::unique_ptr<HttpClient> make_http_get(std::string path, bool head_only = false);
std::unique_ptr<HttpClient> make_http_put(std::string path, std::uint64_t size, bool chunked, bool expect_continue);
std::unique_ptr<HttpClient> make_http_session(std::vector<HttpRequestSpec> requests, HttpClientOptions opts = {});

}  // namespace uinet::services
