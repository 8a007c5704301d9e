// tools/perf_uinet_apps.hpp — the applications of the uinet side of
// `uinet perf` (see perf.hpp): small state machines run from socket
// upcalls on a stack's thread, armed with post() once its loop runs.
//
//  * DiscardServer reads every connection to its end and counts the bytes;
//    BulkSender opens `conns` connections to a target and writes each
//    one's share, then closes it (FIN after the data).
//  * EchoServer echoes; RrClient sends `rr_size` bytes, waits for the whole
//    echo, records the latency and repeats `rr_count` times.
//  * CrrServer answers each connection's `crr_size`-byte request with
//    `crr_size` bytes and closes first; CrrClient runs `crr_count` short
//    connections, `crr_conc` at a time: open, connect, send the request,
//    read the answer and the end of stream, close. Its latencies run from
//    open() to close().
//  * The client side takes its target endpoint, which is a uinet server
//    stack (mem pipe) or a kernel server (TAP). Failures end the test
//    through a Completion with a message; no exceptions.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "perf.hpp"
#include "stack/stack.hpp"

namespace uinet::tools::perf::apps {

using AppClock = std::chrono::steady_clock;
constexpr std::uint16_t kPort = 5001;

inline std::string errno_text(int e) { return std::string(std::strerror(e)); }

// Listens on kPort and hands every accepted connection to on_conn(id).
template <class OnConn>
bool listen_on(Stack& s, OnConn on_conn) {
    TcpSockets& t = s.tcp();
    auto l = t.open();
    if (!l) return false;
    if (!t.bind(*l, {Ipv4Addr::any(), Port(kPort)}) || !t.listen(*l, 1024)) return false;
    t.set_upcall(*l, [&t, on_conn](SocketId id, std::uint32_t) {
        while (auto c = t.accept(id)) on_conn(*c);
    });
    return true;
}

// ---- bulk ---------------------------------------------------------------

// Reads every connection to its end, discarding, and counts the bytes.
class DiscardServer {
public:
    DiscardServer(Stack& s, const Config& c, Completion& done)
        : s_(s), conns_(c.conns), expect_(c.bytes), buf_(c.chunk), done_(done) {}

    void accepted(SocketId id) {
        s_.tcp().set_upcall(id, [this](SocketId sid, std::uint32_t) { drain(sid); });
        drain(id);
    }
    std::uint64_t bytes() const { return bytes_; }

private:
    void drain(SocketId id) {
        TcpSockets& t = s_.tcp();
        for (;;) {
            auto r = t.recv(s_.now(), id, buf_);
            if (!r) {
                if (r.error() != TcpRecvError::would_block) {
                    done_.fail("uinet receiver: recv: " + errno_text(to_errno(r.error())));
                    t.abort(s_.now(), id);
                }
                return;
            }
            if (*r == 0) {
                t.close(s_.now(), id);
                if (++ended_ == conns_) {
                    if (bytes_ == expect_)
                        done_.succeed();
                    else
                        done_.fail("uinet receiver: got " + std::to_string(bytes_) + " bytes, expected " +
                                   std::to_string(expect_));
                }
                return;
            }
            bytes_ += *r;
        }
    }

    Stack& s_;
    unsigned conns_;
    std::uint64_t expect_;
    std::vector<std::uint8_t> buf_;
    Completion& done_;
    std::uint64_t bytes_ = 0;
    unsigned ended_ = 0;
};

// Opens the connections and writes each one's share, then closes it.
class BulkSender {
public:
    BulkSender(Stack& s, const Config& c, Completion& done, Endpoint target)
        : s_(s), cfg_(c), buf_(c.chunk), done_(done), target_(target) {
        for (std::size_t i = 0; i < buf_.size(); ++i) buf_[i] = static_cast<std::uint8_t>(i * 7 + 1);
    }

