/* uinet/uinet.h — the C API of uinet.
 *
 * Contract:
 *  - Plain C (C11; also valid C++). Names follow libuinet's where they fit
 *    (uinet_socreate, uinet_soreceive, ...), with this project's types.
 *  - Every function returns 0 or a positive errno value (the host's errno
 *    numbers: UINET_EAGAIN == EAGAIN, ...) and never lets a C++ exception
 *    out. Two exceptions, marked where declared: uinet_instance_fd()
 *    returns a descriptor, uinet_sowait() a count.
 *  - An instance is one uinet stack with its own thread, started by
 *    uinet_instance_start(). Socket functions may be called from any
 *    thread: they run on the instance's thread and wait for it. Called on
 *    the instance's own thread (inside an upcall), a blocking socket's
 *    functions fail with UINET_EDEADLK; a socket made non-blocking with
 *    uinet_sosetnonblocking() runs them there directly and never waits.
 *  - Blocking sockets (the default) wait as BSD sockets do: accept until a
 *    connection is ready, connect until established or failed, receive
 *    until data (SO_RCVLOWAT bytes) or end of stream, send until all of
 *    the data is queued; SO_RCVTIMEO / SO_SNDTIMEO bound the wait
 *    (UINET_EAGAIN when nothing was transferred). A wait that cannot end
 *    because the instance stopped fails with UINET_ECANCELED.
 *  - Upcalls (uinet_sosetupcall) run on the instance's thread after each
 *    batch of input, with the UINET_POLL* events that happened. An upcall
 *    may close its own socket.
 *  - Addresses are BSD sockaddr_in, in network byte order.
 */
#ifndef UINET_UINET_H
#define UINET_UINET_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- types -------------------------------------------------------------- */

typedef struct uinet_instance uinet_instance_t; /* opaque */
struct uinet_socket;                            /* opaque */
typedef uint32_t uinet_if_t;                    /* interface index, >= 1 */

struct uinet_in_addr {
    uint32_t s_addr; /* network byte order */
};

struct uinet_sockaddr_in {
    uint8_t sin_len;    /* sizeof(struct uinet_sockaddr_in) */
    uint8_t sin_family; /* UINET_AF_INET */
    uint16_t sin_port;  /* network byte order */
    struct uinet_in_addr sin_addr;
    char sin_zero[8];
};

struct uinet_iovec {
    void* iov_base;
    size_t iov_len;
};

/* Scatter/gather: the first uio_resid bytes of the iovecs are used (set it
 * to the sum of iov_len). On return uio_resid holds the bytes not
 * transferred; the iovec array itself is left as it was. */
struct uinet_uio {
    struct uinet_iovec* uio_iov;
    int uio_iovcnt;
    size_t uio_resid;
};

struct uinet_linger {
    int l_onoff;
    int l_linger; /* seconds */
};

struct uinet_timeval {
    int64_t tv_sec;
    int64_t tv_usec;
};

/* TCP_INFO: a snapshot of one connection. */
struct uinet_tcp_info {
    uint8_t tcpi_state;      /* UINET_TCPS_* */
    uint8_t tcpi_options;    /* UINET_TCPI_OPT_* */
    uint8_t tcpi_snd_wscale;
    uint8_t tcpi_rcv_wscale;
    uint32_t tcpi_rto;       /* microseconds */
    uint32_t tcpi_rtt;       /* smoothed, microseconds */
    uint32_t tcpi_rttvar;    /* microseconds */
    uint32_t tcpi_snd_mss;
    uint32_t tcpi_rcv_mss;
    uint32_t tcpi_snd_cwnd;  /* bytes */
    uint32_t tcpi_snd_ssthresh;
    uint32_t tcpi_snd_wnd;   /* peer's advertised window, bytes */
    uint32_t tcpi_rcv_wnd;   /* our receive window, bytes */
    uint32_t tcpi_unacked;   /* bytes in flight */
    uint64_t tcpi_bytes_sent;
    uint64_t tcpi_bytes_received;
    uint64_t tcpi_segs_sent;
    uint64_t tcpi_segs_received;
    uint64_t tcpi_retransmits;
};

