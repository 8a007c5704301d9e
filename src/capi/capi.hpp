// capi/capi.hpp — what the C API's implementation files share: the
// instance and socket objects behind the opaque C types, and the rules for
// running a call on the instance's thread.
//
// Contract:
//  * uinet_instance owns a PosixHost, a Stack and the thread running it.
//    run_mu_ orders calls against start/stop: a call holds it shared while
//    it waits in Stack::call(), so stop() (exclusive) never strands a call
//    in a mailbox nobody drains; with no thread running, calls run on the
//    caller's thread under the exclusive lock, one at a time.
//  * uinet_socket is a wrapper: instance, generation-counted SocketId,
//    options the socket layer does not keep (linger, timeouts, low-water
//    marks, reuse flags), the user upcall, and a Waiter. The C API installs
//    its own upcall on every socket; it wakes the Waiter (blocking calls and
//    uinet_sowait) and then calls the user's upcall with events filtered by
//    the low-water marks.
//  * Blocking calls loop: note the Waiter's sequence number, try the
//    operation on the stack thread, and on EAGAIN wait for the sequence to
//    move (an event), the deadline, or the instance to stop. An event that
//    lands between the try and the wait has already moved the sequence, so
//    no wake-up is lost.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <unordered_set>
#include <vector>

#include "host/posix.hpp"
#include "stack/stack.hpp"
#include "uinet/uinet.h"

namespace uinet::capi {

using SteadyTime = std::chrono::steady_clock::time_point;

// A uinet_sowait() caller waiting on several sockets.
struct SetWaiter {
    std::mutex mu;
    std::condition_variable cv;
    bool fired = false;
};

// Wakes threads blocked on one socket.
class Waiter {
public:
    std::uint64_t seq() {
        std::lock_guard lk(mu_);
        return seq_;
    }
    // An event (or a stop): moves the sequence and wakes everyone.
    void bump();
    // Waits until seq() != seen, `until`, or stopped() is true. Returns
    // false on timeout.
    template <class Stopped>
    bool wait(std::uint64_t seen, SteadyTime until, Stopped&& stopped) {
        std::unique_lock lk(mu_);
        auto pred = [&] { return seq_ != seen || stopped(); };
        if (until == SteadyTime::max()) {
            cv_.wait(lk, pred);
            return true;
        }
        return cv_.wait_until(lk, until, pred);
    }
    void add(SetWaiter* s);
    void remove(SetWaiter* s);

private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::uint64_t seq_ = 0;
    std::vector<SetWaiter*> sets_;
};

// Runs f, turning an escaping exception into an errno value.
template <class F>
int guarded(F&& f) noexcept {
    try {
        return f();
    } catch (const std::bad_alloc&) {
        return ENOMEM;
    } catch (...) {
        return EIO;
    }
}

SteadyTime deadline_after(std::int64_t timeout_us);  // 0 = none (max())

}  // namespace uinet::capi

struct uinet_instance {
    uinet::PosixHost host;
    std::unique_ptr<uinet::Stack> stack;
    std::unique_ptr<uinet::Thread> thread;
    std::shared_mutex run_mu;
    std::mutex sockets_mu;
    std::unordered_set<uinet_socket*> sockets;  // live wrappers, to wake at stop and free at destroy
    std::vector<std::uint8_t> scratch;          // stack thread only: gather/scatter of datagrams, peeks

    bool running() const { return stack->running(); }

    // Runs f (returning an errno value) on the stack thread: through
    // Stack::call() when a thread drives the stack, else directly under the
    // exclusive lock. Never call on the stack thread (see run_socket_op).
    template <class F>
    int exec(F&& f) {
        auto g = [&f]() -> int { return uinet::capi::guarded(f); };
        {
            std::shared_lock lk(run_mu);
            if (stack->running()) {
                auto r = stack->call(g);
                return r ? *r : uinet::to_errno(r.error());
            }
        }
        std::unique_lock lk(run_mu);
        if (stack->running()) {  // started meanwhile; start/stop wait for us
            auto r = stack->call(g);
            return r ? *r : uinet::to_errno(r.error());
        }
        return g();
    }
    // Configuration: directly on the stack thread, else exec().
    template <class F>
    int configure(F&& f) {
        if (stack->on_stack_thread()) return uinet::capi::guarded(f);
        return exec(std::forward<F>(f));
    }
    void add_socket(uinet_socket* so) {
        std::lock_guard lk(sockets_mu);
        sockets.insert(so);
    }
    void remove_socket(uinet_socket* so) {
        std::lock_guard lk(sockets_mu);
        sockets.erase(so);
    }
};

