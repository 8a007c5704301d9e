// base/addr.cpp — text conversion for address types.
#include "base/addr.hpp"

#include <arpa/inet.h>

#include <cstdio>

namespace uinet {

namespace {
int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}
}  // namespace

std::optional<MacAddr> MacAddr::parse(std::string_view t) {
    // Exactly six two-digit hex groups separated by ':' or '-'.
    if (t.size() != 17) return std::nullopt;
    std::array<std::uint8_t, 6> b{};
    for (int i = 0; i < 6; ++i) {
        int hi = hex_digit(t[static_cast<size_t>(i) * 3]);
        int lo = hex_digit(t[static_cast<size_t>(i) * 3 + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        if (i < 5) {
            char sep = t[static_cast<size_t>(i) * 3 + 2];
            if (sep != ':' && sep != '-') return std::nullopt;
        }
        b[static_cast<size_t>(i)] = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    return MacAddr(b);
}

std::string MacAddr::to_string() const {
    char s[18];
    std::snprintf(s, sizeof s, "%02x:%02x:%02x:%02x:%02x:%02x", b_[0], b_[1], b_[2], b_[3], b_[4], b_[5]);
    return s;
}

std::optional<Ipv4Addr> Ipv4Addr::parse(std::string_view t) {
    // Strict dotted quad: four decimal octets 0..255, no leading '+', no extra text.
    std::uint32_t v = 0;
    size_t i = 0;
    for (int part = 0; part < 4; ++part) {
        if (i >= t.size() || t[i] < '0' || t[i] > '9') return std::nullopt;
        std::uint32_t octet = 0;
        size_t digits = 0;
        while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
            octet = octet * 10 + static_cast<std::uint32_t>(t[i] - '0');
            if (++digits > 3 || octet > 255) return std::nullopt;
            ++i;
        }
        v = (v << 8) | octet;
        if (part < 3) {
            if (i >= t.size() || t[i] != '.') return std::nullopt;
            ++i;
        }
    }
    if (i != t.size()) return std::nullopt;
    return Ipv4Addr(v);
}

std::string Ipv4Addr::to_string() const {
    char s[16];
    std::snprintf(s, sizeof s, "%u.%u.%u.%u", v_ >> 24, (v_ >> 16) & 255, (v_ >> 8) & 255, v_ & 255);
    return s;
}

std::optional<Ipv4Cidr> Ipv4Cidr::parse(std::string_view t) {
    auto slash = t.find('/');
    auto a = Ipv4Addr::parse(t.substr(0, slash));
    if (!a) return std::nullopt;
    if (slash == std::string_view::npos) return Ipv4Cidr{*a, 32};
    auto rest = t.substr(slash + 1);
    if (rest.empty() || rest.size() > 2) return std::nullopt;
    unsigned len = 0;
    for (char c : rest) {
        if (c < '0' || c > '9') return std::nullopt;
        len = len * 10 + static_cast<unsigned>(c - '0');
    }
    if (len > 32) return std::nullopt;
    return Ipv4Cidr{*a, static_cast<std::uint8_t>(len)};
}

std::string Ipv4Cidr::to_string() const { return addr.to_string() + "/" + std::to_string(prefix_len); }

std::optional<Ipv6Addr> Ipv6Addr::parse(std::string_view t) {
    // inet_pton implements RFC 4291 section 2.2 text forms; it is the OS's, not a dependency.
    std::string s(t);
    std::array<std::uint8_t, 16> b{};
    if (inet_pton(AF_INET6, s.c_str(), b.data()) != 1) return std::nullopt;
    return Ipv6Addr(b);
}

std::string Ipv6Addr::to_string() const {
    char s[INET6_ADDRSTRLEN];
    if (inet_ntop(AF_INET6, b_.data(), s, sizeof s) == nullptr) return "?";
    return s;
}

}  // namespace uinet
