// net/output.cpp — IPv4 output: routing, header, fragmentation, ARP and
// Ethernet/VLAN framing; and the layer's timers.
//
// Decisions and their sources:
//  * Routing picks the longest matching prefix (RFC 1122 section 3.3.1);
//    a caller may force the interface (libuinet's per-socket transmit
//    interface) or the whole L2 header (transparent proxying).
//  * Datagrams larger than the interface MTU are fragmented (RFC 791
//    section 2.3) unless DF is set, in which case the sender gets too_big
//    (RFC 1191's host behaviour: the transport must shrink).
//  * Identification: a per-stack counter. RFC 6864 section 4 allows any
//    value for atomic datagrams and asks only for uniqueness per
//    (src, dst, protocol) within the reassembly lifetime for fragmented
//    ones, which a 16-bit counter gives at the rates this path sees.
//  * Offloads (DESIGN.md principles 3 and 7). A transport may leave its
//    checksum to the device (meta().tx_csum_partial, the pseudo-header sum
//    in the field, csum_start/csum_offset relative to the L4 header); the
//    layer moves csum_start with every header it pushes. If the interface
//    cannot finish it, or the datagram must be fragmented, the checksum is
//    finished here in software (as Linux's skb_checksum_help). A TSO
//    super-segment (meta().tso_mss != 0, DF set by TCP) may exceed the MTU
//    up to the interface's tso_max and is never fragmented; beyond that, or
//    on an interface without TSO, it is refused like any DF datagram that
//    does not fit (too_big).
//  * Broadcasts go to ff:ff:ff:ff:ff:ff; IPv4 multicast maps to
//    01:00:5e + the low 23 bits of the group (RFC 1112 section 6.4);
//    everything else is resolved by ARP.
#include <cstring>

#include "net/ipv4_fragmenter.hpp"
#include "wire/arp.hpp"
#include "net/net.hpp"
#include "wire/checksum.hpp"
#include "wire/ethernet.hpp"
#include "wire/ipv4.hpp"
#include "wire/vlan.hpp"

