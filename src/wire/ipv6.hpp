// wire/ipv6.hpp — the IPv6 fixed header (RFC 8200 section 3).
//
// Contract: parse() needs 40 bytes (truncated), version 6 (bad_version)
// and a payload length that fits in the bytes given (bad_length; bytes
// past it are link padding). Extension headers are not walked: next_header
// is the value of the fixed header. A payload length of 0 (jumbogram, RFC
// 2675) is returned as is. emit() writes 40 bytes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/addr.hpp"
#include "base/bytes.hpp"
#include "base/result.hpp"
#include "wire/error.hpp"

namespace uinet::wire {

inline constexpr std::size_t kIpv6HeaderLen = 40;
inline constexpr std::size_t kIpv6MinMtu = 1280;

class Ipv6View {
public:
    explicit Ipv6View(Bytes b) : b_(b) {}
    // >= 40 bytes and 40 + payload_len() <= bytes.
    Result<void, ParseError> check_len() const;
    std::uint8_t version() const { return b_[0] >> 4; }
    std::uint8_t traffic_class() const {
        return static_cast<std::uint8_t>((load_be16(b_.data()) >> 4) & 0xff);
    }
    std::uint32_t flow_label() const { return load_be32(b_.data()) & 0xfffff; }
    std::uint16_t payload_len() const { return load_be16(b_.data() + 4); }
    std::uint8_t next_header() const { return b_[6]; }
    std::uint8_t hop_limit() const { return b_[7]; }
    Ipv6Addr src() const { return Ipv6Addr::from_bytes(b_.data() + 8); }
    Ipv6Addr dst() const { return Ipv6Addr::from_bytes(b_.data() + 24); }
    Bytes payload() const { return b_.subspan(kIpv6HeaderLen, payload_len()); }

private:
    Bytes b_;
};

struct Ipv6Repr {
    Ipv6Addr src;
    Ipv6Addr dst;
    std::uint8_t next_header = 0;
    std::uint8_t hop_limit = 64;
    std::uint8_t traffic_class = 0;
    std::uint32_t flow_label = 0;  // 20 bits
    std::uint16_t payload_len = 0;

    static Result<Ipv6Repr, ParseError> parse(Bytes packet);
    static constexpr std::size_t size() { return kIpv6HeaderLen; }
    // Writes 40 bytes.
    void emit(MutBytes out) const;

    bool operator==(const Ipv6Repr&) const = default;
};

}  // namespace uinet::wire
