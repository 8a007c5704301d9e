// A deterministic in-memory "connection" between two StreamServices for the
// services tests: each direction is a bounded pipe; every step moves a
// random-sized piece (from a seeded generator) from one side's produce()
// into the pipe and from the pipe into the other side's on_data(), honouring
// wants_input(). Data reaching a side that is done() is thrown away. A side that is done() and has drained its output sends FIN:
// the peer gets on_eof() once the pipe is empty.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "services/byte_queue.hpp"
#include "services/stream_service.hpp"

namespace uinet::services::test {

struct PumpStats {
    std::uint64_t a_to_b = 0, b_to_a = 0;
    bool a_fin = false, b_fin = false;
    bool stalled = false;  // neither side could make progress before both finished
    std::size_t steps = 0;
};

class Pump {
public:
    Pump(StreamService& a, StreamService& b, std::uint64_t seed, std::size_t max_piece = 4096,
         std::size_t window = 64 * 1024)
        : a_(a), b_(b), rng_(seed), max_piece_(max_piece), window_(window) {}

    // Runs until both sides closed, or nothing moves, or max_steps.
    PumpStats run(std::size_t max_steps = 10'000'000) {
        while (stats_.steps < max_steps) {
            ++stats_.steps;
            bool moved = false;
            moved |= step(a_, b_, ab_, stats_.a_to_b, stats_.a_fin, b_eof_);
            moved |= step(b_, a_, ba_, stats_.b_to_a, stats_.b_fin, a_eof_);
            if (stats_.a_fin && stats_.b_fin && ab_.empty() && ba_.empty()) break;
            if (a_.failed() || b_.failed()) break;
            if (!moved) {
                stats_.stalled = true;
                break;
            }
        }
        return stats_;
    }
    // Observers for tests that tap the stream.
    std::string* tap_ab = nullptr;
    std::string* tap_ba = nullptr;

private:
    std::size_t piece() { return std::uniform_int_distribution<std::size_t>(1, max_piece_)(rng_); }

    // Moves bytes from `from` through `pipe` into `to`.
    bool step(StreamService& from, StreamService& to, ByteQueue& pipe, std::uint64_t& count, bool& fin,
              bool& to_eof) {
        bool moved = false;
        if (!fin && pipe.size() < window_) {
            std::vector<std::uint8_t> buf(std::min(piece(), window_ - pipe.size()));
            const bool pending = from.output_pending();
            const std::size_t n = from.produce(buf);
            EXPECT_LE(n, buf.size()) << "produce overran its buffer";
            // The contract: output_pending() says whether produce() yields bytes.
            EXPECT_EQ(pending, n > 0) << "output_pending() disagrees with produce()";
            if (n > 0) {
                pipe.append(Bytes(buf.data(), n));
                if (tap(&from)) tap(&from)->append(reinterpret_cast<const char*>(buf.data()), n);
                count += n;
                moved = true;
            }
            if (from.done() && !from.output_pending()) {
                fin = true;
                moved = true;
            }
        }
        if (!pipe.empty() && to.done()) {
            pipe.clear();  // a closed socket throws late data away
            moved = true;
        }
        if (!pipe.empty() && to.wants_input()) {
            const std::size_t n = std::min(piece(), pipe.size());
            to.on_data(pipe.peek().first(n));
            pipe.consume(n);
            moved = true;
        }
        if (fin && pipe.empty() && !to_eof) {
            to_eof = true;
            to.on_eof();
            moved = true;
        }
        return moved;
    }
    std::string* tap(const StreamService* s) { return s == &a_ ? tap_ab : tap_ba; }

    StreamService& a_;
    StreamService& b_;
    std::mt19937_64 rng_;
    std::size_t max_piece_;
    std::size_t window_;
    ByteQueue ab_, ba_;
    bool a_eof_ = false, b_eof_ = false;
    PumpStats stats_;
};

// Drains up to `limit` bytes of a service's output into a string.
inline std::string drain(StreamService& s, std::size_t limit = 1 << 20) {
    std::string out;
    std::vector<std::uint8_t> buf(4096);
    while (out.size() < limit) {
        const std::size_t n = s.produce(MutBytes(buf.data(), std::min(buf.size(), limit - out.size())));
        if (n == 0) break;
        out.append(reinterpret_cast<const char*>(buf.data()), n);
    }
    return out;
}

inline void feed(StreamService& s, std::string_view text) {
    s.on_data(Bytes(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

}  // namespace uinet::services::test
