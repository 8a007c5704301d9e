// capi/sockopt.cpp — C API: uinet_sosetsockopt() and uinet_sogetsockopt().
//
// Contract: see include/uinet/uinet.h. Integer options take an int (optlen
// at least sizeof(int)); SO_LINGER a struct uinet_linger; SO_RCVTIMEO and
// SO_SNDTIMEO a struct uinet_timeval; TCP_INFO fills a struct
// uinet_tcp_info. Unknown options: ENOPROTOOPT; read-only ones set:
// ENOPROTOOPT; values out of range: EINVAL.
//  * The TCB keeps the TCP options but has no getters for all of them, so
//    each socket mirrors the values set (starting from the stack's TcpConfig)
//    and getsockopt() answers from the mirror; TCP_MAXSEG on a connection
//    answers the MSS in use.
//  * The keepalive options are handed to the TCB together (enable, idle,
//    interval, count), so setting one never resets the others.
#include <cstring>
#include <limits>

#include "capi/capi.hpp"

using namespace uinet;
using namespace uinet::capi;
using tcp::TcpState;

namespace {

int get_int(const void* v, unsigned int len, int* out) {
    if (!v || len < sizeof(int)) return EINVAL;
    std::memcpy(out, v, sizeof(int));
    return 0;
}

int put_int(void* v, unsigned int* len, int x) {
    if (!v || !len || *len < sizeof(int)) return EINVAL;
    std::memcpy(v, &x, sizeof(int));
    *len = sizeof(int);
    return 0;
}

std::uint8_t tcps(TcpState s) {
    switch (s) {
        case TcpState::closed: return UINET_TCPS_CLOSED;
        case TcpState::listen: return UINET_TCPS_LISTEN;
        case TcpState::syn_sent: return UINET_TCPS_SYN_SENT;
        case TcpState::syn_received: return UINET_TCPS_SYN_RECEIVED;
        case TcpState::established: return UINET_TCPS_ESTABLISHED;
        case TcpState::close_wait: return UINET_TCPS_CLOSE_WAIT;
        case TcpState::fin_wait_1: return UINET_TCPS_FIN_WAIT_1;
        case TcpState::closing: return UINET_TCPS_CLOSING;
        case TcpState::last_ack: return UINET_TCPS_LAST_ACK;
        case TcpState::fin_wait_2: return UINET_TCPS_FIN_WAIT_2;
        case TcpState::time_wait: return UINET_TCPS_TIME_WAIT;
    }
    return UINET_TCPS_CLOSED;
}

std::uint32_t micros32(Duration d) {
    const std::int64_t us = d.ns() / 1000;
    if (us < 0) return 0;
    return us > std::numeric_limits<std::uint32_t>::max() ? std::numeric_limits<std::uint32_t>::max()
                                                          : static_cast<std::uint32_t>(us);
}

void fill_info(const tcp::TcpInfo& i, uinet_tcp_info* o) {
    std::memset(o, 0, sizeof *o);
    o->tcpi_state = tcps(i.state);
    o->tcpi_options = static_cast<std::uint8_t>((i.timestamps ? UINET_TCPI_OPT_TIMESTAMPS : 0) |
                                                (i.sack ? UINET_TCPI_OPT_SACK : 0) |
                                                (i.window_scaling ? UINET_TCPI_OPT_WSCALE : 0));
    o->tcpi_snd_wscale = i.snd_wscale;
    o->tcpi_rcv_wscale = i.rcv_wscale;
    o->tcpi_rto = micros32(i.rto);
    o->tcpi_rtt = micros32(i.rtt);
    o->tcpi_rttvar = micros32(i.rttvar);
    o->tcpi_snd_mss = i.snd_mss;
    o->tcpi_rcv_mss = i.rcv_mss;
    o->tcpi_snd_cwnd = i.cwnd;
    o->tcpi_snd_ssthresh = i.ssthresh;
    o->tcpi_snd_wnd = i.snd_wnd;
    o->tcpi_rcv_wnd = i.rcv_wnd;
    o->tcpi_unacked = i.unacked;
    o->tcpi_bytes_sent = i.bytes_out;
    o->tcpi_bytes_received = i.bytes_in;
    o->tcpi_segs_sent = i.segs_out;
    o->tcpi_segs_received = i.segs_in;
    o->tcpi_retransmits = i.retransmits;
}

// Hands the keepalive mirrors to the TCB (stack thread).
void push_keepalive(uinet_socket* so) {
    TcpOptions o;
    o.keepalive = so->keepalive.load();
    o.keep_idle = Duration::seconds(so->keep_idle_s.load());
    o.keep_intvl = Duration::seconds(so->keep_intvl_s.load());
    o.keep_cnt = so->keep_cnt.load();
    so->inst->stack->tcp().set_options(so->id, o);
}

int set_socket_level(uinet_socket* so, int name, const void* v, unsigned int len) {
    Stack& st = *so->inst->stack;
    int x = 0;
    switch (name) {
        case UINET_SO_REUSEADDR:
        case UINET_SO_REUSEPORT:
        case UINET_SO_KEEPALIVE:
            if (int e = get_int(v, len, &x)) return e;
            if (name == UINET_SO_REUSEADDR) so->reuseaddr = x != 0;
            if (name == UINET_SO_REUSEPORT) so->reuseport = x != 0;
            if (name == UINET_SO_KEEPALIVE) {
                so->keepalive = x != 0;
                if (so->is_tcp()) push_keepalive(so);
            }
            return 0;
        case UINET_SO_LINGER: {
            if (!v || len < sizeof(uinet_linger)) return EINVAL;
            uinet_linger l;
            std::memcpy(&l, v, sizeof l);
            if (l.l_linger < 0) return EINVAL;
            so->linger_on = l.l_onoff != 0;
            so->linger_secs = l.l_linger;
            return 0;
        }
        case UINET_SO_SNDBUF:
        case UINET_SO_RCVBUF: {
            if (int e = get_int(v, len, &x)) return e;
            if (x <= 0) return EINVAL;
            const auto n = static_cast<std::size_t>(x);
            if (so->is_tcp()) {
                TcpOptions o;
                if (name == UINET_SO_SNDBUF)
                    o.sndbuf = n;
                else
                    o.rcvbuf = n;
                if (!st.tcp().set_options(so->id, o)) return EBADF;
            } else if (name == UINET_SO_RCVBUF) {
                if (!st.udp().set_rcvbuf(so->id, n)) return EBADF;
            }
            (name == UINET_SO_SNDBUF ? so->sndbuf : so->rcvbuf) = static_cast<std::uint32_t>(x);
            return 0;
        }
        case UINET_SO_RCVLOWAT:
        case UINET_SO_SNDLOWAT:
            if (int e = get_int(v, len, &x)) return e;
            if (x < 0) return EINVAL;
            (name == UINET_SO_RCVLOWAT ? so->rcvlowat : so->sndlowat) = static_cast<std::uint32_t>(x == 0 ? 1 : x);
            return 0;
        case UINET_SO_RCVTIMEO:
        case UINET_SO_SNDTIMEO: {
            if (!v || len < sizeof(uinet_timeval)) return EINVAL;
            uinet_timeval tv;
            std::memcpy(&tv, v, sizeof tv);
            if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1'000'000 ||
                tv.tv_sec > std::numeric_limits<std::int64_t>::max() / 1'000'000 - 1)
                return EINVAL;
            (name == UINET_SO_RCVTIMEO ? so->rcvtimeo_us : so->sndtimeo_us) = tv.tv_sec * 1'000'000 + tv.tv_usec;
            return 0;
        }
        default: return ENOPROTOOPT;
    }
}

