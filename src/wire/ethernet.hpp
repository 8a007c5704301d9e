// wire/ethernet.hpp — Ethernet II header (IEEE 802.3 clause 3, DIX framing).
//
// Contract: EthernetRepr covers exactly the 14-byte untagged header; VLAN
// tags are handled by wire/vlan.hpp (parse_l2). parse() accepts any
// ethertype value, including 802.3 length values (< 0x0600); the caller
// decides what it handles. The FCS is never present (devices strip it).
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/addr.hpp"
#include "base/bytes.hpp"
#include "base/result.hpp"
#include "wire/error.hpp"

namespace uinet::wire {

inline constexpr std::size_t kEthHeaderLen = 14;
inline constexpr std::size_t kEthMinFrameLen = 60;  // without FCS
inline constexpr std::size_t kEthMaxPayload = 1500;

namespace ethertype {
inline constexpr std::uint16_t ipv4 = 0x0800;
inline constexpr std::uint16_t arp = 0x0806;
inline constexpr std::uint16_t ipv6 = 0x86dd;
inline constexpr std::uint16_t vlan_ctag = 0x8100;         // IEEE 802.1Q C-tag
inline constexpr std::uint16_t vlan_stag = 0x88a8;         // IEEE 802.1ad S-tag
inline constexpr std::uint16_t vlan_legacy_qinq = 0x9100;  // pre-802.1ad QinQ
inline constexpr std::uint16_t min_ethertype = 0x0600;     // smaller values are 802.3 lengths
}  // namespace ethertype

// The same constants as a type, so both ethertype::ipv4 and EtherType::ipv4 work.
struct EtherType {
    static constexpr std::uint16_t ipv4 = ethertype::ipv4;
    static constexpr std::uint16_t arp = ethertype::arp;
    static constexpr std::uint16_t ipv6 = ethertype::ipv6;
    static constexpr std::uint16_t vlan_ctag = ethertype::vlan_ctag;
    static constexpr std::uint16_t vlan_stag = ethertype::vlan_stag;
    static constexpr std::uint16_t vlan_legacy_qinq = ethertype::vlan_legacy_qinq;
};

// True for the TPIDs that introduce a VLAN tag.
constexpr bool is_vlan_tpid(std::uint16_t t) {
    return t == ethertype::vlan_ctag || t == ethertype::vlan_stag || t == ethertype::vlan_legacy_qinq;
}

// A view over an Ethernet header; valid after check_len().
class EthernetView {
public:
    explicit EthernetView(Bytes b) : b_(b) {}
    Result<void, ParseError> check_len() const;
    MacAddr dst() const { return MacAddr::from_bytes(b_.data()); }
    MacAddr src() const { return MacAddr::from_bytes(b_.data() + 6); }
    std::uint16_t ethertype() const { return load_be16(b_.data() + 12); }
    Bytes payload() const { return b_.subspan(kEthHeaderLen); }

private:
    Bytes b_;
};

struct EthernetRepr {
    MacAddr dst;
    MacAddr src;
    std::uint16_t ethertype = 0;

    static Result<EthernetRepr, ParseError> parse(Bytes frame);
    static constexpr std::size_t size() { return kEthHeaderLen; }
    // Writes 14 bytes; out.size() >= size().
    void emit(MutBytes out) const;

    bool operator==(const EthernetRepr&) const = default;
};

}  // namespace uinet::wire
