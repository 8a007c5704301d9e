// base/flat_map.hpp — an open-addressing hash map for hot lookup tables.
//
// Contract:
//  * Linear probing over a power-of-two array; deletion shifts later entries
//    of the probe run back (Knuth's Algorithm R), so there are no tombstones
//    and lookups never slow down after many erases.
//  * The table doubles when an insert would push the load above 7/8. Growth
//    is the only allocation: after reserve(n), up to n entries insert without
//    allocating. clear() keeps the capacity.
//  * Hash is a functor returning uint64_t. Its value is spread with a
//    multiplicative mix, so hashes that only vary in their high or low bits
//    (pointers, small integers) are fine; a hash that collides degrades to a
//    linear scan but stays correct. Keep the hash keyed (SipHash) where keys
//    come from the network.
//  * insert never overwrites: it returns the existing value and false.
//  * Pointers returned by find/insert are invalidated by any later insert or
//    erase. for_each must not insert or erase.
//  * The table holds at most 2^31 slots; an insert that would need more
//    returns {nullptr, false} rather than failing otherwise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <utility>

namespace uinet {

template <class K, class V, class Hash, class Eq = std::equal_to<K>>
class FlatMap {
public:
    FlatMap() = default;
    explicit FlatMap(Hash hash, Eq eq = Eq()) : hash_(std::move(hash)), eq_(std::move(eq)) {}
    ~FlatMap() { release_storage(); }

    FlatMap(const FlatMap&) = delete;
    FlatMap& operator=(const FlatMap&) = delete;
    FlatMap(FlatMap&& o) noexcept
        : hash_(std::move(o.hash_)), eq_(std::move(o.eq_)), tags_(o.tags_), slots_(o.slots_), cap_(o.cap_),
          bits_(o.bits_), size_(o.size_) {
        o.forget_storage();
    }
    FlatMap& operator=(FlatMap&& o) noexcept {
        if (this != &o) {
            release_storage();
            hash_ = std::move(o.hash_);
            eq_ = std::move(o.eq_);
            tags_ = o.tags_;
            slots_ = o.slots_;
            cap_ = o.cap_;
            bits_ = o.bits_;
            size_ = o.size_;
            o.forget_storage();
        }
        return *this;
    }

    V* find(const K& key) {
        const std::size_t i = locate(key, tag_of(key));
        return i == kNotFound ? nullptr : &slots_[i].value;
    }
    const V* find(const K& key) const { return const_cast<FlatMap*>(this)->find(key); }
    bool contains(const K& key) const { return find(key) != nullptr; }

    // Inserts key -> value unless key is present. Returns the value in the
    // table and whether it was inserted.
    std::pair<V*, bool> insert(const K& key, V value) {
        const std::uint32_t tag = tag_of(key);
        if (const std::size_t i = locate(key, tag); i != kNotFound) return {&slots_[i].value, false};
        if ((size_ + 1) * 8 > cap_ * 7) {
            if (cap_ >= kMaxCapacity) return {nullptr, false};
            rehash(cap_ == 0 ? kMinCapacity : cap_ * 2);
        }
        std::size_t i = home(tag);
        while (tags_[i] != 0) i = (i + 1) & (cap_ - 1);
        std::construct_at(&slots_[i], key, std::move(value));
        tags_[i] = tag;
        ++size_;
        return {&slots_[i].value, true};
    }

    bool erase(const K& key) {
        std::size_t hole = locate(key, tag_of(key));
        if (hole == kNotFound) return false;
        std::destroy_at(&slots_[hole]);
        tags_[hole] = 0;
        --size_;
        // Algorithm R: walk the rest of the run; an entry may move back into
        // the hole unless its home lies cyclically in (hole, k].
        const std::size_t mask = cap_ - 1;
        for (std::size_t k = (hole + 1) & mask; tags_[k] != 0; k = (k + 1) & mask) {
            const std::size_t h = home(tags_[k]);
            if (((k - h) & mask) >= ((k - hole) & mask)) {
                std::construct_at(&slots_[hole], std::move(slots_[k]));
                std::destroy_at(&slots_[k]);
                tags_[hole] = tags_[k];
                tags_[k] = 0;
                hole = k;
            }
        }
        return true;
    }

    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    std::size_t capacity() const { return cap_; }

