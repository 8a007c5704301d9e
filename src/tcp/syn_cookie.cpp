// tcp/syn_cookie.cpp — SYN cookies (contract in syn_cookie.hpp).
#include "tcp/syn_cookie.hpp"

namespace uinet::tcp {

std::uint64_t SynCookies::counter(Instant now) const {
    const std::int64_t p = period_.ns() > 0 ? period_.ns() : 1;
    return static_cast<std::uint64_t>(now.ns() < 0 ? 0 : now.ns() / p);
}

std::uint32_t SynCookies::hash(const ConnKey& k, SeqNum peer_isn, std::uint64_t ctr, std::uint32_t mss_idx) const {
    const std::uint64_t addrs = (std::uint64_t{k.laddr.value()} << 32) | k.raddr.value();
    const std::uint64_t ports = (std::uint64_t{k.lport.value()} << 48) | (std::uint64_t{k.rport.value()} << 32) |
                                peer_isn.raw();
    const std::uint64_t h1 = siphash24_u64x2(key_, addrs, ports);
    const std::uint64_t h2 = siphash24_u64x2(key_, h1, (ctr << 2) | mss_idx);
    return static_cast<std::uint32_t>(h2) & 0x0fffffffu;
}

SeqNum SynCookies::make(Instant now, const ConnKey& key, SeqNum peer_isn, std::optional<std::uint16_t> peer_mss) const {
    const std::uint16_t mss = peer_mss.value_or(kMssTable[0]);
    std::uint32_t idx = 0;
    for (std::uint32_t i = 0; i < kMssTable.size(); ++i)
        if (kMssTable[i] <= mss) idx = i;
    const std::uint64_t c = counter(now);
    return SeqNum((static_cast<std::uint32_t>(c & 3) << 30) | (idx << 28) | hash(key, peer_isn, c, idx));
}

std::optional<std::uint16_t> SynCookies::check(Instant now, const ConnKey& key, SeqNum peer_isn, SeqNum cookie) const {
    const std::uint32_t v = cookie.raw();
    const std::uint64_t c_now = counter(now);
    const std::uint32_t idx = (v >> 28) & 3;
    for (std::uint64_t age = 0; age < 2 && age <= c_now; ++age) {
        const std::uint64_t c = c_now - age;
        if ((c & 3) != (v >> 30)) continue;
        if (hash(key, peer_isn, c, idx) == (v & 0x0fffffffu)) return kMssTable[idx];
        return std::nullopt;
    }
    return std::nullopt;
}

std::uint32_t SynCookies::ts_encode(std::uint32_t ts_now, const CookieOptions& o) {
    const std::uint32_t bits = (o.wscale ? (*o.wscale & 0xfu) : 0xfu) | (o.sack ? 0x10u : 0u);
    std::uint32_t ts = (ts_now & ~kTsMask) | bits;
    if (static_cast<std::int32_t>(ts - ts_now) > 0) ts -= kTsMask + 1;
    return ts;
}

CookieOptions SynCookies::ts_decode(std::uint32_t tsecr) {
    CookieOptions o;
    const std::uint32_t ws = tsecr & 0xfu;
    if (ws != 0xfu) o.wscale = static_cast<std::uint8_t>(ws > 14 ? 14 : ws);
    o.sack = (tsecr & 0x10u) != 0;
    return o;
}

}  // namespace uinet::tcp
