// bench/checksum.cpp — the Internet checksum (RFC 1071) over 64..9000
// bytes: uinet's word-at-a-time accumulator against a naive loop over
// 16-bit words, the textbook reference, in the same run.
#include <benchmark/benchmark.h>

#include "common.hpp"
#include "wire/checksum.hpp"

namespace {

// RFC 1071 section 4.1, as written there: 16 bits at a time into 32.
std::uint16_t naive_checksum(const std::uint8_t* p, std::size_t n) {
    std::uint32_t sum = 0;
    std::size_t i = 0;
    for (; i + 1 < n; i += 2) sum += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
    if (i < n) sum += static_cast<std::uint32_t>(p[i] << 8);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum);
}

void sizes(benchmark::internal::Benchmark* b) {
    for (int n : {64, 128, 256, 512, 1024, 1500, 4096, 9000}) b->Arg(n);
}

void BM_uinet(benchmark::State& st) {
    const auto data = uinet::bench::random_bytes(static_cast<std::size_t>(st.range(0)));
    for (auto _ : st) {
        benchmark::DoNotOptimize(data.data());
        benchmark::DoNotOptimize(uinet::wire::internet_checksum({data.data(), data.size()}));
    }
    st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations()) * st.range(0));
}

void BM_naive(benchmark::State& st) {
    const auto data = uinet::bench::random_bytes(static_cast<std::size_t>(st.range(0)));
    if (naive_checksum(data.data(), data.size()) != uinet::wire::internet_checksum({data.data(), data.size()}))
        st.SkipWithError("the two checksums disagree");
    for (auto _ : st) {
        benchmark::DoNotOptimize(data.data());
        benchmark::DoNotOptimize(naive_checksum(data.data(), data.size()));
    }
    st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations()) * st.range(0));
}

BENCHMARK(BM_uinet)->Name("checksum/uinet")->Apply(sizes);
BENCHMARK(BM_naive)->Name("checksum/naive")->Apply(sizes);

}  // namespace

BENCHMARK_MAIN();
