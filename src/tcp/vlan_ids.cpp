// tcp/vlan_ids.cpp — the tag-stack intern table (see vlan_ids.hpp).
#include "tcp/vlan_ids.hpp"

#include <array>

namespace uinet::tcp {

std::uint64_t VlanIds::Hash::operator()(const wire::VlanStack& s) const {
    std::array<std::uint8_t, 1 + 4 * wire::kMaxVlanTags> b{};
    std::size_t n = 0;
    b[n++] = static_cast<std::uint8_t>(s.size());
    for (const wire::VlanTag& t : s) {
        store_be16(&b[n], t.tpid);
        store_be16(&b[n + 2], t.tci);
        n += 4;
    }
    return siphash13(key, Bytes{b.data(), n});
}

std::uint32_t VlanIds::acquire(const wire::VlanStack& s) {
    if (s.empty()) return 0;
    if (std::uint32_t* id = ids_.find(s)) {
        ++entries_[*id - 1].refs;
        return *id;
    }
    std::uint32_t id;
    if (!free_.empty()) {
        id = free_.back();
        free_.pop_back();
    } else {
        entries_.emplace_back();
        id = static_cast<std::uint32_t>(entries_.size());
    }
    entries_[id - 1] = Entry{s, 1};
    ids_.insert(s, id);
    return id;
}

void VlanIds::release(std::uint32_t id) {
    if (id == 0 || id == kUnknown || id > entries_.size()) return;
    Entry& e = entries_[id - 1];
    if (e.refs == 0) return;
    if (--e.refs == 0) {
        ids_.erase(e.stack);
        free_.push_back(id);
    }
}

const wire::VlanStack& VlanIds::stack(std::uint32_t id) const {
    if (id == 0 || id > entries_.size()) return empty_;
    return entries_[id - 1].stack;
}

}  // namespace uinet::tcp
