// base/timer_wheel.hpp — a hierarchical timing wheel (Varghese & Lauck, 1987).
//
// Contract:
//  * Time is cut into ticks of `tick` (positive; a non-positive tick is
//    taken as 1 ns) starting at `start`. A deadline is
//    rounded UP to a tick boundary; a timer fires during the first advance(now)
//    whose `now` has reached that boundary, so it never fires early and never
//    later than one tick after `now` passes its deadline (given advance() is
//    called). A deadline at or before the last advanced tick (a deadline "in
//    the past") fires at the very next advance(), whatever its `now`.
//  * Within one advance(), timers fire in order of rounded deadline; timers
//    with the same rounded deadline fire in the order they were scheduled
//    (past-deadline timers first, in scheduling order).
//  * schedule/cancel/reschedule are O(1); advance() costs O(timers fired +
//    timers cascaded + occupied slots visited), independent of the length of
//    the jump in `now` (empty slots are skipped with occupancy bitmaps).
//    Each timer is cascaded at most once per level (11 levels of 64 slots
//    cover the whole 64-bit tick range, so deadlines days or years away are
//    exact too).
//  * A callback may schedule, cancel or reschedule any timer, including ones
//    due in the same advance. A timer the callback schedules with a deadline
//    at or before the tick being fired waits for the next advance() (so a
//    callback re-arming itself "now" cannot loop forever). The fired timer's
//    id is already stale when its callback runs. advance() called from inside
//    a callback does nothing and returns 0.
//  * TimerId 0 is never a valid id. Ids carry a slot index and a generation,
//    so cancelling a timer that already fired or was cancelled is a harmless
//    no-op returning false (until the 32-bit generation wraps).
//  * Timer nodes live in a slab (vector + free list): once warmed up (or after
//    reserve()), schedule never allocates.
//  * next_deadline() is the earliest pending rounded deadline, exact; a
//    timer scheduled with Instant::never() is pending but reports never().
//    It is O(levels) except after the earliest timer was cancelled while all
//    timers are more than 64 ticks away, when one slot's timers are scanned.
//  * Single-threaded, like everything below stack/.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/time.hpp"

namespace uinet {

using TimerId = std::uint64_t;
inline constexpr TimerId kNoTimer = 0;

class TimerWheel {
public:
    explicit TimerWheel(Instant start, Duration tick = Duration::millis(1));

    // Arms a timer; on_expire(cookie) is called when it fires. Returns 0 only
    // if the slab is full (2^32 - 1 timers).
    TimerId schedule(Instant deadline, std::uint64_t cookie);
    // Disarms a pending timer. False if `id` is 0, stale, fired or cancelled.
    bool cancel(TimerId id);
    // Moves a pending timer to a new deadline, keeping its id and cookie (it
    // then orders as if scheduled now). If `id` is not pending, sets it to 0
    // and returns false: the caller schedules a new timer.
    bool reschedule(TimerId& id, Instant deadline);
    // True if `id` names a timer that has neither fired nor been cancelled.
    bool pending(TimerId id) const;

    // Fires every timer whose rounded deadline is <= now (plus past-deadline
    // timers); returns how many fired. `now` earlier than a previous advance
    // is treated as that previous time.
    template <class F>
    std::size_t advance(Instant now, F&& on_expire);

    // Earliest pending deadline rounded up to the tick (<= the last advanced
    // time if a past-deadline timer is pending), or Instant::never().
    Instant next_deadline() const;