namespace uinet::net {

std::uint8_t* push_header(Packet& pkt, Pool& pool, std::size_t n, std::size_t headroom) {
    if (pkt && pkt.unique() && pkt.front().headroom() >= n) return pkt.front().push(n);
    Packet h = pool.alloc(std::max(headroom, n));
    if (!h) return nullptr;
    h.meta() = pkt ? pkt.meta() : OffloadMeta{};
    std::uint8_t* p = h.front().push(n);
    if (pkt) h.append_chain(std::move(pkt));
    pkt = std::move(h);
    return p;
}

void finish_partial_checksum(Packet& l4) {
    OffloadMeta& m = l4.meta();
    if (!m.tx_csum_partial) return;
    m.tx_csum_partial = false;
    const std::size_t at = std::size_t{m.csum_start} + m.csum_offset;
    if (!l4.front().bytes().empty() && at + 2 <= l4.front().size()) {
        // The field holds the pseudo-header sum; the sum over the bytes
        // from csum_start, field included, completes it.
        wire::Checksum c;
        std::size_t skip = m.csum_start;
        l4.for_each_segment([&](Bytes b) {
            if (skip >= b.size()) {
                skip -= b.size();
                return;
            }
            c.add(b.subspan(skip));
            skip = 0;
        });
        store_be16(l4.front().data() + at, c.finish());
    }
}

void NetLayer::emit_frame(Interface& ifc, const MacAddr& dst, const MacAddr& src, const wire::VlanStack& vlans,
                          std::uint16_t ethertype, Packet pkt) {
    if (cfg_.passive) {  // a passive stack is silent: every frame stops here
        ++ctr_.tx_passive_suppressed;
        return;
    }
    std::size_t n = wire::l2_header_len(vlans);
    std::uint8_t* h = push_header(pkt, pool_, n, cfg_.headroom);
    if (!h) {
        ++ctr_.tx_no_buffers;
        return;
    }
    if (pkt.meta().tx_csum_partial) pkt.meta().csum_start = static_cast<std::uint16_t>(pkt.meta().csum_start + n);
    wire::emit_l2({h, n}, dst, src, vlans, ethertype);
    ++ctr_.tx_frames;
    ctr_.tx_bytes += pkt.size();
    ifc.txq.push_back(std::move(pkt));
}

Result<void, SendError> NetLayer::send(Instant now, const SendOptions& opt, Packet l4) {
    Interface* ifc = nullptr;
    Ipv4Addr next_hop = opt.dst;
    if (opt.ifindex != 0) {
        ifc = interface(opt.ifindex);
        if (!ifc) {
            ++ctr_.ip_tx_no_route;
            return Err{SendError::no_route};
        }
        auto hop = routes_.lookup(opt.dst);
        if (hop && hop->ifindex == opt.ifindex) next_hop = hop->addr;
    } else if (opt.dst.is_broadcast()) {
        // Limited broadcast: the first interface, as there is no route for it.
        ifc = ifaces_.empty() ? nullptr : ifaces_.front().get();
    } else if (auto hop = routes_.lookup(opt.dst)) {
        ifc = interface(hop->ifindex);
        next_hop = hop->addr;
    }
    if (!ifc) {
        ++ctr_.ip_tx_no_route;
        return Err{SendError::no_route};
    }
    SendOptions o = opt;
    if (o.src.is_any()) o.src = ifc->source_for(o.dst);
    if (o.src.is_any()) return Err{SendError::no_source_address};
    return output_ipv4(now, *ifc, next_hop, o, std::move(l4));
}

Result<void, SendError> NetLayer::output_ipv4(Instant now, Interface& ifc, Ipv4Addr next_hop, const SendOptions& opt,
                                              Packet l4) {
    wire::Ipv4Repr ip;
    ip.src = opt.src;
    ip.dst = opt.dst;
    ip.protocol = opt.protocol;
    ip.ttl = opt.ttl != 0 ? opt.ttl : cfg_.default_ttl;
    ip.tos = opt.tos;
    ip.ident = next_ident_++;
    ip.dont_frag = opt.dont_frag;
    const std::size_t hlen = ip.size();
    const std::size_t l4_len = l4.size();
    if (hlen + l4_len > 65535) {
        ++ctr_.ip_tx_too_big;
        return Err{SendError::too_big};
    }

    auto finish = [&](Packet piece, std::uint16_t offset, bool more) -> bool {
        wire::Ipv4Repr f = ip;
        f.frag_offset = offset;
        f.more_frags = more;
        f.payload_len = static_cast<std::uint16_t>(piece.size());
        std::uint8_t* h = push_header(piece, pool_, hlen, cfg_.headroom);
        if (!h) {
            ++ctr_.ip_tx_no_buffers;
            return false;
        }
        f.emit({h, hlen});
        if (piece.meta().tx_csum_partial)
            piece.meta().csum_start = static_cast<std::uint16_t>(piece.meta().csum_start + hlen);
        ++ctr_.ip_tx;
        if (opt.l2) {
            emit_frame(ifc, opt.l2->dst, opt.l2->src, opt.l2->vlans, wire::ethertype::ipv4, std::move(piece));
            return true;
        }
        output_l2(now, ifc, next_hop, opt.dst, std::move(piece));
        return true;
    };

    const bool fits = hlen + l4_len <= ifc.mtu();
    const bool super = !fits && l4.meta().tso_mss != 0 && hlen + l4_len <= ifc.caps().tso_max;
    if (l4.meta().tx_csum_partial && (!ifc.caps().tx_csum_offload || (!fits && !super))) finish_partial_checksum(l4);
    if (fits || super) {
        if (!finish(std::move(l4), 0, false)) return Err{SendError::no_buffers};
        return {};
    }
    if (opt.dont_frag || l4.meta().tso_mss != 0) {
        ++ctr_.ip_tx_too_big;
        return Err{SendError::too_big};
    }
    bool ok = true;
    bool built = fragment_payload(l4, ifc.mtu(), hlen, pool_, cfg_.headroom,
                                  [&](std::uint16_t offset, bool more, Packet piece) {
                                      if (!ok) return;
                                      ++ctr_.ip_tx_fragments;
                                      ok = finish(std::move(piece), offset, more);
                                  });
    if (!built || !ok) {
        ++ctr_.ip_tx_no_buffers;
        return Err{SendError::no_buffers};
    }
    return {};
}

void NetLayer::output_l2(Instant now, Interface& ifc, Ipv4Addr next_hop, Ipv4Addr dst, Packet ip_pkt) {
    const wire::VlanStack& vlans = ifc.config().vlans;
    if (dst.is_broadcast() || ifc.is_subnet_broadcast(dst)) {
        emit_frame(ifc, MacAddr::broadcast(), ifc.mac(), vlans, wire::ethertype::ipv4, std::move(ip_pkt));
        return;
    }
    if (dst.is_multicast()) {
        std::uint32_t g = dst.value();
        MacAddr m({0x01, 0x00, 0x5e, static_cast<std::uint8_t>((g >> 16) & 0x7f), static_cast<std::uint8_t>(g >> 8),
                   static_cast<std::uint8_t>(g)});
        emit_frame(ifc, m, ifc.mac(), vlans, wire::ethertype::ipv4, std::move(ip_pkt));
        return;
    }
    auto r = ifc.arp().resolve(now, next_hop, ip_pkt);
    switch (r.verdict) {
        case ArpCache::Verdict::ready:
            emit_frame(ifc, r.mac, ifc.mac(), vlans, wire::ethertype::ipv4, std::move(ip_pkt));
            break;
        case ArpCache::Verdict::send_request:
            send_arp(ifc, wire::arp_op::request, MacAddr::broadcast(), MacAddr(), ifc.source_for(next_hop), next_hop);
            ++ctr_.arp_requests_sent;
            break;
        case ArpCache::Verdict::queued: break;
        case ArpCache::Verdict::dropped: ++ctr_.arp_pending_dropped; break;
    }
}

void NetLayer::poll(Instant now) {
    for (auto& ifc : ifaces_) {
        Interface& i = *ifc;
        auto failed_before = i.arp().stats().failed;
        i.arp().poll(now, [&](Ipv4Addr ip, const MacAddr* known) {
            // A refresh goes to the MAC we know (RFC 1122 2.3.2.1 "unicast poll").
            send_arp(i, wire::arp_op::request, known ? *known : MacAddr::broadcast(), MacAddr(), i.source_for(ip), ip);
            ++ctr_.arp_requests_sent;
        });
        ctr_.arp_resolve_failed += i.arp().stats().failed - failed_before;
    }
    reasm_.expire(now, [&](ReassemblyExpired&& e) {
        ++ctr_.ip_reasm_timeouts;
        // RFC 792 / RFC 1122 section 3.3.2: time exceeded, code 1
        // (fragment reassembly time exceeded), only if fragment zero came.
        if (e.first_fragment.empty()) return;
        std::array<std::uint8_t, 60 + 8> quote{};
        std::size_t hl = std::min<std::size_t>(e.ip_header.size(), 60);
        std::memcpy(quote.data(), e.ip_header.data(), hl);
        std::size_t n = std::min<std::size_t>(8, e.first_fragment.size());
        e.first_fragment.copy_out(0, {quote.data() + hl, n});
        send_icmp_error_quote(now, 11, 1, 0, {quote.data(), hl + n}, false);
    });
}

Instant NetLayer::next_deadline() const {
    Instant t = reasm_.next_deadline();
    for (const auto& ifc : ifaces_) t = earliest(t, ifc->arp().next_deadline());
    return t;
}

}  // namespace uinet::net
