// socket/tcp_socket.cpp — stream sockets mapped onto TCBs.
#include "socket/tcp_socket.hpp"

#include <cerrno>

namespace uinet {

using tcp::TcpState;

int to_errno(TcpSendError e) {
    switch (e) {
        case TcpSendError::would_block: return EAGAIN;
        case TcpSendError::not_connected: return ENOTCONN;
        case TcpSendError::broken_pipe: return EPIPE;
        case TcpSendError::bad_socket: return EBADF;
        case TcpSendError::connection_reset: return ECONNRESET;
    }
    return EINVAL;
}
int to_errno(TcpRecvError e) {
    switch (e) {
        case TcpRecvError::would_block: return EAGAIN;
        case TcpRecvError::not_connected: return ENOTCONN;
        case TcpRecvError::bad_socket: return EBADF;
        case TcpRecvError::connection_reset: return ECONNRESET;
        case TcpRecvError::timed_out: return ETIMEDOUT;
        case TcpRecvError::refused: return ECONNREFUSED;
    }
    return EINVAL;
}
int to_errno(AcceptError e) {
    switch (e) {
        case AcceptError::would_block: return EAGAIN;
        case AcceptError::not_listening: return EINVAL;
        case AcceptError::bad_socket: return EBADF;
        case AcceptError::too_many_sockets: return EMFILE;
    }
    return EINVAL;
}
int to_errno(ShutdownError e) { return e == ShutdownError::bad_socket ? EBADF : ENOTCONN; }

std::optional<tcp::TcbId> TcpSockets::tcb_id(SocketId id) const {
    const SocketTable::Slot* sl = table_.find(id);
    if (!sl || sl->kind != SocketKind::tcp) return std::nullopt;
    return sl->proto_id;
}

tcp::Tcb* TcpSockets::tcb(SocketId id) const {
    auto t = tcb_id(id);
    return t ? tcp_.tcb(*t) : nullptr;
}

Result<SocketId, OpenError> TcpSockets::open() {
    SocketId id = table_.create(SocketKind::tcp);
    auto t = tcp_.open(id.cookie());
    if (!t) {
        table_.destroy(id);
        return Err{OpenError::too_many_sockets};
    }
    table_.find(id)->proto_id = *t;
    return id;
}

Result<void, tcp::BindError> TcpSockets::bind(SocketId id, Endpoint local, bool reuse, bool reuse_port) {
    auto t = tcb_id(id);
    if (!t) return Err{tcp::BindError::invalid};
    return tcp_.bind(*t, local, reuse, reuse_port);
}

Result<void, tcp::ListenError> TcpSockets::listen(SocketId id, std::size_t backlog) {
    auto t = tcb_id(id);
    if (!t) return Err{tcp::ListenError::invalid_state};
    return tcp_.listen(*t, backlog);
}

Result<SocketId, AcceptError> TcpSockets::accept(SocketId id, Endpoint* peer) {
    auto t = tcb_id(id);
    if (!t) return Err{AcceptError::bad_socket};
    const tcp::Tcb* l = tcp_.tcb(*t);
    // A passive listener's accept queue holds the handshakes it took over
    // (PassiveConfig::syn_takeover).
    if (!l || l->state() != TcpState::listen) return Err{AcceptError::not_listening};
    auto c = tcp_.accept(*t);
    if (!c) return Err{AcceptError::would_block};
    SocketId nid = table_.create(SocketKind::tcp);
    table_.find(nid)->proto_id = *c;
    tcp::Tcb* ct = tcp_.tcb(*c);
    ct->owner = nid.cookie();
    if (peer) *peer = Endpoint{ct->key().raddr, ct->key().rport};
    // Anything that happened before accept() is visible now.
    std::uint32_t ev = poll(nid);
    if (ev & (event::readable | event::error | event::hangup)) table_.raise(nid, ev);
    return nid;
}

Result<void, tcp::ConnectError> TcpSockets::connect(Instant now, SocketId id, Endpoint remote) {
    auto t = tcb_id(id);
    if (!t) return Err{tcp::ConnectError::invalid_state};
    return tcp_.connect(now, *t, remote);
}

Result<std::size_t, TcpSendError> TcpSockets::send(Instant now, SocketId id, Bytes data) {
    auto t = tcb_id(id);
    tcp::Tcb* c = t ? tcp_.tcb(*t) : nullptr;
    if (!c) return Err{TcpSendError::bad_socket};
    switch (c->state()) {
        case TcpState::closed:
            if (c->error() == tcp::TcpError::reset) return Err{TcpSendError::connection_reset};
            return Err{c->error() == tcp::TcpError::none && !c->key().rport.is_any() ? TcpSendError::broken_pipe
                                                                                    : TcpSendError::not_connected};
        case TcpState::listen: return Err{TcpSendError::not_connected};
        default: break;
    }
    if (c->write_closed()) return Err{TcpSendError::broken_pipe};
    if (c->state() == TcpState::syn_sent || c->state() == TcpState::syn_received) return Err{TcpSendError::would_block};
    std::size_t n = c->send(now, data);
    tcp_.touch(*t);
    if (n == 0 && !data.empty()) return Err{TcpSendError::would_block};
    return n;
}

Result<std::size_t, TcpRecvError> TcpSockets::recv(Instant now, SocketId id, MutBytes buf) {
    return recv_or_peek(now, id, buf, false);
}

Result<std::size_t, TcpRecvError> TcpSockets::peek(Instant now, SocketId id, MutBytes buf) {
    return recv_or_peek(now, id, buf, true);
}

Result<std::size_t, TcpRecvError> TcpSockets::recv_or_peek(Instant now, SocketId id, MutBytes buf, bool peek) {
    if (const PassiveRef* p = passive_ref(id)) return passive_recv(*p, buf, peek);
    auto t = tcb_id(id);
    tcp::Tcb* c = t ? tcp_.tcb(*t) : nullptr;
    if (!c) return Err{TcpRecvError::bad_socket};
    std::size_t n = peek ? c->peek(buf) : c->recv(now, buf);
    if (!peek) tcp_.touch(*t);
    if (n > 0) return n;
    if (c->eof()) return std::size_t{0};
    switch (c->error()) {
        case tcp::TcpError::reset:
        case tcp::TcpError::aborted: return Err{TcpRecvError::connection_reset};
        case tcp::TcpError::timed_out: return Err{TcpRecvError::timed_out};
        case tcp::TcpError::refused: return Err{TcpRecvError::refused};
        case tcp::TcpError::none: break;
    }
    if (c->state() == TcpState::closed || c->state() == TcpState::listen) {
        if (c->key().rport.is_any()) return Err{TcpRecvError::not_connected};
        return std::size_t{0};
    }
    return Err{TcpRecvError::would_block};
}

Result<void, ShutdownError> TcpSockets::shutdown(Instant now, SocketId id, ShutdownHow how) {
    auto t = tcb_id(id);
    tcp::Tcb* c = t ? tcp_.tcb(*t) : nullptr;
    if (!c) return Err{ShutdownError::bad_socket};
    if (c->state() == TcpState::closed || c->state() == TcpState::listen) return Err{ShutdownError::not_connected};
    if (how != ShutdownHow::read) c->shutdown_write(now);
    tcp_.touch(*t);
    return {};
}

void TcpSockets::close(Instant now, SocketId id) {
    if (const PassiveRef* p = passive_ref(id)) return passive_close(id, *p);
    auto t = tcb_id(id);
    if (!t) return;
    table_.destroy(id);
    tcp_.release(now, *t, false);
}

void TcpSockets::abort(Instant now, SocketId id) {
    if (const PassiveRef* p = passive_ref(id)) return passive_close(id, *p);
    auto t = tcb_id(id);
    if (!t) return;
    table_.destroy(id);
    tcp_.release(now, *t, true);
}

std::uint32_t TcpSockets::poll(SocketId id) const {
    if (const PassiveRef* p = passive_ref(id)) return passive_poll(*p);
    auto t = tcb_id(id);
    const tcp::Tcb* c = t ? tcp_.tcb(*t) : nullptr;
    if (!c) return event::error | event::hangup;
    std::uint32_t ev = 0;
    if (c->state() == TcpState::listen) return tcp_.accept_ready(*t) ? event::readable : 0u;
    if (c->readable()) ev |= event::readable;
    if (c->writable()) ev |= event::writable;
    if (c->error() != tcp::TcpError::none) ev |= event::error | event::readable;
    if (c->state() == TcpState::closed && !c->key().rport.is_any()) ev |= event::hangup | event::readable;
    return ev;
}

std::size_t TcpSockets::readable_bytes(SocketId id) const {
    if (const PassiveRef* p = passive_ref(id)) return tcp_.passive_engine()->readable(p->flow, p->dir);
    const tcp::Tcb* c = tcb(id);
    return c ? c->bytes_readable() : 0;
}

std::size_t TcpSockets::send_space(SocketId id) const {
    const tcp::Tcb* c = tcb(id);
    return c ? c->send_space() : 0;
}

bool TcpSockets::set_upcall(SocketId id, Upcall cb) {
    SocketTable::Slot* sl = table_.find(id);
    if (!sl || (sl->kind != SocketKind::tcp && sl->kind != SocketKind::passive)) return false;
    sl->upcall = std::move(cb);
    return true;
}

bool TcpSockets::set_options(SocketId id, const TcpOptions& o) {
    tcp::Tcb* c = tcb(id);
    if (!c) return false;
    if (o.nodelay) c->set_nodelay(*o.nodelay);
    if (o.keepalive || o.keep_idle || o.keep_intvl || o.keep_cnt) {
        const tcp::TcpConfig& cfg = tcp_.config();
        c->set_keepalive(o.keepalive.value_or(c->keepalive_on()), o.keep_idle.value_or(cfg.keep_idle),
                         o.keep_intvl.value_or(cfg.keep_intvl), o.keep_cnt.value_or(cfg.keep_cnt));
    }
    if (o.sndbuf || o.rcvbuf) c->set_buffers(o.sndbuf.value_or(0), o.rcvbuf.value_or(0));
    if (o.maxseg) c->set_user_mss(*o.maxseg);
    if (o.ecn) c->set_ecn(*o.ecn);
    if (o.pacing) c->set_pacing(*o.pacing);
    tcp_.touch(*tcb_id(id));
    return true;
}

bool TcpSockets::set_congestion_control(SocketId id, std::string_view name) {
    tcp::Tcb* c = tcb(id);
    if (!c) return false;
    auto cc = tcp::make_congestion_control(name);
    if (!cc) return false;
    c->set_congestion_control(std::move(cc));
    return true;
}

const char* TcpSockets::congestion_control(SocketId id) const {
    const tcp::Tcb* c = tcb(id);
    return c ? c->congestion_control().name() : nullptr;
}

std::optional<tcp::TcpInfo> TcpSockets::info(SocketId id) const {
    const tcp::Tcb* c = tcb(id);
    if (!c) return std::nullopt;
    return c->info();
}

bool TcpSockets::set_trace(SocketId id, tcp::TraceSink* sink) {
    tcp::Tcb* c = tcb(id);
    if (!c) return false;
    c->set_trace(sink);
    return true;
}

std::optional<Endpoint> TcpSockets::local_endpoint(SocketId id) const {
    if (passive_ref(id)) return passive_info(id)->server;
    const tcp::Tcb* c = tcb(id);
    if (!c || c->key().lport.is_any()) return std::nullopt;
    return Endpoint{c->key().laddr, c->key().lport};
}

std::optional<Endpoint> TcpSockets::remote_endpoint(SocketId id) const {
    if (passive_ref(id)) return passive_info(id)->client;
    const tcp::Tcb* c = tcb(id);
    if (!c || c->key().rport.is_any()) return std::nullopt;
    return Endpoint{c->key().raddr, c->key().rport};
}

int TcpSockets::error(SocketId id) const {
    if (const PassiveRef* p = passive_ref(id)) return passive_error(*p);
    const tcp::Tcb* c = tcb(id);
    if (!c) return EBADF;
    return tcp::to_errno(c->error());
}

std::optional<tcp::TcpState> TcpSockets::state(SocketId id) const {
    const tcp::Tcb* c = tcb(id);
    if (!c) return std::nullopt;
    return c->state();
}

Result<void, tcp::ProxyError> TcpSockets::set_promiscuous(SocketId id, bool on) {
    auto t = tcb_id(id);
    if (!t) return Err{tcp::ProxyError::bad_socket};
    return tcp_.set_promiscuous(*t, on);
}

bool TcpSockets::promiscuous(SocketId id) const {
    auto t = tcb_id(id);
    return t && tcp_.promiscuous(*t);
}

Result<void, tcp::ProxyError> TcpSockets::set_tx_interface(SocketId id, net::IfIndex ifindex) {
    auto t = tcb_id(id);
    if (!t) return Err{tcp::ProxyError::bad_socket};
    return tcp_.set_tx_interface(*t, ifindex);
}

Result<void, tcp::ProxyError> TcpSockets::set_l2info(SocketId id, const tcp::ConnL2& l2) {
    auto t = tcb_id(id);
    if (!t) return Err{tcp::ProxyError::bad_socket};
    return tcp_.set_l2info(*t, l2);
}

Result<tcp::ConnL2, tcp::ProxyError> TcpSockets::l2info(SocketId id) const {
    if (passive_ref(id)) return passive_info(id)->l2;
    auto t = tcb_id(id);
    if (!t) return Err{tcp::ProxyError::bad_socket};
    auto l2 = tcp_.l2info(*t);
    if (!l2) return Err{tcp::ProxyError::not_found};
    return *l2;
}

Result<void, tcp::ProxyError> TcpSockets::set_listen_vlans(SocketId id, const std::optional<wire::VlanStack>& vlans) {
    auto t = tcb_id(id);
    if (!t) return Err{tcp::ProxyError::bad_socket};
    return tcp_.set_listen_vlans(*t, vlans);
}

Result<void, tcp::ProxyError> TcpSockets::set_syn_filter(SocketId id, SynFilterFn fn, const tcp::SynFilterConfig& cfg) {
    auto t = tcb_id(id);
    if (!t) return Err{tcp::ProxyError::bad_socket};
    tcp::SynFilter f;
    if (fn) f = [id, fn = std::move(fn)](const tcp::SynInfo& info) { return fn(id, info); };
    return tcp_.set_syn_filter(*t, std::move(f), cfg);
}

Result<void, tcp::VerdictError> TcpSockets::deliver_syn_verdict(Instant now, tcp::SynHandle h, tcp::SynVerdict v) {
    return tcp_.deliver_syn_verdict(now, h, v);
}

void TcpSockets::tcp_event(std::uint64_t owner, std::uint32_t ev) {
    std::uint32_t out = 0;
    if (ev & tcp::tcb_event::readable) out |= event::readable;
    if (ev & (tcp::tcb_event::writable | tcp::tcb_event::established)) out |= event::writable;
    if (ev & tcp::tcb_event::error) out |= event::error;
    if (ev & (tcp::tcb_event::hangup | tcp::tcb_event::closed)) out |= event::hangup;
    if (out) table_.raise(SocketId::from_cookie(owner), out);
}

}  // namespace uinet
