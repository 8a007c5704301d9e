// wire/error.hpp — the one error type of every wire-format parser.
//
// Contract: a parser either returns a fully decoded value or exactly one of
// these codes; it never reads outside the span it was given. to_string()
// returns a static, never-null, lower-case name for logs and counters.
#pragma once

#include <cstdint>

namespace uinet::wire {

enum class ParseError : std::uint8_t {
    truncated,       // fewer bytes than the header (or a length field) requires
    bad_version,     // IP version nibble does not match the parser
    bad_header_len,  // a header-length field is below its minimum or past the buffer
    bad_length,      // a total/payload length field is inconsistent
    bad_checksum,    // the checksum does not verify
    bad_option,      // a malformed option (length < 2 or running past the header)
    unsupported,     // well-formed but of a kind this stack does not handle
    too_many_tags,   // more nested VLAN tags than kMaxVlanTags
};

const char* to_string(ParseError e) noexcept;

}  // namespace uinet::wire
