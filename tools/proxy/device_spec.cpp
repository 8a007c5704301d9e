// tools/proxy/device_spec.cpp — device specs and VLAN tag stacks as text
// (see device_spec.hpp).
#include "proxy/device_spec.hpp"

#include <charconv>

#include "link/tap.hpp"
#include "wire/ethernet.hpp"
#include "wire/vlan.hpp"

namespace uinet::proxy {

namespace {

// Linux interface names: 1..15 bytes (IFNAMSIZ - 1), no '/', ':' or blanks.
bool valid_ifname(std::string_view n) {
    if (n.empty() || n.size() > 15 || n == "." || n == "..") return false;
    for (char ch : n)
        if (ch == '/' || ch == ':' || ch == ' ' || ch == '\t' || ch == '\n') return false;
    return true;
}

bool parse_number(std::string_view s, std::uint32_t& out) {
    int base = 10;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s.remove_prefix(2);
        base = 16;
    }
    if (s.empty()) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
    return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

Result<DeviceSpec, std::string> parse_device_spec(std::string_view text) {
    const auto colon = text.find(':');
    if (colon == std::string_view::npos)
        return Err{"bad device '" + std::string(text) + "' (expected DRIVER:ARGUMENT, e.g. tap:tap0)"};
    DeviceSpec s{std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))};
    if (s.driver == "tap") {
        if (!valid_ifname(s.name))
            return Err{"bad device '" + std::string(text) + "' (tap:NAME wants an interface name of 1-15 characters)"};
        return s;
    }
    return Err{"unknown driver '" + s.driver + "' in '" + std::string(text) + "' (known: tap)"};
}

Result<std::unique_ptr<Device>, std::string> open_device(const DeviceSpec& spec, Pool& pool) {
    if (spec.driver == "tap") {
        auto tap = TapDevice::open(spec.name, pool);
        if (!tap) return Err{tap.error()};
        return std::unique_ptr<Device>(std::move(*tap));
    }
    return Err{"unknown driver '" + spec.driver + "'"};
}

Result<std::vector<VlanTagger::Tag>, std::string> parse_vlan_stack(std::string_view text) {
    std::vector<VlanTagger::Tag> tags;
    const std::string all(text);
    while (!text.empty()) {
        const auto comma = text.find(',');
        const std::string_view item = text.substr(0, comma);
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
        const auto colon = item.find(':');
        std::uint32_t tpid = 0, vid = 0;
        if (colon == std::string_view::npos || !parse_number(item.substr(0, colon), tpid) ||
            !parse_number(item.substr(colon + 1), vid))
            return Err{"bad VLAN tag '" + std::string(item) + "' in '" + all +
                       "' (expected TPID:VID, e.g. 0x88a8:100,0x8100:200)"};
        if (tpid != wire::ethertype::vlan_ctag && tpid != wire::ethertype::vlan_stag &&
            tpid != wire::ethertype::vlan_legacy_qinq)
            return Err{"bad TPID in '" + std::string(item) + "' (expected 0x8100, 0x88a8 or 0x9100)"};
        if (vid > 4094) return Err{"bad VID in '" + std::string(item) + "' (expected 0..4094)"};
        if (tags.size() == wire::kMaxVlanTags) return Err{"too many VLAN tags in '" + all + "' (at most 16)"};
        tags.emplace_back(static_cast<std::uint16_t>(tpid), static_cast<std::uint16_t>(vid));
        if (text.empty() && comma != std::string_view::npos)
            return Err{"bad VLAN list '" + all + "' (trailing comma)"};
    }
    return tags;
}

}  // namespace uinet::proxy
