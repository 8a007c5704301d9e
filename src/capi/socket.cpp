// capi/socket.cpp — C API: socket lifetime, addressing, connection set-up
// and teardown, state, upcalls and uinet_sowait().
//
// Contract: see include/uinet/uinet.h and capi/capi.hpp. Decisions:
//  * A socket made by accept() inherits the listener's non-blocking mode
//    and options (FreeBSD's sonewconn() does so; libuinet is FreeBSD).
//  * A blocking connect() that reaches SO_SNDTIMEO returns EINPROGRESS and
//    the handshake goes on (as Linux).
//  * SO_LINGER > 0: close() sends the FIN and waits until it is
//    acknowledged (the state leaves FIN-WAIT-1, CLOSING and LAST-ACK), as
//    Linux's sk_stream_wait_close(). The TCB reports no event when its FIN
//    is acknowledged in FIN-WAIT-1, so that wait also re-checks every 10 ms.
//    Unread received data makes close() abortive anyway (tcb_app.cpp).
#include <algorithm>

#include "capi/capi.hpp"

using namespace uinet;
using namespace uinet::capi;
using tcp::TcpState;

namespace uinet::capi {

namespace {

int map_events(std::uint32_t ev) {
    int out = 0;
    if (ev & event::readable) out |= UINET_POLLIN;
    if (ev & event::writable) out |= UINET_POLLOUT;
    if (ev & event::error) out |= UINET_POLLERR;
    if (ev & event::hangup) out |= UINET_POLLHUP;
    return out;
}

// The peer sent its FIN or the connection is over: no more bytes will come.
bool input_done(TcpState s) {
    return s == TcpState::close_wait || s == TcpState::closing || s == TcpState::last_ack ||
           s == TcpState::time_wait || s == TcpState::closed;
}

void on_events(uinet_socket* so, std::uint32_t ev) {
    so->waiter.bump();
    if (!so->upcall) return;
    const int raised = map_events(ev);
    const int uev = raised & (readiness(so) | UINET_POLLERR | UINET_POLLHUP);
    if (uev != 0) so->upcall(so, so->upcall_arg, uev);  // may close (free) so
}

}  // namespace

int readiness(uinet_socket* so) {
    Stack& st = *so->inst->stack;
    if (!so->is_tcp()) {
        int r = map_events(st.udp().poll(so->id));
        if (so->rd_shut.load()) r |= UINET_POLLIN;
        return r;
    }
    TcpSockets& t = st.tcp();
    const std::uint32_t ev = t.poll(so->id);
    auto state = t.state(so->id);
    if (!state) return UINET_POLLERR | UINET_POLLHUP;
    if (*state == TcpState::listen) return (ev & event::readable) ? UINET_POLLIN : 0;
    int r = map_events(ev & (event::error | event::hangup));
    if (ev & event::readable) {
        const std::size_t n = t.readable_bytes(so->id);
        if (n == 0 || n >= so->rcvlowat.load() || input_done(*state)) r |= UINET_POLLIN;
    }
    if ((ev & event::writable) && t.send_space(so->id) >= so->sndlowat.load()) r |= UINET_POLLOUT;
    if (so->rd_shut.load()) r |= UINET_POLLIN;
    return r;
}

void install_upcall(uinet_socket* so) {
    Upcall cb = [so](SocketId, std::uint32_t ev) { on_events(so, ev); };
    if (so->is_tcp())
        so->inst->stack->tcp().set_upcall(so->id, std::move(cb));
    else
        so->inst->stack->udp().set_upcall(so->id, std::move(cb));
}

void inherit_options(uinet_socket* dst, const uinet_socket& src) {
    dst->reuseaddr = src.reuseaddr.load();
    dst->reuseport = src.reuseport.load();
    dst->keepalive = src.keepalive.load();
    dst->nodelay = src.nodelay.load();
    dst->linger_on = src.linger_on.load();
    dst->linger_secs = src.linger_secs.load();
    dst->rcvtimeo_us = src.rcvtimeo_us.load();
    dst->sndtimeo_us = src.sndtimeo_us.load();
    dst->rcvlowat = src.rcvlowat.load();
    dst->sndlowat = src.sndlowat.load();
    dst->sndbuf = src.sndbuf.load();
    dst->rcvbuf = src.rcvbuf.load();
    dst->maxseg = src.maxseg.load();
    dst->keep_idle_s = src.keep_idle_s.load();
    dst->keep_intvl_s = src.keep_intvl_s.load();
    dst->keep_cnt = src.keep_cnt.load();
    dst->nonblocking = src.nonblocking.load();
}

}  // namespace uinet::capi

