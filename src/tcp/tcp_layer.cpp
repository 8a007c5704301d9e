// tcp/tcp_layer.cpp — demultiplexing, tables, timers, the segments no connection owns
// (bind, listen and connect: tcp_bind.cpp).
#include "tcp/tcp_layer.hpp"

#include <algorithm>
#include <cerrno>

#include "wire/checksum.hpp"
#include "wire/ipv4.hpp"

namespace uinet::tcp {

using wire::TcpFlags;

namespace {
SipKey random_key(Random& r) { return SipKey{r.u64(), r.u64()}; }
SipKey derive_key(const SipKey& k) { return SipKey{siphash13_u64(k, 0x766c616e), siphash13_u64(k, 0x6964)}; }
}  // namespace

TcpLayer::TcpLayer(net::NetLayer& net, Random& random, const TcpConfig& cfg)
    : net_(net),
      random_(random),
      cfg_(cfg),
      table_key_(random_key(random)),
      conns_(KeyHash{table_key_}),
      vlan_ids_(derive_key(table_key_)),
      deferred_(KeyHash{table_key_}),
      wheel_(Instant::from_ns(0)),
      isn_(random_key(random)),
      cookies_(random_key(random), cfg.syn_cookie_period),
      ports_picker_(random_key(random), cfg.ephemeral_low, cfg.ephemeral_high) {
    net_.set_handler(wire::ip_proto::tcp, this);
    mem_.configure(cfg_.memory_limit, cfg_.memory_pressure_pct);
}

TcpLayer::~TcpLayer() { net_.set_handler(wire::ip_proto::tcp, nullptr); }

TcpLayer::Slot* TcpLayer::slot(TcbId id) {
    if (id == 0 || id > slots_.size() || !slots_[id - 1].tcb) return nullptr;
    return &slots_[id - 1];
}

Tcb* TcpLayer::tcb(TcbId id) {
    Slot* s = slot(id);
    return s ? s->tcb.get() : nullptr;
}

const Tcb* TcpLayer::tcb(TcbId id) const { return const_cast<TcpLayer*>(this)->tcb(id); }

TcbId TcpLayer::new_tcb(const ConnKey& key, std::uint64_t owner) {
    if (live_ >= cfg_.max_connections) {
        ++ctr_.too_many_connections;
        return 0;
    }
    TcbId id;
    if (!free_.empty()) {
        id = free_.back();
        free_.pop_back();
    } else {
        slots_.emplace_back();
        id = static_cast<TcbId>(slots_.size());
    }
    Slot& s = slots_[id - 1];
    s = Slot{};
    s.tcb = std::make_unique<Tcb>(id, key, cfg_, ctr_, *this);
    s.tcb->owner = owner;
    s.tcb->set_trace(trace_all_);
    ++live_;
    return id;
}

std::optional<TcbId> TcpLayer::open(std::uint64_t owner) {
    TcbId id = new_tcb(ConnKey{}, owner);
    if (id == 0) return std::nullopt;
    return id;
}

void TcpLayer::release(Instant now, TcbId id, bool abort) {
    now_ = now;
    Slot* s = slot(id);
    if (!s) return;
    Tcb& t = *s->tcb;
    t.owner = 0;
    if (passive_) passive_->listener_closed(id);  // a passive socket, listening or not
    auto lit = listeners_.find(id);
    if (lit != listeners_.end()) {
        // A closing listener resets the connections nobody accepted.
        for (TcbId c : lit->second.accept_q)
            if (Tcb* ct = tcb(c)) ct->abort(now);
        for (auto& sl : slots_)
            if (sl.tcb && sl.tcb->listener == id && sl.tcb->state() != TcpState::closed) sl.tcb->abort(now);
        add_syn(lit->second, -static_cast<std::ptrdiff_t>(lit->second.syn_count));
        listeners_.erase(lit);
        drop_deferrals(id);
        t.force_close();
    } else if (t.state() == TcpState::closed) {
        s->dead = true;
        dead_.push_back(id);
    } else if (abort) {
        t.abort(now);
    } else {
        t.close(now);
    }
    if (slot(id)) touch(id);
    reap();
}

void TcpLayer::touch(TcbId id) {
    Slot* s = slot(id);
    if (!s) return;
    Instant due = s->tcb->next_deadline();
    if (due == s->due) return;  // the wheel entry is already right
    s->due = due;
    if (due.is_never()) {
        if (s->timer) wheel_.cancel(s->timer);
        s->timer = 0;
        return;
    }
    // Not lazy on purpose: leaving an entry that only moved later to fire
    // early (BSD callout style) was measured to double the p99 latency of
    // request/response (20 -> 40 us on one CPU) for no gain in rate or CPU.
    if (s->timer == 0 || !wheel_.reschedule(s->timer, due)) s->timer = wheel_.schedule(due, id);
}

// --- teardown ------------------------------------------------------------

void TcpLayer::unlink(TcbId id) {
    Slot* s = slot(id);
    if (!s) return;
    if (s->in_table) {
        conns_.erase(s->tcb->key());
        s->in_table = false;
    }
    if (s->time_wait) {
        s->time_wait = false;
        --time_wait_;
    }
}

void TcpLayer::free_tcb(TcbId id) {
    Slot* s = slot(id);
    if (!s) return;
    unlink(id);
    if (bound(id)) unlink_port(id);
    if (s->timer) wheel_.cancel(s->timer);
    vlan_ids_.release(s->tcb->key().vlan);
    if (const std::size_t held = s->tcb->mem_charged(); held != 0) mem_adjust(-static_cast<std::ptrdiff_t>(held));
    if (s->listen_vlan) vlan_ids_.release(*s->listen_vlan);
    s->tcb.reset();
    *s = Slot{};
    free_.push_back(id);
    --live_;
}

void TcpLayer::reap() {
    while (!dead_.empty()) {
        TcbId id = dead_.back();
        dead_.pop_back();
        Slot* s = slot(id);
        if (!s || !s->dead) continue;
        if (s->tcb->owner != 0) {
            s->dead = false;  // the socket still holds it: freed on release()
            continue;
        }
        free_tcb(id);
    }
}

void TcpLayer::enforce_time_wait_budget() {
    while (time_wait_ > cfg_.max_time_wait && !tw_order_.empty()) {
        TcbId id = tw_order_.front();
        tw_order_.pop_front();
        Slot* s = slot(id);
        if (!s || !s->time_wait) continue;
        ++ctr_.time_wait_budget;
        s->tcb->force_close();
    }
}

// --- TcbSink --------------------------------------------------------------

void TcpLayer::notify(Tcb& t, std::uint32_t ev) {
    const TcbId id = t.id();
    Slot* s = slot(id);
    if (!s) return;
    if (ev & tcb_event::time_wait) {
        s->time_wait = true;
        ++time_wait_;
        tw_order_.push_back(id);
    }
    if ((ev & tcb_event::established) && t.listener != 0) {
        auto it = listeners_.find(t.listener);
        if (it != listeners_.end()) {
            if (it->second.syn_count > 0) add_syn(it->second, -1);
            it->second.accept_q.push_back(id);
            if (Tcb* l = tcb(t.listener); l && events_ && l->owner) events_->tcp_event(l->owner, tcb_event::readable);
        }
    }
    if (ev & tcb_event::closed) {
        unlink(id);
        if (t.listener != 0) {
            auto it = listeners_.find(t.listener);
            if (it != listeners_.end()) {
                if (t.state() == TcpState::closed && it->second.syn_count > 0 &&
                    std::find(it->second.accept_q.begin(), it->second.accept_q.end(), id) == it->second.accept_q.end())
                    add_syn(it->second, -1);
                std::erase(it->second.accept_q, id);
            }
            t.listener = 0;
        }
        if (!s->dead) {
            s->dead = true;
            dead_.push_back(id);
        }
    }
    if (events_ && t.owner != 0) events_->tcp_event(t.owner, ev);
}

void TcpLayer::send_segment(Tcb& t, const wire::TcpRepr& hdr_in, SeqNum data_seq, std::size_t len,
                            std::uint8_t ecn) {
    wire::TcpRepr hdr = hdr_in;
    const ConnKey& k = t.key();
    hdr.src_port = k.lport;
    hdr.dst_port = k.rport;
    const std::size_t hlen = hdr.size();
    Packet pkt = net_.pool().alloc(net_.config().headroom);
    if (!pkt || (len > 0 && !t.append_send_data(pkt, data_seq, len))) {
        ++ctr_.no_buffers;
        return;
    }
    std::uint8_t* h = net::push_header(pkt, net_.pool(), hlen, net_.config().headroom);
    if (!h) {
        ++ctr_.no_buffers;
        return;
    }
    hdr.emit_header({h, hlen}, 0);
    const auto l4_len = static_cast<std::uint16_t>(hlen + len);
    if (t.tx_offload().csum) {
        // The device finishes the checksum (the pseudo-header sum goes in
        // the field); a segment of several MSS is a TSO super-segment.
        wire::set_tcp_checksum({h, hlen}, wire::pseudo_partial_v4(k.laddr, k.raddr, wire::ip_proto::tcp, l4_len));
        OffloadMeta& m = pkt.meta();
        m.tx_csum_partial = true;
        m.csum_start = 0;
        m.csum_offset = 16;
        if (len > t.segment_size()) m.tso_mss = t.segment_size();
    } else {
        wire::Checksum c;
        wire::add_pseudo_v4(c, k.laddr, k.raddr, wire::ip_proto::tcp, l4_len);
        pkt.for_each_segment([&](Bytes b) { c.add(b); });
        wire::set_tcp_checksum({h, hlen}, c.finish());
    }
    if (hdr.flags & TcpFlags::rst) ++ctr_.rsts_sent;
    net::SendOptions o;
    o.src = k.laddr;
    o.dst = k.raddr;
    o.protocol = wire::ip_proto::tcp;
    o.dont_frag = true;
    o.tos = ecn & 3;  // RFC 3168 5: the ECN field; DSCP 0
    // Transparent proxying: a forced interface and L2 header (no ARP).
    if (const Slot* s = slot(t.id())) {
        o.ifindex = s->tx_if;
        if (s->l2_tx) o.l2 = &s->l2;
    }
    (void)net_.send(now_, o, std::move(pkt));
}

// --- input ------------------------------------------------------------------

net::Delivery TcpLayer::on_ipv4(Instant now, const net::Ipv4Rx& rx, Packet payload) {
    now_ = now;
    ++ctr_.segs_in;
    const std::size_t total = payload.size();
    if (total < 20 || payload.front().size() < 20) {
        ++ctr_.bad_header;
        return net::Delivery::dropped;
    }
    // Verify the checksum over the whole (possibly chained) segment, then
    // decode the header from the first buffer.
    if (!payload.meta().rx_csum_verified && !(passive_ && !passive_->config().verify_checksums)) {
        wire::Checksum c;
        wire::add_pseudo_v4(c, rx.src, rx.dst, wire::ip_proto::tcp, static_cast<std::uint16_t>(total));
        payload.for_each_segment([&](Bytes b) { c.add(b); });
        if (c.finish() != 0) {
            ++ctr_.bad_checksum;
            return net::Delivery::dropped;
        }
    }
    auto parsed = wire::TcpRepr::parse_unchecked(payload.front().bytes());
    if (!parsed || parsed->header_len > total) {
        ++ctr_.bad_header;
        return net::Delivery::dropped;
    }
    const wire::TcpRepr& seg = *parsed;
    const std::size_t hlen = seg.header_len;
    const std::size_t len = total - hlen;
    ctr_.bytes_in += len;
    if (rx.link_broadcast || rx.dst.is_broadcast() || rx.dst.is_multicast()) {
        ++ctr_.bad_header;  // RFC 9293 3.9.2: TCP is unicast only
        return net::Delivery::dropped;
    }
    ConnKey key{rx.dst, rx.src, seg.dst_port, seg.src_port, rx_vlan(rx.l2)};
    if (rx.observe) {
        // A bridged frame's copy (inline position): watched or nothing.
        if (passive_ && passive_->input(now, rx, seg, payload, hlen, len, key)) return net::Delivery::delivered;
        ++ctr_.observe_dropped;
        return net::Delivery::dropped;
    }
    TcbId* idp = key.vlan != VlanIds::kUnknown ? conns_.find(key) : nullptr;
    // A connection of ours (one that cut in, for one) goes before the
    // passive engine's listeners.
    if (!idp && passive_ && passive_->input(now, rx, seg, payload, hlen, len, key)) return net::Delivery::delivered;
    if (idp) {
        TcbId id = *idp;
        Tcb* t = tcb(id);
        // RFC 9293 3.6.1 / RFC 6191: a new SYN may reopen a TIME-WAIT
        // connection when it is beyond what the old one received.
        if (t->state() == TcpState::time_wait && (seg.flags & TcpFlags::syn) && !(seg.flags & TcpFlags::ack) &&
            t->time_wait_reusable(seg)) {
            ++ctr_.time_wait_reuse;
            t->force_close();
            reap();
            key.vlan = rx_vlan(rx.l2);  // the old connection's id may have gone with it
        } else if (t->state() == TcpState::syn_received && t->listener != 0 && (seg.flags & TcpFlags::ack) &&
                   !(seg.flags & (TcpFlags::rst | TcpFlags::syn)) && accept_full(t->listener)) {
            // The handshake would complete into a full accept queue: drop
            // the ACK (as Linux without tcp_abort_on_overflow); the
            // SYN-ACK's retransmission timer keeps the connection until
            // the peer's next ACK finds room.
            ++ctr_.accept_queue_full_acks;
            return net::Delivery::dropped;
        } else {
            t->input(now, seg, payload, hlen, len, rx.tos & 3);
            touch(id);
            enforce_time_wait_budget();
            reap();
            return net::Delivery::delivered;
        }
    }
    const bool syn_only = (seg.flags & (TcpFlags::syn | TcpFlags::ack | TcpFlags::rst)) == TcpFlags::syn;
    if (syn_only && !deferred_.empty() && key.vlan != VlanIds::kUnknown && deferred_.find(key)) {
        // A retransmitted SYN while the application decides: absorbed.
        ++ctr_.synf_defer_absorbed;
        return net::Delivery::delivered;
    }
    TcbId lid = find_listener(key, net_.is_local(rx.dst));
    if (lid != 0) {
        if (seg.flags & TcpFlags::rst) return net::Delivery::dropped;
        if (seg.flags & TcpFlags::ack) {
            if (!(seg.flags & TcpFlags::syn) && input_cookie(now, lid, key, seg, rx, payload, hlen, len))
                return net::Delivery::delivered;
            // RFC 9293 3.10.7.2: an ACK to a listener draws a RST, black
            // hole or not: the port is claimed.
            reply_rst(now, rx, seg, len, false, slot(lid)->promisc);
            return net::Delivery::delivered;
        }
        if (seg.flags & TcpFlags::syn) input_listen(now, lid, key, seg, rx);
        return net::Delivery::delivered;
    }
    ++ctr_.no_listener;
    if (!(seg.flags & TcpFlags::rst)) reply_rst(now, rx, seg, len, true);
    return net::Delivery::no_listener;
}

void TcpLayer::input_listen(Instant now, TcbId lid, ConnKey key, const wire::TcpRepr& seg, const net::Ipv4Rx& rx) {
    Listener& l = listeners_[lid];
    if (l.accept_q.size() >= l.backlog) {
        ++ctr_.accept_queue_full;
        return;
    }
    if (l.syn_count >= cfg_.syn_backlog || syn_total_ >= cfg_.max_syn_received) {
        ++ctr_.syn_queue_full;
        // RFC 4987 3.6: no state, a cookie. A listener with a SYN filter
        // keeps its filter's say over every connection: no cookies.
        if (cfg_.syn_cookies && !slot(lid)->filter) send_cookie(now, lid, key, seg, rx);
        return;
    }
    if (slot(lid)->filter && run_syn_filter(now, lid, key, seg, rx) == FilterOutcome::done) return;
    create_from_syn(now, lid, key, seg, rx.l2 ? *rx.l2 : net::L2Info{}, rx.ifindex);
}

void TcpLayer::create_from_syn(Instant now, TcbId lid, ConnKey key, const wire::TcpRepr& seg, const net::L2Info& l2,
                               net::IfIndex ifindex) {
    auto lit = listeners_.find(lid);
    if (lit == listeners_.end()) return;
    Listener& l = lit->second;
    if (l.syn_count >= cfg_.syn_backlog || syn_total_ >= cfg_.max_syn_received) {  // again: a deferred SYN
        ++ctr_.syn_queue_full;
        return;
    }
    if (l.accept_q.size() >= l.backlog) {
        ++ctr_.accept_queue_full;
        return;
    }
    const TcbId id = create_passive(lid, key, l2, ifindex);
    if (id == 0) return;
    const Slot& ls = *slot(lid);
    const ConnKey& k = tcb(id)->key();
    tcb(id)->accept_syn(now, isn_.next(now, k.laddr, k.lport, k.raddr, k.rport),
                        mss_for(k.raddr, ls.promisc ? ifindex : 0), seg);
    touch(id);
}

bool TcpLayer::accept_full(TcbId lid) const {
    auto it = listeners_.find(lid);
    return it != listeners_.end() && it->second.accept_q.size() >= it->second.backlog;
}

void TcpLayer::add_syn(Listener& l, std::ptrdiff_t n) {
    l.syn_count = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(l.syn_count) + n);
    syn_total_ = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(syn_total_) + n);
}

