// Host tests: Random helpers over a scripted source, the seeded generator's
// reproducibility (golden values computed independently from the published
// xoshiro256** and splitmix64 definitions), the virtual clock and capture
// logger, and the POSIX implementations (clock, getrandom, stderr lines,
// named threads, aligned memory).
#include <gtest/gtest.h>
#include <pthread.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <set>
#include <string>
#include <vector>

#include "host/host.hpp"
#include "host/posix.hpp"
#include "host/virtual.hpp"

using namespace uinet;

namespace {

// Hands out scripted 32-bit values, little-endian, 4 bytes at a time.
class ScriptedRandom final : public Random {
public:
    explicit ScriptedRandom(std::deque<std::uint32_t> values) : values_(std::move(values)) {}
    void fill(MutBytes out) override {
        for (std::size_t i = 0; i < out.size(); i += 4) {
            const std::uint32_t v = values_.empty() ? 0 : values_.front();
            if (!values_.empty()) values_.pop_front();
            for (std::size_t b = 0; b < 4 && i + b < out.size(); ++b) out[i + b] = static_cast<std::uint8_t>(v >> (8 * b));
        }
        ++fills;
    }
    int fills = 0;

private:
    std::deque<std::uint32_t> values_;
};

}  // namespace

TEST(Random, WordsAreLittleEndian) {
    ScriptedRandom r({0x04030201u, 0x08070605u, 0xaabbccddu});
    EXPECT_EQ(r.u64(), 0x0807060504030201ull);
    EXPECT_EQ(r.u32(), 0xaabbccddu);
}

TEST(Random, BelowRejectsTheBiasedZone) {
    // bound 3: 2^32 mod 3 = 1, so only a draw whose low product word is 0
    // (x = 0) is rejected. The second draw 0x80000000 gives (x*3)>>32 = 1.
    ScriptedRandom r({0u, 0x80000000u});
    EXPECT_EQ(r.below(3), 1u);
    EXPECT_EQ(r.fills, 2);
    ScriptedRandom top({0xffffffffu});
    EXPECT_EQ(top.below(10), 9u);
    EXPECT_EQ(top.fills, 1);
}

TEST(Random, BelowEdgeBounds) {
    SeededRandom r(7);
    EXPECT_EQ(r.below(0), 0u);
    for (int i = 0; i < 100; ++i) EXPECT_EQ(r.below(1), 0u);
    for (std::uint32_t bound : {2u, 3u, 7u, 1000u, 0x80000001u, 0xffffffffu})
        for (int i = 0; i < 1000; ++i) EXPECT_LT(r.below(bound), bound);
}

TEST(Random, BelowHitsEveryBucket) {
    SeededRandom r(12345);
    for (std::uint32_t bound : {2u, 6u, 10u, 37u, 100u}) {
        std::vector<int> hits(bound, 0);
        const int draws = static_cast<int>(bound) * 200;
        for (int i = 0; i < draws; ++i) ++hits[r.below(bound)];
        for (std::uint32_t b = 0; b < bound; ++b) {
            EXPECT_GT(hits[b], 0) << "bound " << bound << " bucket " << b;
            // Generous sanity bounds (expected 200 each), not a statistical test.
            EXPECT_LT(hits[b], 400) << "bound " << bound << " bucket " << b;
        }
    }
}

TEST(SeededRandom, GoldenStream) {
    SeededRandom zero(0);
    EXPECT_EQ(zero.next(), 0x99ec5f36cb75f2b4ull);
    EXPECT_EQ(zero.next(), 0xbf6e1f784956452aull);
    EXPECT_EQ(zero.next(), 0x1a5f849d4933e6e0ull);
    EXPECT_EQ(zero.next(), 0x6aa594f1262d2d2cull);
    SeededRandom r42(42);
    EXPECT_EQ(r42.seed(), 42u);
    EXPECT_EQ(r42.u64(), 0x15780b2e0c2ec716ull);
    EXPECT_EQ(r42.u32(), 0x6d113a7eu);  // low half of the second output
    std::array<std::uint8_t, 3> b{};
    r42.fill(b);  // consumes the whole third output, keeps its low bytes
    EXPECT_EQ(b, (std::array<std::uint8_t, 3>{0xa1, 0x99, 0xe4}));
    EXPECT_EQ(r42.next(), 0xecb8ad4703b360a1ull);
}

TEST(SeededRandom, SameSeedSameStreamDifferentSeedsDiffer) {
    SeededRandom a(99), b(99), c(100);
    std::array<std::uint8_t, 100> fa{}, fb{}, fc{};
    a.fill(fa);
    b.fill(fb);
    c.fill(fc);
    EXPECT_EQ(fa, fb);
    EXPECT_NE(fa, fc);
    for (int i = 0; i < 1000; ++i) ASSERT_EQ(a.u64(), b.u64());
    std::set<std::uint64_t> firsts;
    for (std::uint64_t seed = 0; seed < 1000; ++seed) firsts.insert(SeededRandom(seed).next());
    EXPECT_EQ(firsts.size(), 1000u);
}

