// bench/buffers.cpp — the TCP byte buffers, against the floor: plain
// memcpy of the same bytes the same number of times, in the same run.
//  * send_buffer: the application appends `chunk` bytes, output copies them
//    into pool packets one 1448-byte segment at a time, an ACK frees them
//    (two copies per byte; the reference does the two memcpys).
//  * recv_buffer: a segment of `seg` bytes is inserted in order and read out
//    (two copies per byte).
//  * recv_buffer_reorder: eight segments arrive last-first, so seven are
//    stored out of order before the first fills the hole, then all are
//    read (two copies per byte, plus the range bookkeeping).
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "buf/packet.hpp"
#include "common.hpp"
#include "tcp/recv_buffer.hpp"
#include "tcp/send_buffer.hpp"

namespace {

using namespace uinet;
constexpr std::size_t kMss = 1448;
constexpr std::size_t kRing = 256 * 1024;

void send_uinet(benchmark::State& st) {
    const auto chunk = static_cast<std::size_t>(st.range(0));
    const auto data = bench::random_bytes(chunk);
    Pool pool(PoolConfig{.count = 64, .buf_size = 2048, .headroom = 128});
    tcp::SendBuffer sb(kRing);
    SeqNum seq(1);
    sb.reset(seq);
    for (auto _ : st) {
        if (sb.append({data.data(), chunk}) != chunk) {
            st.SkipWithError("append refused bytes");
            break;
        }
        for (std::size_t off = 0; off < chunk; off += kMss) {
            const std::size_t len = std::min(kMss, chunk - off);
            Packet p = pool.alloc();
            if (!sb.append_to(p, seq + static_cast<std::uint32_t>(off), len)) {
                st.SkipWithError("append_to failed");
                break;
            }
            benchmark::DoNotOptimize(p.front().data());
        }
        seq = seq + static_cast<std::uint32_t>(chunk);
        sb.ack(seq);
    }
    st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations()) * st.range(0));
}

void send_memcpy(benchmark::State& st) {
    const auto chunk = static_cast<std::size_t>(st.range(0));
    const auto data = bench::random_bytes(chunk);
    std::vector<std::uint8_t> ring(kRing), pkt(2048);
    for (auto _ : st) {
        std::memcpy(ring.data(), data.data(), chunk);
        for (std::size_t off = 0; off < chunk; off += kMss) {
            std::memcpy(pkt.data() + 128, ring.data() + off, std::min(kMss, chunk - off));
            benchmark::DoNotOptimize(pkt.data());
        }
        benchmark::ClobberMemory();
    }
    st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations()) * st.range(0));
}

void recv_uinet(benchmark::State& st) {
    const auto seg = static_cast<std::size_t>(st.range(0));
    const auto data = bench::random_bytes(seg);
    std::vector<std::uint8_t> out(seg);
    tcp::RecvBuffer rb(kRing);
    SeqNum seq(1);
    rb.reset(seq);
    for (auto _ : st) {
        auto r = rb.insert(seq, {data.data(), seg});
        if (r.in_order != seg || rb.read(out) != seg) {
            st.SkipWithError("segment not taken in order");
            break;
        }
        seq = seq + static_cast<std::uint32_t>(seg);
        benchmark::DoNotOptimize(out.data());
    }
    st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations()) * st.range(0));
}

void recv_memcpy(benchmark::State& st) {
    const auto seg = static_cast<std::size_t>(st.range(0));
    const auto data = bench::random_bytes(seg);
    std::vector<std::uint8_t> ring(kRing), out(seg);
    std::size_t pos = 0;
    for (auto _ : st) {
        if (pos + seg > kRing) pos = 0;
        std::memcpy(ring.data() + pos, data.data(), seg);
        std::memcpy(out.data(), ring.data() + pos, seg);
        pos += seg;
        benchmark::DoNotOptimize(out.data());
    }
    st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations()) * st.range(0));
}

constexpr std::size_t kBurst = 8;

void reorder_uinet(benchmark::State& st) {
    const auto seg = static_cast<std::size_t>(st.range(0));
    const auto data = bench::random_bytes(seg * kBurst);
    std::vector<std::uint8_t> out(seg * kBurst);
    tcp::RecvBuffer rb(kRing);
    SeqNum seq(1);
    rb.reset(seq);
    for (auto _ : st) {
        for (std::size_t k = kBurst; k-- > 0;)
            rb.insert(seq + static_cast<std::uint32_t>(k * seg), {data.data() + k * seg, seg});
        if (rb.read(out) != out.size()) {
            st.SkipWithError("the burst was not reassembled");
            break;
        }
        seq = seq + static_cast<std::uint32_t>(out.size());
        benchmark::DoNotOptimize(out.data());
    }
    st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations()) * st.range(0) * static_cast<std::int64_t>(kBurst));
}

void reorder_memcpy(benchmark::State& st) {
    const auto seg = static_cast<std::size_t>(st.range(0));
    const auto data = bench::random_bytes(seg * kBurst);
    std::vector<std::uint8_t> ring(kRing), out(seg * kBurst);
    for (auto _ : st) {
        for (std::size_t k = kBurst; k-- > 0;) std::memcpy(ring.data() + k * seg, data.data() + k * seg, seg);
        std::memcpy(out.data(), ring.data(), out.size());
        benchmark::DoNotOptimize(out.data());
    }
    st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations()) * st.range(0) * static_cast<std::int64_t>(kBurst));
}

BENCHMARK(send_uinet)->Name("send_buffer/uinet")->Arg(1448)->Arg(16384)->Arg(65536);
BENCHMARK(send_memcpy)->Name("send_buffer/memcpy")->Arg(1448)->Arg(16384)->Arg(65536);
BENCHMARK(recv_uinet)->Name("recv_buffer/uinet")->Arg(64)->Arg(1448)->Arg(8948);
BENCHMARK(recv_memcpy)->Name("recv_buffer/memcpy")->Arg(64)->Arg(1448)->Arg(8948);
BENCHMARK(reorder_uinet)->Name("recv_buffer_reorder/uinet")->Arg(536)->Arg(1448);
BENCHMARK(reorder_memcpy)->Name("recv_buffer_reorder/memcpy")->Arg(536)->Arg(1448);

}  // namespace

BENCHMARK_MAIN();
