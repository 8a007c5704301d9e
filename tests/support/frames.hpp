// tests/support/frames.hpp — build test frames with the wire emitters.
#pragma once

#include <cstdint>
#include <vector>

#include "wire/arp.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmpv4.hpp"
#include "wire/ipv4.hpp"
#include "wire/udp.hpp"
#include "wire/vlan.hpp"

namespace uinet::test {

using Frame = std::vector<std::uint8_t>;

inline Frame eth(const MacAddr& dst, const MacAddr& src, std::uint16_t type, const Frame& payload,
                 const wire::VlanStack& vlans = {}) {
    std::size_t h = wire::l2_header_len(vlans);
    Frame f(h + payload.size());
    wire::emit_l2({f.data(), h}, dst, src, vlans, type);
    std::copy(payload.begin(), payload.end(), f.begin() + static_cast<std::ptrdiff_t>(h));
    return f;
}

inline Frame ipv4(Ipv4Addr src, Ipv4Addr dst, std::uint8_t proto, const Frame& payload, std::uint16_t ident = 1,
                  std::uint16_t frag_offset = 0, bool more = false, std::uint8_t ttl = 64) {
    wire::Ipv4Repr r;
    r.src = src;
    r.dst = dst;
    r.protocol = proto;
    r.ident = ident;
    r.frag_offset = frag_offset;
    r.more_frags = more;
    r.ttl = ttl;
    r.payload_len = static_cast<std::uint16_t>(payload.size());
    Frame f(r.size() + payload.size());
    r.emit({f.data(), r.size()});
    std::copy(payload.begin(), payload.end(), f.begin() + static_cast<std::ptrdiff_t>(r.size()));
    return f;
}

inline Frame icmp(std::uint8_t type, std::uint8_t code, std::uint32_t rest, const Frame& payload) {
    Frame f(8 + payload.size());
    std::copy(payload.begin(), payload.end(), f.begin() + 8);
    wire::Icmpv4Repr{type, code, rest}.emit({f.data(), 8}, {payload.data(), payload.size()});
    return f;
}

inline Frame udp(Ipv4Addr src, Ipv4Addr dst, std::uint16_t sport, std::uint16_t dport, const Frame& payload) {
    wire::UdpRepr u{Port(sport), Port(dport), static_cast<std::uint16_t>(8 + payload.size())};
    Frame f(8 + payload.size());
    std::copy(payload.begin(), payload.end(), f.begin() + 8);
    u.emit({f.data(), 8}, {payload.data(), payload.size()}, src, dst);
    return f;
}

inline Frame arp(std::uint16_t op, const MacAddr& smac, Ipv4Addr sip, const MacAddr& tmac, Ipv4Addr tip) {
    Frame f(wire::ArpRepr::size());
    wire::ArpRepr{op, smac, sip, tmac, tip}.emit({f.data(), f.size()});
    return f;
}

inline Frame pattern(std::size_t n, std::uint8_t seed = 0) {
    Frame f(n);
    for (std::size_t i = 0; i < n; ++i) f[i] = static_cast<std::uint8_t>(seed + i);
    return f;
}

}  // namespace uinet::test
