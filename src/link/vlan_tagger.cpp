// link/vlan_tagger.cpp — pushes a fixed 802.1Q/802.1ad tag stack on frames
// going up and pops it from frames going down. See vlan_tagger.hpp.
#include "link/vlan_tagger.hpp"

#include <cstring>

namespace uinet {

namespace {
constexpr std::size_t kMacBytes = 12;  // destination + source MAC
constexpr std::size_t kEthHeader = 14;

// A unique copy of p built from `head` followed by p's bytes from `skip` on.
Packet rebuild(const Packet& p, Bytes head1, Bytes head2, std::size_t skip) {
    Packet c = p.pool().alloc();
    if (!c) return c;
    bool ok = c.append(head1) && c.append(head2);
    p.for_each_segment([&](Bytes seg) {
        if (!ok) return;
        if (skip >= seg.size()) {
            skip -= seg.size();
            return;
        }
        ok = c.append(seg.subspan(skip));
        skip = 0;
    });
    if (!ok) return Packet();
    c.meta() = p.meta();
    return c;
}
}  // namespace

VlanTagger::VlanTagger(std::unique_ptr<Device> inner, std::vector<Tag> tags_outermost_first)
    : inner_(std::move(inner)), tags_(std::move(tags_outermost_first)) {
    wire_.resize(tags_.size() * 4);
    for (std::size_t i = 0; i < tags_.size(); ++i) {
        store_be16(&wire_[4 * i], tags_[i].first);
        store_be16(&wire_[4 * i + 2], tags_[i].second);
    }
    scratch_.resize(wire_.size());
}

VlanTagger::~VlanTagger() = default;

Packet VlanTagger::tag(Packet&& in) {
    Packet p = std::move(in);
    const std::size_t n = wire_.size();
    if (p.size() < kEthHeader) {
        ++vlan_stats_.rx_runts;
        ++stats_.rx_errors;
        return Packet();
    }
    if (n == 0) return p;
    PacketBuf& f = p.front();
    if (p.unique() && f.size() >= kMacBytes && f.headroom() >= n) {
        std::uint8_t* d = f.push(n);
        std::memmove(d, d + n, kMacBytes);
        std::memcpy(d + kMacBytes, wire_.data(), n);
    } else {
        std::uint8_t mac[kMacBytes];
        p.copy_out(0, mac);
        Packet c = rebuild(p, Bytes(mac, kMacBytes), wire_, kMacBytes);
        if (!c) {
            ++vlan_stats_.no_buffer;
            ++stats_.rx_dropped;
            return Packet();
        }
        p = std::move(c);
        ++vlan_stats_.rx_copied;
    }
    ++vlan_stats_.rx_tagged;
    return p;
}

Packet VlanTagger::untag(Packet&& in) {
    Packet p = std::move(in);
    const std::size_t n = wire_.size();
    if (n == 0) return p;
    bool match = p.size() >= kEthHeader + n;
    const bool in_front = match && p.front().size() >= kMacBytes + n;
    if (match) {
        if (in_front) {
            match = std::memcmp(p.front().data() + kMacBytes, wire_.data(), n) == 0;
        } else {
            p.copy_out(kMacBytes, scratch_);
            match = scratch_ == wire_;
        }
    }
    if (!match) {
        ++vlan_stats_.tag_mismatch;
        ++stats_.tx_dropped;
        return Packet();
    }
    if (p.unique() && in_front) {
        PacketBuf& f = p.front();
        std::memmove(f.data() + n, f.data(), kMacBytes);
        f.pull(n);
    } else {
        std::uint8_t mac[kMacBytes];
        p.copy_out(0, mac);
        Packet c = rebuild(p, Bytes(mac, kMacBytes), Bytes(), kMacBytes + n);
        if (!c) {
            ++vlan_stats_.no_buffer;
            ++stats_.tx_dropped;
            return Packet();
        }
        p = std::move(c);
        ++vlan_stats_.tx_copied;
    }
    OffloadMeta& m = p.meta();
    if (m.tx_csum_partial && m.csum_start >= kMacBytes + n) m.csum_start = static_cast<std::uint16_t>(m.csum_start - n);
    ++vlan_stats_.tx_untagged;
    return p;
}

std::size_t VlanTagger::receive(Instant now, std::span<Packet> out) {
    const std::size_t got = inner_->receive(now, out);
    std::size_t k = 0;
    for (std::size_t i = 0; i < got; ++i) {
        if (!out[i]) continue;
        Packet t = tag(std::move(out[i]));
        if (!t) continue;
        ++stats_.rx_packets;
        stats_.rx_bytes += t.size();
        out[k++] = std::move(t);
    }
    return k;
}

std::size_t VlanTagger::transmit(Instant now, std::span<Packet> pkts) {
    std::size_t k = 0;
    std::uint64_t bytes = 0;
    for (Packet& slot : pkts) {
        if (!slot) continue;
        Packet t = untag(std::move(slot));
        if (!t) continue;
        bytes += t.size();
        pkts[k++] = std::move(t);
    }
    const std::size_t taken = inner_->transmit(now, pkts.first(k));
    for (std::size_t i = taken; i < k; ++i) {
        if (!pkts[i]) continue;
        bytes -= pkts[i].size();
        ++stats_.tx_dropped;  // refused by the inner device
        pkts[i].reset();
    }
    stats_.tx_packets += taken;
    stats_.tx_bytes += bytes;
    return pkts.size();
}

}  // namespace uinet
