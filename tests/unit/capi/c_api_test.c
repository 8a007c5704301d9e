/* tests/unit/capi/c_api_test.c — the C API used from plain C (C11,
 * -Wall -Wextra -Wpedantic -Werror): proves uinet.h is a C header and that
 * a C program can run two instances, exchange a UDP datagram and a TCP
 * stream between them, and tear everything down. */
#include <stdio.h>
#include <string.h>

#include "uinet/uinet.h"

static int failures = 0;
static int checks = 0;

#define CHECK(cond)                                                       \
    do {                                                                  \
        ++checks;                                                         \
        if (!(cond)) {                                                    \
            ++failures;                                                   \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                 \
    } while (0)

/* A SYN filter in C: accepts what it is shown (the transparent-proxy API
 * compiles and links as plain C). */
static int accept_all(struct uinet_socket* listener, void* arg, const struct uinet_synf_info* info) {
    (void)listener;
    *(int*)arg += info->mss == 1460 ? 1 : 100;
    return UINET_SYNF_ACCEPT;
}

static int send_bytes(struct uinet_socket* so, const struct uinet_sockaddr_in* to, const char* s, size_t n) {
    struct uinet_iovec v;
    struct uinet_uio u;
    v.iov_base = (void*)s;
    v.iov_len = n;
    u.uio_iov = &v;
    u.uio_iovcnt = 1;
    u.uio_resid = n;
    return uinet_sosend(so, to, &u, 0);
}

static int recv_bytes(struct uinet_socket* so, struct uinet_sockaddr_in* from, char* buf, size_t n, int flags,
                      size_t* got) {
    struct uinet_iovec v;
    struct uinet_uio u;
    int e;
    v.iov_base = buf;
    v.iov_len = n;
    u.uio_iov = &v;
    u.uio_iovcnt = 1;
    u.uio_resid = n;
    e = uinet_soreceive(so, from, &u, &flags);
    *got = n - u.uio_resid;
    return e;
}

int main(void) {
    struct uinet_instance_cfg cfg;
    uinet_instance_t *a = NULL, *b = NULL;
    struct uinet_socket *ua = NULL, *ub = NULL, *lst = NULL, *cli = NULL, *srv = NULL;
    struct uinet_sockaddr_in addr, from;
    struct uinet_tcp_info info;
    unsigned int len;
    char buf[64];
    size_t got = 0;
    int ev, one = 1, state = 0, filtered = 0;
    struct uinet_in_l2info l2;

    uinet_instance_default_cfg(&cfg);
    cfg.pool_buffers = 1024;
    cfg.name = "c-a";
    CHECK(uinet_instance_create(&cfg, &a) == 0);
    cfg.name = "c-b";
    CHECK(uinet_instance_create(&cfg, &b) == 0);
    CHECK(uinet_memlink_create(a, "198.18.0.1/24", b, "198.18.0.2/24") == 0);
    CHECK(uinet_instance_start(a) == 0);
    CHECK(uinet_instance_start(b) == 0);

    /* UDP: a -> b:7, received with the sender's address. */
    CHECK(uinet_socreate(a, UINET_AF_INET, &ua, UINET_SOCK_DGRAM, 0) == 0);
    CHECK(uinet_socreate(b, UINET_AF_INET, &ub, UINET_SOCK_DGRAM, 0) == 0);
    CHECK(uinet_sockaddr_in_set(&addr, NULL, 7) == 0);
    CHECK(uinet_sobind(ub, &addr) == 0);
    CHECK(uinet_sockaddr_in_set(&addr, "198.18.0.2", 7) == 0);
    CHECK(send_bytes(ua, &addr, "datagram", 8) == 0);
    CHECK(recv_bytes(ub, &from, buf, sizeof buf, 0, &got) == 0);
    CHECK(got == 8 && memcmp(buf, "datagram", 8) == 0);
    CHECK(uinet_inet_ntop(&from.sin_addr, buf, sizeof buf) == 0 && strcmp(buf, "198.18.0.1") == 0);
    CHECK(from.sin_family == UINET_AF_INET);

    /* TCP: non-blocking connect, blocking accept, data, orderly close. */
    CHECK(uinet_socreate(b, UINET_AF_INET, &lst, UINET_SOCK_STREAM, UINET_IPPROTO_TCP) == 0);
    CHECK(uinet_sosetsockopt(lst, UINET_SOL_SOCKET, UINET_SO_REUSEADDR, &one, sizeof one) == 0);
    CHECK(uinet_sockaddr_in_set(&addr, "198.18.0.2", 80) == 0);
    CHECK(uinet_sobind(lst, &addr) == 0);
    CHECK(uinet_solisten(lst, 4) == 0);
    CHECK(uinet_synfilter_install(lst, accept_all, &filtered) == 0);
    CHECK(uinet_socreate(a, UINET_AF_INET, &cli, UINET_SOCK_STREAM, 0) == 0);
    CHECK(uinet_sosetnonblocking(cli, 1) == 0);
    CHECK(uinet_soconnect(cli, &addr) == UINET_EINPROGRESS);
    CHECK(uinet_soaccept(lst, &from, &srv) == 0);
    ev = UINET_POLLOUT;
    CHECK(uinet_sowait(&cli, 1, &ev, -1) == 1 && ev == UINET_POLLOUT);
    CHECK(send_bytes(cli, NULL, "hello", 5) == 0);
    CHECK(recv_bytes(srv, NULL, buf, 5, UINET_MSG_WAITALL, &got) == 0 && got == 5);
    CHECK(memcmp(buf, "hello", 5) == 0);
    len = sizeof info;
    CHECK(uinet_sogetsockopt(srv, UINET_IPPROTO_TCP, UINET_TCP_INFO, &info, &len) == 0);
    CHECK(info.tcpi_state == UINET_TCPS_ESTABLISHED && info.tcpi_bytes_received >= 5);
    CHECK(uinet_sogetstate(srv, &state) == 0 && (state & UINET_SS_ISCONNECTED));
    CHECK(uinet_soshutdown(cli, UINET_SHUT_WR) == 0);
    CHECK(recv_bytes(srv, NULL, buf, sizeof buf, 0, &got) == 0 && got == 0);
    CHECK(uinet_sogeterror(srv) == 0);
    CHECK(filtered == 1); /* the filter saw the one SYN, with its MSS */
    CHECK(uinet_getl2info(srv, &l2) == 0 && l2.inl2i_tagstack.inl2t_cnt == 0);
    CHECK(uinet_getl2info(cli, &l2) == UINET_ENOENT);

    CHECK(uinet_soclose(srv) == 0);
    CHECK(uinet_soclose(cli) == 0);
    CHECK(uinet_soclose(lst) == 0);
    CHECK(uinet_soclose(ua) == 0);
    CHECK(uinet_soclose(ub) == 0);
    CHECK(uinet_instance_destroy(a) == 0);
    CHECK(uinet_instance_destroy(b) == 0);

    printf("c_api: %d passed, %d failed\n", checks - failures, failures);
    return failures == 0 ? 0 : 1;
}
