// net/net.cpp — frame input: Ethernet/VLAN demux, ARP and IPv4 reception.
//
// Decisions and their sources:
//  * Frames are accepted for our MAC, broadcast, or anything when the
//    interface is promiscuous (IEEE 802.3 address filtering).
//  * ARP reception follows RFC 826's "packet reception" algorithm: merge
//    the sender into an existing entry first, add it only if we are the
//    target, then answer requests for our addresses. A frame claiming one
//    of our addresses from another MAC is a conflict (RFC 5227 section 2.4)
//    and is counted, not learnt.
//  * IPv4 datagrams with a broadcast or multicast source are discarded
//    (RFC 1122 section 3.2.1.3); datagrams not addressed to us are dropped:
//    a host does not forward (RFC 1122 section 3.3.1.4).
#include "net/net.hpp"

#include <cstring>

#include "wire/arp.hpp"
#include "wire/ethernet.hpp"
#include "wire/ipv4.hpp"
#include "wire/vlan.hpp"

namespace uinet::net {

const char* to_string(SendError e) {
    switch (e) {
        case SendError::no_route: return "no route to host";
        case SendError::too_big: return "message too long for the path MTU";
        case SendError::no_buffers: return "no packet buffers";
        case SendError::no_source_address: return "no source address";
    }
    return "?";
}

NetLayer::NetLayer(Pool& pool, const NetConfig& cfg)
    : pool_(pool), cfg_(cfg), reasm_(cfg.reassembly), icmp_tokens_(cfg.icmp_error_burst) {
    released_.reserve(64);
}

NetLayer::~NetLayer() = default;

IfIndex NetLayer::add_interface(Instant now, std::unique_ptr<Device> dev, InterfaceConfig cfg) {
    auto index = static_cast<IfIndex>(ifaces_.size() + 1);
    ifaces_.push_back(std::make_unique<Interface>(index, std::move(dev), std::move(cfg), cfg_.arp));
    Interface& ifc = *ifaces_.back();
    for (const Ipv4Cidr& c : ifc.config().ipv4) {
        routes_.add(Route{c, Ipv4Addr::any(), index});
        if (ifc.config().announce) announce(now, ifc, c.addr);
    }
    return index;
}

Interface* NetLayer::interface(IfIndex i) {
    if (i == 0 || i > ifaces_.size()) return nullptr;
    return ifaces_[i - 1].get();
}

bool NetLayer::is_local(Ipv4Addr a) const {
    for (const auto& ifc : ifaces_)
        if (ifc->has_addr(a)) return true;
    return false;
}

Ipv4Addr NetLayer::select_source(Ipv4Addr dst) const {
    auto hop = routes_.lookup(dst);
    if (!hop || hop->ifindex == 0 || hop->ifindex > ifaces_.size()) return Ipv4Addr::any();
    return ifaces_[hop->ifindex - 1]->source_for(dst);
}

std::uint64_t NetLayer::arp_stat_sum(std::uint64_t ArpStats::*field) const {
    std::uint64_t n = 0;
    for (const auto& ifc : ifaces_) n += ifc->arp().stats().*field;
    return n;
}

void NetLayer::input(Instant now, Interface& ifc, Packet frame) {
    ++ctr_.rx_frames;
    ctr_.rx_bytes += frame.size();
    if (ifc.first_look && !first_look(now, ifc, frame)) return;
    auto parsed = wire::parse_l2(frame.front().bytes());
    if (!parsed) {
        if (parsed.error() == wire::ParseError::too_many_tags)
            ++ctr_.rx_too_many_tags;
        else
            ++ctr_.rx_bad_l2;
        return;
    }
    const wire::L2Header& h = *parsed;
    const InterfaceConfig& cfg = ifc.config();
    if (!cfg.promiscuous) {
        if (!(h.vlans == cfg.vlans)) {
            ++ctr_.rx_vlan_mismatch;
            return;
        }
        if (h.dst != ifc.mac() && !h.dst.is_broadcast()) {
            ++ctr_.rx_not_for_us_mac;
            return;
        }
    }
    L2Info l2{h.src, h.dst, h.vlans};
    frame.pull(h.header_len);
    switch (h.ethertype) {
        case wire::ethertype::arp: input_arp(now, ifc, l2, std::move(frame)); break;
        case wire::ethertype::ipv4: input_ipv4(now, ifc, l2, std::move(frame)); break;
        default: ++ctr_.rx_unknown_ethertype; break;
    }
}

bool NetLayer::first_look(Instant now, Interface& ifc, Packet& frame) {
    FirstLookVerdict v = ifc.first_look(now, ifc.index(), frame.front().bytes());
    switch (v.action) {
        case FirstLookAction::take: return true;
        case FirstLookAction::drop: ++ctr_.rx_first_look_dropped; return false;
        case FirstLookAction::bridge: break;
        case FirstLookAction::observe: break;
    }
    if (cfg_.passive) {  // nothing leaves a passive stack; an observed frame is still watched
        if (v.action == FirstLookAction::observe) input_observed(now, ifc, frame);
        ++ctr_.tx_passive_suppressed;
        return false;
    }
    Interface* out = v.bridge_to == ifc.index() ? nullptr : interface(v.bridge_to);
    // Room for the Ethernet header and a full stack of 16 tags, as links carry.
    if (out == nullptr || frame.size() > std::size_t{out->mtu()} + 14 + 16 * 4) {
        ++ctr_.bridge_errors;
        return false;
    }
    if (v.action == FirstLookAction::observe) input_observed(now, ifc, frame);
    ++ctr_.bridged_frames;
    out->txq.push_back(std::move(frame));
    return false;
}

void NetLayer::input_observed(Instant now, Interface& ifc, const Packet& frame) {
    // The frame leaves unchanged; the stack watches a private copy of it.
    Packet copy = pool_.alloc(0);
    if (!copy || !copy.append(frame)) {
        ++ctr_.tx_no_buffers;
        return;
    }
    copy.meta() = frame.meta();
    ++ctr_.observed_frames;
    auto parsed = wire::parse_l2(copy.front().bytes());
    if (!parsed || parsed->ethertype != wire::ethertype::ipv4) {
        ++ctr_.rx_observe_unclaimed;
        return;
    }
    const L2Info l2{parsed->src, parsed->dst, parsed->vlans};
    copy.pull(parsed->header_len);
    observing_ = true;
    input_ipv4(now, ifc, l2, std::move(copy));
    observing_ = false;
}

void NetLayer::set_inline_pair(IfIndex a, IfIndex b) {
    std::erase_if(inline_pairs_, [&](const auto& p) { return p.first == a || p.first == b; });
    inline_pairs_.emplace_back(a, b);
    inline_pairs_.emplace_back(b, a);
}

IfIndex NetLayer::inline_peer(IfIndex i) const {
    for (const auto& p : inline_pairs_)
        if (p.first == i) return p.second;
    return 0;
}

void NetLayer::input_arp(Instant now, Interface& ifc, const L2Info& l2, Packet pkt) {
    auto parsed = wire::ArpRepr::parse(pkt.front().bytes());
    if (!parsed) {
        ++ctr_.arp_bad;
        return;
    }
    const wire::ArpRepr& a = *parsed;
    ++ctr_.arp_rx;
    if (a.op == wire::arp_op::request)
        ++ctr_.arp_requests_rx;
    else if (a.op == wire::arp_op::reply)
        ++ctr_.arp_replies_rx;
    if (a.sender_mac == ifc.mac()) return;  // our own broadcast looped back
    if (ifc.has_addr(a.sender_ip)) {
        ++ctr_.arp_conflicts;
        return;
    }
    bool target_is_us = ifc.has_addr(a.target_ip);
    if (!a.sender_ip.is_any() && !a.sender_mac.is_multicast()) {
        released_.clear();
        // Merge first; create only when the message was meant for us.
        ifc.arp().update(now, a.sender_ip, a.sender_mac, target_is_us, released_);
        flush_arp_pending(ifc, a.sender_mac, released_);
    }
    if (!target_is_us) {
        ++ctr_.arp_not_for_us;
        return;
    }
    if (a.op == wire::arp_op::request) {
        send_arp(ifc, wire::arp_op::reply, a.sender_mac.is_zero() ? l2.src : a.sender_mac, a.sender_mac,
                 a.target_ip, a.sender_ip);
        ++ctr_.arp_replies_sent;
    }
}

void NetLayer::flush_arp_pending(Interface& ifc, const MacAddr& mac, std::vector<Packet>& released) {
    for (Packet& p : released)
        emit_frame(ifc, mac, ifc.mac(), ifc.config().vlans, wire::ethertype::ipv4, std::move(p));
    released.clear();
}

void NetLayer::send_arp(Interface& ifc, std::uint16_t op, const MacAddr& eth_dst, const MacAddr& target_mac,
                        Ipv4Addr sender_ip, Ipv4Addr target_ip) {
    Packet p = pool_.alloc(cfg_.headroom);
    std::uint8_t* body = p ? p.front().put(wire::ArpRepr::size()) : nullptr;
    if (!body) {
        ++ctr_.tx_no_buffers;
        return;
    }
    wire::ArpRepr a{op, ifc.mac(), sender_ip, target_mac, target_ip};
    a.emit({body, wire::ArpRepr::size()});
    emit_frame(ifc, eth_dst, ifc.mac(), ifc.config().vlans, wire::ethertype::arp, std::move(p));
}

void NetLayer::announce(Instant /*now*/, Interface& ifc, Ipv4Addr addr) {
    // RFC 5227 section 3: an ARP Announcement is a request with sender and
    // target IP both set to the claimed address, broadcast.
    send_arp(ifc, wire::arp_op::request, MacAddr::broadcast(), MacAddr(), addr, addr);
    ++ctr_.arp_announcements_sent;
}

void NetLayer::input_ipv4(Instant now, Interface& ifc, const L2Info& l2, Packet pkt) {
    const bool verify = !pkt.meta().rx_csum_verified;
    // The header is in the first buffer; a large datagram (a TSO
    // super-frame, a jumbo frame in small buffers) continues in the chain.
    auto parsed = wire::Ipv4Repr::parse_chained(pkt.front().bytes(), pkt.size(), verify);
    if (!parsed) {
        switch (parsed.error()) {
            case wire::ParseError::bad_checksum: ++ctr_.ip_bad_checksum; break;
            case wire::ParseError::truncated:
            case wire::ParseError::bad_length: ++ctr_.ip_bad_length; break;
            default: ++ctr_.ip_bad_header; break;
        }
        return;
    }
    const wire::Ipv4Repr& ip = *parsed;
    ++ctr_.ip_rx;
    if (ip.src.is_broadcast() || ip.src.is_multicast() || ifc.is_subnet_broadcast(ip.src)) {
        ++ctr_.ip_martian_src;
        return;
    }
    const bool bcast = ip.dst.is_broadcast() || ifc.is_subnet_broadcast(ip.dst);
    const bool local = ifc.has_addr(ip.dst) || is_local(ip.dst);
    if (!local && !bcast && !ifc.config().promiscuous) {
        ++ctr_.ip_not_for_us;
        return;
    }
    // Drop Ethernet padding beyond the datagram, keep the header bytes for
    // ICMP quotes, then strip it.
    pkt.trim(ip.total_len());
    std::array<std::uint8_t, 60> hdr{};
    std::memcpy(hdr.data(), pkt.front().data(), ip.header_len);
    Bytes hdr_bytes{hdr.data(), ip.header_len};
    pkt.pull(ip.header_len);

    Ipv4Rx rx{ifc.index(), &l2, ip.src, ip.dst, ip.ttl, ip.tos,
              bcast || l2.dst.is_multicast() || l2.dst.is_broadcast(), hdr_bytes};
    if (ip.is_fragment() && observing_) {
        ++ctr_.rx_observe_unclaimed;  // a fragment cannot be matched to a flow
        return;
    }
    if (ip.is_fragment()) {
        ++ctr_.ip_fragments_rx;
        FragKey key{ip.src, ip.dst, ip.ident, ip.protocol};
        auto done = reasm_.add(now, key, ip.frag_offset, ip.more_frags, std::move(pkt), hdr_bytes);
        if (!done) return;
        ++ctr_.ip_reassembled;
        // ICMP errors about the datagram quote fragment zero's header, not
        // that of whichever fragment happened to complete it.
        Ipv4Rx whole = rx;
        whole.ip_header = done->ip_header.bytes();
        deliver_ipv4(now, ifc, whole, ip.protocol, std::move(done->payload));
        return;
    }
    deliver_ipv4(now, ifc, rx, ip.protocol, std::move(pkt));
}

void NetLayer::deliver_ipv4(Instant now, Interface& ifc, const Ipv4Rx& rx_in, std::uint8_t protocol, Packet payload) {
    Ipv4Rx rx = rx_in;
    rx.observe = observing_;
    if (observing_ && protocol != wire::ip_proto::tcp) {
        ++ctr_.rx_observe_unclaimed;  // only TCP's passive engine watches
        return;
    }
    if (protocol == wire::ip_proto::icmp) {
        input_icmp(now, ifc, rx, std::move(payload));
        return;
    }
    Ipv4Handler* h = handlers_[protocol];
    if (!h) {
        ++ctr_.ip_unknown_protocol;
        // RFC 1122 section 3.2.2.1: protocol unreachable (code 2) when the
        // transport is not supported — unless we are a black hole.
        send_icmp_error(now, 3, 2, 0, rx, payload);
        return;
    }
    switch (h->on_ipv4(now, rx, std::move(payload))) {
        case Delivery::delivered: ++ctr_.ip_delivered; break;
        case Delivery::no_listener: ++ctr_.ip_no_listener; break;
        case Delivery::dropped: break;
    }
}

}  // namespace uinet::net
