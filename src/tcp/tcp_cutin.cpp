// tcp/tcp_cutin.cpp — TcpLayer's inline position: what a first-look hook
// asks before it bridges, watches or takes a frame, cut-in (an observed
// flow becomes two active Tcbs), SYNs a filter chose to watch, and
// handshakes taken over (docs/passive.md, docs/proxy.md).
//
// Decisions:
//  * At cut-in the stack becomes both endpoints, as a transparent proxy
//    is: the Tcb facing the client has the server's addresses and port,
//    sends from the server's MAC to the client's with the flow's tag stack,
//    out the interface the client's frames came in on; the Tcb facing the
//    server mirrors it. Both are promiscuous connections in the table, so
//    the flow's next frames from either side reach them (TcpLayer::claims).
//  * "Reset one side": the side not kept gets RSTs at the sequence numbers
//    its peer may expect (Tcb::reset_adopted) and its Tcb closes at once.
//  * A SYN a filter watches (accept_passive) is passed on re-emitted as
//    received (addresses, ports, options, MACs, tags) out the inline peer of
//    the interface it came in on; the flow is queued on the filter's own
//    listener, for accept_passive().
#include "tcp/tcp_layer.hpp"

namespace uinet::tcp {

PassiveEngine& TcpLayer::ensure_passive() {
    if (!passive_)
        passive_ = std::make_unique<PassiveEngine>(*this, cfg_.passive, SipKey{random_.u64(), random_.u64()});
    return *passive_;
}

bool TcpLayer::observes(Endpoint src, Endpoint dst, const wire::VlanStack& vlans, bool syn_only) const {
    return passive_ && passive_->observes(src, dst, vlans, syn_only);
}

bool TcpLayer::terminates(Endpoint src, Endpoint dst, const wire::VlanStack& vlans) const {
    // Keyed as on_ipv4 keys it (kUnknown: only listeners taking any tags).
    const std::uint32_t vid = vlan_ids_.find(vlans);
    const TcbId lid = find_listener(ConnKey{dst.addr, src.addr, dst.port, src.port, vid}, net_.is_local(dst.addr));
    return lid != 0 && !passive(lid);
}

TcbId TcpLayer::make_adopted(Instant now, ConnKey key, const net::L2Info& tx_l2, net::IfIndex ifindex,
                             const AdoptState& st) {
    key.vlan = vlan_ids_.acquire(tx_l2.vlans);  // the connection's reference
    const TcbId id = new_tcb(key, 0);
    if (id == 0) {
        vlan_ids_.release(key.vlan);
        return 0;
    }
    Slot& s = *slot(id);
    s.promisc = true;
    s.has_l2 = true;
    s.l2_tx = true;
    s.l2 = tx_l2;
    s.tx_if = ifindex;
    link_port(id);
    conns_.insert(key, id);
    s.in_table = true;
    Tcb& t = *tcb(id);
    t.set_tx_offload(offload_for(key.raddr, ifindex));
    t.adopt(now, st, mss_for(key.raddr, ifindex));
    touch(id);
    return id;
}

Result<TcpLayer::CutInTcbs, CutInError> TcpLayer::cut_in(Instant now, PassiveFlowId f, CutInMode mode) {
    now_ = now;
    if (!passive_) return Err{CutInError::bad_socket};
    auto plan = passive_->prepare_cut_in(f);
    if (!plan) {
        if (plan.error() == CutInError::not_ready)
            ++ctr_.cutin_not_ready;
        else
            ++ctr_.cutin_failed;
        return Err{plan.error()};
    }
    const CutInPlan& p = *plan;
    const ConnKey kc{p.server.addr, p.client.addr, p.server.port, p.client.port, 0};
    const ConnKey ks{p.client.addr, p.server.addr, p.client.port, p.server.port, 0};
    const std::uint32_t vid = vlan_ids_.find(p.l2.vlans);
    if (vid != VlanIds::kUnknown) {
        if (conns_.contains(ConnKey{kc.laddr, kc.raddr, kc.lport, kc.rport, vid}) ||
            conns_.contains(ConnKey{ks.laddr, ks.raddr, ks.lport, ks.rport, vid})) {
            ++ctr_.cutin_failed;
            return Err{CutInError::exists};
        }
    }
    if (live_ + 2 > cfg_.max_connections) {
        ++ctr_.cutin_failed;
        return Err{CutInError::no_resources};
    }
    // Where each side's frames leave: the interface its frames came in on,
    // else (a side never heard from) the inline peer of the other's.
    net::IfIndex cif = p.client_if, sif = p.server_if;
    if (cif == 0) cif = net_.inline_peer(sif);
    if (sif == 0) sif = net_.inline_peer(cif);
    CutInTcbs out;
    // l2: local_mac = the server's, peer_mac = the client's.
    out.to_client = make_adopted(now, kc, net::L2Info{p.l2.local_mac, p.l2.peer_mac, p.l2.vlans}, cif, p.to_client);
    out.to_server = make_adopted(now, ks, net::L2Info{p.l2.peer_mac, p.l2.local_mac, p.l2.vlans}, sif, p.to_server);
    passive_->commit_cut_in(now, f);
    ++ctr_.cutins;
    if (mode != CutInMode::both) {
        TcbId& gone = mode == CutInMode::reset_server ? out.to_server : out.to_client;
        if (Tcb* t = tcb(gone)) {
            t->reset_adopted(now);
            ++ctr_.cutin_resets;
            touch(gone);
        }
        gone = 0;
    }
    reap();
    return out;
}

void TcpLayer::watch_syn(Instant now, TcbId lid, const ConnKey& key, const wire::TcpRepr& syn, const net::L2Info& l2,
                         net::IfIndex ifindex) {
    const net::IfIndex out = net_.inline_peer(ifindex);
    net::Ipv4Rx rx;
    rx.ifindex = ifindex;
    rx.l2 = &l2;
    rx.src = key.raddr;
    rx.dst = key.laddr;
    if (out == 0 || !ensure_passive().watch_syn(now, lid, rx, syn)) {
        ++ctr_.cutin_failed;  // not inline (nowhere to pass it on), or no flow: the SYN is dropped
        return;
    }
    // Passed on as received (the frame's own MACs and tags).
    send_raw(now, key.raddr, key.laddr, syn, out, &l2);
}

void TcpLayer::takeover_syn(Instant now, TcbId lid, const ConnKey& key, const wire::TcpRepr& syn,
                            const net::L2Info& l2, net::IfIndex ifindex) {
    if (!slot(lid) || listeners_.find(lid) == listeners_.end()) return;
    ++ctr_.syn_takeovers;
    create_from_syn(now, lid, key, syn, l2, ifindex);
    reap();
}

}  // namespace uinet::tcp
