// wire/icmpv6.hpp — ICMPv6 (RFC 4443), the fixed 8-byte header.
//
// Contract: parse() needs >= 8 bytes; with verify the checksum covers the
// IPv6 pseudo header (RFC 8200 section 8.1, next header 58) and the whole
// message. emit() writes the header with a checksum over pseudo header +
// header + payload; the payload is not copied. Neighbor Discovery bodies
// (RFC 4861) are the caller's business: msg.subspan(8).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/addr.hpp"
#include "base/bytes.hpp"
#include "base/result.hpp"
#include "wire/error.hpp"

namespace uinet::wire {

namespace icmpv6_type {
inline constexpr std::uint8_t dest_unreachable = 1;
inline constexpr std::uint8_t packet_too_big = 2;
inline constexpr std::uint8_t time_exceeded = 3;
inline constexpr std::uint8_t param_problem = 4;
inline constexpr std::uint8_t echo_request = 128;
inline constexpr std::uint8_t echo_reply = 129;
inline constexpr std::uint8_t router_solicit = 133;
inline constexpr std::uint8_t router_advert = 134;
inline constexpr std::uint8_t neighbor_solicit = 135;
inline constexpr std::uint8_t neighbor_advert = 136;
inline constexpr std::uint8_t redirect = 137;
}  // namespace icmpv6_type

namespace icmpv6_code {
// dest_unreachable
inline constexpr std::uint8_t no_route = 0;
inline constexpr std::uint8_t admin_prohibited = 1;
inline constexpr std::uint8_t addr_unreachable = 3;
inline constexpr std::uint8_t port_unreachable = 4;
// time_exceeded
inline constexpr std::uint8_t hop_limit_exceeded = 0;
inline constexpr std::uint8_t reassembly_exceeded = 1;
}  // namespace icmpv6_code

inline constexpr std::size_t kIcmpv6HeaderLen = 8;

struct Icmpv6Repr {
    std::uint8_t type = 0;
    std::uint8_t code = 0;
    std::uint32_t rest = 0;  // bytes 4..7: id<<16|seq for echo, MTU for packet-too-big

    static Result<Icmpv6Repr, ParseError> parse(Bytes msg, const Ipv6Addr& src, const Ipv6Addr& dst,
                                                bool verify = true);
    static constexpr std::size_t size() { return kIcmpv6HeaderLen; }
    void emit(MutBytes header_out, Bytes payload, const Ipv6Addr& src, const Ipv6Addr& dst) const;
    void emit_header(MutBytes header_out, std::uint16_t checksum = 0) const;

    std::uint16_t echo_ident() const { return static_cast<std::uint16_t>(rest >> 16); }
    std::uint16_t echo_seq() const { return static_cast<std::uint16_t>(rest); }
    bool is_error() const { return type < 128; }

    bool operator==(const Icmpv6Repr&) const = default;
};

std::uint16_t icmpv6_checksum(const Icmpv6Repr& r, const Ipv6Addr& src, const Ipv6Addr& dst,
                              std::span<const Bytes> payload_pieces);

}  // namespace uinet::wire
