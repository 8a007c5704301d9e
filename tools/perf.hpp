// tools/perf.hpp — `uinet perf`: the same TCP work done by uinet and by the
// Linux kernel in one run, for figures reported side by side as ratios
// (DESIGN.md, testing pyramid: bench).
//
// Contract:
//  * Bulk: `bytes` bytes split over `conns` connections, written from a
//    user buffer of `chunk` bytes and read into one of the same size, by one
//    sending and one receiving thread, each event-driven over non-blocking
//    sockets. uinet: two Stacks in this process, each in Stack::run() on its
//    own thread, joined by a mem pipe (no delay, unlimited bandwidth, MTU
//    `mtu`); the application runs in socket upcalls on the stack threads.
//    Kernel: two TCP sockets per connection over 127.0.0.1, a sender thread
//    and a receiver thread, each in epoll.
//  * Request/response: one connection, TCP_NODELAY on both ends; the client
//    sends `rr_size` bytes, the server echoes them, the client waits for the
//    whole answer before the next request, `rr_count` times. The kernel side
//    uses blocking sockets (its fastest idiom); uinet uses upcalls.
//  * Every measure is wall time from std::chrono::steady_clock (read by the
//    tool only; the library is passed time) and process CPU time from
//    getrusage(RUSAGE_SELF) taken around the test: during a test only the
//    test's two threads work, the main thread waits.
//  * With cpu_a/cpu_b set, the two threads of each side are pinned to the
//    same CPUs, so both sides get the same placement (on a small machine
//    the wake-up cost between threads depends mostly on whether they share
//    a CPU).
//  * A test that fails (wrong byte count, socket error, timeout) reports
//    ok = false and an error; the tool exits non-zero. No figure is ever
//    compared with a threshold.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace uinet::tools::perf {

struct Config {
    std::uint64_t bytes = 1'000'000'000;
    unsigned conns = 1;
    std::uint32_t mtu = 1500;
    std::uint64_t rr_count = 20'000;
    std::size_t rr_size = 1;
    std::size_t chunk = 64 * 1024;  // user buffer per send/recv call, both sides
    std::size_t sockbuf = 0;        // socket buffers; 0 = each stack's default
    double timeout_secs = 300;
    // CPUs for the sending/client thread and the receiving/server thread of
    // both sides (-1: wherever the scheduler puts them).
    int cpu_a = -1, cpu_b = -1;
    // uinet's mem pipe with checksum offload, 64 KiB TSO super-frames and
    // one copy per frame, as the kernel's loopback (off: --no-offload).
    bool offload = true;
};

// Pins the calling thread to `cpu` (no-op for -1); false if refused.
bool pin_self(int cpu);

struct Cpu {
    double user = 0;
    double sys = 0;
    std::uint64_t switches = 0;  // context switches, voluntary and not
    double total() const { return user + sys; }
};
// CPU time and context switches of the whole process so far.
Cpu process_cpu();
Cpu operator-(const Cpu& a, const Cpu& b);

struct BulkResult {
    bool ok = false;
    std::string error;
    double secs = 0;
    std::uint64_t bytes = 0;  // received and counted by the receiver
    Cpu cpu;
    // uinet only: what the run cost in protocol terms.
    std::uint64_t segments = 0, retransmits = 0, dropped_frames = 0;
    std::size_t sndbuf = 0, rcvbuf = 0;  // socket buffers in effect (kernel: as reported)
};

struct RrResult {
    bool ok = false;
    std::string error;
    double secs = 0;
    std::uint64_t transactions = 0;
    double mean_us = 0, p50_us = 0, p99_us = 0;
    Cpu cpu;
    std::uint64_t segments = 0, retransmits = 0;  // uinet only
};

BulkResult uinet_bulk(const Config& c);
RrResult uinet_rr(const Config& c);
BulkResult kernel_bulk(const Config& c);
RrResult kernel_rr(const Config& c);

// Fills mean/p50/p99 from per-transaction latencies in microseconds.
void latency_stats(std::vector<double>& us, RrResult& r);

// One-shot completion signalled from a worker thread, awaited with a timeout.
class Completion {
public:
    void succeed();
    void fail(std::string why);  // the first failure wins
    // False on timeout; then error() says so.
    bool wait(double secs);
    bool ok() const;
    std::string error() const;

private:
    mutable std::mutex mu_;
    std::condition_variable cv_;
    bool done_ = false;
    bool ok_ = false;
    std::string error_;
};

}  // namespace uinet::tools::perf
