// wire/udp.hpp — the UDP header (RFC 768; IPv6 rules from RFC 8200 section 8.1).
//
// Contract:
//  * parse() needs 8 bytes, a length field >= 8 and <= the bytes given
//    (bad_length); bytes past the length field are ignored. With verify,
//    the checksum covers the pseudo header and `length` bytes. Over IPv4 a
//    checksum of 0 means "none" and is accepted; over IPv6 it is mandatory
//    (0 -> bad_checksum).
//  * emit() writes the 8-byte header; `length` must equal 8 + payload size
//    (the caller sets it). A computed checksum of 0 is sent as 0xffff.
//  * The payload is never copied: payload pieces are summed where they lie.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/addr.hpp"
#include "base/bytes.hpp"
#include "base/result.hpp"
#include "wire/error.hpp"

namespace uinet::wire {

inline constexpr std::size_t kUdpHeaderLen = 8;

class UdpView {
public:
    explicit UdpView(Bytes b) : b_(b) {}
    // >= 8 bytes and 8 <= length() <= bytes.
    Result<void, ParseError> check_len() const;
    Port src_port() const { return Port(load_be16(b_.data())); }
    Port dst_port() const { return Port(load_be16(b_.data() + 2)); }
    std::uint16_t length() const { return load_be16(b_.data() + 4); }
    std::uint16_t checksum() const { return load_be16(b_.data() + 6); }
    Bytes payload() const { return b_.subspan(8, length() - 8u); }

private:
    Bytes b_;
};

struct UdpRepr {
    Port src_port;
    Port dst_port;
    std::uint16_t length = 8;  // header + payload

    static Result<UdpRepr, ParseError> parse(Bytes datagram, Ipv4Addr src, Ipv4Addr dst,
                                             bool verify = true);
    static Result<UdpRepr, ParseError> parse(Bytes datagram, const Ipv6Addr& src,
                                             const Ipv6Addr& dst, bool verify = true);
    static constexpr std::size_t size() { return kUdpHeaderLen; }
    std::size_t payload_len() const { return length >= 8 ? length - 8u : 0u; }

    void emit(MutBytes header_out, Bytes payload, Ipv4Addr src, Ipv4Addr dst) const;
    void emit(MutBytes header_out, Bytes payload, const Ipv6Addr& src, const Ipv6Addr& dst) const;
    // Writes the header with the given checksum field value (0 = none over IPv4,
    // or a pseudo-header partial sum for checksum offload).
    void emit_header_only(MutBytes header_out, std::uint16_t checksum) const;

    bool operator==(const UdpRepr&) const = default;
};

// The checksum field value (0 mapped to 0xffff) for r's header plus payload pieces.
std::uint16_t udp_checksum_v4(const UdpRepr& r, Ipv4Addr src, Ipv4Addr dst,
                              std::span<const Bytes> payload);
std::uint16_t udp_checksum_v6(const UdpRepr& r, const Ipv6Addr& src, const Ipv6Addr& dst,
                              std::span<const Bytes> payload);

}  // namespace uinet::wire