    // On the client stack's thread.
    void start() {
        TcpSockets& t = s_.tcp();
        conns_.resize(cfg_.conns);
        for (unsigned i = 0; i < cfg_.conns; ++i) {
            Conn& k = conns_[i];
            k.left = cfg_.bytes / cfg_.conns + (i < cfg_.bytes % cfg_.conns ? 1 : 0);
            auto id = t.open();
            if (!id) {
                done_.fail("uinet sender: cannot open a socket");
                return;
            }
            k.id = *id;
            t.set_upcall(k.id, [this, i](SocketId, std::uint32_t ev) { pump(i, ev); });
            if (auto r = t.connect(s_.now(), k.id, target_); !r) {
                done_.fail("uinet sender: connect: " + errno_text(tcp::to_errno(r.error())));
                return;
            }
        }
    }

private:
    struct Conn {
        SocketId id;
        std::uint64_t left = 0;
        bool closed = false;
    };

    void pump(unsigned i, std::uint32_t ev) {
        Conn& k = conns_[i];
        if (k.closed) return;
        TcpSockets& t = s_.tcp();
        if (ev & event::error) {
            done_.fail("uinet sender: socket error: " + errno_text(t.error(k.id)));
            return;
        }
        while (k.left > 0) {
            const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(k.left, buf_.size()));
            auto r = t.send(s_.now(), k.id, {buf_.data(), n});
            if (!r) {
                if (r.error() == TcpSendError::would_block) return;
                done_.fail("uinet sender: send: " + errno_text(to_errno(r.error())));
                return;
            }
            k.left -= *r;
        }
        k.closed = true;
        t.close(s_.now(), k.id);  // FIN after the queued data
    }

    Stack& s_;
    Config cfg_;
    std::vector<std::uint8_t> buf_;
    Completion& done_;
    Endpoint target_;
    std::vector<Conn> conns_;
};

// ---- request/response ---------------------------------------------------

// Echoes whatever arrives, keeping what the socket does not take yet.
class EchoServer {
public:
    EchoServer(Stack& s, const Config& c) : s_(s), size_(std::max(c.chunk, c.rr_size)) {}

    void accepted(SocketId id) {
        TcpOptions o;
        o.nodelay = true;
        s_.tcp().set_options(id, o);
        s_.tcp().set_upcall(id, [this](SocketId sid, std::uint32_t) { pump(sid); });
        pump(id);
    }

private:
    struct Pending {
        std::vector<std::uint8_t> buf;
        std::size_t off = 0, len = 0;
    };
    void pump(SocketId id) {
        TcpSockets& t = s_.tcp();
        Pending& p = pending_[id.cookie()];
        if (p.buf.empty()) p.buf.resize(size_);
        for (;;) {
            while (p.off < p.len) {
                auto w = t.send(s_.now(), id, {p.buf.data() + p.off, p.len - p.off});
                if (!w) {
                    if (w.error() != TcpSendError::would_block) t.abort(s_.now(), id);
                    return;  // writable upcall resumes
                }
                p.off += *w;
            }
            auto r = t.recv(s_.now(), id, p.buf);
            if (!r) {
                if (r.error() != TcpRecvError::would_block) t.abort(s_.now(), id);
                return;
            }
            if (*r == 0) {
                t.close(s_.now(), id);
                pending_.erase(id.cookie());
                return;
            }
            p.off = 0;
            p.len = *r;
        }
    }

    Stack& s_;
    std::size_t size_;
    std::unordered_map<std::uint64_t, Pending> pending_;
};

// Sends a request, waits for the whole echo, records the latency, repeats.
class RrClient {
public:
    RrClient(Stack& s, const Config& c, Completion& done, Endpoint target)
        : s_(s),
          cfg_(c),
          req_(c.rr_size, 0x5a),
          resp_(std::max<std::size_t>(c.rr_size, 4096)),
          done_(done),
          target_(target) {
        lat_us_.reserve(static_cast<std::size_t>(c.rr_count));
    }

