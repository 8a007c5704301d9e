// link/fault.hpp — a fault-injecting Device wrapper for tests and sims.
//
// Contract:
//  * FaultInjector owns an inner Device and applies faults to the frames
//    crossing it in the configured directions (on_transmit: stack -> inner,
//    on_receive: inner -> stack). Everything else is forwarded.
//  * At most one random fault per frame: one uniform draw is compared with
//    the cumulative probabilities in the order drop, duplicate, reorder,
//    corrupt, so each kind happens with exactly its probability as long as
//    they sum to at most 1.
//      drop       the frame is discarded.
//      duplicate  a copy (from `pool`) follows the frame.
//      reorder    the frame is held and released right after the next frame
//                 leaving in that direction (or after reorder_max_hold);
//                 one frame is held at a time: a frame drawn for reorder
//                 while another is held just passes and releases it.
//      corrupt    exactly one bit is flipped, uniformly chosen among the
//                 bits at offset >= corrupt_min_offset (past the Ethernet
//                 header by default, so L3/L4 checksums catch it; a single
//                 bit error always changes an Internet checksum; bytes no
//                 checksum covers, such as Ethernet padding, can still be
//                 hit unnoticed). Frames too short to corrupt pass.
//  * delay + uniform[0, jitter] is then added to every frame that leaves
//    (duplicates included); delayed frames wait in a bounded queue sorted by
//    release instant (jitter can thus reorder, as on a real path) and leave
//    at the first receive() or transmit() call whose `now` reaches it;
//    next_deadline() reflects them. Queue full -> the frame is dropped.
//  * The observer is called once per frame entering a faulted direction,
//    with its fate (pass, drop, duplicate, reorder, corrupt, or delay when
//    the only thing that happens to it is the delay) and its bytes (after
//    corruption), just before the frame moves on. Duplicates do not get a
//    call of their own. Exception: a duplicate, or a frame released from
//    the reorder slot, that finds the delay queue full is reported (again,
//    for the latter) as drop.
//  * Decisions come from a self-contained xoshiro256** generator per
//    direction seeded from `seed`: the same seed and the same sequence of
//    calls give identical decisions. set_config() keeps the generators'
//    state unless the seed changes, in which case both are reseeded.
//  * transmit() takes every frame; frames the inner device refuses are
//    dropped and counted in tx_dropped. Dropped faults count in tx_dropped /
//    rx_dropped as well as in fault_stats().
//  * caps() is the inner device's with checksum offloads and TSO masked
//    off, so a corrupted frame is always checked in software.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "link/device.hpp"

namespace uinet {

struct FaultConfig {
    double drop = 0, duplicate = 0, reorder = 0, corrupt = 0;  // probabilities per frame
    Duration delay = Duration::zero();
    Duration jitter = Duration::zero();  // extra delay, uniform in [0, jitter]
    std::uint64_t seed = 1;
    bool on_transmit = true, on_receive = false;
    std::size_t corrupt_min_offset = 14;  // flip only past the Ethernet header so checksums catch it
    std::size_t delay_queue = 1024;       // frames held for delay, per direction
    Duration reorder_max_hold = Duration::millis(50);  // a reordered frame never waits longer
    // Probability that an ECN-capable (ECT(0)/ECT(1)) untagged IPv4 frame
    // is marked CE, as an AQM router would (RFC 3168 5); drawn separately,
    // so other faults' random sequences do not change.
    double ce_mark = 0;
};

enum class FaultKind { pass, drop, duplicate, reorder, corrupt, delay };

const char* to_string(FaultKind k);

struct FaultCounters {
    std::uint64_t frames = 0;      // frames that entered the direction
    std::uint64_t passed = 0;      // no random fault (possibly delayed)
    std::uint64_t dropped = 0;
    std::uint64_t duplicated = 0;
    std::uint64_t reordered = 0;
    std::uint64_t corrupted = 0;
    std::uint64_t delayed = 0;     // frames (duplicates included) held for delay
    std::uint64_t delay_overflow = 0;  // dropped: delay queue full
    std::uint64_t no_buffer = 0;       // duplicate or copy-on-write impossible: pool empty
    std::uint64_t ce_marked = 0;       // ECT frames marked CE
};

struct FaultStats {
    FaultCounters tx;
    FaultCounters rx;
};

class FaultInjector : public Device {
public:
    using Observer = std::function<void(FaultKind, Bytes frame, bool transmit)>;

    FaultInjector(std::unique_ptr<Device> inner, Pool& pool, FaultConfig cfg);
    ~FaultInjector() override;
    FaultInjector(const FaultInjector&) = delete;
    FaultInjector& operator=(const FaultInjector&) = delete;

    const std::string& name() const override { return inner_->name(); }
    DeviceCaps caps() const override;
    std::size_t receive(Instant now, std::span<Packet> out) override;
    std::size_t transmit(Instant now, std::span<Packet> pkts) override;
    int poll_fd() const override { return inner_->poll_fd(); }
    Instant next_deadline() const override;
    const DeviceStats& stats() const override { return stats_; }

    Device& inner() { return *inner_; }
    const Device& inner() const { return *inner_; }
    const FaultStats& fault_stats() const { return fault_stats_; }
    const FaultConfig& config() const { return cfg_; }
    void set_observer(Observer obs) { observer_ = std::move(obs); }
    void set_config(const FaultConfig& cfg);

    // Frames currently held (delayed or waiting to be reordered), both directions.
    std::size_t held() const;

    struct Lane;  // one direction's state (defined in fault.cpp)

private:
    void process(Lane& lane, Instant now, Packet&& p, bool tx);
    void mark_ce(Lane& lane, Packet& p);
    Instant departure(Lane& lane, Instant now);
    bool depart(Lane& lane, Instant now, Instant at, Packet&& p, bool tx, bool report_overflow);
    void release_due(Lane& lane, Instant now, bool tx);
    void flush_tx(Instant now);
    void deliver(Packet&& p, bool tx);
    Bytes view(const Packet& p);

    std::unique_ptr<Device> inner_;
    Pool& pool_;
    FaultConfig cfg_;
    Observer observer_;
    std::unique_ptr<Lane> tx_lane_, rx_lane_;
    std::vector<Packet> tx_batch_;  // frames on their way to inner, flushed in chunks
    std::vector<Packet> rx_ready_;  // frames on their way to the stack
    std::size_t rx_ready_head_ = 0;
    std::vector<Packet> rx_scratch_;
    std::vector<std::uint8_t> linear_;  // observer view of chained frames
    DeviceStats stats_{};
    FaultStats fault_stats_{};
};

}  // namespace uinet
