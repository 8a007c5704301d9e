// wire/ipv4.cpp — IPv4 header checks, parse and emit (RFC 791 section 3.1,
// RFC 1122 section 3.2.1).
#include "wire/ipv4.hpp"

#include "wire/checksum.hpp"

namespace uinet::wire {

Result<void, ParseError> Ipv4View::check_len() const {
    if (b_.size() < kIpv4MinHeaderLen) return Err{ParseError::truncated};
    if (ihl() < 5 || header_len() > b_.size()) return Err{ParseError::bad_header_len};
    // Total length covers header and data; anything after it is link
    // padding (a 60-byte Ethernet minimum frame carrying a short packet).
    if (total_len() < header_len() || total_len() > b_.size()) return Err{ParseError::bad_length};
    return {};
}

bool Ipv4View::checksum_ok() const { return internet_checksum(header()) == 0; }

Result<void, ParseError> check_ipv4_options(Bytes o) {
    std::size_t i = 0;
    while (i < o.size()) {
        std::uint8_t kind = o[i];
        if (kind == ipv4_opt::eol) break;  // the rest is padding
        if (kind == ipv4_opt::nop) {
            ++i;
            continue;
        }
        if (i + 1 >= o.size()) return Err{ParseError::bad_option};
        std::uint8_t len = o[i + 1];
        if (len < 2 || len > o.size() - i) return Err{ParseError::bad_option};
        i += len;
    }
    return {};
}

Result<Ipv4Repr, ParseError> Ipv4Repr::parse(Bytes packet, bool verify_checksum) {
    return parse_chained(packet, packet.size(), verify_checksum);
}

Result<Ipv4Repr, ParseError> Ipv4Repr::parse_chained(Bytes packet, std::size_t packet_len, bool verify_checksum) {
    Ipv4View v(packet);
    // Version before the length checks (once a minimal header is present),
    // so a non-IPv4 packet is reported as such, not by a length accident.
    if (packet.size() >= kIpv4MinHeaderLen && v.version() != 4) return Err{ParseError::bad_version};
    if (packet_len <= packet.size()) {
        if (auto r = v.check_len(); !r) return Err{r.error()};
    } else {
        // The header is in `packet`; the datagram runs on in later buffers.
        if (packet.size() < kIpv4MinHeaderLen) return Err{ParseError::truncated};
        if (v.ihl() < 5 || v.header_len() > packet.size()) return Err{ParseError::bad_header_len};
        if (v.total_len() < v.header_len() || v.total_len() > packet_len) return Err{ParseError::bad_length};
    }
    if (auto r = check_ipv4_options(v.options()); !r) return Err{r.error()};
    if (verify_checksum && !v.checksum_ok()) return Err{ParseError::bad_checksum};
    Ipv4Repr r;
    r.src = v.src();
    r.dst = v.dst();
    r.protocol = v.protocol();
    r.ttl = v.ttl();
    r.tos = v.tos();
    r.ident = v.ident();
    r.dont_frag = v.dont_frag();
    r.more_frags = v.more_frags();
    r.frag_offset = v.frag_offset();
    r.header_len = static_cast<std::uint16_t>(v.header_len());
    r.payload_len = static_cast<std::uint16_t>(v.total_len() - v.header_len());
    return r;
}

void Ipv4Repr::emit(MutBytes out) const {
    std::uint8_t* p = out.data();
    p[0] = 0x45;
    p[1] = tos;
    store_be16(p + 2, static_cast<std::uint16_t>(kIpv4MinHeaderLen + payload_len));
    store_be16(p + 4, ident);
    std::uint16_t ff = static_cast<std::uint16_t>((frag_offset >> 3) & 0x1fff);
    if (dont_frag) ff |= 0x4000;
    if (more_frags) ff |= 0x2000;
    store_be16(p + 6, ff);
    p[8] = ttl;
    p[9] = protocol;
    store_be16(p + 10, 0);
    store_be32(p + 12, src.value());
    store_be32(p + 16, dst.value());
    store_be16(p + 10, internet_checksum(Bytes(p, kIpv4MinHeaderLen)));
}

}  // namespace uinet::wire
