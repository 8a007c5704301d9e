// tcp/vlan_ids.hpp — interned VLAN tag stacks, so that a connection key can
// name its tag stack with 4 bytes.
//
// Contract:
//  * Every distinct non-empty tag stack in use gets a small id (>= 1); the
//    empty stack (untagged) is always id 0 and is never stored. Ids are
//    exact: two stacks share an id only if they are equal, tag for tag
//    (TPID and TCI).
//  * acquire() returns the stack's id and takes a reference; release()
//    drops one; an id whose last reference goes is forgotten and may be
//    reused. find() looks an id up without a reference (kUnknown: no one
//    uses that stack, so no connection or listener can be keyed on it).
//  * Lookups hash the stack with keyed SipHash (the tags come from the
//    network) in an open-addressing table: O(1). The table grows only
//    when a new distinct stack appears, which happens when a connection is
//    created, never per segment.
#pragma once

#include <cstdint>
#include <vector>

#include "base/flat_map.hpp"
#include "base/siphash.hpp"
#include "wire/vlan.hpp"

namespace uinet::tcp {

class VlanIds {
public:
    static constexpr std::uint32_t kUnknown = 0xffffffffu;

    explicit VlanIds(SipKey key) : ids_(Hash{key}) {}

    std::uint32_t find(const wire::VlanStack& s) const {
        if (s.empty()) return 0;
        const std::uint32_t* id = ids_.find(s);
        return id ? *id : kUnknown;
    }
    std::uint32_t acquire(const wire::VlanStack& s);
    void release(std::uint32_t id);
    // The stack of a live id (the empty stack for 0).
    const wire::VlanStack& stack(std::uint32_t id) const;
    std::size_t size() const { return ids_.size(); }

private:
    struct Hash {
        SipKey key;
        std::uint64_t operator()(const wire::VlanStack& s) const;
    };
    struct Entry {
        wire::VlanStack stack;
        std::uint32_t refs = 0;
    };
    FlatMap<wire::VlanStack, std::uint32_t, Hash> ids_;
    std::vector<Entry> entries_;  // index = id - 1
    std::vector<std::uint32_t> free_;
    wire::VlanStack empty_;
};

}  // namespace uinet::tcp
