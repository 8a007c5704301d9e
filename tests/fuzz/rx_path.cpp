// tests/fuzz/rx_path.cpp — fuzzes the whole receive path: Ethernet/VLAN
// demux, ARP, IPv4 (with reassembly across frames), ICMP, UDP and TCP (a
// listener on port 80 whose connections are accepted and read).
//
// Input: one flags byte, then frames as [length hi, length lo, bytes...].
// Flags: bit 0 promiscuous, bit 1 answer (no black hole), bit 2 a QinQ
// interface. Every frame is fed in; the stack's own output is discarded.
// Invariants checked: no crash, and every buffer returns to the pool.
#include <array>
#include <cstdint>
#include <vector>
#include <cstdlib>
#include <memory>

#include "net/net.hpp"
#include "tcp/tcp_layer.hpp"
#include "udp/udp.hpp"
#include "wire/vlan.hpp"

namespace {

class CountingRandom : public uinet::Random {
public:
    void fill(uinet::MutBytes out) override {
        for (auto& b : out) b = static_cast<std::uint8_t>(n_++ * 131 + 7);
    }

private:
    std::uint32_t n_ = 0;
};

class NullDevice : public uinet::Device {
public:
    const std::string& name() const override { return name_; }
    uinet::DeviceCaps caps() const override { return {}; }
    std::size_t receive(uinet::Instant, std::span<uinet::Packet>) override { return 0; }
    std::size_t transmit(uinet::Instant, std::span<uinet::Packet> p) override {
        for (auto& x : p) x.reset();
        return p.size();
    }
    const uinet::DeviceStats& stats() const override { return stats_; }

private:
    std::string name_ = "null0";
    uinet::DeviceStats stats_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace uinet;
    if (size < 1) return 0;
    const std::uint8_t flags = data[0];
    Pool pool({.count = 96, .buf_size = 2048, .headroom = 192});
    {
        net::NetConfig cfg;
        cfg.blackhole = (flags & 2) == 0;
        cfg.reassembly.max_bytes = 64 * 1024;
        net::NetLayer net(pool, cfg);
        CountingRandom rnd;
        udp::UdpLayer udp(net, rnd);
        auto id = udp.open(1);
        (void)udp.bind(*id, {Ipv4Addr::any(), Port(7)});
        tcp::TcpLayer tcp(net, rnd);
        auto lid = tcp.open(2);
        (void)tcp.bind(*lid, {Ipv4Addr::any(), Port(80)}, false);
        (void)tcp.listen(*lid, 8);
        std::vector<tcp::TcbId> accepted;
        std::array<std::uint8_t, 2048> rbuf{};
        net::InterfaceConfig ic;
        ic.mac = *MacAddr::parse("02:00:00:00:00:02");
        ic.ipv4 = {*Ipv4Cidr::parse("198.18.0.2/24")};
        ic.promiscuous = (flags & 1) != 0;
        if (flags & 4) {
            ic.vlans.push_back(wire::VlanTag::make(0x88a8, 100));
            ic.vlans.push_back(wire::VlanTag::make(0x8100, 200));
        }
        net::IfIndex i = net.add_interface(Instant::from_ns(0), std::make_unique<NullDevice>(), ic);
        net::Interface& ifc = *net.interface(i);
        std::size_t pos = 1;
        std::int64_t t = 1'000'000'000;
        while (pos + 2 <= size) {
            std::size_t len = static_cast<std::size_t>(data[pos] << 8 | data[pos + 1]);
            pos += 2;
            len = std::min(len, size - pos);
            Packet p = pool.copy_of({data + pos, len}, 64);
            pos += len;
            t += 1'000'000;
            if (p) net.input(Instant::from_ns(t), ifc, std::move(p));
            net.poll(Instant::from_ns(t));
            tcp.poll(Instant::from_ns(t));
            ifc.txq.clear();
            while (udp.recv(*id)) {
            }
            while (auto c = tcp.accept(*lid)) accepted.push_back(*c);
            for (tcp::TcbId c : accepted)
                if (tcp::Tcb* tb = tcp.tcb(c)) {
                    while (tb->recv(Instant::from_ns(t), rbuf) > 0) {
                    }
                    tcp.touch(c);
                }
        }
        // Let reassembly, ARP and TCP timers run out.
        for (tcp::TcbId c : accepted) tcp.release(Instant::from_ns(t), c, true);
        tcp.release(Instant::from_ns(t), *lid, false);
        for (int k = 1; k <= 4; ++k) {
            net.poll(Instant::from_ns(t + k * 100'000'000'000));
            tcp.poll(Instant::from_ns(t + k * 100'000'000'000));
            ifc.txq.clear();
        }
        udp.close(*id);
    }
    if (pool.stats().in_use != 0) std::abort();
    return 0;
}
