// link/mem_pipe.hpp — an in-memory Ethernet link with two ends.
//
// Contract:
//  * make_mem_pipe() returns two Devices joined back to back: what one end
//    transmits, the other receives. Each end receives into its own Pool, so
//    the two ends may be driven by two different threads (two stacks, each
//    on its own thread) or by one thread. Each end on its own is used by one
//    thread at a time, as every Device.
//  * Each direction is a bounded drop-tail queue of `queue_frames` entries,
//    allocated once when the pipe is made (no allocation per frame); each
//    frame is stamped with its delivery instant:
//        start    = max(now, link busy-until)
//        busy     = start + bytes * 8 / bandwidth_bps   (0 if unlimited)
//        delivery = busy + delay  (never earlier than the previous frame's)
//    where bytes counts the Ethernet frame as handed to transmit (no
//    preamble, FCS or inter-frame gap). The queue holds frames until
//    their delivery instant, so a slow link with a short queue drops at
//    the tail as a real bottleneck does (DESIGN.md, testing pyramid: sim).
//    queue_frames bounds every frame in a direction, in flight included:
//    with a delay, size it above the bandwidth-delay product (in frames)
//    plus the buffering wanted.
//  * Copies. By default transmit() copies a frame's bytes into a slot of
//    the queue and gives the sender's buffers back at once, and receive()
//    copies the slot into the receiving end's pool: two copies, the sender's
//    pool untouched by frames in flight (a NIC's DMA plus a bounce buffer).
//    With `hand_over` the queue keeps the sender's own packet (as veth
//    passes an skb) and receive() copies it once into the receiving pool;
//    the consumed packet goes back to the sending end, which frees it into
//    its pool on its own thread at its next transmit() (or when it is
//    destroyed). The sender's pool then also holds the frames in flight.
//  * Offloads, opt-in (DESIGN.md principle 7; the defaults keep exact
//    1500-byte, software-checksum semantics for the sims and scripts):
//    - csum_offload: caps() report tx_csum_offload and rx_csum_verified. A
//      frame sent with meta().tx_csum_partial (its L4 checksum left for the
//      device) is delivered with meta().rx_csum_verified = true and its
//      checksum field not finished, as a veth passes CHECKSUM_PARTIAL skbs
//      and loopback marks them verified. A frame whose checksum software
//      computed is delivered unverified: the receiver checks it, so a frame
//      corrupted above the pipe (fault wrapper) is still caught.
//    - tso_max (requires csum_offload, as TSO requires checksum offload in
//      Linux): caps().tso_max reports it (clamped to 65535, the largest
//      IPv4 datagram). A "super-frame" longer than the MTU allows is
//      carried whole if it carries meta().tso_mss != 0 and
//      meta().tx_csum_partial and its L3 part is at most tso_max; it is
//      delivered as one frame with tso_mss kept in the received meta (what
//      GRO's gso_size tells a receiver).
//  * transmit() takes every frame it is given. A frame that cannot be
//    carried is dropped and counted on the sending end: queue full ->
//    tx_dropped; shorter than an Ethernet header, or longer than
//    mtu + 14 + 16*4 (room for 16 VLAN tags) without being an acceptable
//    super-frame (tso_max + 14 + 16*4) -> tx_errors.
//  * receive() hands over, in order, the frames whose delivery instant is
//    <= now, copied into buffers of the receiving end's pool. Pool
//    exhausted -> the frame is dropped and counted in rx_dropped.
//  * next_deadline() is the delivery instant of the first frame queued
//    towards this end (Instant::never() if none).
//  * poll_fd() is an eventfd per direction. It becomes readable when a
//    frame is queued towards an end whose queue was empty; after receive()
//    it is readable exactly when frames already due were left behind. Frames
//    still in flight after a receive() are announced by next_deadline(),
//    not by the descriptor, so a real-time stack waits with
//    epoll(poll_fd, timeout = next_deadline - now) and never spins. If the
//    eventfd cannot be created (descriptor limit), poll_fd() is -1 and the
//    pipe is driven by next_deadline() alone.
//  * A mutex per direction guards the queue; next_deadline() reads an
//    atomic copy of the head's delivery instant instead of taking it.
//    Statistics of an end are written only by the thread driving that end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "link/device.hpp"

namespace uinet {

struct MemLinkConfig {
    std::size_t queue_frames = 256;     // bounded drop-tail queue per direction (at least 1)
    std::uint64_t bandwidth_bps = 0;    // 0 = unlimited
    Duration delay = Duration::zero();  // propagation delay, added to every frame
    std::uint32_t mtu = 1500;           // largest L3 payload
    bool csum_offload = false;          // checksum offload both ways (see above)
    std::uint32_t tso_max = 0;          // largest TSO super-frame's L3 size (0 = none; needs csum_offload)
    bool hand_over = false;             // queue the sender's packets: one copy per frame instead of two
};

namespace detail {
struct MemDirection;
}

class MemPipeEnd : public Device {
public:
    ~MemPipeEnd() override;
    MemPipeEnd(const MemPipeEnd&) = delete;
    MemPipeEnd& operator=(const MemPipeEnd&) = delete;

    const std::string& name() const override { return name_; }
    DeviceCaps caps() const override;
    std::size_t receive(Instant now, std::span<Packet> out) override;
    std::size_t transmit(Instant now, std::span<Packet> pkts) override;
    int poll_fd() const override;
    Instant next_deadline() const override;
    const DeviceStats& stats() const override { return stats_; }

    const MemLinkConfig& config() const { return cfg_; }
    // Largest ordinary frame the link carries: mtu + 14 + 16 * 4.
    std::size_t max_frame() const;
    // Largest super-frame (0 without TSO): tso_max + 14 + 16 * 4.
    std::size_t max_super_frame() const;
    // Frames currently queued towards this end (due or not).
    std::size_t pending() const;

private:
    friend std::pair<std::unique_ptr<MemPipeEnd>, std::unique_ptr<MemPipeEnd>> make_mem_pipe(
        Pool&, Pool&, const MemLinkConfig&, std::string, std::string);
    MemPipeEnd(std::string name, Pool& pool, const MemLinkConfig& cfg,
               std::shared_ptr<detail::MemDirection> rx, std::shared_ptr<detail::MemDirection> tx);

    std::string name_;
    Pool& pool_;
    MemLinkConfig cfg_;
    std::shared_ptr<detail::MemDirection> rx_;  // frames towards this end
    std::shared_ptr<detail::MemDirection> tx_;  // frames from this end
    DeviceStats stats_{};
    std::vector<Packet> done_;  // hand_over: consumed frames, freed on this end's thread
};

// Makes a link: end .first receives into pool_a, end .second into pool_b.
// Both ends share the configuration. The ends may be destroyed in any order.
std::pair<std::unique_ptr<MemPipeEnd>, std::unique_ptr<MemPipeEnd>> make_mem_pipe(
    Pool& pool_a, Pool& pool_b, const MemLinkConfig& cfg = {}, std::string name_a = "mem0",
    std::string name_b = "mem1");

}  // namespace uinet
