// tools/proxy/transparent_proxy.cpp — the inline transparent TCP proxy
// (see transparent_proxy.hpp for the contract).
//
// Decisions:
//  * The server side is opened from a task posted to the stack's mailbox,
//    not from inside the SYN filter: the filter runs in the middle of the
//    TCP layer's input, and opening a connection there would re-enter it.
//    The posted task runs at the stack's next iteration (at once: a
//    non-empty mailbox makes the stack's deadline "now").
//  * The deferral's own timeout (connect_timeout + 5 s) only backs up the
//    proxy's: the proxy decides first, so a verdict is never stale.
//  * A server that resets the proxy's SYN (ECONNREFUSED, or ECONNRESET)
//    makes the client's SYN draw a RST; any other failure of the server
//    side's SYN (its own retries ran out, connect_timeout passed) makes it
//    silent, so the client sees exactly the silence the server gave. ICMP
//    errors are bridged, not taken: the client's kernel ignores them (their
//    quoted sequence number is the proxy's), and the attempt ends silent.
//  * Giving up a connection still in SYN-SENT sends nothing (RFC 9293
//    3.10.5, ABORT in SYN-SENT), so a silent server is not told either.
//  * IP fragments are bridged: TCP sets DF (RFC 1191 path MTU discovery),
//    and without the TCP header a fragment's connection is unknown.
#include "proxy/transparent_proxy.hpp"

#include <cerrno>
#include <cstdio>
#include <sstream>

#include "wire/ethernet.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"
#include "wire/vlan.hpp"

