// stack/mailbox.hpp — calls posted to a stack from other threads.
//
// Contract: post() may be called from any thread; the stack's thread runs
// the posted functions, in order, at its next iteration. The mailbox's
// eventfd is readable while work is waiting, so the loop can sleep in
// epoll. Functions run exactly once; at destruction, waiting functions are
// run with `cancelled` = true, so nobody waits forever. An atomic flag,
// raised by post() after queueing and ringing, lets drain() and empty() answer "nothing
// posted" without a lock or a read() of the eventfd: an idle mailbox costs
// the loop one atomic load per iteration.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <vector>

namespace uinet {

class Mailbox {
public:
    using Fn = std::function<void(bool cancelled)>;
    Mailbox();
    ~Mailbox();
    Mailbox(const Mailbox&) = delete;
    Mailbox& operator=(const Mailbox&) = delete;

    // Queues fn. With `only_if_open`, a closed mailbox refuses it (returns
    // false, fn dropped unrun): for callers that would wait on fn forever.
    // Otherwise fn waits for the next open() and drain(), or destruction.
    bool post(Fn fn, bool only_if_open = false);
    // close() runs everything queued with `cancelled` = true and makes
    // only_if_open posts fail until open().
    void open();
    void close();
    // Runs everything posted so far; returns how many ran.
    std::size_t drain();
    int fd() const { return efd_; }
    bool empty() const;

private:
    mutable std::mutex mu_;
    std::atomic<bool> posted_{false};  // raised after a post, lowered by drain()
    std::vector<Fn> queue_;
    std::vector<Fn> running_;
    bool closed_ = false;
    int efd_ = -1;
};

}  // namespace uinet
