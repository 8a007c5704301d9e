// capi/io.cpp — C API: uinet_sosend() and uinet_soreceive() with
// scatter/gather.
//
// Contract: see include/uinet/uinet.h. Decisions (FreeBSD sosend/soreceive):
//  * Position in the uio is (uio_resid on entry - uio_resid now): bytes are
//    taken from / put into the iovecs in order from that offset, so a
//    blocking call that needs several rounds on the stack thread resumes
//    where it stopped; the iovec array is never modified.
//  * Stream send: a blocking socket waits until every byte is queued. A
//    round queues bytes only while the send buffer has SO_SNDLOWAT bytes of
//    room (or the whole rest). A timeout or, for non-blocking sockets, a
//    full buffer ends the call with 0 if some bytes went, else EAGAIN.
//  * Stream receive: waits for min(SO_RCVLOWAT, bytes wanted) bytes, the end
//    of the stream, or an error; MSG_WAITALL waits for all bytes wanted.
//    Once some bytes are transferred the call returns 0 (the error, if any,
//    stays for the next call). MSG_PEEK copies without consuming.
//  * Datagrams: one per call; a datagram longer than the buffers is cut and
//    flagged UINET_MSG_TRUNC; MSG_PEEK is not supported (EOPNOTSUPP).
#include <algorithm>
#include <cstring>

#include "capi/capi.hpp"

using namespace uinet;
using namespace uinet::capi;
using tcp::TcpState;

