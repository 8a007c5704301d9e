// wire/ipv4.hpp — the IPv4 header (RFC 791 section 3.1).
//
// Contract:
//  * Ipv4View reads fields of a header in place; after check_len() succeeds
//    every accessor is in bounds (the buffer holds the whole header, options
//    included, and total_len() bytes).
//  * Ipv4Repr::parse() checks, in order: at least 20 bytes (truncated),
//    version 4 (bad_version), IHL >= 5 and IHL*4 <= bytes (bad_header_len),
//    IHL*4 <= total length <= bytes (bad_length; bytes past the total length
//    are link padding and are allowed, RFC 1122 section 3.3.2 style), option
//    list well formed (bad_option), and the header checksum (bad_checksum)
//    when asked to. Options are not interpreted: header_len reports them.
//  * emit() writes a 20-byte header without options, with total length
//    size() + payload_len and a freshly computed header checksum; the
//    header_len member is ignored by emit() (parse(emit(r)) == r when
//    r.header_len == 20). frag_offset is in bytes and must be a multiple
//    of 8 (the low 3 bits are dropped).
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/addr.hpp"
#include "base/bytes.hpp"
#include "base/result.hpp"
#include "wire/error.hpp"

namespace uinet::wire {

namespace ip_proto {
inline constexpr std::uint8_t hopopt = 0;
inline constexpr std::uint8_t icmp = 1;
inline constexpr std::uint8_t tcp = 6;
inline constexpr std::uint8_t udp = 17;
inline constexpr std::uint8_t ipv6_route = 43;
inline constexpr std::uint8_t ipv6_frag = 44;
inline constexpr std::uint8_t ipv6_icmp = 58;
inline constexpr std::uint8_t ipv6_nonxt = 59;
inline constexpr std::uint8_t ipv6_opts = 60;
}  // namespace ip_proto

inline constexpr std::size_t kIpv4MinHeaderLen = 20;
inline constexpr std::size_t kIpv4MaxHeaderLen = 60;
inline constexpr std::size_t kIpv4MaxTotalLen = 65535;

// Option kinds used by the structural option walk (RFC 791 section 3.1).
namespace ipv4_opt {
inline constexpr std::uint8_t eol = 0;
inline constexpr std::uint8_t nop = 1;
}  // namespace ipv4_opt

class Ipv4View {
public:
    explicit Ipv4View(Bytes b) : b_(b) {}

    // Length checks only (no version, option or checksum check): >= 20
    // bytes, IHL >= 5, IHL*4 <= bytes, IHL*4 <= total_len <= bytes.
    Result<void, ParseError> check_len() const;

    std::uint8_t version() const { return b_[0] >> 4; }
    std::uint8_t ihl() const { return b_[0] & 0x0f; }
    std::size_t header_len() const { return std::size_t{ihl()} * 4; }
    std::uint8_t tos() const { return b_[1]; }
    std::uint8_t dscp() const { return b_[1] >> 2; }
    std::uint8_t ecn() const { return b_[1] & 3; }
    std::uint16_t total_len() const { return load_be16(b_.data() + 2); }
    std::uint16_t ident() const { return load_be16(b_.data() + 4); }
    bool dont_frag() const { return (b_[6] & 0x40) != 0; }
    bool more_frags() const { return (b_[6] & 0x20) != 0; }
    // In bytes.
    std::uint16_t frag_offset() const {
        return static_cast<std::uint16_t>((load_be16(b_.data() + 6) & 0x1fff) << 3);
    }
    bool is_fragment() const { return more_frags() || frag_offset() != 0; }
    std::uint8_t ttl() const { return b_[8]; }
    std::uint8_t protocol() const { return b_[9]; }
    std::uint16_t checksum() const { return load_be16(b_.data() + 10); }
    Ipv4Addr src() const { return Ipv4Addr(load_be32(b_.data() + 12)); }
    Ipv4Addr dst() const { return Ipv4Addr(load_be32(b_.data() + 16)); }
    Bytes header() const { return b_.first(header_len()); }
    Bytes options() const { return b_.subspan(20, header_len() - 20); }
    // The payload up to total_len (link padding excluded).
    Bytes payload() const { return b_.subspan(header_len(), total_len() - header_len()); }
    bool checksum_ok() const;

private:
    Bytes b_;
};

// Checks that an IPv4 option list is well formed: EOL/NOP are single bytes,
// every other option has a length >= 2 that stays inside the list.
Result<void, ParseError> check_ipv4_options(Bytes options);

struct Ipv4Repr {
    Ipv4Addr src;
    Ipv4Addr dst;
    std::uint8_t protocol = 0;
    std::uint8_t ttl = 64;
    std::uint8_t tos = 0;
    std::uint16_t ident = 0;
    bool dont_frag = false;
    bool more_frags = false;
    std::uint16_t frag_offset = 0;  // in bytes
    std::uint16_t header_len = 20;  // from parse: includes options
    std::uint16_t payload_len = 0;

    static Result<Ipv4Repr, ParseError> parse(Bytes packet, bool verify_checksum = true);
    // The same for a packet held in several buffers: `first` holds at least
    // the whole header (else bad_header_len / truncated) and packet_len is
    // the length of the whole packet, against which the total length is
    // checked (packet_len >= first.size()).
    static Result<Ipv4Repr, ParseError> parse_chained(Bytes first, std::size_t packet_len,
                                                      bool verify_checksum = true);
    // 20: emit() writes no options.
    std::size_t size() const { return kIpv4MinHeaderLen; }
    // Writes size() bytes including the header checksum.
    void emit(MutBytes out) const;
    std::size_t total_len() const { return std::size_t{header_len} + payload_len; }
    bool is_fragment() const { return more_frags || frag_offset != 0; }

    bool operator==(const Ipv4Repr&) const = default;
};

}  // namespace uinet::wire
