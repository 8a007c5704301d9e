// udp/udp.cpp — UDP PCBs, demultiplexing and the datagram paths.
#include "udp/udp.hpp"

#include <cerrno>

#include "wire/checksum.hpp"
#include "wire/ipv4.hpp"
#include "wire/udp.hpp"

namespace uinet::udp {

int to_errno(BindError e) {
    switch (e) {
        case BindError::address_in_use: return EADDRINUSE;
        case BindError::address_not_available: return EADDRNOTAVAIL;
        case BindError::already_bound: return EINVAL;
        case BindError::no_ports: return EAGAIN;
        case BindError::bad_pcb: return EBADF;
    }
    return EINVAL;
}
int to_errno(ConnectError e) {
    switch (e) {
        case ConnectError::invalid_address: return EINVAL;
        case ConnectError::address_not_available: return EADDRNOTAVAIL;
        case ConnectError::no_ports: return EAGAIN;
        case ConnectError::bad_pcb: return EBADF;
    }
    return EINVAL;
}
int to_errno(SendError e) {
    switch (e) {
        case SendError::not_connected: return EDESTADDRREQ;
        case SendError::message_too_big: return EMSGSIZE;
        case SendError::no_route: return EHOSTUNREACH;
        case SendError::no_buffers: return ENOBUFS;
        case SendError::no_ports: return EAGAIN;
        case SendError::bad_pcb: return EBADF;
        case SendError::connection_refused: return ECONNREFUSED;
    }
    return EINVAL;
}
int to_errno(RecvError e) {
    switch (e) {
        case RecvError::would_block: return EAGAIN;
        case RecvError::bad_pcb: return EBADF;
        case RecvError::connection_refused: return ECONNREFUSED;
    }
    return EINVAL;
}

UdpLayer::UdpLayer(net::NetLayer& net, Random& random, const UdpConfig& cfg) : net_(net), random_(random), cfg_(cfg) {
    net_.set_handler(wire::ip_proto::udp, this);
}

UdpLayer::~UdpLayer() { net_.set_handler(wire::ip_proto::udp, nullptr); }

UdpLayer::Pcb* UdpLayer::get(PcbId id) {
    if (id == 0 || id > pcbs_.size()) return nullptr;
    return pcbs_[id - 1].get();
}
const UdpLayer::Pcb* UdpLayer::get(PcbId id) const {
    if (id == 0 || id > pcbs_.size()) return nullptr;
    return pcbs_[id - 1].get();
}

std::optional<PcbId> UdpLayer::open(std::uint64_t owner) {
    if (live_ >= cfg_.max_pcbs) return std::nullopt;
    PcbId id;
    if (!free_.empty()) {
        id = free_.back();
        free_.pop_back();
    } else {
        pcbs_.emplace_back();
        id = static_cast<PcbId>(pcbs_.size());
    }
    pcbs_[id - 1] = std::make_unique<Pcb>();
    pcbs_[id - 1]->owner = owner;
    pcbs_[id - 1]->rcvbuf = cfg_.default_rcvbuf;
    ++live_;
    return id;
}

void UdpLayer::close(PcbId id) {
    Pcb* p = get(id);
    if (!p) return;
    if (p->bound) unlink_port(id);
    pcbs_[id - 1].reset();
    free_.push_back(id);
    --live_;
}

void UdpLayer::link_port(PcbId id) { by_port_[get(id)->local.port.value()].push_back(id); }

void UdpLayer::unlink_port(PcbId id) {
    auto it = by_port_.find(get(id)->local.port.value());
    if (it == by_port_.end()) return;
    std::erase(it->second, id);
    if (it->second.empty()) by_port_.erase(it);
}

bool UdpLayer::port_in_use(Ipv4Addr addr, Port port, bool reuse) const {
    auto it = by_port_.find(port.value());
    if (it == by_port_.end()) return false;
    for (PcbId other : it->second) {
        const Pcb* o = get(other);
        bool overlap = o->local.addr.is_any() || addr.is_any() || o->local.addr == addr;
        if (overlap && !(reuse && o->reuse)) return true;
    }
    return false;
}

std::optional<Port> UdpLayer::pick_ephemeral(Ipv4Addr addr) {
    // RFC 6056 section 3.3.1 (Algorithm 1): a random start, then a linear
    // search through the range.
    std::uint32_t span = static_cast<std::uint32_t>(cfg_.ephemeral_high - cfg_.ephemeral_low) + 1;
    std::uint32_t start = random_.below(span);
    for (std::uint32_t i = 0; i < span; ++i) {
        Port p(static_cast<std::uint16_t>(cfg_.ephemeral_low + (start + i) % span));
        if (!port_in_use(addr, p, false)) return p;
    }
    return std::nullopt;
}

Result<void, BindError> UdpLayer::bind(PcbId id, Endpoint local, bool reuse) {
    Pcb* p = get(id);
    if (!p) return Err{BindError::bad_pcb};
    if (p->bound) return Err{BindError::already_bound};
    if (!local.addr.is_any() && !net_.is_local(local.addr) && !local.addr.is_broadcast())
        return Err{BindError::address_not_available};
    if (local.port.is_any()) {
        auto port = pick_ephemeral(local.addr);
        if (!port) return Err{BindError::no_ports};
        local.port = *port;
    } else if (port_in_use(local.addr, local.port, reuse)) {
        return Err{BindError::address_in_use};
    }
    p->local = local;
    p->reuse = reuse;
    p->bound = true;
    link_port(id);
    return {};
}

Result<void, BindError> UdpLayer::bind_ephemeral(PcbId id) {
    Pcb* p = get(id);
    if (p->bound) return {};
    return bind(id, Endpoint{Ipv4Addr::any(), Port(0)}, false);
}

Result<void, ConnectError> UdpLayer::connect(PcbId id, Endpoint remote) {
    Pcb* p = get(id);
    if (!p) return Err{ConnectError::bad_pcb};
    if (remote.addr.is_any()) {
        // connect() to the unspecified address dissolves the association.
        p->connected = false;
        p->remote = {};
        return {};
    }
    if (remote.port.is_any()) return Err{ConnectError::invalid_address};
    if (!bind_ephemeral(id)) return Err{ConnectError::no_ports};
    p->remote = remote;
    p->connected = true;
    p->refused = false;
    return {};
}

Result<void, SendError> UdpLayer::send(Instant now, PcbId id, Bytes payload, std::optional<Endpoint> to) {
    Pcb* p = get(id);
    if (!p) return Err{SendError::bad_pcb};
    if (p->refused && p->connected && !to) {
        p->refused = false;
        return Err{SendError::connection_refused};
    }
    Endpoint dst;
    if (to)
        dst = *to;
    else if (p->connected)
        dst = p->remote;
    else
        return Err{SendError::not_connected};
    if (dst.addr.is_any() || dst.port.is_any()) return Err{SendError::not_connected};
    if (payload.size() > 65535 - 20 - wire::UdpRepr::size()) return Err{SendError::message_too_big};
    if (!bind_ephemeral(id)) return Err{SendError::no_ports};

    Ipv4Addr src = p->local.addr;
    if (src.is_any() || src.is_broadcast()) src = net_.select_source(dst.addr);
    if (src.is_any() && dst.addr.is_broadcast() && !net_.interfaces().empty())
        src = net_.interfaces().front()->source_for(dst.addr);
    if (src.is_any()) {
        ++ctr_.tx_errors;
        return Err{SendError::no_route};
    }

    Packet pkt = net_.pool().alloc(net_.config().headroom);
    if (!pkt || !pkt.append(payload)) {
        ++ctr_.tx_errors;
        return Err{SendError::no_buffers};
    }
    wire::UdpRepr u{p->local.port, dst.port, static_cast<std::uint16_t>(wire::UdpRepr::size() + payload.size())};
    std::uint8_t* h = net::push_header(pkt, net_.pool(), wire::UdpRepr::size(), net_.config().headroom);
    if (!h) {
        ++ctr_.tx_errors;
        return Err{SendError::no_buffers};
    }
    std::array<Bytes, 1> pieces{payload};
    u.emit_header_only({h, wire::UdpRepr::size()}, wire::udp_checksum_v4(u, src, dst.addr, pieces));

    net::SendOptions o;
    o.src = src;
    o.dst = dst.addr;
    o.protocol = wire::ip_proto::udp;
    auto r = net_.send(now, o, std::move(pkt));
    if (!r) {
        ++ctr_.tx_errors;
        switch (r.error()) {
            case net::SendError::no_route:
            case net::SendError::no_source_address: return Err{SendError::no_route};
            case net::SendError::too_big: return Err{SendError::message_too_big};
            case net::SendError::no_buffers: return Err{SendError::no_buffers};
        }
    }
    ++ctr_.tx_datagrams;
    ctr_.tx_bytes += payload.size();
    return {};
}

Result<Datagram, RecvError> UdpLayer::recv(PcbId id) {
    Pcb* p = get(id);
    if (!p) return Err{RecvError::bad_pcb};
    if (p->rxq.empty()) {
        if (p->refused) {
            p->refused = false;
            return Err{RecvError::connection_refused};
        }
        return Err{RecvError::would_block};
    }
    Datagram d = std::move(p->rxq.front());
    p->rxq.pop_front();
    p->queued_bytes -= d.data.size();
    return d;
}

bool UdpLayer::readable(PcbId id) const {
    const Pcb* p = get(id);
    return p && (!p->rxq.empty() || p->refused);
}

std::optional<Endpoint> UdpLayer::local_endpoint(PcbId id) const {
    const Pcb* p = get(id);
    if (!p || !p->bound) return std::nullopt;
    return p->local;
}

std::optional<Endpoint> UdpLayer::remote_endpoint(PcbId id) const {
    const Pcb* p = get(id);
    if (!p || !p->connected) return std::nullopt;
    return p->remote;
}

void UdpLayer::set_rcvbuf(PcbId id, std::size_t bytes) {
    if (Pcb* p = get(id)) p->rcvbuf = bytes;
}

PcbId UdpLayer::lookup(const Endpoint& local, const Endpoint& remote) const {
    auto it = by_port_.find(local.port.value());
    if (it == by_port_.end()) return 0;
    PcbId best = 0;
    int best_score = -1;
    for (PcbId id : it->second) {
        const Pcb* p = get(id);
        int score = 0;
        if (p->connected) {
            if (!(p->remote == remote)) continue;
            score += 2;
        }
        if (!p->local.addr.is_any()) {
            if (p->local.addr != local.addr) continue;
            score += 1;
        }
        if (score > best_score) {
            best = id;
            best_score = score;
        }
    }
    return best;
}

net::Delivery UdpLayer::on_ipv4(Instant now, const net::Ipv4Rx& rx, Packet payload) {
    const std::size_t len = payload.size();
    if (len < wire::UdpRepr::size() || payload.front().size() < wire::UdpRepr::size()) {
        ++ctr_.rx_bad_header;
        return net::Delivery::dropped;
    }
    // The header is parsed here rather than by UdpRepr::parse because a
    // reassembled datagram arrives as a chain: only its first buffer holds
    // the header, and the checksum runs over every buffer.
    const std::uint8_t* h = payload.front().data();
    std::uint16_t ulen = load_be16(h + 4);
    if (ulen < wire::UdpRepr::size() || ulen > len) {
        ++ctr_.rx_bad_header;
        return net::Delivery::dropped;
    }
    payload.trim(ulen);
    // RFC 768: a zero checksum means none was computed (IPv4 only).
    if (load_be16(h + 6) != 0 && !payload.meta().rx_csum_verified) {
        wire::Checksum c;
        wire::add_pseudo_v4(c, rx.src, rx.dst, wire::ip_proto::udp, ulen);
        payload.for_each_segment([&](Bytes b) { c.add(b); });
        if (c.finish() != 0) {
            ++ctr_.rx_bad_checksum;
            return net::Delivery::dropped;
        }
    }
    Endpoint from{rx.src, Port(load_be16(h))};
    Endpoint to{rx.dst, Port(load_be16(h + 2))};
    PcbId id = lookup(to, from);
    if (id == 0) {
        ++ctr_.rx_no_port;
        // RFC 1122 section 4.1.3.1: port unreachable (net/ applies the
        // black-hole, broadcast and rate rules).
        net_.send_icmp_error(now, 3, 3, 0, rx, payload);
        return net::Delivery::no_listener;
    }
    Pcb* p = get(id);
    std::size_t data_len = ulen - wire::UdpRepr::size();
    if (p->queued_bytes + data_len > p->rcvbuf) {
        ++ctr_.rx_queue_full;
        return net::Delivery::dropped;
    }
    payload.pull(wire::UdpRepr::size());
    bool was_empty = p->rxq.empty();
    p->rxq.push_back(Datagram{from, to, std::move(payload)});
    p->queued_bytes += data_len;
    ++ctr_.rx_datagrams;
    ctr_.rx_bytes += data_len;
    if (was_empty && events_) events_->udp_readable(p->owner);
    return net::Delivery::delivered;
}

void UdpLayer::on_icmp_error(Instant /*now*/, const net::IcmpErrorRx& err) {
    ++ctr_.icmp_errors_rx;
    if (err.quoted_l4.size() < 4) return;
    Endpoint local{err.src, Port(load_be16(err.quoted_l4.data()))};
    Endpoint remote{err.dst, Port(load_be16(err.quoted_l4.data() + 2))};
    PcbId id = lookup(local, remote);
    Pcb* p = get(id);
    // Only connected sockets learn of errors, as BSD does: an unconnected
    // socket cannot tell which of its peers refused.
    if (!p || !p->connected) return;
    if (err.type == 3 && (err.code == 2 || err.code == 3)) {
        p->refused = true;
        if (events_) events_->udp_error(p->owner);
    }
}

}  // namespace uinet::udp
