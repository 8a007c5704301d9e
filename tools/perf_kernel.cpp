// tools/perf_kernel.cpp — the Linux kernel half of `uinet perf` (see
// perf.hpp): the same work over 127.0.0.1 with kernel TCP sockets, two
// threads, in this process.
//
// Bulk: a sender thread connects the sockets and writes each one's share
// from a `chunk`-byte buffer; a receiver thread accepts them and reads into
// a buffer of the same size until EOF; both are non-blocking and wait in
// epoll, as the uinet side waits in its stack loop. Request/response: a
// client thread and an echo thread on blocking sockets with TCP_NODELAY.
// Every syscall failure ends the test with the errno text.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <future>
#include <thread>
#include <vector>

#include "perf.hpp"

namespace uinet::tools::perf {

namespace {

using SteadyClock = std::chrono::steady_clock;

std::string sys_error(const char* what) { return std::string("kernel: ") + what + ": " + std::strerror(errno); }

class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    ~Fd() { reset(); }
    Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    Fd& operator=(Fd&& o) noexcept {
        if (this != &o) {
            reset();
            fd_ = o.fd_;
            o.fd_ = -1;
        }
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }
    void reset() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_;
};

bool set_int(int fd, int level, int opt, int v) { return ::setsockopt(fd, level, opt, &v, sizeof v) == 0; }

int get_int(int fd, int level, int opt) {
    int v = 0;
    socklen_t len = sizeof v;
    return ::getsockopt(fd, level, opt, &v, &len) == 0 ? v : -1;
}

bool set_nonblocking(int fd) {
    int fl = ::fcntl(fd, F_GETFL);
    return fl >= 0 && ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0;
}

bool apply_sockbuf(int fd, std::size_t sockbuf) {
    if (sockbuf == 0) return true;
    const int v = static_cast<int>(std::min<std::size_t>(sockbuf, 1u << 30));
    return set_int(fd, SOL_SOCKET, SO_SNDBUF, v) && set_int(fd, SOL_SOCKET, SO_RCVBUF, v);
}

// A listening socket on 127.0.0.1 and an ephemeral port.
struct Listener {
    Fd fd;
    sockaddr_in addr{};
    std::string error;
};

Listener make_listener(const Config& c, int backlog) {
    Listener l;
    l.fd = Fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (l.fd.get() < 0) {
        l.error = sys_error("socket");
        return l;
    }
    l.addr.sin_family = AF_INET;
    l.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof l.addr;
    // Buffers set on the listener are inherited by accepted sockets, and
    // must be set before the handshake for the window scale to match.
    if (!apply_sockbuf(l.fd.get(), c.sockbuf) ||
        ::bind(l.fd.get(), reinterpret_cast<sockaddr*>(&l.addr), sizeof l.addr) != 0 ||
        ::listen(l.fd.get(), backlog) != 0 ||
        ::getsockname(l.fd.get(), reinterpret_cast<sockaddr*>(&l.addr), &len) != 0) {
        l.error = sys_error("listen on 127.0.0.1");
        l.fd.reset();
    }
    return l;
}

Fd connect_to(const sockaddr_in& addr, const Config& c, bool nodelay, std::string& error) {
    Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (fd.get() < 0 || !apply_sockbuf(fd.get(), c.sockbuf) ||
        (nodelay && !set_int(fd.get(), IPPROTO_TCP, TCP_NODELAY, 1)) ||
        ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        error = sys_error("connect");
        return Fd();
    }
    return fd;
}

double secs_between(SteadyClock::time_point a, SteadyClock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

// Waits in epoll; false (and `error` set) once the deadline has passed.
int wait_events(int ep, epoll_event* evs, int max, SteadyClock::time_point deadline, std::string& error) {
    for (;;) {
        if (SteadyClock::now() > deadline) {
            error = "kernel: timed out";
            return -1;
        }
        int n = ::epoll_wait(ep, evs, max, 1000);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) error = sys_error("epoll_wait");
        if (n != 0) return n;
    }
}

void receiver(const Config& c, int lfd, std::shared_future<void> go, SteadyClock::time_point deadline,
              std::uint64_t& bytes, std::string& error) {
    pin_self(c.cpu_b);
    go.wait();
    std::vector<Fd> socks;
    Fd ep(::epoll_create1(EPOLL_CLOEXEC));
    for (unsigned i = 0; i < c.conns; ++i) {
        Fd s(::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u32 = i;
        if (s.get() < 0 || ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, s.get(), &ev) != 0) {
            error = sys_error("accept");
            return;
        }
        socks.push_back(std::move(s));
    }
    std::vector<std::uint8_t> buf(c.chunk);
    unsigned open = c.conns;
    epoll_event evs[64];
    while (open > 0) {
        int n = wait_events(ep.get(), evs, 64, deadline, error);
        if (n < 0) return;
        for (int k = 0; k < n; ++k) {
            Fd& s = socks[evs[k].data.u32];
            for (;;) {
                ssize_t r = ::recv(s.get(), buf.data(), buf.size(), 0);
                if (r > 0) {
                    bytes += static_cast<std::uint64_t>(r);
                    continue;
                }
                if (r == 0) {
                    s.reset();  // closing removes it from the epoll set
                    --open;
                } else if (errno != EAGAIN && errno != EINTR) {
                    error = sys_error("recv");
                    return;
                }
                break;
            }
        }
    }
}

void sender(const Config& c, const sockaddr_in& addr, std::shared_future<void> go,
            SteadyClock::time_point deadline, std::string& error) {
    pin_self(c.cpu_a);
    go.wait();
    std::vector<std::uint8_t> buf(c.chunk);
    for (std::size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<std::uint8_t>(i * 7 + 1);
    Fd ep(::epoll_create1(EPOLL_CLOEXEC));
    std::vector<Fd> socks;
    std::vector<std::uint64_t> left(c.conns);
    for (unsigned i = 0; i < c.conns; ++i) {
        left[i] = c.bytes / c.conns + (i < c.bytes % c.conns ? 1 : 0);
        Fd s = connect_to(addr, c, false, error);
        if (s.get() < 0) return;
        epoll_event ev{};
        ev.events = EPOLLOUT;
        ev.data.u32 = i;
        if (!set_nonblocking(s.get()) || ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, s.get(), &ev) != 0) {
            error = sys_error("epoll_ctl");
            return;
        }
        socks.push_back(std::move(s));
    }
    unsigned open = c.conns;
    epoll_event evs[64];
    while (open > 0) {
        int n = wait_events(ep.get(), evs, 64, deadline, error);
        if (n < 0) return;
        for (int k = 0; k < n; ++k) {
            const unsigned i = evs[k].data.u32;
            Fd& s = socks[i];
            while (left[i] > 0) {
                const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left[i], buf.size()));
                ssize_t w = ::send(s.get(), buf.data(), want, MSG_NOSIGNAL);
                if (w > 0) {
                    left[i] -= static_cast<std::uint64_t>(w);
                    continue;
                }
                if (w < 0 && errno != EAGAIN && errno != EINTR) {
                    error = sys_error("send");
                    return;
                }
                break;
            }
            if (left[i] == 0 && s.get() >= 0) {
                ::shutdown(s.get(), SHUT_WR);
                s.reset();
                --open;
            }
        }
    }
}

