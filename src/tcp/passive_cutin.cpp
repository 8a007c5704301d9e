// tcp/passive_cutin.cpp — the passive engine's side of the inline position:
// which frames it watches, the state it hands over at cut-in, SYNs a
// filter chose to watch, and handshakes taken over (docs/passive.md).
//
// Contract:
//  * prepare_cut_in() succeeds only when both directions can be continued
//    exactly: both SYNs and both sides' ACKs seen, no FIN, no gap and no
//    unread hole, and every byte the peer has not acknowledged still held
//    (PassiveConfig::retain_unacked keeps read bytes until then). It copies
//    those bytes; commit_cut_in() then ends the flow where it stands.
//  * Sequence numbers: the Tcb facing the client continues the server's
//    sequence space and the Tcb facing the server the client's (RFC 9293
//    3.4: the ISNs stay; both peers keep their view of the connection).
#include <algorithm>
#include <cerrno>

#include "tcp/passive.hpp"
#include "tcp/tcp_layer.hpp"

namespace uinet::tcp {

int to_errno(CutInError e) {
    switch (e) {
        case CutInError::bad_socket: return EBADF;
        case CutInError::not_ready: return EAGAIN;
        case CutInError::invalid_state: return EINVAL;
        case CutInError::exists: return EADDRINUSE;
        case CutInError::no_resources: return ENOBUFS;
    }
    return EINVAL;
}

const char* to_string(CutInError e) {
    switch (e) {
        case CutInError::bad_socket: return "bad-socket";
        case CutInError::not_ready: return "not-ready";
        case CutInError::invalid_state: return "invalid-state";
        case CutInError::exists: return "exists";
        case CutInError::no_resources: return "no-resources";
    }
    return "?";
}

bool PassiveEngine::observes(Endpoint src, Endpoint dst, const wire::VlanStack& vlans, bool syn_only) const {
    const std::uint32_t vid = vlan_ids_.find(vlans);
    if (vid != VlanIds::kUnknown &&
        (table_.find(ConnKey{dst.addr, src.addr, dst.port, src.port, vid}) ||
         table_.find(ConnKey{src.addr, dst.addr, src.port, dst.port, vid})))
        return true;
    if (!syn_only) return false;
    // As TcpLayer::on_ipv4 keys it (kUnknown: only listeners taking any tags).
    const std::uint32_t tvid = tcp_.vlan_ids_.find(vlans);
    return passive_listener_for(ConnKey{dst.addr, src.addr, dst.port, src.port, tvid}) != 0;
}

Result<CutInPlan, CutInError> PassiveEngine::prepare_cut_in(PassiveFlowId id) {
    Flow* fp = flow(id);
    if (!fp) return Err{CutInError::bad_socket};
    Flow& f = *fp;
    if (f.info.end != PassiveEnd::open || f.info.midstream || !f.in_table) return Err{CutInError::invalid_state};
    for (const Stream& s : f.s)
        if (s.fin || s.app_closed) return Err{CutInError::invalid_state};
    for (const Stream& s : f.s)
        if (!s.syn_seen || !s.acked) return Err{CutInError::not_ready};
    for (int d = 0; d < 2; ++d) {
        const Stream& s = f.s[d];
        if (s.buf.has_gap() || !s.buf.holes().empty()) return Err{CutInError::not_ready};
        // The peer's ACK of this direction: everything from it is in flight.
        const std::int64_t a = offset_of(s, f.s[1 - d].ack);
        if (a < 0 || static_cast<std::uint64_t>(a) > s.buf.nxt() || static_cast<std::uint64_t>(a) < s.buf.kept())
            return Err{CutInError::not_ready};
        cut_[d].resize(static_cast<std::size_t>(s.buf.nxt() - static_cast<std::uint64_t>(a)));
        if (!s.buf.copy_range(static_cast<std::uint64_t>(a), {cut_[d].data(), cut_[d].size()}))
            return Err{CutInError::not_ready};
    }
    auto build = [&](int ds) {
        const Stream& snd = f.s[ds];      // the impersonated endpoint's direction
        const Stream& rcv = f.s[1 - ds];  // the peer's
        // RFC 7323 2.2/2.3: shifts apply only if both SYNs carried one, and
        // never to a SYN's window.
        const bool ws = snd.wscale.has_value() && rcv.wscale.has_value();
        auto scaled = [&](const Stream& x) {
            const std::uint8_t sh = ws && !x.win_syn ? std::min<std::uint8_t>(*x.wscale, 14) : 0;
            return static_cast<std::uint32_t>(x.win) << sh;
        };
        AdoptState a;
        a.iss = snd.base - 1;
        a.irs = rcv.base - 1;
        a.snd_una = rcv.ack;
        a.snd_nxt = snd.base + static_cast<std::uint32_t>(snd.buf.nxt());
        a.snd_wnd = scaled(rcv);
        a.rcv_nxt = rcv.base + static_cast<std::uint32_t>(rcv.buf.nxt());
        a.last_ack = snd.ack;
        a.rcv_wnd = scaled(snd);
        a.snd_mss = rcv.mss;
        a.rcv_mss = snd.mss;
        if (ws) {
            a.snd_wscale = rcv.wscale;
            a.rcv_wscale = snd.wscale;
        }
        a.sack = snd.sack_ok && rcv.sack_ok;
        a.timestamps = snd.ts_ok && rcv.ts_ok && snd.ts_seen && rcv.ts_seen;
        a.ts_last = snd.tsval;
        a.ts_recent = rcv.tsval;
        a.unacked = Bytes{cut_[ds].data(), cut_[ds].size()};
        return a;
    };
    CutInPlan p;
    p.client = f.info.client;
    p.server = f.info.server;
    p.l2 = f.info.l2;
    p.client_if = f.s[0].ifindex;
    p.server_if = f.s[1].ifindex;
    p.to_client = build(1);
    p.to_server = build(0);
    auto span = [](Instant a, Instant b) { return a.is_never() || b.is_never() || b < a ? Duration{} : b - a; };
    p.to_server.rtt = span(f.hs[0], f.hs[1]);  // SYN -> SYN-ACK: the server's side
    p.to_client.rtt = span(f.hs[1], f.hs[2]);  // SYN-ACK -> ACK: the client's side
    return p;
}

void PassiveEngine::commit_cut_in(Instant now, PassiveFlowId id) {
    Flow* f = flow(id);
    if (!f) return;
    ++ctr_.cut_ins;
    for (Stream& s : f->s) s.buf.set_retain(false);
    end_flow(now, *f, PassiveEnd::cut_in);
    unlink(*f);
    maybe_free(id);
}

bool PassiveEngine::watch_syn(Instant now, TcbId lid, const net::Ipv4Rx& rx, const wire::TcpRepr& syn) {
    Instant t = now;
    cur_if_ = rx.ifindex;
    auto [it, fresh] = listeners_.try_emplace(lid);
    if (fresh) it->second.observes = false;
    const ConnKey key{rx.dst, rx.src, syn.dst_port, syn.src_port, 0};
    const std::uint32_t vid = vlan_ids_.find(rx.l2 ? rx.l2->vlans : wire::VlanStack{});
    if (vid != VlanIds::kUnknown && table_.find(ConnKey{key.laddr, key.raddr, key.lport, key.rport, vid}))
        return false;  // already watched
    auto id = create(now, t, lid, key, rx.l2, true, false);
    if (!id) return false;
    ++ctr_.observe_only_flows;
    on_segment(now, t, *id, *flow(*id), 0, syn, Bytes{});
    return true;
}

void PassiveEngine::takeover(Instant now, PassiveFlowId id, Flow& f) {
    // The server left the client's SYN unanswered for syn_takeover: the
    // stack answers it as the server, from the listener that matched it.
    f.takeover = false;
    ++ctr_.takeovers;
    const ConnKey key{f.key.laddr, f.key.raddr, f.key.lport, f.key.rport, 0};
    const wire::TcpRepr syn = f.syn;
    const net::L2Info l2 = f.syn_l2;
    const net::IfIndex ifindex = f.s[0].ifindex;
    const TcbId lid = f.origin;
    end_flow(now, f, PassiveEnd::taken_over);
    unlink(f);
    maybe_free(id);
    tcp_.takeover_syn(now, lid, key, syn, l2, ifindex);
}

}  // namespace uinet::tcp
