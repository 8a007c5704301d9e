// net/interface.hpp — a network interface: a device plus its addresses.
//
// Contract: an Interface owns its Device, its ARP cache and its transmit
// batch. The network layer appends outgoing frames to `txq`; the stack
// flushes the batch to the device once per loop iteration (DESIGN.md:
// batching). An interface may carry a VLAN tag stack: it then accepts only
// frames with exactly that stack and tags every frame it sends, which is how
// VLAN sub-interfaces are modelled.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/addr.hpp"
#include "buf/packet.hpp"
#include "link/device.hpp"
#include "net/arp_cache.hpp"
#include "net/first_look.hpp"
#include "net/route.hpp"
#include "wire/vlan.hpp"

namespace uinet::net {

struct InterfaceConfig {
    std::string name;
    MacAddr mac;
    std::vector<Ipv4Cidr> ipv4;   // addresses; each adds a connected route
    wire::VlanStack vlans;        // tags of this interface (empty = untagged)
    bool promiscuous = false;     // accept frames for any MAC and any IP address
    std::uint32_t mtu = 0;        // 0: the device's MTU
    bool announce = true;         // gratuitous ARP for each address when added
};

class Interface {
public:
    Interface(IfIndex index, std::unique_ptr<Device> dev, InterfaceConfig cfg, const ArpConfig& arp)
        : index_(index), dev_(std::move(dev)), cfg_(std::move(cfg)), arp_(arp) {
        caps_ = dev_->caps();
        mtu_ = cfg_.mtu != 0 && cfg_.mtu < caps_.mtu ? cfg_.mtu : caps_.mtu;
        txq.reserve(256);
    }

    IfIndex index() const { return index_; }
    const std::string& name() const { return cfg_.name; }
    const MacAddr& mac() const { return cfg_.mac; }
    const InterfaceConfig& config() const { return cfg_; }
    InterfaceConfig& config() { return cfg_; }
    std::uint32_t mtu() const { return mtu_; }
    const DeviceCaps& caps() const { return caps_; }
    Device& device() { return *dev_; }
    const Device& device() const { return *dev_; }
    ArpCache& arp() { return arp_; }
    const ArpCache& arp() const { return arp_; }

    // True if `a` is one of this interface's unicast addresses.
    bool has_addr(Ipv4Addr a) const {
        for (const auto& c : cfg_.ipv4)
            if (c.addr == a) return true;
        return false;
    }
    // True if `a` is the directed broadcast of one of this interface's subnets.
    bool is_subnet_broadcast(Ipv4Addr a) const {
        for (const auto& c : cfg_.ipv4)
            if (c.prefix_len < 31 && c.directed_broadcast() == a) return true;
        return false;
    }
    // The address to use as source towards `dst` (same subnet first).
    Ipv4Addr source_for(Ipv4Addr dst) const {
        for (const auto& c : cfg_.ipv4)
            if (c.contains(dst)) return c.addr;
        return cfg_.ipv4.empty() ? Ipv4Addr::any() : cfg_.ipv4.front().addr;
    }

    std::vector<Packet> txq;  // frames waiting for the next flush
    FirstLookHook first_look;  // sees every received frame first (may be empty)

private:
    IfIndex index_;
    std::unique_ptr<Device> dev_;
    InterfaceConfig cfg_;
    DeviceCaps caps_;
    std::uint32_t mtu_ = 1500;
    ArpCache arp_;
};

}  // namespace uinet::net
