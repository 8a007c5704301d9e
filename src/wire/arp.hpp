// wire/arp.hpp — ARP for Ethernet/IPv4 (RFC 826).
//
// Contract: only hardware type 1 (Ethernet), protocol type 0x0800, hardware
// length 6 and protocol length 4 are decoded; any other combination parses
// as `unsupported`. Bytes after the 28-byte body (Ethernet padding) are
// ignored. The opcode is returned as is; the caller acts on request/reply.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/addr.hpp"
#include "base/bytes.hpp"
#include "base/result.hpp"
#include "wire/error.hpp"

namespace uinet::wire {

namespace arp_op {
inline constexpr std::uint16_t request = 1;
inline constexpr std::uint16_t reply = 2;
}  // namespace arp_op

inline constexpr std::size_t kArpLen = 28;

struct ArpRepr {
    std::uint16_t op = arp_op::request;
    MacAddr sender_mac;
    Ipv4Addr sender_ip;
    MacAddr target_mac;
    Ipv4Addr target_ip;

    static Result<ArpRepr, ParseError> parse(Bytes body);
    static constexpr std::size_t size() { return kArpLen; }
    // Writes 28 bytes; out.size() >= size().
    void emit(MutBytes out) const;

    bool operator==(const ArpRepr&) const = default;
};

}  // namespace uinet::wire
