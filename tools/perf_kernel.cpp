// tools/perf_kernel.cpp — the Linux kernel half of `uinet perf` (see
// perf.hpp): the same work with kernel TCP sockets and two threads in this
// process, over 127.0.0.1 or over a veth pair between two namespaces (the
// client/sender thread in one, the server/receiver thread in the other).
//
// Bulk: a sender thread connects the sockets and writes each one's share
// from a `chunk`-byte buffer; a receiver thread accepts them and reads into
// a buffer of the same size until EOF; both are non-blocking and wait in
// epoll, as the uinet side waits in its stack loop. Request/response: a
// client thread and an echo thread on blocking sockets with TCP_NODELAY.
// Short connections: blocking sockets one at a time (the kernel's fastest
// idiom), epoll with non-blocking sockets when several are in flight; the
// server answers and closes first. Server threads wake at least once a
// second (epoll or SO_RCVTIMEO) to notice stop() and the deadline. Every
// syscall failure ends the test with the errno text.
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
#include "perf_net.hpp"

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
    int release() {
        const int f = fd_;
        fd_ = -1;
        return f;
    }
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

bool set_rcvtimeo(int fd, long secs) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(secs);
    return ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0;
}

bool apply_sockbuf(int fd, std::size_t sockbuf) {
    if (sockbuf == 0) return true;
    const int v = static_cast<int>(std::min<std::size_t>(sockbuf, 1u << 30));
    return set_int(fd, SOL_SOCKET, SO_SNDBUF, v) && set_int(fd, SOL_SOCKET, SO_RCVBUF, v);
}

sockaddr_in sockaddr_of(std::uint32_t ip, std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(ip);
    a.sin_port = htons(port);
    return a;
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

SteadyClock::time_point deadline_of(const Config& c) {
    return SteadyClock::now() +
           std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(c.timeout_secs));
}

// Waits in epoll; -1 (and `error` set) once the deadline has passed or
// `stop` is set.
int wait_events(int ep, epoll_event* evs, int max, SteadyClock::time_point deadline, const std::atomic<bool>* stop,
                std::string& error) {
    for (;;) {
        if (SteadyClock::now() > deadline) {
            error = "kernel: timed out";
            return -1;
        }
        if (stop && stop->load()) {
            error = "kernel: stopped after a failure elsewhere";
            return -1;
        }
        int n = ::epoll_wait(ep, evs, max, 1000);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) error = sys_error("epoll_wait");
        if (n != 0) return n;
    }
}

