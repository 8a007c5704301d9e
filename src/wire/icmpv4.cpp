// wire/icmpv4.cpp — ICMPv4 header parse/emit (RFC 792: the checksum is over
// the whole ICMP message, type through the end of the data).
#include "wire/icmpv4.hpp"

#include "wire/checksum.hpp"

namespace uinet::wire {

Result<Icmpv4Repr, ParseError> Icmpv4Repr::parse(Bytes msg, bool verify) {
    if (msg.size() < kIcmpv4HeaderLen) return Err{ParseError::truncated};
    if (verify && internet_checksum(msg) != 0) return Err{ParseError::bad_checksum};
    return Icmpv4Repr{msg[0], msg[1], load_be32(msg.data() + 4)};
}

void Icmpv4Repr::emit_header(MutBytes out, std::uint16_t checksum) const {
    out[0] = type;
    out[1] = code;
    store_be16(out.data() + 2, checksum);
    store_be32(out.data() + 4, rest);
}

std::uint16_t icmpv4_checksum(const Icmpv4Repr& r, std::span<const Bytes> payload_pieces) {
    std::uint8_t h[kIcmpv4HeaderLen];
    r.emit_header(MutBytes(h, sizeof h), 0);
    Checksum c;
    c.add(Bytes(h, sizeof h));
    for (Bytes piece : payload_pieces) c.add(piece);
    return c.finish();
}

void Icmpv4Repr::emit(MutBytes out, Bytes payload) const {
    emit_header(out, 0);
    Checksum c;
    c.add(Bytes(out.data(), kIcmpv4HeaderLen));
    c.add(payload);
    store_be16(out.data() + 2, c.finish());
}

}  // namespace uinet::wire