namespace {

bool valid_sin(const uinet_sockaddr_in* s) { return s && s->sin_family == UINET_AF_INET; }

// Waits until the FIN is acknowledged or `until` (linger close).
void linger_wait(uinet_socket* so, SteadyTime until) {
    using namespace std::chrono;
    uinet_instance* inst = so->inst;
    for (;;) {
        const std::uint64_t seen = so->waiter.seq();
        int lingering = 0;
        run_socket_op(so, [&] {
            auto s = inst->stack->tcp().state(so->id);
            lingering = s && (*s == TcpState::fin_wait_1 || *s == TcpState::closing || *s == TcpState::last_ack);
            return 0;
        });
        if (!lingering || !inst->running()) return;
        const SteadyTime now = steady_clock::now();
        if (now >= until) return;
        // Every way out of these states raises a socket event (FIN acked:
        // writable; TIME-WAIT or CLOSED: hangup), which wakes the waiter.
        so->waiter.wait(seen, until, [inst] { return !inst->running(); });
    }
}

}  // namespace

extern "C" {

int uinet_socreate(uinet_instance_t* inst, int dom, struct uinet_socket** aso, int type, int proto) {
    if (!inst || !aso) return EINVAL;
    *aso = nullptr;
    if (dom != UINET_AF_INET) return EAFNOSUPPORT;
    if (type == UINET_SOCK_STREAM) {
        if (proto != 0 && proto != UINET_IPPROTO_TCP) return EPROTONOSUPPORT;
    } else if (type == UINET_SOCK_DGRAM) {
        if (proto != 0 && proto != UINET_IPPROTO_UDP) return EPROTONOSUPPORT;
    } else {
        return EPROTOTYPE;
    }
    return guarded([&] {
        auto so = std::make_unique<uinet_socket>();
        so->inst = inst;
        so->type = type;
        inst->add_socket(so.get());
        int e = inst->configure([&] {
            Stack& st = *inst->stack;
            if (type == UINET_SOCK_STREAM) {
                auto id = st.tcp().open();
                if (!id) return to_errno(id.error());
                so->id = *id;
                const tcp::TcpConfig& c = st.tcp_layer().config();
                so->sndbuf = static_cast<std::uint32_t>(c.sndbuf);
                so->rcvbuf = static_cast<std::uint32_t>(c.rcvbuf);
                so->nodelay = c.nodelay;
                so->keep_idle_s = static_cast<std::uint32_t>(c.keep_idle.ns() / 1'000'000'000);
                so->keep_intvl_s = static_cast<std::uint32_t>(c.keep_intvl.ns() / 1'000'000'000);
                so->keep_cnt = c.keep_cnt;
            } else {
                auto id = st.udp().open();
                if (!id) return to_errno(id.error());
                so->id = *id;
                so->rcvbuf = 256 * 1024;  // udp::UdpConfig's default
            }
            install_upcall(so.get());
            return 0;
        });
        if (e != 0) {
            inst->remove_socket(so.get());
            return e;
        }
        *aso = so.release();
        return 0;
    });
}

int uinet_sobind(struct uinet_socket* so, const struct uinet_sockaddr_in* nam) {
    if (!so || !nam) return EINVAL;
    if (!valid_sin(nam)) return EAFNOSUPPORT;
    const Endpoint ep = to_endpoint(*nam);
    return run_socket_op(so, [&] {
        Stack& st = *so->inst->stack;
        if (so->is_tcp()) {
            auto r = st.tcp().bind(so->id, ep, so->reuseaddr.load(), so->reuseport.load());
            return r ? 0 : tcp::to_errno(r.error());
        }
        auto r = st.udp().bind(so->id, ep, so->reuseaddr.load() || so->reuseport.load());
        return r ? 0 : udp::to_errno(r.error());
    });
}

int uinet_solisten(struct uinet_socket* so, int backlog) {
    if (!so) return EINVAL;
    if (!so->is_tcp()) return EOPNOTSUPP;
    const std::size_t b = backlog <= 0 ? 128 : static_cast<std::size_t>(backlog);
    return run_socket_op(so, [&] {
        auto r = so->inst->stack->tcp().listen(so->id, b);
        return r ? 0 : tcp::to_errno(r.error());
    });
}

int uinet_soaccept(struct uinet_socket* listener, struct uinet_sockaddr_in* peer_or_null, struct uinet_socket** aso) {
    if (!listener || !aso) return EINVAL;
    *aso = nullptr;
    if (!listener->is_tcp()) return EOPNOTSUPP;
    return guarded([&] {
        uinet_instance* inst = listener->inst;
        auto nso = std::make_unique<uinet_socket>();
        nso->inst = inst;
        nso->type = UINET_SOCK_STREAM;
        inst->add_socket(nso.get());
        Endpoint peer;
        int e = blocking_loop(listener, may_block(listener, 0), deadline_after(listener->rcvtimeo_us.load()), [&] {
            auto r = inst->stack->tcp().accept(listener->id, &peer);
            if (!r) return to_errno(r.error());
            nso->id = *r;
            inherit_options(nso.get(), *listener);
            install_upcall(nso.get());
            return 0;
        });
        if (e != 0) {
            inst->remove_socket(nso.get());
            return e;
        }
        if (peer_or_null) from_endpoint(peer, peer_or_null);
        *aso = nso.release();
        return 0;
    });
}

int uinet_soconnect(struct uinet_socket* so, const struct uinet_sockaddr_in* nam) {
    if (!so || !nam) return EINVAL;
    if (!valid_sin(nam)) return EAFNOSUPPORT;
    const Endpoint ep = to_endpoint(*nam);
    Stack& st = *so->inst->stack;
    if (!so->is_tcp()) {
        return run_socket_op(so, [&] {
            auto r = st.udp().connect(so->id, ep);
            return r ? 0 : udp::to_errno(r.error());
        });
    }
    int e = run_socket_op(so, [&] {
        auto r = st.tcp().connect(st.now(), so->id, ep);
        return r ? 0 : tcp::to_errno(r.error());
    });
    if (e != 0) return e;
    if (!may_block(so, 0)) return EINPROGRESS;
    e = blocking_loop(so, true, deadline_after(so->sndtimeo_us.load()), [&] {
        auto s = st.tcp().state(so->id);
        if (!s) return EBADF;
        switch (*s) {
            case TcpState::syn_sent:
            case TcpState::syn_received: return EAGAIN;
            case TcpState::closed: {
                int err = st.tcp().error(so->id);
                return err != 0 ? err : ECONNREFUSED;
            }
            default: return 0;
        }
    });
    return e == EAGAIN ? EINPROGRESS : e;
}

int uinet_soshutdown(struct uinet_socket* so, int how) {
    if (!so) return EINVAL;
    if (how != UINET_SHUT_RD && how != UINET_SHUT_WR && how != UINET_SHUT_RDWR) return EINVAL;
    int e = run_socket_op(so, [&] {
        Stack& st = *so->inst->stack;
        if (so->is_tcp()) {
            auto s = st.tcp().state(so->id);
            if (!s) return EBADF;
            if (*s == TcpState::closed || *s == TcpState::listen) return ENOTCONN;
            if (how != UINET_SHUT_RD) {
                auto r = st.tcp().shutdown(st.now(), so->id, ShutdownHow::write);
                if (!r) return to_errno(r.error());
            }
        }
        if (how != UINET_SHUT_WR) so->rd_shut = true;
        if (how != UINET_SHUT_RD) so->wr_shut = true;
        return 0;
    });
    if (e == 0) so->waiter.bump();  // blocked receivers now see the end
    return e;
}

int uinet_soclose(struct uinet_socket* so) {
    if (!so) return EINVAL;
    uinet_instance* inst = so->inst;
    if (inst->stack->on_stack_thread() && !so->nonblocking.load()) return EDEADLK;
    int e = guarded([&] {
        Stack& st = *inst->stack;
        if (!so->is_tcp()) return run_socket_op(so, [&] {
            st.udp().close(so->id);
            return 0;
        });
        const bool linger = so->linger_on.load();
        const int secs = so->linger_secs.load();
        if (linger && secs == 0) return run_socket_op(so, [&] {
            st.tcp().abort(st.now(), so->id);
            return 0;
        });
        if (linger && secs > 0 && may_block(so, 0) && inst->running()) {
            bool wait = false;
            run_socket_op(so, [&] {
                auto s = st.tcp().state(so->id);
                if (!s || st.tcp().readable_bytes(so->id) > 0) return 0;  // close() resets: nothing to wait for
                if (*s == TcpState::established || *s == TcpState::close_wait || *s == TcpState::syn_received) {
                    (void)st.tcp().shutdown(st.now(), so->id, ShutdownHow::write);
                    wait = true;
                } else if (*s == TcpState::fin_wait_1 || *s == TcpState::closing || *s == TcpState::last_ack) {
                    wait = true;
                }
                return 0;
            });
            if (wait) linger_wait(so, deadline_after(std::int64_t{secs} * 1'000'000));
        }
        return run_socket_op(so, [&] {
            st.tcp().close(st.now(), so->id);
            return 0;
        });
    });
    if (e == EDEADLK) return e;
    inst->remove_socket(so);
    delete so;
    return e;
}

int uinet_sogetsockaddr(struct uinet_socket* so, struct uinet_sockaddr_in* out) {
    if (!so || !out) return EINVAL;
    Endpoint ep;
    int e = run_socket_op(so, [&] {
        Stack& st = *so->inst->stack;
        auto l = so->is_tcp() ? st.tcp().local_endpoint(so->id) : st.udp().local_endpoint(so->id);
        if (l) ep = *l;
        return 0;
    });
    if (e == 0) from_endpoint(ep, out);
    return e;
}

int uinet_sogetpeeraddr(struct uinet_socket* so, struct uinet_sockaddr_in* out) {
    if (!so || !out) return EINVAL;
    Endpoint ep;
    int e = run_socket_op(so, [&] {
        Stack& st = *so->inst->stack;
        if (so->is_tcp()) {
            auto s = st.tcp().state(so->id);
            if (!s) return EBADF;
            if (*s == TcpState::closed || *s == TcpState::listen || *s == TcpState::syn_sent) return ENOTCONN;
        }
        auto r = so->is_tcp() ? st.tcp().remote_endpoint(so->id) : st.udp().remote_endpoint(so->id);
        if (!r) return ENOTCONN;
        ep = *r;
        return 0;
    });
    if (e == 0) from_endpoint(ep, out);
    return e;
}

int uinet_sogetstate(struct uinet_socket* so, int* state) {
    if (!so || !state) return EINVAL;
    int out = 0;
    int e = run_socket_op(so, [&] {
        Stack& st = *so->inst->stack;
        if (!so->is_tcp()) {
            if (st.udp().remote_endpoint(so->id)) out |= UINET_SS_ISCONNECTED;
        } else {
            auto s = st.tcp().state(so->id);
            if (!s) return EBADF;
            switch (*s) {
                case TcpState::closed:
                    if (st.tcp().remote_endpoint(so->id)) out |= UINET_SS_ISDISCONNECTED;
                    break;
                case TcpState::listen: out |= UINET_SS_ACCEPTCONN; break;
                case TcpState::syn_sent:
                case TcpState::syn_received: out |= UINET_SS_ISCONNECTING; break;
                case TcpState::established: out |= UINET_SS_ISCONNECTED; break;
                case TcpState::close_wait: out |= UINET_SS_ISCONNECTED | UINET_SS_CANTRCVMORE; break;
                case TcpState::fin_wait_1:
                case TcpState::fin_wait_2: out |= UINET_SS_ISDISCONNECTING | UINET_SS_CANTSENDMORE; break;
                case TcpState::closing:
                case TcpState::last_ack:
                    out |= UINET_SS_ISDISCONNECTING | UINET_SS_CANTSENDMORE | UINET_SS_CANTRCVMORE;
                    break;
                case TcpState::time_wait:
                    out |= UINET_SS_ISDISCONNECTED | UINET_SS_CANTSENDMORE | UINET_SS_CANTRCVMORE;
                    break;
            }
        }
        return 0;
    });
    if (e != 0) return e;
    if (so->rd_shut.load()) out |= UINET_SS_CANTRCVMORE;
    if (so->wr_shut.load()) out |= UINET_SS_CANTSENDMORE;
    if (so->nonblocking.load()) out |= UINET_SS_NBIO;
    *state = out;
    return 0;
}

int uinet_sogeterror(struct uinet_socket* so) {
    if (!so) return EINVAL;
    int err = 0;
    int e = run_socket_op(so, [&] {
        if (so->is_tcp()) err = so->inst->stack->tcp().error(so->id);
        return 0;
    });
    return e != 0 ? e : err;
}

uinet_instance_t* uinet_sogetinstance(struct uinet_socket* so) { return so ? so->inst : nullptr; }

int uinet_sosetnonblocking(struct uinet_socket* so, int nonblocking) {
    if (!so) return EINVAL;
    so->nonblocking = nonblocking != 0;
    return 0;
}

int uinet_sosetupcall(struct uinet_socket* so, uinet_upcall_t fn, void* arg) {
    if (!so) return EINVAL;
    return run_socket_op(so, [&] {
        so->upcall = fn;
        so->upcall_arg = fn ? arg : nullptr;
        return 0;
    });
}

int uinet_sowait(struct uinet_socket** socks, int n, int* events, int timeout_ms) {
    if (!socks || !events || n <= 0) return -EINVAL;
    for (int i = 0; i < n; ++i) {
        if (!socks[i]) return -EINVAL;
        if (timeout_ms != 0 && socks[i]->inst->stack->on_stack_thread()) return -EDEADLK;
    }
    int count = 0;
    int e = guarded([&] {
        std::vector<int> want(events, events + n);
        SetWaiter sw;
        struct Registration {
            uinet_socket** socks;
            SetWaiter* sw;
            int added = 0;
            ~Registration() {
                for (int i = 0; i < added; ++i) socks[i]->waiter.remove(sw);
            }
        } reg{socks, &sw};
        for (; reg.added < n; ++reg.added) socks[reg.added]->waiter.add(&sw);
        const SteadyTime until = timeout_ms <= 0 ? SteadyTime::max() : deadline_after(std::int64_t{timeout_ms} * 1000);
        auto any_stopped = [&] {
            for (int i = 0; i < n; ++i)
                if (!socks[i]->inst->running()) return true;
            return false;
        };
        int ready = 0;
        int result = 0;
        for (;;) {
            {
                std::lock_guard lk(sw.mu);
                sw.fired = false;
            }
            ready = 0;
            // One call per run of sockets on the same instance.
            for (int i = 0; i < n && result == 0;) {
                int j = i;
                while (j < n && socks[j]->inst == socks[i]->inst) ++j;
                uinet_instance* inst = socks[i]->inst;
                auto look = [&] {
                    for (int k = i; k < j; ++k) events[k] = readiness(socks[k]) & (want[k] | UINET_POLLERR | UINET_POLLHUP);
                    return 0;
                };
                result = inst->stack->on_stack_thread() ? guarded(look) : inst->exec(look);
                i = j;
            }
            if (result != 0) break;
            for (int i = 0; i < n; ++i) ready += events[i] != 0;
            if (ready > 0 || timeout_ms == 0) break;
            if (any_stopped()) {
                result = ECANCELED;
                break;
            }
            std::unique_lock lk(sw.mu);
            auto pred = [&] { return sw.fired; };
            bool woke = true;
            if (until == SteadyTime::max()) {
                sw.cv.wait(lk, pred);
            } else {
                woke = sw.cv.wait_until(lk, until, pred);
            }
            if (!woke) break;
        }
        count = ready;
        return result;
    });
    return e != 0 ? -e : count;
}

}  // extern "C"