namespace {

constexpr std::size_t kMaxDatagram = 65535;

// Checks a uio: counts and pointers sane, uio_resid within the iovecs.
int check_uio(const uinet_uio* uio) {
    if (!uio || uio->uio_iovcnt < 0 || (uio->uio_iovcnt > 0 && !uio->uio_iov)) return EINVAL;
    std::size_t sum = 0;
    for (int i = 0; i < uio->uio_iovcnt; ++i) {
        const uinet_iovec& v = uio->uio_iov[i];
        if (v.iov_len > 0 && !v.iov_base) return EINVAL;
        if (sum + v.iov_len < sum) return EINVAL;
        sum += v.iov_len;
    }
    return uio->uio_resid <= sum ? 0 : EINVAL;
}

// Calls f(pointer, length) for the pieces of the iovecs from byte `skip`
// on, `len` bytes in all, until f returns false.
template <class F>
void for_pieces(const uinet_uio& uio, std::size_t skip, std::size_t len, F&& f) {
    for (int i = 0; i < uio.uio_iovcnt && len > 0; ++i) {
        const uinet_iovec& v = uio.uio_iov[i];
        if (skip >= v.iov_len) {
            skip -= v.iov_len;
            continue;
        }
        const std::size_t n = std::min(v.iov_len - skip, len);
        if (!f(static_cast<std::uint8_t*>(v.iov_base) + skip, n)) return;
        len -= n;
        skip = 0;
    }
}

// Copies `src` into the uio from byte `skip`.
void scatter(const uinet_uio& uio, std::size_t skip, Bytes src) {
    std::size_t off = 0;
    for_pieces(uio, skip, src.size(), [&](std::uint8_t* p, std::size_t n) {
        std::memcpy(p, src.data() + off, n);
        off += n;
        return true;
    });
}

bool input_done(TcpState s) {
    return s == TcpState::close_wait || s == TcpState::closing || s == TcpState::last_ack ||
           s == TcpState::time_wait || s == TcpState::closed;
}

// One round of a stream send on the stack thread. EAGAIN: bytes remain.
int tcp_send_round(uinet_socket* so, uinet_uio* uio, std::size_t start) {
    Stack& st = *so->inst->stack;
    TcpSockets& t = st.tcp();
    if (uio->uio_resid == 0) return 0;
    if (so->wr_shut.load()) return EPIPE;
    const std::size_t want = std::min<std::size_t>(so->sndlowat.load(), uio->uio_resid);
    if (t.send_space(so->id) < want) {
        auto r = t.send(st.now(), so->id, Bytes{});  // reports a broken connection, if any
        return r ? EAGAIN : to_errno(r.error());
    }
    std::size_t sent = 0;
    int err = 0;
    for_pieces(*uio, start - uio->uio_resid, uio->uio_resid, [&](std::uint8_t* p, std::size_t n) {
        auto r = t.send(st.now(), so->id, Bytes(p, n));
        if (!r) {
            err = to_errno(r.error());
            return false;
        }
        sent += *r;
        return *r == n;
    });
    uio->uio_resid -= sent;
    if (sent == 0 && err != 0) return err;
    return uio->uio_resid > 0 ? EAGAIN : 0;
}

int udp_send(uinet_socket* so, const uinet_sockaddr_in* to, uinet_uio* uio) {
    if (uio->uio_resid > kMaxDatagram) return EMSGSIZE;
    std::optional<Endpoint> dst;
    if (to) {
        if (to->sin_family != UINET_AF_INET) return EAFNOSUPPORT;
        dst = to_endpoint(*to);
    }
    return run_socket_op(so, [&] {
        if (so->wr_shut.load()) return EPIPE;
        Stack& st = *so->inst->stack;
        Bytes data;
        int pieces = 0;
        for_pieces(*uio, 0, uio->uio_resid, [&](std::uint8_t* p, std::size_t n) {
            data = Bytes(p, n);
            return ++pieces < 2;
        });
        if (pieces > 1) {  // gather into one datagram
            auto& buf = so->inst->scratch;
            buf.resize(uio->uio_resid);
            std::size_t off = 0;
            for_pieces(*uio, 0, uio->uio_resid, [&](std::uint8_t* p, std::size_t n) {
                std::memcpy(buf.data() + off, p, n);
                off += n;
                return true;
            });
            data = Bytes(buf.data(), uio->uio_resid);
        }
        auto r = st.udp().sendto(st.now(), so->id, data, dst);
        if (!r) return udp::to_errno(r.error());
        uio->uio_resid = 0;
        return 0;
    });
}

struct RecvRound {
    std::size_t got = 0;
    bool eof = false;
    int out_flags = 0;
    Endpoint from;
};

// One round of a stream receive on the stack thread.
int tcp_recv_round(uinet_socket* so, uinet_uio* uio, std::size_t start, int flags, RecvRound& rr) {
    Stack& st = *so->inst->stack;
    TcpSockets& t = st.tcp();
    if (auto p = t.remote_endpoint(so->id)) rr.from = *p;
    if (so->rd_shut.load() || uio->uio_resid == 0) {
        rr.eof = so->rd_shut.load();
        return 0;
    }
    auto state = t.state(so->id);
    if (!state) return EBADF;
    const bool peek = (flags & UINET_MSG_PEEK) != 0;
    const std::size_t avail = t.readable_bytes(so->id);
    std::size_t want = std::min<std::size_t>(so->rcvlowat.load(), uio->uio_resid);
    if (peek && (flags & UINET_MSG_WAITALL)) want = uio->uio_resid;
    if (avail > 0 && avail < want && !input_done(*state)) return EAGAIN;
    const std::size_t skip = start - uio->uio_resid;
    if (peek) {
        auto& buf = so->inst->scratch;
        buf.resize(std::min(avail, uio->uio_resid));
        auto r = t.peek(st.now(), so->id, MutBytes(buf.data(), buf.size()));
        if (!r) return to_errno(r.error());
        if (*r == 0) rr.eof = true;
        scatter(*uio, skip, Bytes(buf.data(), *r));
        rr.got = *r;
        uio->uio_resid -= *r;
        return 0;
    }
    int err = 0;
    for_pieces(*uio, skip, uio->uio_resid, [&](std::uint8_t* p, std::size_t n) {
        auto r = t.recv(st.now(), so->id, MutBytes(p, n));
        if (!r) {
            err = to_errno(r.error());
            return false;
        }
        if (*r == 0) {
            rr.eof = true;
            return false;
        }
        rr.got += *r;
        return *r == n;
    });
    uio->uio_resid -= rr.got;
    if (rr.got == 0 && err != 0) return err;
    // A short read that emptied the buffer after the peer's FIN is the end
    // of the stream: say so now, as no event will announce it again.
    if (!rr.eof && t.readable_bytes(so->id) == 0)
        if (auto s = t.state(so->id); s && input_done(*s)) rr.eof = true;
    return 0;
}

// One datagram on the stack thread.
int udp_recv_round(uinet_socket* so, uinet_uio* uio, RecvRound& rr) {
    if (so->rd_shut.load()) {
        rr.eof = true;
        return 0;
    }
    Stack& st = *so->inst->stack;
    MutBytes dst;
    int pieces = 0;
    for_pieces(*uio, 0, uio->uio_resid, [&](std::uint8_t* p, std::size_t n) {
        dst = MutBytes(p, n);
        return ++pieces < 2;
    });
    const bool gather = pieces > 1;
    if (gather) {
        auto& buf = so->inst->scratch;
        buf.resize(std::min(uio->uio_resid, kMaxDatagram));
        dst = MutBytes(buf.data(), buf.size());
    }
    auto r = st.udp().recvfrom(so->id, dst);
    if (!r) return to_errno(r.error());
    if (gather) scatter(*uio, 0, Bytes(dst.data(), r->size));
    rr.got = r->size;
    rr.from = r->from;
    if (r->full_size > r->size) rr.out_flags |= UINET_MSG_TRUNC;
    uio->uio_resid -= r->size;
    return 0;
}

}  // namespace

