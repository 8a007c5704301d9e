// capi/proxy.cpp — C API: transparent-proxy features (promiscuous sockets,
// transmit interface, L2 info, SYN filters) and promiscuous interfaces.
//
// Contract: see include/uinet/uinet.h. Decisions:
//  * These calls never block on the socket's behalf, so they run directly
//    on the instance's thread whatever the socket's mode (a filter or an
//    upcall may deliver a verdict or read L2 info), and through the
//    mailbox from other threads.
//  * Tags cross the boundary as (TPID << 16) | TCI in host byte order; a
//    tag whose TPID is not one of 0x8100, 0x88a8, 0x9100 is refused
//    (EINVAL), as the receive path would not recognise it as a tag.
//  * uinet_setl2info on a socket that is not connected sets both what an
//    active open sends with (when the MACs are not all zero) and what a
//    listener accepts (the tag stack, unless UINET_INL2I_TAG_ANY).
//  * A filter's unknown return value counts as REJECT_SILENT: a bug in
//    the application then costs a connection, never state in the stack.
#include <cstring>

#include "capi/capi.hpp"

using namespace uinet;
using namespace uinet::capi;
using tcp::SynVerdict;

namespace {

bool to_verdict(int v, SynVerdict* out) {
    switch (v) {
        case UINET_SYNF_ACCEPT: *out = SynVerdict::accept; return true;
        case UINET_SYNF_REJECT_RST: *out = SynVerdict::reject_rst; return true;
        case UINET_SYNF_REJECT_SILENT: *out = SynVerdict::reject_silent; return true;
        case UINET_SYNF_DEFER: *out = SynVerdict::defer; return true;
        case UINET_SYNF_ACCEPT_PASSIVE: *out = SynVerdict::accept_passive; return true;
        default: return false;
    }
}

int from_verdict(SynVerdict v) {
    switch (v) {
        case SynVerdict::accept: return UINET_SYNF_ACCEPT;
        case SynVerdict::reject_rst: return UINET_SYNF_REJECT_RST;
        case SynVerdict::reject_silent: return UINET_SYNF_REJECT_SILENT;
        case SynVerdict::defer: return UINET_SYNF_DEFER;
        case SynVerdict::accept_passive: return UINET_SYNF_ACCEPT_PASSIVE;
    }
    return UINET_SYNF_REJECT_SILENT;
}

void to_c(const tcp::ConnL2& l2, uinet_in_l2info* out) {
    std::memset(out, 0, sizeof *out);
    std::memcpy(out->inl2i_local_addr, l2.local_mac.bytes().data(), 6);
    std::memcpy(out->inl2i_foreign_addr, l2.peer_mac.bytes().data(), 6);
    out->inl2i_tagstack.inl2t_cnt = static_cast<std::uint16_t>(l2.vlans.size());
    for (std::size_t i = 0; i < l2.vlans.size(); ++i)
        out->inl2i_tagstack.inl2t_tags[i] = (std::uint32_t{l2.vlans[i].tpid} << 16) | l2.vlans[i].tci;
}

bool from_c(const uinet_in_l2info& in, tcp::ConnL2* out) {
    const std::uint16_t n = in.inl2i_tagstack.inl2t_cnt;
    if (n > UINET_IN_L2INFO_MAX_TAGS) return false;
    out->local_mac = MacAddr::from_bytes(in.inl2i_local_addr);
    out->peer_mac = MacAddr::from_bytes(in.inl2i_foreign_addr);
    out->vlans.clear();
    for (std::uint16_t i = 0; i < n; ++i) {
        const std::uint32_t t = in.inl2i_tagstack.inl2t_tags[i];
        const auto tpid = static_cast<std::uint16_t>(t >> 16);
        if (tpid != 0x8100 && tpid != 0x88a8 && tpid != 0x9100) return false;
        out->vlans.push_back(wire::VlanTag{tpid, static_cast<std::uint16_t>(t)});
    }
    return true;
}

void addr_to_c(const Endpoint& ep, uinet_in_addr* addr, std::uint16_t* port) {
    uinet_sockaddr_in sin;
    from_endpoint(ep, &sin);
    *addr = sin.sin_addr;
    *port = sin.sin_port;
}

SynVerdict call_filter(uinet_socket* so, const tcp::SynInfo& i) {
    uinet_synf_info info;
    std::memset(&info, 0, sizeof info);
    addr_to_c(i.local, &info.inc.inc_laddr, &info.inc.inc_lport);
    addr_to_c(i.remote, &info.inc.inc_faddr, &info.inc.inc_fport);
    to_c(i.l2, &info.l2i);
    info.ifindex = i.ifindex;
    info.irs = i.seq.raw();
    info.window = i.window;
    info.mss = i.options.mss.value_or(0);
    info.wscale = i.options.wscale ? static_cast<std::int16_t>(*i.options.wscale) : std::int16_t{-1};
    info.sack_permitted = i.options.sack_permitted ? 1 : 0;
    if (i.options.timestamps) {
        info.has_timestamps = 1;
        info.tsval = i.options.timestamps->first;
        info.tsecr = i.options.timestamps->second;
    }
    info.deferral = i.handle;
    SynVerdict v = SynVerdict::reject_silent;
    if (!so->synf) return v;
    (void)to_verdict(so->synf(so, so->synf_arg, &info), &v);
    return v;
}

// Installs (or removes) the socket's filter in the stack. Stack thread.
int apply_filter(uinet_socket* so) {
    TcpSockets& t = so->inst->stack->tcp();
    TcpSockets::SynFilterFn fn;
    if (so->synf) fn = [so](SocketId, const tcp::SynInfo& i) { return call_filter(so, i); };
    auto r = t.set_syn_filter(so->id, std::move(fn), so->synf_cfg);
    return r ? 0 : tcp::to_errno(r.error());
}

}  // namespace

