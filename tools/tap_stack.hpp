// tools/tap_stack.hpp — a uinet stack on a TAP device, as the TAP
// subcommands (`serve`, `fetch`, `tcp`) set it up.
//
// Contract:
//  * add_tap_options() registers the options every TAP subcommand shares:
//    --tap (required), --addr A.B.C.D/NN (required), --gateway, --pcap and
//    --mac, with the same help text everywhere.
//  * TapStack::open() checks those options and refuses bad ones with one
//    clear line on stderr, "uinet <cmd>: bad address '...' (...)" and the
//    like, returning exit code 2; an unusable device or capture file (busy,
//    permission denied, ...) is reported the same way with exit code 1.
//    On success the stack has the interface (a random locally administered
//    MAC unless --mac), the default route via --gateway if given, and a
//    pcap capture wrapped around the device if --pcap was given.
//  * --loss P / --reorder P / --loss-seed N put a FaultInjector between the
//    stack and the device (link/fault.hpp), acting on both directions with
//    one seed: each frame leaving or arriving is dropped with probability P
//    (or held back behind the next one). The capture, if any, sits below
//    it (it shows the wire, not the stack). With a fault the TAP is opened
//    without offloads, so that every frame is one MTU-sized segment and a
//    drop loses one segment, not a 64 KiB GSO super-frame.
//  * drive_until() runs the stack's loop on the calling thread (poll, then
//    sleep in epoll on the stack's descriptor until its next deadline) until
//    a predicate holds or a deadline passes; it is the loop of clients that
//    need no second thread. The free drive_until() does the same for any
//    stack, and lets an application's own timers (`extra`, e.g. the
//    proxy's) take part in the sleep.
//  * block_stop_signals() and SignalThread take SIGTERM and SIGINT on a
//    thread of their own, so that a tool can stop its loop and print its
//    counters: block first thing (threads started later inherit the
//    mask), then start the SignalThread with what to do on a signal.
#pragma once

#include <signal.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "base/result.hpp"
#include "host/posix.hpp"
#include "link/fault.hpp"
#include "stack/stack.hpp"

namespace CLI {
class App;
}

namespace uinet::tools {

struct TapArgs {
    std::string tap;
    std::string addr;
    std::string gateway;
    std::string pcap;
    bool no_offload = false;  // plain frames: no virtio-net header, checksums in software
    std::string mac;
    double loss = 0;      // --loss: drop probability per frame, each direction
    double reorder = 0;   // --reorder: probability a frame is held behind the next
    std::uint64_t loss_seed = 1;
};

void add_tap_options(CLI::App& cmd, TapArgs& args);

// Offset from the monotonic clock (the stack's) to wall-clock time, so that
// capture timestamps are real dates.
Duration wall_minus_monotonic();
// A random unicast, locally administered MAC.
MacAddr random_local_mac(Random& r);

// Runs `s` on the calling thread: poll, then `extra(now)` if given (which
// returns its own next deadline), then sleep in epoll on the stack's
// descriptor until the earliest deadline (at most a second), until done()
// holds (checked after every iteration) or `deadline` passes.
bool drive_until(Stack& s, Clock& clock, const std::function<bool()>& done, Instant deadline,
                 const std::function<Instant(Instant)>& extra = {});

// Blocks SIGTERM and SIGINT in the calling thread and every thread it
// starts afterwards; call it before any thread starts.
void block_stop_signals();

// A thread waiting (sigwait) for SIGTERM or SIGINT; calls on_signal once,
// on that thread, when one comes. The destructor wakes and joins it.
class SignalThread {
public:
    explicit SignalThread(std::function<void()> on_signal);
    ~SignalThread();
    SignalThread(const SignalThread&) = delete;
    SignalThread& operator=(const SignalThread&) = delete;
    bool signalled() const { return signalled_.load(); }

private:
    std::atomic<bool> signalled_{false};
    std::atomic<bool> closing_{false};
    std::thread thread_;
};

class TapStack {
public:
    // cmd names the subcommand in error messages ("serve", "fetch", ...).
    // The error value is the exit code (2: bad option, 1: device trouble).
    static Result<std::unique_ptr<TapStack>, int> open(const TapArgs& args, const char* cmd, StackOptions opts);

    Stack& stack() { return *stack_; }
    PosixHost& posix() { return ph_; }
    Instant now() { return ph_.host().clock->now(); }
    Ipv4Cidr cidr() const { return cidr_; }
    // The fault injector of --loss/--reorder, or null without them.
    const FaultInjector* faults() const { return faults_; }
    // Its counters as one JSON object ({"tx_frames":..,"tx_dropped":..,
    // "rx_frames":..,...}), or "null" without faults.
    std::string faults_json() const;

    // Drives the stack until done() returns true (checked after every
    // iteration) or `deadline` passes; returns whether done() held.
    bool drive_until(const std::function<bool()>& done, Instant deadline);

private:
    TapStack() = default;
    PosixHost ph_;
    std::unique_ptr<Stack> stack_;
    Ipv4Cidr cidr_{};
    FaultInjector* faults_ = nullptr;  // owned by the stack's interface
};

}  // namespace uinet::tools
