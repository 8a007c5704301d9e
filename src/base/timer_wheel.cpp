// base/timer_wheel.cpp — hierarchical timing wheel internals.
//
// Contract: see timer_wheel.hpp. Layout: level L (0..10) has 64 slots; a
// timer with tick d > cur_ sits at the level of the highest 6-bit digit in
// which d and cur_ differ, in the slot named by d's digit at that level.
// Hence every occupied slot at level L lies after cur_ inside cur_'s
// level-(L+1) block, lower levels always expire before higher ones, and all
// timers with the same tick share one slot (FIFO order is kept). When cur_
// reaches the start of an occupied slot at level L > 0 its timers are
// re-filed one or more levels down ("cascaded"); at level 0 a slot holds a
// single tick, whose timers fire.
#include "base/timer_wheel.hpp"

#include <bit>
#include <limits>

namespace uinet {

TimerWheel::TimerWheel(Instant start, Duration tick)
    : start_ns_(start.ns()), tick_ns_(tick.ns() > 0 ? tick.ns() : 1) {}

std::uint64_t TimerWheel::ceil_tick(Instant t) const {
    if (t.ns() <= start_ns_) return 0;
    const std::uint64_t diff = static_cast<std::uint64_t>(t.ns()) - static_cast<std::uint64_t>(start_ns_);
    const auto tick = static_cast<std::uint64_t>(tick_ns_);
    return diff / tick + (diff % tick != 0 ? 1 : 0);
}

std::uint64_t TimerWheel::floor_tick(Instant t) const {
    if (t.ns() <= start_ns_) return 0;
    const std::uint64_t diff = static_cast<std::uint64_t>(t.ns()) - static_cast<std::uint64_t>(start_ns_);
    return diff / static_cast<std::uint64_t>(tick_ns_);
}

Instant TimerWheel::instant_of(std::uint64_t tick) const {
    const auto tick_ns = static_cast<std::uint64_t>(tick_ns_);
    constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    // Room between start and the largest Instant (exact in modular
    // arithmetic for any signed start).
    const std::uint64_t room = kMax - static_cast<std::uint64_t>(start_ns_);
    if (tick > room / tick_ns) return Instant::never();
    const std::uint64_t span = tick * tick_ns;
    if (span >= room) return Instant::never();
    return Instant::from_ns(static_cast<std::int64_t>(static_cast<std::uint64_t>(start_ns_) + span));
}

TimerWheel::Node* TimerWheel::live_node(TimerId id) {
    const auto idx = static_cast<std::uint32_t>(id);
    const auto gen = static_cast<std::uint32_t>(id >> 32);
    if (id == kNoTimer || idx >= nodes_.size()) return nullptr;
    Node& n = nodes_[idx];
    if (n.gen != gen || n.list == kNoList) return nullptr;
    return &n;
}

bool TimerWheel::pending(TimerId id) const { return const_cast<TimerWheel*>(this)->live_node(id) != nullptr; }

std::uint32_t TimerWheel::alloc_node() {
    if (free_head_ != kNil) {
        const std::uint32_t idx = free_head_;
        free_head_ = nodes_[idx].next;
        return idx;
    }
    if (nodes_.size() >= kNil) return kNil;
    nodes_.emplace_back();
    return static_cast<std::uint32_t>(nodes_.size() - 1);
}

void TimerWheel::release(std::uint32_t idx) {
    Node& n = nodes_[idx];
    n.list = kNoList;
    n.prev = kNil;
    n.next = free_head_;
    if (++n.gen == 0) n.gen = 1;  // ids never have generation 0 (id 0 is invalid)
    free_head_ = idx;
    --live_;
}

void TimerWheel::push_back(std::uint16_t list, std::uint32_t idx) {
    List& l = lists_[list];
    Node& n = nodes_[idx];
    n.list = list;
    n.next = kNil;
    n.prev = l.tail;
    if (l.tail == kNil) {
        l.head = idx;
    } else {
        nodes_[l.tail].next = idx;
    }
    l.tail = idx;
    if (list < kDueList) occupied_[list / kSlots] |= std::uint64_t{1} << (list % kSlots);
}

void TimerWheel::unlink(std::uint32_t idx) {
    Node& n = nodes_[idx];
    List& l = lists_[n.list];
    if (n.prev == kNil) {
        l.head = n.next;
    } else {
        nodes_[n.prev].next = n.next;
    }
    if (n.next == kNil) {
        l.tail = n.prev;
    } else {
        nodes_[n.next].prev = n.prev;
    }
    if (l.head == kNil && n.list < kDueList) occupied_[n.list / kSlots] &= ~(std::uint64_t{1} << (n.list % kSlots));
    n.prev = n.next = kNil;
}

void TimerWheel::place(std::uint32_t idx, std::uint16_t past_list) {
    const std::uint64_t d = nodes_[idx].tick;
    if (d <= cur_) {
        push_back(past_list, idx);
        return;
    }
    const unsigned level = static_cast<unsigned>(63 - std::countl_zero(d ^ cur_)) / kSlotBits;
    const auto digit = static_cast<unsigned>((d >> (level * kSlotBits)) & (kSlots - 1));
    push_back(static_cast<std::uint16_t>(level * kSlots + digit), idx);
    if (min_valid_ && d < min_tick_) min_tick_ = d;
}

bool TimerWheel::next_slot(std::uint16_t& slot, std::uint64_t& start) const {
    for (unsigned level = 0; level < kLevels; ++level) {
        const std::uint64_t occ = occupied_[level];
        if (occ == 0) continue;
        const auto digit = static_cast<unsigned>(std::countr_zero(occ));
        const unsigned shift = level * kSlotBits;
        const unsigned block_shift = shift + kSlotBits;
        const std::uint64_t base = block_shift >= 64 ? 0 : cur_ & ~((std::uint64_t{1} << block_shift) - 1);
        slot = static_cast<std::uint16_t>(level * kSlots + digit);
        start = base + (std::uint64_t{digit} << shift);
        return true;
    }
    return false;
}

void TimerWheel::cascade(std::uint16_t slot) {
    List taken = lists_[slot];
    lists_[slot] = List{};
    occupied_[slot / kSlots] &= ~(std::uint64_t{1} << (slot % kSlots));
    for (std::uint32_t idx = taken.head; idx != kNil;) {
        const std::uint32_t next = nodes_[idx].next;
        place(idx, kFiringList);
        idx = next;
    }
}

void TimerWheel::splice_due_into_firing() {
    List& due = lists_[kDueList];
    while (due.head != kNil) {
        const std::uint32_t idx = due.head;
        unlink(idx);
        push_back(kFiringList, idx);
    }
}

TimerId TimerWheel::schedule(Instant deadline, std::uint64_t cookie) {
    const std::uint32_t idx = alloc_node();
    if (idx == kNil) return kNoTimer;
    Node& n = nodes_[idx];
    n.tick = ceil_tick(deadline);
    n.cookie = cookie;
    ++live_;
    place(idx, kDueList);
    return (std::uint64_t{nodes_[idx].gen} << 32) | idx;
}

bool TimerWheel::cancel(TimerId id) {
    Node* n = live_node(id);
    if (n == nullptr) return false;
    if (n->list < kDueList && n->tick == min_tick_) min_valid_ = false;
    const auto idx = static_cast<std::uint32_t>(id);
    unlink(idx);
    release(idx);
    return true;
}

bool TimerWheel::reschedule(TimerId& id, Instant deadline) {
    Node* n = live_node(id);
    if (n == nullptr) {
        id = kNoTimer;
        return false;
    }
    if (n->list < kDueList && n->tick == min_tick_) min_valid_ = false;
    const auto idx = static_cast<std::uint32_t>(id);
    unlink(idx);
    nodes_[idx].tick = ceil_tick(deadline);
    place(idx, kDueList);
    return true;
}

Instant TimerWheel::next_deadline() const {
    if (lists_[kDueList].head != kNil || lists_[kFiringList].head != kNil) return instant_of(cur_);
    if (!min_valid_) {
        std::uint16_t slot = 0;
        std::uint64_t start = 0;
        if (!next_slot(slot, start)) {
            min_tick_ = kNeverTick;
        } else if (slot < kSlots) {
            min_tick_ = start;  // a level-0 slot holds exactly one tick
        } else {
            min_tick_ = kNeverTick;
            for (std::uint32_t idx = lists_[slot].head; idx != kNil; idx = nodes_[idx].next)
                if (nodes_[idx].tick < min_tick_) min_tick_ = nodes_[idx].tick;
        }
        min_valid_ = true;
    }
    return min_tick_ == kNeverTick ? Instant::never() : instant_of(min_tick_);
}

}  // namespace uinet
