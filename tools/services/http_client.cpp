// tools/services/http_client.cpp — HTTP/1.1 test clients (see http_client.hpp).
#include "services/http_client.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

#include "services/pattern.hpp"

namespace uinet::services {

namespace {

using namespace http;

// Chunk sizes of chunked content, in turn: small, odd and large ones, so
// chunk boundaries fall everywhere relative to the reader's pieces.
constexpr std::array<std::uint64_t, 7> kChunkPlan = {1, 100, 4096, 17, 65536, 8000, 250};
constexpr std::string_view kLastChunk = "0\r\nX-Uinet-Trailer: ignored\r\n\r\n";

// N of a "/bytes/N" path, if it is one.
std::optional<std::uint64_t> bytes_resource(std::string_view path) {
    static constexpr std::string_view kBytes = "/bytes/";
    if (path.substr(0, kBytes.size()) != kBytes) return std::nullopt;
    path.remove_prefix(kBytes.size());
    return parse_decimal(path.substr(0, path.find('?')), ~std::uint64_t{0});
}

}  // namespace

HttpClient::HttpClient(std::vector<HttpRequestSpec> requests, HttpClientOptions opts)
    : reqs_(std::move(requests)),
      results_(reqs_.size()),
      opts_(std::move(opts)),
      head_(opts_.max_head_bytes, false),
      chunks_(opts_.max_head_bytes, opts_.max_header_lines) {
    if (!sent_hash_.ok() || !recv_hash_.ok()) fail("no SHA-256 context");
    if (reqs_.empty()) finished_ = true;
    normalize();
}

bool HttpClient::ok() const {
    if (!error_.empty() || recv_idx_ != reqs_.size()) return false;
    return std::all_of(results_.begin(), results_.end(), [](const HttpResult& r) { return r.ok; });
}

void HttpClient::fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
    finished_ = true;
    pend_.clear();
}

// ---- sending ---------------------------------------------------------------

bool HttpClient::can_start() const {
    if (finished_ || stop_sending_ || send_idx_ >= reqs_.size()) return false;
    if (send_idx_ > 0 && reqs_[send_idx_ - 1].close) return false;
    return opts_.pipeline || recv_idx_ == send_idx_;
}

void HttpClient::start_request() {
    const HttpRequestSpec& s = reqs_[send_idx_];
    const bool content = has_content(s);
    const bool expect = s.expect_continue && (s.chunked || s.body_size > 0);  // RFC 9110 §10.1.1
    std::string h;
    h.reserve(128 + s.path.size());
    h += s.method;
    h += ' ';
    h += s.path;
    h += " HTTP/1.1\r\nHost: ";
    h += opts_.host;
    h += "\r\n";
    if (content) {
        if (s.chunked) {
            h += "Transfer-Encoding: chunked\r\n";
        } else {
            h += "Content-Length: ";
            h += std::to_string(s.body_size);
            h += "\r\n";
        }
    }
    if (expect) h += "Expect: 100-continue\r\n";
    if (s.close) h += "Connection: close\r\n";
    h += "\r\n";
    pend_.append(h);
    body_off_ = 0;
    body_left_ = content ? s.body_size : 0;
    chunk_left_ = 0;
    chunk_no_ = 0;
    continue_ok_ = false;
    sent_hash_.reset();
    send_ = !content ? Send::idle : expect ? Send::wait_continue : Send::body;
    ++send_idx_;
}

void HttpClient::finish_sent_body() {
    results_[send_idx_ - 1].sent_sha256 = Sha256::hex(sent_hash_.finish());
    send_ = Send::idle;
}

// Takes every step that needs no output room, so that afterwards either
// pend_ holds bytes, or content bytes are due, or nothing can be sent yet.
void HttpClient::normalize() {
    while (!finished_ && !stop_sending_) {
        if (send_ == Send::idle) {
            if (!can_start()) return;
            start_request();
        } else if (send_ == Send::wait_continue) {
            if (!continue_ok_) return;
            send_ = Send::body;
        } else if (reqs_[send_idx_ - 1].chunked) {
            if (chunk_left_ > 0) return;
            if (body_left_ == 0) {
                pend_.append(kLastChunk);
                finish_sent_body();
                continue;
            }
            chunk_left_ = std::min(body_left_, kChunkPlan[chunk_no_ % kChunkPlan.size()]);
            char line[48];
            const int len = std::snprintf(line, sizeof line, "%llx%s\r\n",
                                          static_cast<unsigned long long>(chunk_left_),
                                          chunk_no_ % 3 == 2 ? ";uinet-ext=\"x\"" : "");
            pend_.append(std::string_view(line, static_cast<std::size_t>(len)));
            ++chunk_no_;
            return;
        } else {
            if (body_left_ > 0) return;
            finish_sent_body();
        }
    }
}

