// tests/support/passive_fixture.hpp — a passive (listen-only) stack fed by a
// ScriptDevice, and a builder for the segments of an observed connection.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "frames.hpp"
#include "host/virtual.hpp"
#include "script_device.hpp"
#include "stack/stack.hpp"
#include "wire/tcp.hpp"

namespace uinet::test {

using wire::TcpFlags;

// A stack counter by section and name (all ones when there is none).
inline std::uint64_t stack_counter(const Stack& stack, const std::string& sec, const std::string& name) {
    std::uint64_t v = ~std::uint64_t{0};
    stack.visit_counters([&](const char* s, const char* n, std::uint64_t x) {
        if (sec == s && name == n) v = x;
    });
    return v;
}

// Everything a socket has to read now, up to EOF (passive: holes skipped).
inline std::string drain_socket(TcpSockets& tcp, Instant now, SocketId id) {
    std::string out;
    std::uint8_t buf[4096];
    while (auto n = tcp.recv(now, id, buf)) {
        if (*n == 0) break;
        out.append(reinterpret_cast<const char*>(buf), *n);
    }
    return out;
}

inline Frame tcp_frame(const MacAddr& smac, const MacAddr& dmac, Ipv4Addr src, Ipv4Addr dst, std::uint16_t sport,
                       std::uint16_t dport, std::uint32_t seq, std::uint32_t ack, std::uint8_t flags,
                       const Frame& payload, std::optional<std::uint8_t> wscale = std::nullopt,
                       std::uint16_t window = 65535, const wire::VlanStack& vlans = {}) {
    wire::TcpRepr t;
    t.src_port = Port(sport);
    t.dst_port = Port(dport);
    t.seq = SeqNum(seq);
    t.ack = SeqNum(ack);
    t.flags = flags;
    t.window = window;
    if (flags & TcpFlags::syn) {
        t.options.mss = 1460;
        t.options.wscale = wscale;
    }
    Frame seg(t.size() + payload.size());
    std::copy(payload.begin(), payload.end(), seg.begin() + static_cast<std::ptrdiff_t>(t.size()));
    t.emit({seg.data(), t.size()}, {payload.data(), payload.size()}, src, dst);
    return eth(dmac, smac, wire::ethertype::ipv4, ipv4(src, dst, wire::ip_proto::tcp, seg), vlans);
}

// One observed connection: client C:cport -> server S:sport. Sequence
// numbers are given as stream offsets (0 = first data byte).
struct ObservedConn {
    MacAddr cmac = *MacAddr::parse("02:00:00:00:00:0c");
    MacAddr smac = *MacAddr::parse("02:00:00:00:00:05");
    Ipv4Addr c = Ipv4Addr::of(198, 18, 1, 1), s = Ipv4Addr::of(198, 18, 2, 2);
    std::uint16_t cport = 40000, sport = 80;
    std::uint32_t cisn = 1000, sisn = 0xfffff000;  // the server's ISN wraps within the test
    std::optional<std::uint8_t> cws = 7, sws = 7;
    wire::VlanStack vlans;

    Frame syn() const { return tcp_frame(cmac, smac, c, s, cport, sport, cisn, 0, TcpFlags::syn, {}, cws, 65535, vlans); }
    Frame synack() const {
        return tcp_frame(smac, cmac, s, c, sport, cport, sisn, cisn + 1, TcpFlags::syn | TcpFlags::ack, {}, sws, 65535,
                         vlans);
    }
    // Client data at c2s offset `off`, acking s2c offset `ack`.
    Frame c2s(std::uint64_t off, const Frame& data, std::uint64_t ack = 0, std::uint8_t extra = 0) const {
        return tcp_frame(cmac, smac, c, s, cport, sport, cisn + 1 + static_cast<std::uint32_t>(off),
                         sisn + 1 + static_cast<std::uint32_t>(ack), TcpFlags::ack | extra, data, {}, 65535, vlans);
    }
    Frame s2c(std::uint64_t off, const Frame& data, std::uint64_t ack = 0, std::uint8_t extra = 0) const {
        return tcp_frame(smac, cmac, s, c, sport, cport, sisn + 1 + static_cast<std::uint32_t>(off),
                         cisn + 1 + static_cast<std::uint32_t>(ack), TcpFlags::ack | extra, data, {}, 65535, vlans);
    }
};

struct PassiveStack {
    VirtualClock clock{Instant::from_ns(1'000'000'000)};
    SeededRandom rnd{7};
    Host host{};
    std::unique_ptr<Stack> stack;
    ScriptDevice* dev = nullptr;
    SocketId listener;

    explicit PassiveStack(const tcp::PassiveConfig& pc = {}, bool listen = true) {
        host.clock = &clock;
        host.random = &rnd;
        StackOptions o;
        o.net.passive = true;
        o.tcp.passive = pc;
        o.pool.count = 1024;
        stack = std::make_unique<Stack>(host, o);
        auto d = std::make_unique<ScriptDevice>(stack->pool());
        dev = d.get();
        net::InterfaceConfig ic;
        ic.mac = *MacAddr::parse("02:00:00:00:00:ee");
        ic.ipv4 = {*Ipv4Cidr::parse("198.18.9.9/16")};  // a stack address: ARP/ICMP would answer it
        ic.promiscuous = true;
        stack->add_interface(std::move(d), ic);
        if (listen) listener = *stack->tcp().open_passive_listener();
    }

    TcpSockets& tcp() { return stack->tcp(); }
    void feed(const Frame& f) {
        dev->inject({f.data(), f.size()});
        stack->poll(clock.now());
    }
    void advance(Duration d) {
        clock.advance(d);
        stack->poll(clock.now());
    }
    std::uint64_t counter(const std::string& sec, const std::string& name) const {
        return stack_counter(*stack, sec, name);
    }
    // Everything readable now, holes skipped.
    std::string drain(SocketId id) { return drain_socket(tcp(), clock.now(), id); }
};

inline Frame bytes_of(std::string_view s) { return Frame(s.begin(), s.end()); }

}  // namespace uinet::test
