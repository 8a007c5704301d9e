// link/pcap/pcap_device.hpp — libpcap drivers: capture files as receive-only
// devices, and live capture (with injection) on a host interface.
//
// This folder is an optional driver: it is built into its own library,
// uinet_pcap, only when libpcap is present, and the core library never
// depends on it (DESIGN.md: optional drivers use the field's libraries).
//
// Contract:
//  * PcapFileDevice reads a pcap or pcapng file (whatever libpcap reads)
//    and delivers its packets, in file order, as received frames. It never
//    transmits: every frame handed to transmit() is dropped and counted in
//    tx_dropped (a passive stack must not send, and this makes it visible).
//  * Link types: Ethernet frames are delivered as they are. Raw IPv4/IPv6
//    (LINKTYPE_RAW, IPV4, IPV6) and Linux cooked captures (SLL, SLL2, as
//    `tcpdump -i any` writes) get a synthetic Ethernet header with zero
//    MAC addresses and the packet's ethertype (SLL keeps the sender's
//    address as source MAC when it is 6 bytes long). Any other link type
//    is refused at open() with a clear error.
//  * A packet cut short by the capture's snap length is not delivered (the
//    stack would take it for a damaged datagram): counted in truncated.
//    Packets larger than the pool's buffers are carried as chains; if the
//    pool runs dry the packet is dropped and counted in rx_dropped.
//  * Timing. Each frame's meta().rx_time is its capture timestamp. In
//    Pace::full_speed, receive() hands over the next frames at once, and
//    next_timestamp() tells the caller the capture time of the next frame
//    so that a stack driven by a virtual clock can use the packets'
//    timestamps as its clock (DESIGN.md, sim). In Pace::capture_timing the
//    device replays in real time: a frame is due at start + (ts - first ts),
//    where start is the `now` of the first receive() call; next_deadline()
//    says when the next frame is due.
//  * at_end() is true once every packet was read; a read error ends the file
//    early and is counted in rx_errors with its message in last_error().
//  * PcapLiveDevice captures on a host interface (promiscuous, immediate
//    mode, non-blocking) and transmits with pcap_inject(). Its poll_fd() is
//    libpcap's selectable descriptor. Drops reported by the kernel
//    (pcap_stats) are added to rx_dropped.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "link/device.hpp"

struct pcap;

namespace uinet {

struct PcapFileStats {
    std::uint64_t packets = 0;     // records read from the file
    std::uint64_t truncated = 0;   // cut by the snap length: not delivered
    std::uint64_t converted = 0;   // given a synthetic Ethernet header
};

class PcapFileDevice final : public Device {
public:
    enum class Pace : std::uint8_t { full_speed, capture_timing };

    static Result<std::unique_ptr<PcapFileDevice>, std::string> open(const std::string& path, Pool& pool,
                                                                       Pace pace = Pace::full_speed);
    ~PcapFileDevice() override;
    PcapFileDevice(const PcapFileDevice&) = delete;
    PcapFileDevice& operator=(const PcapFileDevice&) = delete;

    const std::string& name() const override { return name_; }
    DeviceCaps caps() const override;
    std::size_t receive(Instant now, std::span<Packet> out) override;
    std::size_t transmit(Instant now, std::span<Packet> pkts) override;
    Instant next_deadline() const override;
    const DeviceStats& stats() const override { return stats_; }

    // Capture time of the next frame (Instant::never() at the end).
    Instant next_timestamp() const { return have_next_ ? next_ts_ : Instant::never(); }
    bool at_end() const { return !have_next_; }
    int linktype() const { return linktype_; }
    const PcapFileStats& file_stats() const { return fstats_; }
    const std::string& last_error() const { return error_; }

private:
    PcapFileDevice(std::string path, pcap* p, Pool& pool, Pace pace);
    void advance();  // reads the next record into next_*

    std::string name_;
    pcap* pcap_;
    Pool& pool_;
    Pace pace_;
    int linktype_ = 0;
    bool have_next_ = false;
    Instant next_ts_{};
    const std::uint8_t* next_data_ = nullptr;
    std::uint32_t next_caplen_ = 0, next_len_ = 0;
    Instant first_ts_{}, start_{};
    bool started_ = false;
    DeviceStats stats_{};
    PcapFileStats fstats_{};
    std::string error_;
};

class PcapLiveDevice final : public Device {
public:
    static Result<std::unique_ptr<PcapLiveDevice>, std::string> open(const std::string& ifname, Pool& pool,
                                                                       std::uint32_t mtu = 1500);
    ~PcapLiveDevice() override;
    PcapLiveDevice(const PcapLiveDevice&) = delete;
    PcapLiveDevice& operator=(const PcapLiveDevice&) = delete;

    const std::string& name() const override { return name_; }
    DeviceCaps caps() const override;
    std::size_t receive(Instant now, std::span<Packet> out) override;
    std::size_t transmit(Instant now, std::span<Packet> pkts) override;
    int poll_fd() const override { return fd_; }
    const DeviceStats& stats() const override { return stats_; }

private:
    PcapLiveDevice(std::string ifname, pcap* p, Pool& pool, std::uint32_t mtu);

    std::string name_;
    pcap* pcap_;
    Pool& pool_;
    std::uint32_t mtu_;
    int fd_ = -1;
    std::uint64_t kernel_drops_seen_ = 0;
    DeviceStats stats_{};
    std::vector<std::uint8_t> scratch_;
};

}  // namespace uinet
