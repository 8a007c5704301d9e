// link/vlan_tagger.hpp — a Device wrapper that makes its inner link a VLAN trunk.
//
// Contract:
//  * Frames received from the inner device reach the stack carrying the
//    configured tag stack (IEEE 802.1Q / 802.1ad: each tag is a 16-bit TPID
//    and a 16-bit TCI, outermost first) inserted after the two MAC
//    addresses. The push is done in place with the buffer's headroom
//    (4 * n bytes, the 12 MAC bytes moved down); if the headroom is short or
//    the frame is shared, the frame is copied into a fresh buffer of its own
//    pool. Pool exhausted -> rx_dropped.
//  * Frames transmitted by the stack must start with exactly that tag stack
//    after the MAC addresses; it is popped before the inner device sees the
//    frame (and a partial-checksum offset moves with it). Frames whose
//    outer tags do not match, or too short to hold them and an ethertype,
//    are dropped and counted (tag_mismatch, tx_dropped).
//  * transmit() takes every frame; frames the inner device refuses are
//    dropped and counted in tx_dropped.
//  * caps() are the inner device's: tags are pushed and popped without
//    touching the IP datagram, so checksum offload and TSO pass through
//    (csum_start moves with the tags; the offload metadata is kept).
//  * This kernel has no VLAN devices (DESIGN.md, interop), so VLAN tests
//    put this wrapper between the stack and a TAP or mem link.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "link/device.hpp"

namespace uinet {

struct VlanStats {
    std::uint64_t rx_tagged = 0;     // frames given their tags
    std::uint64_t rx_copied = 0;     // ... by copying (headroom short or shared)
    std::uint64_t rx_runts = 0;      // received frames shorter than an Ethernet header
    std::uint64_t tx_untagged = 0;   // frames whose tags were popped
    std::uint64_t tx_copied = 0;     // ... by copying (shared or tags not in the first buffer)
    std::uint64_t tag_mismatch = 0;  // transmitted frames without the expected tags
    std::uint64_t no_buffer = 0;     // a copy was needed and the pool was empty
};

class VlanTagger : public Device {
public:
    using Tag = std::pair<std::uint16_t /*tpid*/, std::uint16_t /*tci*/>;

    VlanTagger(std::unique_ptr<Device> inner, std::vector<Tag> tags_outermost_first);
    ~VlanTagger() override;

    const std::string& name() const override { return inner_->name(); }
    DeviceCaps caps() const override { return inner_->caps(); }
    std::size_t receive(Instant now, std::span<Packet> out) override;
    std::size_t transmit(Instant now, std::span<Packet> pkts) override;
    int poll_fd() const override { return inner_->poll_fd(); }
    Instant next_deadline() const override { return inner_->next_deadline(); }
    const DeviceStats& stats() const override { return stats_; }

    Device& inner() { return *inner_; }
    const std::vector<Tag>& tags() const { return tags_; }
    const VlanStats& vlan_stats() const { return vlan_stats_; }

private:
    Packet tag(Packet&& p);
    Packet untag(Packet&& p);

    std::unique_ptr<Device> inner_;
    std::vector<Tag> tags_;
    std::vector<std::uint8_t> wire_;     // the tag stack as bytes (4 * n)
    std::vector<std::uint8_t> scratch_;  // received tags of a scattered frame
    DeviceStats stats_{};
    VlanStats vlan_stats_{};
};

}  // namespace uinet