TcbId TcpLayer::create_passive(TcbId lid, ConnKey key, const net::L2Info& l2, net::IfIndex ifindex) {
    key.vlan = vlan_ids_.acquire(l2.vlans);  // the connection's reference
    if (conns_.find(key)) {
        vlan_ids_.release(key.vlan);
        return 0;
    }
    TcbId id = new_tcb(key, 0);
    if (id == 0) {
        vlan_ids_.release(key.vlan);
        return 0;
    }
    Tcb& t = *tcb(id);
    Tcb& lt = *tcb(lid);
    Slot& s = *slot(id);
    const Slot& ls = *slot(lid);
    t.listener = lid;
    s.reuse_port = ls.reuse_port;
    t.set_nodelay(lt.nodelay());
    t.inherit_options(lt);
    // The SYN's L2 info, from our side; a promiscuous listener's
    // connections answer with it mirrored, on the SYN's interface, so that
    // they look like the host the peer dialled.
    s.has_l2 = true;
    s.l2 = net::L2Info{l2.dst, l2.src, l2.vlans};
    s.promisc = ls.promisc;
    if (ls.promisc) {
        s.l2_tx = true;
        s.tx_if = ifindex;
    }
    link_port(id);
    conns_.insert(key, id);
    s.in_table = true;
    add_syn(listeners_[lid], 1);
    t.set_tx_offload(offload_for(key.raddr, ls.promisc ? ifindex : 0));
    return id;
}