struct uinet_socket {
    uinet_instance* inst = nullptr;
    uinet::SocketId id;
    int type = UINET_SOCK_STREAM;
    std::atomic<bool> nonblocking{false};
    uinet::capi::Waiter waiter;

    // Options kept here (atomics: read by the calling thread, written on
    // the stack thread or by the caller).
    std::atomic<bool> reuseaddr{false}, reuseport{false}, keepalive{false}, nodelay{false};
    std::atomic<bool> linger_on{false};
    std::atomic<int> linger_secs{0};
    std::atomic<std::int64_t> rcvtimeo_us{0}, sndtimeo_us{0};
    std::atomic<std::uint32_t> rcvlowat{1}, sndlowat{1};
    std::atomic<bool> rd_shut{false}, wr_shut{false};
    // Mirrors of TCP options as set (the TCB has no getters for them).
    std::atomic<std::uint32_t> sndbuf{0}, rcvbuf{0}, maxseg{0}, keep_idle_s{0}, keep_intvl_s{0}, keep_cnt{0};

    // The user's upcall: touched on the stack thread only.
    uinet_upcall_t upcall = nullptr;
    void* upcall_arg = nullptr;
    // The SYN filter (stack thread only).
    uinet_synfilter_callback_t synf = nullptr;
    void* synf_arg = nullptr;
    uinet::tcp::SynFilterConfig synf_cfg;

    bool is_tcp() const { return type == UINET_SOCK_STREAM; }
};

namespace uinet::capi {

// Runs a socket operation by the thread rules: on the stack thread directly
// for a non-blocking socket (EDEADLK for a blocking one), else exec().
template <class F>
int run_socket_op(uinet_socket* so, F&& f) {
    if (so->inst->stack->on_stack_thread()) return so->nonblocking.load() ? guarded(f) : EDEADLK;
    return so->inst->exec(std::forward<F>(f));
}

// Runs f on the stack thread whatever the socket's mode: directly when
// already there (it never waits), else exec().
template <class F>
int run_anywhere(uinet_socket* so, F&& f) {
    if (so->inst->stack->on_stack_thread()) return guarded(f);
    return so->inst->exec(std::forward<F>(f));
}

// Whether a call on `so` may wait (blocking mode, not MSG_DONTWAIT).
inline bool may_block(const uinet_socket* so, int flags) {
    return !so->nonblocking.load() && (flags & UINET_MSG_DONTWAIT) == 0;
}

// Repeats `attempt` (run on the stack thread, returning an errno value)
// while it returns EAGAIN and the socket may block, waiting for events in
// between; EAGAIN after `until`, ECANCELED if the instance stops.
template <class F>
int blocking_loop(uinet_socket* so, bool block, SteadyTime until, F&& attempt) {
    for (;;) {
        const std::uint64_t seen = so->waiter.seq();
        int e = run_socket_op(so, attempt);
        if (e != EAGAIN || !block) return e;
        uinet_instance* inst = so->inst;
        if (!so->waiter.wait(seen, until, [inst] { return !inst->running(); })) return EAGAIN;
        if (!inst->running()) return ECANCELED;
    }
}

// The socket's readiness now, as UINET_POLL* bits, with the low-water marks
// applied. Stack thread only.
int readiness(uinet_socket* so);
// Installs the C API's upcall on a fresh socket. Stack thread only.
void install_upcall(uinet_socket* so);
// Copies options (not the upcall) from a listener to an accepted socket.
void inherit_options(uinet_socket* dst, const uinet_socket& src);

Endpoint to_endpoint(const uinet_sockaddr_in& sin);
void from_endpoint(const Endpoint& ep, uinet_sockaddr_in* out);

}  // namespace uinet::capi