void HttpClient::send_body_now() {
    if (send_ == Send::wait_continue) continue_ok_ = true;
    normalize();
}

bool HttpClient::output_pending() const {
    if (finished_) return false;
    if (!pend_.empty()) return true;
    return !stop_sending_ && send_ == Send::body;
}

std::size_t HttpClient::produce(MutBytes out) {
    std::size_t n = 0;
    while (n < out.size() && !finished_) {
        if (!pend_.empty()) {
            n += pend_.pop_into(out.subspan(n));
            continue;
        }
        if (stop_sending_ || send_ != Send::body) break;
        const bool chunked = reqs_[send_idx_ - 1].chunked;
        const std::uint64_t avail = chunked ? chunk_left_ : body_left_;
        const auto k = static_cast<std::size_t>(std::min<std::uint64_t>(avail, out.size() - n));
        const MutBytes piece = out.subspan(n, k);
        if (!opts_.content_source)
            fill_put_pattern(body_off_, piece);
        else if (!opts_.content_source(body_off_, piece)) {
            fail("cannot read the request content");
            return n;
        }
        sent_hash_.update(piece);
        body_off_ += k;
        body_left_ -= k;
        n += k;
        if (chunked) {
            chunk_left_ -= k;
            if (chunk_left_ == 0) pend_.append(std::string_view("\r\n"));
        }
        normalize();
    }
    return n;
}

// ---- receiving -------------------------------------------------------------

void HttpClient::on_data(Bytes in) {
    std::size_t pos = 0;
    while (pos < in.size() && !finished_) {
        switch (recv_) {
        case Recv::head:
            pos += head_.feed(in.subspan(pos));
            if (head_.state() == HeadReader::State::complete)
                on_response_head();
            else if (head_.state() == HeadReader::State::too_large)
                fail("response head too large");
            else if (head_.state() == HeadReader::State::bad)
                fail("response head line without CRLF");
            break;
        case Recv::body_length: {
            const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(recv_left_, in.size() - pos));
            take_body(in.subspan(pos, n));
            pos += n;
            recv_left_ -= n;
            if (recv_left_ == 0) complete_response();
            break;
        }
        case Recv::body_chunked: {
            Bytes data;
            pos += chunks_.decode(in.subspan(pos), data);
            take_body(data);
            if (chunks_.failed())
                fail("malformed chunked response");
            else if (chunks_.finished())
                complete_response();
            break;
        }
        case Recv::body_eof:
            take_body(in.subspan(pos));
            pos = in.size();
            break;
        }
    }
    normalize();
}

void HttpClient::on_eof() {
    if (finished_) return;
    if (recv_ == Recv::body_eof) {
        complete_response();
        finished_ = true;
        return;
    }
    if (recv_ != Recv::head || !head_.idle())
        fail("connection closed inside response " + std::to_string(recv_idx_ + 1));
    else
        fail("connection closed after " + std::to_string(recv_idx_) + " of " + std::to_string(reqs_.size()) +
             " responses");
}

