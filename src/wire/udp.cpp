// wire/udp.cpp — UDP header parse/emit and checksums (RFC 768; RFC 8200
// section 8.1 for IPv6, where a zero checksum is not allowed).
#include "wire/udp.hpp"

#include "wire/checksum.hpp"
#include "wire/ipv4.hpp"

namespace uinet::wire {

Result<void, ParseError> UdpView::check_len() const {
    if (b_.size() < kUdpHeaderLen) return Err{ParseError::truncated};
    if (length() < kUdpHeaderLen || length() > b_.size()) return Err{ParseError::bad_length};
    return {};
}

namespace {

UdpRepr from_view(const UdpView& v) { return UdpRepr{v.src_port(), v.dst_port(), v.length()}; }

// RFC 768: "If the computed checksum is zero, it is transmitted as all ones."
std::uint16_t nonzero(std::uint16_t c) { return c == 0 ? 0xffff : c; }

}  // namespace

Result<UdpRepr, ParseError> UdpRepr::parse(Bytes d, Ipv4Addr src, Ipv4Addr dst, bool verify) {
    UdpView v(d);
    if (auto r = v.check_len(); !r) return Err{r.error()};
    if (verify && v.checksum() != 0) {  // 0: the sender computed none (IPv4 only)
        Checksum c;
        add_pseudo_v4(c, src, dst, ip_proto::udp, v.length());
        c.add(d.first(v.length()));
        if (c.finish() != 0) return Err{ParseError::bad_checksum};
    }
    return from_view(v);
}

Result<UdpRepr, ParseError> UdpRepr::parse(Bytes d, const Ipv6Addr& src, const Ipv6Addr& dst,
                                           bool verify) {
    UdpView v(d);
    if (auto r = v.check_len(); !r) return Err{r.error()};
    if (verify) {
        if (v.checksum() == 0) return Err{ParseError::bad_checksum};
        Checksum c;
        add_pseudo_v6(c, src, dst, ip_proto::udp, v.length());
        c.add(d.first(v.length()));
        if (c.finish() != 0) return Err{ParseError::bad_checksum};
    }
    return from_view(v);
}

void UdpRepr::emit_header_only(MutBytes out, std::uint16_t checksum) const {
    std::uint8_t* p = out.data();
    store_be16(p, src_port.value());
    store_be16(p + 2, dst_port.value());
    store_be16(p + 4, length);
    store_be16(p + 6, checksum);
}

std::uint16_t udp_checksum_v4(const UdpRepr& r, Ipv4Addr src, Ipv4Addr dst,
                              std::span<const Bytes> payload) {
    std::uint8_t h[kUdpHeaderLen];
    r.emit_header_only(MutBytes(h, sizeof h), 0);
    Checksum c;
    add_pseudo_v4(c, src, dst, ip_proto::udp, r.length);
    c.add(Bytes(h, sizeof h));
    for (Bytes piece : payload) c.add(piece);
    return nonzero(c.finish());
}

std::uint16_t udp_checksum_v6(const UdpRepr& r, const Ipv6Addr& src, const Ipv6Addr& dst,
                              std::span<const Bytes> payload) {
    std::uint8_t h[kUdpHeaderLen];
    r.emit_header_only(MutBytes(h, sizeof h), 0);
    Checksum c;
    add_pseudo_v6(c, src, dst, ip_proto::udp, r.length);
    c.add(Bytes(h, sizeof h));
    for (Bytes piece : payload) c.add(piece);
    return nonzero(c.finish());
}

void UdpRepr::emit(MutBytes out, Bytes payload, Ipv4Addr src, Ipv4Addr dst) const {
    const Bytes pieces[1] = {payload};
    emit_header_only(out, udp_checksum_v4(*this, src, dst, pieces));
}

void UdpRepr::emit(MutBytes out, Bytes payload, const Ipv6Addr& src, const Ipv6Addr& dst) const {
    const Bytes pieces[1] = {payload};
    emit_header_only(out, udp_checksum_v6(*this, src, dst, pieces));
}

}  // namespace uinet::wire
