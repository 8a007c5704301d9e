// wire/vlan.cpp — walking and writing an Ethernet header with VLAN tags.
//
// IEEE 802.1Q-2018 section 9.6: a tag is TPID + TCI and sits where the
// ethertype would be. We accept the C-tag, S-tag and legacy 0x9100 TPIDs
// at every depth (real QinQ gear mixes them) and stop at kMaxVlanTags.
#include "wire/vlan.hpp"

#include "wire/ethernet.hpp"

namespace uinet::wire {

Result<L2Header, ParseError> parse_l2(Bytes frame) {
    if (frame.size() < kEthHeaderLen) return Err{ParseError::truncated};
    L2Header h;
    h.dst = MacAddr::from_bytes(frame.data());
    h.src = MacAddr::from_bytes(frame.data() + 6);
    std::size_t off = 12;  // position of the next TPID / ethertype
    std::uint16_t type = load_be16(frame.data() + off);
    while (is_vlan_tpid(type)) {
        if (h.vlans.full()) return Err{ParseError::too_many_tags};
        // The tag's TCI plus the following ethertype must be present.
        if (frame.size() < off + kVlanTagLen + 2) return Err{ParseError::truncated};
        h.vlans.push_back(VlanTag{type, load_be16(frame.data() + off + 2)});
        off += kVlanTagLen;
        type = load_be16(frame.data() + off);
    }
    h.ethertype = type;
    h.header_len = off + 2;
    return h;
}

std::size_t l2_header_len(const VlanStack& vlans) { return l2_header_len_for(vlans.size()); }

void emit_l2(MutBytes out, const MacAddr& dst, const MacAddr& src, const VlanStack& vlans,
             std::uint16_t ethertype) {
    std::uint8_t* p = out.data();
    dst.to_bytes(p);
    src.to_bytes(p + 6);
    p += 12;
    for (const VlanTag& t : vlans) {
        store_be16(p, t.tpid);
        store_be16(p + 2, t.tci);
        p += kVlanTagLen;
    }
    store_be16(p, ethertype);
}

}  // namespace uinet::wire