/* events: UINET_POLL* bits. Runs on the instance's thread. */
typedef void (*uinet_upcall_t)(struct uinet_socket* so, void* arg, int events);

struct uinet_instance_cfg {
    const char* name;          /* thread and log name */
    int blackhole;             /* nonzero: no RST / port unreachable for unclaimed traffic */
    uint32_t pool_buffers;     /* packet buffers in the instance's pool */
    uint32_t pool_buffer_size; /* bytes per buffer */
};

/* ---- constants ------------------------------------------------------------ */

#define UINET_AF_INET 2
#define UINET_SOCK_STREAM 1
#define UINET_SOCK_DGRAM 2
#define UINET_IPPROTO_TCP 6
#define UINET_IPPROTO_UDP 17
#define UINET_INADDR_ANY 0u

/* Option levels and names (FreeBSD's numbers). */
#define UINET_SOL_SOCKET 0xffff
#define UINET_SO_REUSEADDR 0x0004
#define UINET_SO_KEEPALIVE 0x0008
#define UINET_SO_LINGER 0x0080     /* struct uinet_linger; l_linger 0 = abortive close (RST) */
#define UINET_SO_REUSEPORT 0x0200
#define UINET_SO_SNDBUF 0x1001
#define UINET_SO_RCVBUF 0x1002
#define UINET_SO_SNDLOWAT 0x1003
#define UINET_SO_RCVLOWAT 0x1004
#define UINET_SO_SNDTIMEO 0x1005   /* struct uinet_timeval; zero = wait forever */
#define UINET_SO_RCVTIMEO 0x1006
#define UINET_SO_ERROR 0x1007      /* get only */
#define UINET_SO_TYPE 0x1008       /* get only */
#define UINET_SO_ACCEPTCONN 0x0002 /* get only */

#define UINET_TCP_NODELAY 0x01
#define UINET_TCP_MAXSEG 0x02
#define UINET_TCP_INFO 0x20        /* struct uinet_tcp_info, get only */
#define UINET_TCP_CONGESTION 13    /* algorithm name as a string: "newreno" or "cubic" */
#define UINET_TCP_KEEPIDLE 0x100   /* seconds */
#define UINET_TCP_KEEPINTVL 0x200  /* seconds */
#define UINET_TCP_KEEPCNT 0x400

/* Flags of uinet_sosend / uinet_soreceive. */
#define UINET_MSG_PEEK 0x2
#define UINET_MSG_TRUNC 0x10       /* out: the datagram was longer than the buffers */
#define UINET_MSG_WAITALL 0x40
#define UINET_MSG_DONTWAIT 0x80

#define UINET_SHUT_RD 0
#define UINET_SHUT_WR 1
#define UINET_SHUT_RDWR 2

/* uinet_sogetstate() bits. */
#define UINET_SS_ISCONNECTED 0x0002
#define UINET_SS_ISCONNECTING 0x0004
#define UINET_SS_ISDISCONNECTING 0x0008
#define UINET_SS_NBIO 0x0100
#define UINET_SS_ISDISCONNECTED 0x2000
#define UINET_SS_CANTSENDMORE 0x10000
#define UINET_SS_CANTRCVMORE 0x20000
#define UINET_SS_ACCEPTCONN 0x40000 /* listening */

/* Events (upcalls, uinet_sowait). */
#define UINET_POLLIN 0x0001
#define UINET_POLLOUT 0x0004
#define UINET_POLLERR 0x0008
#define UINET_POLLHUP 0x0010

/* TCP states in struct uinet_tcp_info (FreeBSD's numbers). */
#define UINET_TCPS_CLOSED 0
#define UINET_TCPS_LISTEN 1
#define UINET_TCPS_SYN_SENT 2
#define UINET_TCPS_SYN_RECEIVED 3
#define UINET_TCPS_ESTABLISHED 4
#define UINET_TCPS_CLOSE_WAIT 5
#define UINET_TCPS_FIN_WAIT_1 6
#define UINET_TCPS_CLOSING 7
#define UINET_TCPS_LAST_ACK 8
#define UINET_TCPS_FIN_WAIT_2 9
#define UINET_TCPS_TIME_WAIT 10

