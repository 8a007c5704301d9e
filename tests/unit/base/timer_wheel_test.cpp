// TimerWheel tests: hand-written cases for rounding, staleness and callback
// re-entrancy, then long random runs checked step by step against a simple
// reference model (a std::multimap keyed by rounded deadline, FIFO among
// equal keys) for the exact order of firings, next_deadline() and size().
#include "base/timer_wheel.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <random>
#include <unordered_map>
#include <vector>

#include "unit/base/alloc_count.hpp"

using namespace uinet;

namespace {

Instant at_ms(std::int64_t ms) { return Instant::from_ns(0) + Duration::millis(ms); }

std::vector<std::uint64_t> advance_collect(TimerWheel& w, Instant now) {
    std::vector<std::uint64_t> fired;
    w.advance(now, [&](std::uint64_t c) { fired.push_back(c); });
    return fired;
}

}  // namespace

TEST(TimerWheel, FiresAtRoundedDeadlineNotBefore) {
    TimerWheel w(at_ms(0));
    w.schedule(Instant::from_ns(2'500'000), 7);  // 2.5 ms rounds up to 3 ms
    EXPECT_EQ(w.next_deadline(), at_ms(3));
    EXPECT_TRUE(advance_collect(w, Instant::from_ns(2'999'999)).empty());
    EXPECT_EQ(advance_collect(w, at_ms(3)), std::vector<std::uint64_t>{7});
    EXPECT_EQ(w.size(), 0u);
    EXPECT_EQ(w.next_deadline(), Instant::never());
}

TEST(TimerWheel, PastDeadlineFiresOnNextAdvanceEvenAtSameTime) {
    TimerWheel w(at_ms(100));
    EXPECT_TRUE(advance_collect(w, at_ms(150)).empty());
    w.schedule(at_ms(10), 1);   // before the wheel's start
    w.schedule(at_ms(150), 2);  // exactly the current tick
    w.schedule(Instant::from_ns(149'500'000), 3);
    EXPECT_EQ(w.next_deadline(), at_ms(150));
    EXPECT_EQ(advance_collect(w, at_ms(150)), (std::vector<std::uint64_t>{1, 2, 3}));
    EXPECT_EQ(advance_collect(w, at_ms(150)), std::vector<std::uint64_t>{});
}

TEST(TimerWheel, OrderByDeadlineThenSchedulingOrder) {
    TimerWheel w(at_ms(0));
    w.schedule(at_ms(5000), 1);
    w.schedule(at_ms(3), 2);
    w.schedule(at_ms(70), 3);
    w.schedule(at_ms(3), 4);
    w.schedule(at_ms(5000), 5);
    w.schedule(at_ms(4096 * 64), 6);
    EXPECT_EQ(advance_collect(w, at_ms(1'000'000)), (std::vector<std::uint64_t>{2, 4, 3, 1, 5, 6}));
}

