// host/host.hpp — the host interface: everything uinet asks of its host.
//
// Contract: the stack reaches the outside world only through these
// interfaces (clock, randomness, logging, threads, memory). A POSIX
// implementation is in host/posix.hpp; tests use a virtual clock and a
// seeded random source so that runs replay exactly (DESIGN.md principle 4).
// Protocol code never calls these: the stack reads the clock once per
// iteration of its loop and passes `now` down.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/bytes.hpp"
#include "base/time.hpp"

namespace uinet {

class Clock {
public:
    virtual ~Clock() = default;
    virtual Instant now() = 0;
};

class Random {
public:
    virtual ~Random() = default;
    virtual void fill(MutBytes out) = 0;
    std::uint32_t u32();
    std::uint64_t u64();
    // Uniform in [0, bound) (bound > 0), without modulo bias.
    std::uint32_t below(std::uint32_t bound);
};

enum class LogLevel : std::uint8_t { debug, info, warn, error };

class Logger {
public:
    virtual ~Logger() = default;
    virtual void log(LogLevel level, std::string_view msg) = 0;
    LogLevel min_level = LogLevel::info;
};

// A running thread; joined by join() or on destruction.
class Thread {
public:
    virtual ~Thread() = default;
    virtual void join() = 0;
};

class Threads {
public:
    virtual ~Threads() = default;
    virtual std::unique_ptr<Thread> start(std::string name, std::function<void()> body) = 0;
};

// Large, long-lived allocations (packet pools, tables); never per packet.
class Memory {
public:
    virtual ~Memory() = default;
    virtual void* allocate(std::size_t bytes, std::size_t align) = 0;
    virtual void deallocate(void* p, std::size_t bytes, std::size_t align) = 0;
};

// The bundle handed to a Stack. Non-owning: the host outlives its stacks.
struct Host {
    Clock* clock = nullptr;
    Random* random = nullptr;
    Logger* logger = nullptr;
    Threads* threads = nullptr;
    Memory* memory = nullptr;
};

}  // namespace uinet
