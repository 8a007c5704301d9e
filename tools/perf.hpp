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
//  * Short connections (crr): `crr_count` transactions, `crr_conc` at a
//    time; each one opens a connection, the client sends `crr_size` bytes,
//    the server answers `crr_size` bytes and closes first (FIN right after
//    the answer), the client reads the answer and the end of stream and
//    closes. So the server side holds TIME-WAIT, the client ends in
//    LAST-ACK then CLOSED and its ephemeral ports are free again at once;
//    a reused port meets the server's TIME-WAIT, which accepts the new SYN
//    by timestamp (RFC 6191). The latency of one transaction runs from
//    the client's socket() to its close().
//  * Where the kernel side runs (KernelPath): over 127.0.0.1 in this
//    process's namespace, or over a veth pair between two network
//    namespaces made for the run (client/sender thread in one, server/
//    receiver thread in the other, entered with setns()). Where uinet runs
//    (UinetLink): two stacks on a mem pipe, or one stack on a TAP device
//    whose kernel side lives in a namespace made for the run, with a kernel
//    server thread there as the peer (uinet is the client/sender).
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

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace uinet::tools::perf {

enum class KernelPath { loopback, veth };
enum class UinetLink { mem, tap };

struct Config {
    std::uint64_t bytes = 1'000'000'000;
    unsigned conns = 1;  // connections sharing `bytes` (per bulk run)
    std::uint32_t mtu = 1500;
    std::uint64_t rr_count = 20'000;
    std::size_t rr_size = 1;
    std::size_t chunk = 64 * 1024;  // user buffer per send/recv call, both sides
    std::size_t sockbuf = 0;        // socket buffers; 0 = each stack's default
    double timeout_secs = 300;
    // CPUs for the sending/client thread and the receiving/server thread of
    // both sides (-1: wherever the scheduler puts them).
    int cpu_a = -1, cpu_b = -1;
    std::uint64_t crr_count = 20'000;
    std::size_t crr_size = 64;
    unsigned crr_conc = 1;  // transactions in flight at once
    UinetLink uinet_link = UinetLink::mem;
    KernelPath kernel_path = KernelPath::loopback;
    // The places (filled in by run_perf once its namespaces exist; an empty
    // namespace name means this process's own). Addresses in host order.
    std::string kernel_client_ns, kernel_server_ns;
    std::uint32_t kernel_server_ip = 0x7f000001;  // 127.0.0.1
    std::string tap_ns, tap_name;
    std::uint32_t tap_kernel_ip = 0, tap_uinet_ip = 0;
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
    // uinet only (crr): TIME-WAIT entries closed early by the budget, and
    // SYNs that reopened a TIME-WAIT connection.
    std::uint64_t time_wait_budget = 0, time_wait_reuse = 0;
};

BulkResult uinet_bulk(const Config& c);
RrResult uinet_rr(const Config& c);
RrResult uinet_crr(const Config& c);
// uinet on a TAP device as client/sender, a kernel server as its peer.
BulkResult tap_bulk(const Config& c);
RrResult tap_rr(const Config& c);
RrResult tap_crr(const Config& c);
// The other direction: a kernel sender in tap_ns, uinet receives (bulk_rx).
BulkResult tap_bulk_rx(const Config& c);
// The kernel's bulk sender on the calling thread: enters kernel_client_ns,
// pins to cpu_a, waits for `go`, writes `bytes` over `conns` connections to
// ip:port (host order). Returns an error message, empty on success.
std::string kernel_send(const Config& c, std::uint32_t ip, std::uint16_t port, std::shared_future<void> go);
BulkResult kernel_bulk(const Config& c);
RrResult kernel_rr(const Config& c);
RrResult kernel_crr(const Config& c);

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

// The kernel's server half of a test on a thread of its own: a discard
// receiver (bulk: counts bytes until `conns` connections ended), an echo
// server (rr) or a one-answer-then-close server (crr: `crr_count`
// connections). Used by the kernel runs and, as uinet's peer, by the TAP
// runs. All calls but stop() belong to one thread.
class KernelServer {
public:
    enum class Kind { discard, echo, crr };
    KernelServer();
    ~KernelServer();  // stops and joins
    KernelServer(const KernelServer&) = delete;
    KernelServer& operator=(const KernelServer&) = delete;

    // Listens on addr (host order) and an ephemeral port, inside namespace
    // ns (empty: this process's own); false with error() set on failure.
    bool listen(const Config& c, const std::string& ns, std::uint32_t addr, int backlog);
    std::uint16_t port() const { return port_; }
    std::size_t sndbuf() const { return sndbuf_; }
    std::size_t rcvbuf() const { return rcvbuf_; }
    // Starts the thread (inside ns, pinned to cpu_b), which first waits
    // for `go`; `done` (if set) is signalled when it ends.
    void start(Kind k, const Config& c, std::shared_future<void> go, Completion* done = nullptr);
    // Asks the thread to give up within a second (a failure elsewhere).
    void stop();
    void join();
    std::uint64_t bytes() const { return bytes_; }  // discard: bytes received; after join()
    std::uint64_t served() const { return served_; }
    const std::string& error() const { return error_; }

private:
    void run(Kind k, const Config& c, std::shared_future<void> go, Completion* done);
    int lfd_ = -1;
    std::uint16_t port_ = 0;
    std::size_t sndbuf_ = 0, rcvbuf_ = 0;
    std::string ns_;
    std::thread th_;
    std::atomic<bool> stop_{false};
    std::uint64_t bytes_ = 0, served_ = 0;
    std::string error_;
};

}  // namespace uinet::tools::perf
