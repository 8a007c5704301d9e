// link/device.hpp — the packet device interface every driver implements.
//
// Contract (DESIGN.md principle 7):
//  * receive() and transmit() move frames in batches and never block.
//  * receive() fills `out` with up to out.size() complete Ethernet frames
//    (no FCS), allocated from the device's receive pool, and returns how
//    many it filled.
//  * transmit() takes the frames it accepts (it moves them out of `pkts`,
//    leaving those slots empty) and returns how many it took, always a
//    prefix of the span. Frames it does not take stay with the caller, who
//    drops and counts them.
//  * poll_fd() is a descriptor that becomes readable when receive() may
//    have frames (-1 if the device is driven purely by time);
//    next_deadline() is the earliest instant at which a time-driven device
//    (a delaying pipe, a paced reader) will have something to deliver.
//  * A device is used by one thread at a time, the one driving its stack.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "base/time.hpp"
#include "buf/packet.hpp"

namespace uinet {

struct DeviceCaps {
    std::uint32_t mtu = 1500;          // largest L3 payload of one frame
    bool rx_csum_verified = false;     // frames arrive with checksums verified
    bool tx_csum_offload = false;      // device finishes partial L4 checksums
    std::uint32_t tso_max = 0;         // largest TSO super-frame (0 = no TSO)
    std::uint16_t rx_queues = 1;
    std::uint16_t tx_queues = 1;
};

struct DeviceStats {
    std::uint64_t rx_packets = 0;
    std::uint64_t rx_bytes = 0;
    std::uint64_t rx_dropped = 0;  // lost before the stack saw them (no buffer, queue full)
    std::uint64_t rx_errors = 0;
    std::uint64_t tx_packets = 0;
    std::uint64_t tx_bytes = 0;
    std::uint64_t tx_dropped = 0;  // refused or lost inside the device
    std::uint64_t tx_errors = 0;
};

class Device {
public:
    virtual ~Device() = default;

    virtual const std::string& name() const = 0;
    virtual DeviceCaps caps() const = 0;
    virtual std::size_t receive(Instant now, std::span<Packet> out) = 0;
    virtual std::size_t transmit(Instant now, std::span<Packet> pkts) = 0;
    virtual int poll_fd() const { return -1; }
    virtual Instant next_deadline() const { return Instant::never(); }
    virtual const DeviceStats& stats() const = 0;
};

}  // namespace uinet