    std::size_t size() const { return live_; }
    bool empty() const { return live_ == 0; }
    void reserve(std::size_t timers) { nodes_.reserve(timers); }
    Duration tick() const { return Duration::nanos(tick_ns_); }
    // The boundary of the last tick reached by advance() (start initially).
    Instant current_tick_time() const { return instant_of(cur_); }

private:
    static constexpr unsigned kSlotBits = 6;
    static constexpr unsigned kSlots = 1u << kSlotBits;
    static constexpr unsigned kLevels = 11;  // 11 * 6 = 66 bits >= 64-bit ticks
    static constexpr std::uint16_t kDueList = kLevels * kSlots;
    static constexpr std::uint16_t kFiringList = kDueList + 1;
    static constexpr unsigned kNumLists = kFiringList + 1;
    static constexpr std::uint16_t kNoList = 0xffff;  // node is free
    static constexpr std::uint32_t kNil = 0xffffffffu;
    static constexpr std::uint64_t kNeverTick = ~std::uint64_t{0};

    struct Node {
        std::uint64_t tick = 0;    // rounded deadline, in ticks since start
        std::uint64_t cookie = 0;
        std::uint32_t prev = kNil;
        std::uint32_t next = kNil;
        std::uint32_t gen = 1;
        std::uint16_t list = kNoList;
    };
    struct List {
        std::uint32_t head = kNil;
        std::uint32_t tail = kNil;
    };

    std::uint64_t ceil_tick(Instant t) const;
    std::uint64_t floor_tick(Instant t) const;
    Instant instant_of(std::uint64_t tick) const;
    Node* live_node(TimerId id);
    std::uint32_t alloc_node();
    void release(std::uint32_t idx);
    void push_back(std::uint16_t list, std::uint32_t idx);
    void unlink(std::uint32_t idx);
    // Files node idx by its tick relative to cur_: into a wheel slot, or into
    // `past_list` if its tick is <= cur_.
    void place(std::uint32_t idx, std::uint16_t past_list);
    // Earliest occupied slot after cur_ and the tick at which it starts.
    bool next_slot(std::uint16_t& slot, std::uint64_t& start) const;
    // Empties a slot, re-filing its timers relative to cur_ (due ones go to
    // the firing list).
    void cascade(std::uint16_t slot);
    void splice_due_into_firing();

    template <class F>
    std::size_t drain_firing(F& on_expire);

    std::int64_t start_ns_;
    std::int64_t tick_ns_;
    std::uint64_t cur_ = 0;  // last tick processed
    std::size_t live_ = 0;
    std::uint32_t free_head_ = kNil;
    bool in_advance_ = false;
    mutable bool min_valid_ = true;
    mutable std::uint64_t min_tick_ = kNeverTick;  // cache for next_deadline()
    std::array<std::uint64_t, kLevels> occupied_{};  // bit s: slot s non-empty
    std::array<List, kNumLists> lists_{};
    std::vector<Node> nodes_;
};

template <class F>
std::size_t TimerWheel::drain_firing(F& on_expire) {
    std::size_t fired = 0;
    while (lists_[kFiringList].head != kNil) {
        const std::uint32_t idx = lists_[kFiringList].head;
        const std::uint64_t cookie = nodes_[idx].cookie;
        unlink(idx);
        release(idx);  // the id is stale before the callback runs
        ++fired;
        on_expire(cookie);
    }
    return fired;
}

template <class F>
std::size_t TimerWheel::advance(Instant now, F&& on_expire) {
    if (in_advance_) return 0;
    struct Guard {
        bool& flag;
        explicit Guard(bool& f) : flag(f) { flag = true; }
        ~Guard() { flag = false; }
        Guard(const Guard&) = delete;
        Guard& operator=(const Guard&) = delete;
    } guard(in_advance_);
    std::uint64_t target = floor_tick(now);
    if (target < cur_) target = cur_;
    std::size_t fired = 0;
    // Past-deadline timers first (and leftovers if a callback ever threw).
    splice_due_into_firing();
    fired += drain_firing(on_expire);
    std::uint16_t slot = 0;
    std::uint64_t start = 0;
    while (next_slot(slot, start) && start <= target) {
        cur_ = start;
        min_valid_ = false;
        cascade(slot);
        fired += drain_firing(on_expire);
    }
    cur_ = target;
    min_valid_ = false;
    return fired;
}

}  // namespace uinet
