// stack/mailbox.cpp — a mutex-guarded queue with an eventfd doorbell.
#include "stack/mailbox.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

namespace uinet {

Mailbox::Mailbox() { efd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

Mailbox::~Mailbox() {
    std::vector<Fn> left;
    {
        std::lock_guard lk(mu_);
        left.swap(queue_);
    }
    for (Fn& f : left) f(true);
    if (efd_ >= 0) ::close(efd_);
}

bool Mailbox::post(Fn fn, bool only_if_open) {
    {
        std::lock_guard lk(mu_);
        if (closed_ && only_if_open) return false;
        queue_.push_back(std::move(fn));
    }
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(efd_, &one, sizeof one);
    // Raised after the doorbell: a drain that sees the flag then always
    // finds the eventfd rung, so its read() consumes this ring (a flag
    // raised first could let a drain read before the write and leave the
    // descriptor readable with the flag down: a loop spinning in epoll).
    posted_.store(true, std::memory_order_release);
    return true;
}

void Mailbox::open() {
    std::lock_guard lk(mu_);
    closed_ = false;
}

void Mailbox::close() {
    std::vector<Fn> left;
    {
        std::lock_guard lk(mu_);
        closed_ = true;
        left.swap(queue_);
    }
    for (Fn& f : left) f(true);
}

bool Mailbox::empty() const {
    if (!posted_.load(std::memory_order_acquire)) return true;
    std::lock_guard lk(mu_);
    return queue_.empty();
}

std::size_t Mailbox::drain() {
    // A post queues, rings, then raises the flag: lowering the flag before
    // taking the queue never misses a function (one posted meanwhile raises
    // it again and runs now or at the next drain; one whose flag is not up
    // yet has rung, so the loop comes straight back).
    if (!posted_.exchange(false, std::memory_order_acq_rel)) return 0;
    std::uint64_t v;
    [[maybe_unused]] auto n = ::read(efd_, &v, sizeof v);
    {
        std::lock_guard lk(mu_);
        running_.swap(queue_);
    }
    std::size_t ran = running_.size();
    for (Fn& f : running_) f(false);
    running_.clear();
    return ran;
}

}  // namespace uinet
