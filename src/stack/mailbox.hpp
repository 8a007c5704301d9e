// stack/mailbox.hpp — calls posted to a stack from other threads.
//
// Contract: post() may be called from any thread; the stack's thread runs
// the posted functions, in order, at its next iteration. The mailbox's
// eventfd is readable while work is waiting, so the loop can sleep in
// epoll. Functions run exactly once; at destruction, waiting functions are
// run with `cancelled` = true, so nobody waits forever.
#pragma once

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

    void post(Fn fn);
    // Runs everything posted so far; returns how many ran.
    std::size_t drain();
    int fd() const { return efd_; }
    bool empty() const;

private:
    mutable std::mutex mu_;
    std::vector<Fn> queue_;
    std::vector<Fn> running_;
    int efd_ = -1;
};

}  // namespace uinet
