// net/net.hpp — the network layer of one stack: interfaces, Ethernet/VLAN
// demux, ARP, IPv4 input and output, fragments and ICMP.
//
// Contract:
//  * input() consumes one received frame. Frames are parsed, checked and
//    either handled here (ARP, ICMP), handed to the transport registered for
//    their protocol (Ipv4Handler), or dropped and counted (NetCounters).
//  * send() takes a transport payload (L4 header + data) and transmits it:
//    route lookup, header, fragmentation, ARP resolution, Ethernet/VLAN
//    framing. Frames are queued on the interface; the stack flushes them.
//  * No clocks, no threads, no OS calls: time is passed in, and the layer
//    reports its next deadline (DESIGN.md principles 4 and 5).
//  * Upper layers never see net/'s internals beyond these interfaces; net/
//    never includes tcp/ or udp/.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "base/addr.hpp"
#include "base/result.hpp"
#include "buf/packet.hpp"
#include "net/counters.hpp"
#include "net/interface.hpp"
#include "net/ipv4_reassembly.hpp"
#include "net/l2.hpp"
#include "net/route.hpp"

namespace uinet::net {

// What a transport receives with each datagram.
struct Ipv4Rx {
    IfIndex ifindex = 0;
    const L2Info* l2 = nullptr;
    Ipv4Addr src, dst;
    std::uint8_t ttl = 0;
    std::uint8_t tos = 0;
    bool link_broadcast = false;  // sent to a broadcast or multicast address
    Bytes ip_header;              // the IP header as received (valid during the call)
    // A copy of a frame that was also bridged (first-look `observe`): the
    // transport may watch it but must answer nothing.
    bool observe = false;
};

// An ICMP error about a datagram this stack sent (RFC 1122 section 3.2.2:
// "MUST be passed to the transport layer").
struct IcmpErrorRx {
    std::uint8_t type = 0;
    std::uint8_t code = 0;
    std::uint32_t rest = 0;     // e.g. next-hop MTU for "fragmentation needed"
    Ipv4Addr reporter;          // who sent the ICMP message
    Ipv4Addr src, dst;          // addresses of the quoted original datagram
    Bytes quoted_l4;            // at least the first 8 bytes of its L4 header
    const L2Info* l2 = nullptr; // the frame that carried the ICMP message
};

enum class Delivery : std::uint8_t { delivered, no_listener, dropped };

class Ipv4Handler {
public:
    virtual ~Ipv4Handler() = default;
    // payload holds the L4 header and data (trimmed to the IP length).
    virtual Delivery on_ipv4(Instant now, const Ipv4Rx& rx, Packet payload) = 0;
    virtual void on_icmp_error(Instant now, const IcmpErrorRx& err) = 0;
};

struct NetConfig {
    ArpConfig arp;
    ReassemblyConfig reassembly;
    std::uint8_t default_ttl = 64;
    // libuinet's default: unclaimed traffic gets no ICMP unreachable (and,
    // in tcp/, no RST), so a stack can sit silently on a shared segment.
    bool blackhole = true;
    // A passive (listen-only) stack: nothing is ever queued for transmission
    // (no ARP replies or announcements, no ICMP, no TCP segment, no bridged
    // frame); each frame that would have left is counted in
    // tx_passive_suppressed. For monitors (docs/passive.md).
    bool passive = false;
    bool reply_to_broadcast_echo = false;  // as Linux's icmp_echo_ignore_broadcasts=1
    std::uint32_t icmp_errors_per_sec = 1000;  // token bucket rate (RFC 1812 4.3.2.8)
    std::uint32_t icmp_error_burst = 50;
    std::size_t headroom = 192;  // headroom of buffers the layer allocates
};

struct SendOptions {
    Ipv4Addr src;              // any(): chosen from the route's interface
    Ipv4Addr dst;
    std::uint8_t protocol = 0;
    std::uint8_t ttl = 0;      // 0: the layer's default
    std::uint8_t tos = 0;
    bool dont_frag = false;
    IfIndex ifindex = 0;       // non-zero: send on this interface, bypassing routing
    const L2Info* l2 = nullptr;  // non-null: use these MACs and tags, no ARP
};

enum class SendError : std::uint8_t { no_route, too_big, no_buffers, no_source_address };

// An ICMP echo reply received (for ping-like applications).
struct EchoReply {
    Ipv4Addr from;
    std::uint16_t id = 0;
    std::uint16_t seq = 0;
    std::size_t size = 0;  // ICMP payload bytes
    bool payload_ok = false;  // payload matched the pattern send_echo_request uses
};
const char* to_string(SendError e);

class NetLayer {
public:
    NetLayer(Pool& pool, const NetConfig& cfg);
    ~NetLayer();
    NetLayer(const NetLayer&) = delete;
    NetLayer& operator=(const NetLayer&) = delete;

    IfIndex add_interface(Instant now, std::unique_ptr<Device> dev, InterfaceConfig cfg);
    Interface* interface(IfIndex i);
    const std::vector<std::unique_ptr<Interface>>& interfaces() const { return ifaces_; }
    RouteTable& routes() { return routes_; }
    void set_handler(std::uint8_t protocol, Ipv4Handler* h) { handlers_[protocol] = h; }
    NetConfig& config() { return cfg_; }
    const NetConfig& config() const { return cfg_; }
    Pool& pool() { return pool_; }

