// base/addr.hpp — strong types for link and network addresses and ports.
//
// Contract: addresses are plain values, stored in host order where they are
// integers (Ipv4Addr) and as bytes in wire order where they are arrays
// (MacAddr, Ipv6Addr). Conversion to and from text never throws: parse()
// returns std::nullopt for malformed input.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace uinet {

class MacAddr {
public:
    constexpr MacAddr() = default;
    constexpr explicit MacAddr(std::array<std::uint8_t, 6> b) : b_(b) {}
    static constexpr MacAddr broadcast() { return MacAddr({0xff, 0xff, 0xff, 0xff, 0xff, 0xff}); }
    static MacAddr from_bytes(const std::uint8_t* p) {
        MacAddr m;
        for (int i = 0; i < 6; ++i) m.b_[i] = p[i];
        return m;
    }
    static std::optional<MacAddr> parse(std::string_view text);

    void to_bytes(std::uint8_t* p) const {
        for (int i = 0; i < 6; ++i) p[i] = b_[i];
    }
    const std::array<std::uint8_t, 6>& bytes() const { return b_; }
    bool is_broadcast() const { return *this == broadcast(); }
    bool is_multicast() const { return (b_[0] & 1) != 0; }
    bool is_zero() const { return *this == MacAddr(); }
    std::string to_string() const;
    constexpr auto operator<=>(const MacAddr&) const = default;

private:
    std::array<std::uint8_t, 6> b_{};
};

class Ipv4Addr {
public:
    constexpr Ipv4Addr() = default;
    constexpr explicit Ipv4Addr(std::uint32_t host_order) : v_(host_order) {}
    static constexpr Ipv4Addr of(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
        return Ipv4Addr((std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) | d);
    }
    static constexpr Ipv4Addr any() { return Ipv4Addr(0); }
    static constexpr Ipv4Addr broadcast() { return Ipv4Addr(0xffffffffu); }
    static std::optional<Ipv4Addr> parse(std::string_view text);

    constexpr std::uint32_t value() const { return v_; }
    constexpr bool is_any() const { return v_ == 0; }
    constexpr bool is_broadcast() const { return v_ == 0xffffffffu; }
    constexpr bool is_multicast() const { return (v_ >> 28) == 0xe; }
    constexpr bool is_loopback() const { return (v_ >> 24) == 127; }
    std::string to_string() const;
    constexpr auto operator<=>(const Ipv4Addr&) const = default;

private:
    std::uint32_t v_ = 0;
};

// An IPv4 prefix (address plus prefix length), e.g. 198.18.0.2/24.
struct Ipv4Cidr {
    Ipv4Addr addr;
    std::uint8_t prefix_len = 32;

    static std::optional<Ipv4Cidr> parse(std::string_view text);
    constexpr std::uint32_t mask() const {
        return prefix_len == 0 ? 0u : (0xffffffffu << (32 - prefix_len));
    }
    constexpr Ipv4Addr network() const { return Ipv4Addr(addr.value() & mask()); }
    constexpr Ipv4Addr directed_broadcast() const { return Ipv4Addr(addr.value() | ~mask()); }
    constexpr bool contains(Ipv4Addr a) const { return (a.value() & mask()) == (addr.value() & mask()); }
    std::string to_string() const;
    constexpr auto operator<=>(const Ipv4Cidr&) const = default;
};

class Ipv6Addr {
public:
    constexpr Ipv6Addr() = default;
    constexpr explicit Ipv6Addr(std::array<std::uint8_t, 16> b) : b_(b) {}
    static Ipv6Addr from_bytes(const std::uint8_t* p) {
        Ipv6Addr a;
        for (int i = 0; i < 16; ++i) a.b_[i] = p[i];
        return a;
    }
    static std::optional<Ipv6Addr> parse(std::string_view text);
    void to_bytes(std::uint8_t* p) const {
        for (int i = 0; i < 16; ++i) p[i] = b_[i];
    }
    const std::array<std::uint8_t, 16>& bytes() const { return b_; }
    bool is_any() const { return *this == Ipv6Addr(); }
    bool is_multicast() const { return b_[0] == 0xff; }
    std::string to_string() const;
    constexpr auto operator<=>(const Ipv6Addr&) const = default;

private:
    std::array<std::uint8_t, 16> b_{};
};

// A transport-layer port number, kept distinct from other 16-bit integers.
class Port {
public:
    constexpr Port() = default;
    constexpr explicit Port(std::uint16_t v) : v_(v) {}
    constexpr std::uint16_t value() const { return v_; }
    constexpr bool is_any() const { return v_ == 0; }
    constexpr auto operator<=>(const Port&) const = default;

private:
    std::uint16_t v_ = 0;
};

// A transport endpoint: IPv4 address and port.
struct Endpoint {
    Ipv4Addr addr;
    Port port;
    constexpr bool operator==(const Endpoint&) const = default;
};

}  // namespace uinet
