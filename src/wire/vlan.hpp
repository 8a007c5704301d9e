// wire/vlan.hpp — IEEE 802.1Q / 802.1ad VLAN tags and the whole L2 header.
//
// Contract:
//  * A tag is 4 bytes: TPID (0x8100, 0x88a8 or 0x9100) then TCI
//    (PCP:3 DEI:1 VID:12). Any of the three TPIDs counts as a tag at any
//    depth; stacks are kept outermost first.
//  * parse_l2() walks the destination, source, all tags and the inner
//    ethertype. More than kMaxVlanTags tags -> too_many_tags; a frame that
//    ends inside the header -> truncated. Never allocates.
//  * emit_l2() writes l2_header_len(vlans) bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "base/addr.hpp"
#include "base/bytes.hpp"
#include "base/result.hpp"
#include "wire/error.hpp"

namespace uinet::wire {

inline constexpr std::size_t kMaxVlanTags = 16;
inline constexpr std::size_t kVlanTagLen = 4;

struct VlanTag {
    std::uint16_t tpid = 0x8100;
    std::uint16_t tci = 0;

    std::uint16_t vid() const { return tci & 0x0fff; }
    std::uint8_t pcp() const { return static_cast<std::uint8_t>(tci >> 13); }
    bool dei() const { return (tci & 0x1000) != 0; }
    static constexpr VlanTag make(std::uint16_t tpid, std::uint16_t vid, std::uint8_t pcp = 0,
                                  bool dei = false) {
        return VlanTag{tpid, static_cast<std::uint16_t>(((pcp & 7u) << 13) | (dei ? 0x1000u : 0u) |
                                                        (vid & 0x0fffu))};
    }
    bool operator==(const VlanTag&) const = default;
};

// Up to kMaxVlanTags tags, outermost first. A fixed-capacity value type.
class VlanStack {
public:
    // False (and no change) when already full.
    bool push_back(VlanTag t) {
        if (n_ == kMaxVlanTags) return false;
        tags_[n_++] = t;
        return true;
    }
    void pop_back() {
        if (n_ > 0) --n_;
    }
    std::size_t size() const { return n_; }
    bool empty() const { return n_ == 0; }
    bool full() const { return n_ == kMaxVlanTags; }
    void clear() { n_ = 0; }
    const VlanTag& operator[](std::size_t i) const { return tags_[i]; }
    VlanTag& operator[](std::size_t i) { return tags_[i]; }
    const VlanTag* begin() const { return tags_.data(); }
    const VlanTag* end() const { return tags_.data() + n_; }
    VlanTag* begin() { return tags_.data(); }
    VlanTag* end() { return tags_.data() + n_; }

    bool operator==(const VlanStack& o) const {
        if (n_ != o.n_) return false;
        for (std::size_t i = 0; i < n_; ++i)
            if (!(tags_[i] == o.tags_[i])) return false;
        return true;
    }

private:
    std::array<VlanTag, kMaxVlanTags> tags_{};
    std::size_t n_ = 0;
};

struct L2Header {
    MacAddr dst;
    MacAddr src;
    VlanStack vlans;
    std::uint16_t ethertype = 0;  // the inner one, after all tags
    std::size_t header_len = 0;   // 14 + 4 * vlans.size()

    bool operator==(const L2Header&) const = default;
};

Result<L2Header, ParseError> parse_l2(Bytes frame);
constexpr std::size_t l2_header_len_for(std::size_t tags) { return 14 + kVlanTagLen * tags; }
std::size_t l2_header_len(const VlanStack& vlans);
// Writes l2_header_len(vlans) bytes; out must be at least that long.
void emit_l2(MutBytes out, const MacAddr& dst, const MacAddr& src, const VlanStack& vlans,
             std::uint16_t ethertype);

}  // namespace uinet::wire
