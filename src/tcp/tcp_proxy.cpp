// tcp/tcp_proxy.cpp — the transparent-proxy features of TcpLayer:
// promiscuous sockets, per-socket transmit interface and L2 info, listener
// tag restrictions, and SYN filters with deferred verdicts.
//
// Decisions:
//  * A SYN filter runs after the listener's queue limits (a SYN that would
//    be dropped for a full queue is not shown to it) and before any state
//    exists. It runs even when the listener already holds max_deferred
//    deferrals; it then gets handle 0, and `defer` means the configured
//    overflow verdict (counted as an overflow).
//  * reject_rst answers RFC 9293 3.10.7.2's way for a SYN that is not
//    wanted: <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK>. A promiscuous listener's
//    answers (RSTs included) mirror the SYN's L2 header on its interface.
//  * While a SYN is deferred, retransmissions of it (same 4-tuple and tag
//    stack) are absorbed and counted; other segments for the 4-tuple meet
//    the listener as usual. On accept the connection is created from the
//    stored SYN (its MSS, window scale, SACK-permitted and timestamps) and
//    the SYN-ACK leaves at once; a timed-out deferral gets the configured
//    timeout verdict (from the stack's timer wheel).
//  * Closing a listener drops its deferrals silently; their handles turn
//    stale.
#include <cerrno>

#include "tcp/tcp_layer.hpp"