// --- SYN cookies (RFC 4987 3.6, syn_cookie.hpp) -----------------------------

void TcpLayer::send_cookie(Instant now, TcbId lid, const ConnKey& key, const wire::TcpRepr& syn,
                           const net::Ipv4Rx& rx) {
    const Tcb& lt = *tcb(lid);
    const Slot& ls = *slot(lid);
    const net::IfIndex ifindex = ls.promisc ? rx.ifindex : 0;
    wire::TcpRepr r;
    r.src_port = syn.dst_port;
    r.dst_port = syn.src_port;
    r.seq = cookies_.make(now, key, syn.seq, syn.options.mss);
    r.ack = syn.seq + 1;
    r.flags = TcpFlags::syn | TcpFlags::ack;
    r.window = lt.passive_window();  // RFC 7323 2.2: unscaled in a SYN
    r.options.mss = lt.passive_mss(mss_for(key.raddr, ifindex));
    // Window scale and SACK survive only in the TSval the peer echoes.
    if (cfg_.timestamps && syn.options.timestamps) {
        CookieOptions o;
        if (cfg_.window_scaling && syn.options.wscale) {
            o.wscale = std::min<std::uint8_t>(*syn.options.wscale, 14);
            r.options.wscale = lt.passive_wscale();
        }
        if (cfg_.sack && syn.options.sack_permitted) {
            o.sack = true;
            r.options.sack_permitted = true;
        }
        // The connection's clock (Tcb::tsval): milliseconds plus the ISS.
        const auto ts_now = static_cast<std::uint32_t>(now.ns() / 1'000'000) + r.seq.raw();
        r.options.timestamps = std::make_pair(SynCookies::ts_encode(ts_now, o), syn.options.timestamps->first);
    }
    Listener& l = listeners_[lid];
    l.sent_cookie = true;
    l.last_cookie = now;
    ++ctr_.syncookies_sent;
    if (ls.promisc && rx.l2) {
        const net::L2Info tx{rx.l2->dst, rx.l2->src, rx.l2->vlans};
        send_raw(now, rx.dst, rx.src, r, rx.ifindex, &tx);
    } else {
        send_raw(now, rx.dst, rx.src, r, 0, nullptr);
    }
}

