// A minimal inline transparent TCP proxy between two TAP devices, in about
// a hundred lines of the C++ API: what `uinet proxy` does (docs/proxy.md),
// without its timeouts, bounds, VLAN keys, log and counters.
//
//   example_transparent_proxy CLIENT_TAP SERVER_TAP
//
// Each client SYN is deferred while the proxy connects to the server as
// the client (its address, port and MACs); the server's answer decides the
// client's (SYN-ACK, RST, or silence), then a Splicer relays both ways.
// Frames that no connection of ours claims are bridged to the other side.
#include <uinet/uinet.hpp>

#include <cerrno>
#include <cstdio>
#include <map>
#include <utility>

#include "stack/splice.hpp"
#include "wire/ethernet.hpp"
#include "wire/ipv4.hpp"

using namespace uinet;

namespace {

// An unfragmented IPv4 TCP segment's endpoints and flags, read in place.
bool peek_tcp(Bytes f, Endpoint& src, Endpoint& dst, std::uint8_t& flags, wire::VlanStack& vlans) {
    auto l2 = wire::parse_l2(f);
    if (!l2 || l2->ethertype != wire::ethertype::ipv4 || l2->dst.is_multicast()) return false;
    Bytes ip = f.subspan(l2->header_len);
    if (ip.size() < 20 || (ip[0] >> 4) != 4 || ip[9] != wire::ip_proto::tcp) return false;
    const std::size_t ihl = std::size_t{ip[0] & 0x0fu} * 4;
    if (ihl < 20 || ip.size() < ihl + 14 || (load_be16(ip.data() + 6) & 0x3fff) != 0) return false;
    src = {Ipv4Addr(load_be32(ip.data() + 12)), Port(load_be16(ip.data() + ihl))};
    dst = {Ipv4Addr(load_be32(ip.data() + 16)), Port(load_be16(ip.data() + ihl + 2))};
    flags = ip[ihl + 13];
    vlans = l2->vlans;
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s CLIENT_TAP SERVER_TAP\n", argv[0]);
        return 2;
    }
    PosixHost host;
    StackOptions opts;
    opts.tcp.max_syn_retransmits = 2;  // a silent server: the proxy gives up after 1 + 2 + 4 s
    Stack stack(host.host(), opts);
    net::IfIndex side[2];
    for (int i = 0; i < 2; ++i) {
        auto tap = TapDevice::open(argv[1 + i], stack.pool());
        if (!tap) {
            std::fprintf(stderr, "%s\n", tap.error().c_str());
            return 1;
        }
        net::InterfaceConfig ic;
        ic.name = i == 0 ? "client" : "server";
        ic.mac = MacAddr({0x02, 0, 0, 0, 0, static_cast<std::uint8_t>(0xa1 + i)});
        ic.promiscuous = true;  // frames for every host reach the stack...
        ic.announce = false;    // ...which has no address of its own
        side[i] = stack.add_interface(std::move(*tap), ic);
    }
    TcpSockets& tcp = stack.tcp();
    Splicer splicer(stack);

    // Take TCP that a connection (or deferred SYN) of ours claims, and new
    // SYNs from the client side; bridge everything else unchanged.
    for (int i = 0; i < 2; ++i)
        stack.set_first_look(side[i], [&stack, &side, i](Instant, net::IfIndex, Bytes f) {
            Endpoint src, dst;
            std::uint8_t flags = 0;
            wire::VlanStack vlans;
            if (peek_tcp(f, src, dst, flags, vlans)) {
                const bool syn = (flags & (wire::TcpFlags::syn | wire::TcpFlags::ack | wire::TcpFlags::rst)) ==
                                 wire::TcpFlags::syn;
                if ((i == 0 && syn) || stack.tcp_layer().claims(src, dst, vlans))
                    return net::FirstLookVerdict::take();
            }
            return net::FirstLookVerdict::bridge(side[1 - i]);
        });

    // Server sides that connected, by (client, server), until the client's
    // handshake completes and the listener hands us its socket.
    std::map<std::pair<std::uint64_t, std::uint32_t>, SocketId> ready;
    auto key = [](Endpoint c, Endpoint s) {
        return std::make_pair(std::uint64_t{c.addr.value()} << 32 | s.addr.value(),
                              std::uint32_t{c.port.value()} << 16 | s.port.value());
    };

    SocketId listener = *tcp.open();
    (void)tcp.set_promiscuous(listener);
    (void)tcp.bind(listener, {Ipv4Addr::any(), Port(0)});  // every address, every port
    (void)tcp.listen(listener, 1024);
    (void)tcp.set_syn_filter(listener, [&](SocketId, const tcp::SynInfo& syn) {
        // Not from inside the filter (it runs within TCP input): next iteration.
        stack.post([&, syn] {
            SocketId out = *tcp.open();
            (void)tcp.set_promiscuous(out);
            (void)tcp.bind(out, syn.remote, true);  // the client's address and port
            (void)tcp.set_l2info(out, tcp::ConnL2{syn.l2.peer_mac, syn.l2.local_mac, syn.l2.vlans});
            (void)tcp.set_tx_interface(out, side[1]);
            if (!tcp.connect(stack.now(), out, syn.local)) {
                tcp.close(stack.now(), out);
                return (void)tcp.deliver_syn_verdict(stack.now(), syn.handle, tcp::SynVerdict::reject_rst);
            }
            tcp.set_upcall(out, [&, syn](SocketId s, std::uint32_t) {
                const auto st = tcp.state(s);
                if (st == tcp::TcpState::syn_sent) return;
                tcp.set_upcall(s, {});
                if (st && st != tcp::TcpState::closed) {  // the server accepted: so do we
                    ready[key(syn.remote, syn.local)] = s;
                    (void)tcp.deliver_syn_verdict(stack.now(), syn.handle, tcp::SynVerdict::accept);
                    return;
                }
                const bool refused = tcp.error(s) == ECONNREFUSED;  // else silent: so are we
                (void)tcp.deliver_syn_verdict(stack.now(), syn.handle,
                                              refused ? tcp::SynVerdict::reject_rst : tcp::SynVerdict::reject_silent);
                tcp.close(stack.now(), s);
            });
        });
        return tcp::SynVerdict::defer;
    });
    tcp.set_upcall(listener, [&](SocketId l, std::uint32_t) {
        while (auto in = tcp.accept(l)) {
            auto it = ready.find(key(*tcp.remote_endpoint(*in), *tcp.local_endpoint(*in)));
            if (it == ready.end()) {
                tcp.abort(stack.now(), *in);
                continue;
            }
            splicer.join(*in, it->second, [](const SpliceResult& r) {
                std::printf("relayed %llu bytes up, %llu down, %s\n", static_cast<unsigned long long>(r.a_to_b),
                            static_cast<unsigned long long>(r.b_to_a), to_string(r.end));
                std::fflush(stdout);
            });
            ready.erase(it);
        }
    });
    std::printf("ready\n");
    std::fflush(stdout);
    stack.run();
}