namespace uinet::tcp {

const char* to_string(SynVerdict v) {
    switch (v) {
        case SynVerdict::accept: return "accept";
        case SynVerdict::reject_rst: return "reject_rst";
        case SynVerdict::reject_silent: return "reject_silent";
        case SynVerdict::defer: return "defer";
        case SynVerdict::accept_passive: return "accept_passive";
    }
    return "?";
}

int to_errno(ProxyError e) {
    switch (e) {
        case ProxyError::bad_socket: return EBADF;
        case ProxyError::invalid_state:
        case ProxyError::invalid_argument: return EINVAL;
        case ProxyError::not_found: return ENOENT;
    }
    return EINVAL;
}

int to_errno(VerdictError e) { return e == VerdictError::stale_handle ? ENOENT : EINVAL; }

// --- per-socket settings ---------------------------------------------------

Result<void, ProxyError> TcpLayer::set_promiscuous(TcbId id, bool on) {
    Slot* s = slot(id);
    if (!s) return Err{ProxyError::bad_socket};
    if (s->tcb->state() != TcpState::closed || bound(id)) return Err{ProxyError::invalid_state};
    s->promisc = on;
    return {};
}

bool TcpLayer::promiscuous(TcbId id) const {
    const Tcb* t = tcb(id);
    return t && slots_[id - 1].promisc;
}

Result<void, ProxyError> TcpLayer::set_tx_interface(TcbId id, net::IfIndex ifindex) {
    Slot* s = slot(id);
    if (!s) return Err{ProxyError::bad_socket};
    if (ifindex != 0 && !net_.interface(ifindex)) return Err{ProxyError::invalid_argument};
    s->tx_if = ifindex;
    return {};
}

Result<void, ProxyError> TcpLayer::set_l2info(TcbId id, const ConnL2& l2) {
    Slot* s = slot(id);
    if (!s) return Err{ProxyError::bad_socket};
    // The tags are part of the connection's key: fixed before it exists.
    if (s->tcb->state() != TcpState::closed) return Err{ProxyError::invalid_state};
    if (l2.peer_mac.is_zero() || l2.local_mac.is_multicast()) return Err{ProxyError::invalid_argument};
    s->l2 = net::L2Info{l2.local_mac, l2.peer_mac, l2.vlans};
    s->has_l2 = true;
    s->l2_tx = true;
    return {};
}

std::optional<ConnL2> TcpLayer::l2info(TcbId id) const {
    const Tcb* t = tcb(id);
    if (!t) return std::nullopt;
    const Slot& s = slots_[id - 1];
    if (!s.has_l2) return std::nullopt;
    return ConnL2{s.l2.src, s.l2.dst, s.l2.vlans};
}

Result<void, ProxyError> TcpLayer::set_listen_vlans(TcbId id, const std::optional<wire::VlanStack>& vlans) {
    Slot* s = slot(id);
    if (!s) return Err{ProxyError::bad_socket};
    const TcpState st = s->tcb->state();
    if (st != TcpState::closed && st != TcpState::listen) return Err{ProxyError::invalid_state};
    if (s->listen_vlan) vlan_ids_.release(*s->listen_vlan);
    s->listen_vlan.reset();
    if (vlans) s->listen_vlan = vlan_ids_.acquire(*vlans);
    return {};
}

Result<void, ProxyError> TcpLayer::set_syn_filter(TcbId id, SynFilter fn, const SynFilterConfig& cfg) {
    Slot* s = slot(id);
    if (!s) return Err{ProxyError::bad_socket};
    const TcpState st = s->tcb->state();
    if (st != TcpState::closed && st != TcpState::listen) return Err{ProxyError::invalid_state};
    if (cfg.overflow_verdict == SynVerdict::defer || cfg.timeout_verdict == SynVerdict::defer ||
        cfg.defer_timeout <= Duration::zero())
        return Err{ProxyError::invalid_argument};
    if (!fn) {
        drop_deferrals(id);
        s->filter.reset();
        return {};
    }
    // Deferrals already parked keep counting against the new bound.
    const std::size_t outstanding = s->filter ? s->filter->outstanding : 0;
    s->filter = std::make_shared<FilterState>(FilterState{std::move(fn), cfg, outstanding});
    return {};
}

bool TcpLayer::claims(Endpoint src, Endpoint dst, const wire::VlanStack& vlans) const {
    const std::uint32_t vlan = vlan_ids_.find(vlans);
    if (vlan == VlanIds::kUnknown) return false;  // no connection uses this tag stack
    const ConnKey key{dst.addr, src.addr, dst.port, src.port, vlan};
    return conns_.contains(key) || (!deferred_.empty() && deferred_.contains(key));
}

// --- the filter ---------------------------------------------------------------

TcpLayer::FilterOutcome TcpLayer::run_syn_filter(Instant now, TcbId lid, const ConnKey& key,
                                                 const wire::TcpRepr& seg, const net::Ipv4Rx& rx) {
    // Held across the call: the callback may close the listener or replace
    // its filter.
    std::shared_ptr<FilterState> f = slot(lid)->filter;
    const bool mirror = slot(lid)->promisc;
    const net::L2Info l2 = rx.l2 ? *rx.l2 : net::L2Info{};
    const SynHandle h = f->outstanding < f->cfg.max_deferred ? alloc_deferral() : 0;
    SynInfo info;
    info.local = Endpoint{key.laddr, key.lport};
    info.remote = Endpoint{key.raddr, key.rport};
    info.l2 = ConnL2{l2.dst, l2.src, l2.vlans};
    info.options = seg.options;
    info.seq = seg.seq;
    info.window = seg.window;
    info.ifindex = rx.ifindex;
    info.handle = h;
    SynVerdict v = f->fn(info);
    const Slot* ls = slot(lid);
    if (!ls || ls->tcb->state() != TcpState::listen || ls->filter != f) {
        if (h) free_deferral(h);  // the listener went (or changed its filter) meanwhile
        return FilterOutcome::done;
    }
    if (v == SynVerdict::defer && h != 0) {
        Deferral& d = *deferral(h);
        d.armed = true;
        d.mirror = mirror;
        d.listener = lid;
        d.key = key;
        d.key.vlan = vlan_ids_.acquire(l2.vlans);  // the deferral's reference
        d.syn = seg;
        d.l2 = l2;
        d.ifindex = rx.ifindex;
        d.timer = wheel_.schedule(now + f->cfg.defer_timeout, kDeferralTimer | h);
        deferred_.insert(d.key, h);
        ++f->outstanding;
        ++ctr_.synf_defer;
        return FilterOutcome::done;
    }
    if (h) free_deferral(h);
    switch (v) {
        case SynVerdict::accept: ++ctr_.synf_accept; break;
        case SynVerdict::reject_rst: ++ctr_.synf_reject_rst; break;
        case SynVerdict::reject_silent: ++ctr_.synf_reject_silent; break;
        case SynVerdict::defer:
            ++ctr_.synf_defer_overflow;
            v = f->cfg.overflow_verdict;
            break;
        case SynVerdict::accept_passive: ++ctr_.synf_accept_passive; break;
    }
    if (v == SynVerdict::accept) return FilterOutcome::create;
    apply_verdict(now, v, lid, key, seg, l2, rx.ifindex, mirror);
    return FilterOutcome::done;
}

void TcpLayer::apply_verdict(Instant now, SynVerdict v, TcbId lid, const ConnKey& key, const wire::TcpRepr& seg,
                             const net::L2Info& l2, net::IfIndex ifindex, bool mirror) {
    switch (v) {
        case SynVerdict::accept: create_from_syn(now, lid, key, seg, l2, ifindex); break;
        case SynVerdict::reject_rst: {
            if (mirror) {
                const net::L2Info tx{l2.dst, l2.src, l2.vlans};
                send_reset(now, key.laddr, key.raddr, seg, 0, ifindex, &tx);
            } else {
                send_reset(now, key.laddr, key.raddr, seg, 0, 0, nullptr);
            }
            break;
        }
        case SynVerdict::reject_silent:
        case SynVerdict::defer: break;
        case SynVerdict::accept_passive: watch_syn(now, lid, key, seg, l2, ifindex); break;
    }
}

// --- deferrals ------------------------------------------------------------------

SynHandle TcpLayer::alloc_deferral() {
    std::uint32_t idx;
    if (!deferral_free_.empty()) {
        idx = deferral_free_.back();
        deferral_free_.pop_back();
    } else {
        deferrals_.emplace_back();
        idx = static_cast<std::uint32_t>(deferrals_.size() - 1);
    }
    Deferral& d = deferrals_[idx];
    d.used = true;
    d.armed = false;
    return (std::uint64_t{d.gen} << 32) | (std::uint64_t{idx} + 1);
}

TcpLayer::Deferral* TcpLayer::deferral(SynHandle h) {
    const std::uint64_t low = h & 0xffffffffu;
    if (low == 0 || low > deferrals_.size()) return nullptr;
    Deferral& d = deferrals_[low - 1];
    if (!d.used || d.gen != static_cast<std::uint32_t>(h >> 32)) return nullptr;
    return &d;
}

void TcpLayer::free_deferral(SynHandle h) {
    Deferral* d = deferral(h);
    if (!d) return;
    if (d->armed) {
        deferred_.erase(d->key);
        vlan_ids_.release(d->key.vlan);
        if (d->timer) wheel_.cancel(d->timer);
        if (Slot* ls = slot(d->listener); ls && ls->filter && ls->filter->outstanding > 0) --ls->filter->outstanding;
    }
    // A new generation (31 bits, never 0, so that a handle never collides
    // with the deferral-timer bit) makes every copy of h stale.
    d->gen = (d->gen + 1) & 0x7fffffffu;
    if (d->gen == 0) d->gen = 1;
    d->used = false;
    d->armed = false;
    d->timer = 0;
    d->listener = 0;
    deferral_free_.push_back(static_cast<std::uint32_t>((h & 0xffffffffu) - 1));
}

Result<void, VerdictError> TcpLayer::deliver_syn_verdict(Instant now, SynHandle h, SynVerdict v) {
    now_ = now;
    if (v == SynVerdict::defer) return Err{VerdictError::invalid_verdict};
    Deferral* d = deferral(h);
    if (!d || !d->armed) {
        ++ctr_.synf_stale_verdict;
        return Err{VerdictError::stale_handle};
    }
    // Copied out: free_deferral() recycles the slot, and creating the
    // connection may grow the slab.
    const TcbId lid = d->listener;
    const ConnKey key = d->key;
    const wire::TcpRepr syn = d->syn;
    const net::L2Info l2 = d->l2;
    const net::IfIndex ifindex = d->ifindex;
    const bool mirror = d->mirror;
    free_deferral(h);
    switch (v) {
        case SynVerdict::accept: ++ctr_.synf_deferred_accept; break;
        case SynVerdict::reject_rst: ++ctr_.synf_deferred_reject_rst; break;
        case SynVerdict::reject_silent: ++ctr_.synf_deferred_reject_silent; break;
        case SynVerdict::defer: break;
        case SynVerdict::accept_passive: ++ctr_.synf_accept_passive; break;
    }
    apply_verdict(now, v, lid, key, syn, l2, ifindex, mirror);
    reap();
    return {};
}

void TcpLayer::on_deferral_timeout(Instant now, SynHandle h) {
    Deferral* d = deferral(h);
    if (!d || !d->armed) return;
    d->timer = 0;  // fired: nothing to cancel
    const Slot* ls = slot(d->listener);
    const SynVerdict v = ls && ls->filter ? ls->filter->cfg.timeout_verdict : SynVerdict::reject_silent;
    const TcbId lid = d->listener;
    const ConnKey key = d->key;
    const wire::TcpRepr syn = d->syn;
    const net::L2Info l2 = d->l2;
    const net::IfIndex ifindex = d->ifindex;
    const bool mirror = d->mirror;
    free_deferral(h);
    ++ctr_.synf_defer_timeout;
    apply_verdict(now, v, lid, key, syn, l2, ifindex, mirror);
}

void TcpLayer::drop_deferrals(TcbId listener) {
    for (std::size_t i = 0; i < deferrals_.size(); ++i) {
        const Deferral& d = deferrals_[i];
        if (d.used && d.armed && d.listener == listener) free_deferral((std::uint64_t{d.gen} << 32) | (i + 1));
    }
}

}  // namespace uinet::tcp
