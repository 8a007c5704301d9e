// socket/passive_socket.cpp — passive listeners and the receive-only stream
// sockets of observed connections (tcp/passive.hpp, docs/passive.md).
//
// Contract:
//  * A passive stream socket is a SocketTable slot of kind `passive` that
//    names one direction of a flow of the stack's PassiveEngine. While the
//    socket is open the flow cannot be freed; close() (or abort()) detaches
//    the direction, and the engine stops keeping its bytes.
//  * recv() returns data bytes in stream order with holes skipped, then 0
//    once the stream ended (FIN reached, RST, timeout, end of capture) and
//    everything was read; would_block while waiting. recv_passive() stops at
//    holes and reports them. send() and connect() fail (not a TCB).
//  * poll(): readable when data, a hole or the end is waiting; hangup once
//    the stream ended; never writable.
//  * Both sockets of a pair report the connection as the server sees it:
//    local endpoint = the server, remote endpoint = the client.
#include <cerrno>

#include "socket/tcp_socket.hpp"

namespace uinet {

const TcpSockets::PassiveRef* TcpSockets::passive_ref(SocketId id) const {
    const SocketTable::Slot* sl = table_.find(id);
    if (!sl || sl->kind != SocketKind::passive) return nullptr;
    auto it = passive_socks_.find(id.slot);
    return it == passive_socks_.end() ? nullptr : &it->second;
}

Result<void, tcp::ProxyError> TcpSockets::set_passive(SocketId id, bool on) {
    auto t = tcb_id(id);
    if (!t) return Err{tcp::ProxyError::bad_socket};
    return tcp_.set_passive(*t, on);
}

Result<SocketId, tcp::ProxyError> TcpSockets::open_passive_listener(Endpoint local, std::size_t backlog) {
    auto id = open();
    if (!id) return Err{tcp::ProxyError::invalid_state};
    if (auto r = set_passive(*id); !r) {
        close(Instant{}, *id);
        return Err{r.error()};
    }
    if (!bind(*id, local) || !listen(*id, backlog)) {
        close(Instant{}, *id);
        return Err{tcp::ProxyError::invalid_argument};
    }
    return *id;
}

Result<PassivePair, AcceptError> TcpSockets::accept_passive(SocketId id) {
    auto t = tcb_id(id);
    if (!t) return Err{AcceptError::bad_socket};
    tcp::PassiveEngine* eng = tcp_.passive_engine();
    // A passive listener's pairs, or those of a terminating listener whose
    // SYN filter chose to watch (SynVerdict::accept_passive).
    if (!eng || !eng->has_queue(*t)) return Err{AcceptError::not_listening};
    if (!eng->accept_ready(*t)) return Err{AcceptError::would_block};
    auto f = eng->accept(*t);
    if (!f) return Err{AcceptError::would_block};
    PassivePair pair;
    pair.c2s = table_.create(SocketKind::passive);
    pair.s2c = table_.create(SocketKind::passive);
    const SocketId ids[2] = {pair.c2s, pair.s2c};
    for (int d = 0; d < 2; ++d) {
        passive_socks_[ids[d].slot] = PassiveRef{*f, d};
        (void)eng->attach(*f, d, ids[d].cookie());
        // Whatever arrived before accept() is visible now.
        const std::uint32_t ev = poll(ids[d]);
        if (ev & (event::readable | event::hangup)) table_.raise(ids[d], ev);
    }
    return pair;
}

Result<tcp::PassiveRead, TcpRecvError> TcpSockets::recv_passive(SocketId id, MutBytes buf) {
    const PassiveRef* p = passive_ref(id);
    if (!p) return Err{TcpRecvError::bad_socket};
    tcp::PassiveEngine& eng = *tcp_.passive_engine();
    tcp::PassiveRead r = eng.read(p->flow, p->dir, buf, true);
    if (r.bytes > 0 || r.hole_len > 0 || buf.empty()) return r;
    if (eng.at_eof(p->flow, p->dir)) return r;
    return Err{TcpRecvError::would_block};
}

Result<std::size_t, TcpRecvError> TcpSockets::passive_recv(const PassiveRef& p, MutBytes buf, bool peek) {
    if (peek) return Err{TcpRecvError::not_connected};
    tcp::PassiveEngine& eng = *tcp_.passive_engine();
    const tcp::PassiveRead r = eng.read(p.flow, p.dir, buf, false);
    if (r.bytes > 0 || buf.empty()) return r.bytes;
    if (eng.at_eof(p.flow, p.dir)) return std::size_t{0};
    return Err{TcpRecvError::would_block};
}

std::uint32_t TcpSockets::passive_poll(const PassiveRef& p) const {
    const tcp::PassiveEngine& eng = *tcp_.passive_engine();
    std::uint32_t ev = 0;
    if (eng.pending(p.flow, p.dir)) ev |= event::readable;
    if (eng.at_eof(p.flow, p.dir)) ev |= event::readable | event::hangup;
    return ev;
}

void TcpSockets::passive_close(SocketId id, const PassiveRef& p) {
    const PassiveRef ref = p;  // p lives in the map entry erased below
    passive_socks_.erase(id.slot);
    table_.destroy(id);
    tcp_.passive_engine()->detach(ref.flow, ref.dir);
}

std::optional<tcp::PassiveConnInfo> TcpSockets::passive_info(SocketId id) const {
    const PassiveRef* p = passive_ref(id);
    if (!p) return std::nullopt;
    return tcp_.passive_engine()->info(p->flow);
}

int TcpSockets::passive_error(const PassiveRef& p) const {
    auto in = tcp_.passive_engine()->info(p.flow);
    if (!in) return EBADF;
    return (p.dir == 0 ? in->c2s.end : in->s2c.end) == tcp::PassiveEnd::reset ? ECONNRESET : 0;
}

void TcpSockets::passive_finish(Instant now) {
    if (tcp::PassiveEngine* eng = tcp_.passive_engine()) eng->finish(now);
}

Result<TcpSockets::CutInPair, tcp::CutInError> TcpSockets::cut_in(Instant now, SocketId id, tcp::CutInMode mode) {
    const PassiveRef* p = passive_ref(id);
    if (!p) return Err{tcp::CutInError::bad_socket};
    auto r = tcp_.cut_in(now, p->flow, mode);
    if (!r) return Err{r.error()};
    CutInPair out;
    auto wrap = [&](tcp::TcbId c) {
        if (c == 0) return SocketId{};
        SocketId nid = table_.create(SocketKind::tcp);
        table_.find(nid)->proto_id = c;
        tcp_.tcb(c)->owner = nid.cookie();
        tcp_.tcb(c)->accepted = true;
        const std::uint32_t ev = poll(nid);
        if (ev) table_.raise(nid, ev);
        return nid;
    };
    out.to_client = wrap(r->to_client);
    out.to_server = wrap(r->to_server);
    return out;
}

std::optional<int> TcpSockets::passive_direction(SocketId id) const {
    const PassiveRef* p = passive_ref(id);
    if (!p) return std::nullopt;
    return p->dir;
}

}  // namespace uinet
