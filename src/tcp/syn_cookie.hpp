// tcp/syn_cookie.hpp — SYN cookies (RFC 4987 section 3.6): the state of a
// SYN we did not keep, folded into our ISN and TSval.
//
// Contract:
//  * The cookie (our ISN in the SYN-ACK) is 32 bits:
//        bits 31-30  the period counter modulo 4 (counter = now / period)
//        bits 29-28  an index into kMssTable (the largest entry not above
//                    the peer's MSS option, 536 if it sent none)
//        bits 27-0   SipHash-2-4, keyed with a per-stack secret, of the
//                    4-tuple, the peer's ISN, the full counter and the MSS
//                    index (28 bits).
//    check() accepts a cookie whose counter is the current one or the one
//    before (it is at most two periods old) and whose hash matches; it
//    returns the decoded MSS. A forger must guess 28 keyed bits per try.
//  * Options that need state beyond the MSS travel in the low 6 bits of
//    our TSval, as Linux does, when the peer sent timestamps (its ACK
//    echoes them): bits 0-3 our peer's window shift (0xf: none), bit 4
//    SACK-permitted, bit 5 ECN (always 0: a connection from a cookie does
//    not use ECN; ordinary handshakes negotiate it, tcb_ecn.cpp).
//    Without timestamps a cookie SYN-ACK offers only the MSS.
//  * Pure functions of the key, the inputs and `now`; no state.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "base/seq.hpp"
#include "base/siphash.hpp"
#include "base/time.hpp"
#include "tcp/tcp_types.hpp"

namespace uinet::tcp {

// Options decoded from a cookie's TSval echo.
struct CookieOptions {
    std::optional<std::uint8_t> wscale;  // the peer's shift
    bool sack = false;
};

class SynCookies {
public:
    static constexpr std::array<std::uint16_t, 4> kMssTable{536, 1300, 1440, 1460};
    static constexpr std::uint32_t kTsBits = 6;
    static constexpr std::uint32_t kTsMask = (1u << kTsBits) - 1;

    SynCookies(SipKey key, Duration period) : key_(key), period_(period) {}

    // The ISN for a SYN from the peer of `key` with sequence number
    // peer_isn and MSS option peer_mss (nullopt: none sent).
    SeqNum make(Instant now, const ConnKey& key, SeqNum peer_isn, std::optional<std::uint16_t> peer_mss) const;
    // The MSS the cookie encodes, or nullopt if it is forged or stale.
    // peer_isn = SEG.SEQ - 1 and cookie = SEG.ACK - 1 of the returning ACK.
    std::optional<std::uint16_t> check(Instant now, const ConnKey& key, SeqNum peer_isn, SeqNum cookie) const;

    // A TSval not above ts_now whose low bits carry the options.
    static std::uint32_t ts_encode(std::uint32_t ts_now, const CookieOptions& o);
    static CookieOptions ts_decode(std::uint32_t tsecr);

    Duration period() const { return period_; }

private:
    std::uint64_t counter(Instant now) const;
    std::uint32_t hash(const ConnKey& key, SeqNum peer_isn, std::uint64_t counter, std::uint32_t mss_idx) const;

    SipKey key_;
    Duration period_;
};

}  // namespace uinet::tcp