void HttpClient::on_response_head() {
    if (parse_response_head(head_.text(), opts_.max_header_lines, resp_) != HeadError::none)
        return fail("malformed response head");
    if (recv_idx_ >= send_idx_) return fail("a response without a request");
    HttpResult& r = results_[recv_idx_];
    const HttpRequestSpec& s = reqs_[recv_idx_];
    const bool sending_this = recv_idx_ + 1 == send_idx_ && send_ != Send::idle;
    if (resp_.status < 200) {
        // Interim responses (RFC 9110 §15.2); nothing here asked to switch protocols.
        if (resp_.status == 101) return fail("unexpected 101 (Switching Protocols)");
        if (resp_.status == 100) {
            r.got_continue = true;
            if (sending_this && send_ == Send::wait_continue) continue_ok_ = true;
        }
        head_.reset();
        return;
    }
    r.status = resp_.status;
    bool te = false, chunked = false;
    for (const Field& f : resp_.fields) {
        if (iequals(f.name, "connection") && list_has_token(f.value, "close")) r.server_close = true;
        if (iequals(f.name, "transfer-encoding")) {
            te = true;
            for_each_list_element(f.value, [&](std::string_view e) { chunked = iequals(e, "chunked"); });
        }
    }
    const ContentLength cl = content_length_of(resp_.fields);
    if (cl.present && !cl.valid) return fail("invalid Content-Length in a response");
    if (cl.present) r.content_length = cl.value;
    // The server answered before this request's content was sent in full:
    // the rest is not sent, and the connection ends after this response.
    if (sending_this) {
        stop_sending_ = true;
        pend_.clear();
    }
    head_.reset();
    recv_hash_.reset();
    // Response framing (RFC 9112 §6.3).
    if (s.method == "HEAD" || r.status == 204 || r.status == 304) {
        complete_response();
    } else if (te) {
        if (!chunked) return fail("a response coding other than chunked");
        chunks_.reset();
        r.chunked = true;
        recv_ = Recv::body_chunked;
    } else if (cl.present) {
        recv_left_ = cl.value;
        recv_ = Recv::body_length;
        if (recv_left_ == 0) complete_response();
    } else {
        r.server_close = true;
        recv_ = Recv::body_eof;
    }
}

void HttpClient::take_body(Bytes data) {
    if (data.empty()) return;
    HttpResult& r = results_[recv_idx_];
    if (r.pattern_ok && check_get_pattern(r.body_bytes, data) != data.size()) r.pattern_ok = false;
    if (r.body_start.size() < opts_.keep_body) {
        const std::size_t k = std::min(opts_.keep_body - r.body_start.size(), data.size());
        r.body_start.append(reinterpret_cast<const char*>(data.data()), k);
    }
    recv_hash_.update(data);
    r.body_bytes += data.size();
    if (opts_.body_sink && !opts_.body_sink(recv_idx_, data)) fail("cannot store the response body");
}

void HttpClient::complete_response() {
    HttpResult& r = results_[recv_idx_];
    const HttpRequestSpec& s = reqs_[recv_idx_];
    r.complete = true;
    r.body_sha256 = Sha256::hex(recv_hash_.finish());
    bool ok = !r.content_length || s.method == "HEAD" || *r.content_length == r.body_bytes;
    if (s.method == "PUT") {
        std::string_view answer = r.body_start;
        if (!answer.empty() && answer.back() == '\n') answer.remove_suffix(1);
        r.digest_match = !r.sent_sha256.empty() && answer == r.sent_sha256;
        ok = ok && r.status == 200 && r.digest_match;
    } else if (const auto n = bytes_resource(s.path); n && (s.method == "GET" || s.method == "HEAD")) {
        ok = ok && r.status == 200 && r.content_length == *n;
        ok = ok && (s.method == "HEAD" ? r.body_bytes == 0 : r.pattern_ok);
    }
    r.ok = ok;
    recv_ = Recv::head;
    ++recv_idx_;
    if (r.server_close || s.close || stop_sending_ || recv_idx_ == reqs_.size()) {
        finished_ = true;
        pend_.clear();
    }
}

std::unique_ptr<HttpClient> make_http_get(std::string path, bool head_only) {
    HttpRequestSpec s;
    s.method = head_only ? "HEAD" : "GET";
    s.path = std::move(path);
    return make_http_session({std::move(s)});
}

std::unique_ptr<HttpClient> make_http_put(std::string path, std::uint64_t size, bool chunked, bool expect_continue) {
    HttpRequestSpec s;
    s.method = "PUT";
    s.path = std::move(path);
    s.body_size = size;
    s.chunked = chunked;
    s.expect_continue = expect_continue;
    return make_http_session({std::move(s)});
}

std::unique_ptr<HttpClient> make_http_session(std::vector<HttpRequestSpec> requests, HttpClientOptions opts) {
    return std::make_unique<HttpClient>(std::move(requests), std::move(opts));
}

}  // namespace uinet::services
