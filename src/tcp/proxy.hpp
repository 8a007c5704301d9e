// tcp/proxy.hpp — vocabulary of the transparent-proxy features (libuinet's
// promiscuous sockets, per-connection L2 information and SYN filters).
//
// Contract:
//  * ConnL2 is a connection's layer-2 identity from this stack's side: the
//    MAC it sends from (local), the MAC it sends to (peer) and the VLAN tag
//    stack (outermost first, TPID + TCI each, up to 16). For a passively
//    opened connection it is the SYN's frame seen from our side (local =
//    the frame's destination MAC, peer = its source).
//  * A SYN filter is called on the stack's thread for each new SYN that a
//    listener would accept, before any state exists, with a SynInfo, and
//    answers a SynVerdict. `defer` parks the SYN under info.handle until
//    the application delivers a verdict (TcpLayer::deliver_syn_verdict) or
//    the deferral times out. Handles are opaque and generation-checked: a
//    handle that was used, expired or belongs to a closed listener is
//    refused, never confused with a newer deferral.
#pragma once

#include <cstdint>
#include <functional>

#include "base/addr.hpp"
#include "base/time.hpp"
#include "net/route.hpp"
#include "net/l2.hpp"
#include "wire/tcp.hpp"
#include "wire/vlan.hpp"

namespace uinet::tcp {

struct ConnL2 {
    MacAddr local_mac;
    MacAddr peer_mac;
    wire::VlanStack vlans;
    bool operator==(const ConnL2&) const = default;
};

// accept_passive: watch instead of terminating (inline position only): the
// SYN is passed on to the server's side unchanged and the connection is
// observed as a passive pair, queued on the same listener for
// TcpSockets::accept_passive (docs/proxy.md, docs/passive.md).
enum class SynVerdict : std::uint8_t { accept, reject_rst, reject_silent, defer, accept_passive };
const char* to_string(SynVerdict v);

// A deferred SYN: generation (high 32 bits) and slot + 1 (low 32). 0 = none.
using SynHandle = std::uint64_t;

struct SynInfo {
    Endpoint local;              // the address and port the peer dialled
    Endpoint remote;             // the peer
    ConnL2 l2;                   // the SYN's frame, from our side
    wire::TcpOptions options;    // as parsed: MSS, window scale, SACK-permitted, timestamps
    SeqNum seq;                  // the peer's ISN
    std::uint16_t window = 0;
    net::IfIndex ifindex = 0;    // the interface the SYN arrived on
    // The handle this SYN is parked under if the filter answers `defer`;
    // 0 when the listener already holds max_deferred SYNs (then `defer`
    // means SynFilterConfig::overflow_verdict).
    SynHandle handle = 0;
};

using SynFilter = std::function<SynVerdict(const SynInfo&)>;

struct SynFilterConfig {
    std::size_t max_deferred = 256;                        // outstanding deferrals per listener
    SynVerdict overflow_verdict = SynVerdict::reject_silent;  // `defer` beyond max_deferred
    Duration defer_timeout = Duration::seconds(10);        // a deferral's lifetime
    SynVerdict timeout_verdict = SynVerdict::reject_silent;   // applied when it runs out
};

// Errors of the proxy-feature setters and of verdict delivery.
enum class ProxyError : std::uint8_t { bad_socket, invalid_state, invalid_argument, not_found };
enum class VerdictError : std::uint8_t { stale_handle, invalid_verdict };
int to_errno(ProxyError e);
int to_errno(VerdictError e);

}  // namespace uinet::tcp