int set_tcp_level(uinet_socket* so, int name, const void* v, unsigned int len) {
    if (!so->is_tcp()) return ENOPROTOOPT;
    Stack& st = *so->inst->stack;
    int x = 0;
    if (name == UINET_TCP_INFO) return ENOPROTOOPT;
    if (name == UINET_TCP_CONGESTION) {
        // As Linux: the name, not necessarily NUL-terminated within optlen.
        if (!v || len == 0 || len > 16) return EINVAL;
        const char* p = static_cast<const char*>(v);
        std::string_view want(p, strnlen(p, len));
        if (!st.tcp().state(so->id)) return EBADF;
        return st.tcp().set_congestion_control(so->id, want) ? 0 : ENOENT;
    }
    if (int e = get_int(v, len, &x)) return e;
    TcpOptions o;
    switch (name) {
        case UINET_TCP_NODELAY:
            o.nodelay = x != 0;
            if (!st.tcp().set_options(so->id, o)) return EBADF;
            so->nodelay = x != 0;
            return 0;
        case UINET_TCP_MAXSEG:
            if (x < 64 || x > 65495) return EINVAL;
            o.maxseg = static_cast<std::uint16_t>(x);
            if (!st.tcp().set_options(so->id, o)) return EBADF;
            so->maxseg = static_cast<std::uint32_t>(x);
            return 0;
        case UINET_TCP_KEEPIDLE:
        case UINET_TCP_KEEPINTVL:
        case UINET_TCP_KEEPCNT:
            if (x < 1) return EINVAL;
            if (name == UINET_TCP_KEEPIDLE) so->keep_idle_s = static_cast<std::uint32_t>(x);
            if (name == UINET_TCP_KEEPINTVL) so->keep_intvl_s = static_cast<std::uint32_t>(x);
            if (name == UINET_TCP_KEEPCNT) so->keep_cnt = static_cast<std::uint32_t>(x);
            push_keepalive(so);
            return 0;
        default: return ENOPROTOOPT;
    }
}

