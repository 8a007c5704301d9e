// FlatMap tests: random operations checked against std::unordered_map (with a
// good hash, with a hash where every key collides, and with one that only
// varies in high bits), object lifetimes of non-trivial keys and values,
// growth, reserve() without allocation, and moves.
#include "base/flat_map.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>

#include "base/siphash.hpp"
#include "unit/base/alloc_count.hpp"

using namespace uinet;

namespace {

struct SipU64 {
    SipKey key{0x1234, 0x5678};
    std::uint64_t operator()(std::uint64_t k) const { return siphash13_u64(key, k); }
};
struct Identity {
    std::uint64_t operator()(std::uint64_t k) const { return k; }
};
struct AllCollide {
    std::uint64_t operator()(std::uint64_t) const { return 42; }
};
struct HighBitsOnly {
    std::uint64_t operator()(std::uint64_t k) const { return k << 40; }
};
struct StrHash {
    std::uint64_t operator()(const std::string& s) const {
        return siphash13(SipKey{1, 2}, Bytes(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
    }
};

template <class Map>
void check_same(Map& m, const std::unordered_map<std::uint64_t, std::uint64_t>& ref) {
    ASSERT_EQ(m.size(), ref.size());
    std::size_t visited = 0;
    m.for_each([&](const std::uint64_t& k, std::uint64_t& v) {
        ++visited;
        auto it = ref.find(k);
        ASSERT_NE(it, ref.end()) << "stray key " << k;
        ASSERT_EQ(v, it->second);
    });
    ASSERT_EQ(visited, ref.size());
    for (const auto& [k, v] : ref) {
        const std::uint64_t* p = m.find(k);
        ASSERT_NE(p, nullptr) << "lost key " << k;
        ASSERT_EQ(*p, v);
    }
}

template <class Hash>
void random_ops(std::uint64_t seed, int ops, std::uint64_t key_range, int check_every) {
    FlatMap<std::uint64_t, std::uint64_t, Hash> m;
    std::unordered_map<std::uint64_t, std::uint64_t> ref;
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<std::uint64_t> key(0, key_range - 1);
    for (int i = 0; i < ops; ++i) {
        const std::uint64_t k = key(rng);
        const auto op = rng() % 10;
        if (op < 5) {
            const std::uint64_t v = rng();
            auto [p, inserted] = m.insert(k, v);
            auto [it, ref_inserted] = ref.insert({k, v});
            ASSERT_EQ(inserted, ref_inserted);
            ASSERT_NE(p, nullptr);
            ASSERT_EQ(*p, it->second);
        } else if (op < 8) {
            ASSERT_EQ(m.erase(k), ref.erase(k) == 1);
        } else if (op < 9) {
            const std::uint64_t* p = m.find(k);
            auto it = ref.find(k);
            ASSERT_EQ(p != nullptr, it != ref.end());
            if (p != nullptr) ASSERT_EQ(*p, it->second);
        } else {
            // Mutate through the returned pointer.
            if (std::uint64_t* p = m.find(k)) {
                *p += 1;
                ref[k] += 1;
            }
        }
        ASSERT_LE(m.size() * 8, m.capacity() * 7);
        if (check_every > 0 && i % check_every == 0) check_same(m, ref);
    }
    check_same(m, ref);
    // Erase everything, in the reference's order.
    std::vector<std::uint64_t> keys;
    for (const auto& kv : ref) keys.push_back(kv.first);
    for (std::uint64_t k : keys) {
        ASSERT_TRUE(m.erase(k));
        ASSERT_FALSE(m.erase(k));
    }
    EXPECT_EQ(m.size(), 0u);
    EXPECT_TRUE(m.empty());
}

}  // namespace

TEST(FlatMap, RandomOpsAgainstUnorderedMap) {
    random_ops<SipU64>(1, 200000, 5000, 10000);
    random_ops<SipU64>(2, 200000, 200000, 50000);  // grows large
    random_ops<Identity>(3, 200000, 3000, 10000);  // sequential keys, weak hash
}

TEST(FlatMap, AllKeysCollide) {
    random_ops<AllCollide>(4, 20000, 1500, 1000);
}

TEST(FlatMap, HashVaryingOnlyInHighBits) {
    random_ops<HighBitsOnly>(5, 50000, 4000, 5000);
}

TEST(FlatMap, InsertDoesNotOverwrite) {
    FlatMap<std::uint64_t, std::uint64_t, SipU64> m;
    auto [p1, i1] = m.insert(7, 70);
    EXPECT_TRUE(i1);
    auto [p2, i2] = m.insert(7, 71);
    EXPECT_FALSE(i2);
    EXPECT_EQ(*p2, 70u);
    EXPECT_EQ(p1, p2);
    EXPECT_EQ(m.size(), 1u);
    EXPECT_EQ(m.find(8), nullptr);
    EXPECT_FALSE(m.erase(8));
    const auto& cm = m;
    ASSERT_NE(cm.find(7), nullptr);
    EXPECT_TRUE(cm.contains(7));
}

TEST(FlatMap, EmptyMapOperations) {
    FlatMap<std::uint64_t, std::uint64_t, SipU64> m;
    EXPECT_EQ(m.find(1), nullptr);
    EXPECT_FALSE(m.erase(1));
    m.clear();
    int visits = 0;
    m.for_each([&](const std::uint64_t&, std::uint64_t&) { ++visits; });
    EXPECT_EQ(visits, 0);
    EXPECT_EQ(m.capacity(), 0u);
}

TEST(FlatMap, GrowthDoublesAtSevenEighths) {
    FlatMap<std::uint64_t, std::uint64_t, SipU64> m;
    m.insert(0, 0);
    EXPECT_EQ(m.capacity(), 16u);
    for (std::uint64_t i = 1; i < 14; ++i) m.insert(i, i);
    EXPECT_EQ(m.size(), 14u);
    EXPECT_EQ(m.capacity(), 16u);  // 14/16 = 7/8
    m.insert(14, 14);
    EXPECT_EQ(m.capacity(), 32u);
}

TEST(FlatMap, ReserveThenInsertDoesNotAllocate) {
    FlatMap<std::uint64_t, std::uint64_t, SipU64> m;
    m.reserve(10000);
    const std::size_t cap = m.capacity();
    EXPECT_GE(cap * 7, 10000u * 8);
    const std::size_t before = uinet_test::allocation_count();
    for (std::uint64_t i = 0; i < 10000; ++i) m.insert(i * 7919, i);
    for (std::uint64_t i = 0; i < 10000; i += 2) m.erase(i * 7919);
    m.clear();
    for (std::uint64_t i = 0; i < 10000; ++i) m.insert(i, i);
    EXPECT_EQ(uinet_test::allocation_count(), before);
    EXPECT_EQ(m.capacity(), cap);
}

namespace {
struct Tracked {
    static inline int live = 0;
    int v;
    explicit Tracked(int x) : v(x) { ++live; }
    Tracked(Tracked&& o) noexcept : v(o.v) { ++live; }
    Tracked(const Tracked& o) : v(o.v) { ++live; }
    Tracked& operator=(const Tracked&) = delete;
    ~Tracked() { --live; }
};
}  // namespace

TEST(FlatMap, NonTrivialTypesAreConstructedAndDestroyedExactly) {
    {
        FlatMap<std::string, Tracked, StrHash> m;
        for (int i = 0; i < 1000; ++i) m.insert("key-" + std::to_string(i), Tracked(i));
        EXPECT_EQ(Tracked::live, 1000);
        for (int i = 0; i < 1000; i += 3) EXPECT_TRUE(m.erase("key-" + std::to_string(i)));
        EXPECT_EQ(Tracked::live, static_cast<int>(m.size()));
        for (int i = 0; i < 1000; ++i) {
            const Tracked* t = m.find("key-" + std::to_string(i));
            if (i % 3 == 0) {
                EXPECT_EQ(t, nullptr);
            } else {
                ASSERT_NE(t, nullptr);
                EXPECT_EQ(t->v, i);
            }
        }
        FlatMap<std::string, Tracked, StrHash> moved(std::move(m));
        EXPECT_EQ(m.size(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
        EXPECT_EQ(moved.size(), 666u);
        FlatMap<std::string, Tracked, StrHash> assigned;
        assigned.insert("x", Tracked(-1));
        assigned = std::move(moved);
        EXPECT_EQ(assigned.size(), 666u);
        EXPECT_EQ(Tracked::live, 666);
        ASSERT_NE(assigned.find("key-1"), nullptr);
        assigned.clear();
        EXPECT_EQ(Tracked::live, 0);
        assigned.insert("again", Tracked(5));
    }
    EXPECT_EQ(Tracked::live, 0);
}

TEST(FlatMap, MoveOnlyValues) {
    FlatMap<std::uint64_t, std::unique_ptr<int>, SipU64> m;
    for (int i = 0; i < 100; ++i) m.insert(static_cast<std::uint64_t>(i), std::make_unique<int>(i));
    for (int i = 0; i < 100; i += 2) m.erase(static_cast<std::uint64_t>(i));
    int sum = 0;
    m.for_each([&](const std::uint64_t&, std::unique_ptr<int>& p) { sum += *p; });
    EXPECT_EQ(sum, 2500);  // 1 + 3 + ... + 99
}
