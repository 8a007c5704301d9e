// tcp/isn.cpp — RFC 6528 ISNs and RFC 6056 port selection (contract in isn.hpp).
#include "tcp/isn.hpp"

#include <algorithm>
#include <array>

namespace uinet::tcp {

namespace {

// RFC 6528 section 3: M, a timer ticking every 4 microseconds, modulo 2^32.
std::uint32_t isn_clock(Instant now) {
    return static_cast<std::uint32_t>(static_cast<std::uint64_t>(now.ns()) / 4000u);
}

std::uint64_t pack_addrs(Ipv4Addr a, Ipv4Addr b) {
    return (std::uint64_t{a.value()} << 32) | b.value();
}

// Second key derived from the first, so the two hashes of RFC 6056
// Algorithm 4 are independent functions.
SipKey derive(const SipKey& k, std::uint64_t label) {
    return SipKey{siphash24_u64x2(k, label, 1), siphash24_u64x2(k, label, 2)};
}

}  // namespace

SeqNum IsnGenerator::next(Instant now, Ipv4Addr laddr, Port lport, Ipv4Addr raddr, Port rport) const {
    const std::uint64_t ports = (std::uint64_t{lport.value()} << 16) | rport.value();
    const auto f = static_cast<std::uint32_t>(siphash24_u64x2(key_, pack_addrs(laddr, raddr), ports));
    return SeqNum(isn_clock(now) + f);
}

SeqNum IsnGenerator::next(Instant now, const Ipv6Addr& laddr, Port lport, const Ipv6Addr& raddr,
                          Port rport) const {
    std::array<std::uint8_t, 36> msg{};
    laddr.to_bytes(msg.data());
    raddr.to_bytes(msg.data() + 16);
    store_be16(msg.data() + 32, lport.value());
    store_be16(msg.data() + 34, rport.value());
    const auto f = static_cast<std::uint32_t>(siphash24(key_, Bytes{msg.data(), msg.size()}));
    return SeqNum(isn_clock(now) + f);
}

PortPicker::PortPicker(SipKey secret, std::uint16_t low, std::uint16_t high, std::size_t table_size)
    : key1_(derive(secret, 0x706f72742d6f6666ull)),  // "port-off"
      key2_(derive(secret, 0x706f72742d696478ull)),  // "port-idx"
      low_(std::max<std::uint16_t>(std::min(low, high), 1)),
      high_(std::max<std::uint16_t>(std::max(low, high), 1)),
      table_(std::max<std::size_t>(table_size, 1)) {
    // RFC 6056 3.3.4 initialises table[] at random; the key is random.
    const SipKey seed = derive(secret, 0x706f72742d746162ull);  // "port-tab"
    for (std::size_t i = 0; i < table_.size(); ++i)
        table_[i] = static_cast<std::uint32_t>(siphash24_u64(seed, i));
}

std::uint64_t PortPicker::offset_hash(Ipv4Addr laddr, Ipv4Addr raddr, Port rport) const {
    return siphash24_u64x2(key1_, pack_addrs(laddr, raddr), rport.value());
}

std::size_t PortPicker::bucket(Ipv4Addr laddr, Ipv4Addr raddr, Port rport) const {
    return static_cast<std::size_t>(siphash24_u64x2(key2_, pack_addrs(laddr, raddr), rport.value()) %
                                    table_.size());
}

}  // namespace uinet::tcp