    void start() {
        TcpSockets& t = s_.tcp();
        auto id = t.open();
        if (!id) {
            done_.fail("uinet rr client: cannot open a socket");
            return;
        }
        id_ = *id;
        TcpOptions o;
        o.nodelay = true;
        t.set_options(id_, o);
        t.set_upcall(id_, [this](SocketId, std::uint32_t ev) { on_event(ev); });
        if (auto r = t.connect(s_.now(), id_, target_); !r)
            done_.fail("uinet rr client: connect: " + errno_text(tcp::to_errno(r.error())));
    }
    std::vector<double>& latencies() { return lat_us_; }
    double secs() const { return std::chrono::duration<double>(last_ - first_).count(); }

private:
    void on_event(std::uint32_t ev) {
        if (finished_) return;
        TcpSockets& t = s_.tcp();
        if (ev & event::error) {
            finish_fail("uinet rr client: socket error: " + errno_text(t.error(id_)));
            return;
        }
        if (!started_) {
            if (!(ev & event::writable)) return;
            started_ = true;
            first_ = AppClock::now();
            next_request();
        }
        for (;;) {
            if (!send_rest()) return;
            auto r = t.recv(s_.now(), id_, resp_);
            if (!r) {
                if (r.error() != TcpRecvError::would_block)
                    finish_fail("uinet rr client: recv: " + errno_text(to_errno(r.error())));
                return;
            }
            if (*r == 0) {
                finish_fail("uinet rr client: the server closed early");
                return;
            }
            got_ += *r;
            if (got_ < cfg_.rr_size) continue;
            if (got_ > cfg_.rr_size) {
                finish_fail("uinet rr client: answer longer than the request");
                return;
            }
            last_ = AppClock::now();
            lat_us_.push_back(std::chrono::duration<double, std::micro>(last_ - sent_at_).count());
            if (lat_us_.size() == cfg_.rr_count) {
                finished_ = true;
                t.close(s_.now(), id_);
                done_.succeed();
                return;
            }
            next_request();
        }
    }
    void next_request() {
        got_ = 0;
        sent_ = 0;
        sent_at_ = AppClock::now();
    }
    // False while part of the request waits for room.
    bool send_rest() {
        while (sent_ < req_.size()) {
            auto w = s_.tcp().send(s_.now(), id_, {req_.data() + sent_, req_.size() - sent_});
            if (!w) {
                if (w.error() != TcpSendError::would_block)
                    finish_fail("uinet rr client: send: " + errno_text(to_errno(w.error())));
                return false;
            }
            sent_ += *w;
        }
        return true;
    }
    void finish_fail(std::string why) {
        finished_ = true;
        s_.tcp().abort(s_.now(), id_);
        done_.fail(std::move(why));
    }

    Stack& s_;
    Config cfg_;
    std::vector<std::uint8_t> req_, resp_;
    Completion& done_;
    Endpoint target_;
    SocketId id_;
    bool started_ = false, finished_ = false;
    std::size_t sent_ = 0, got_ = 0;
    AppClock::time_point first_{}, last_{}, sent_at_{};
    std::vector<double> lat_us_;
};


// ---- short connections --------------------------------------------------

// Reads each connection's request, answers it and closes first.
class CrrServer {
public:
    CrrServer(Stack& s, const Config& c, Completion& done)
        : s_(s), size_(c.crr_size), buf_(c.crr_size), resp_(c.crr_size, 0xa5), done_(done) {}

    void accepted(SocketId id) {
        got_[id.cookie()] = 0;
        s_.tcp().set_upcall(id, [this](SocketId sid, std::uint32_t) { pump(sid); });
        pump(id);
    }
    std::uint64_t served() const { return served_; }

private:
    void pump(SocketId id) {
        TcpSockets& t = s_.tcp();
        auto it = got_.find(id.cookie());
        if (it == got_.end()) return;
        for (;;) {
            auto r = t.recv(s_.now(), id, {buf_.data(), size_ - it->second});
            if (!r) {
                if (r.error() == TcpRecvError::would_block) return;
                return fail(id, "uinet crr server: recv: " + errno_text(to_errno(r.error())));
            }
            if (*r == 0) return fail(id, "uinet crr server: the client closed before its request was complete");
            it->second += *r;
            if (it->second < size_) continue;
            auto w = t.send(s_.now(), id, resp_);
            if (!w || *w != size_) return fail(id, "uinet crr server: the answer did not fit the send buffer");
            got_.erase(it);
            ++served_;
            t.close(s_.now(), id);  // FIN right after the answer: the server closes first
            return;
        }
    }
    void fail(SocketId id, std::string why) {
        got_.erase(id.cookie());
        s_.tcp().abort(s_.now(), id);
        done_.fail(std::move(why));
    }

