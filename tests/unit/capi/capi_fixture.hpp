// tests/unit/capi/capi_fixture.hpp — two uinet instances joined by a mem
// link, each started on its own thread, driven through the C API only.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "uinet/uinet.h"

namespace capi_test {

inline uinet_sockaddr_in sin(const char* ip, std::uint16_t port) {
    uinet_sockaddr_in s;
    EXPECT_EQ(0, uinet_sockaddr_in_set(&s, ip, port));
    return s;
}

inline std::uint16_t port_of(const uinet_sockaddr_in& s) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(&s.sin_port);
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}

inline std::string ip_of(const uinet_sockaddr_in& s) {
    char buf[16];
    EXPECT_EQ(0, uinet_inet_ntop(&s.sin_addr, buf, sizeof buf));
    return buf;
}

// Sends all of `data` (one iovec); returns the error value.
inline int send_all(uinet_socket* so, const void* data, std::size_t len, int flags = 0) {
    uinet_iovec v{const_cast<void*>(data), len};
    uinet_uio u{&v, 1, len};
    return uinet_sosend(so, nullptr, &u, flags);
}

// One receive into buf; *got = bytes received.
inline int recv_some(uinet_socket* so, void* buf, std::size_t len, std::size_t* got, int flags = 0) {
    uinet_iovec v{buf, len};
    uinet_uio u{&v, 1, len};
    int f = flags;
    int e = uinet_soreceive(so, nullptr, &u, &f);
    *got = len - u.uio_resid;
    return e;
}

template <class T>
int setopt(uinet_socket* so, int level, int name, const T& v) {
    return uinet_sosetsockopt(so, level, name, &v, sizeof v);
}

inline int set_int(uinet_socket* so, int level, int name, int v) { return setopt(so, level, name, v); }

inline int get_int(uinet_socket* so, int level, int name, int* out) {
    unsigned int len = sizeof *out;
    int e = uinet_sogetsockopt(so, level, name, out, &len);
    if (e == 0) EXPECT_EQ(len, sizeof *out);
    return e;
}

// Something that happens on another thread, awaited with a deadline.
struct Flag {
    std::mutex mu;
    std::condition_variable cv;
    bool set = false;
    void raise() {
        std::lock_guard lk(mu);
        set = true;
        cv.notify_all();
    }
    bool wait(std::chrono::seconds limit = std::chrono::seconds(20)) {
        std::unique_lock lk(mu);
        return cv.wait_for(lk, limit, [&] { return set; });
    }
};

class CapiPair : public ::testing::Test {
protected:
    static constexpr const char* kIpA = "198.18.0.1";
    static constexpr const char* kIpB = "198.18.0.2";

    void SetUp() override {
        uinet_instance_cfg c;
        uinet_instance_default_cfg(&c);
        c.pool_buffers = 4096;
        c.blackhole = blackhole_;
        c.name = "capi-a";
        ASSERT_EQ(0, uinet_instance_create(&c, &a_));
        c.name = "capi-b";
        ASSERT_EQ(0, uinet_instance_create(&c, &b_));
        ASSERT_EQ(0, uinet_memlink_create(a_, "198.18.0.1/24", b_, "198.18.0.2/24"));
        ASSERT_EQ(0, uinet_instance_start(a_));
        ASSERT_EQ(0, uinet_instance_start(b_));
    }
    void TearDown() override {
        if (a_) EXPECT_EQ(0, uinet_instance_destroy(a_));
        if (b_) EXPECT_EQ(0, uinet_instance_destroy(b_));
    }

    uinet_socket* listener(std::uint16_t port, int backlog = 16) {
        uinet_socket* l = nullptr;
        EXPECT_EQ(0, uinet_socreate(b_, UINET_AF_INET, &l, UINET_SOCK_STREAM, 0));
        auto s = sin(kIpB, port);
        EXPECT_EQ(0, uinet_sobind(l, &s));
        EXPECT_EQ(0, uinet_solisten(l, backlog));
        return l;
    }
    // A connected pair: client on a, server (accepted) on b.
    void connect_pair(std::uint16_t port, uinet_socket** cli, uinet_socket** srv, uinet_socket** lst = nullptr) {
        uinet_socket* l = listener(port);
        ASSERT_EQ(0, uinet_socreate(a_, UINET_AF_INET, cli, UINET_SOCK_STREAM, UINET_IPPROTO_TCP));
        auto s = sin(kIpB, port);
        ASSERT_EQ(0, uinet_soconnect(*cli, &s));
        uinet_sockaddr_in peer;
        ASSERT_EQ(0, uinet_soaccept(l, &peer, srv));
        EXPECT_EQ(ip_of(peer), kIpA);
        if (lst)
            *lst = l;
        else
            EXPECT_EQ(0, uinet_soclose(l));
    }

    int blackhole_ = 1;
    uinet_instance_t* a_ = nullptr;
    uinet_instance_t* b_ = nullptr;
};

}  // namespace capi_test
