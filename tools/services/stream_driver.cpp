// tools/stream_driver.cpp — StreamService <-> TCP socket glue.
#include "services/stream_driver.hpp"

namespace uinet::tools {

ServiceHost::~ServiceHost() { shutdown(); }

void ServiceHost::shutdown() {
    TcpSockets& t = stack_.tcp();
    for (SocketId l : listeners_) t.close(stack_.now(), l);
    listeners_.clear();
    auto conns = std::move(conns_);
    for (auto& [k, c] : conns) t.abort(stack_.now(), c->id);
}

bool ServiceHost::listen(std::uint16_t port, ServiceFactory factory, std::size_t backlog) {
    TcpSockets& t = stack_.tcp();
    auto s = t.open();
    if (!s) return false;
    SocketId l = *s;
    if (!t.bind(l, {Ipv4Addr::any(), Port(port)}, true) || !t.listen(l, backlog)) {
        t.close(stack_.now(), l);
        return false;
    }
    listeners_.push_back(l);
    t.set_upcall(l, [this, factory](SocketId id, std::uint32_t) {
        while (auto c = stack_.tcp().accept(id)) {
            ++stats_.accepted;
            adopt(*c, factory(), {});
        }
    });
    return true;
}

bool ServiceHost::connect(Endpoint remote, std::unique_ptr<services::StreamService> service,
                          std::function<void(bool)> on_end) {
    TcpSockets& t = stack_.tcp();
    auto s = t.open();
    if (!s) return false;
    if (!t.connect(stack_.now(), *s, remote)) {
        t.close(stack_.now(), *s);
        return false;
    }
    ++stats_.connected;
    adopt(*s, std::move(service), std::move(on_end));
    return true;
}

void ServiceHost::adopt(SocketId id, std::unique_ptr<services::StreamService> svc, std::function<void(bool)> on_end) {
    auto c = std::make_unique<Conn>();
    c->id = id;
    c->svc = std::move(svc);
    c->on_end = std::move(on_end);
    const std::uint64_t key = id.cookie();
    conns_[key] = std::move(c);
    stack_.tcp().set_upcall(id, [this, key](SocketId, std::uint32_t) { pump(key); });
    pump(key);
}

void ServiceHost::pump(std::uint64_t key) {
    auto it = conns_.find(key);
    if (it == conns_.end()) return;
    Conn& c = *it->second;
    TcpSockets& t = stack_.tcp();
    services::StreamService& svc = *c.svc;
    if (c.lingering) {
        for (;;) {
            auto r = t.recv(stack_.now(), c.id, inbuf_);
            if (r && *r > 0) {
                c.discarded += *r;
                if (c.discarded > kLingerLimit) {
                    finish(key, true, true);
                    return;
                }
                continue;
            }
            if (r || r.error() != TcpRecvError::would_block) finish(key, true, false);  // EOF or error
            return;
        }
    }
    for (bool progress = true; progress;) {
        progress = false;
        // Output: as much as the socket takes.
        for (;;) {
            if (c.out_off == c.out_len) {
                if (!svc.output_pending()) break;
                c.out_len = svc.produce(c.out);
                c.out_off = 0;
                if (c.out_len == 0) break;
            }
            auto r = t.send(stack_.now(), c.id, {c.out.data() + c.out_off, c.out_len - c.out_off});
            if (!r) {
                if (r.error() == TcpSendError::would_block) break;
                finish(key, false, true);
                return;
            }
            c.out_off += *r;
            stats_.bytes_out += *r;
            progress = true;
        }
        // Input: only while the service wants it (back-pressure).
        if (!c.eof && svc.wants_input()) {
            std::size_t room = std::min(inbuf_.size(), services::kMaxFeed);
            auto r = t.recv(stack_.now(), c.id, {inbuf_.data(), room});
            if (r) {
                if (*r == 0) {
                    c.eof = true;
                    svc.on_eof();
                } else {
                    stats_.bytes_in += *r;
                    svc.on_data({inbuf_.data(), *r});
                }
                progress = true;
            } else if (r.error() != TcpRecvError::would_block) {
                finish(key, false, true);
                return;
            }
        }
        if (svc.failed()) {
            finish(key, false, true);
            return;
        }
    }
    const bool drained = c.out_off == c.out_len && !svc.output_pending();
    if (svc.done() && drained) {
        if (c.eof) {
            finish(key, true, false);
            return;
        }
        c.lingering = true;
        (void)t.shutdown(stack_.now(), c.id, ShutdownHow::write);
        pump(key);
        return;
    }
    // The peer is gone and nothing more can happen.
    if (auto st = t.state(c.id); st && *st == tcp::TcpState::closed) finish(key, c.eof && drained, false);
}

void ServiceHost::finish(std::uint64_t key, bool ok, bool abort) {
    auto it = conns_.find(key);
    if (it == conns_.end()) return;
    std::unique_ptr<Conn> c = std::move(it->second);
    conns_.erase(it);
    TcpSockets& t = stack_.tcp();
    if (abort)
        t.abort(stack_.now(), c->id);
    else
        t.close(stack_.now(), c->id);
    if (ok)
        ++stats_.completed;
    else
        ++stats_.failed;
    if (c->on_end) c->on_end(ok);
}

}  // namespace uinet::tools
