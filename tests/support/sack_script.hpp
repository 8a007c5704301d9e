// tests/support/sack_script.hpp — the shared opening of the SACK sender
// scripts (tests/script/tcp_sack, tcp_rack): a passive open with SACK and
// a first flight of full segments, segments named by number.
#pragma once

#include <algorithm>
#include <utility>
#include <vector>

#include "tcp_script.hpp"

namespace uinet::test::sack_script {

using namespace uinet::test::tcps;

constexpr std::uint32_t kMss = 1460;

// Passive open with SACK (no timestamps, MSS 1460), then n full segments
// queued: the initial window (10 segments, RFC 6928) leaves at 10 ms.
inline SocketId sack_conn(Script& s, std::uint32_t n) {
    SocketId l = listen_on(s);
    s.at(ms(0)).inject(in(s).syn().seq(kPeerIss).win(65535).mss(1460).sack_ok());
    s.at(ms(0)).expect(out(s).flags("S.").seq(capture("iss")).ack(kPeerIss + 1).mss(1460).sack_ok());
    s.at(ms(0)).inject(in(s).flags(".").seq(theirs(0)).ack(ours(0)).win(65535));
    SocketId c = *s.stack().tcp().accept(l);
    s.at(ms(10));
    send_bytes(s, c, pattern(n * kMss));
    for (std::uint32_t k = 0; k < std::min<std::uint32_t>(n, 10); ++k)
        s.at(ms(10)).expect(out(s).seq(ours(k * kMss)).payload_len(kMss));
    s.at(ms(10)).expect_nothing();
    return c;
}

// The start of our segment k.
inline VarRef S(std::uint32_t k) { return ours(std::int64_t{k} * kMss); }

// An ACK of S(acked) with SACK blocks given in segment numbers.
inline PacketSpec sack_ack(const Script& s, std::uint32_t acked,
                           std::vector<std::pair<std::uint32_t, std::uint32_t>> b = {}) {
    std::vector<std::pair<Val, Val>> v;
    for (auto [l, r] : b) v.emplace_back(S(l), S(r));
    PacketSpec p = in(s).flags(".").seq(theirs(0)).ack(S(acked)).win(65535);
    if (!v.empty()) p.sack(std::move(v));
    return p;
}

// Our full segment k.
inline PacketSpec seg(const Script& s, std::uint32_t k) { return out(s).seq(S(k)).payload_len(kMss); }

}  // namespace uinet::test::sack_script