    void input(Instant now, Interface& ifc, Packet frame);
    // The two interfaces of an inline position (a bump in the wire): each
    // is the other's peer. 0 if the interface has none.
    void set_inline_pair(IfIndex a, IfIndex b);
    IfIndex inline_peer(IfIndex i) const;
    Result<void, SendError> send(Instant now, const SendOptions& opt, Packet l4);
    // The ICMP error for a datagram a transport rejected (port unreachable
    // and friends); honours blackholing and the RFC 1122 3.2.2 rules.
    void send_icmp_error(Instant now, std::uint8_t type, std::uint8_t code, std::uint32_t rest, const Ipv4Rx& rx,
                         const Packet& payload);

    void poll(Instant now);
    Instant next_deadline() const;

    // Ping: sends an echo request with `size` bytes of patterned payload;
    // replies are reported to the echo listener.
    Result<void, SendError> send_echo_request(Instant now, Ipv4Addr dst, std::uint16_t id, std::uint16_t seq,
                                              std::size_t size);
    void set_echo_listener(std::function<void(const EchoReply&)> f) { echo_listener_ = std::move(f); }

    bool is_local(Ipv4Addr a) const;
    // Source address for a datagram to dst (any() if unroutable).
    Ipv4Addr select_source(Ipv4Addr dst) const;
    const NetCounters& counters() const { return ctr_; }
    void note_tx_dropped(std::size_t n) { ctr_.tx_dropped_device += n; }
    const ReassemblyStats& reassembly_stats() const { return reasm_.stats(); }
    std::uint64_t arp_stat_sum(std::uint64_t ArpStats::*field) const;

    // Sends a gratuitous ARP announcement for addr on ifc (RFC 5227 section 3).
    void announce(Instant now, Interface& ifc, Ipv4Addr addr);

private:
    // Runs the interface's first-look hook; true if the stack should go on
    // with the frame (it was moved away or dropped otherwise).
    bool first_look(Instant now, Interface& ifc, Packet& frame);
    // Processes an observe-only copy of a bridged frame.
    void input_observed(Instant now, Interface& ifc, const Packet& frame);
    void input_arp(Instant now, Interface& ifc, const L2Info& l2, Packet pkt);
    void input_ipv4(Instant now, Interface& ifc, const L2Info& l2, Packet pkt);
    void deliver_ipv4(Instant now, Interface& ifc, const Ipv4Rx& rx, std::uint8_t protocol, Packet payload);
    void input_icmp(Instant now, Interface& ifc, const Ipv4Rx& rx, Packet payload);
    void send_arp(Interface& ifc, std::uint16_t op, const MacAddr& eth_dst, const MacAddr& target_mac,
                  Ipv4Addr sender_ip, Ipv4Addr target_ip);
    // Adds Ethernet + VLAN headers and queues the frame on ifc.
    void emit_frame(Interface& ifc, const MacAddr& dst, const MacAddr& src, const wire::VlanStack& vlans,
                    std::uint16_t ethertype, Packet pkt);
    // Resolves the next hop's MAC (or queues on ARP) and emits an IPv4 packet.
    void output_l2(Instant now, Interface& ifc, Ipv4Addr next_hop, Ipv4Addr dst, Packet ip_pkt);
    Result<void, SendError> output_ipv4(Instant now, Interface& ifc, Ipv4Addr next_hop, const SendOptions& opt,
                                        Packet l4);
    bool icmp_error_allowed(Instant now);
    // Sends an ICMP error quoting `quote` (IP header + leading payload bytes).
    void send_icmp_error_quote(Instant now, std::uint8_t type, std::uint8_t code, std::uint32_t rest, Bytes quote,
                               bool link_broadcast);
    void flush_arp_pending(Interface& ifc, const MacAddr& mac, std::vector<Packet>& released);

    Pool& pool_;
    NetConfig cfg_;
    std::vector<std::unique_ptr<Interface>> ifaces_;
    RouteTable routes_;
    std::array<Ipv4Handler*, 256> handlers_{};
    Ipv4Reassembler reasm_;
    NetCounters ctr_{};
    std::uint16_t next_ident_ = 1;
    // ICMP error token bucket
    double icmp_tokens_ = 0;
    Instant icmp_last_{};
    std::vector<Packet> released_;  // scratch for ARP resolutions
    std::function<void(const EchoReply&)> echo_listener_;
    bool observing_ = false;  // input_observed() is running
    std::vector<std::pair<IfIndex, IfIndex>> inline_pairs_;
};

// Prepends n bytes of header to pkt: in its headroom when there is room,
// else in a fresh buffer chained in front. Returns the header's start, or
// nullptr if the pool is exhausted.
std::uint8_t* push_header(Packet& pkt, Pool& pool, std::size_t n, std::size_t headroom);

// Finishes in software an L4 checksum left partial (meta().tx_csum_partial:
// the field at csum_start + csum_offset holds the pseudo-header sum; the sum
// runs from csum_start to the end) and clears the flag. For interfaces that
// cannot, and for datagrams that must be fragmented.
void finish_partial_checksum(Packet& l4);

}  // namespace uinet::net