bool TcpLayer::input_cookie(Instant now, TcbId lid, const ConnKey& key, const wire::TcpRepr& seg,
                            const net::Ipv4Rx& rx, const Packet& payload, std::size_t hlen, std::size_t len) {
    auto lit = listeners_.find(lid);
    if (!cfg_.syn_cookies || lit == listeners_.end()) return false;
    // Only while cookies may be out (Linux: no recent SYN queue overflow,
    // no cookie check): a stray ACK is the listener's RST as before.
    Listener& l = lit->second;
    if (!l.sent_cookie || now - l.last_cookie > cookies_.period() * 2) return false;
    const auto mss = cookies_.check(now, key, seg.seq - 1, seg.ack - 1);
    if (!mss) {
        ++ctr_.syncookies_failed;
        return false;
    }
    if (l.accept_q.size() >= l.backlog) {
        ++ctr_.accept_queue_full_acks;  // no state to keep: the peer's retransmission may find room
        return true;
    }
    // The SYN the cookie stands for.
    wire::TcpRepr syn;
    syn.src_port = seg.src_port;
    syn.dst_port = seg.dst_port;
    syn.seq = seg.seq - 1;
    syn.flags = TcpFlags::syn;
    syn.window = seg.window;
    syn.options.mss = *mss;
    if (cfg_.timestamps && seg.options.timestamps) {
        const CookieOptions o = SynCookies::ts_decode(seg.options.timestamps->second);
        syn.options.timestamps = std::make_pair(seg.options.timestamps->first, 0u);
        if (cfg_.window_scaling) syn.options.wscale = o.wscale;
        syn.options.sack_permitted = o.sack;
    }
    const net::IfIndex ifindex = rx.ifindex;
    const TcbId id = create_passive(lid, key, rx.l2 ? *rx.l2 : net::L2Info{}, ifindex);
    if (id == 0) return true;
    ++ctr_.syncookies_ok;
    Tcb& t = *tcb(id);
    t.accept_cookie(now, seg.ack - 1, mss_for(key.raddr, slot(lid)->promisc ? ifindex : 0), syn);
    t.input(now, seg, payload, hlen, len, rx.tos & 3);  // the ACK completes the handshake
    touch(id);
    reap();
    return true;
}

