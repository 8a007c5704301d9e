// tools/perf_net.hpp — the network namespaces of `uinet perf`.
//
// Contract:
//  * PerfNet makes, on request, network namespaces named
//    uinet-perf-<pid>-a/-b (joined by a veth pair: 198.18.100.1/24 in a,
//    198.18.100.2/24 in b) and uinet-perf-<pid>-t (the kernel side of
//    uinet's TAP device: 198.18.101.1/24; uinet is 198.18.101.2). Each has
//    lo up and no route out, so traffic never leaves them. Veth offloads
//    are left at the kernel's defaults (TSO/GSO/GRO on: the kernel at its
//    best).
//  * It deletes everything it made (and nothing else) when destroyed, on
//    SIGINT, SIGTERM and SIGHUP (then the process exits 128+signal): the
//    constructor blocks those signals in the calling thread, so it must run
//    before any other thread starts (threads inherit the mask), and a
//    watcher thread waits for them with sigtimedwait().
//  * Network namespaces are per thread: enter_netns() moves the calling
//    thread only; in_netns() runs a function on a short-lived thread inside
//    a namespace (a socket or TAP device keeps the namespace it was made in,
//    whichever thread uses it later).
//  * `ip` runs without a shell, its output discarded and its stderr shown
//    unless quiet; failures come back as messages, never exceptions.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace uinet::tools::perf {

// Runs `ip args...`; true on exit status 0.
bool run_ip(const std::vector<std::string>& args, bool quiet = false);
// True if `ip` can be run and this process may make namespaces (root).
bool can_make_namespaces();

// Moves the calling thread into /run/netns/<name>; empty name: no-op.
bool enter_netns(const std::string& name, std::string& error);

// Runs f() on a new thread inside namespace ns (empty: this process's own)
// and waits for it. False (error set) if the namespace cannot be entered.
template <class F>
bool in_netns(const std::string& ns, F&& f, std::string& error) {
    bool entered = false;
    std::thread t([&] {
        entered = enter_netns(ns, error);
        if (entered) f();
    });
    t.join();
    return entered;
}

constexpr std::uint32_t ip4(unsigned a, unsigned b, unsigned c, unsigned d) {
    return (a << 24) | (b << 16) | (c << 8) | d;
}
constexpr std::uint32_t kVethClientIp = ip4(198, 18, 100, 1);
constexpr std::uint32_t kVethServerIp = ip4(198, 18, 100, 2);
constexpr std::uint32_t kTapKernelIp = ip4(198, 18, 101, 1);
constexpr std::uint32_t kTapUinetIp = ip4(198, 18, 101, 2);
constexpr unsigned kTapPrefix = 24;
std::string ip4_text(std::uint32_t a);

class PerfNet {
public:
    PerfNet();
    ~PerfNet();
    PerfNet(const PerfNet&) = delete;
    PerfNet& operator=(const PerfNet&) = delete;

    // Namespaces a and b joined by a veth pair with MTU mtu.
    bool make_veth(std::uint32_t mtu, std::string& error);
    // Namespace t, for the TAP device's kernel side (the device itself is
    // made per run, inside t, by the uinet side: see tap_name()).
    bool make_tap_ns(std::string& error);

    const std::string& ns_a() const { return ns_a_; }
    const std::string& ns_b() const { return ns_b_; }
    const std::string& ns_t() const { return ns_t_; }
    const std::string& tap_name() const { return tap_; }

private:
    bool add_ns(const std::string& name, std::string& error);
    void delete_all();
    void watch();

    std::string ns_a_, ns_b_, ns_t_, tap_;
    std::mutex mu_;
    std::vector<std::string> made_;  // namespaces to delete
    std::atomic<bool> quit_{false};
    std::thread watcher_;
    bool masked_ = false;
};

}  // namespace uinet::tools::perf