    void clear() {
        for (std::size_t i = 0; i < cap_; ++i) {
            if (tags_[i] != 0) {
                std::destroy_at(&slots_[i]);
                tags_[i] = 0;
            }
        }
        size_ = 0;
    }

    // Makes room for n entries without further growth.
    void reserve(std::size_t n) {
        std::size_t want = kMinCapacity;
        while (want < kMaxCapacity && n * 8 > want * 7) want *= 2;
        if (want > cap_) rehash(want);
    }

    // f(const K&, V&) for every entry, in table order.
    template <class F>
    void for_each(F&& f) {
        for (std::size_t i = 0; i < cap_; ++i)
            if (tags_[i] != 0) f(static_cast<const K&>(slots_[i].key), slots_[i].value);
    }
    template <class F>
    void for_each(F&& f) const {
        for (std::size_t i = 0; i < cap_; ++i)
            if (tags_[i] != 0) f(static_cast<const K&>(slots_[i].key), static_cast<const V&>(slots_[i].value));
    }

private:
    struct Slot {
        Slot(const K& k, V v) : key(k), value(std::move(v)) {}
        K key;
        V value;
    };
    static constexpr std::size_t kMinCapacity = 16;
    static constexpr std::size_t kMaxCapacity = std::size_t{1} << 31;
    static constexpr std::size_t kNotFound = ~std::size_t{0};

    // A non-zero 32-bit tag: the top half of the mixed hash with bit 0 set.
    // The home slot is the tag's top bits_ bits (bits_ <= 31 never reaches
    // bit 0), so growth rehashes from tags alone.
    std::uint32_t tag_of(const K& key) const {
        const std::uint64_t mixed = static_cast<std::uint64_t>(hash_(key)) * 0x9e3779b97f4a7c15ull;
        return static_cast<std::uint32_t>(mixed >> 32) | 1u;
    }
    std::size_t home(std::uint32_t tag) const { return static_cast<std::size_t>(tag >> (32 - bits_)); }

    std::size_t locate(const K& key, std::uint32_t tag) const {
        if (size_ == 0) return kNotFound;
        const std::size_t mask = cap_ - 1;
        for (std::size_t i = home(tag);; i = (i + 1) & mask) {
            if (tags_[i] == 0) return kNotFound;
            if (tags_[i] == tag && eq_(slots_[i].key, key)) return i;
        }
    }

    void rehash(std::size_t new_cap) {
        std::uint32_t* old_tags = tags_;
        Slot* old_slots = slots_;
        const std::size_t old_cap = cap_;
        tags_ = new std::uint32_t[new_cap]();
        slots_ = std::allocator<Slot>().allocate(new_cap);
        cap_ = new_cap;
        bits_ = 0;
        while ((std::size_t{1} << bits_) < new_cap) ++bits_;
        const std::size_t mask = cap_ - 1;
        for (std::size_t j = 0; j < old_cap; ++j) {
            if (old_tags[j] == 0) continue;
            std::size_t i = home(old_tags[j]);
            while (tags_[i] != 0) i = (i + 1) & mask;
            std::construct_at(&slots_[i], std::move(old_slots[j]));
            std::destroy_at(&old_slots[j]);
            tags_[i] = old_tags[j];
        }
        delete[] old_tags;
        if (old_slots != nullptr) std::allocator<Slot>().deallocate(old_slots, old_cap);
    }

    void release_storage() {
        clear();
        delete[] tags_;
        if (slots_ != nullptr) std::allocator<Slot>().deallocate(slots_, cap_);
        forget_storage();
    }
    void forget_storage() {
        tags_ = nullptr;
        slots_ = nullptr;
        cap_ = 0;
        bits_ = 0;
        size_ = 0;
    }

    [[no_unique_address]] Hash hash_{};
    [[no_unique_address]] Eq eq_{};
    std::uint32_t* tags_ = nullptr;  // 0 = empty slot
    Slot* slots_ = nullptr;          // constructed where tags_[i] != 0
    std::size_t cap_ = 0;
    unsigned bits_ = 0;
    std::size_t size_ = 0;
};

}  // namespace uinet
