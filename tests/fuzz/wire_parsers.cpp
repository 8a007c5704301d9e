// tests/fuzz/wire_parsers.cpp — libFuzzer entry for every wire/ parser.
//
// Contract: for any input, no parser reads out of bounds, crashes or
// hangs, and whatever parses successfully re-emits to bytes that decode to
// the same value (a failed property calls __builtin_trap()). The input is
// tried three ways: as an Ethernet frame walked down the stack (L2, ARP,
// IPv4/IPv6, then ICMP/UDP/TCP with the real addresses), and directly as
// each header, with and without checksum verification. It also checks
// that summing the input in scattered pieces equals summing it whole.
#include <array>
#include <cstddef>
#include <cstdint>

#include "wire/arp.hpp"
#include "wire/checksum.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmpv4.hpp"
#include "wire/icmpv6.hpp"
#include "wire/ipv4.hpp"
#include "wire/ipv6.hpp"
#include "wire/tcp.hpp"
#include "wire/udp.hpp"
#include "wire/vlan.hpp"

using namespace uinet;
using namespace uinet::wire;

namespace {

void check(bool ok) {
    if (!ok) __builtin_trap();
}

void round_trip_tcp(const TcpRepr& r) {
    std::array<std::uint8_t, kTcpMaxHeaderLen> out{};
    check(r.size() <= out.size() && r.size() % 4 == 0);
    r.emit_header(MutBytes(out));
    auto back = TcpRepr::parse_unchecked(Bytes(out.data(), r.size()));
    check(back.ok());
    check(back->src_port == r.src_port && back->dst_port == r.dst_port && back->seq == r.seq &&
          back->ack == r.ack && back->flags == r.flags && back->window == r.window &&
          back->urgent == r.urgent && back->header_len == r.size());
    if (r.options.sack_blocks_emitted() == r.options.sack_count) check(back->options == r.options);
}

void round_trip_udp(const UdpRepr& r) {
    std::array<std::uint8_t, kUdpHeaderLen> out{};
    r.emit_header_only(MutBytes(out), 0x1234);
    UdpView v{Bytes(out)};
    check(v.src_port() == r.src_port && v.dst_port() == r.dst_port && v.length() == r.length &&
          v.checksum() == 0x1234);
}

void round_trip_ipv4(const Ipv4Repr& r) {
    std::array<std::uint8_t, kIpv4MinHeaderLen> out{};
    r.emit(MutBytes(out));
    Ipv4View v{Bytes(out)};
    check(v.checksum_ok() && v.version() == 4 && v.header_len() == 20);
    check(v.src() == r.src && v.dst() == r.dst && v.protocol() == r.protocol && v.ttl() == r.ttl &&
          v.tos() == r.tos && v.ident() == r.ident && v.dont_frag() == r.dont_frag &&
          v.more_frags() == r.more_frags && v.frag_offset() == r.frag_offset &&
          v.total_len() == static_cast<std::uint16_t>(20 + r.payload_len));
}

void l4_v4(Bytes seg, const Ipv4Repr& ip) {
    for (bool verify : {true, false}) {
        switch (ip.protocol) {
            case ip_proto::icmp:
                (void)Icmpv4Repr::parse(seg, verify);
                break;
            case ip_proto::udp:
                if (auto u = UdpRepr::parse(seg, ip.src, ip.dst, verify)) round_trip_udp(*u);
                break;
            case ip_proto::tcp:
                if (auto t = TcpRepr::parse(seg, ip.src, ip.dst, verify)) round_trip_tcp(*t);
                break;
            default:
                break;
        }
    }
}

void l4_v6(Bytes seg, const Ipv6Repr& ip) {
    for (bool verify : {true, false}) {
        switch (ip.next_header) {
            case ip_proto::ipv6_icmp:
                (void)Icmpv6Repr::parse(seg, ip.src, ip.dst, verify);
                break;
            case ip_proto::udp:
                if (auto u = UdpRepr::parse(seg, ip.src, ip.dst, verify)) round_trip_udp(*u);
                break;
            case ip_proto::tcp:
                if (auto t = TcpRepr::parse(seg, ip.src, ip.dst, verify)) round_trip_tcp(*t);
                break;
            default:
                break;
        }
    }
}

void network(std::uint16_t type, Bytes payload) {
    if (type == ethertype::arp) {
        if (auto a = ArpRepr::parse(payload)) {
            std::array<std::uint8_t, kArpLen> out{};
            a->emit(MutBytes(out));
            check(ArpRepr::parse(Bytes(out)).ok() && *ArpRepr::parse(Bytes(out)) == *a);
        }
    } else if (type == ethertype::ipv4) {
        for (bool verify : {true, false}) {
            if (auto ip = Ipv4Repr::parse(payload, verify)) {
                round_trip_ipv4(*ip);
                Ipv4View v(payload);
                check(v.check_len().ok());
                l4_v4(v.payload(), *ip);
            }
        }
    } else if (type == ethertype::ipv6) {
        if (auto ip = Ipv6Repr::parse(payload)) {
            std::array<std::uint8_t, kIpv6HeaderLen> out{};
            ip->emit(MutBytes(out));
            Ipv6View v{Bytes(out)};
            check(v.version() == 6 && v.src() == ip->src && v.dst() == ip->dst &&
                  v.next_header() == ip->next_header && v.hop_limit() == ip->hop_limit &&
                  v.traffic_class() == ip->traffic_class && v.flow_label() == ip->flow_label &&
                  v.payload_len() == ip->payload_len);
            l4_v6(Ipv6View(payload).payload(), *ip);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const Bytes in(data, size);

    // As a frame.
    if (auto l2 = parse_l2(in)) {
        check(l2->header_len == l2_header_len(l2->vlans) && l2->header_len <= size);
        std::array<std::uint8_t, 14 + kVlanTagLen * kMaxVlanTags> out{};
        emit_l2(MutBytes(out), l2->dst, l2->src, l2->vlans, l2->ethertype);
        auto back = parse_l2(Bytes(out.data(), l2->header_len));
        check(back.ok() && *back == *l2);
        network(l2->ethertype, in.subspan(l2->header_len));
    }
    if (auto e = EthernetRepr::parse(in)) {
        std::array<std::uint8_t, kEthHeaderLen> out{};
        e->emit(MutBytes(out));
        check(*EthernetRepr::parse(Bytes(out)) == *e);
    }

    // Directly as each header.
    network(ethertype::arp, in);
    network(ethertype::ipv4, in);
    network(ethertype::ipv6, in);
    const Ipv4Addr a4 = Ipv4Addr::of(198, 18, 0, 1), b4 = Ipv4Addr::of(198, 18, 0, 2);
    Ipv4Repr v4;
    v4.src = a4;
    v4.dst = b4;
    for (std::uint8_t p : {ip_proto::icmp, ip_proto::udp, ip_proto::tcp}) {
        v4.protocol = p;
        l4_v4(in, v4);
    }
    Ipv6Repr v6;
    for (std::uint8_t p : {ip_proto::ipv6_icmp, ip_proto::udp, ip_proto::tcp}) {
        v6.next_header = p;
        l4_v6(in, v6);
    }
    (void)TcpOptions::parse(in);
    (void)check_ipv4_options(in);

    // Checksum: pieces cut at input-derived odd places equal the whole.
    Checksum whole, pieces;
    whole.add(in);
    std::size_t pos = 0, step = size ? (data[0] % 13) + 1 : 1;
    while (pos < size) {
        std::size_t n = std::min(step, size - pos);
        pieces.add(in.subspan(pos, n));
        pos += n;
        step = step % 13 + 1;
    }
    check(whole.sum() == pieces.sum());
    return 0;
}
