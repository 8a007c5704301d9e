// bench/flat_map.cpp — connection lookup: FlatMap keyed by the TCP 4-tuple
// with the keyed SipHash-1-3 the TCP layer uses, against std::unordered_map
// with the same key, hash and contents, in the same run. Lookups go in a
// random order over all entries (1 Ki entries: the table stays in cache;
// 1 Mi entries: most lookups miss the cache, as on a busy server). hit =
// every key is present; miss = no key is.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <random>
#include <unordered_map>
#include <vector>

#include "base/flat_map.hpp"
#include "base/siphash.hpp"
#include "tcp/tcp_types.hpp"

namespace {

using namespace uinet;
using tcp::ConnKey;

struct KeyHash {
    SipKey key{0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};
    std::uint64_t operator()(const ConnKey& k) const {
        return siphash13_u64x2(key, (std::uint64_t{k.laddr.value()} << 32) | k.raddr.value(),
                               (std::uint64_t{k.lport.value()} << 16) | k.rport.value());
    }
};

// n distinct keys: many clients (raddr, rport) towards a few local ports.
std::vector<ConnKey> make_keys(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 g(seed);
    std::vector<ConnKey> keys;
    keys.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        const auto r = g();
        keys.push_back(ConnKey{Ipv4Addr::of(198, 18, 0, 2), Ipv4Addr(static_cast<std::uint32_t>(i * 2 + 1) | 0x0a000000u),
                               Port(static_cast<std::uint16_t>(80 + (r & 3))),
                               Port(static_cast<std::uint16_t>(1024 + (r >> 16) % 60000))});
    }
    return keys;
}

// Present keys in a random order (hit), or keys never inserted (miss).
std::vector<ConnKey> make_queries(const std::vector<ConnKey>& keys, bool hit) {
    std::vector<ConnKey> q = keys;
    if (!hit)
        for (auto& k : q) k.raddr = Ipv4Addr(k.raddr.value() + 1);  // even addresses: never inserted
    std::shuffle(q.begin(), q.end(), std::mt19937_64(99));
    return q;
}

void lookup_uinet(benchmark::State& st) {
    const auto n = static_cast<std::size_t>(st.range(0));
    const auto keys = make_keys(n, 1);
    FlatMap<ConnKey, std::uint32_t, KeyHash> m;
    m.reserve(n);
    for (std::size_t i = 0; i < n; ++i) m.insert(keys[i], static_cast<std::uint32_t>(i + 1));
    const auto q = make_queries(keys, st.range(1) != 0);
    std::size_t i = 0;
    std::uint64_t found = 0;
    for (auto _ : st) {
        const std::uint32_t* v = m.find(q[i]);
        found += v != nullptr;
        benchmark::DoNotOptimize(v);
        if (++i == n) i = 0;
    }
    if (st.range(1) != 0 ? found != static_cast<std::uint64_t>(st.iterations()) : found != 0) st.SkipWithError("wrong lookup results");
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
}

void lookup_std(benchmark::State& st) {
    const auto n = static_cast<std::size_t>(st.range(0));
    const auto keys = make_keys(n, 1);
    std::unordered_map<ConnKey, std::uint32_t, KeyHash> m;
    m.reserve(n);
    for (std::size_t i = 0; i < n; ++i) m.emplace(keys[i], static_cast<std::uint32_t>(i + 1));
    const auto q = make_queries(keys, st.range(1) != 0);
    std::size_t i = 0;
    std::uint64_t found = 0;
    for (auto _ : st) {
        auto it = m.find(q[i]);
        found += it != m.end();
        benchmark::DoNotOptimize(it);
        if (++i == n) i = 0;
    }
    if (st.range(1) != 0 ? found != static_cast<std::uint64_t>(st.iterations()) : found != 0) st.SkipWithError("wrong lookup results");
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
}

void args(benchmark::internal::Benchmark* b) {
    b->ArgNames({"entries", "hit"});
    for (int n : {1 << 10, 1 << 20})
        for (int hit : {1, 0}) b->Args({n, hit});
}

BENCHMARK(lookup_uinet)->Name("flat_map_lookup/uinet")->Apply(args);
BENCHMARK(lookup_std)->Name("flat_map_lookup/std_unordered_map")->Apply(args);

}  // namespace

BENCHMARK_MAIN();