#define UINET_TCPI_OPT_TIMESTAMPS 0x01
#define UINET_TCPI_OPT_SACK 0x02
#define UINET_TCPI_OPT_WSCALE 0x04

/* Error values: the host's errno numbers. */
#define UINET_EAGAIN EAGAIN
#define UINET_EWOULDBLOCK EAGAIN
#define UINET_EINPROGRESS EINPROGRESS
#define UINET_EALREADY EALREADY
#define UINET_EDEADLK EDEADLK
#define UINET_ECANCELED ECANCELED
#define UINET_EINVAL EINVAL
#define UINET_EBADF EBADF
#define UINET_ENOMEM ENOMEM
#define UINET_ENOBUFS ENOBUFS
#define UINET_EMFILE EMFILE
#define UINET_ENOTCONN ENOTCONN
#define UINET_EISCONN EISCONN
#define UINET_EPIPE EPIPE
#define UINET_ECONNRESET ECONNRESET
#define UINET_ECONNREFUSED ECONNREFUSED
#define UINET_ETIMEDOUT ETIMEDOUT
#define UINET_EADDRINUSE EADDRINUSE
#define UINET_EADDRNOTAVAIL EADDRNOTAVAIL
#define UINET_ENETUNREACH ENETUNREACH
#define UINET_EMSGSIZE EMSGSIZE
#define UINET_EDESTADDRREQ EDESTADDRREQ
#define UINET_ENOPROTOOPT ENOPROTOOPT
#define UINET_EOPNOTSUPP EOPNOTSUPP
#define UINET_EAFNOSUPPORT EAFNOSUPPORT
#define UINET_EPROTONOSUPPORT EPROTONOSUPPORT
#define UINET_EPROTOTYPE EPROTOTYPE
#define UINET_ENXIO ENXIO
#define UINET_EPERM EPERM
#define UINET_ENOENT ENOENT

/* ---- instances ------------------------------------------------------------ */

void uinet_instance_default_cfg(struct uinet_instance_cfg* cfg);
/* A new instance on the POSIX host (real clock, kernel randomness). */
int uinet_instance_create(const struct uinet_instance_cfg* cfg, uinet_instance_t** out);
/* Stops the instance if it runs and frees it with every socket still open
 * on it. No thread may be inside a call on it or its sockets. */
int uinet_instance_destroy(uinet_instance_t* inst);
/* Starts the thread that drives the instance; returns once it runs.
 * UINET_EALREADY if it already runs. */
int uinet_instance_start(uinet_instance_t* inst);
/* Stops that thread and waits for it; blocked calls end with UINET_ECANCELED. */
int uinet_instance_stop(uinet_instance_t* inst);
/* The instance's pollable descriptor (readable when it has work). Returns
 * the descriptor, not an error value; -1 for a null instance. */
int uinet_instance_fd(uinet_instance_t* inst);

/* A TAP interface (created if missing; needs CAP_NET_ADMIN). mac may be
 * NULL (a random locally administered address); cidr is "a.b.c.d/len". */
int uinet_if_create_tap(uinet_instance_t* inst, const char* tap_name, const char* mac_or_null, const char* cidr,
                        uinet_if_t* out);
/* Two instances joined by an in-memory Ethernet link; each end gets a
 * random locally administered MAC and the given address. */
int uinet_memlink_create(uinet_instance_t* inst_a, const char* cidr_a, uinet_instance_t* inst_b, const char* cidr_b);
/* A route to cidr via gateway (on the interface whose subnet holds it). */
int uinet_add_route(uinet_instance_t* inst, const char* cidr, const char* gateway);

/* Text <-> address helpers. */
int uinet_inet_pton(const char* src, struct uinet_in_addr* dst);
int uinet_inet_ntop(const struct uinet_in_addr* src, char* dst, size_t size); /* ENOSPC if size < 16 */
/* Fills a sockaddr_in from dotted text (NULL = any) and a host-order port. */
int uinet_sockaddr_in_set(struct uinet_sockaddr_in* sin, const char* ip_or_null, uint16_t port);