extern "C" {

int uinet_make_socket_promiscuous(struct uinet_socket* so, uinet_if_t txif) {
    if (!so) return EINVAL;
    if (!so->is_tcp()) return EOPNOTSUPP;
    return run_anywhere(so, [&] {
        TcpSockets& t = so->inst->stack->tcp();
        if (txif != 0)
            if (auto r = t.set_tx_interface(so->id, txif); !r) return tcp::to_errno(r.error());
        auto r = t.set_promiscuous(so->id, true);
        return r ? 0 : tcp::to_errno(r.error());
    });
}

int uinet_sosettxif(struct uinet_socket* so, uinet_if_t txif) {
    if (!so) return EINVAL;
    if (!so->is_tcp()) return EOPNOTSUPP;
    return run_anywhere(so, [&] {
        auto r = so->inst->stack->tcp().set_tx_interface(so->id, txif);
        return r ? 0 : tcp::to_errno(r.error());
    });
}

int uinet_getl2info(struct uinet_socket* so, struct uinet_in_l2info* l2i) {
    if (!so || !l2i) return EINVAL;
    if (!so->is_tcp()) return EOPNOTSUPP;
    return run_anywhere(so, [&] {
        auto r = so->inst->stack->tcp().l2info(so->id);
        if (!r) return tcp::to_errno(r.error());
        to_c(*r, l2i);
        return 0;
    });
}

int uinet_setl2info(struct uinet_socket* so, const struct uinet_in_l2info* l2i) {
    if (!so || !l2i) return EINVAL;
    if (!so->is_tcp()) return EOPNOTSUPP;
    tcp::ConnL2 l2;
    if (!from_c(*l2i, &l2)) return EINVAL;
    const bool tag_any = (l2i->inl2i_flags & UINET_INL2I_TAG_ANY) != 0;
    return run_anywhere(so, [&] {
        TcpSockets& t = so->inst->stack->tcp();
        auto st = t.state(so->id);
        if (!st) return EBADF;
        if (*st != tcp::TcpState::closed && *st != tcp::TcpState::listen) return EISCONN;
        std::optional<wire::VlanStack> restrict_to;
        if (!tag_any) restrict_to = l2.vlans;
        if (auto r = t.set_listen_vlans(so->id, restrict_to); !r) return tcp::to_errno(r.error());
        if (*st == tcp::TcpState::closed && !(l2.local_mac.is_zero() && l2.peer_mac.is_zero()))
            if (auto r = t.set_l2info(so->id, l2); !r) return tcp::to_errno(r.error());
        return 0;
    });
}

void uinet_synfilter_default_cfg(struct uinet_synf_cfg* cfg) {
    if (!cfg) return;
    const tcp::SynFilterConfig d;
    cfg->max_deferred = static_cast<std::uint32_t>(d.max_deferred);
    cfg->overflow_verdict = from_verdict(d.overflow_verdict);
    cfg->timeout_ms = static_cast<std::uint32_t>(d.defer_timeout.ns() / 1'000'000);
    cfg->timeout_verdict = from_verdict(d.timeout_verdict);
}

int uinet_synfilter_install(struct uinet_socket* so, uinet_synfilter_callback_t callback, void* arg) {
    if (!so) return EINVAL;
    if (!so->is_tcp()) return EOPNOTSUPP;
    return run_anywhere(so, [&] {
        so->synf = callback;
        so->synf_arg = callback ? arg : nullptr;
        return apply_filter(so);
    });
}

int uinet_synfilter_setcfg(struct uinet_socket* so, const struct uinet_synf_cfg* cfg) {
    if (!so || !cfg) return EINVAL;
    if (!so->is_tcp()) return EOPNOTSUPP;
    tcp::SynFilterConfig c;
    if (!to_verdict(cfg->overflow_verdict, &c.overflow_verdict) || !to_verdict(cfg->timeout_verdict, &c.timeout_verdict))
        return EINVAL;
    if (c.overflow_verdict == SynVerdict::defer || c.timeout_verdict == SynVerdict::defer || cfg->timeout_ms == 0)
        return EINVAL;
    c.max_deferred = cfg->max_deferred;
    c.defer_timeout = Duration::millis(cfg->timeout_ms);
    return run_anywhere(so, [&] {
        so->synf_cfg = c;
        return so->synf ? apply_filter(so) : 0;
    });
}

int uinet_synfilter_deferral_deliver(struct uinet_socket* so, uinet_synf_deferral_t deferral, int verdict) {
    if (!so) return EINVAL;
    SynVerdict v;
    if (!to_verdict(verdict, &v) || v == SynVerdict::defer) return EINVAL;
    return run_anywhere(so, [&] {
        Stack& st = *so->inst->stack;
        auto r = st.tcp().deliver_syn_verdict(st.now(), deferral, v);
        return r ? 0 : tcp::to_errno(r.error());
    });
}

int uinet_if_set_promisc(uinet_instance_t* inst, uinet_if_t ifidx, int promisc) {
    if (!inst) return EINVAL;
    return inst->configure([&] {
        net::Interface* i = inst->stack->net().interface(ifidx);
        if (!i) return ENXIO;
        i->config().promiscuous = promisc != 0;
        return 0;
    });
}

int uinet_if_set_first_look(uinet_instance_t* inst, uinet_if_t ifidx, uinet_first_look_t fn, void* arg) {
    if (!inst) return EINVAL;
    return inst->configure([&] {
        net::FirstLookHook hook;
        if (fn) {
            hook = [fn, arg](Instant, net::IfIndex in, Bytes frame) {
                uinet_if_t to = 0;
                switch (fn(arg, in, frame.data(), frame.size(), &to)) {
                    case UINET_FIRST_LOOK_DROP: return net::FirstLookVerdict::drop();
                    case UINET_FIRST_LOOK_BRIDGE: return net::FirstLookVerdict::bridge(to);
                    case UINET_FIRST_LOOK_OBSERVE: return net::FirstLookVerdict::observe(to);
                    default: return net::FirstLookVerdict::take();
                }
            };
        }
        return inst->stack->set_first_look(ifidx, std::move(hook)) ? 0 : ENXIO;
    });
}

}  // extern "C"