int get_socket_level(uinet_socket* so, int name, void* v, unsigned int* len) {
    Stack& st = *so->inst->stack;
    switch (name) {
        case UINET_SO_REUSEADDR: return put_int(v, len, so->reuseaddr.load());
        case UINET_SO_REUSEPORT: return put_int(v, len, so->reuseport.load());
        case UINET_SO_KEEPALIVE: return put_int(v, len, so->keepalive.load());
        case UINET_SO_LINGER: {
            if (!v || !len || *len < sizeof(uinet_linger)) return EINVAL;
            uinet_linger l{so->linger_on.load() ? 1 : 0, so->linger_secs.load()};
            std::memcpy(v, &l, sizeof l);
            *len = sizeof l;
            return 0;
        }
        case UINET_SO_SNDBUF: return put_int(v, len, static_cast<int>(so->sndbuf.load()));
        case UINET_SO_RCVBUF: return put_int(v, len, static_cast<int>(so->rcvbuf.load()));
        case UINET_SO_RCVLOWAT: return put_int(v, len, static_cast<int>(so->rcvlowat.load()));
        case UINET_SO_SNDLOWAT: return put_int(v, len, static_cast<int>(so->sndlowat.load()));
        case UINET_SO_RCVTIMEO:
        case UINET_SO_SNDTIMEO: {
            if (!v || !len || *len < sizeof(uinet_timeval)) return EINVAL;
            const std::int64_t us = (name == UINET_SO_RCVTIMEO ? so->rcvtimeo_us : so->sndtimeo_us).load();
            uinet_timeval tv{us / 1'000'000, us % 1'000'000};
            std::memcpy(v, &tv, sizeof tv);
            *len = sizeof tv;
            return 0;
        }
        case UINET_SO_ERROR: return put_int(v, len, so->is_tcp() ? st.tcp().error(so->id) : 0);
        case UINET_SO_TYPE: return put_int(v, len, so->type);
        case UINET_SO_ACCEPTCONN: {
            auto s = so->is_tcp() ? st.tcp().state(so->id) : std::nullopt;
            return put_int(v, len, s && *s == TcpState::listen);
        }
        default: return ENOPROTOOPT;
    }
}

int get_tcp_level(uinet_socket* so, int name, void* v, unsigned int* len) {
    if (!so->is_tcp()) return ENOPROTOOPT;
    Stack& st = *so->inst->stack;
    switch (name) {
        case UINET_TCP_NODELAY: return put_int(v, len, so->nodelay.load());
        case UINET_TCP_MAXSEG: {
            auto s = st.tcp().state(so->id);
            if (!s) return EBADF;
            const bool connected = *s != TcpState::closed && *s != TcpState::listen && *s != TcpState::syn_sent;
            int mss = so->maxseg.load() != 0 ? static_cast<int>(so->maxseg.load()) : st.tcp_layer().config().default_mss;
            if (connected)
                if (auto i = st.tcp().info(so->id)) mss = static_cast<int>(i->snd_mss);
            return put_int(v, len, mss);
        }
        case UINET_TCP_KEEPIDLE: return put_int(v, len, static_cast<int>(so->keep_idle_s.load()));
        case UINET_TCP_KEEPINTVL: return put_int(v, len, static_cast<int>(so->keep_intvl_s.load()));
        case UINET_TCP_KEEPCNT: return put_int(v, len, static_cast<int>(so->keep_cnt.load()));
        case UINET_TCP_CONGESTION: {
            const char* n = st.tcp().congestion_control(so->id);
            if (!n) return EBADF;
            if (!v || !len || *len == 0) return EINVAL;
            const std::size_t k = std::min<std::size_t>(std::strlen(n) + 1, *len);
            std::memcpy(v, n, k);
            static_cast<char*>(v)[k - 1] = '\0';
            *len = static_cast<unsigned int>(k);
            return 0;
        }
        case UINET_TCP_INFO: {
            if (!v || !len || *len < sizeof(uinet_tcp_info)) return EINVAL;
            auto i = st.tcp().info(so->id);
            if (!i) return EBADF;
            uinet_tcp_info out;
            fill_info(*i, &out);
            std::memcpy(v, &out, sizeof out);
            *len = sizeof out;
            return 0;
        }
        default: return ENOPROTOOPT;
    }
}

}  // namespace

extern "C" {

int uinet_sosetsockopt(struct uinet_socket* so, int level, int optname, const void* optval, unsigned int optlen) {
    if (!so) return EINVAL;
    if (level != UINET_SOL_SOCKET && level != UINET_IPPROTO_TCP) return ENOPROTOOPT;
    return run_socket_op(so, [&] {
        return level == UINET_SOL_SOCKET ? set_socket_level(so, optname, optval, optlen)
                                         : set_tcp_level(so, optname, optval, optlen);
    });
}

int uinet_sogetsockopt(struct uinet_socket* so, int level, int optname, void* optval, unsigned int* optlen) {
    if (!so) return EINVAL;
    if (level != UINET_SOL_SOCKET && level != UINET_IPPROTO_TCP) return ENOPROTOOPT;
    return run_socket_op(so, [&] {
        return level == UINET_SOL_SOCKET ? get_socket_level(so, optname, optval, optlen)
                                         : get_tcp_level(so, optname, optval, optlen);
    });
}

}  // extern "C"
