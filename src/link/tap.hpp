// link/tap.hpp — a Linux TAP device driver (/dev/net/tun, IFF_TAP|IFF_NO_PI).
//
// Contract:
//  * open() attaches to the TAP interface `name`, creating it if it does
//    not exist and create_if_missing is set. A TAP created here is not
//    persistent: the kernel removes it when the device is closed. With
//    set_up the interface is brought up (SIOCSIFFLAGS IFF_UP).
//  * Failures are returned as clear messages, never thrown:
//      "permission denied: creating or attaching a TAP device needs
//       CAP_NET_ADMIN (run as root)",
//      "device busy: TAP device NAME is attached to another process",
//      "not a tap: NAME exists and is not a single-queue TAP device",
//      "name too long: ...", "no such device: ...", and other system errors.
//  * The descriptor is non-blocking: receive() reads frames until EAGAIN
//    or until `out` is full, straight into pool buffers (a frame longer
//    than a buffer's tailroom is chained); transmit() writes one frame per
//    write()/writev() and stops at EAGAIN, leaving the rest with the
//    caller. A frame the kernel rejects is taken and counted in tx_errors.
//    With the receive pool exhausted, a pending frame is read and dropped
//    (rx_dropped) so the descriptor does not stay readable forever.
//  * caps().mtu is the interface MTU read (SIOCGIFMTU) when the device was
//    opened; refresh_mtu() reads it again.
//  * kernel_mac() is the MAC address of the kernel's side of the interface;
//    the stack must use another address for itself.
//  * Offloads (TapOptions::offloads, as QEMU's virtio-net does): the device
//    is opened with IFF_VNET_HDR and TUNSETOFFLOAD(CSUM, TSO4, TSO6), and
//    every frame carries a virtio_net_hdr. Transmit: a frame with a partial
//    checksum (meta().tx_csum_partial) goes with NEEDS_CSUM and the kernel
//    finishes it; a frame longer than the MTU with meta().tso_mss is a GSO
//    super-frame (TCPV4/TCPV6, gso_size = tso_mss) the kernel segments if
//    it must. caps() then reports tx_csum_offload and tso_max = 65535 + L2.
//    Receive: the kernel may hand over GSO super-frames (meta().tso_mss =
//    gso_size) and frames whose checksum it left partial; the driver
//    finishes such a checksum in software (so the frame is correct wherever
//    it goes next, e.g. bridged) and marks it verified, as it does frames
//    the kernel flags DATA_VALID. If the kernel refuses the offload ioctls
//    the device opens without them (offloads_active() says which).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/addr.hpp"
#include "base/result.hpp"
#include "link/device.hpp"

struct virtio_net_hdr;  // <linux/virtio_net.h>

namespace uinet {

struct TapOptions {
    bool create_if_missing = true;
    bool set_up = true;
    bool offloads = false;  // virtio-net header: checksum offload and TSO both ways
};

class TapDevice : public Device {
public:
    static Result<std::unique_ptr<TapDevice>, std::string> open(const std::string& name, Pool& rx_pool,
                                                                const TapOptions& opts = {});
    ~TapDevice() override;
    TapDevice(const TapDevice&) = delete;
    TapDevice& operator=(const TapDevice&) = delete;

    const std::string& name() const override { return name_; }
    DeviceCaps caps() const override;
    std::size_t receive(Instant now, std::span<Packet> out) override;
    std::size_t transmit(Instant now, std::span<Packet> pkts) override;
    int poll_fd() const override { return fd_; }
    const DeviceStats& stats() const override { return stats_; }

    MacAddr kernel_mac() const { return kernel_mac_; }
    unsigned ifindex() const { return ifindex_; }
    bool offloads_active() const { return vnet_; }
    // True if open() created the interface (it vanishes on close).
    bool created() const { return created_; }
    // Reads the interface MTU again; returns it, or an error message.
    Result<std::uint32_t, std::string> refresh_mtu();

private:
    TapDevice(std::string name, Pool& pool, int fd);
    // The virtio-net header for a frame about to be written.
    void fill_vnet_header(Packet& p, ::virtio_net_hdr& vh) const;

    std::string name_;
    Pool& pool_;
    int fd_ = -1;
    std::uint32_t mtu_ = 1500;
    unsigned ifindex_ = 0;
    bool created_ = false;
    bool vnet_ = false;           // virtio-net header with offloads
    bool vnet_hdr_only_ = false;  // header present, offloads refused by the kernel
    MacAddr kernel_mac_{};
    DeviceStats stats_{};
    std::unique_ptr<std::uint8_t[]> spill_;  // tail of frames longer than a buffer
};

}  // namespace uinet
