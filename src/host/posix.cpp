// host/posix.cpp — Linux/POSIX implementation of the host interface.
//
// Contract: see posix.hpp.
#include "host/posix.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <new>
#include <system_error>
#include <thread>

namespace uinet {

Instant PosixClock::now() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return Instant::from_ns(static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec);
}

namespace {

[[noreturn]] void random_failure(const char* what) {
    std::fprintf(stderr, "uinet: no source of randomness (%s): %s\n", what, std::strerror(errno));
    std::abort();
}

void fill_from_urandom(std::uint8_t* p, std::size_t n) {
    const int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0) random_failure("open /dev/urandom");
    while (n > 0) {
        const ssize_t r = ::read(fd, p, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) random_failure("read /dev/urandom");
        p += r;
        n -= static_cast<std::size_t>(r);
    }
    ::close(fd);
}

}  // namespace

void PosixRandom::fill(MutBytes out) {
    std::uint8_t* p = out.data();
    std::size_t n = out.size();
    while (n > 0) {
        const ssize_t r = ::getrandom(p, n, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            if (errno == ENOSYS) {
                fill_from_urandom(p, n);
                return;
            }
            random_failure("getrandom");
        }
        p += r;
        n -= static_cast<std::size_t>(r);
    }
}

const char* log_level_name(LogLevel level) {
    switch (level) {
        case LogLevel::debug: return "debug";
        case LogLevel::info: return "info";
        case LogLevel::warn: return "warn";
        case LogLevel::error: return "error";
    }
    return "?";
}

void StderrLogger::log(LogLevel level, std::string_view msg) {
    if (level < min_level) return;
    std::string line = "uinet ";
    line += log_level_name(level);
    line += ": ";
    for (char c : msg) {
        const auto u = static_cast<unsigned char>(c);
        line += (u < 0x20 && c != '\t') || u == 0x7f ? ' ' : c;  // keep it one line
    }
    line += '\n';
    const char* p = line.data();
    std::size_t n = line.size();
    while (n > 0) {
        const ssize_t r = ::write(STDERR_FILENO, p, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return;  // nowhere to report a broken stderr
        p += r;
        n -= static_cast<std::size_t>(r);
    }
}

std::string thread_name_for(std::string_view name) {
    return std::string(name.substr(0, 15));
}

namespace {

class PosixThread final : public Thread {
public:
    PosixThread(std::string name, std::function<void()> body)
        : t_([n = thread_name_for(name), b = std::move(body)]() {
              ::pthread_setname_np(::pthread_self(), n.c_str());
              b();
          }) {}
    ~PosixThread() override { join(); }
    PosixThread(const PosixThread&) = delete;
    PosixThread& operator=(const PosixThread&) = delete;

    // A thread cannot join itself: if the last handle dies on its own
    // thread, the thread is detached instead.
    void join() override {
        if (!t_.joinable()) return;
        if (t_.get_id() == std::this_thread::get_id()) {
            t_.detach();
        } else {
            t_.join();
        }
    }

private:
    std::thread t_;
};

}  // namespace

std::unique_ptr<Thread> PosixThreads::start(std::string name, std::function<void()> body) {
    try {
        return std::make_unique<PosixThread>(std::move(name), std::move(body));
    } catch (const std::system_error&) {
        return nullptr;
    }
}

void* PosixMemory::allocate(std::size_t bytes, std::size_t align) {
    if (align == 0 || (align & (align - 1)) != 0) return nullptr;
    return ::operator new(bytes == 0 ? 1 : bytes, std::align_val_t(align), std::nothrow);
}

void PosixMemory::deallocate(void* p, std::size_t /*bytes*/, std::size_t align) {
    if (p == nullptr) return;
    ::operator delete(p, std::align_val_t(align));
}

}  // namespace uinet
