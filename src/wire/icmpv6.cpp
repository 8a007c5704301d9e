// wire/icmpv6.cpp — ICMPv6 header parse/emit (RFC 4443 section 2.3: the
// checksum covers the IPv6 pseudo header and the whole message).
#include "wire/icmpv6.hpp"

#include "wire/checksum.hpp"
#include "wire/ipv4.hpp"

namespace uinet::wire {

Result<Icmpv6Repr, ParseError> Icmpv6Repr::parse(Bytes msg, const Ipv6Addr& src,
                                                 const Ipv6Addr& dst, bool verify) {
    if (msg.size() < kIcmpv6HeaderLen) return Err{ParseError::truncated};
    if (verify) {
        Checksum c;
        add_pseudo_v6(c, src, dst, ip_proto::ipv6_icmp, static_cast<std::uint32_t>(msg.size()));
        c.add(msg);
        if (c.finish() != 0) return Err{ParseError::bad_checksum};
    }
    return Icmpv6Repr{msg[0], msg[1], load_be32(msg.data() + 4)};
}

void Icmpv6Repr::emit_header(MutBytes out, std::uint16_t checksum) const {
    out[0] = type;
    out[1] = code;
    store_be16(out.data() + 2, checksum);
    store_be32(out.data() + 4, rest);
}

std::uint16_t icmpv6_checksum(const Icmpv6Repr& r, const Ipv6Addr& src, const Ipv6Addr& dst,
                              std::span<const Bytes> payload_pieces) {
    std::uint8_t h[kIcmpv6HeaderLen];
    r.emit_header(MutBytes(h, sizeof h), 0);
    std::size_t len = sizeof h;
    for (Bytes piece : payload_pieces) len += piece.size();
    Checksum c;
    add_pseudo_v6(c, src, dst, ip_proto::ipv6_icmp, static_cast<std::uint32_t>(len));
    c.add(Bytes(h, sizeof h));
    for (Bytes piece : payload_pieces) c.add(piece);
    return c.finish();
}

void Icmpv6Repr::emit(MutBytes out, Bytes payload, const Ipv6Addr& src, const Ipv6Addr& dst) const {
    const Bytes pieces[1] = {payload};
    emit_header(out, icmpv6_checksum(*this, src, dst, pieces));
}

}  // namespace uinet::wire