extern "C" {

int uinet_sosend(struct uinet_socket* so, const struct uinet_sockaddr_in* to_or_null, struct uinet_uio* uio,
                 int flags) {
    if (!so) return EINVAL;
    if (int e = check_uio(uio)) return e;
    return guarded([&] {
        if (!so->is_tcp()) return udp_send(so, to_or_null, uio);
        const std::size_t start = uio->uio_resid;
        int e = blocking_loop(so, may_block(so, flags), deadline_after(so->sndtimeo_us.load()),
                              [&] { return tcp_send_round(so, uio, start); });
        if (e == EAGAIN && uio->uio_resid < start) return 0;
        return e;
    });
}

int uinet_soreceive(struct uinet_socket* so, struct uinet_sockaddr_in* from_or_null, struct uinet_uio* uio,
                    int* flagsp) {
    if (!so) return EINVAL;
    if (int e = check_uio(uio)) return e;
    const int flags = flagsp ? *flagsp : 0;
    if (flagsp) *flagsp = 0;
    if (!so->is_tcp() && (flags & UINET_MSG_PEEK)) return EOPNOTSUPP;
    return guarded([&] {
        const std::size_t start = uio->uio_resid;
        RecvRound rr;
        int e;
        if (so->is_tcp()) {
            const bool waitall = (flags & UINET_MSG_WAITALL) && !(flags & UINET_MSG_PEEK);
            e = blocking_loop(so, may_block(so, flags), deadline_after(so->rcvtimeo_us.load()), [&] {
                RecvRound round;
                int r = tcp_recv_round(so, uio, start, flags, round);
                rr.from = round.from;
                if (r == 0 && round.got == 0 && !round.eof && uio->uio_resid > 0) r = EAGAIN;
                if (r == 0 && waitall && !round.eof && uio->uio_resid > 0) r = EAGAIN;
                return r;
            });
            if (e != 0 && uio->uio_resid < start) e = 0;  // bytes first; the error comes next call
        } else {
            e = blocking_loop(so, may_block(so, flags), deadline_after(so->rcvtimeo_us.load()),
                              [&] { return udp_recv_round(so, uio, rr); });
        }
        if (e == 0) {
            if (from_or_null) from_endpoint(rr.from, from_or_null);
            if (flagsp) *flagsp = rr.out_flags;
        }
        return e;
    });
}

}  // extern "C"