/* ---- sockets ---------------------------------------------------------------- */

/* dom: UINET_AF_INET; type: UINET_SOCK_STREAM or UINET_SOCK_DGRAM; proto: 0
 * or the matching UINET_IPPROTO_*. The socket is blocking. */
int uinet_socreate(uinet_instance_t* inst, int dom, struct uinet_socket** aso, int type, int proto);
int uinet_sobind(struct uinet_socket* so, const struct uinet_sockaddr_in* nam);
int uinet_solisten(struct uinet_socket* so, int backlog);
/* The new socket inherits the listener's options, upcall excepted, and its
 * non-blocking mode (as FreeBSD). peer_or_null receives the peer's address. */
int uinet_soaccept(struct uinet_socket* listener, struct uinet_sockaddr_in* peer_or_null, struct uinet_socket** aso);
/* Non-blocking: UINET_EINPROGRESS, then UINET_POLLOUT (or POLLERR) when done.
 * Datagram sockets: sets the default destination. */
int uinet_soconnect(struct uinet_socket* so, const struct uinet_sockaddr_in* nam);
/* Sends uio's bytes (one datagram for UINET_SOCK_DGRAM, to `to` or to the
 * connected peer; `to` is ignored on stream sockets). */
int uinet_sosend(struct uinet_socket* so, const struct uinet_sockaddr_in* to_or_null, struct uinet_uio* uio, int flags);
/* Receives into uio. *flagsp (may be NULL): in, UINET_MSG_*; out,
 * UINET_MSG_TRUNC for a truncated datagram. End of stream: 0 with nothing
 * transferred. from_or_null: the sender (datagrams) or the peer (streams). */
int uinet_soreceive(struct uinet_socket* so, struct uinet_sockaddr_in* from_or_null, struct uinet_uio* uio,
                    int* flagsp);
int uinet_soshutdown(struct uinet_socket* so, int how);
/* Frees the socket. SO_LINGER on with l_linger 0: RST at once. With
 * l_linger > 0 on a blocking socket: waits until the FIN is acknowledged or
 * l_linger seconds pass (the close then goes on in the background). */
int uinet_soclose(struct uinet_socket* so);

int uinet_sosetsockopt(struct uinet_socket* so, int level, int optname, const void* optval, unsigned int optlen);
int uinet_sogetsockopt(struct uinet_socket* so, int level, int optname, void* optval, unsigned int* optlen);
int uinet_sogetsockaddr(struct uinet_socket* so, struct uinet_sockaddr_in* out);
int uinet_sogetpeeraddr(struct uinet_socket* so, struct uinet_sockaddr_in* out); /* ENOTCONN if none */
/* UINET_SS_* bits in *state. */
int uinet_sogetstate(struct uinet_socket* so, int* state);
/* SO_ERROR: the connection's pending error (0 = none), as libuinet. */
int uinet_sogeterror(struct uinet_socket* so);
uinet_instance_t* uinet_sogetinstance(struct uinet_socket* so);

/* Non-blocking mode (any thread, also inside an upcall). */
int uinet_sosetnonblocking(struct uinet_socket* so, int nonblocking);
/* Sets (fn != NULL) or clears the socket's upcall. */
int uinet_sosetupcall(struct uinet_socket* so, uinet_upcall_t fn, void* arg);

/* Waits, from a thread that drives none of the sockets' instances, until
 * one of the sockets is ready or timeout_ms passes (-1: no limit, 0: just
 * look). events[i] on entry: the UINET_POLLIN/POLLOUT bits wanted for
 * socks[i]; on return: the bits ready (POLLERR and POLLHUP always
 * reported). Returns the number of ready sockets (0 on timeout), or a
 * NEGATIVE errno value: -UINET_EINVAL, -UINET_EDEADLK (on an instance's
 * thread with a timeout), -UINET_ECANCELED (an instance stopped). */
int uinet_sowait(struct uinet_socket** socks, int n, int* events, int timeout_ms);