bool TcpLayer::challenge_ack_allowed(Instant now) {
    const std::uint64_t limit = cfg_.challenge_ack_limit;
    if (limit == 0) return true;
    constexpr std::uint64_t kOne = 1'000'000'000;  // one ACK's worth of credit
    const std::uint64_t cap = limit * kOne;
    if (!challenge_started_) {
        challenge_started_ = true;
        challenge_credit_ = cap;
    } else if (now > challenge_last_) {
        const auto dt = std::min<std::uint64_t>(static_cast<std::uint64_t>((now - challenge_last_).ns()), kOne);
        challenge_credit_ = std::min(cap, challenge_credit_ + dt * limit);
    }
    if (now > challenge_last_) challenge_last_ = now;
    if (challenge_credit_ < kOne) return false;
    challenge_credit_ -= kOne;
    return true;
}

void TcpLayer::reply_rst(Instant now, const net::Ipv4Rx& rx, const wire::TcpRepr& seg, std::size_t len,
                         bool unclaimed, bool mirror) {
    // libuinet (FreeBSD's net.inet.tcp.blackhole): stay silent for traffic
    // to ports nobody listens on; a listener still answers bad ACKs.
    if (unclaimed && net_.config().blackhole) return;
    if (mirror && rx.l2) {
        const net::L2Info tx{rx.l2->dst, rx.l2->src, rx.l2->vlans};
        send_reset(now, rx.dst, rx.src, seg, len, rx.ifindex, &tx);
        return;
    }
    send_reset(now, rx.dst, rx.src, seg, len, 0, nullptr);
}

