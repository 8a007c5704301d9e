// net/counters.hpp — counters of the network layer: every drop has a name.
//
// Contract: each field counts one event; every packet the layer refuses is
// counted under exactly one drop counter. visit() enumerates name/value
// pairs (for the JSON dump of `uinet serve` and for tests).
#pragma once

#include <cstdint>

namespace uinet::net {

// X-macro listing of the fields, so the struct and its visitor cannot drift.
#define UINET_NET_COUNTERS(X)                                                                   \
    X(rx_frames) X(rx_bytes) X(rx_bad_l2) X(rx_too_many_tags) X(rx_vlan_mismatch)             \
    X(rx_not_for_us_mac) X(rx_unknown_ethertype) X(rx_no_interface)                            \
    X(rx_first_look_dropped) X(bridged_frames) X(bridge_errors)                                \
    X(tx_frames) X(tx_bytes) X(tx_dropped_device) X(tx_no_buffers) X(tx_passive_suppressed)   \
    X(arp_rx) X(arp_bad) X(arp_requests_rx) X(arp_replies_rx) X(arp_replies_sent)              \
    X(arp_requests_sent) X(arp_announcements_sent) X(arp_not_for_us) X(arp_conflicts)         \
    X(arp_pending_dropped) X(arp_resolve_failed)                                               \
    X(ip_rx) X(ip_bad_header) X(ip_bad_checksum) X(ip_bad_length) X(ip_martian_src)           \
    X(ip_not_for_us) X(ip_fragments_rx) X(ip_reassembled) X(ip_reasm_dropped)                 \
    X(ip_reasm_timeouts) X(ip_unknown_protocol) X(ip_delivered) X(ip_no_listener)             \
    X(ip_tx) X(ip_tx_fragments) X(ip_tx_no_route) X(ip_tx_too_big) X(ip_tx_no_buffers)        \
    X(icmp_rx) X(icmp_bad) X(icmp_echo_rx) X(icmp_echo_replies_sent) X(icmp_bcast_echo_ignored) \
    X(icmp_errors_rx) X(icmp_unreach_sent) X(icmp_time_exceeded_sent) X(icmp_errors_suppressed) \
    X(icmp_rate_limited) X(icmp_other_rx) X(observed_frames) X(rx_observe_unclaimed)

struct NetCounters {
#define UINET_X(name) std::uint64_t name = 0;
    UINET_NET_COUNTERS(UINET_X)
#undef UINET_X

    template <class F>
    void visit(F&& f) const {
#define UINET_X(name) f(#name, name);
        UINET_NET_COUNTERS(UINET_X)
#undef UINET_X
    }
};

}  // namespace uinet::net