bool read_full(int fd, std::uint8_t* p, std::size_t n) {
    while (n > 0) {
        ssize_t r = ::recv(fd, p, n, 0);
        if (r <= 0) {
            if (r < 0 && errno == EINTR) continue;
            return false;
        }
        p += r;
        n -= static_cast<std::size_t>(r);
    }
    return true;
}

bool write_full(int fd, const std::uint8_t* p, std::size_t n) {
    while (n > 0) {
        ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        p += w;
        n -= static_cast<std::size_t>(w);
    }
    return true;
}

}  // namespace

BulkResult kernel_bulk(const Config& c) {
    BulkResult res;
    Listener l = make_listener(c, static_cast<int>(c.conns) + 16);
    if (l.fd.get() < 0) {
        res.error = l.error;
        return res;
    }
    res.sndbuf = static_cast<std::size_t>(std::max(0, get_int(l.fd.get(), SOL_SOCKET, SO_SNDBUF)));
    res.rcvbuf = static_cast<std::size_t>(std::max(0, get_int(l.fd.get(), SOL_SOCKET, SO_RCVBUF)));
    std::promise<void> start;
    std::shared_future<void> go = start.get_future().share();
    const auto deadline = SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(
                                                   std::chrono::duration<double>(c.timeout_secs));
    std::string rx_error, tx_error;
    std::uint64_t bytes = 0;
    std::thread rx([&] { receiver(c, l.fd.get(), go, deadline, bytes, rx_error); });
    std::thread tx([&] { sender(c, l.addr, go, deadline, tx_error); });
    const Cpu cpu0 = process_cpu();
    const auto t0 = SteadyClock::now();
    start.set_value();
    tx.join();
    if (!tx_error.empty()) ::shutdown(l.fd.get(), SHUT_RDWR);  // a receiver still in accept() gives up
    rx.join();
    const auto t1 = SteadyClock::now();
    res.cpu = process_cpu() - cpu0;
    res.secs = secs_between(t0, t1);
    res.bytes = bytes;
    res.error = !tx_error.empty() ? tx_error : rx_error;
    if (res.error.empty() && bytes != c.bytes)
        res.error = "kernel receiver: got " + std::to_string(bytes) + " bytes, expected " + std::to_string(c.bytes);
    res.ok = res.error.empty();
    return res;
}

