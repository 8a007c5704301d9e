// tools/proxy/device_spec.hpp — the text forms of the `uinet proxy`
// options: device specs ("tap:NAME") and VLAN tag stacks
// ("0x88a8:100,0x8100:200").
//
// Contract:
//  * parse_device_spec() splits DRIVER:ARGUMENT and checks the driver is
//    known (today: tap) and the argument well formed; errors are one line
//    naming what was wrong and what is expected. open_device() opens a
//    parsed spec on a pool. A new driver is one more case in both.
//  * parse_vlan_stack() reads a comma-separated list of TPID:VID, outermost
//    first: TPID 0x8100 (802.1Q), 0x88a8 (802.1ad) or 0x9100, in hex with
//    0x or in decimal; VID 0..4094; at most 16 tags. An empty text is the
//    empty stack.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hpp"
#include "buf/packet.hpp"
#include "link/device.hpp"
#include "link/vlan_tagger.hpp"

namespace uinet::proxy {

struct DeviceSpec {
    std::string driver;  // "tap"
    std::string name;    // the driver's argument: for tap, the interface name
};

Result<DeviceSpec, std::string> parse_device_spec(std::string_view text);
Result<std::unique_ptr<Device>, std::string> open_device(const DeviceSpec& spec, Pool& pool);
Result<std::vector<VlanTagger::Tag>, std::string> parse_vlan_stack(std::string_view text);

}  // namespace uinet::proxy
