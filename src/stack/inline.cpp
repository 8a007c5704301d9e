// stack/inline.cpp — Stack::set_inline: the first-look hooks of an inline
// position (a bump in the wire), shared by passive watching, cut-in and
// transparent proxying (docs/passive.md, docs/proxy.md).
//
// Contract: the hooks only classify (net/first_look.hpp); what they ask of
// TCP is read-only (claims, observes, terminates). Only unfragmented IPv4
// TCP can be taken or observed: a fragment has no ports to match, so it is
// bridged, as is everything that is not TCP.
#include "stack/stack.hpp"
#include "wire/ethernet.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"

namespace uinet {

namespace {

struct Peek {
    Endpoint src, dst;
    std::uint8_t flags = 0;
    wire::VlanStack vlans;
};

// Addresses, ports and flags of an unfragmented IPv4 TCP frame.
bool peek_tcp(Bytes frame, Peek& p) {
    auto l2 = wire::parse_l2(frame);
    if (!l2 || l2->ethertype != wire::ethertype::ipv4 || l2->dst.is_multicast()) return false;
    const Bytes ip = frame.subspan(l2->header_len);
    if (ip.size() < wire::kIpv4MinHeaderLen || (ip[0] >> 4) != 4) return false;
    const std::size_t ihl = std::size_t{ip[0] & 0x0fu} * 4;
    if (ihl < wire::kIpv4MinHeaderLen || ip[9] != wire::ip_proto::tcp) return false;
    if ((load_be16(ip.data() + 6) & 0x3fff) != 0) return false;  // MF or an offset: a fragment
    if (ip.size() < ihl + 14) return false;
    const std::uint8_t* t = ip.data() + ihl;
    p.src = Endpoint{Ipv4Addr(load_be32(ip.data() + 12)), Port(load_be16(t))};
    p.dst = Endpoint{Ipv4Addr(load_be32(ip.data() + 16)), Port(load_be16(t + 2))};
    p.flags = t[13];
    p.vlans = l2->vlans;
    return true;
}

}  // namespace

bool Stack::set_inline(net::IfIndex client_if, net::IfIndex server_if) {
    if (!net_.interface(client_if) || !net_.interface(server_if) || client_if == server_if) return false;
    net_.set_inline_pair(client_if, server_if);
    for (int side = 0; side < 2; ++side) {
        const net::IfIndex in = side == 0 ? client_if : server_if;
        const net::IfIndex out = side == 0 ? server_if : client_if;
        const bool client_side = side == 0;
        net_.interface(in)->first_look = [this, out, client_side](Instant, net::IfIndex, Bytes f) {
            Peek p;
            if (!peek_tcp(f, p)) return net::FirstLookVerdict::bridge(out);
            if (tcp_.claims(p.src, p.dst, p.vlans)) return net::FirstLookVerdict::take();
            // The stack speaks as this frame's sender on the other wire (a
            // taken-over handshake): the real sender's frames would
            // contradict it.
            if (tcp_.claims(p.dst, p.src, p.vlans)) return net::FirstLookVerdict::drop();
            using wire::TcpFlags;
            const bool syn = (p.flags & (TcpFlags::syn | TcpFlags::ack | TcpFlags::rst)) == TcpFlags::syn;
            if (tcp_.observes(p.src, p.dst, p.vlans, syn && client_side)) return net::FirstLookVerdict::observe(out);
            if (syn && client_side && tcp_.terminates(p.src, p.dst, p.vlans)) return net::FirstLookVerdict::take();
            return net::FirstLookVerdict::bridge(out);
        };
    }
    return true;
}

}  // namespace uinet
