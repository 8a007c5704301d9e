// wire/tcp.hpp — the TCP header and options (RFC 9293 sections 3.1-3.2,
// RFC 7323 window scale and timestamps, RFC 2018 SACK).
//
// Contract:
//  * parse() needs 20 bytes (truncated), a data offset >= 5 whose header
//    fits in the segment (bad_header_len), a well-formed option list
//    (bad_option: a length byte < 2, or an option running past the header),
//    and, with verify, a checksum over pseudo header + whole segment.
//    Options: EOL ends the list, NOP is skipped, MSS/WS/SACK-permitted/
//    SACK/timestamps are decoded; an unknown option, or a known one with a
//    length it should not have, is skipped by its length (RFC 9293 section
//    3.2: "must be prepared to handle an illegal option length" without
//    crashing; we ignore the option, as Linux and BSD do). Values are
//    returned raw: clamping a window scale above 14 (RFC 7323 section 2.3)
//    or checking that an option appears only on a SYN is the TCP layer's
//    job. A repeated option: the last one wins.
//  * emit() writes size() bytes: the 20-byte header then the options in a
//    fixed, 4-byte aligned layout (MSS; SACK-permitted + timestamps packed
//    as Linux does; window scale; SACK blocks). SACK blocks that would not
//    fit in the 40 option bytes are dropped from the end, so size() <= 60
//    always. The header_len member is ignored by emit() (parse(emit(r)) ==
//    r when r.header_len == r.size()).
//  * The payload is never copied; the checksum is computed over the header
//    bytes just written and the payload pieces where they lie.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <utility>

#include "base/addr.hpp"
#include "base/bytes.hpp"
#include "base/result.hpp"
#include "base/seq.hpp"
#include "wire/error.hpp"

namespace uinet::wire {

inline constexpr std::size_t kTcpMinHeaderLen = 20;
inline constexpr std::size_t kTcpMaxHeaderLen = 60;
inline constexpr std::size_t kTcpMaxOptionsLen = 40;
inline constexpr std::size_t kTcpMaxSackBlocks = 4;

// Flag bits of byte 13 (RFC 9293 section 3.1; ECE/CWR from RFC 3168).
struct TcpFlags {
    static constexpr std::uint8_t fin = 0x01;
    static constexpr std::uint8_t syn = 0x02;
    static constexpr std::uint8_t rst = 0x04;
    static constexpr std::uint8_t psh = 0x08;
    static constexpr std::uint8_t ack = 0x10;
    static constexpr std::uint8_t urg = 0x20;
    static constexpr std::uint8_t ece = 0x40;
    static constexpr std::uint8_t cwr = 0x80;
};

namespace tcp_opt {
inline constexpr std::uint8_t eol = 0;
inline constexpr std::uint8_t nop = 1;
inline constexpr std::uint8_t mss = 2;
inline constexpr std::uint8_t wscale = 3;
inline constexpr std::uint8_t sack_permitted = 4;
inline constexpr std::uint8_t sack = 5;
inline constexpr std::uint8_t timestamps = 8;
}  // namespace tcp_opt

struct SackBlock {
    SeqNum left;   // first sequence number of the block
    SeqNum right;  // sequence number just past the block
    bool operator==(const SackBlock&) const = default;
};

struct TcpOptions {
    std::optional<std::uint16_t> mss;
    std::optional<std::uint8_t> wscale;
    bool sack_permitted = false;
    std::array<SackBlock, kTcpMaxSackBlocks> sack{};
    std::uint8_t sack_count = 0;
    std::optional<std::pair<std::uint32_t, std::uint32_t>> timestamps;  // TSval, TSecr

    // Encoded length, padded to a multiple of 4, at most 40.
    std::size_t size() const;
    // How many SACK blocks emit() writes (sack_count clamped to what fits).
    std::size_t sack_blocks_emitted() const;
    // Writes size() bytes.
    void emit(MutBytes out) const;
    // Decodes an option list (the bytes between offset 20 and the data offset).
    static Result<TcpOptions, ParseError> parse(Bytes options);

    // Compares only the meaningful SACK blocks.
    bool operator==(const TcpOptions& o) const;
};

class TcpView {
public:
    explicit TcpView(Bytes b) : b_(b) {}
    // >= 20 bytes, data offset >= 5 and header within the bytes.
    Result<void, ParseError> check_len() const;
    Port src_port() const { return Port(load_be16(b_.data())); }
    Port dst_port() const { return Port(load_be16(b_.data() + 2)); }
    SeqNum seq() const { return SeqNum(load_be32(b_.data() + 4)); }
    SeqNum ack() const { return SeqNum(load_be32(b_.data() + 8)); }
    std::size_t header_len() const { return std::size_t{static_cast<std::uint8_t>(b_[12] >> 4)} * 4; }
    std::uint8_t flags() const { return b_[13]; }
    std::uint16_t window() const { return load_be16(b_.data() + 14); }
    std::uint16_t checksum() const { return load_be16(b_.data() + 16); }
    std::uint16_t urgent() const { return load_be16(b_.data() + 18); }
    Bytes options() const { return b_.subspan(20, header_len() - 20); }
    Bytes payload() const { return b_.subspan(header_len()); }

private:
    Bytes b_;
};

struct TcpRepr {
    Port src_port;
    Port dst_port;
    SeqNum seq;
    SeqNum ack;
    std::uint8_t flags = 0;
    std::uint16_t window = 0;
    std::uint16_t urgent = 0;
    TcpOptions options;
    std::uint16_t header_len = 20;  // from parse: the data offset in bytes

    static Result<TcpRepr, ParseError> parse(Bytes segment, Ipv4Addr src, Ipv4Addr dst,
                                             bool verify = true);
    static Result<TcpRepr, ParseError> parse(Bytes segment, const Ipv6Addr& src,
                                             const Ipv6Addr& dst, bool verify = true);
    // Decodes without any checksum check (e.g. checksum verified by the device).
    static Result<TcpRepr, ParseError> parse_unchecked(Bytes segment);

    // 20 + options.size().
    std::size_t size() const { return kTcpMinHeaderLen + options.size(); }
    bool has(std::uint8_t flag_bits) const { return (flags & flag_bits) == flag_bits; }

    // Writes size() bytes with a checksum over pseudo header + header + payload.
    void emit(MutBytes header_out, Bytes payload, Ipv4Addr src, Ipv4Addr dst) const;
    void emit(MutBytes header_out, Bytes payload, const Ipv6Addr& src, const Ipv6Addr& dst) const;
    // Writes size() bytes with the checksum field set to `checksum`.
    void emit_header(MutBytes header_out, std::uint16_t checksum = 0) const;

    bool operator==(const TcpRepr&) const = default;
};

// The checksum field value for an emitted header (checksum field 0) followed
// by the payload pieces; store it with set_tcp_checksum().
std::uint16_t tcp_checksum_v4(Bytes header, Ipv4Addr src, Ipv4Addr dst,
                              std::span<const Bytes> payload);
std::uint16_t tcp_checksum_v6(Bytes header, const Ipv6Addr& src, const Ipv6Addr& dst,
                              std::span<const Bytes> payload);
inline void set_tcp_checksum(MutBytes header, std::uint16_t csum) { store_be16(header.data() + 16, csum); }

}  // namespace uinet::wire