// A blocking receive that retries on EINTR and on its 1-second timeout
// until `stop` or the deadline: >0 bytes, 0 at EOF, -1 on error.
ssize_t recv_patient(int fd, void* p, std::size_t n, const std::atomic<bool>& stop, SteadyClock::time_point deadline,
                     std::string& error) {
    for (;;) {
        ssize_t r = ::recv(fd, p, n, 0);
        if (r >= 0) return r;
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            error = sys_error("recv");
            return -1;
        }
        if (stop.load() || SteadyClock::now() > deadline) {
            error = stop.load() ? "kernel: stopped after a failure elsewhere" : "kernel: timed out";
            return -1;
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

// Accepts with the listener's 1-second SO_RCVTIMEO, retrying until stop
// or the deadline.
Fd accept_patient(int lfd, int flags, const std::atomic<bool>& stop, SteadyClock::time_point deadline,
                  std::string& error) {
    for (;;) {
        Fd s(::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC | flags));
        if (s.get() >= 0) return s;
        if (errno == EINTR || ((errno == EAGAIN || errno == EWOULDBLOCK) && !stop.load() &&
                               SteadyClock::now() <= deadline))
            continue;
        error = stop.load() ? "kernel: stopped after a failure elsewhere" : sys_error("accept");
        return Fd();
    }
}

// ---- server loops (on the KernelServer thread) ---------------------------

void discard_loop(const Config& c, int lfd, const std::atomic<bool>& stop, SteadyClock::time_point deadline,
                  std::uint64_t& bytes, std::string& error) {
    std::vector<Fd> socks;
    Fd ep(::epoll_create1(EPOLL_CLOEXEC));
    for (unsigned i = 0; i < c.conns; ++i) {
        Fd s = accept_patient(lfd, SOCK_NONBLOCK, stop, deadline, error);
        if (s.get() < 0) return;
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u32 = i;
        if (::epoll_ctl(ep.get(), EPOLL_CTL_ADD, s.get(), &ev) != 0) {
            error = sys_error("epoll_ctl");
            return;
        }
        socks.push_back(std::move(s));
    }
    std::vector<std::uint8_t> buf(c.chunk);
    unsigned open = c.conns;
    epoll_event evs[64];
    while (open > 0) {
        int n = wait_events(ep.get(), evs, 64, deadline, &stop, error);
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

void echo_loop(const Config& c, int lfd, const std::atomic<bool>& stop, SteadyClock::time_point deadline,
               std::string& error) {
    Fd s = accept_patient(lfd, 0, stop, deadline, error);
    if (s.get() < 0) return;
    if (!set_int(s.get(), IPPROTO_TCP, TCP_NODELAY, 1) || !set_rcvtimeo(s.get(), 1)) {
        error = sys_error("setsockopt");
        return;
    }
    std::vector<std::uint8_t> buf(std::max(c.chunk, c.rr_size));
    for (;;) {
        ssize_t r = recv_patient(s.get(), buf.data(), buf.size(), stop, deadline, error);
        if (r <= 0) return;
        if (!write_full(s.get(), buf.data(), static_cast<std::size_t>(r))) {
            error = sys_error("send");
            return;
        }
    }
}

// One at a time: accept, read the request, answer, close.
void crr_serve_blocking(const Config& c, int lfd, const std::atomic<bool>& stop, SteadyClock::time_point deadline,
                        std::uint64_t& served, std::string& error) {
    std::vector<std::uint8_t> req(c.crr_size), resp(c.crr_size, 0xa5);
    while (served < c.crr_count) {
        Fd s = accept_patient(lfd, 0, stop, deadline, error);  // inherits the 1 s SO_RCVTIMEO
        if (s.get() < 0) return;
        for (std::size_t got = 0; got < req.size();) {
            ssize_t r = recv_patient(s.get(), req.data() + got, req.size() - got, stop, deadline, error);
            if (r <= 0) {
                if (r == 0) error = "kernel crr server: the client closed before its request was complete";
                return;
            }
            got += static_cast<std::size_t>(r);
        }
        if (!write_full(s.get(), resp.data(), resp.size())) {
            error = sys_error("send");
            return;
        }
        ++served;  // and the close below sends the FIN
    }
}

// Several in flight: a non-blocking listener and connections in epoll.
void crr_serve_epoll(const Config& c, int lfd, const std::atomic<bool>& stop, SteadyClock::time_point deadline,
                     std::uint64_t& served, std::string& error) {
    Fd ep(::epoll_create1(EPOLL_CLOEXEC));
    epoll_event lev{};
    lev.events = EPOLLIN;
    lev.data.fd = lfd;
    if (!set_nonblocking(lfd) || ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, lfd, &lev) != 0) {
        error = sys_error("epoll_ctl");
        return;
    }
    std::vector<std::size_t> got;  // request bytes so far, by descriptor
    std::vector<std::uint8_t> buf(c.crr_size), resp(c.crr_size, 0xa5);
    epoll_event evs[64];
    while (served < c.crr_count) {
        int n = wait_events(ep.get(), evs, 64, deadline, &stop, error);
        if (n < 0) break;
        for (int k = 0; k < n && error.empty(); ++k) {
            const int fd = evs[k].data.fd;
            if (fd == lfd) {
                for (;;) {
                    int s = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
                    if (s < 0) {
                        if (errno != EAGAIN && errno != EINTR) error = sys_error("accept");
                        break;
                    }
                    epoll_event ev{};
                    ev.events = EPOLLIN;
                    ev.data.fd = s;
                    if (got.size() <= static_cast<std::size_t>(s)) got.resize(static_cast<std::size_t>(s) + 64);
                    got[static_cast<std::size_t>(s)] = 0;
                    if (::epoll_ctl(ep.get(), EPOLL_CTL_ADD, s, &ev) != 0) {
                        error = sys_error("epoll_ctl");
                        ::close(s);
                        break;
                    }
                }
                continue;
            }
            std::size_t& g = got[static_cast<std::size_t>(fd)];
            for (;;) {
                ssize_t r = ::recv(fd, buf.data(), buf.size() - g, 0);
                if (r > 0) {
                    g += static_cast<std::size_t>(r);
                    if (g < buf.size()) continue;
                    if (!write_full(fd, resp.data(), resp.size())) error = sys_error("send");
                    ::close(fd);
                    ++served;
                } else if (r == 0) {
                    error = "kernel crr server: the client closed before its request was complete";
                    ::close(fd);
                } else if (errno != EAGAIN && errno != EINTR) {
                    error = sys_error("recv");
                    ::close(fd);
                }
                break;
            }
        }
        if (!error.empty()) break;
    }
}

// ---- client loops ---------------------------------------------------------

void sender(const Config& c, const sockaddr_in& addr, std::shared_future<void> go,
            SteadyClock::time_point deadline, std::string& error) {
    if (!enter_netns(c.kernel_client_ns, error)) return;
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
        int n = wait_events(ep.get(), evs, 64, deadline, nullptr, error);
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

using Clock = SteadyClock;
double us_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::micro>(b - a).count();
}

// One transaction at a time on blocking sockets.
void crr_client_blocking(const Config& c, const sockaddr_in& addr, std::vector<double>& lat, std::string& error) {
    std::vector<std::uint8_t> req(c.crr_size, 0x5a), resp(c.crr_size + 1);
    for (std::uint64_t i = 0; i < c.crr_count; ++i) {
        const auto t0 = Clock::now();
        Fd s = connect_to(addr, c, false, error);
        if (s.get() < 0) return;
        if (!write_full(s.get(), req.data(), req.size())) {
            error = sys_error("send");
            return;
        }
        // The answer, then the end of stream (the server closes first).
        std::size_t got = 0;
        for (;;) {
            ssize_t r = ::recv(s.get(), resp.data(), resp.size(), 0);
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) {
                error = sys_error("recv");
                return;
            }
            if (r == 0) break;
            got += static_cast<std::size_t>(r);
        }
        if (got != c.crr_size) {
            error = "kernel crr client: answer of " + std::to_string(got) + " bytes, expected " +
                    std::to_string(c.crr_size);
            return;
        }
        s.reset();
        lat.push_back(us_between(t0, Clock::now()));
    }
}

// crr_conc transactions in flight, non-blocking sockets in epoll.
void crr_client_epoll(const Config& c, const sockaddr_in& addr, Clock::time_point deadline, std::vector<double>& lat,
                      std::string& error) {
    struct Slot {
        Fd s;
        Clock::time_point t0;
        std::size_t got = 0;
        bool sent = false;
    };
    Fd ep(::epoll_create1(EPOLL_CLOEXEC));
    std::vector<Slot> slots(c.crr_conc);
    std::vector<std::uint8_t> req(c.crr_size, 0x5a), resp(c.crr_size + 1);
    std::uint64_t started = 0;
    auto open_one = [&](std::uint32_t i) {
        Slot& k = slots[i];
        k.t0 = Clock::now();
        k.got = 0;
        k.sent = false;
        k.s = Fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        if (k.s.get() < 0 || !apply_sockbuf(k.s.get(), c.sockbuf)) {
            error = sys_error("socket");
            return;
        }
        if (::connect(k.s.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
            error = sys_error("connect");
            return;
        }
        epoll_event ev{};
        ev.events = EPOLLOUT | EPOLLIN;
        ev.data.u32 = i;
        if (::epoll_ctl(ep.get(), EPOLL_CTL_ADD, k.s.get(), &ev) != 0) error = sys_error("epoll_ctl");
        ++started;
    };
    for (std::uint32_t i = 0; i < c.crr_conc && started < c.crr_count && error.empty(); ++i) open_one(i);
    epoll_event evs[64];
    while (lat.size() < c.crr_count && error.empty()) {
        int n = wait_events(ep.get(), evs, 64, deadline, nullptr, error);
        if (n < 0) return;
        for (int e = 0; e < n && error.empty(); ++e) {
            const std::uint32_t i = evs[e].data.u32;
            Slot& k = slots[i];
            if (k.s.get() < 0) continue;
            if (!k.sent && (evs[e].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
                const int soerr = get_int(k.s.get(), SOL_SOCKET, SO_ERROR);
                if (soerr != 0) {
                    errno = soerr;
                    error = sys_error("connect");
                    return;
                }
                if (!write_full(k.s.get(), req.data(), req.size())) {
                    error = sys_error("send");
                    return;
                }
                k.sent = true;
                epoll_event ev{};
                ev.events = EPOLLIN;
                ev.data.u32 = i;
                ::epoll_ctl(ep.get(), EPOLL_CTL_MOD, k.s.get(), &ev);
            }
            if (!k.sent) continue;
            for (;;) {
                ssize_t r = ::recv(k.s.get(), resp.data(), resp.size(), 0);
                if (r > 0) {
                    k.got += static_cast<std::size_t>(r);
                    continue;
                }
                if (r < 0 && (errno == EAGAIN || errno == EINTR)) break;
                if (r < 0) {
                    error = sys_error("recv");
                    return;
                }
                if (k.got != c.crr_size) {
                    error = "kernel crr client: answer of " + std::to_string(k.got) + " bytes, expected " +
                            std::to_string(c.crr_size);
                    return;
                }
                k.s.reset();
                lat.push_back(us_between(k.t0, Clock::now()));
                if (started < c.crr_count) open_one(i);
                break;
            }
        }
    }
}

}  // namespace

// ---- KernelServer ----------------------------------------------------------

KernelServer::KernelServer() = default;

KernelServer::~KernelServer() {
    stop();
    join();
    if (lfd_ >= 0) ::close(lfd_);
}

bool KernelServer::listen(const Config& c, const std::string& ns, std::uint32_t addr, int backlog) {
    ns_ = ns;
    Fd fd;
    std::string err;
    const bool entered = in_netns(
        ns,
        [&] {
            fd = Fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
            sockaddr_in a = sockaddr_of(addr, 0);
            socklen_t len = sizeof a;
            // Buffers set on the listener are inherited by accepted sockets,
            // and must be set before the handshake for the window scale to
            // match; so is the 1 s receive timeout the server loops poll with.
            if (fd.get() < 0 || !apply_sockbuf(fd.get(), c.sockbuf) || !set_rcvtimeo(fd.get(), 1) ||
                ::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd.get(), backlog) != 0 ||
                ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0) {
                err = sys_error(("listen on " + ip4_text(addr)).c_str());
                fd.reset();
                return;
            }
            port_ = ntohs(a.sin_port);
        },
        err);
    if (!entered || fd.get() < 0) {
        error_ = err.empty() ? "kernel: cannot listen" : err;
        return false;
    }
    sndbuf_ = static_cast<std::size_t>(std::max(0, get_int(fd.get(), SOL_SOCKET, SO_SNDBUF)));
    rcvbuf_ = static_cast<std::size_t>(std::max(0, get_int(fd.get(), SOL_SOCKET, SO_RCVBUF)));
    lfd_ = fd.release();
    return true;
}

void KernelServer::start(Kind k, const Config& c, std::shared_future<void> go, Completion* done) {
    th_ = std::thread([this, k, c, go, done] { run(k, c, go, done); });
}

void KernelServer::run(Kind k, const Config& c, std::shared_future<void> go, Completion* done) {
    if (enter_netns(ns_, error_)) {
        pin_self(c.cpu_b);
        go.wait();
        const auto deadline = deadline_of(c);
        switch (k) {
            case Kind::discard:
                discard_loop(c, lfd_, stop_, deadline, bytes_, error_);
                if (error_.empty() && bytes_ != c.bytes)
                    error_ = "kernel receiver: got " + std::to_string(bytes_) + " bytes, expected " +
                             std::to_string(c.bytes);
                break;
            case Kind::echo: echo_loop(c, lfd_, stop_, deadline, error_); break;
            case Kind::crr:
                if (c.crr_conc <= 1)
                    crr_serve_blocking(c, lfd_, stop_, deadline, served_, error_);
                else
                    crr_serve_epoll(c, lfd_, stop_, deadline, served_, error_);
                break;
        }
    }
    // A failed server stops listening, so a client waiting on it sees a
    // reset instead of hanging.
    if (!error_.empty() && lfd_ >= 0) ::shutdown(lfd_, SHUT_RDWR);
    if (done) {
        if (error_.empty())
            done->succeed();
        else
            done->fail(error_);
    }
}

void KernelServer::stop() {
    stop_ = true;
    if (lfd_ >= 0) ::shutdown(lfd_, SHUT_RDWR);  // a thread in accept() gives up
}

void KernelServer::join() {
    if (th_.joinable()) th_.join();
}

// ---- the kernel runs ---------------------------------------------------------

std::string kernel_send(const Config& c, std::uint32_t ip, std::uint16_t port, std::shared_future<void> go) {
    std::string error;
    sender(c, sockaddr_of(ip, port), go, deadline_of(c), error);
    return error;
}

BulkResult kernel_bulk(const Config& c) {
    BulkResult res;
    KernelServer srv;
    if (!srv.listen(c, c.kernel_server_ns, c.kernel_server_ip, static_cast<int>(c.conns) + 16)) {
        res.error = srv.error();
        return res;
    }
    res.sndbuf = srv.sndbuf();
    res.rcvbuf = srv.rcvbuf();
    std::promise<void> start;
    std::shared_future<void> go = start.get_future().share();
    const sockaddr_in addr = sockaddr_of(c.kernel_server_ip, srv.port());
    std::string tx_error;
    srv.start(KernelServer::Kind::discard, c, go);
    std::thread tx([&] { sender(c, addr, go, deadline_of(c), tx_error); });
    const Cpu cpu0 = process_cpu();
    const auto t0 = SteadyClock::now();
    start.set_value();
    tx.join();
    if (!tx_error.empty()) srv.stop();
    srv.join();
    const auto t1 = SteadyClock::now();
    res.cpu = process_cpu() - cpu0;
    res.secs = secs_between(t0, t1);
    res.bytes = srv.bytes();
    res.error = !tx_error.empty() ? tx_error : srv.error();
    res.ok = res.error.empty();
    return res;
}

RrResult kernel_rr(const Config& c) {
    RrResult res;
    KernelServer srv;
    if (!srv.listen(c, c.kernel_server_ns, c.kernel_server_ip, 4)) {
        res.error = srv.error();
        return res;
    }
    const sockaddr_in addr = sockaddr_of(c.kernel_server_ip, srv.port());
    std::string cli_error;
    std::vector<double> lat;
    lat.reserve(static_cast<std::size_t>(c.rr_count));
    SteadyClock::time_point first{}, last{};
    std::promise<void> start;
    std::shared_future<void> go = start.get_future().share();
    const Cpu cpu0 = process_cpu();
    srv.start(KernelServer::Kind::echo, c, go);
    std::thread cli([&] {
        if (!enter_netns(c.kernel_client_ns, cli_error)) return;
        pin_self(c.cpu_a);
        go.wait();
        Fd s = connect_to(addr, c, true, cli_error);
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
    start.set_value();
    cli.join();
    if (!cli_error.empty()) srv.stop();
    srv.join();
    res.cpu = process_cpu() - cpu0;
    res.transactions = lat.size();
    res.secs = res.transactions ? secs_between(first, last) : 0;
    latency_stats(lat, res);
    res.error = !cli_error.empty() ? cli_error : srv.error();
    res.ok = res.error.empty() && res.transactions == c.rr_count;
    return res;
}

RrResult kernel_crr(const Config& c) {
    RrResult res;
    KernelServer srv;
    if (!srv.listen(c, c.kernel_server_ns, c.kernel_server_ip, static_cast<int>(c.crr_conc) + 64)) {
        res.error = srv.error();
        return res;
    }
    const sockaddr_in addr = sockaddr_of(c.kernel_server_ip, srv.port());
    std::string cli_error;
    std::vector<double> lat;
    lat.reserve(static_cast<std::size_t>(c.crr_count));
    SteadyClock::time_point first{}, last{};
    std::promise<void> start;
    std::shared_future<void> go = start.get_future().share();
    srv.start(KernelServer::Kind::crr, c, go);
    std::thread cli([&] {
        if (!enter_netns(c.kernel_client_ns, cli_error)) return;
        pin_self(c.cpu_a);
        go.wait();
        first = SteadyClock::now();
        if (c.crr_conc <= 1)
            crr_client_blocking(c, addr, lat, cli_error);
        else
            crr_client_epoll(c, addr, deadline_of(c), lat, cli_error);
        last = SteadyClock::now();
    });
    const Cpu cpu0 = process_cpu();
    start.set_value();
    cli.join();
    if (!cli_error.empty()) srv.stop();
    srv.join();
    res.cpu = process_cpu() - cpu0;
    res.transactions = lat.size();
    res.secs = res.transactions ? secs_between(first, last) : 0;
    latency_stats(lat, res);
    res.error = !cli_error.empty() ? cli_error : srv.error();
    res.ok = res.error.empty() && res.transactions == c.crr_count;
    return res;
}

}  // namespace uinet::tools::perf