TEST(TimerWheel, CancelAndStaleIds) {
    TimerWheel w(at_ms(0));
    EXPECT_FALSE(w.cancel(kNoTimer));
    EXPECT_FALSE(w.pending(kNoTimer));
    const TimerId a = w.schedule(at_ms(10), 1);
    const TimerId b = w.schedule(at_ms(20), 2);
    EXPECT_NE(a, kNoTimer);
    EXPECT_NE(a, b);
    EXPECT_TRUE(w.pending(a));
    EXPECT_TRUE(w.cancel(a));
    EXPECT_FALSE(w.pending(a));
    EXPECT_FALSE(w.cancel(a));
    // The freed node is reused; the old id stays stale.
    const TimerId c = w.schedule(at_ms(30), 3);
    EXPECT_EQ(static_cast<std::uint32_t>(c), static_cast<std::uint32_t>(a));
    EXPECT_NE(c, a);
    EXPECT_FALSE(w.cancel(a));
    EXPECT_TRUE(w.pending(c));
    EXPECT_EQ(advance_collect(w, at_ms(100)), (std::vector<std::uint64_t>{2, 3}));
    EXPECT_FALSE(w.cancel(b));
    EXPECT_FALSE(w.cancel(c));
    EXPECT_FALSE(w.cancel(0xffff'ffff'0000'1234ull));  // index out of range
}

TEST(TimerWheel, RescheduleKeepsIdAndCookie) {
    TimerWheel w(at_ms(0));
    TimerId a = w.schedule(at_ms(10), 1);
    const TimerId orig = a;
    w.schedule(at_ms(40), 2);
    EXPECT_TRUE(w.reschedule(a, at_ms(50)));
    EXPECT_EQ(a, orig);
    EXPECT_EQ(w.next_deadline(), at_ms(40));
    EXPECT_EQ(advance_collect(w, at_ms(45)), std::vector<std::uint64_t>{2});
    EXPECT_EQ(advance_collect(w, at_ms(50)), std::vector<std::uint64_t>{1});
    EXPECT_FALSE(w.reschedule(a, at_ms(60)));
    EXPECT_EQ(a, kNoTimer);
    EXPECT_EQ(w.size(), 0u);
}

TEST(TimerWheel, FarFutureAndHugeJump) {
    TimerWheel w(at_ms(0));
    const Instant days = at_ms(0) + Duration::seconds(86400) * 30;
    w.schedule(days + Duration::nanos(1), 1);
    w.schedule(at_ms(1), 2);
    EXPECT_EQ(advance_collect(w, at_ms(1)), std::vector<std::uint64_t>{2});
    EXPECT_EQ(w.next_deadline(), days + Duration::millis(1));
    EXPECT_TRUE(advance_collect(w, days).empty());
    EXPECT_EQ(advance_collect(w, days + Duration::millis(1)), std::vector<std::uint64_t>{1});
}

TEST(TimerWheel, NeverDeadlineIsPendingButReportsNever) {
    TimerWheel w(at_ms(0));
    const TimerId t = w.schedule(Instant::never(), 1);
    EXPECT_TRUE(w.pending(t));
    EXPECT_EQ(w.next_deadline(), Instant::never());
    EXPECT_TRUE(advance_collect(w, at_ms(0) + Duration::seconds(86400) * 365 * 100).empty());
    EXPECT_TRUE(w.cancel(t));
}

TEST(TimerWheel, CallbackMayCancelTimersDueInSameAdvance) {
    TimerWheel w(at_ms(0));
    TimerId b = kNoTimer;
    TimerId c = kNoTimer;
    std::vector<std::uint64_t> fired;
    w.schedule(at_ms(5), 1);
    b = w.schedule(at_ms(5), 2);   // same tick as 1: in the firing list
    c = w.schedule(at_ms(9), 3);   // later tick of the same advance
    w.schedule(at_ms(9), 4);
    w.advance(at_ms(20), [&](std::uint64_t cookie) {
        fired.push_back(cookie);
        if (cookie == 1) {
            EXPECT_TRUE(w.cancel(b));
            EXPECT_TRUE(w.cancel(c));
        }
    });
    EXPECT_EQ(fired, (std::vector<std::uint64_t>{1, 4}));
    EXPECT_EQ(w.size(), 0u);
}

TEST(TimerWheel, CallbackSchedulingNowWaitsForNextAdvance) {
    TimerWheel w(at_ms(0));
    int fires = 0;
    TimerId self = w.schedule(at_ms(1), 1);
    auto rearm = [&](std::uint64_t) {
        ++fires;
        EXPECT_FALSE(w.pending(self));  // already stale in its own callback
        self = w.schedule(at_ms(0), 1);  // in the past: must not loop
    };
    EXPECT_EQ(w.advance(at_ms(5), rearm), 1u);
    EXPECT_EQ(fires, 1);
    EXPECT_EQ(w.next_deadline(), at_ms(5));
    EXPECT_EQ(w.advance(at_ms(5), rearm), 1u);
    EXPECT_EQ(fires, 2);
}

TEST(TimerWheel, CallbackSchedulesIntoSameAdvanceAndNestedAdvanceIsIgnored) {
    TimerWheel w(at_ms(0));
    std::vector<std::uint64_t> fired;
    w.schedule(at_ms(2), 1);
    w.advance(at_ms(100), [&](std::uint64_t c) {
        fired.push_back(c);
        if (c == 1) {
            w.schedule(at_ms(50), 2);  // due within this advance
            w.schedule(at_ms(150), 3);
            EXPECT_EQ(w.advance(at_ms(1000), [](std::uint64_t) {}), 0u);
        }
    });
    EXPECT_EQ(fired, (std::vector<std::uint64_t>{1, 2}));
    EXPECT_EQ(w.next_deadline(), at_ms(150));
}

TEST(TimerWheel, NoAllocationOnceWarm) {
    TimerWheel w(at_ms(0));
    w.reserve(1000);
    std::vector<TimerId> ids(1000);
    const std::size_t before = uinet_test::allocation_count();
    for (int round = 0; round < 3; ++round) {
        for (std::size_t i = 0; i < ids.size(); ++i)
            ids[i] = w.schedule(at_ms(static_cast<std::int64_t>(round * 1000000 + i * 997)), i);
        for (std::size_t i = 0; i < ids.size(); i += 2) w.cancel(ids[i]);
        w.advance(at_ms(round * 1000000 + 2000000), [](std::uint64_t) {});
    }
    EXPECT_EQ(uinet_test::allocation_count(), before);
    EXPECT_EQ(w.size(), 0u);
}

namespace {

// The reference model: what the wheel must do, written the obvious way.
class Model {
public:
    Model(Instant start, Duration tick) : start_(start.ns()), tick_(tick.ns()) {}

    std::uint64_t ceil_tick(Instant t) const {
        if (t.ns() <= start_) return 0;
        const auto d = static_cast<std::uint64_t>(t.ns() - start_);
        return (d + static_cast<std::uint64_t>(tick_) - 1) / static_cast<std::uint64_t>(tick_);
    }
    std::uint64_t floor_tick(Instant t) const {
        return t.ns() <= start_ ? 0 : static_cast<std::uint64_t>(t.ns() - start_) / static_cast<std::uint64_t>(tick_);
    }
    Instant instant_of(std::uint64_t tick) const {
        return Instant::from_ns(start_ + static_cast<std::int64_t>(tick) * tick_);
    }

    void schedule(Instant deadline, std::uint64_t cookie) {
        const std::uint64_t t = ceil_tick(deadline);
        Where w;
        if (t <= cur_) {
            w.kind = Where::due;
            w.it = due_.insert(due_.end(), cookie);
        } else {
            w.kind = Where::wheel;
            w.mit = wheel_.insert({t, cookie});  // after equal keys: FIFO
        }
        where_[cookie] = w;
    }
    bool cancel(std::uint64_t cookie) {
        auto f = where_.find(cookie);
        if (f == where_.end()) return false;
        if (f->second.kind == Where::due) due_.erase(f->second.it);
        if (f->second.kind == Where::firing) firing_.erase(f->second.it);
        if (f->second.kind == Where::wheel) wheel_.erase(f->second.mit);
        where_.erase(f);
        return true;
    }

    void begin_advance(Instant now) {
        target_ = std::max(floor_tick(now), cur_);
        for (std::uint64_t c : due_) {
            where_[c].kind = Where::firing;
            where_[c].it = firing_.insert(firing_.end(), c);
        }
        due_.clear();
    }
    std::optional<std::uint64_t> pop() {
        for (;;) {
            if (!firing_.empty()) {
                const std::uint64_t c = firing_.front();
                firing_.pop_front();
                where_.erase(c);
                return c;
            }
            if (wheel_.empty() || wheel_.begin()->first > target_) return std::nullopt;
            cur_ = wheel_.begin()->first;
            while (!wheel_.empty() && wheel_.begin()->first == cur_) {
                const std::uint64_t c = wheel_.begin()->second;
                wheel_.erase(wheel_.begin());
                where_[c].kind = Where::firing;
                where_[c].it = firing_.insert(firing_.end(), c);
            }
        }
    }
    void end_advance() { cur_ = target_; }

    Instant next_deadline() const {
        if (!due_.empty() || !firing_.empty()) return instant_of(cur_);
        return wheel_.empty() ? Instant::never() : instant_of(wheel_.begin()->first);
    }
    std::size_t size() const { return where_.size(); }

private:
    struct Where {
        enum Kind { due, firing, wheel } kind = due;
        std::list<std::uint64_t>::iterator it{};
        std::multimap<std::uint64_t, std::uint64_t>::iterator mit{};
    };
    std::int64_t start_;
    std::int64_t tick_;
    std::uint64_t cur_ = 0;
    std::uint64_t target_ = 0;
    std::list<std::uint64_t> due_;
    std::list<std::uint64_t> firing_;
    std::multimap<std::uint64_t, std::uint64_t> wheel_;
    std::unordered_map<std::uint64_t, Where> where_;
};

struct RandomRun {
    RandomRun(std::uint64_t seed, Instant start, Duration tick)
        : rng(seed), wheel(start, tick), model(start, tick), now(start), tick_ns(tick.ns()) {}

    std::mt19937_64 rng;
    TimerWheel wheel;
    Model model;
    Instant now;
    std::int64_t tick_ns;
    std::uint64_t next_cookie = 1;
    std::unordered_map<std::uint64_t, TimerId> ids;  // live cookies
    std::vector<std::uint64_t> live;                 // same set, for random picks
    std::unordered_map<std::uint64_t, std::size_t> pos;  // cookie -> index in live
    std::size_t total_fired = 0;
    bool quiet = false;  // callbacks take no actions
    std::uint64_t schedule_weight = 5;  // out of 10 actions; the rest cancel (2/3) or reschedule
    std::size_t peak = 0;
    bool big_jumps = true;
    std::uint64_t advance_one_in = 3;  // steps

    std::uint64_t pick(std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng); }

    Duration random_offset() {
        const std::uint64_t r = pick(100);
        if (r < 10) return Duration::nanos(-static_cast<std::int64_t>(pick(50)) * tick_ns - static_cast<std::int64_t>(pick(1000)));
        if (r < 15) return Duration::zero();
        if (r < 55) return Duration::nanos(static_cast<std::int64_t>(pick(70)) * tick_ns + static_cast<std::int64_t>(pick(3)));
        if (r < 80) return Duration::nanos(static_cast<std::int64_t>(pick(5000)) * tick_ns + static_cast<std::int64_t>(pick(tick_ns)));
        if (r < 95) return Duration::nanos(static_cast<std::int64_t>(pick(5'000'000)) * tick_ns);
        return Duration::seconds(static_cast<std::int64_t>(pick(86400 * 20)));  // days ahead
    }

    void forget(std::uint64_t cookie) {
        ids.erase(cookie);
        const std::size_t i = pos[cookie];
        pos.erase(cookie);
        if (i + 1 != live.size()) {
            live[i] = live.back();
            pos[live[i]] = i;
        }
        live.pop_back();
    }

    void do_schedule() {
        const Instant d = now + random_offset();
        const std::uint64_t c = next_cookie++;
        const TimerId id = wheel.schedule(d, c);
        ASSERT_NE(id, kNoTimer);
        model.schedule(d, c);
        ids[c] = id;
        pos[c] = live.size();
        live.push_back(c);
    }
    void do_cancel() {
        if (live.empty()) return;
        const std::uint64_t c = live[pick(live.size())];
        ASSERT_TRUE(wheel.cancel(ids[c]));
        ASSERT_TRUE(model.cancel(c));
        forget(c);
    }
    void do_reschedule() {
        if (live.empty()) return;
        const std::uint64_t c = live[pick(live.size())];
        const Instant d = now + random_offset();
        TimerId id = ids[c];
        ASSERT_TRUE(wheel.reschedule(id, d));
        ASSERT_EQ(id, ids[c]);
        model.cancel(c);
        model.schedule(d, c);
        // Keep `live` order stable: the cookie stays where it is.
    }
    void random_action() {
        const std::uint64_t r = pick(10);
        if (r < schedule_weight) {
            do_schedule();
        } else if (r < schedule_weight + (10 - schedule_weight) * 2 / 3) {
            do_cancel();
        } else {
            do_reschedule();
        }
    }

    void do_advance() {
        const std::uint64_t r = pick(100);
        Instant to = now;
        if (r < 5) {
            to = now - Duration::nanos(static_cast<std::int64_t>(pick(10)) * tick_ns);  // backwards: no-op
        } else if (r < 60) {
            to = now + Duration::nanos(static_cast<std::int64_t>(pick(4 * tick_ns)));
        } else if (r < 90) {
            to = now + Duration::nanos(static_cast<std::int64_t>(pick(3000)) * tick_ns);
        } else if (big_jumps) {
            to = now + Duration::seconds(static_cast<std::int64_t>(pick(86400 * 3)));  // big jump
        }
        if (to > now) now = to;
        model.begin_advance(to);
        std::size_t fired_here = 0;
        const std::size_t n = wheel.advance(to, [&](std::uint64_t c) {
            ++fired_here;
            const std::optional<std::uint64_t> expect = model.pop();
            ASSERT_TRUE(expect.has_value()) << "wheel fired " << c << " but the model fires nothing";
            ASSERT_EQ(c, *expect);
            ASSERT_FALSE(wheel.pending(ids[c]));
            forget(c);
            ASSERT_EQ(wheel.next_deadline(), model.next_deadline());
            // Callbacks act on the wheel too, sometimes.
            if (!quiet && pick(4) == 0) random_action();
        });
        ASSERT_EQ(n, fired_here);
        const std::optional<std::uint64_t> missing = model.pop();
        ASSERT_FALSE(missing.has_value()) << "model expected " << *missing << " to fire";
        model.end_advance();
        total_fired += n;
    }

    void run(int steps) {
        for (int i = 0; i < steps; ++i) {
            if (pick(advance_one_in) == 0) {
                do_advance();
            } else {
                random_action();
            }
            if (::testing::Test::HasFatalFailure()) return;
            ASSERT_EQ(wheel.size(), model.size());
            peak = std::max(peak, wheel.size());
            ASSERT_EQ(wheel.next_deadline(), model.next_deadline()) << "step " << i;
        }
        // Drain everything, far in the future.
        quiet = true;
        now = now + Duration::seconds(86400) * 400;
        do_advance();
        do_advance();  // past-deadline timers scheduled by the last callbacks
        ASSERT_EQ(wheel.size(), 0u);
        ASSERT_EQ(model.size(), 0u);
    }
};

}  // namespace

TEST(TimerWheel, RandomAgainstModelMillisecondTicks) {
    for (std::uint64_t seed = 1; seed <= 6; ++seed) {
        RandomRun run(seed, Instant::from_ns(12'345), Duration::millis(1));
        run.run(20000);
        ASSERT_FALSE(HasFatalFailure()) << "seed " << seed;
        EXPECT_GT(run.total_fired, 1000u);
    }
}

TEST(TimerWheel, RandomAgainstModelLargePopulation) {
    // Mostly schedules: tens of thousands of timers pending at once.
    for (std::uint64_t seed = 50; seed <= 51; ++seed) {
        RandomRun run(seed, Instant::from_ns(0), Duration::millis(1));
        run.schedule_weight = 9;
        run.big_jumps = false;
        run.advance_one_in = 20;
        run.run(100000);
        ASSERT_FALSE(HasFatalFailure()) << "seed " << seed;
        EXPECT_GT(run.peak, 10000u);
        EXPECT_GT(run.total_fired, 10000u);
    }
}

TEST(TimerWheel, RandomAgainstModelNanosecondTicks) {
    // 1 ns ticks: deadlines days away are ~2^46 ticks, exercising high levels.
    for (std::uint64_t seed = 100; seed <= 103; ++seed) {
        RandomRun run(seed, Instant::from_ns(-5'000'000'000), Duration::nanos(1));
        run.run(20000);
        ASSERT_FALSE(HasFatalFailure()) << "seed " << seed;
    }
}

TEST(TimerWheel, RandomAgainstModelOddTick) {
    for (std::uint64_t seed = 200; seed <= 202; ++seed) {
        RandomRun run(seed, Instant::from_ns(987'654'321), Duration::micros(333));
        run.run(20000);
        ASSERT_FALSE(HasFatalFailure()) << "seed " << seed;
    }
}

TEST(TimerWheel, ManyTimersSameSlotThenCancelEarliest) {
    // next_deadline stays exact while the earliest timer of a far slot is
    // cancelled repeatedly.
    TimerWheel w(at_ms(0));
    std::vector<TimerId> ids;
    for (int i = 0; i < 500; ++i) ids.push_back(w.schedule(at_ms(100000 + i), static_cast<std::uint64_t>(i)));
    for (int i = 0; i < 499; ++i) {
        EXPECT_EQ(w.next_deadline(), at_ms(100000 + i));
        EXPECT_TRUE(w.cancel(ids[static_cast<std::size_t>(i)]));
    }
    EXPECT_EQ(w.next_deadline(), at_ms(100499));
    EXPECT_EQ(advance_collect(w, at_ms(100498)), std::vector<std::uint64_t>{});
    EXPECT_EQ(advance_collect(w, at_ms(100499)), std::vector<std::uint64_t>{499});
}