TEST(VirtualClock, SetAndAdvance) {
    VirtualClock c;
    EXPECT_EQ(c.now(), Instant::from_ns(0));
    c.advance(Duration::millis(5));
    EXPECT_EQ(c.now(), Instant::from_ns(5'000'000));
    c.set(Instant::from_ns(123));
    EXPECT_EQ(c.now(), Instant::from_ns(123));
    Clock& base = c;
    EXPECT_EQ(base.now(), Instant::from_ns(123));
    VirtualClock later(Instant::from_ns(77));
    EXPECT_EQ(later.now(), Instant::from_ns(77));
}

TEST(CaptureLogger, KeepsLinesAtOrAboveMinLevel) {
    CaptureLogger log;
    log.log(LogLevel::debug, "d1");
    log.log(LogLevel::error, "boom here");
    ASSERT_EQ(log.lines.size(), 2u);
    EXPECT_EQ(log.lines[0].level, LogLevel::debug);
    EXPECT_EQ(log.lines[1].text, "boom here");
    EXPECT_TRUE(log.contains("boom"));
    EXPECT_FALSE(log.contains("nope"));
    log.min_level = LogLevel::warn;
    log.log(LogLevel::info, "dropped");
    EXPECT_EQ(log.lines.size(), 2u);
    log.clear();
    EXPECT_TRUE(log.lines.empty());
}

TEST(PosixClock, IsMonotonic) {
    PosixClock c;
    Instant prev = c.now();
    EXPECT_GT(prev.ns(), 0);
    for (int i = 0; i < 10000; ++i) {
        const Instant t = c.now();
        ASSERT_GE(t, prev);
        prev = t;
    }
}

TEST(PosixRandom, FillsWithFreshBytes) {
    PosixRandom r;
    std::array<std::uint8_t, 64> a{}, b{};
    r.fill(a);
    r.fill(b);
    EXPECT_NE(a, (std::array<std::uint8_t, 64>{}));  // all zero: chance 2^-512
    EXPECT_NE(a, b);
    r.fill(MutBytes{});  // empty is fine
    std::vector<std::uint8_t> big(1 << 20, 0);
    r.fill(big);
    std::size_t zeros = 0;
    for (std::uint8_t x : big) zeros += x == 0;
    EXPECT_LT(zeros, big.size() / 64);  // expected about 1/256
    EXPECT_NE(r.u64(), r.u64());
}

TEST(StderrLogger, WritesOneLinePerMessageWithLevel) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const int saved = ::dup(STDERR_FILENO);
    ASSERT_GE(saved, 0);
    ::dup2(fds[1], STDERR_FILENO);
    StderrLogger log;
    log.log(LogLevel::debug, "hidden");  // below the default min_level (info)
    log.log(LogLevel::warn, "disk on fire");
    log.log(LogLevel::info, "two\nparts");
    ::dup2(saved, STDERR_FILENO);
    ::close(saved);
    ::close(fds[1]);
    std::string got;
    char buf[256];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) got.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    EXPECT_EQ(got, "uinet warn: disk on fire\nuinet info: two parts\n");
}

TEST(PosixThreads, RunsNamesAndJoins) {
    PosixThreads threads;
    std::atomic<int> ran{0};
    std::string seen_name;
    auto t = threads.start("uinet-shard-0123456789", [&] {
        char name[32] = {};
        ::pthread_getname_np(::pthread_self(), name, sizeof name);
        seen_name = name;
        ran.fetch_add(1);
    });
    ASSERT_NE(t, nullptr);
    t->join();
    EXPECT_EQ(ran.load(), 1);
    EXPECT_EQ(seen_name, "uinet-shard-012");
    EXPECT_EQ(seen_name, thread_name_for("uinet-shard-0123456789"));
    t->join();  // joining twice is harmless

    // Destroying the handle joins.
    auto t2 = threads.start("short", [&] { ran.fetch_add(1); });
    ASSERT_NE(t2, nullptr);
    t2.reset();
    EXPECT_EQ(ran.load(), 2);
}

TEST(PosixMemory, AlignedAllocation) {
    PosixMemory mem;
    for (std::size_t align : {8u, 64u, 4096u}) {
        void* p = mem.allocate(10000, align);
        ASSERT_NE(p, nullptr);
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % align, 0u);
        static_cast<std::uint8_t*>(p)[9999] = 1;
        mem.deallocate(p, 10000, align);
    }
    EXPECT_EQ(mem.allocate(64, 0), nullptr);
    EXPECT_EQ(mem.allocate(64, 48), nullptr);
    mem.deallocate(nullptr, 0, 64);
}

TEST(PosixHost, BundlesItsMembers) {
    PosixHost ph;
    const Host h = ph.host();
    EXPECT_EQ(h.clock, &ph.clock);
    EXPECT_EQ(h.random, &ph.random);
    EXPECT_EQ(h.logger, &ph.logger);
    EXPECT_EQ(h.threads, &ph.threads);
    EXPECT_EQ(h.memory, &ph.memory);
    EXPECT_GT(h.clock->now().ns(), 0);
}

TEST(LogLevel, Names) {
    EXPECT_STREQ(log_level_name(LogLevel::debug), "debug");
    EXPECT_STREQ(log_level_name(LogLevel::error), "error");
}