    Stack& s_;
    std::size_t size_;
    std::vector<std::uint8_t> buf_, resp_;
    Completion& done_;
    std::unordered_map<std::uint64_t, std::size_t> got_;  // request bytes so far, by socket
    std::uint64_t served_ = 0;
};

// crr_count short connections, crr_conc in flight.
class CrrClient {
public:
    CrrClient(Stack& s, const Config& c, Completion& done, Endpoint target)
        : s_(s), cfg_(c), req_(c.crr_size, 0x5a), resp_(c.crr_size + 1), done_(done), target_(target) {
        lat_us_.reserve(static_cast<std::size_t>(c.crr_count));
        slots_.resize(std::max(1u, c.crr_conc));
    }

    // On the client stack's thread.
    void start() {
        first_ = AppClock::now();
        for (unsigned i = 0; i < slots_.size() && started_ < cfg_.crr_count && !finished_; ++i) open_one(i);
    }
    std::vector<double>& latencies() { return lat_us_; }
    double secs() const { return std::chrono::duration<double>(last_ - first_).count(); }

private:
    struct Slot {
        SocketId id;
        AppClock::time_point t0{};
        std::size_t got = 0;
        bool live = false, sent = false;
    };

    void open_one(unsigned i) {
        TcpSockets& t = s_.tcp();
        Slot& k = slots_[i];
        k = Slot{};
        k.t0 = AppClock::now();
        auto id = t.open();
        if (!id) return finish_fail("uinet crr client: cannot open a socket");
        k.id = *id;
        k.live = true;
        ++started_;
        t.set_upcall(k.id, [this, i](SocketId sid, std::uint32_t ev) { on_event(i, sid, ev); });
        if (auto r = t.connect(s_.now(), k.id, target_); !r)
            finish_fail("uinet crr client: connect: " + errno_text(tcp::to_errno(r.error())));
    }

    void on_event(unsigned i, SocketId sid, std::uint32_t ev) {
        Slot& k = slots_[i];
        if (finished_ || !k.live || k.id.cookie() != sid.cookie()) return;
        TcpSockets& t = s_.tcp();
        if (ev & event::error) return finish_fail("uinet crr client: socket error: " + errno_text(t.error(sid)));
        if (!k.sent) {
            if (!(ev & event::writable)) return;  // not connected yet
            auto w = t.send(s_.now(), sid, req_);
            if (!w || *w != req_.size()) return finish_fail("uinet crr client: the request did not fit");
            k.sent = true;
        }
        for (;;) {
            auto r = t.recv(s_.now(), sid, resp_);
            if (!r) {
                if (r.error() == TcpRecvError::would_block) return;
                return finish_fail("uinet crr client: recv: " + errno_text(to_errno(r.error())));
            }
            if (*r == 0) break;  // the server's FIN: the transaction is complete
            k.got += *r;
        }
        if (k.got != cfg_.crr_size)
            return finish_fail("uinet crr client: answer of " + std::to_string(k.got) + " bytes, expected " +
                               std::to_string(cfg_.crr_size));
        k.live = false;
        t.close(s_.now(), sid);
        last_ = AppClock::now();
        lat_us_.push_back(std::chrono::duration<double, std::micro>(last_ - k.t0).count());
        if (lat_us_.size() == cfg_.crr_count) {
            finished_ = true;
            done_.succeed();
            return;
        }
        if (started_ < cfg_.crr_count) open_one(i);
    }

    void finish_fail(std::string why) {
        finished_ = true;
        for (Slot& k : slots_)
            if (k.live) s_.tcp().abort(s_.now(), k.id);
        done_.fail(std::move(why));
    }

    Stack& s_;
    Config cfg_;
    std::vector<std::uint8_t> req_, resp_;
    Completion& done_;
    Endpoint target_;
    std::vector<Slot> slots_;
    std::uint64_t started_ = 0;
    bool finished_ = false;
    AppClock::time_point first_{}, last_{};
    std::vector<double> lat_us_;
};

}  // namespace uinet::tools::perf::apps
