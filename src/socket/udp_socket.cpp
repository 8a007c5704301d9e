// socket/udp_socket.cpp — datagram sockets mapped onto UDP PCBs.
#include "socket/udp_socket.hpp"

#include <cerrno>
#include <cstring>

namespace uinet {

int to_errno(OpenError) { return EMFILE; }
int to_errno(SockRecvError e) {
    switch (e) {
        case SockRecvError::would_block: return EAGAIN;
        case SockRecvError::bad_socket: return EBADF;
        case SockRecvError::connection_refused: return ECONNREFUSED;
    }
    return EINVAL;
}

std::optional<udp::PcbId> UdpSockets::pcb(SocketId id) const {
    const SocketTable::Slot* sl = table_.find(id);
    if (!sl || sl->kind != SocketKind::udp) return std::nullopt;
    return sl->proto_id;
}

Result<SocketId, OpenError> UdpSockets::open() {
    SocketId id = table_.create(SocketKind::udp);
    auto p = udp_.open(id.cookie());
    if (!p) {
        table_.destroy(id);
        return Err{OpenError::too_many_sockets};
    }
    table_.find(id)->proto_id = *p;
    return id;
}

void UdpSockets::close(SocketId id) {
    if (auto p = pcb(id)) {
        udp_.close(*p);
        table_.destroy(id);
    }
}

Result<void, udp::BindError> UdpSockets::bind(SocketId id, Endpoint local, bool reuse) {
    auto p = pcb(id);
    if (!p) return Err{udp::BindError::bad_pcb};
    return udp_.bind(*p, local, reuse);
}

Result<void, udp::ConnectError> UdpSockets::connect(SocketId id, Endpoint remote) {
    auto p = pcb(id);
    if (!p) return Err{udp::ConnectError::bad_pcb};
    return udp_.connect(*p, remote);
}

Result<void, udp::SendError> UdpSockets::sendto(Instant now, SocketId id, Bytes data, std::optional<Endpoint> to) {
    auto p = pcb(id);
    if (!p) return Err{udp::SendError::bad_pcb};
    return udp_.send(now, *p, data, to);
}

Result<RecvInfo, SockRecvError> UdpSockets::recvfrom(SocketId id, MutBytes buf) {
    auto p = pcb(id);
    if (!p) return Err{SockRecvError::bad_socket};
    auto d = udp_.recv(*p);
    if (!d) {
        switch (d.error()) {
            case udp::RecvError::would_block: return Err{SockRecvError::would_block};
            case udp::RecvError::connection_refused: return Err{SockRecvError::connection_refused};
            case udp::RecvError::bad_pcb: return Err{SockRecvError::bad_socket};
        }
    }
    RecvInfo info;
    info.full_size = d->data.size();
    info.size = std::min(buf.size(), info.full_size);
    d->data.copy_out(0, buf.first(info.size));
    info.from = d->from;
    info.to = d->to;
    return info;
}

std::optional<Endpoint> UdpSockets::local_endpoint(SocketId id) const {
    auto p = pcb(id);
    return p ? udp_.local_endpoint(*p) : std::nullopt;
}

std::optional<Endpoint> UdpSockets::remote_endpoint(SocketId id) const {
    auto p = pcb(id);
    return p ? udp_.remote_endpoint(*p) : std::nullopt;
}

bool UdpSockets::set_rcvbuf(SocketId id, std::size_t bytes) {
    auto p = pcb(id);
    if (!p) return false;
    udp_.set_rcvbuf(*p, bytes);
    return true;
}

std::uint32_t UdpSockets::poll(SocketId id) const {
    auto p = pcb(id);
    if (!p) return event::error | event::hangup;
    return event::writable | (udp_.readable(*p) ? event::readable : 0u);
}

bool UdpSockets::set_upcall(SocketId id, Upcall cb) {
    SocketTable::Slot* sl = table_.find(id);
    if (!sl) return false;
    sl->upcall = std::move(cb);
    return true;
}

}  // namespace uinet
