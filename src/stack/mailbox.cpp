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
    std::lock_guard lk(mu_);
    return queue_.empty();
}

std::size_t Mailbox::drain() {
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
