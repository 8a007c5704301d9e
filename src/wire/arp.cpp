// wire/arp.cpp — ARP packet parse/emit (RFC 826, "Packet format").
#include "wire/arp.hpp"

#include "wire/ethernet.hpp"

namespace uinet::wire {

namespace {
constexpr std::uint16_t kHtypeEthernet = 1;
}

Result<ArpRepr, ParseError> ArpRepr::parse(Bytes b) {
    // The fixed part (htype, ptype, hlen, plen, op) decides the body length.
    if (b.size() < 8) return Err{ParseError::truncated};
    if (load_be16(b.data()) != kHtypeEthernet || load_be16(b.data() + 2) != ethertype::ipv4 ||
        b[4] != 6 || b[5] != 4)
        return Err{ParseError::unsupported};
    if (b.size() < kArpLen) return Err{ParseError::truncated};
    ArpRepr r;
    r.op = load_be16(b.data() + 6);
    r.sender_mac = MacAddr::from_bytes(b.data() + 8);
    r.sender_ip = Ipv4Addr(load_be32(b.data() + 14));
    r.target_mac = MacAddr::from_bytes(b.data() + 18);
    r.target_ip = Ipv4Addr(load_be32(b.data() + 24));
    return r;
}

void ArpRepr::emit(MutBytes out) const {
    std::uint8_t* p = out.data();
    store_be16(p, kHtypeEthernet);
    store_be16(p + 2, ethertype::ipv4);
    p[4] = 6;
    p[5] = 4;
    store_be16(p + 6, op);
    sender_mac.to_bytes(p + 8);
    store_be32(p + 14, sender_ip.value());
    target_mac.to_bytes(p + 18);
    store_be32(p + 24, target_ip.value());
}

}  // namespace uinet::wire
