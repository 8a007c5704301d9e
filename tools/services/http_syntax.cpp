// tools/services/http_syntax.cpp — HTTP/1.1 message syntax (see http_syntax.hpp).
#include "services/http_syntax.hpp"

#include <algorithm>

namespace uinet::services::http {

namespace {

constexpr std::string_view kCrlf = "\r\n";

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(std::uint8_t c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// A control character other than HTAB (RFC 9110 §5.5: field values are
// VCHAR, SP, HTAB and obs-text).
bool is_bad_ctl(std::uint8_t c) { return (c < 0x20 && c != '\t') || c == 0x7f; }

// HTTP-version = "HTTP" "/" DIGIT "." DIGIT (RFC 9112 §2.3), case-sensitive.
bool parse_version(std::string_view v, int& major, int& minor) {
    if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || !is_digit(v[5]) || v[6] != '.' || !is_digit(v[7]))
        return false;
    major = v[5] - '0';
    minor = v[7] - '0';
    return true;
}

// The field lines after the start line; `block` ends with the empty line.
HeadError parse_fields(std::string_view block, std::size_t max_fields, std::vector<Field>& out) {
    while (true) {
        const std::size_t eol = block.find(kCrlf);
        if (eol == std::string_view::npos) return HeadError::syntax;
        const std::string_view line = block.substr(0, eol);
        block.remove_prefix(eol + 2);
        if (line.empty()) return block.empty() ? HeadError::none : HeadError::syntax;
        // RFC 9112 §5.2: obs-fold is rejected.
        if (line[0] == ' ' || line[0] == '\t') return HeadError::syntax;
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) return HeadError::syntax;
        const std::string_view name = line.substr(0, colon);
        // RFC 9112 §5.1: no whitespace between name and colon (a tchar check covers it).
        if (!std::all_of(name.begin(), name.end(), is_tchar)) return HeadError::syntax;
        const std::string_view value = trim_ows(line.substr(colon + 1));
        for (char c : value)
            if (is_bad_ctl(static_cast<std::uint8_t>(c))) return HeadError::syntax;
        if (out.size() >= max_fields) return HeadError::too_many_fields;
        out.push_back(Field{name, value});
    }
}

}  // namespace

// ---- HeadReader -----------------------------------------------------------

std::size_t HeadReader::feed(Bytes in) {
    if (state_ != State::collecting) return 0;
    for (std::size_t i = 0; i < in.size(); ++i) {
        const std::uint8_t c = in[i];
        if (++seen_ > max_) {
            state_ = State::too_large;
            return i + 1;
        }
        if (text_.empty() && skip_empty_ && (c == '\r' || c == '\n')) continue;
        text_.push_back(static_cast<char>(c));
        // Track the CR LF CR LF that ends the head; a CR not followed by LF,
        // or an LF not preceded by CR, is malformed.
        if (c == '\r') {
            if (match_ != 0 && match_ != 2) {
                state_ = State::bad;
                return i + 1;
            }
            ++match_;
        } else if (c == '\n') {
            if (match_ != 1 && match_ != 3) {
                state_ = State::bad;
                return i + 1;
            }
            ++match_;
        } else {
            if (match_ == 1 || match_ == 3) {
                state_ = State::bad;
                return i + 1;
            }
            match_ = 0;
        }
        if (match_ == 4) {
            state_ = State::complete;
            return i + 1;
        }
    }
    return in.size();
}

void HeadReader::reset() {
    text_.clear();
    seen_ = 0;
    match_ = 0;
    state_ = State::collecting;
}

// ---- start lines ------------------------------------------------------------

HeadError parse_request_head(std::string_view head, std::size_t max_fields, RequestHead& out) {
    out.fields.clear();
    const std::size_t eol = head.find(kCrlf);
    if (eol == std::string_view::npos) return HeadError::syntax;
    const std::string_view line = head.substr(0, eol);
    // request-line = method SP request-target SP HTTP-version (RFC 9112 §3),
    // single spaces.
    const std::size_t sp1 = line.find(' ');
    if (sp1 == std::string_view::npos || sp1 == 0) return HeadError::syntax;
    out.method = line.substr(0, sp1);
    if (!std::all_of(out.method.begin(), out.method.end(), is_tchar)) return HeadError::syntax;
    const std::string_view rest = line.substr(sp1 + 1);
    const std::size_t sp2 = rest.find(' ');
    if (sp2 == std::string_view::npos || sp2 == 0) return HeadError::syntax;
    out.target = rest.substr(0, sp2);
    for (char c : out.target) {
        const auto u = static_cast<std::uint8_t>(c);
        if (u <= 0x20 || u >= 0x7f) return HeadError::syntax;
    }
    if (!parse_version(rest.substr(sp2 + 1), out.major, out.minor)) return HeadError::syntax;
    const HeadError e = parse_fields(head.substr(eol + 2), max_fields, out.fields);
    if (e != HeadError::none) return e;
    return out.major == 1 ? HeadError::none : HeadError::version;
}

