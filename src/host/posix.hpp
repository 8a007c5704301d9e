// host/posix.hpp — the host interface implemented on Linux/POSIX.
//
// Contract:
//  * PosixClock reads CLOCK_MONOTONIC: never goes backwards, unaffected by
//    wall-clock changes.
//  * PosixRandom fills from getrandom(2) (the kernel CSPRNG), retrying on
//    EINTR and short reads; if getrandom is unavailable it reads
//    /dev/urandom. If neither works the process aborts with a message: a
//    stack without unpredictable ISNs and cookie secrets must not run.
//  * StderrLogger writes each message at or above min_level as one line,
//    "uinet <level>: <message>\n", with a single write(2) so lines from
//    several threads do not interleave. Control characters in the message
//    (newlines included) become spaces, so a message is always one line.
//  * PosixThreads runs bodies on std::thread and names each thread (Linux
//    limits names to 15 bytes; longer names are truncated). start() returns
//    nullptr if the thread cannot be created. A Thread joins on destruction.
//  * PosixMemory uses aligned operator new/delete; allocate() returns
//    nullptr on failure or if align is not a power of two.
//  * PosixHost bundles one of each; host() hands out non-owning pointers,
//    so the PosixHost must outlive whatever uses them.
#pragma once

#include <memory>
#include <string>

#include "host/host.hpp"

namespace uinet {

class PosixClock final : public Clock {
public:
    Instant now() override;
};

class PosixRandom final : public Random {
public:
    void fill(MutBytes out) override;
};

class StderrLogger final : public Logger {
public:
    void log(LogLevel level, std::string_view msg) override;
};

class PosixThreads final : public Threads {
public:
    std::unique_ptr<Thread> start(std::string name, std::function<void()> body) override;
};

class PosixMemory final : public Memory {
public:
    void* allocate(std::size_t bytes, std::size_t align) override;
    void deallocate(void* p, std::size_t bytes, std::size_t align) override;
};

// The name a thread gets for `name`: at most 15 bytes (the Linux limit).
std::string thread_name_for(std::string_view name);

const char* log_level_name(LogLevel level);

struct PosixHost {
    PosixClock clock;
    PosixRandom random;
    StderrLogger logger;
    PosixThreads threads;
    PosixMemory memory;

    Host host() { return Host{&clock, &random, &logger, &threads, &memory}; }
};

}  // namespace uinet