void TcpLayer::send_reset(Instant now, Ipv4Addr src, Ipv4Addr dst, const wire::TcpRepr& seg, std::size_t len,
                          net::IfIndex ifindex, const net::L2Info* tx_l2) {
    // RFC 9293 3.10.7.1.
    wire::TcpRepr r;
    r.src_port = seg.dst_port;
    r.dst_port = seg.src_port;
    if (seg.flags & TcpFlags::ack) {
        r.seq = seg.ack;
        r.flags = TcpFlags::rst;
    } else {
        r.seq = SeqNum(0);
        r.ack = seg.seq + static_cast<std::uint32_t>(len) + ((seg.flags & TcpFlags::syn) ? 1u : 0u) +
                ((seg.flags & TcpFlags::fin) ? 1u : 0u);
        r.flags = TcpFlags::rst | TcpFlags::ack;
    }
    ++ctr_.rsts_sent;
    send_raw(now, src, dst, r, ifindex, tx_l2);
}

void TcpLayer::send_raw(Instant now, Ipv4Addr src, Ipv4Addr dst, const wire::TcpRepr& r, net::IfIndex ifindex,
                        const net::L2Info* tx_l2) {
    Packet pkt = net_.pool().alloc(net_.config().headroom);
    std::uint8_t* h = pkt ? net::push_header(pkt, net_.pool(), r.size(), net_.config().headroom) : nullptr;
    if (!h) {
        ++ctr_.no_buffers;
        return;
    }
    r.emit({h, r.size()}, {}, src, dst);
    ++ctr_.segs_out;
    net::SendOptions o;
    o.src = src;
    o.dst = dst;
    o.protocol = wire::ip_proto::tcp;
    o.ifindex = ifindex;
    o.l2 = tx_l2;
    (void)net_.send(now, o, std::move(pkt));
}

