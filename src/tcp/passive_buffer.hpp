// tcp/passive_buffer.hpp — one observed direction of a TCP connection:
// reassembly in bounded memory, with holes for bytes that never showed up.
//
// Contract (the observer's counterpart of RecvBuffer, RFC 9293 3.10.7.4):
//  * Positions are 64-bit stream offsets (0 = the byte after the SYN), so
//    streams longer than 4 GiB keep exact offsets. The caller unwraps
//    sequence numbers against nxt().
//  * One ring is the only storage for bytes. It is allocated at the first
//    byte, grows by doubling while the held span needs it (never past
//    capacity(), and only while the shared MemoryBudget allows), and is freed
//    by release(). Bytes are written straight to their place. Two bounds:
//    window() from nxt() (a real receiver takes nothing past RCV.NXT + its
//    largest window: beyond_window) and capacity() from the reader's
//    position (the window plus what the reader may lag behind: overrun).
//    Memory per direction is thus bounded by capacity().
//  * Stored out-of-order bytes are a sorted list of disjoint, non-adjacent
//    ranges, each remembering when its first byte arrived. At most
//    max_ranges exist: an insertion that would need one more first turns
//    the oldest gap into a hole (forced_holes).
//  * insert(): bytes already held are compared with the newcomer: first copy
//    wins, and differing bytes are counted (inconsistent_bytes, and the
//    call reports it). Bytes before the reader's position or inside a
//    declared hole cannot be compared: counted as duplicate or late.
//  * A gap becomes a HOLE only through skip_to(), skip_first_gap() or
//    flush(): the caller decides when (hole deadline, peer's ACK, end of the
//    connection). A hole is a marker {offset, length} in the readable
//    stream; the reader meets it exactly at its offset. A gap followed by
//    stored bytes keeps its ring space (the bytes after it are already in
//    place); a gap at the tail takes none, so a long loss costs no memory.
//  * read() copies data bytes up to the next hole; with stop_at_hole it
//    returns before a hole and, when the hole is next, consumes it and
//    reports its offset and length (bytes = 0). Without stop_at_hole holes
//    are skipped and only counted.
//  * Retention (set_retain, for cut-in): bytes the reader took stay in the
//    ring until release_to() passes them (the receiver's ACK), so that
//    [kept(), nxt()) can still be copied out (copy_range). Reading a hole
//    ends the retained span there. Memory is then bounded by capacity()
//    plus the retained span (at most a window: bytes not yet acknowledged).
//  * No exceptions; allocation only when the ring is created or grows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "base/bytes.hpp"
#include "base/time.hpp"

namespace uinet::tcp {

// Bytes of ring storage shared by all passive buffers of a stack.
struct MemoryBudget {
    std::size_t used = 0;
    std::size_t max = 0;
    std::uint64_t refused = 0;  // ring growths refused
};

struct PassiveHole {
    std::uint64_t offset = 0;  // stream offset of the first missing byte
    std::uint64_t len = 0;
    std::uint64_t ring = 0;    // ring bytes it occupies (len, or 0 at the tail)
};

struct PassiveInsert {
    std::size_t stored = 0;        // new bytes stored
    std::size_t duplicate = 0;     // already held, or already read
    std::size_t late = 0;          // inside a declared hole
    std::size_t inconsistent = 0;  // held bytes that differ from the newcomer's
    std::size_t beyond_window = 0; // refused: at or past nxt + window
    std::size_t overrun = 0;       // refused: past capacity (reader behind) or memory budget
    std::size_t forced_holes = 0;  // gaps turned into holes to bound the range list
};

struct PassiveRead {
    std::size_t bytes = 0;         // data bytes copied
    std::uint64_t hole_len = 0;    // > 0: a hole was consumed (bytes == 0)
    std::uint64_t hole_offset = 0; // its stream offset
};

class PassiveBuffer {
public:
    static constexpr std::size_t kInitialRing = 64 * 1024;

