// wire/icmpv4.hpp — ICMP for IPv4 (RFC 792; RFC 1191 for frag-needed MTU).
//
// Contract: Icmpv4Repr is the fixed 8-byte header (type, code, checksum and
// the 4 type-specific bytes `rest`). parse() needs >= 8 bytes and, when
// verifying, checks the checksum over the whole message. emit() writes the
// header and a checksum covering header and payload; the payload is not
// copied. The body (echo data, or the quoted datagram of an error) is the
// caller's business: msg.subspan(8).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/bytes.hpp"
#include "base/result.hpp"
#include "wire/error.hpp"

namespace uinet::wire {

namespace icmpv4_type {
inline constexpr std::uint8_t echo_reply = 0;
inline constexpr std::uint8_t dest_unreachable = 3;
inline constexpr std::uint8_t echo_request = 8;
inline constexpr std::uint8_t time_exceeded = 11;
inline constexpr std::uint8_t param_problem = 12;
}  // namespace icmpv4_type

namespace icmpv4_code {
// dest_unreachable
inline constexpr std::uint8_t net_unreachable = 0;
inline constexpr std::uint8_t host_unreachable = 1;
inline constexpr std::uint8_t proto_unreachable = 2;
inline constexpr std::uint8_t port_unreachable = 3;
inline constexpr std::uint8_t frag_needed = 4;
inline constexpr std::uint8_t admin_prohibited = 13;
// time_exceeded
inline constexpr std::uint8_t ttl_exceeded = 0;
inline constexpr std::uint8_t reassembly_exceeded = 1;
}  // namespace icmpv4_code

inline constexpr std::size_t kIcmpv4HeaderLen = 8;

struct Icmpv4Repr {
    std::uint8_t type = 0;
    std::uint8_t code = 0;
    std::uint32_t rest = 0;  // bytes 4..7: id<<16|seq for echo, next-hop MTU for frag-needed

    static Result<Icmpv4Repr, ParseError> parse(Bytes msg, bool verify = true);
    static constexpr std::size_t size() { return kIcmpv4HeaderLen; }
    // Writes the 8-byte header to header_out with a checksum over header+payload.
    void emit(MutBytes header_out, Bytes payload) const;
    // Writes the header with checksum 0 (for use with icmpv4_checksum()).
    void emit_header(MutBytes header_out, std::uint16_t checksum = 0) const;

    std::uint16_t echo_ident() const { return static_cast<std::uint16_t>(rest >> 16); }
    std::uint16_t echo_seq() const { return static_cast<std::uint16_t>(rest); }
    std::uint16_t next_hop_mtu() const { return static_cast<std::uint16_t>(rest); }
    static constexpr std::uint32_t echo_rest(std::uint16_t ident, std::uint16_t seq) {
        return (std::uint32_t{ident} << 16) | seq;
    }
    bool is_error() const {
        return type == icmpv4_type::dest_unreachable || type == icmpv4_type::time_exceeded ||
               type == icmpv4_type::param_problem;
    }

    bool operator==(const Icmpv4Repr&) const = default;
};

// The checksum field value for r's header followed by the concatenated pieces.
std::uint16_t icmpv4_checksum(const Icmpv4Repr& r, std::span<const Bytes> payload_pieces);

}  // namespace uinet::wire
