// VlanIds: exact interning of tag stacks, references, reuse of ids.
#include <gtest/gtest.h>

#include <set>

#include "tcp/vlan_ids.hpp"

using namespace uinet;
using namespace uinet::tcp;

namespace {
wire::VlanStack stack_of(std::initializer_list<std::pair<std::uint16_t, std::uint16_t>> tags) {
    wire::VlanStack v;
    for (auto [tpid, tci] : tags) v.push_back(wire::VlanTag{tpid, tci});
    return v;
}
}  // namespace

TEST(VlanIds, UntaggedIsZeroAndNeverStored) {
    VlanIds ids(SipKey{1, 2});
    EXPECT_EQ(ids.find({}), 0u);
    EXPECT_EQ(ids.acquire({}), 0u);
    EXPECT_EQ(ids.size(), 0u);
    ids.release(0);  // harmless
    EXPECT_TRUE(ids.stack(0).empty());
}

TEST(VlanIds, StacksAreExactTagForTag) {
    VlanIds ids(SipKey{1, 2});
    const auto a = stack_of({{0x88a8, 100}, {0x8100, 200}});
    const auto b = stack_of({{0x8100, 100}, {0x8100, 200}});  // other TPID
    const auto c = stack_of({{0x8100, 200}, {0x88a8, 100}});  // other order
    const auto d = stack_of({{0x88a8, 100}});                 // a prefix
    EXPECT_EQ(ids.find(a), VlanIds::kUnknown);
    const std::uint32_t ia = ids.acquire(a), ib = ids.acquire(b), ic = ids.acquire(c), id = ids.acquire(d);
    EXPECT_NE(ia, 0u);
    EXPECT_EQ(std::set<std::uint32_t>({ia, ib, ic, id}).size(), 4u);
    EXPECT_EQ(ids.find(a), ia);
    EXPECT_TRUE(ids.stack(ib) == b);
    EXPECT_EQ(ids.acquire(a), ia);  // a second reference, same id
    ids.release(ia);
    EXPECT_EQ(ids.find(a), ia);     // one reference left
    ids.release(ia);
    EXPECT_EQ(ids.find(a), VlanIds::kUnknown);
    EXPECT_EQ(ids.size(), 3u);
    // The freed id is reused for the next new stack, which then owns it.
    const auto e = stack_of({{0x9100, 7}});
    EXPECT_EQ(ids.acquire(e), ia);
    EXPECT_TRUE(ids.stack(ia) == e);
    ids.release(VlanIds::kUnknown);  // harmless
    ids.release(999);
    EXPECT_EQ(ids.size(), 4u);
}