    PassiveBuffer(MemoryBudget& budget, std::size_t window, std::size_t capacity, std::size_t max_ranges);
    ~PassiveBuffer();
    PassiveBuffer(const PassiveBuffer&) = delete;
    PassiveBuffer& operator=(const PassiveBuffer&) = delete;

    std::size_t window() const { return window_; }
    std::size_t capacity() const { return capacity_; }
    void set_limits(std::size_t window, std::size_t capacity) {
        window_ = window == 0 ? 1 : window;
        capacity_ = capacity < window_ ? window_ : capacity;
    }

    PassiveInsert insert(std::uint64_t offset, Bytes data, Instant t);
    // Every missing byte below `upto` becomes part of a hole; nxt() >= upto after.
    void skip_to(std::uint64_t upto);
    // The gap before the first stored range becomes a hole (no-op without one).
    void skip_first_gap();
    // Every gap below the highest stored byte becomes a hole.
    void flush();
    // The instant since which a gap blocks nxt() (never if none).
    Instant gap_since() const;
    bool has_gap() const { return !ranges_.empty(); }

    std::uint64_t head() const { return head_; }  // next byte the reader gets
    std::uint64_t nxt() const { return nxt_; }    // first byte not yet in order
    // Highest stored offset + 1 (nxt() if nothing is out of order).
    std::uint64_t stored_end() const { return ranges_.empty() ? nxt_ : ranges_.back().right; }
    // Data bytes the reader may take before the next hole.
    std::size_t readable() const;
    // Something (data or a hole) waits for the reader.
    bool pending() const { return head_ < nxt_; }
    PassiveRead read(MutBytes dst, bool stop_at_hole);
    const std::deque<PassiveHole>& holes() const { return holes_; }

    std::uint64_t holes_made() const { return holes_made_; }
    std::uint64_t hole_bytes() const { return hole_bytes_; }
    std::size_t ring_capacity() const { return cap_; }
    // Frees the ring (everything held is dropped; offsets stay).
    void release();

    // Retention of read bytes until release_to() (see the contract).
    void set_retain(bool on);
    bool retaining() const { return retain_; }
    void release_to(std::uint64_t upto);
    std::uint64_t kept() const { return keep_; }  // first byte still held
    // Copies [from, from + dst.size()); false unless all of it is held as
    // data (from >= kept(), end <= nxt(), no hole in between).
    bool copy_range(std::uint64_t from, MutBytes dst) const;

private:
    struct Range {
        std::uint64_t left, right;
        Instant since;
    };
    // Ring offset (from the reader's position) of stream offset o >= nxt_.
    std::uint64_t ring_of(std::uint64_t o) const { return nxt_ring_ + (o - nxt_); }
    bool ensure(std::uint64_t ring_end);
    void write(std::uint64_t r, Bytes src);
    std::size_t compare(std::uint64_t r, Bytes src) const;  // differing bytes
    void copy_out(std::uint64_t r, MutBytes dst) const;
    void add_hole(std::uint64_t offset, std::uint64_t len, std::uint64_t ring);
    void advance_in_order();
    // Compares data already in order, [o, o + n) within [head_, nxt_).
    void check_in_order(std::uint64_t o, Bytes data, PassiveInsert& res) const;

    MemoryBudget& budget_;
    std::unique_ptr<std::uint8_t[]> buf_;
    std::size_t cap_ = 0;
    std::size_t window_ = 1;
    std::size_t capacity_ = 1;
    std::size_t max_ranges_;
    std::size_t rpos_ = 0;          // ring index of head_
    std::uint64_t head_ = 0;
    std::uint64_t nxt_ = 0;
    std::uint64_t nxt_ring_ = 0;    // ring bytes between head_ and nxt_
    std::vector<Range> ranges_;
    std::deque<PassiveHole> holes_;
    std::uint64_t holes_made_ = 0, hole_bytes_ = 0;
    bool retain_ = false;
    std::uint64_t keep_ = 0;       // retained span [keep_, head_), in the ring just before rpos_
};

}  // namespace uinet::tcp
