// tools/services/simple_services.cpp — echo (RFC 862), discard (RFC 863) and
// chargen (RFC 864) over a byte stream (see stream_service.hpp).
#include <algorithm>
#include <array>
#include <cstring>

#include "services/byte_queue.hpp"
#include "services/stream_service.hpp"

namespace uinet::services {

namespace {

// A driver that ignores wants_input() may overshoot the echo buffer by this
// factor before the connection is failed rather than buffered further.
constexpr std::size_t kEchoHardLimit = 4 * kEchoBuffer;

// RFC 862 §"TCP Based Echo Service": send back any data received, until the
// calling user terminates the connection.
class Echo final : public StreamService {
public:
    void on_data(Bytes in) override {
        if (failed_) return;
        if (buf_.size() + in.size() > kEchoHardLimit) {
            failed_ = true;
            buf_.clear();
            return;
        }
        buf_.append(in);
    }
    void on_eof() override { eof_ = true; }
    std::size_t produce(MutBytes out) override { return failed_ ? 0 : buf_.pop_into(out); }
    bool output_pending() const override { return !failed_ && !buf_.empty(); }
    bool wants_input() const override { return !failed_ && !eof_ && buf_.size() < kEchoBuffer; }
    bool done() const override { return eof_ && buf_.empty(); }
    bool failed() const override { return failed_; }

private:
    ByteQueue buf_;
    bool eof_ = false;
    bool failed_ = false;
};

// RFC 863 §"TCP Based Discard Service": throw away any data received.
class Discard final : public StreamService {
public:
    void on_data(Bytes) override {}
    void on_eof() override { eof_ = true; }
    std::size_t produce(MutBytes) override { return 0; }
    bool output_pending() const override { return false; }
    bool wants_input() const override { return !eof_; }
    bool done() const override { return eof_; }

private:
    bool eof_ = false;
};

// RFC 864 §"Data Syntax": the 95 printing characters as a ring; line N holds
// characters N .. N+71 (mod 95), then CR LF. The ring is laid out once with
// its first 71 characters repeated after it, so every line is one slice.
constexpr std::size_t kRing = 95;
constexpr std::size_t kLine = 72;

constexpr std::array<char, kRing + kLine - 1> make_ring() {
    std::array<char, kRing + kLine - 1> r{};
    for (std::size_t i = 0; i < r.size(); ++i) r[i] = static_cast<char>(' ' + i % kRing);
    return r;
}
constexpr auto kChargenRing = make_ring();

class Chargen final : public StreamService {
public:
    void on_data(Bytes) override {}  // "any data received is thrown away"
    void on_eof() override { eof_ = true; }
    std::size_t produce(MutBytes out) override {
        if (eof_) return 0;
        std::size_t n = 0;
        while (n < out.size()) {
            if (col_ < kLine) {
                const std::size_t k = std::min(kLine - col_, out.size() - n);
                std::memcpy(out.data() + n, kChargenRing.data() + line_ + col_, k);
                n += k;
                col_ += k;
            } else {
                out[n++] = col_ == kLine ? '\r' : '\n';
                if (++col_ == kLine + 2) {
                    col_ = 0;
                    line_ = (line_ + 1) % kRing;
                }
            }
        }
        return n;
    }
    bool output_pending() const override { return !eof_; }
    bool wants_input() const override { return !eof_; }
    bool done() const override { return eof_; }

private:
    std::size_t line_ = 0;  // first ring character of the current line
    std::size_t col_ = 0;   // 0..71 characters, 72 CR, 73 LF
    bool eof_ = false;
};

}  // namespace

std::unique_ptr<StreamService> make_echo() { return std::make_unique<Echo>(); }
std::unique_ptr<StreamService> make_discard() { return std::make_unique<Discard>(); }
std::unique_ptr<StreamService> make_chargen() { return std::make_unique<Chargen>(); }

}  // namespace uinet::services