void TcpLayer::on_icmp_error(Instant now, const net::IcmpErrorRx& err) {
    // RFC 5927 / RFC 1122 4.2.3.9: soft errors do not end a connection; a
    // port or protocol unreachable during the handshake ends the attempt.
    if (err.quoted_l4.size() < 8) return;
    ConnKey key{err.src, err.dst, Port(load_be16(err.quoted_l4.data())), Port(load_be16(err.quoted_l4.data() + 2)),
                rx_vlan(err.l2)};
    TcbId* idp = key.vlan != VlanIds::kUnknown ? conns_.find(key) : nullptr;
    if (!idp) return;
    Tcb* t = tcb(*idp);
    // The quoted sequence number must be in flight (RFC 5927 section 4.1).
    SeqNum q(load_be32(err.quoted_l4.data() + 4));
    if (!t->seq_in_flight(q)) return;
    if (err.type == 3 && (err.code == 2 || err.code == 3) && t->state() == TcpState::syn_sent) {
        now_ = now;
        ++ctr_.conn_refused;
        t->fail(TcpError::refused);
        touch(*idp);
        reap();
    }
}

void TcpLayer::mem_adjust(std::ptrdiff_t delta) {
    if (mem_.adjust(delta)) {
        ++ctr_.mem_pressure_entered;
        mem_trim_due_ = true;
    }
    if (delta < 0 && !mem_waiters_.empty()) mem_wake_due_ = true;
}

void TcpLayer::mem_wait(Tcb& t) {
    if (std::find(mem_waiters_.begin(), mem_waiters_.end(), t.id()) == mem_waiters_.end())
        mem_waiters_.push_back(t.id());
}

void TcpLayer::set_trace(TcbId id, TraceSink* sink) {
    if (Tcb* t = tcb(id)) t->set_trace(sink);
}

void TcpLayer::mem_housekeeping() {
    if (mem_.limit() != cfg_.memory_limit) mem_.configure(cfg_.memory_limit, cfg_.memory_pressure_pct);
    if (mem_trim_due_) {
        // Entering pressure: every connection gives back what it may, idle
        // ones included (tcb_autotune.cpp).
        mem_trim_due_ = false;
        for (Slot& s : slots_)
            if (s.tcb && s.tcb->state() != TcpState::listen) s.tcb->mem_trim();
    }
    if (mem_wake_due_) {
        mem_wake_due_ = false;
        std::vector<TcbId> waiters;
        waiters.swap(mem_waiters_);
        for (TcbId id : waiters)
            if (Tcb* t = tcb(id); t && events_ && t->owner) events_->tcp_event(t->owner, tcb_event::writable);
    }
}

void TcpLayer::poll(Instant now) {
    now_ = now;
    mem_housekeeping();
    wheel_.advance(now, [&](std::uint64_t cookie) {
        if (cookie & kDeferralTimer) {
            on_deferral_timeout(now, cookie & ~kDeferralTimer);
            return;
        }
        TcbId id = static_cast<TcbId>(cookie);
        Slot* s = slot(id);
        if (!s) return;
        s->timer = 0;
        s->due = Instant::never();
        s->tcb->on_timer(now);
        touch(id);
    });
    if (passive_) passive_->poll(now);
    enforce_time_wait_budget();
    reap();
}

}  // namespace uinet::tcp
