// wire/ipv6.cpp — IPv6 fixed header parse/emit (RFC 8200 section 3).
#include "wire/ipv6.hpp"

namespace uinet::wire {

Result<void, ParseError> Ipv6View::check_len() const {
    if (b_.size() < kIpv6HeaderLen) return Err{ParseError::truncated};
    if (kIpv6HeaderLen + payload_len() > b_.size()) return Err{ParseError::bad_length};
    return {};
}

Result<Ipv6Repr, ParseError> Ipv6Repr::parse(Bytes packet) {
    Ipv6View v(packet);
    if (packet.size() >= kIpv6HeaderLen && v.version() != 6) return Err{ParseError::bad_version};
    if (auto r = v.check_len(); !r) return Err{r.error()};
    Ipv6Repr r;
    r.src = v.src();
    r.dst = v.dst();
    r.next_header = v.next_header();
    r.hop_limit = v.hop_limit();
    r.traffic_class = v.traffic_class();
    r.flow_label = v.flow_label();
    r.payload_len = v.payload_len();
    return r;
}

void Ipv6Repr::emit(MutBytes out) const {
    std::uint8_t* p = out.data();
    store_be32(p, (6u << 28) | (std::uint32_t{traffic_class} << 20) | (flow_label & 0xfffffu));
    store_be16(p + 4, payload_len);
    p[6] = next_header;
    p[7] = hop_limit;
    src.to_bytes(p + 8);
    dst.to_bytes(p + 24);
}

}  // namespace uinet::wire
