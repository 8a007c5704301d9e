// tcp/tcp_bind.cpp — the TcpLayer's socket-facing half: ports and their
// users, bind, listen, accept, listener lookup, the per-destination MSS,
// tag stack and offloads, and active open (contract in tcp_layer.hpp).
#include <algorithm>
#include <cerrno>

#include "tcp/tcp_layer.hpp"

namespace uinet::tcp {

int to_errno(BindError e) {
    switch (e) {
        case BindError::address_in_use: return EADDRINUSE;
        case BindError::address_not_available: return EADDRNOTAVAIL;
        case BindError::already_bound:
        case BindError::invalid: return EINVAL;
        case BindError::no_ports: return EAGAIN;
    }
    return EINVAL;
}
int to_errno(ListenError) { return EINVAL; }
int to_errno(ConnectError e) {
    switch (e) {
        case ConnectError::invalid_address: return EINVAL;
        case ConnectError::address_not_available: return EADDRNOTAVAIL;
        case ConnectError::no_ports: return EAGAIN;
        case ConnectError::no_route: return ENETUNREACH;
        case ConnectError::already_connected: return EISCONN;
        case ConnectError::in_progress: return EALREADY;
        case ConnectError::invalid_state: return EINVAL;
        case ConnectError::too_many_connections: return ENOBUFS;
    }
    return EINVAL;
}

// --- ports and binding --------------------------------------------------

void TcpLayer::link_port(TcbId id) {
    const Tcb* t = tcb(id);
    Slot& s = slots_[id - 1];
    PortUsers& u = ports_[t->key().lport.value()];
    if (t->key().rport.is_any()) {
        u.socks.push_back(id);
        s.port_conn = false;
        return;
    }
    PortCount& c = u.conns[t->key().laddr.value()];
    ++c.all;
    if (s.reuse_port) ++c.reuse_port;
    s.port_conn = true;
}

void TcpLayer::unlink_port(TcbId id) {
    const Tcb* t = tcb(id);
    Slot& s = slots_[id - 1];
    auto it = ports_.find(t->key().lport.value());
    if (it == ports_.end()) return;
    PortUsers& u = it->second;
    if (s.port_conn) {
        auto c = u.conns.find(t->key().laddr.value());
        if (c != u.conns.end()) {
            --c->second.all;
            if (s.reuse_port && c->second.reuse_port > 0) --c->second.reuse_port;
            if (c->second.all == 0) u.conns.erase(c);
        }
        s.port_conn = false;
    } else {
        std::erase(u.socks, id);
    }
    if (u.socks.empty() && u.conns.empty()) ports_.erase(it);
}

bool TcpLayer::port_conflict(Ipv4Addr addr, Port port, bool reuse, TcbId self, bool reuse_port) const {
    // BSD/Linux semantics: a port bound on an overlapping address conflicts,
    // except that SO_REUSEADDR lets a socket bind over connections (even in
    // TIME-WAIT) that are not listening, and SO_REUSEPORT lets sockets that
    // all set it share the port, listeners included.
    auto it = ports_.find(port.value());
    if (it == ports_.end()) return false;
    const PortUsers& u = it->second;
    for (TcbId other : u.socks) {
        if (other == self) continue;
        const Tcb* o = tcb(other);
        if (!o) continue;
        const bool overlap = o->key().laddr.is_any() || addr.is_any() || o->key().laddr == addr;
        if (!overlap) continue;
        if (reuse_port && slots_[other - 1].reuse_port) continue;
        if (!reuse || o->state() == TcpState::listen) return true;
    }
    if (reuse) return false;  // connections never listen: SO_REUSEADDR binds over them
    auto blocks = [&](const PortCount& c) { return c.all > (reuse_port ? c.reuse_port : 0); };
    if (addr.is_any()) {
        for (const auto& [a, c] : u.conns)
            if (blocks(c)) return true;
        return false;
    }
    auto c = u.conns.find(addr.value());
    return c != u.conns.end() && blocks(c->second);
}

bool TcpLayer::bound(TcbId id) const {
    const Tcb* t = tcb(id);
    return t && (!t->key().lport.is_any() || slots_[id - 1].any_port);
}

Result<void, BindError> TcpLayer::bind(TcbId id, Endpoint local, bool reuse, bool reuse_port) {
    Tcb* t = tcb(id);
    if (!t || t->state() != TcpState::closed) return Err{BindError::invalid};
    if (bound(id)) return Err{BindError::already_bound};
    const bool promisc = slot(id)->promisc;
    if (local.addr.is_broadcast() || local.addr.is_multicast()) return Err{BindError::address_not_available};
    if (!local.addr.is_any() && !promisc && !net_.is_local(local.addr)) return Err{BindError::address_not_available};
    if (local.port.is_any() && promisc) {
        // A promiscuous socket bound with port 0 takes every port (it sits
        // in the port-0 bucket, which no other socket uses).
        if (port_conflict(local.addr, local.port, reuse, id, reuse_port)) return Err{BindError::address_in_use};
        slot(id)->any_port = true;
    } else if (local.port.is_any()) {
        for (std::uint32_t tries = 0; tries < 65536; ++tries) {
            std::uint32_t span = static_cast<std::uint32_t>(cfg_.ephemeral_high - cfg_.ephemeral_low) + 1;
            Port p(static_cast<std::uint16_t>(cfg_.ephemeral_low + random_.below(span)));
            if (!port_conflict(local.addr, p, false, id)) {
                local.port = p;
                break;
            }
        }
        if (local.port.is_any()) return Err{BindError::no_ports};
    } else if (port_conflict(local.addr, local.port, reuse, id, reuse_port)) {
        return Err{BindError::address_in_use};
    }
    if (reuse_port && !reuseport_keyed_) {
        reuseport_key_ = SipKey{random_.u64(), random_.u64()};
        reuseport_keyed_ = true;
    }
    slot(id)->reuse_port = reuse_port;
    t->set_local(local.addr, local.port);
    link_port(id);
    return {};
}

Result<void, ListenError> TcpLayer::listen(TcbId id, std::size_t backlog) {
    Tcb* t = tcb(id);
    if (!t || (t->state() != TcpState::closed && t->state() != TcpState::listen)) return Err{ListenError::invalid_state};
    if (!bound(id)) {
        if (!bind(id, Endpoint{Ipv4Addr::any(), Port(0)}, false)) return Err{ListenError::invalid_state};
    }
    t->set_listen();
    Listener& l = listeners_[id];
    l.backlog = std::max<std::size_t>(backlog, 1);
    return {};
}

std::optional<TcbId> TcpLayer::accept(TcbId lid) {
    auto it = listeners_.find(lid);
    if (it == listeners_.end()) return std::nullopt;
    auto& q = it->second.accept_q;
    while (!q.empty()) {
        TcbId c = q.front();
        q.pop_front();
        Tcb* t = tcb(c);
        if (!t || t->state() == TcpState::closed) continue;
        t->listener = 0;
        t->accepted = true;
        return c;
    }
    return std::nullopt;
}

bool TcpLayer::accept_ready(TcbId lid) const {
    if (passive(lid)) return passive_->accept_ready(lid);
    auto it = listeners_.find(lid);
    return it != listeners_.end() && !it->second.accept_q.empty();
}

TcbId TcpLayer::find_listener(const ConnKey& key, bool local) const {
    // Precedence: a listener on the port (bound to the address, else a
    // wildcard), then an any-port promiscuous listener (bound to the
    // address, else the catch-all).
    if (TcbId id = find_in_bucket(key.lport.value(), key, local)) return id;
    return find_in_bucket(0, key, local);
}

TcbId TcpLayer::find_in_bucket(std::uint16_t port, const ConnKey& key, bool local) const {
    // The most specific listener: bound to the address, else a wildcard;
    // at each level one restricted to the segment's tag stack before one
    // that takes any. Several SO_REUSEPORT listeners of the same rank share
    // the connections: a keyed hash of the 4-tuple picks one, so a SYN and
    // its retransmissions always reach the same listener. A destination
    // that is not ours is for promiscuous listeners only.
    auto it = ports_.find(port);
    if (it == ports_.end()) return 0;
    auto rank = [&](TcbId id) -> int {
        const Tcb* t = tcb(id);
        if (!t || t->state() != TcpState::listen) return -1;
        const Slot& s = slots_[id - 1];
        if (!local && !s.promisc) return -1;
        if (s.listen_vlan && *s.listen_vlan != key.vlan) return -1;
        const int tags = s.listen_vlan ? 1 : 0;
        if (t->key().laddr == key.laddr) return 2 + tags;
        if (t->key().laddr.is_any()) return tags;
        return -1;
    };
    int best = -1;
    std::uint32_t n = 0;
    for (TcbId id : it->second.socks) {
        const int r = rank(id);
        if (r > best) {
            best = r;
            n = 1;
        } else if (r == best && r >= 0) {
            ++n;
        }
    }
    if (best < 0) return 0;
    std::uint32_t pick = 0;
    if (n > 1) {
        const std::uint64_t h =
            siphash13_u64x2(reuseport_key_, (std::uint64_t{key.laddr.value()} << 32) | key.raddr.value(),
                            (std::uint64_t{key.lport.value()} << 16) | key.rport.value());
        pick = static_cast<std::uint32_t>(h % n);
    }
    for (TcbId id : it->second.socks) {
        if (rank(id) != best) continue;
        if (pick-- == 0) return id;
    }
    return 0;
}

std::uint16_t TcpLayer::mss_for(Ipv4Addr dst, net::IfIndex ifindex) const {
    // RFC 9293 3.7.1 / RFC 6691: MSS = MTU - 20 (IP) - 20 (TCP), from the
    // interface the connection sends on (forced, else routed).
    net::NetLayer& net = const_cast<net::NetLayer&>(net_);
    if (ifindex == 0)
        if (auto hop = net.routes().lookup(dst)) ifindex = hop->ifindex;
    std::uint32_t mtu = 1500;
    if (const net::Interface* i = ifindex != 0 ? net.interface(ifindex) : nullptr) mtu = i->mtu();
    return static_cast<std::uint16_t>(std::min<std::uint32_t>(mtu, 65535) - 40);
}

const wire::VlanStack& TcpLayer::tx_vlans(const Slot& s, Ipv4Addr dst) const {
    static const wire::VlanStack kUntagged{};
    if (s.l2_tx) return s.l2.vlans;
    net::NetLayer& net = const_cast<net::NetLayer&>(net_);
    net::IfIndex ifindex = s.tx_if;
    if (ifindex == 0)
        if (auto hop = net.routes().lookup(dst)) ifindex = hop->ifindex;
    const net::Interface* i = ifindex != 0 ? net.interface(ifindex) : nullptr;
    return i ? i->config().vlans : kUntagged;
}

TxOffload TcpLayer::offload_for(Ipv4Addr dst, net::IfIndex ifindex) const {
    // The interface the connection sends on (forced, else routed), as for
    // the MSS: checksum offload and TSO.
    net::NetLayer& net = const_cast<net::NetLayer&>(net_);
    if (ifindex == 0)
        if (auto hop = net.routes().lookup(dst)) ifindex = hop->ifindex;
    const net::Interface* i = ifindex != 0 ? net.interface(ifindex) : nullptr;
    if (!i) return {};
    TxOffload o;
    o.csum = i->caps().tx_csum_offload;
    o.tso_max = o.csum ? i->caps().tso_max : 0;
    return o;
}

std::optional<Port> TcpLayer::pick_port(Ipv4Addr laddr, Endpoint remote, std::uint32_t vlan) {
    return ports_picker_.pick(laddr, remote.addr, remote.port, [&](Port p) {
        if (conns_.find(ConnKey{laddr, remote.addr, p, remote.port, vlan})) return true;
        return port_conflict(laddr, p, false, 0);
    });
}

Result<void, ConnectError> TcpLayer::connect(Instant now, TcbId id, Endpoint remote) {
    now_ = now;
    Tcb* t = tcb(id);
    if (!t) return Err{ConnectError::invalid_state};
    if (t->state() == TcpState::syn_sent) return Err{ConnectError::in_progress};
    if (t->state() != TcpState::closed) return Err{ConnectError::already_connected};
    if (remote.addr.is_any() || remote.port.is_any() || remote.addr.is_broadcast() || remote.addr.is_multicast())
        return Err{ConnectError::invalid_address};
    Slot& s = *slot(id);
    Ipv4Addr laddr = t->key().laddr;
    if (laddr.is_any() && s.tx_if != 0) {
        if (const net::Interface* i = net_.interface(s.tx_if)) laddr = i->source_for(remote.addr);
    } else if (laddr.is_any()) {
        laddr = net_.select_source(remote.addr);
    }
    if (laddr.is_any()) return Err{ConnectError::no_route};
    // The connection is keyed on the tag stack it sends with: the replies
    // come back with it.
    const std::uint32_t vlan = vlan_ids_.acquire(tx_vlans(s, remote.addr));
    Port lport = t->key().lport;
    const bool was_bound = !lport.is_any() || s.any_port;
    if (lport.is_any()) {
        auto p = pick_port(laddr, remote, vlan);
        if (!p) {
            vlan_ids_.release(vlan);
            return Err{ConnectError::no_ports};
        }
        lport = *p;
    }
    ConnKey key{laddr, remote.addr, lport, remote.port, vlan};
    if (conns_.find(key)) {
        vlan_ids_.release(vlan);
        return Err{ConnectError::address_not_available};
    }
    if (was_bound) unlink_port(id);
    s.any_port = false;
    t->set_local(laddr, lport);
    t->set_remote(remote.addr, remote.port);
    t->set_vlan(vlan);
    link_port(id);
    conns_.insert(key, id);
    s.in_table = true;
    t->set_tx_offload(offload_for(remote.addr, s.tx_if));
    t->connect(now, isn_.next(now, laddr, lport, remote.addr, remote.port), mss_for(remote.addr, s.tx_if));
    touch(id);
    return {};
}

}  // namespace uinet::tcp