/* ---- transparent proxying ---------------------------------------------------
 *
 * libuinet's features for transparent proxies (docs/c-api.md, "Transparent
 * proxying"): promiscuous sockets that bind and accept any address and
 * port, a per-socket transmit interface, per-connection L2 information
 * (MACs and VLAN tag stack), and SYN filters whose verdict may be deferred.
 * SYNs to addresses that are not the instance's reach it only on
 * promiscuous interfaces (uinet_if_set_promisc). */

#define UINET_IN_L2INFO_ADDR_MAX 6
#define UINET_IN_L2INFO_MAX_TAGS 16
/* inl2i_flags: on uinet_setl2info(), accept SYNs with any tag stack (the
 * tags given restrict nothing). */
#define UINET_INL2I_TAG_ANY 0x01

/* A VLAN tag stack, outermost first. Each tag is (TPID << 16) | TCI in host
 * byte order: 0x81000064 is an 802.1Q C-tag with VID 100, 0x88a800c8 an
 * 802.1ad S-tag with VID 200. */
struct uinet_in_l2tagstack {
    uint16_t inl2t_cnt;
    uint32_t inl2t_tags[UINET_IN_L2INFO_MAX_TAGS];
};

/* A connection's L2 information from this side: local = the MAC we send
 * from (for an accepted connection, the destination MAC of its SYN),
 * foreign = the peer's MAC. */
struct uinet_in_l2info {
    uint8_t inl2i_local_addr[UINET_IN_L2INFO_ADDR_MAX];
    uint8_t inl2i_foreign_addr[UINET_IN_L2INFO_ADDR_MAX];
    uint16_t inl2i_flags; /* UINET_INL2I_* */
    struct uinet_in_l2tagstack inl2i_tagstack;
};

/* Addresses and ports in network byte order. */
struct uinet_in_conninfo {
    struct uinet_in_addr inc_laddr; /* the address the peer dialled */
    uint16_t inc_lport;
    struct uinet_in_addr inc_faddr;
    uint16_t inc_fport;
};

/* SYN filter verdicts. */
#define UINET_SYNF_ACCEPT 0
#define UINET_SYNF_REJECT_RST 1    /* RST, ACK = the peer's ISN + 1 */
#define UINET_SYNF_REJECT_SILENT 2 /* nothing is sent, no state is kept */
#define UINET_SYNF_DEFER 3         /* decide later: uinet_synfilter_deferral_deliver() */
#define UINET_SYNF_ACCEPT_PASSIVE 4 /* inline position: watch it (passed on, a passive pair) */

typedef uint64_t uinet_synf_deferral_t; /* opaque; 0 = none */

/* What a SYN filter sees of a new SYN. */
struct uinet_synf_info {
    struct uinet_in_conninfo inc;
    struct uinet_in_l2info l2i;
    uinet_if_t ifindex;      /* the interface it arrived on */
    uint32_t irs;            /* the peer's ISN */
    uint16_t window;
    uint16_t mss;            /* MSS option; 0 = absent */
    int16_t wscale;          /* window scale option; -1 = absent */
    uint8_t sack_permitted;
    uint8_t has_timestamps;
    uint32_t tsval, tsecr;   /* if has_timestamps */
    /* The handle this SYN waits under if the filter returns
     * UINET_SYNF_DEFER; 0 when the listener already holds max_deferred
     * SYNs (DEFER then means the configured overflow verdict). */
    uinet_synf_deferral_t deferral;
};

/* Runs on the instance's thread for each new SYN to the listener, before
 * any connection state exists; returns a UINET_SYNF_* verdict (any other
 * value counts as UINET_SYNF_REJECT_SILENT). It must not close the
 * listener's socket. */
typedef int (*uinet_synfilter_callback_t)(struct uinet_socket* listener, void* arg,
                                          const struct uinet_synf_info* info);

/* Bounds of deferral, per listener. */
struct uinet_synf_cfg {
    uint32_t max_deferred;  /* SYNs waiting for a verdict at once */
    int overflow_verdict;   /* for DEFER beyond max_deferred (not DEFER) */
    uint32_t timeout_ms;    /* a deferral's lifetime (> 0) */
    int timeout_verdict;    /* applied when it runs out (not DEFER) */
};