RrResult kernel_rr(const Config& c) {
    RrResult res;
    Listener l = make_listener(c, 4);
    if (l.fd.get() < 0) {
        res.error = l.error;
        return res;
    }
    std::string srv_error, cli_error;
    std::vector<double> lat;
    lat.reserve(static_cast<std::size_t>(c.rr_count));
    SteadyClock::time_point first{}, last{};
    const Cpu cpu0 = process_cpu();
    std::thread srv([&] {
        pin_self(c.cpu_b);
        Fd s(::accept4(l.fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (s.get() < 0 || !set_int(s.get(), IPPROTO_TCP, TCP_NODELAY, 1)) {
            srv_error = sys_error("accept");
            return;
        }
        std::vector<std::uint8_t> buf(std::max(c.chunk, c.rr_size));
        for (;;) {
            ssize_t r = ::recv(s.get(), buf.data(), buf.size(), 0);
            if (r == 0) return;
            if (r < 0) {
                if (errno == EINTR) continue;
                srv_error = sys_error("recv");
                return;
            }
            if (!write_full(s.get(), buf.data(), static_cast<std::size_t>(r))) {
                srv_error = sys_error("send");
                return;
            }
        }
    });
    std::thread cli([&] {
        pin_self(c.cpu_a);
        Fd s = connect_to(l.addr, c, true, cli_error);
        if (s.get() < 0) return;
        // A receive timeout, so a lost answer cannot hang the tool.
        timeval tv{};
        tv.tv_sec = static_cast<time_t>(std::max(1.0, c.timeout_secs));
        ::setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        std::vector<std::uint8_t> req(c.rr_size, 0x5a), resp(c.rr_size);
        first = SteadyClock::now();
        for (std::uint64_t i = 0; i < c.rr_count; ++i) {
            const auto t = SteadyClock::now();
            if (!write_full(s.get(), req.data(), req.size()) || !read_full(s.get(), resp.data(), resp.size())) {
                cli_error = sys_error("request/response");
                return;
            }
            last = SteadyClock::now();
            lat.push_back(std::chrono::duration<double, std::micro>(last - t).count());
        }
    });
    cli.join();
    if (!cli_error.empty()) ::shutdown(l.fd.get(), SHUT_RDWR);  // an echo thread in accept() gives up
    srv.join();
    res.cpu = process_cpu() - cpu0;
    res.transactions = lat.size();
    res.secs = res.transactions ? secs_between(first, last) : 0;
    latency_stats(lat, res);
    res.error = !cli_error.empty() ? cli_error : srv_error;
    res.ok = res.error.empty() && res.transactions == c.rr_count;
    return res;
}

}  // namespace uinet::tools::perf
