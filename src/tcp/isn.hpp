// tcp/isn.hpp — initial sequence numbers and ephemeral port selection.
//
// Contract:
//  * IsnGenerator implements RFC 6528 section 3: ISN = M + F(localip,
//    localport, remoteip, remoteport, secretkey), where M is a 4-microsecond
//    timer (now / 4 us, modulo 2^32: 250,000 ticks per second) and F is
//    SipHash-2-4 keyed with the secret, truncated to 32 bits. The secret
//    comes from the host's random source (DESIGN.md principle 4); the
//    generator itself is a pure function of its inputs.
//  * PortPicker implements RFC 6056 section 3.3.4, Algorithm 4 ("Double-Hash
//    Port Selection"): offset = F(laddr, raddr, rport, key1); a counter table
//    of table_size entries, indexed by G(laddr, raddr, rport, key2), is
//    incremented on every try, so successive connections to the same peer
//    walk the range in order from a secret offset while different peers get
//    unrelated sequences. pick() tries every port of [low, high] at most once
//    and returns nullopt if in_use() says all are taken. The table is
//    allocated at construction and seeded from the key (the RFC seeds it at
//    random; the key is random). low > high are swapped; port 0 is never
//    picked (low is raised to 1).
//  * Both are deterministic given their key: the same inputs give the same
//    outputs on every machine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "base/addr.hpp"
#include "base/seq.hpp"
#include "base/siphash.hpp"
#include "base/time.hpp"

namespace uinet::tcp {

class IsnGenerator {
public:
    explicit IsnGenerator(SipKey secret) : key_(secret) {}
    SeqNum next(Instant now, Ipv4Addr laddr, Port lport, Ipv4Addr raddr, Port rport) const;
    SeqNum next(Instant now, const Ipv6Addr& laddr, Port lport, const Ipv6Addr& raddr, Port rport) const;

private:
    SipKey key_;
};

class PortPicker {
public:
    explicit PortPicker(SipKey secret, std::uint16_t low = 49152, std::uint16_t high = 65535,
                        std::size_t table_size = 4096);

    // A port p in [low, high] with !in_use(p), or nullopt if there is none.
    // in_use: bool(Port).
    template <class InUse>
    std::optional<Port> pick(Ipv4Addr laddr, Ipv4Addr raddr, Port rport, InUse&& in_use) {
        const std::uint32_t n = std::uint32_t{high_} - low_ + 1;
        const std::uint64_t offset = offset_hash(laddr, raddr, rport);
        std::uint32_t& counter = table_[bucket(laddr, raddr, rport)];
        const std::uint64_t base = offset % n + counter;  // no overflow: < 2^33
        for (std::uint32_t tries = 0; tries < n; ++tries) {
            const Port p(static_cast<std::uint16_t>(low_ + (base + tries) % n));
            if (!in_use(p)) {
                counter += tries + 1;
                return p;
            }
        }
        counter += n;
        return std::nullopt;
    }

    std::uint16_t low() const { return low_; }
    std::uint16_t high() const { return high_; }

private:
    std::uint64_t offset_hash(Ipv4Addr laddr, Ipv4Addr raddr, Port rport) const;
    std::size_t bucket(Ipv4Addr laddr, Ipv4Addr raddr, Port rport) const;

    SipKey key1_;
    SipKey key2_;
    std::uint16_t low_;
    std::uint16_t high_;
    std::vector<std::uint32_t> table_;  // RFC 6056 3.3.4 "table[]"
};

}  // namespace uinet::tcp