/* Marks a socket promiscuous, before bind: it may then bind any address,
 * local or not, and any port (port 0: every port). Listening, it accepts
 * SYNs to that address and port, and its connections answer as the host
 * the peer dialled (the SYN's MACs swapped, its tags, its interface).
 * txif, if not 0, is the socket's transmit interface (uinet_sosettxif). */
int uinet_make_socket_promiscuous(struct uinet_socket* so, uinet_if_t txif);
/* Sends the socket's segments by this interface, bypassing routing (0:
 * routing again). */
int uinet_sosettxif(struct uinet_socket* so, uinet_if_t txif);
/* The connection's L2 info: its SYN's (accepted sockets) or what was set.
 * UINET_ENOENT if there is none. */
int uinet_getl2info(struct uinet_socket* so, struct uinet_in_l2info* l2i);
/* Before connect: every segment leaves with exactly these MACs and tags,
 * without ARP. Before or after listen: the listener takes only SYNs with
 * this tag stack, unless UINET_INL2I_TAG_ANY (a listener only needs the tag
 * stack; MACs of all zeros set nothing for connect). */
int uinet_setl2info(struct uinet_socket* so, const struct uinet_in_l2info* l2i);

/* Installs (callback != NULL) or removes the listener's SYN filter. */
int uinet_synfilter_install(struct uinet_socket* so, uinet_synfilter_callback_t callback, void* arg);
void uinet_synfilter_default_cfg(struct uinet_synf_cfg* cfg); /* 256, SILENT, 10000 ms, SILENT */
/* Sets the listener's deferral bounds (applies to the installed filter
 * and any installed later). */
int uinet_synfilter_setcfg(struct uinet_socket* so, const struct uinet_synf_cfg* cfg);
/* The verdict (ACCEPT, REJECT_RST or REJECT_SILENT) on a deferred SYN,
 * from any thread, including inside upcalls and filters. so is any socket
 * of the instance (usually the listener). UINET_ENOENT if the handle is
 * stale (decided, timed out, or its listener closed). */
int uinet_synfilter_deferral_deliver(struct uinet_socket* so, uinet_synf_deferral_t deferral, int verdict);

/* Interfaces are numbered 1, 2, ... in the order they were created. A
 * promiscuous interface accepts frames for any MAC, any tag stack and any
 * IP address. */
int uinet_if_set_promisc(uinet_instance_t* inst, uinet_if_t ifidx, int promisc);

/* First look: a handler that sees every frame an interface receives, whole
 * (Ethernet header and VLAN tags included), before the stack does, on the
 * instance's thread, and answers what becomes of it:
 *   UINET_FIRST_LOOK_TAKE   the stack processes it as usual;
 *   UINET_FIRST_LOOK_DROP   it is discarded (counted: rx_first_look_dropped);
 *   UINET_FIRST_LOOK_BRIDGE it leaves unchanged on interface *bridge_to
 *                           (counted: bridged_frames; bridge_errors for an
 *                           unknown interface, the receiving one, or a frame
 *                           too long for it).
 *   UINET_FIRST_LOOK_OBSERVE bridged as BRIDGE, and a copy is watched by the
 *                           stack's passive listeners only: nothing is ever
 *                           answered for it (counted: observed_frames).
 * The handler must not call into the instance. A NULL handler removes it.
 * ENXIO: no such interface. */
#define UINET_FIRST_LOOK_TAKE 0
#define UINET_FIRST_LOOK_DROP 1
#define UINET_FIRST_LOOK_BRIDGE 2
#define UINET_FIRST_LOOK_OBSERVE 3
typedef int (*uinet_first_look_t)(void* arg, uinet_if_t ifidx, const uint8_t* frame, size_t len,
                                  uinet_if_t* bridge_to);
int uinet_if_set_first_look(uinet_instance_t* inst, uinet_if_t ifidx, uinet_first_look_t fn, void* arg);

#ifdef __cplusplus
}
#endif

#endif /* UINET_UINET_H */
