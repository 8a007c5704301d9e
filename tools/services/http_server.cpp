// tools/services/http_server.cpp — the HTTP/1.1 test server of `uinet serve`.
//
// Contract (message syntax RFC 9112, semantics RFC 9110):
//  * Resources:
//      GET /bytes/N   200, Content-Length N (N decimal digits only, at most
//                     HttpServerLimits::max_bytes_resource, else 400), body
//                     byte i == i mod 251, generated while it is sent.
//      HEAD           as GET without the body (RFC 9110 §9.3.2).
//      GET (other)    404 with a short text body.
//      PUT (any path) 200 with the SHA-256 of the request content as 64
//                     lowercase hex digits and "\n"; the content is hashed
//                     as it arrives, never buffered.
//      other methods  405 with Allow (RFC 9110 §15.5.6).
//  * Connections persist by default for HTTP/1.1, close for HTTP/1.0 unless
//    it asks for keep-alive, and close after "Connection: close" (RFC 9112
//    §9.3). Pipelined requests are answered in order (§9.3.2); at most
//    max_queued_responses wait for output before reading stops.
//  * Every final response carries Content-Length and "Server: uinet" (the
//    interim "100 Continue" is the bare status line), never Date
//    (RFC 9110 §6.6.1 allows omitting it without a clock), so output is a
//    pure function of input.
//  * Malformed requests get 400 and the connection closes after it (RFC
//    9112 §3, §5, §6.3); heads beyond max_header_bytes or max_header_lines
//    get 431 (RFC 6585 §5); other HTTP major versions 505; framing with both
//    Content-Length and Transfer-Encoding is refused with 400 (RFC 9112 §6.1
//    permits that, and it closes the request-smuggling door); transfer
//    codings other than a single final "chunked" get 400 or 501.
//  * "Expect: 100-continue" on an HTTP/1.1 request with content makes the
//    server send "100 Continue" as soon as the head is read (RFC 9110
//    §10.1.1); other expectations get 417 and a close.
#include <algorithm>
#include <cstring>
#include <deque>
#include <optional>
#include <string>

#include "services/byte_queue.hpp"
#include "services/http_syntax.hpp"
#include "services/pattern.hpp"
#include "services/sha256.hpp"
#include "services/stream_service.hpp"

