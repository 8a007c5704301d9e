// net/ipv4_fragmenter.hpp — splitting an IPv4 payload into fragments
// (RFC 791 sections 2.3 and 3.2, "An Example Fragmentation Procedure").
//
// Contract:
//  * fragment_payload() cuts an IP payload (a Packet, possibly a chain) into
//    pieces that fit `mtu` behind an IP header of `ip_header_len` bytes.
//    Every piece but the last carries a multiple of 8 bytes (the fragment
//    offset field counts 8-byte units); all pieces but the last have
//    more_fragments set. Pieces are emitted in offset order through
//    emit(std::uint16_t offset_bytes, bool more_fragments, Packet piece).
//  * Each piece is a fresh, unique packet from `pool` with `headroom` bytes
//    in front, so the caller can push its IP and link headers; the payload
//    is only read (it may be shared). The caller builds each fragment's
//    header (offset, MF, total length, checksum; options per
//    ipv4_fragment_options() for all but the first piece).
//  * ip_header_len is the largest header any fragment will carry (the first
//    fragment's, options included); later fragments may carry fewer option
//    bytes and are then merely a little smaller than they could be.
//  * Returns false, emitting nothing, if mtu < 68 (RFC 791 section 3.2:
//    every module must forward a 68-byte datagram unfragmented, so 68 is the
//    smallest MTU that can carry 8 bytes behind a 60-byte header), if
//    ip_header_len is not 20..60 and a multiple of 4, or if the datagram
//    would exceed 65535 bytes. Also returns false, emitting nothing, if the
//    pool has fewer free buffers than the pieces need (checked up front).
//    Only if emit() itself takes buffers from the same pool can the pool
//    still run dry part way: fragment_payload then returns false after
//    having emitted some pieces, and the caller must discard what it got
//    (a datagram missing a fragment is useless to the receiver).
//  * Never touches the heap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>

#include "base/bytes.hpp"
#include "buf/packet.hpp"

namespace uinet::net {

// RFC 791 section 3.2: the minimum MTU every IPv4 link must carry.
inline constexpr std::size_t kIpv4MinMtu = 68;

struct FragmentPlan {
    std::size_t piece_len = 0;  // bytes per piece, a multiple of 8 (the last may be shorter)
    std::size_t pieces = 0;
    std::size_t buffers = 0;    // pool buffers the pieces need
};

// The plan for cutting payload_len bytes, or nullopt if impossible (see the
// contract: MTU, header length, total size). The pool is only inspected for
// its buffer geometry.
std::optional<FragmentPlan> plan_fragments(std::size_t payload_len, std::size_t mtu, std::size_t ip_header_len,
                                           const Pool& pool, std::size_t headroom);

// Reads a packet chain front to back, copying consecutive ranges into fresh
// packets.
class ChainReader {
public:
    explicit ChainReader(const Packet& p) : buf_(p.empty() ? nullptr : &p.front()) {}
    // A fresh packet from pool with `headroom`, holding the next n bytes;
    // empty if the pool ran dry or fewer than n bytes remain.
    Packet take(std::size_t n, Pool& pool, std::size_t headroom);

private:
    const PacketBuf* buf_;
    std::size_t pos_ = 0;  // within *buf_
};

template <class F>
bool fragment_payload(const Packet& payload, std::size_t mtu, std::size_t ip_header_len, Pool& pool,
                      std::size_t headroom, F&& emit) {
    const std::size_t total = payload.empty() ? 0 : payload.size();
    std::optional<FragmentPlan> plan = plan_fragments(total, mtu, ip_header_len, pool, headroom);
    if (!plan || pool.available() < plan->buffers) return false;
    ChainReader reader(payload);
    std::size_t off = 0;
    for (std::size_t i = 0; i < plan->pieces; ++i) {
        const std::size_t n = total - off < plan->piece_len ? total - off : plan->piece_len;
        Packet piece = reader.take(n, pool, headroom);
        if (!piece) return false;
        const bool more = i + 1 < plan->pieces;
        emit(static_cast<std::uint16_t>(off), more, std::move(piece));
        off += n;
    }
    return true;
}

// RFC 791 section 3.1 ("Options", the copied flag): the options a non-first
// fragment carries are those with the copied bit (0x80) set. Writes them
// into out (which needs options.size() bytes), padded with zeros
// (end-of-option-list) to a multiple of 4, and returns their length; 0 if
// none. nullopt if the options are malformed (an option running past the
// end, a length below 2) or out is too small.
std::optional<std::size_t> ipv4_fragment_options(Bytes options, MutBytes out);

}  // namespace uinet::net
