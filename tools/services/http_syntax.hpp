// tools/services/http_syntax.hpp — HTTP/1.1 message syntax (RFC 9112) shared by
// the test server and the test clients.
//
// Contract:
//  * HeadReader collects one message head (start line, field lines and the
//    empty line) from a byte stream, consuming exactly up to its end so the
//    caller sees the following bytes as body or as the next message. Lines
//    end in CRLF; a bare CR or LF inside the head is a syntax error (RFC 9112
//    §2.2 lets a recipient accept bare LF; this one does not). Empty lines
//    before a request line are skipped (RFC 9112 §2.2), counting towards the
//    size limit. The head is bounded by max_bytes; nothing grows beyond it.
//  * parse_request_head / parse_response_head split a complete head into
//    start-line parts and fields (string_views into the reader's buffer,
//    valid until its next reset()). Field syntax per RFC 9112 §5: a token
//    name, no whitespace before the colon, obs-fold rejected (§5.2), values
//    trimmed of OWS, control characters other than HTAB rejected.
//  * ChunkedDecoder undoes the chunked transfer coding (RFC 9112 §7.1)
//    incrementally: chunk extensions are skipped, trailer fields accepted and
//    ignored (§7.1.2), sizes that overflow 60 bits, extension lines longer
//    than kMaxChunkLine and trailer sections beyond their limits are errors.
//  * No exceptions; all limits explicit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.hpp"

namespace uinet::services::http {

class HeadReader {
public:
    enum class State : std::uint8_t { collecting, complete, too_large, bad };

    HeadReader(std::size_t max_bytes, bool skip_leading_empty_lines)
        : max_(max_bytes), skip_empty_(skip_leading_empty_lines) {}

    // Consumes bytes of `in` up to the end of the head (or all of it while
    // collecting). Consumes nothing once complete or failed.
    std::size_t feed(Bytes in);
    State state() const { return state_; }
    // True if nothing of a message has been seen yet (skipped empty lines aside).
    bool idle() const { return state_ == State::collecting && text_.empty(); }
    // The head, from the start line up to and including its final CRLF CRLF.
    std::string_view text() const { return text_; }
    void reset();

private:
    std::string text_;
    std::size_t max_;
    std::size_t seen_ = 0;  // bytes consumed, skipped empty lines included
    std::uint8_t match_ = 0;  // how much of CR LF CR LF the tail matches
    bool skip_empty_;
    State state_ = State::collecting;
};

struct Field {
    std::string_view name;
    std::string_view value;
};

struct RequestHead {
    std::string_view method;
    std::string_view target;
    int major = 0;
    int minor = 0;
    std::vector<Field> fields;  // reused between requests
};

struct ResponseHead {
    int major = 0;
    int minor = 0;
    int status = 0;
    std::string_view reason;
    std::vector<Field> fields;
};

enum class HeadError : std::uint8_t { none, syntax, too_many_fields, version };

// `version` is returned for a well-formed HTTP-version whose major is not 1.
HeadError parse_request_head(std::string_view head, std::size_t max_fields, RequestHead& out);
HeadError parse_response_head(std::string_view head, std::size_t max_fields, ResponseHead& out);

// Helpers over field values.
bool iequals(std::string_view a, std::string_view b);
bool is_tchar(char c);
std::string_view trim_ows(std::string_view s);
// Calls f(element) for each non-empty element of a comma-separated list
// (RFC 9110 §5.6.1), elements trimmed of OWS.
template <class F>
void for_each_list_element(std::string_view v, F&& f) {
    while (!v.empty()) {
        const std::size_t comma = v.find(',');
        const std::string_view e = trim_ows(v.substr(0, comma));
        if (!e.empty()) f(e);
        if (comma == std::string_view::npos) break;
        v.remove_prefix(comma + 1);
    }
}
// True if the comma-separated list `v` holds `token` (case-insensitive).
bool list_has_token(std::string_view v, std::string_view token);
// 1*DIGIT, no sign, no surrounding space, value <= max; nullopt otherwise.
std::optional<std::uint64_t> parse_decimal(std::string_view s, std::uint64_t max);

// Content-Length (RFC 9110 §8.6, RFC 9112 §6.3): every Content-Length field
// value, each possibly a list, must be the same decimal <= kMaxContentLength;
// anything else makes the length invalid.
inline constexpr std::uint64_t kMaxContentLength = std::uint64_t{1} << 62;
struct ContentLength {
    bool present = false;
    bool valid = true;
    std::uint64_t value = 0;
};
ContentLength content_length_of(const std::vector<Field>& fields);

inline constexpr std::size_t kMaxChunkLine = 4096;

class ChunkedDecoder {
public:
    ChunkedDecoder(std::size_t max_trailer_bytes, std::size_t max_trailer_lines)
        : max_trailer_bytes_(max_trailer_bytes), max_trailer_lines_(max_trailer_lines) {}

    // Consumes framing bytes of `in` up to the next chunk data, and at most
    // one run of chunk data, which it returns in `data` (a subspan of `in`,
    // counted in the return value). Returns 0 only if `in` is empty, the
    // body is finished or an error was found.
    std::size_t decode(Bytes in, Bytes& data);
    bool finished() const { return state_ == State::done; }
    bool failed() const { return state_ == State::error; }
    void reset();

private:
    enum class State : std::uint8_t {
        size, size_ws, ext, size_lf, data, data_cr, data_lf, trailer_start, trailer_line, trailer_lf, final_lf,
        done, error
    };
    std::uint64_t size_ = 0;
    std::size_t digits_ = 0;
    std::size_t line_ = 0;
    std::size_t trailer_bytes_ = 0;
    std::size_t trailer_lines_ = 0;
    std::size_t max_trailer_bytes_;
    std::size_t max_trailer_lines_;
    State state_ = State::size;
};

}  // namespace uinet::services::http
