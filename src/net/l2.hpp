// net/l2.hpp — Layer 2 information that travels with a packet up the stack.
//
// Contract: L2Info records the Ethernet addresses and the VLAN tag stack
// (outermost first) of the frame that carried a packet. Upper layers keep
// it (a transparent proxy re-originates connections with it) and may hand
// it back on output to send with exactly those headers.
#pragma once

#include "base/addr.hpp"
#include "wire/vlan.hpp"

namespace uinet::net {

struct L2Info {
    MacAddr src;
    MacAddr dst;
    wire::VlanStack vlans;
};

}  // namespace uinet::net
