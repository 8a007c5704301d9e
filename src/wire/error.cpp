// wire/error.cpp — names of ParseError values.
#include "wire/error.hpp"

namespace uinet::wire {

const char* to_string(ParseError e) noexcept {
    switch (e) {
        case ParseError::truncated: return "truncated";
        case ParseError::bad_version: return "bad_version";
        case ParseError::bad_header_len: return "bad_header_len";
        case ParseError::bad_length: return "bad_length";
        case ParseError::bad_checksum: return "bad_checksum";
        case ParseError::bad_option: return "bad_option";
        case ParseError::unsupported: return "unsupported";
        case ParseError::too_many_tags: return "too_many_tags";
    }
    return "unknown";
}

}  // namespace uinet::wire
