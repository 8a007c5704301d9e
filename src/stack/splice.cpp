// stack/splice.cpp — the two-way relay between two sockets of one stack.
#include "stack/splice.hpp"

#include <algorithm>

#include "stack/stack.hpp"

namespace uinet {

const char* to_string(SpliceEnd e) {
    switch (e) {
        case SpliceEnd::clean: return "clean";
        case SpliceEnd::reset_a: return "reset_a";
        case SpliceEnd::reset_b: return "reset_b";
        case SpliceEnd::aborted: return "aborted";
    }
    return "?";
}

namespace {

// Room in dst's send buffer that a send() may use now (none while connecting).
std::size_t room(const TcpSockets& t, SocketId dst) {
    auto st = t.state(dst);
    if (!st || *st == tcp::TcpState::syn_sent || *st == tcp::TcpState::syn_received) return 0;
    return t.send_space(dst);
}

bool closed(const TcpSockets& t, SocketId id) {
    auto st = t.state(id);
    return !st || *st == tcp::TcpState::closed;
}

}  // namespace

Splicer::Splicer(Stack& stack, std::size_t scratch) : stack_(stack), scratch_(std::max<std::size_t>(scratch, 512)) {}

Splicer::~Splicer() { abort_all(); }

bool Splicer::join(SocketId a, SocketId b, Done done) {
    TcpSockets& t = stack_.tcp();
    if (a == b || !t.state(a) || !t.state(b)) return false;
    if (by_socket_.count(a.cookie()) || by_socket_.count(b.cookie())) return false;
    const std::uint64_t key = a.cookie();
    auto s = std::make_unique<Splice>();
    s->res.a = a;
    s->res.b = b;
    s->done = std::move(done);
    splices_.emplace(key, std::move(s));
    by_socket_[a.cookie()] = key;
    by_socket_[b.cookie()] = key;
    auto up = [this, key](SocketId, std::uint32_t) { pump(key); };
    t.set_upcall(a, up);
    t.set_upcall(b, up);
    ++ctr_.joined;
    pump(key);  // bytes may already be waiting
    return true;
}

void Splicer::abort_all() {
    while (!splices_.empty()) finish(splices_.begin()->first, SpliceEnd::aborted);
}

void Splicer::pump(std::uint64_t key) {
    auto it = splices_.find(key);
    if (it == splices_.end()) return;
    Splice& s = *it->second;
    if (!relay(key, s, s.res.a, s.res.b, s.ab, true)) return;
    if (!relay(key, s, s.res.b, s.res.a, s.ba, false)) return;
    if (s.ab.shut && s.ba.shut) {
        finish(key, SpliceEnd::clean);
        return;
    }
    // A socket that died without a readable error (e.g. reset while its
    // direction had already ended) ends the splice too.
    TcpSockets& t = stack_.tcp();
    if (closed(t, s.res.a))
        finish(key, SpliceEnd::reset_a);
    else if (closed(t, s.res.b))
        finish(key, SpliceEnd::reset_b);
}

bool Splicer::relay(std::uint64_t key, Splice& s, SocketId src, SocketId dst, Direction& d, bool src_is_a) {
    TcpSockets& t = stack_.tcp();
    const SpliceEnd src_failed = src_is_a ? SpliceEnd::reset_a : SpliceEnd::reset_b;
    const SpliceEnd dst_failed = src_is_a ? SpliceEnd::reset_b : SpliceEnd::reset_a;
    while (!d.eof) {
        const std::size_t n = std::min(room(t, dst), scratch_.size());
        if (n == 0) break;
        auto r = t.recv(stack_.now(), src, {scratch_.data(), n});
        if (!r) {
            if (r.error() == TcpRecvError::would_block) break;
            finish(key, src_failed);
            return false;
        }
        if (*r == 0) {
            d.eof = true;
            break;
        }
        // n never exceeds the room send() has, so it takes every byte.
        auto w = t.send(stack_.now(), dst, {scratch_.data(), *r});
        if (!w || *w != *r) {
            finish(key, dst_failed);
            return false;
        }
        d.bytes += *r;
        ctr_.bytes += *r;
    }
    if (d.eof && !d.shut) {
        d.shut = true;
        if (!t.shutdown(stack_.now(), dst, ShutdownHow::write)) {
            finish(key, dst_failed);
            return false;
        }
    }
    (void)s;
    return true;
}

void Splicer::finish(std::uint64_t key, SpliceEnd end) {
    auto it = splices_.find(key);
    if (it == splices_.end()) return;
    std::unique_ptr<Splice> s = std::move(it->second);
    splices_.erase(it);
    by_socket_.erase(s->res.a.cookie());
    by_socket_.erase(s->res.b.cookie());
    TcpSockets& t = stack_.tcp();
    t.set_upcall(s->res.a, {});
    t.set_upcall(s->res.b, {});
    const Instant now = stack_.now();
    if (end == SpliceEnd::clean) {
        t.close(now, s->res.a);
        t.close(now, s->res.b);
        ++ctr_.clean;
    } else {
        // The failed side is already closed; abort() on it only frees the socket.
        t.abort(now, s->res.a);
        t.abort(now, s->res.b);
        if (end == SpliceEnd::aborted)
            ++ctr_.aborted;
        else
            ++ctr_.reset;
    }
    s->res.a_to_b = s->ab.bytes;
    s->res.b_to_a = s->ba.bytes;
    s->res.end = end;
    if (s->done) s->done(s->res);
}

}  // namespace uinet
