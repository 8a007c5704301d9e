// tools/passive/http_bodies.cpp — HTTP/1.x bodies from observed streams.
#include "passive/http_bodies.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

namespace uinet::tools {

namespace http = services::http;

namespace {
constexpr std::size_t kMaxHead = 64 * 1024;
constexpr std::size_t kMaxFields = 256;

bool has_chunked(const std::vector<http::Field>& fields) {
    for (const auto& f : fields)
        if (http::iequals(f.name, "transfer-encoding") && http::list_has_token(f.value, "chunked")) return true;
    return false;
}
}  // namespace

HttpBodies::HttpBodies(std::string prefix, bool responses, std::deque<std::string>& methods)
    : prefix_(std::move(prefix)),
      responses_(responses),
      methods_(methods),
      head_(kMaxHead, !responses),
      chunked_(kMaxHead, kMaxFields) {}

HttpBodies::~HttpBodies() {
    if (fd_ >= 0) end_body();
}

void HttpBodies::begin_body() {
    const std::string path = prefix_ + "." + std::to_string(messages_) + ".body";
    fd_ = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
    written_ = 0;
    hole_in_body_ = false;
    ++bodies_;
}

void HttpBodies::write_body(Bytes b) {
    written_ += b.size();
    if (fd_ < 0) return;
    while (!b.empty()) {
        const ssize_t n = ::write(fd_, b.data(), b.size());
        if (n <= 0) return;  // disk full and the like: the body file stays short
        b = b.subspan(static_cast<std::size_t>(n));
    }
}

void HttpBodies::end_body() {
    if (fd_ >= 0) {
        // A body that ends in a hole: the file still has its full length.
        if (::ftruncate(fd_, static_cast<off_t>(written_)) != 0) {
        }
        ::close(fd_);
    }
    fd_ = -1;
    if (hole_in_body_) ++incomplete_;
    hole_in_body_ = false;
}

void HttpBodies::start_message() {
    ++messages_;
    std::vector<http::Field>* fields = nullptr;
    bool no_body = false;
    if (!responses_) {
        if (http::parse_request_head(head_.text(), kMaxFields, req_) != http::HeadError::none) {
            state_ = State::desynced;
            return;
        }
        methods_.emplace_back(req_.method);
        fields = &req_.fields;
        // RFC 9112 6.3 (6, 7): no Transfer-Encoding and no Content-Length: no body.
        no_body = !has_chunked(*fields) && !http::content_length_of(*fields).present;
    } else {
        if (http::parse_response_head(head_.text(), kMaxFields, resp_) != http::HeadError::none) {
            state_ = State::desynced;
            return;
        }
        const int st = resp_.status;
        if (st >= 100 && st < 200) {  // interim: the final response follows
            head_.reset();
            state_ = st == 101 ? State::opaque : State::head;
            return;
        }
        std::string method = "GET";
        if (!methods_.empty()) {
            method = std::move(methods_.front());
            methods_.pop_front();
        }
        if (method == "CONNECT" && st / 100 == 2) {
            head_.reset();
            state_ = State::opaque;
            return;
        }
        fields = &resp_.fields;
        no_body = method == "HEAD" || st == 204 || st == 304;
    }
    if (no_body) {
        state_ = State::head;
    } else if (has_chunked(*fields)) {
        state_ = State::chunked;
        chunked_.reset();
    } else if (const http::ContentLength cl = http::content_length_of(*fields); cl.present) {
        if (!cl.valid) {
            state_ = State::desynced;
            return;
        }
        remaining_ = cl.value;
        state_ = remaining_ > 0 ? State::length : State::head;
    } else {
        state_ = State::to_close;  // a response delimited by the end of the connection
    }
    head_.reset();
    if (state_ != State::head) begin_body();
}

void HttpBodies::data(Bytes in) {
    while (!in.empty()) {
        switch (state_) {
            case State::head: {
                const std::size_t n = head_.feed(in);
                in = in.subspan(n);
                if (head_.state() == http::HeadReader::State::complete)
                    start_message();
                else if (head_.state() != http::HeadReader::State::collecting)
                    state_ = State::desynced;
                break;
            }
            case State::length: {
                const std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, in.size()));
                write_body(in.first(k));
                in = in.subspan(k);
                remaining_ -= k;
                if (remaining_ == 0) {
                    end_body();
                    state_ = State::head;
                }
                break;
            }
            case State::chunked: {
                Bytes d;
                const std::size_t n = chunked_.decode(in, d);
                if (!d.empty()) write_body(d);
                in = in.subspan(n);
                if (chunked_.finished()) {
                    end_body();
                    state_ = State::head;
                } else if (chunked_.failed() || n == 0) {
                    end_body();
                    state_ = State::desynced;
                }
                break;
            }
            case State::to_close: write_body(in); return;
            case State::opaque:
            case State::desynced: return;
        }
    }
}

void HttpBodies::hole(std::uint64_t len) {
    switch (state_) {
        case State::length: {
            const std::uint64_t k = std::min(len, remaining_);
            if (fd_ >= 0) ::lseek(fd_, static_cast<off_t>(k), SEEK_CUR);
            written_ += k;
            remaining_ -= k;
            hole_in_body_ = true;
            if (remaining_ == 0) {
                end_body();
                state_ = k == len ? State::head : State::desynced;
            }
            return;
        }
        case State::to_close:
            if (fd_ >= 0) ::lseek(fd_, static_cast<off_t>(len), SEEK_CUR);
            written_ += len;
            hole_in_body_ = true;
            return;
        case State::head:
        case State::chunked:
            if (fd_ >= 0) {
                hole_in_body_ = true;
                end_body();
            }
            state_ = State::desynced;
            return;
        case State::opaque:
        case State::desynced: return;
    }
}

void HttpBodies::eof() {
    if (state_ == State::length || state_ == State::chunked) hole_in_body_ = true;  // cut short
    if (fd_ >= 0) end_body();
    if (state_ != State::opaque) state_ = State::desynced;
}

}  // namespace uinet::tools