namespace uinet::proxy {

namespace {

std::string endpoint_str(Endpoint e) { return e.addr.to_string() + ":" + std::to_string(e.port.value()); }

std::string vlans_str(const wire::VlanStack& v) {
    if (v.empty()) return "-";
    std::string s;
    char buf[24];
    for (const wire::VlanTag& t : v) {
        std::snprintf(buf, sizeof buf, "%s%04x:%u", s.empty() ? "" : ",", t.tpid, t.vid());
        s += buf;
    }
    return s;
}

const char* splice_end_name(SpliceEnd e) {
    switch (e) {
        case SpliceEnd::clean: return "clean";
        case SpliceEnd::reset_a: return "reset_client";
        case SpliceEnd::reset_b: return "reset_server";
        case SpliceEnd::aborted: return "aborted";
    }
    return "?";
}

}  // namespace

std::string format_log(const ConnLog& c) {
    std::ostringstream o;
    o << "conn id=" << c.id << " client=" << endpoint_str(c.client) << " server=" << endpoint_str(c.server)
      << " client_mac=" << c.l2.peer_mac.to_string() << " server_mac=" << c.l2.local_mac.to_string()
      << " vlans=" << vlans_str(c.l2.vlans) << " end=" << c.end << " c2s=" << c.c2s << " s2c=" << c.s2c
      << " ms=" << c.duration.ms();
    return o.str();
}

std::optional<TcpPeek> peek_tcp(Bytes frame) {
    auto l2 = wire::parse_l2(frame);
    // TCP is unicast only (RFC 9293 3.9.2): a multicast frame is not ours.
    if (!l2 || l2->ethertype != wire::ethertype::ipv4 || l2->dst.is_multicast()) return std::nullopt;
    const Bytes ip = frame.subspan(l2->header_len);
    if (ip.size() < wire::kIpv4MinHeaderLen || (ip[0] >> 4) != 4) return std::nullopt;
    const std::size_t ihl = std::size_t{ip[0] & 0x0fu} * 4;
    if (ihl < wire::kIpv4MinHeaderLen || ip[9] != wire::ip_proto::tcp) return std::nullopt;
    if ((load_be16(ip.data() + 6) & 0x3fff) != 0) return std::nullopt;  // a fragment (MF or an offset)
    if (ip.size() < ihl + 14) return std::nullopt;                       // ports, numbers and flags
    const std::uint8_t* t = ip.data() + ihl;
    TcpPeek p;
    p.src = Endpoint{Ipv4Addr(load_be32(ip.data() + 12)), Port(load_be16(t))};
    p.dst = Endpoint{Ipv4Addr(load_be32(ip.data() + 16)), Port(load_be16(t + 2))};
    p.flags = t[13];
    p.vlans = l2->vlans;
    return p;
}

bool TransparentProxy::Key::operator<(const Key& o) const {
    if (ends != o.ends) return ends < o.ends;
    if (ports != o.ports) return ports < o.ports;
    if (vlans.size() != o.vlans.size()) return vlans.size() < o.vlans.size();
    for (std::size_t i = 0; i < vlans.size(); ++i) {
        if (vlans[i].tpid != o.vlans[i].tpid) return vlans[i].tpid < o.vlans[i].tpid;
        if (vlans[i].tci != o.vlans[i].tci) return vlans[i].tci < o.vlans[i].tci;
    }
    return false;
}

TransparentProxy::Key TransparentProxy::key_of(Endpoint client, Endpoint server, const wire::VlanStack& vlans) {
    return Key{(std::uint64_t{client.addr.value()} << 32) | server.addr.value(),
               (std::uint32_t{client.port.value()} << 16) | server.port.value(), vlans};
}

TransparentProxy::TransparentProxy(Stack& stack, ProxyConfig cfg, LogFn log)
    : stack_(stack), cfg_(cfg), log_(std::move(log)), splicer_(stack, cfg.relay_buffer),
      alive_(std::make_shared<bool>(true)) {}

TransparentProxy::~TransparentProxy() {
    stop();
    *alive_ = false;
}

Result<void, std::string> TransparentProxy::start() {
    if (started_) return Err{std::string("already started")};
    net::Interface* ci = stack_.net().interface(cfg_.client_if);
    net::Interface* si = stack_.net().interface(cfg_.server_if);
    if (!ci || !si) return Err{std::string("no such interface")};
    if (ci == si) return Err{std::string("the client and server sides must be two interfaces")};
    // Frames for other hosts must reach the stack (and its SYN filter).
    ci->config().promiscuous = true;
    si->config().promiscuous = true;

    TcpSockets& t = stack_.tcp();
    auto l = t.open();
    if (!l) return Err{std::string("cannot open the listener")};
    listener_ = *l;
    tcp::SynFilterConfig fc;
    fc.max_deferred = cfg_.max_pending;
    fc.overflow_verdict = tcp::SynVerdict::reject_silent;
    fc.defer_timeout = cfg_.connect_timeout + Duration::seconds(5);
    fc.timeout_verdict = tcp::SynVerdict::reject_silent;
    if (!t.set_promiscuous(listener_) || !t.bind(listener_, {Ipv4Addr::any(), Port(0)}) ||
        !t.listen(listener_, cfg_.max_conns) ||
        !t.set_syn_filter(
            listener_, [this](SocketId, const tcp::SynInfo& syn) { return on_syn(syn); }, fc)) {
        t.close(stack_.now(), listener_);
        return Err{std::string("the catch-all listener was refused")};
    }
    t.set_upcall(listener_, [this](SocketId, std::uint32_t) { on_listener(); });
    auto hook = [this](Instant, net::IfIndex in, Bytes frame) { return look(in, frame); };
    stack_.set_first_look(cfg_.client_if, hook);
    stack_.set_first_look(cfg_.server_if, hook);
    started_ = true;
    return {};
}

void TransparentProxy::stop() {
    if (!started_) return;
    started_ = false;
    stack_.set_first_look(cfg_.client_if, {});
    stack_.set_first_look(cfg_.server_if, {});
    splicer_.abort_all();  // each ends through its done callback
    while (!conns_.empty()) end(conns_.begin()->first, "aborted");
    queued_.clear();
    // Closing the listener drops the deferrals and resets unaccepted clients.
    stack_.tcp().close(stack_.now(), listener_);
}

std::size_t TransparentProxy::pending() const { return conns_.size() - splicer_.live(); }

net::FirstLookVerdict TransparentProxy::look(net::IfIndex in, Bytes frame) {
    const bool from_client = in == cfg_.client_if;
    if (auto p = peek_tcp(frame)) {
        const bool new_syn = (p->flags & (wire::TcpFlags::syn | wire::TcpFlags::ack | wire::TcpFlags::rst)) ==
                             wire::TcpFlags::syn;
        if ((from_client && new_syn) || stack_.tcp_layer().claims(p->src, p->dst, p->vlans)) {
            ++(from_client ? ctr_.taken_c2s : ctr_.taken_s2c);
            return net::FirstLookVerdict::take();
        }
    }
    ++(from_client ? ctr_.bridged_c2s : ctr_.bridged_s2c);
    return net::FirstLookVerdict::bridge(from_client ? cfg_.server_if : cfg_.client_if);
}

tcp::SynVerdict TransparentProxy::on_syn(const tcp::SynInfo& syn) {
    // Only client-side SYNs are taken (look()); anything else is refused quietly.
    if (syn.ifindex != cfg_.client_if) return tcp::SynVerdict::reject_silent;
    if (syn.handle == 0 || connecting_ >= cfg_.max_pending || conns_.size() >= cfg_.max_conns) {
        ++ctr_.overflow;
        return tcp::SynVerdict::reject_silent;
    }
    auto c = std::make_unique<Conn>();
    c->id = next_id_++;
    c->handle = syn.handle;
    c->client = syn.remote;
    c->server = syn.local;
    c->l2 = syn.l2;
    c->start = stack_.now();
    queued_.push_back(c->id);
    conns_.emplace(c->id, std::move(c));
    ++connecting_;
    ++ctr_.syns;
    if (queued_.size() == 1)
        stack_.post([this, alive = alive_] {
            if (*alive) open_queued();
        });
    return tcp::SynVerdict::defer;
}

void TransparentProxy::open_queued() {
    std::vector<std::uint64_t> q;
    q.swap(queued_);
    for (std::uint64_t id : q) {
        auto it = conns_.find(id);
        if (it != conns_.end() && it->second->phase == Phase::queued) open_server_side(*it->second);
    }
}

void TransparentProxy::open_server_side(Conn& c) {
    TcpSockets& t = stack_.tcp();
    const Instant now = stack_.now();
    auto s = t.open();
    bool ok = static_cast<bool>(s);
    if (ok) {
        c.out = *s;
        // As the client: its address and port, its MAC as source, the MAC
        // it sent to as destination, its tags, out of the server side.
        ok = t.set_promiscuous(c.out) && t.bind(c.out, c.client, true) &&
             t.set_l2info(c.out, tcp::ConnL2{c.l2.peer_mac, c.l2.local_mac, c.l2.vlans}) &&
             t.set_tx_interface(c.out, cfg_.server_if) && t.connect(now, c.out, c.server);
    }
    if (!ok) {
        ++ctr_.connect_errors;
        verdict(c, tcp::SynVerdict::reject_rst);
        end(c.id, "error");
        return;
    }
    c.phase = Phase::connecting;
    arm(c, now + cfg_.connect_timeout);
    const std::uint64_t id = c.id;
    t.set_upcall(c.out, [this, id](SocketId, std::uint32_t) { on_out_event(id); });
}

void TransparentProxy::on_out_event(std::uint64_t id) {
    auto it = conns_.find(id);
    if (it == conns_.end() || it->second->phase != Phase::connecting) return;
    Conn& c = *it->second;
    TcpSockets& t = stack_.tcp();
    const auto st = t.state(c.out);
    if (st && (*st == tcp::TcpState::syn_sent || *st == tcp::TcpState::syn_received)) return;
    if (st && *st != tcp::TcpState::closed) {
        // The server accepted: so does the proxy, as the server.
        --connecting_;
        c.phase = Phase::accepting;
        t.set_upcall(c.out, {});  // its bytes wait in its buffer until the splice
        if (!t.deliver_syn_verdict(stack_.now(), c.handle, tcp::SynVerdict::accept)) {
            ++ctr_.connect_errors;
            end(id, "error");
            return;
        }
        ++ctr_.accepted;
        accepting_[key_of(c.client, c.server, c.l2.vlans)] = id;
        arm(c, stack_.now() + cfg_.accept_timeout);
        return;
    }
    const int e = t.error(c.out);
    if (e == ECONNREFUSED || e == ECONNRESET) {
        ++ctr_.refused;
        verdict(c, tcp::SynVerdict::reject_rst);
        end(id, "refused");
    } else {
        ++ctr_.silent;
        verdict(c, tcp::SynVerdict::reject_silent);
        end(id, "silent");
    }
}

void TransparentProxy::on_listener() {
    TcpSockets& t = stack_.tcp();
    while (auto in = t.accept(listener_)) {
        const auto local = t.local_endpoint(*in), remote = t.remote_endpoint(*in);
        const auto l2 = t.l2info(*in);
        auto a = local && remote && l2 ? accepting_.find(key_of(*remote, *local, l2->vlans)) : accepting_.end();
        if (a == accepting_.end()) {
            ++ctr_.orphans;
            t.abort(stack_.now(), *in);
            continue;
        }
        const std::uint64_t id = a->second;
        accepting_.erase(a);
        Conn& c = *conns_.at(id);
        timers_.erase({c.deadline, id});
        c.deadline = Instant::never();
        c.phase = Phase::relaying;
        const bool joined = splicer_.join(*in, c.out, [this, id](const SpliceResult& r) {
            ++(r.end == SpliceEnd::clean ? ctr_.completed : ctr_.reset);
            ctr_.bytes_c2s += r.a_to_b;
            ctr_.bytes_s2c += r.b_to_a;
            end(id, splice_end_name(r.end), r.a_to_b, r.b_to_a);
        });
        if (!joined) {
            t.abort(stack_.now(), *in);
            c.phase = Phase::accepting;  // end() aborts the server side
            ++ctr_.reset;
            end(id, "error");
        }
    }
}

void TransparentProxy::verdict(Conn& c, tcp::SynVerdict v) {
    if (c.handle != 0) (void)stack_.tcp().deliver_syn_verdict(stack_.now(), c.handle, v);
    c.handle = 0;
}

void TransparentProxy::arm(Conn& c, Instant deadline) {
    timers_.erase({c.deadline, c.id});
    c.deadline = deadline;
    timers_.insert({deadline, c.id});
}

void TransparentProxy::end(std::uint64_t id, const char* how, std::uint64_t c2s, std::uint64_t s2c) {
    auto it = conns_.find(id);
    if (it == conns_.end()) return;
    std::unique_ptr<Conn> c = std::move(it->second);
    conns_.erase(it);
    timers_.erase({c->deadline, id});
    if (c->phase == Phase::queued || c->phase == Phase::connecting) --connecting_;
    if (c->phase == Phase::accepting) accepting_.erase(key_of(c->client, c->server, c->l2.vlans));
    // The splice owns its sockets; before it, the server side is ours to end.
    if (c->phase != Phase::relaying && c->out.valid()) stack_.tcp().abort(stack_.now(), c->out);
    if (c->handle != 0) verdict(*c, tcp::SynVerdict::reject_silent);
    if (log_) {
        ConnLog l;
        l.id = id;
        l.client = c->client;
        l.server = c->server;
        l.l2 = c->l2;
        l.end = how;
        l.c2s = c2s;
        l.s2c = s2c;
        l.duration = stack_.now() - c->start;
        log_(l);
    }
}

Instant TransparentProxy::next_deadline() const {
    return timers_.empty() ? Instant::never() : timers_.begin()->first;
}

Instant TransparentProxy::poll(Instant now) {
    while (!timers_.empty() && timers_.begin()->first <= now) {
        const std::uint64_t id = timers_.begin()->second;
        timers_.erase(timers_.begin());
        auto it = conns_.find(id);
        if (it == conns_.end()) continue;
        Conn& c = *it->second;
        c.deadline = Instant::never();
        if (c.phase == Phase::connecting) {
            // The server stayed silent: so does the proxy (no RST either way).
            ++ctr_.silent;
            verdict(c, tcp::SynVerdict::reject_silent);
            end(id, "silent");
        } else if (c.phase == Phase::accepting) {
            ++ctr_.client_gone;
            end(id, "client_gone");
        }
    }
    return next_deadline();
}

std::string TransparentProxy::counters_json() const {
    std::ostringstream o;
    o << "{";
    bool first = true;
    visit_counters([&](const char* n, std::uint64_t v) {
        o << (first ? "" : ",") << "\"" << n << "\":" << v;
        first = false;
    });
    o << "}";
    return o.str();
}

}  // namespace uinet::proxy
