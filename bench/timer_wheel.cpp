// bench/timer_wheel.cpp — the TimerWheel's three hot operations against a
// std::multimap keyed by deadline (an ordered-tree timer queue, the usual
// reference), with N timers pending in the background:
//  * schedule_cancel: arm a timer and disarm it (a timer that never fires,
//    the common fate of a retransmission timer);
//  * reschedule: move a pending timer later (re-arming the RTO on an ACK);
//  * advance: N timers spread over one second, fired by advancing 1 ms at a
//    time (items = timers fired).
#include <benchmark/benchmark.h>

#include <map>
#include <random>
#include <vector>

#include "base/timer_wheel.hpp"

namespace {

using namespace uinet;

constexpr Instant kStart = Instant::from_ns(1'000'000'000);

std::vector<Duration> delays(std::size_t n, std::int64_t max_ms, std::uint64_t seed) {
    std::mt19937_64 g(seed);
    std::vector<Duration> v(n);
    for (auto& d : v) d = Duration::micros(static_cast<std::int64_t>(g() % static_cast<std::uint64_t>(max_ms * 1000)));
    return v;
}

using Queue = std::multimap<std::int64_t, std::uint64_t>;

void schedule_cancel_uinet(benchmark::State& st) {
    const auto n = static_cast<std::size_t>(st.range(0));
    TimerWheel w(kStart);
    for (const Duration d : delays(n, 60'000, 1)) w.schedule(kStart + d, 1);
    const auto ds = delays(4096, 3'000, 2);
    std::size_t i = 0;
    for (auto _ : st) {
        TimerId id = w.schedule(kStart + ds[i & 4095], i);
        benchmark::DoNotOptimize(w.cancel(id));
        ++i;
    }
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
}

void schedule_cancel_multimap(benchmark::State& st) {
    const auto n = static_cast<std::size_t>(st.range(0));
    Queue q;
    for (const Duration d : delays(n, 60'000, 1)) q.emplace((kStart + d).ns(), 1);
    const auto ds = delays(4096, 3'000, 2);
    std::size_t i = 0;
    for (auto _ : st) {
        auto it = q.emplace((kStart + ds[i & 4095]).ns(), i);
        q.erase(it);
        ++i;
        benchmark::ClobberMemory();
    }
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
}

void reschedule_uinet(benchmark::State& st) {
    const auto n = static_cast<std::size_t>(st.range(0));
    TimerWheel w(kStart);
    std::vector<TimerId> ids;
    for (const Duration d : delays(n, 60'000, 1)) ids.push_back(w.schedule(kStart + d, 1));
    const auto ds = delays(4096, 3'000, 2);
    std::size_t i = 0;
    for (auto _ : st) {
        TimerId& id = ids[i % n];
        benchmark::DoNotOptimize(w.reschedule(id, kStart + Duration::millis(200) + ds[i & 4095]));
        ++i;
    }
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
}

void reschedule_multimap(benchmark::State& st) {
    const auto n = static_cast<std::size_t>(st.range(0));
    Queue q;
    std::vector<Queue::iterator> its;
    for (const Duration d : delays(n, 60'000, 1)) its.push_back(q.emplace((kStart + d).ns(), 1));
    const auto ds = delays(4096, 3'000, 2);
    std::size_t i = 0;
    for (auto _ : st) {
        Queue::iterator& it = its[i % n];
        auto node = q.extract(it);
        node.key() = (kStart + Duration::millis(200) + ds[i & 4095]).ns();
        it = q.insert(std::move(node));
        ++i;
    }
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
}

void advance_uinet(benchmark::State& st) {
    const auto n = static_cast<std::size_t>(st.range(0));
    TimerWheel w(kStart);
    w.reserve(n);
    const auto ds = delays(n, 1'000, 3);
    Instant now = kStart;
    std::size_t fired = 0;
    for (auto _ : st) {
        for (const Duration d : ds) w.schedule(now + d, 1);
        const Instant end = now + Duration::millis(1001);
        while (now < end) {
            now += Duration::millis(1);
            fired += w.advance(now, [](std::uint64_t c) { benchmark::DoNotOptimize(c); });
        }
    }
    if (fired != n * static_cast<std::size_t>(st.iterations())) st.SkipWithError("not every timer fired");
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()) * st.range(0));
}

void advance_multimap(benchmark::State& st) {
    const auto n = static_cast<std::size_t>(st.range(0));
    Queue q;
    const auto ds = delays(n, 1'000, 3);
    Instant now = kStart;
    std::size_t fired = 0;
    for (auto _ : st) {
        for (const Duration d : ds) q.emplace((now + d).ns(), 1);
        const Instant end = now + Duration::millis(1001);
        while (now < end) {
            now += Duration::millis(1);
            while (!q.empty() && q.begin()->first <= now.ns()) {
                benchmark::DoNotOptimize(q.begin()->second);
                q.erase(q.begin());
                ++fired;
            }
        }
    }
    if (fired != n * static_cast<std::size_t>(st.iterations())) st.SkipWithError("not every timer fired");
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()) * st.range(0));
}

BENCHMARK(schedule_cancel_uinet)->Name("timer_schedule_cancel/uinet")->Arg(1000)->Arg(100000);
BENCHMARK(schedule_cancel_multimap)->Name("timer_schedule_cancel/std_multimap")->Arg(1000)->Arg(100000);
BENCHMARK(reschedule_uinet)->Name("timer_reschedule/uinet")->Arg(1000)->Arg(100000);
BENCHMARK(reschedule_multimap)->Name("timer_reschedule/std_multimap")->Arg(1000)->Arg(100000);
BENCHMARK(advance_uinet)->Name("timer_advance/uinet")->Arg(1000)->Arg(100000);
BENCHMARK(advance_multimap)->Name("timer_advance/std_multimap")->Arg(1000)->Arg(100000);

}  // namespace

BENCHMARK_MAIN();
