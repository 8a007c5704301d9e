// net/ipv4_fragmenter.hpp — splitting an IP payload into fragments.
//
// Contract (RFC 791 section 2.3 and 3.2): fragment_payload() cuts `payload`
// into pieces that fit `mtu` with an `ip_header_len` header, every piece but
// the last a multiple of 8 bytes, each in a fresh packet from `pool` with
// `headroom` bytes in front for the IP and link headers. For each piece it
// calls emit(offset_bytes, more_fragments, Packet). It returns false when
// the MTU is below RFC 791's 68-byte minimum or the pool runs dry; pieces
// already emitted were then handed out, and the caller treats the datagram
// as lost (its receiver will time the partial datagram out).
#pragma once

#include <algorithm>
#include <cstdint>

#include "buf/packet.hpp"

namespace uinet::net {

// Appends bytes [off, off+n) of src to dst (dst's pool supplies buffers).
bool append_range(Packet& dst, const Packet& src, std::size_t off, std::size_t n);

template <class F>
bool fragment_payload(const Packet& payload, std::size_t mtu, std::size_t ip_header_len, Pool& pool,
                      std::size_t headroom, F&& emit) {
    if (mtu < 68 || mtu < ip_header_len + 8) return false;
    const std::size_t step = ((mtu - ip_header_len) / 8) * 8;
    const std::size_t total = payload.size();
    for (std::size_t off = 0; off < total; off += step) {
        const std::size_t n = std::min(step, total - off);
        Packet piece = pool.alloc(headroom);
        if (!piece || !append_range(piece, payload, off, n)) return false;
        emit(static_cast<std::uint16_t>(off), off + n < total, std::move(piece));
    }
    return true;
}

}  // namespace uinet::net
