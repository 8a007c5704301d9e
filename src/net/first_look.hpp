// net/first_look.hpp — a per-interface hook that sees every received frame
// before the stack does.
//
// Contract:
//  * An interface may carry one FirstLookHook. NetLayer::input() calls it
//    with each frame exactly as the device delivered it (Ethernet header and
//    VLAN tags included, before any address filtering), on the stack's
//    thread, and obeys its verdict:
//      take   - the stack processes the frame as usual;
//      drop   - the frame is discarded (counted in rx_first_look_dropped);
//      bridge - the frame leaves unchanged on interface `bridge_to` with the
//               next transmit batch (counted in bridged_frames). A bridge to
//               an unknown interface, to the receiving interface itself, or
//               of a frame longer than the target's MTU plus its L2 headers
//               is dropped and counted in bridge_errors.
//      observe - bridge AND watch: the frame is bridged as above and a copy
//               is processed by the stack as observe-only (Ipv4Rx::observe):
//               only TCP's passive engine may take it; the stack answers
//               nothing for it (no ARP, ICMP or TCP reply) and drops what
//               the engine does not take (counted rx_observe_unclaimed).
//               This is the inline passive position (docs/passive.md).
//  * The hook must not call back into the stack; it only classifies. It is
//    how an inline transparent proxy passes on what it does not terminate
//    (ARP for other hosts, UDP, multicast) without losing it.
#pragma once

#include <cstdint>
#include <functional>

#include "base/bytes.hpp"
#include "base/time.hpp"

namespace uinet::net {

using IfIndex = std::uint32_t;

enum class FirstLookAction : std::uint8_t { take, drop, bridge, observe };

struct FirstLookVerdict {
    FirstLookAction action = FirstLookAction::take;
    IfIndex bridge_to = 0;  // for bridge: the interface the frame leaves on

    static FirstLookVerdict take() { return {}; }
    static FirstLookVerdict drop() { return {FirstLookAction::drop, 0}; }
    static FirstLookVerdict bridge(IfIndex to) { return {FirstLookAction::bridge, to}; }
    static FirstLookVerdict observe(IfIndex to) { return {FirstLookAction::observe, to}; }
};

// frame: the whole received frame (valid only during the call; the first
// buffer of a chain, which holds at least every header up to L4).
using FirstLookHook = std::function<FirstLookVerdict(Instant now, IfIndex in, Bytes frame)>;

}  // namespace uinet::net
