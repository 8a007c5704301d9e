// tcp/passive.cpp — the passive-receive engine (see tcp/passive.hpp).
#include "tcp/passive.hpp"

#include <algorithm>

#include "tcp/tcp_layer.hpp"

namespace uinet::tcp {

using wire::TcpFlags;

const char* to_string(PassiveEnd e) {
    switch (e) {
        case PassiveEnd::open: return "open";
        case PassiveEnd::fin: return "fin";
        case PassiveEnd::reset: return "reset";
        case PassiveEnd::timeout: return "timeout";
        case PassiveEnd::capture_end: return "capture-end";
        case PassiveEnd::replaced: return "replaced";
        case PassiveEnd::listener_closed: return "listener-closed";
        case PassiveEnd::cut_in: return "cut-in";
        case PassiveEnd::taken_over: return "taken-over";
    }
    return "?";
}

namespace {
constexpr std::uint64_t cookie_of(PassiveFlowId id) { return (std::uint64_t{id.gen} << 32) | id.index; }
constexpr PassiveFlowId id_of(std::uint64_t c) {
    return PassiveFlowId{static_cast<std::uint32_t>(c), static_cast<std::uint32_t>(c >> 32)};
}
// The largest window a receiver that sent `ws` can advertise (RFC 7323 2.2,
// 2.3: scaling applies only if both SYNs carried the option; at most 14).
std::size_t max_window_of(std::optional<std::uint8_t> ws, bool both) {
    if (!both || !ws) return 65535;
    return std::size_t{65535} << std::min<std::uint8_t>(*ws, 14);
}
}  // namespace

PassiveEngine::PassiveEngine(TcpLayer& tcp, const PassiveConfig& cfg, SipKey key)
    : tcp_(tcp),
      cfg_(cfg),
      table_(KeyHash{key}),
      vlan_ids_(SipKey{siphash13_u64(key, 0x7061), siphash13_u64(key, 0x7376)}),
      wheel_(Instant::from_ns(0)) {
    budget_.max = cfg_.max_memory;
}

PassiveEngine::~PassiveEngine() = default;

PassiveEngine::Flow* PassiveEngine::flow(PassiveFlowId f) {
    if (f.index == 0 || f.index > slots_.size()) return nullptr;
    Slot& s = slots_[f.index - 1];
    return s.gen == f.gen ? s.flow.get() : nullptr;
}

const PassiveEngine::Flow* PassiveEngine::flow(PassiveFlowId f) const {
    return const_cast<PassiveEngine*>(this)->flow(f);
}

void PassiveEngine::set_listener(TcbId lid, bool on) {
    if (on)
        listeners_[lid].observes = true;
    else
        listener_closed(lid);
}

void PassiveEngine::listener_closed(TcbId lid) {
    auto it = listeners_.find(lid);
    if (it == listeners_.end()) return;
    std::deque<PassiveFlowId> q = std::move(it->second.queue);
    listeners_.erase(it);
    for (PassiveFlowId id : q) {
        Flow* f = flow(id);
        if (!f) continue;
        f->queued = false;
        ++ctr_.flows_accept_dropped;
        if (f->info.end == PassiveEnd::open) end_flow(tcp_.now_, *f, PassiveEnd::listener_closed);
        unlink(*f);
        maybe_free(id);
    }
}

TcbId PassiveEngine::passive_listener_for(const ConnKey& key) const {
    const TcbId lid = tcp_.find_listener(key, tcp_.net_.is_local(key.laddr));
    return lid != 0 && is_listener(lid) ? lid : 0;
}

std::int64_t PassiveEngine::offset_of(const Stream& s, SeqNum seq) {
    const std::uint64_t nxt = s.buf.nxt();
    const SeqNum at_nxt = s.base + static_cast<std::uint32_t>(nxt);
    return static_cast<std::int64_t>(nxt) + (seq - at_nxt);
}

bool PassiveEngine::input(Instant now, const net::Ipv4Rx& rx, const wire::TcpRepr& seg, const Packet& payload,
                          std::size_t hlen, std::size_t len, const ConnKey& key) {
    Instant t = payload.meta().rx_time;
    if (t == Instant{}) t = now;
    cur_if_ = rx.ifindex;
    Bytes data;
    if (len > 0) {
        if (payload.front().size() >= hlen + len) {
            data = payload.front().bytes().subspan(hlen, len);
        } else {
            if (scratch_.size() < len) scratch_.resize(len);
            (void)payload.copy_out(hlen, {scratch_.data(), len});
            data = Bytes{scratch_.data(), len};
        }
    }
    const std::uint32_t vid = rx.l2 ? vlan_ids_.find(rx.l2->vlans) : 0;
    const bool syn_only = (seg.flags & (TcpFlags::syn | TcpFlags::ack | TcpFlags::rst)) == TcpFlags::syn;
    if (vid != VlanIds::kUnknown) {
        int dir = 0;
        PassiveFlowId* idp = table_.find(ConnKey{rx.dst, rx.src, seg.dst_port, seg.src_port, vid});
        if (!idp) {
            idp = table_.find(ConnKey{rx.src, rx.dst, seg.src_port, seg.dst_port, vid});
            dir = 1;
        }
        if (idp) {
            const PassiveFlowId id = *idp;
            Flow& f = *flow(id);
            const bool same_syn = f.s[0].syn_seen && f.s[0].base == seg.seq + 1;
            if (!(dir == 0 && syn_only && !same_syn)) {
                on_segment(now, t, id, f, dir, seg, data);
                return true;
            }
            // A new connection on the 4-tuple: the old flow ends here.
            ++ctr_.flows_replaced;
            if (f.info.end == PassiveEnd::open) end_flow(now, f, PassiveEnd::replaced);
            unlink(f);
            maybe_free(id);
        }
    }
    if (syn_only) {
        const TcbId lid = passive_listener_for(key);
        if (lid == 0) return false;  // not a passive listener's: the connection table decides
        auto id = create(now, t, lid, ConnKey{rx.dst, rx.src, seg.dst_port, seg.src_port, 0}, rx.l2, true, false);
        if (id) {
            Flow& f = *flow(*id);
            // A handshake the server may leave unanswered (syn_takeover):
            // only where the stack can answer, in an inline position.
            if (cfg_.syn_takeover > Duration::zero() && rx.observe && tcp_.net_.inline_peer(rx.ifindex) != 0) {
                f.takeover = true;
                f.syn = seg;
                f.syn_now = now;
                if (rx.l2) f.syn_l2 = *rx.l2;
            }
            on_segment(now, t, *id, f, 0, seg, data);
        }
        return true;
    }
    const TcbId lid = passive_listener_for(key);
    const TcbId rlid = passive_listener_for(ConnKey{rx.src, rx.dst, seg.src_port, seg.dst_port, key.vlan});
    if (lid == 0 && rlid == 0) return false;
    if (!cfg_.midstream || len == 0 || (seg.flags & (TcpFlags::rst | TcpFlags::syn))) {
        ++ctr_.no_flow;
        return true;
    }
    // Mid-stream pickup: the server is the destination if only it matches a
    // passive listener, or if both do and its port is the lower one.
    const bool server_is_dst = lid != 0 && (rlid == 0 || seg.dst_port.value() <= seg.src_port.value());
    const ConnKey fkey = server_is_dst ? ConnKey{rx.dst, rx.src, seg.dst_port, seg.src_port, 0}
                                       : ConnKey{rx.src, rx.dst, seg.src_port, seg.dst_port, 0};
    auto id = create(now, t, server_is_dst ? lid : rlid, fkey, rx.l2, server_is_dst, true);
    if (!id) return true;
    Flow& f = *flow(*id);
    const int d = server_is_dst ? 0 : 1;
    f.s[d].synced = true;
    f.s[d].base = seg.seq;
    if (seg.flags & TcpFlags::ack) {
        f.s[1 - d].synced = true;
        f.s[1 - d].base = seg.ack;
    }
    on_segment(now, t, *id, f, d, seg, data);
    return true;
}

std::optional<PassiveFlowId> PassiveEngine::create(Instant now, Instant t, TcbId lid, const ConnKey& fkey_in,
                                                   const net::L2Info* l2, bool client_frame, bool midstream) {
    if (live_ >= cfg_.max_flows) {
        ++ctr_.flows_table_full;
        return std::nullopt;
    }
    std::uint32_t index;
    if (!free_.empty()) {
        index = free_.back();
        free_.pop_back();
    } else {
        slots_.emplace_back();
        index = static_cast<std::uint32_t>(slots_.size());
    }
    Slot& sl = slots_[index - 1];
    sl.flow = std::make_unique<Flow>(budget_, cfg_);
    const PassiveFlowId id{index, sl.gen};
    ++live_;
    Flow& f = *sl.flow;
    f.key = fkey_in;
    f.key.vlan = l2 ? vlan_ids_.acquire(l2->vlans) : 0;
    table_.insert(f.key, id);
    f.in_table = true;
    f.listener = lid;
    f.origin = lid;
    if (cfg_.retain_unacked)
        for (Stream& st : f.s) st.buf.set_retain(true);
    f.queued = true;
    f.last_now = now;
    PassiveConnInfo& in = f.info;
    in.serial = ++serial_;
    in.client = Endpoint{f.key.raddr, f.key.rport};
    in.server = Endpoint{f.key.laddr, f.key.lport};
    if (l2) {
        in.l2.local_mac = client_frame ? l2->dst : l2->src;
        in.l2.peer_mac = client_frame ? l2->src : l2->dst;
        in.l2.vlans = l2->vlans;
    }
    in.midstream = midstream;
    in.first = t;
    ++ctr_.flows;
    if (midstream) ++ctr_.flows_midstream;
    listeners_[lid].queue.push_back(id);
    if (const Tcb* lt = tcp_.tcb(lid); lt && lt->owner != 0 && tcp_.events_)
        tcp_.events_->tcp_event(lt->owner, tcb_event::readable);
    return id;
}

void PassiveEngine::set_limits(Flow& f) {
    // Until the SYN-ACK is seen the receivers' windows are unknown.
    const bool both = f.s[0].wscale.has_value() && f.s[1].wscale.has_value();
    for (int d = 0; d < 2; ++d) {
        Stream& s = f.s[d];
        const Stream& receiver = f.s[1 - d];
        std::size_t w = cfg_.max_window;
        if (f.s[0].syn_seen && f.s[1].syn_seen) w = std::min(w, max_window_of(receiver.wscale, both));
        s.buf.set_limits(w, w + cfg_.unread_allowance);
    }
}

void PassiveEngine::sync_holes(Stream& s) {
    const std::uint64_t made = s.buf.holes_made(), bytes = s.buf.hole_bytes();
    ctr_.holes += made - s.st.holes;
    ctr_.hole_bytes += bytes - s.st.hole_bytes;
    s.st.holes = made;
    s.st.hole_bytes = bytes;
}

void PassiveEngine::store(Instant now, Stream& s, std::int64_t off, Bytes data) {
    if (off < 0) {  // bytes before the stream's first byte (a SYN's number)
        const std::size_t k = std::min<std::size_t>(static_cast<std::size_t>(-off), data.size());
        data = data.subspan(k);
        off += static_cast<std::int64_t>(k);
    }
    if (data.empty()) return;
    if (s.app_closed) return;
    const PassiveInsert r = s.buf.insert(static_cast<std::uint64_t>(off), data, now);
    s.st.bytes += r.stored;
    s.st.duplicate_bytes += r.duplicate;
    s.st.late_bytes += r.late;
    s.st.out_of_window_bytes += r.beyond_window;
    s.st.overrun_bytes += r.overrun;
    ctr_.bytes += r.stored;
    ctr_.duplicate_bytes += r.duplicate;
    ctr_.late_bytes += r.late;
    ctr_.out_of_window_bytes += r.beyond_window;
    ctr_.overrun_bytes += r.overrun;
    ctr_.forced_holes += r.forced_holes;
    ctr_.memory_refused = budget_.refused;
    if (r.inconsistent > 0) {
        ++s.st.inconsistent_segments;
        s.st.inconsistent_bytes += r.inconsistent;
        ++ctr_.inconsistent_segments;
        ctr_.inconsistent_bytes += r.inconsistent;
    }
    if ((r.beyond_window > 0 || r.overrun > 0) && s.buf.has_gap()) {
        // The window is full behind a gap: it will not fill any more.
        s.buf.skip_first_gap();
        ++ctr_.forced_holes;
    }
    sync_holes(s);
}

void PassiveEngine::on_segment(Instant now, Instant t, PassiveFlowId id, Flow& f, int dir,
                               const wire::TcpRepr& seg, Bytes data) {
    Stream& s = f.s[dir];
    Stream& r = f.s[1 - dir];
    const bool syn = seg.flags & TcpFlags::syn;
    const bool ack = seg.flags & TcpFlags::ack;
    ++ctr_.segments;
    ++s.st.segments;
    s.ifindex = cur_if_;
    f.info.last = t;
    f.last_now = now;
    if (syn) {
        if (!s.syn_seen) {
            if (!s.synced) {
                s.base = seg.seq + 1;
                s.synced = true;
            } else if (s.base != seg.seq + 1) {
                ++ctr_.syn_ignored;  // its start was inferred otherwise (midstream or the client's ACK)
            }
            s.syn_seen = true;
            s.wscale = seg.options.wscale;
            s.mss = seg.options.mss;
            s.sack_ok = seg.options.sack_permitted;
            s.ts_ok = seg.options.timestamps.has_value();
            set_limits(f);
        } else if (s.base != seg.seq + 1) {
            ++ctr_.syn_ignored;  // another SYN-ACK (different ISN) on a live flow
            touch(id, f);
            return;
        }
    }
    if (s.st.first.is_never() && (syn || !data.empty())) s.st.first = t;
    if (syn && dir == 0 && !r.syn_seen) f.hs[0] = now;
    if (syn && dir == 1 && f.hs[1].is_never()) f.hs[1] = now;
    if (!syn && dir == 0 && ack && f.hs[2].is_never() && !f.hs[1].is_never() && r.synced && seg.ack == r.base)
        f.hs[2] = now;
    if (seg.flags & TcpFlags::rst) {
        // RFC 5961 3.2 asks a receiver for an exact match; an observer that
        // may have missed bytes takes a RST anywhere within the window.
        bool ok = false;
        if (s.synced) {
            const std::int64_t o = offset_of(s, seg.seq);
            const std::int64_t nxt = static_cast<std::int64_t>(s.buf.nxt());
            const std::int64_t w = static_cast<std::int64_t>(s.buf.window());
            ok = o >= nxt - w && o <= nxt + w;
        } else if (ack && r.synced && seg.ack == r.base) {
            ok = true;  // the answer to the client's SYN
        }
        if (!ok) {
            ++ctr_.rst_ignored;
        } else if (f.info.end == PassiveEnd::open) {
            s.st.last = t;
            end_flow(now, f, PassiveEnd::reset);
        }
        touch(id, f);
        return;
    }
    // The sender's latest ACK, window and TSval (cut-in continues them); the
    // bytes it acknowledged need no longer be kept.
    if (seg.options.timestamps &&
        (!s.ts_seen || static_cast<std::int32_t>(seg.options.timestamps->first - s.tsval) > 0)) {
        s.tsval = seg.options.timestamps->first;
        s.ts_seen = true;
    }
    if (ack && (!s.acked || seg.ack >= s.ack)) {
        s.acked = true;
        s.ack = seg.ack;
        s.win = seg.window;
        s.win_syn = syn;
        if (r.synced && r.buf.retaining()) {
            const std::int64_t a = offset_of(r, seg.ack);
            if (a > 0) r.buf.release_to(static_cast<std::uint64_t>(a));
        }
    }
    if (ack) {
        if (!r.synced) {
            r.base = seg.ack;  // the handshake's last ACK names the other side's start
            r.synced = true;
        } else if (cfg_.ack_holes && r.st.end == PassiveEnd::open) {
            const std::int64_t a = offset_of(r, seg.ack);
            std::uint64_t upto = a > 0 ? static_cast<std::uint64_t>(a) : 0;
            if (r.fin) upto = std::min(upto, r.fin_off);
            if (upto > r.buf.nxt()) {
                if (upto - r.buf.nxt() > r.buf.window()) {
                    ++ctr_.ack_ignored;  // beyond anything the sender could have sent
                } else {
                    r.buf.skip_to(upto);
                    ++ctr_.ack_holes;
                    sync_holes(r);
                    check_end(now, f, 1 - dir);
                    if (r.buf.pending()) notify(f, 1 - dir, tcb_event::readable);
                }
            }
        }
    }
    const std::size_t before = s.buf.readable();
    if (!data.empty() || (seg.flags & TcpFlags::fin)) s.st.last = t;
    if (!data.empty()) {
        if (!s.synced) {
            ctr_.unsynced_bytes += data.size();
        } else {
            const std::int64_t off = offset_of(s, seg.seq + (syn ? 1u : 0u));
            if (s.fin && off + static_cast<std::int64_t>(data.size()) > static_cast<std::int64_t>(s.fin_off)) {
                const std::int64_t keep = std::max<std::int64_t>(0, static_cast<std::int64_t>(s.fin_off) - off);
                const std::size_t k = std::min<std::size_t>(static_cast<std::size_t>(keep), data.size());
                ctr_.data_after_fin += data.size() - k;
                data = data.first(k);
            }
            if (s.st.end == PassiveEnd::open) store(now, s, off, data);
        }
    }
    if ((seg.flags & TcpFlags::fin) && s.synced && !s.fin) {
        const std::int64_t fo = offset_of(s, seg.seq + (syn ? 1u : 0u) + static_cast<std::uint32_t>(data.size()));
        if (fo >= 0 && static_cast<std::uint64_t>(fo) >= s.buf.stored_end()) {
            s.fin = true;
            s.st.fin = true;
            s.fin_off = static_cast<std::uint64_t>(fo);
            s.fin_time = now;
        } else {
            ++ctr_.data_after_fin;  // a FIN before bytes already held: inconsistent, ignored
        }
    }
    check_end(now, f, dir);
    if (s.buf.readable() != before || s.st.end != PassiveEnd::open || s.buf.pending())
        notify(f, dir, tcb_event::readable);
    touch(id, f);
}

void PassiveEngine::check_end(Instant now, Flow& f, int dir) {
    Stream& s = f.s[dir];
    if (s.st.end != PassiveEnd::open || !s.fin) return;
    if (s.app_closed || (s.buf.nxt() >= s.fin_off && !s.buf.has_gap())) end_stream(now, f, dir, PassiveEnd::fin);
}

void PassiveEngine::end_stream(Instant now, Flow& f, int dir, PassiveEnd why) {
    Stream& s = f.s[dir];
    if (s.st.end != PassiveEnd::open) return;
    if (!s.app_closed) {
        s.buf.flush();
        if (s.fin && s.buf.nxt() < s.fin_off) s.buf.skip_to(s.fin_off);
        sync_holes(s);
    }
    s.st.end = why;
    notify(f, dir, tcb_event::readable | tcb_event::hangup);
    const PassiveEnd other = f.s[1 - dir].st.end;
    if (other == PassiveEnd::open) return;
    f.info.end = why != PassiveEnd::fin ? why : other;
    f.ended_at = now;
    switch (f.info.end) {
        case PassiveEnd::fin: ++ctr_.end_fin; break;
        case PassiveEnd::reset: ++ctr_.end_reset; break;
        case PassiveEnd::timeout: ++ctr_.end_timeout; break;
        case PassiveEnd::capture_end: ++ctr_.end_capture; break;
        default: break;
    }
}

void PassiveEngine::end_flow(Instant now, Flow& f, PassiveEnd why) {
    for (int d = 0; d < 2; ++d) end_stream(now, f, d, why);
}

void PassiveEngine::notify(const Flow& f, int dir, std::uint32_t events) {
    if (f.owner[dir] != 0 && tcp_.events_) tcp_.events_->tcp_event(f.owner[dir], events);
}

Instant PassiveEngine::due_of(const Flow& f) const {
    if (!f.in_table) return Instant::never();
    if (!f.ended_at.is_never()) return f.ended_at + cfg_.linger;
    const bool half = f.s[0].st.end != PassiveEnd::open || f.s[1].st.end != PassiveEnd::open;
    Instant d = f.last_now + (half ? cfg_.half_closed_timeout : cfg_.idle_timeout);
    if (f.takeover && !f.s[1].syn_seen) d = earliest(d, f.syn_now + cfg_.syn_takeover);
    for (const Stream& s : f.s) {
        if (s.buf.has_gap()) d = earliest(d, s.buf.gap_since() + cfg_.hole_timeout);
        if (s.fin && !s.buf.has_gap() && s.buf.nxt() < s.fin_off) d = earliest(d, s.fin_time + cfg_.hole_timeout);
    }
    return d;
}

void PassiveEngine::touch(PassiveFlowId id, Flow& f) {
    // Lazily: a timer due earlier than needed fires, finds nothing and re-arms.
    const Instant d = due_of(f);
    if (d.is_never()) return;
    if (f.timer != 0 && f.due <= d) return;
    f.due = d;
    if (f.timer == 0 || !wheel_.reschedule(f.timer, d)) f.timer = wheel_.schedule(d, cookie_of(id));
}

void PassiveEngine::on_timer(Instant now, PassiveFlowId id) {
    Flow* fp = flow(id);
    if (!fp) return;
    Flow& f = *fp;
    f.timer = 0;
    f.due = Instant::never();
    if (!f.in_table) return;
    if (!f.ended_at.is_never()) {
        if (now >= f.ended_at + cfg_.linger) {
            unlink(f);
            maybe_free(id);
            return;
        }
    } else if (f.takeover && !f.s[1].syn_seen && now >= f.syn_now + cfg_.syn_takeover) {
        takeover(now, id, f);
        return;
    } else {
        const bool half = f.s[0].st.end != PassiveEnd::open || f.s[1].st.end != PassiveEnd::open;
        if (now >= f.last_now + (half ? cfg_.half_closed_timeout : cfg_.idle_timeout)) {
            end_flow(now, f, PassiveEnd::timeout);
        } else {
            for (int d = 0; d < 2; ++d) {
                Stream& s = f.s[d];
                if (s.st.end != PassiveEnd::open) continue;
                bool made = false;
                while (s.buf.has_gap() && s.buf.gap_since() + cfg_.hole_timeout <= now) {
                    s.buf.skip_first_gap();
                    made = true;
                }
                if (s.fin && !s.buf.has_gap() && s.buf.nxt() < s.fin_off && s.fin_time + cfg_.hole_timeout <= now) {
                    s.buf.skip_to(s.fin_off);
                    made = true;
                }
                if (!made) continue;
                ++ctr_.timeout_holes;
                sync_holes(s);
                check_end(now, f, d);
                notify(f, d, tcb_event::readable);
            }
        }
    }
    touch(id, f);
}

void PassiveEngine::poll(Instant now) {
    wheel_.advance(now, [&](std::uint64_t cookie) { on_timer(now, id_of(cookie)); });
}

void PassiveEngine::finish(Instant now) {
    for (std::uint32_t i = 0; i < slots_.size(); ++i) {
        Flow* f = slots_[i].flow.get();
        if (!f || f->info.end != PassiveEnd::open) continue;
        end_flow(now, *f, PassiveEnd::capture_end);
        touch(PassiveFlowId{i + 1, slots_[i].gen}, *f);
    }
}

void PassiveEngine::unlink(Flow& f) {
    if (!f.in_table) return;
    table_.erase(f.key);
    vlan_ids_.release(f.key.vlan);
    f.in_table = false;
}

void PassiveEngine::maybe_free(PassiveFlowId id) {
    Flow* f = flow(id);
    if (!f || f->in_table || f->queued || f->owner[0] != 0 || f->owner[1] != 0) return;
    if (f->timer) wheel_.cancel(f->timer);
    Slot& sl = slots_[id.index - 1];
    sl.flow.reset();
    ++sl.gen;
    if (sl.gen == 0) sl.gen = 1;
    free_.push_back(id.index);
    --live_;
}

std::optional<PassiveFlowId> PassiveEngine::accept(TcbId lid) {
    auto it = listeners_.find(lid);
    if (it == listeners_.end()) return std::nullopt;
    auto& q = it->second.queue;
    while (!q.empty()) {
        const PassiveFlowId id = q.front();
        q.pop_front();
        Flow* f = flow(id);
        if (!f) continue;
        f->queued = false;
        f->accepted = true;
        f->listener = 0;
        return id;
    }
    return std::nullopt;
}

bool PassiveEngine::accept_ready(TcbId lid) const {
    auto it = listeners_.find(lid);
    return it != listeners_.end() && !it->second.queue.empty();
}

bool PassiveEngine::attach(PassiveFlowId id, int dir, std::uint64_t owner) {
    Flow* f = flow(id);
    if (!f || dir < 0 || dir > 1) return false;
    f->owner[dir] = owner;
    return true;
}

void PassiveEngine::detach(PassiveFlowId id, int dir) {
    Flow* f = flow(id);
    if (!f || dir < 0 || dir > 1) return;
    f->owner[dir] = 0;
    Stream& s = f->s[dir];
    s.app_closed = true;
    s.buf.release();
    check_end(tcp_.now_, *f, dir);
    maybe_free(id);
}

PassiveRead PassiveEngine::read(PassiveFlowId id, int dir, MutBytes dst, bool stop_at_hole) {
    Flow* f = flow(id);
    if (!f) return {};
    Stream& s = f->s[dir];
    PassiveRead r = s.buf.read(dst, stop_at_hole);
    // A finished stream gives its ring back once drained.
    if (s.st.end != PassiveEnd::open && !s.buf.pending()) s.buf.release();
    return r;
}

std::size_t PassiveEngine::readable(PassiveFlowId id, int dir) const {
    const Flow* f = flow(id);
    return f ? f->s[dir].buf.readable() : 0;
}

bool PassiveEngine::pending(PassiveFlowId id, int dir) const {
    const Flow* f = flow(id);
    return f && f->s[dir].buf.pending();
}

bool PassiveEngine::at_eof(PassiveFlowId id, int dir) const {
    const Flow* f = flow(id);
    return !f || (f->s[dir].st.end != PassiveEnd::open && !f->s[dir].buf.pending());
}

std::optional<PassiveConnInfo> PassiveEngine::info(PassiveFlowId id) const {
    const Flow* f = flow(id);
    if (!f) return std::nullopt;
    PassiveConnInfo in = f->info;
    in.c2s = f->s[0].st;
    in.s2c = f->s[1].st;
    in.c2s.synced = f->s[0].synced;
    in.s2c.synced = f->s[1].synced;
    in.c2s.offset = f->s[0].buf.nxt();
    in.s2c.offset = f->s[1].buf.nxt();
    return in;
}

}  // namespace uinet::tcp

namespace uinet::tcp {

Result<void, ProxyError> TcpLayer::set_passive(TcbId id, bool on) {
    Slot* s = slot(id);
    if (!s) return Err{ProxyError::bad_socket};
    if (s->tcb->state() != TcpState::closed) return Err{ProxyError::invalid_state};
    if (!bound(id)) s->promisc = on;
    if (!passive_ && !on) return {};
    ensure_passive().set_listener(id, on);
    return {};
}

}  // namespace uinet::tcp