HeadError parse_response_head(std::string_view head, std::size_t max_fields, ResponseHead& out) {
    out.fields.clear();
    const std::size_t eol = head.find(kCrlf);
    if (eol == std::string_view::npos) return HeadError::syntax;
    const std::string_view line = head.substr(0, eol);
    // status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4);
    // the SP after the code is tolerated when missing.
    if (line.size() < 12 || !parse_version(line.substr(0, 8), out.major, out.minor) || line[8] != ' ')
        return HeadError::syntax;
    if (!is_digit(line[9]) || !is_digit(line[10]) || !is_digit(line[11])) return HeadError::syntax;
    out.status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    if (out.status < 100) return HeadError::syntax;
    if (line.size() > 12) {
        if (line[12] != ' ') return HeadError::syntax;
        out.reason = line.substr(13);
    } else {
        out.reason = {};
    }
    const HeadError e = parse_fields(head.substr(eol + 2), max_fields, out.fields);
    if (e != HeadError::none) return e;
    return out.major == 1 ? HeadError::none : HeadError::version;
}

// ---- helpers ------------------------------------------------------------------

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

// tchar (RFC 9110 §5.6.2).
bool is_tchar(char c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string_view trim_ows(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool list_has_token(std::string_view v, std::string_view token) {
    bool found = false;
    for_each_list_element(v, [&](std::string_view e) { found = found || iequals(e, token); });
    return found;
}

std::optional<std::uint64_t> parse_decimal(std::string_view s, std::uint64_t max) {
    if (s.empty()) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : s) {
        if (!is_digit(c)) return std::nullopt;
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (v > (max - d) / 10) return std::nullopt;
        v = v * 10 + d;
    }
    return v;
}

ContentLength content_length_of(const std::vector<Field>& fields) {
    ContentLength cl;
    for (const Field& f : fields) {
        if (!iequals(f.name, "content-length")) continue;
        bool any = false;
        for_each_list_element(f.value, [&](std::string_view e) {
            any = true;
            const auto v = parse_decimal(e, kMaxContentLength);
            if (!v || (cl.present && *v != cl.value)) {
                cl.valid = false;
                return;
            }
            cl.present = true;
            cl.value = *v;
        });
        // An empty value, or a list with empty elements only, is invalid too.
        if (!any) cl.valid = false;
        cl.present = true;
    }
    return cl;
}

// ---- ChunkedDecoder ---------------------------------------------------------

void ChunkedDecoder::reset() {
    size_ = 0;
    digits_ = 0;
    line_ = 0;
    trailer_bytes_ = 0;
    trailer_lines_ = 0;
    state_ = State::size;
}

std::size_t ChunkedDecoder::decode(Bytes in, Bytes& data) {
    data = {};
    std::size_t i = 0;
    auto fail = [&] {
        state_ = State::error;
        return i;
    };
    while (i < in.size()) {
        const std::uint8_t c = in[i];
        switch (state_) {
        case State::size:
        case State::size_ws:
        case State::ext:
            // chunk-size [ chunk-ext ] CRLF (RFC 9112 §7.1); chunk-ext =
            // *( BWS ";" BWS name [ BWS "=" BWS value ] ), skipped unparsed
            // but bounded in length.
            if (++line_ > kMaxChunkLine) return fail();
            if (state_ == State::size && hex_value(c) >= 0) {
                if ((size_ >> 56) != 0) return fail();  // beyond 60 bits
                size_ = size_ * 16 + static_cast<std::uint64_t>(hex_value(c));
                ++digits_;
            } else if (digits_ == 0) {
                return fail();
            } else if (c == '\r') {
                state_ = State::size_lf;
            } else if (state_ == State::ext) {
                if (is_bad_ctl(c)) return fail();
            } else if (c == ' ' || c == '\t') {
                state_ = State::size_ws;
            } else if (c == ';') {
                state_ = State::ext;
            } else {
                return fail();
            }
            ++i;
            break;
        case State::size_lf:
            if (c != '\n') return fail();
            ++i;
            state_ = size_ == 0 ? State::trailer_start : State::data;
            break;
        case State::data: {
            const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(size_, in.size() - i));
            data = in.subspan(i, n);
            size_ -= n;
            i += n;
            if (size_ == 0) state_ = State::data_cr;
            return i;
        }
        case State::data_cr:
            if (c != '\r') return fail();
            ++i;
            state_ = State::data_lf;
            break;
        case State::data_lf:
            if (c != '\n') return fail();
            ++i;
            size_ = 0;
            digits_ = 0;
            line_ = 0;
            state_ = State::size;
            break;
        case State::trailer_start:
        case State::trailer_line:
        case State::trailer_lf:
        case State::final_lf:
            // trailer-section = *( field-line CRLF ), then CRLF (RFC 9112
            // §7.1.2); the fields are accepted and ignored.
            if (++trailer_bytes_ > max_trailer_bytes_) return fail();
            if (state_ == State::trailer_start) {
                if (c == '\r') {
                    state_ = State::final_lf;
                } else {
                    if (++trailer_lines_ > max_trailer_lines_ || is_bad_ctl(c) || c == ' ' || c == '\t')
                        return fail();
                    state_ = State::trailer_line;
                }
            } else if (state_ == State::trailer_line) {
                if (c == '\r')
                    state_ = State::trailer_lf;
                else if (is_bad_ctl(c))
                    return fail();
            } else {
                if (c != '\n') return fail();
                if (state_ == State::final_lf) {
                    state_ = State::done;
                    return i + 1;
                }
                state_ = State::trailer_start;
            }
            ++i;
            break;
        case State::done:
        case State::error:
            return i;
        }
    }
    return i;
}

}  // namespace uinet::services::http
