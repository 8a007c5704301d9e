// tools/perf_uinet.cpp — the uinet half of `uinet perf` (see perf.hpp).
//
// Two Stacks in this process, "client" (198.18.0.1) and "server"
// (198.18.0.2), joined by a mem pipe with no delay and unlimited bandwidth,
// each driven by Stack::run() on its own thread. The applications (bulk
// sender, discard receiver, request/response client and echo server) are
// small state machines run from socket upcalls on the stack threads; they
// are armed with post() once the loops run. The main thread only waits on a
// Completion, so the process CPU time is the two stack threads'.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <thread>
#include <unordered_map>
#include <vector>

#include "host/posix.hpp"
#include "link/mem_pipe.hpp"
#include "perf.hpp"
#include "stack/stack.hpp"

namespace uinet::tools::perf {

namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr Ipv4Addr kClientIp = Ipv4Addr::of(198, 18, 0, 1);
constexpr Ipv4Addr kServerIp = Ipv4Addr::of(198, 18, 0, 2);
constexpr std::uint16_t kPort = 5001;

double secs_between(SteadyClock::time_point a, SteadyClock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

// The two stacks, their link and their loop threads.
class UinetPair {
public:
    explicit UinetPair(const Config& c) {
        StackOptions o;
        // Jumbo frames fit in one pool buffer, as on a NIC with jumbo rings.
        const std::size_t frame = std::size_t{c.mtu} + 14 + 64 + o.pool.headroom;
        if (frame > o.pool.buf_size) {
            o.pool.buf_size = (frame + 1023) / 1024 * 1024;
            o.pool.count = 4096;
        }
        if (c.sockbuf) o.tcp.sndbuf = o.tcp.rcvbuf = c.sockbuf;
        if (c.offload) {
            // Frames in flight stay in the sender's pool (hand-over): room
            // for every connection's send window on top of the default.
            const std::size_t per_conn = o.tcp.sndbuf / (o.pool.buf_size / 2) + 16;
            o.pool.count = std::clamp<std::size_t>(o.pool.count + per_conn * c.conns, o.pool.count, 65536);
        }
        sndbuf_ = o.tcp.sndbuf;
        rcvbuf_ = o.tcp.rcvbuf;
        o.name = "client";
        a_ = std::make_unique<Stack>(ha_.host(), o);
        o.name = "server";
        b_ = std::make_unique<Stack>(hb_.host(), o);

        MemLinkConfig link;  // no delay, unlimited bandwidth
        link.mtu = c.mtu;
        if (c.offload) {
            // As the kernel's loopback: no checksums, 64 KiB segments, and
            // the pipe passes the sender's frame (one copy, not two).
            link.csum_offload = true;
            link.tso_max = 65535;
            link.hand_over = true;
        }
        // Room for every connection's full send window plus the ACKs, so
        // the link never drops: a drop would be the pipe's doing, not TCP's.
        const std::size_t mss = c.mtu > 100 ? c.mtu - 52 : 48;
        const std::size_t per_conn = o.tcp.sndbuf / mss + 64;
        link.queue_frames = std::clamp<std::size_t>(per_conn * c.conns * 2, 1024, 65536);
        auto [ea, eb] = make_mem_pipe(a_->pool(), b_->pool(), link, "mem0", "mem1");
        net::InterfaceConfig ca, cb;
        ca.name = "mem0";
        ca.mac = MacAddr({0x02, 0, 0, 0, 0, 0x01});
        ca.ipv4 = {Ipv4Cidr{kClientIp, 24}};
        cb.name = "mem1";
        cb.mac = MacAddr({0x02, 0, 0, 0, 0, 0x02});
        cb.ipv4 = {Ipv4Cidr{kServerIp, 24}};
        a_->add_interface(std::move(ea), ca);
        b_->add_interface(std::move(eb), cb);
    }
    ~UinetPair() { stop(); }
    UinetPair(const UinetPair&) = delete;
    UinetPair& operator=(const UinetPair&) = delete;

    Stack& client() { return *a_; }
    Stack& server() { return *b_; }
    std::size_t sndbuf() const { return sndbuf_; }
    std::size_t rcvbuf() const { return rcvbuf_; }

    // Starts both loops, pinned as configured, and returns once both run
    // (so post() is served).
    bool start(const Config& c) {
        ta_ = ha_.threads.start("perf-client", [this, cpu = c.cpu_a] {
            pin_self(cpu);
            a_->run();
        });
        tb_ = hb_.threads.start("perf-server", [this, cpu = c.cpu_b] {
            pin_self(cpu);
            b_->run();
        });
        if (!ta_ || !tb_) return false;
        while (!a_->running() || !b_->running()) std::this_thread::yield();
        return true;
    }
    void stop() {
        if (ta_) {
            a_->stop();
            ta_->join();
            ta_.reset();
        }
        if (tb_) {
            b_->stop();
            tb_->join();
            tb_.reset();
        }
    }

    // Totals over both stacks; call after stop().
    std::uint64_t segments() const {
        return a_->tcp_layer().counters().segs_out + b_->tcp_layer().counters().segs_out;
    }
    std::uint64_t retransmits() const {
        return a_->tcp_layer().counters().retransmits + b_->tcp_layer().counters().retransmits;
    }
    std::uint64_t dropped_frames() {
        std::uint64_t n = 0;
        for (Stack* s : {a_.get(), b_.get()}) {
            for (const auto& ifc : s->net().interfaces()) {
                const DeviceStats& d = ifc->device().stats();
                n += d.tx_dropped + d.tx_errors + d.rx_dropped;
            }
            n += s->pool().stats().alloc_failures;
        }
        return n;
    }

private:
    PosixHost ha_, hb_;
    std::unique_ptr<Stack> a_, b_;
    std::unique_ptr<Thread> ta_, tb_;
    std::size_t sndbuf_ = 0, rcvbuf_ = 0;
};

std::string errno_text(int e) { return std::string(std::strerror(e)); }

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
    BulkSender(Stack& s, const Config& c, Completion& done) : s_(s), cfg_(c), buf_(c.chunk), done_(done) {
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
            if (auto r = t.connect(s_.now(), k.id, {kServerIp, Port(kPort)}); !r) {
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
    RrClient(Stack& s, const Config& c, Completion& done)
        : s_(s), cfg_(c), req_(c.rr_size, 0x5a), resp_(std::max<std::size_t>(c.rr_size, 4096)), done_(done) {
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
        if (auto r = t.connect(s_.now(), id_, {kServerIp, Port(kPort)}); !r)
            done_.fail("uinet rr client: connect: " + errno_text(tcp::to_errno(r.error())));
    }
    std::vector<double>& latencies() { return lat_us_; }
    double secs() const { return secs_between(first_, last_); }

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
            first_ = SteadyClock::now();
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
            last_ = SteadyClock::now();
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
        sent_at_ = SteadyClock::now();
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
    SocketId id_;
    bool started_ = false, finished_ = false;
    std::size_t sent_ = 0, got_ = 0;
    SteadyClock::time_point first_{}, last_{}, sent_at_{};
    std::vector<double> lat_us_;
};

}  // namespace

BulkResult uinet_bulk(const Config& c) {
    BulkResult res;
    UinetPair pair(c);
    Completion done;
    DiscardServer server(pair.server(), c, done);
    BulkSender sender(pair.client(), c, done);
    if (!listen_on(pair.server(), [&server](SocketId id) { server.accepted(id); })) {
        res.error = "uinet: cannot listen";
        return res;
    }
    if (!pair.start(c)) {
        pair.stop();  // before the applications' state goes away
        res.error = "uinet: cannot start the stack threads";
        return res;
    }
    const Cpu cpu0 = process_cpu();
    const auto t0 = SteadyClock::now();
    pair.client().post([&sender] { sender.start(); });
    const bool finished = done.wait(c.timeout_secs);
    const auto t1 = SteadyClock::now();
    const Cpu cpu1 = process_cpu();
    pair.stop();  // the applications' state is read only after the loops ended
    res.ok = finished && done.ok();
    res.error = done.error();
    res.secs = secs_between(t0, t1);
    res.cpu = cpu1 - cpu0;
    res.bytes = server.bytes();
    res.segments = pair.segments();
    res.retransmits = pair.retransmits();
    res.dropped_frames = pair.dropped_frames();
    res.sndbuf = pair.sndbuf();
    res.rcvbuf = pair.rcvbuf();
    return res;
}

RrResult uinet_rr(const Config& c) {
    RrResult res;
    UinetPair pair(c);
    Completion done;
    EchoServer server(pair.server(), c);
    RrClient client(pair.client(), c, done);
    if (!listen_on(pair.server(), [&server](SocketId id) { server.accepted(id); })) {
        res.error = "uinet: cannot listen";
        return res;
    }
    if (!pair.start(c)) {
        pair.stop();  // before the applications' state goes away
        res.error = "uinet: cannot start the stack threads";
        return res;
    }
    const Cpu cpu0 = process_cpu();
    pair.client().post([&client] { client.start(); });
    const bool finished = done.wait(c.timeout_secs);
    const Cpu cpu1 = process_cpu();
    pair.stop();
    res.ok = finished && done.ok();
    res.error = done.error();
    res.cpu = cpu1 - cpu0;
    res.transactions = client.latencies().size();
    res.secs = res.transactions ? client.secs() : 0;
    latency_stats(client.latencies(), res);
    res.segments = pair.segments();
    res.retransmits = pair.retransmits();
    return res;
}

}  // namespace uinet::tools::perf