namespace uinet::services {

namespace {

using namespace http;

const char* reason_of(int status) {
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

struct Response {
    std::string head;
    std::string body;              // a short fixed body
    std::uint64_t pattern_len = 0; // or a lazily generated mod-251 body
    std::uint64_t sent = 0;
    std::uint64_t total() const { return head.size() + body.size() + pattern_len; }
};

// The path of an origin-form or absolute-form request-target (RFC 9112
// §3.2.1, §3.2.2), without its query.
std::optional<std::string_view> path_of(std::string_view target) {
    std::string_view p;
    if (!target.empty() && target[0] == '/') {
        p = target;
    } else {
        const std::size_t sep = target.find("://");
        if (sep == std::string_view::npos) return std::nullopt;
        const std::string_view scheme = target.substr(0, sep);
        if (!iequals(scheme, "http") && !iequals(scheme, "https")) return std::nullopt;
        const std::string_view rest = target.substr(sep + 3);
        const std::size_t slash = rest.find_first_of("/?");
        if (slash == 0 || rest.empty()) return std::nullopt;  // no authority
        p = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
        if (p[0] == '?') p = "/";
    }
    return p.substr(0, p.find('?'));
}

class HttpServer final : public StreamService {
public:
    explicit HttpServer(const HttpServerLimits& lim)
        : lim_(lim), head_(lim.max_header_bytes, true), chunks_(lim.max_header_bytes, lim.max_header_lines) {}

    void on_data(Bytes in) override;
    void on_eof() override { eof_ = true; }
    std::size_t produce(MutBytes out) override;
    bool output_pending() const override { return !failed_ && !out_.empty(); }
    bool wants_input() const override {
        return !failed_ && in_ != In::closed && !eof_ && stash_.empty() &&
               (in_ != In::head || out_.size() < lim_.max_queued_responses);
    }
    bool done() const override {
        return failed_ || (out_.empty() && (in_ == In::closed || (eof_ && stash_.empty())));
    }
    bool failed() const override { return failed_; }

private:
    enum class In : std::uint8_t { head, body_length, body_chunked, closed };

    std::size_t process(Bytes in);
    bool pump();
    void on_head();
    void start_body(bool chunked, std::uint64_t length, bool hash);
    void finish_body();
    void respond(int status, std::string_view fields, std::string body, std::uint64_t pattern_len, bool close);
    void reject(int status, std::string_view why);
    static std::size_t write_some(Response& r, MutBytes out);

    HttpServerLimits lim_;
    HeadReader head_;
    RequestHead req_;
    ChunkedDecoder chunks_;
    Sha256 sha_;
    ByteQueue stash_;  // input held back while too many responses wait
    std::deque<Response> out_;
    In in_ = In::head;
    std::uint64_t body_left_ = 0;
    bool hash_body_ = false;  // the current request is a PUT
    bool http11_ = true;      // of the current request
    bool keep_alive_ = true;  // of the current request
    bool is_head_ = false;    // the current request is HEAD: no response content
    bool eof_ = false;
    bool failed_ = false;
};

void HttpServer::on_data(Bytes in) {
    if (failed_ || in_ == In::closed) return;  // after a close decision input is ignored (RFC 9112 §9.6)
    if (stash_.empty()) {
        const std::size_t n = process(in);
        if (n < in.size()) stash_.append(in.subspan(n));
    } else {
        stash_.append(in);
        pump();
    }
    // The driver kept feeding while wants_input() was false.
    if (stash_.size() > lim_.max_header_bytes + 4 * kMaxFeed) {
        failed_ = true;
        stash_.clear();
        out_.clear();
    }
}

bool HttpServer::pump() {
    if (stash_.empty()) return false;
    const std::size_t n = process(stash_.peek());
    stash_.consume(n);
    return n > 0;
}

std::size_t HttpServer::process(Bytes in) {
    std::size_t pos = 0;
    while (pos < in.size()) {
        switch (in_) {
        case In::closed:
            return in.size();
        case In::head:
            if (out_.size() >= lim_.max_queued_responses) return pos;  // back-pressure
            pos += head_.feed(in.subspan(pos));
            if (head_.state() == HeadReader::State::complete) {
                on_head();
            } else if (head_.state() != HeadReader::State::collecting) {
                is_head_ = false;  // the method is unknown: the error has content
                if (head_.state() == HeadReader::State::too_large)
                    reject(431, "the request head exceeds the size limit");
                else
                    reject(400, "a line of the request head does not end in CRLF");
            }
            break;
        case In::body_length: {
            const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(body_left_, in.size() - pos));
            if (hash_body_) sha_.update(in.subspan(pos, n));
            pos += n;
            body_left_ -= n;
            if (body_left_ == 0) finish_body();
            break;
        }
        case In::body_chunked: {
            Bytes data;
            pos += chunks_.decode(in.subspan(pos), data);
            if (hash_body_) sha_.update(data);
            if (chunks_.failed())
                reject(400, "malformed chunked content");
            else if (chunks_.finished())
                finish_body();
            break;
        }
        }
    }
    return pos;
}

void HttpServer::on_head() {
    is_head_ = false;
    http11_ = true;
    keep_alive_ = false;
    switch (parse_request_head(head_.text(), lim_.max_header_lines, req_)) {
    case HeadError::none: break;
    case HeadError::too_many_fields: return reject(431, "too many header fields");
    case HeadError::version: return reject(505, "only HTTP/1.x is served");
    case HeadError::syntax: return reject(400, "malformed request line or header field");
    }
    const std::string_view method = req_.method;
    is_head_ = method == "HEAD";  // methods are case-sensitive (RFC 9110 §9.1)
    http11_ = req_.minor >= 1;

    bool conn_close = false, conn_keep = false, te_present = false, expect_100 = false, expect_other = false;
    std::size_t hosts = 0, codings = 0, chunked_codings = 0;
    std::string_view last_coding;
    for (const Field& f : req_.fields) {
        if (iequals(f.name, "connection")) {
            conn_close = conn_close || list_has_token(f.value, "close");
            conn_keep = conn_keep || list_has_token(f.value, "keep-alive");
        } else if (iequals(f.name, "host")) {
            ++hosts;
        } else if (iequals(f.name, "transfer-encoding")) {
            te_present = true;
            for_each_list_element(f.value, [&](std::string_view e) {
                ++codings;
                last_coding = e;
                if (iequals(e, "chunked")) ++chunked_codings;
            });
        } else if (iequals(f.name, "expect")) {
            for_each_list_element(f.value, [&](std::string_view e) {
                if (iequals(e, "100-continue"))
                    expect_100 = true;
                else
                    expect_other = true;
            });
        }
    }
    // RFC 9112 §9.3: HTTP/1.1 persists unless "close"; HTTP/1.0 only with "keep-alive".
    keep_alive_ = http11_ ? !conn_close : (conn_keep && !conn_close);

    // RFC 9112 §3.2: an HTTP/1.1 request needs exactly one Host field.
    if ((http11_ && hosts != 1) || hosts > 1) return reject(400, "a request needs exactly one Host field");

    // Message body framing (RFC 9112 §6.3).
    bool chunked = false;
    std::uint64_t length = 0;
    const ContentLength cl = content_length_of(req_.fields);
    if (te_present) {
        if (cl.present) return reject(400, "both Content-Length and Transfer-Encoding");
        if (!http11_) return reject(400, "Transfer-Encoding in an HTTP/1.0 request");  // §6.1
        if (codings == 0 || !iequals(last_coding, "chunked") || chunked_codings != 1)
            return reject(400, "chunked must be the final transfer coding, once");  // §6.3 item 4
        if (codings > 1) return reject(501, "no transfer coding but chunked is supported");  // §6.1
        chunked = true;
    } else if (cl.present) {
        if (!cl.valid) return reject(400, "invalid Content-Length");
        length = cl.value;
    }
    const bool has_content = chunked || length > 0;
    // RFC 9110 §10.1.1: unknown expectations may get 417; 100-continue is
    // ignored in HTTP/1.0 and meaningless without content.
    if (expect_other) return reject(417, "only 100-continue is understood");
    const bool send_continue = expect_100 && http11_ && has_content;

    const bool is_get = method == "GET";
    const bool is_put = method == "PUT";
    std::optional<std::string_view> path;
    if (is_get || is_head_ || is_put) {
        path = path_of(req_.target);
        if (!path) return reject(400, "the request-target is neither origin-form nor absolute-form");
    }

    if (is_put) {
        if (!sha_.ok()) return reject(500, "the hash context is unavailable");
        if (send_continue) {
            Response r;
            r.head = "HTTP/1.1 100 Continue\r\n\r\n";
            out_.push_back(std::move(r));
        }
        return start_body(chunked, length, true);
    }

    // The answer of GET, HEAD and other methods does not depend on their
    // content, so it is queued now and the content (if any) is skipped. A
    // client waiting for 100-continue gets the answer instead and the
    // connection closes, since its content may or may not follow.
    const bool close = !keep_alive_ || send_continue;
    if (is_get || is_head_) {
        static constexpr std::string_view kBytes = "/bytes/";
        if (path->substr(0, kBytes.size()) == kBytes) {
            const auto n = parse_decimal(path->substr(kBytes.size()), lim_.max_bytes_resource);
            if (!n) {
                respond(400, "Content-Type: text/plain\r\n",
                        "bad request: N in /bytes/N must be decimal digits, at most " +
                            std::to_string(lim_.max_bytes_resource) + "\n",
                        0, close);
            } else {
                respond(200, "Content-Type: application/octet-stream\r\n", {}, *n, close);
            }
        } else {
            respond(404, "Content-Type: text/plain\r\n", "not found\n", 0, close);
        }
    } else {
        respond(405, "Allow: GET, HEAD, PUT\r\nContent-Type: text/plain\r\n", "method not allowed\n", 0, close);
    }
    if (in_ != In::closed) start_body(chunked, length, false);
}

void HttpServer::start_body(bool chunked, std::uint64_t length, bool hash) {
    head_.reset();  // req_ points into the head: it is not used past this point
    hash_body_ = hash;
    if (chunked) {
        chunks_.reset();
        in_ = In::body_chunked;
    } else if (length > 0) {
        body_left_ = length;
        in_ = In::body_length;
    } else {
        in_ = In::body_length;
        body_left_ = 0;
        finish_body();
    }
}

void HttpServer::finish_body() {
    if (in_ == In::closed) return;
    in_ = In::head;
    if (!hash_body_) return;
    const Sha256Digest d = sha_.finish();
    if (!sha_.ok()) return reject(500, "hashing failed");
    respond(200, "Content-Type: text/plain\r\n", Sha256::hex(d) + "\n", 0, !keep_alive_);
}

void HttpServer::respond(int status, std::string_view fields, std::string body, std::uint64_t pattern_len,
                         bool close) {
    Response r;
    r.head.reserve(160);
    r.head += "HTTP/1.1 ";
    r.head += std::to_string(status);
    r.head += ' ';
    r.head += reason_of(status);
    r.head += "\r\nServer: uinet\r\n";
    r.head += fields;
    r.head += "Content-Length: ";
    r.head += std::to_string(body.size() + pattern_len);
    r.head += "\r\n";
    if (close)
        r.head += "Connection: close\r\n";
    else if (!http11_)
        r.head += "Connection: keep-alive\r\n";
    r.head += "\r\n";
    // RFC 9110 §9.3.2: a response to HEAD has the fields of GET's, no content.
    if (!is_head_) {
        r.body = std::move(body);
        r.pattern_len = pattern_len;
    }
    out_.push_back(std::move(r));
    if (close) {
        in_ = In::closed;  // RFC 9112 §9.6: no further requests are read
        head_.reset();
    }
}

void HttpServer::reject(int status, std::string_view why) {
    std::string body = reason_of(status);
    for (char& c : body)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    body += ": ";
    body += why;
    body += '\n';
    respond(status, "Content-Type: text/plain\r\n", std::move(body), 0, true);
}

std::size_t HttpServer::write_some(Response& r, MutBytes out) {
    const std::uint64_t hs = r.head.size(), bs = r.body.size();
    std::size_t n = 0;
    while (n < out.size() && r.sent < r.total()) {
        const std::size_t room = out.size() - n;
        std::size_t k = 0;
        if (r.sent < hs) {
            k = static_cast<std::size_t>(std::min<std::uint64_t>(hs - r.sent, room));
            std::memcpy(out.data() + n, r.head.data() + r.sent, k);
        } else if (r.sent < hs + bs) {
            const std::uint64_t off = r.sent - hs;
            k = static_cast<std::size_t>(std::min<std::uint64_t>(bs - off, room));
            std::memcpy(out.data() + n, r.body.data() + off, k);
        } else {
            const std::uint64_t off = r.sent - hs - bs;
            k = static_cast<std::size_t>(std::min<std::uint64_t>(r.pattern_len - off, room));
            fill_get_pattern(off, out.subspan(n, k));
        }
        n += k;
        r.sent += k;
    }
    return n;
}

std::size_t HttpServer::produce(MutBytes out) {
    if (failed_) return 0;
    std::size_t n = 0;
    while (true) {
        while (n < out.size() && !out_.empty()) {
            n += write_some(out_.front(), out.subspan(n));
            if (out_.front().sent == out_.front().total()) out_.pop_front();
        }
        // Room in the queue again: resume requests held back in the stash.
        if (n == out.size() || !pump()) break;
    }
    return n;
}

}  // namespace

std::unique_ptr<StreamService> make_http_server(const HttpServerLimits& limits) {
    return std::make_unique<HttpServer>(limits);
}

}  // namespace uinet::services
