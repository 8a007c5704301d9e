// tcp/recv_buffer.hpp — the receive side: in-order bytes plus out-of-order
// reassembly in bounded memory.
//
// Contract (RFC 9293 section 3.10.7.4, "segment text"; section 3.8.6 window):
//  * One ring of capacity() bytes is the only storage, allocated (not
//    zero-filled) when the first byte is stored, never per segment;
//    release() gives it back while nothing is held. It holds readable() in-order bytes
//    (ending at rcv_nxt()) followed by the receive window: a byte with
//    sequence number s, rcv_nxt() <= s < rcv_nxt() + window(), has its own
//    place in the ring, so out-of-order bytes are written straight to where
//    they belong. window() = capacity() - readable() is what may be
//    advertised; stored out-of-order bytes live inside it.
//  * A sorted list of disjoint, non-adjacent Ranges records which bytes past
//    rcv_nxt() are present (the SACK blocks of RFC 2018, in sequence order).
//    It has at most max_ooo_ranges() entries; a segment whose insertion would
//    need more is refused whole (nothing stored, InsertResult::dropped,
//    stats().dropped_too_fragmented), so a peer cannot make us track
//    unbounded state. A segment that reaches rcv_nxt() is never refused.
//  * insert(seq, data) trims bytes before rcv_nxt() (counted as duplicate),
//    trims bytes at or past rcv_nxt() + window() (beyond_window), and stores
//    the rest where not already present: bytes already held win (first copy
//    wins; the newcomer's overlapping bytes are counted as duplicate, never
//    compared). When the bytes at rcv_nxt() are present, rcv_nxt() advances
//    over every contiguous present byte, merging stored ranges.
//  * A zero-length segment does nothing. FIN is not handled here (the TCB owns
//    FIN's place in sequence space); SYN's number must be skipped by the
//    caller (reset(IRS + 1)).
//  * read()/peek()/consume() take in-order bytes only.
//  * Capacity is clamped to [1, kMaxCapacity] (2^30: the largest scaled
//    window, RFC 7323 section 2.3), so every tracked byte is within 2^31 of
//    rcv_nxt() and SeqNum comparisons hold.
//  * No exceptions; allocation only at the first store (after construction
//    or release()) and in set_capacity().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/bytes.hpp"
#include "base/seq.hpp"
#include "buf/packet.hpp"

namespace uinet::tcp {

struct RecvStats {
    std::uint64_t bytes_in_order = 0;          // bytes that became readable (incl. formerly OOO)
    std::uint64_t bytes_ooo = 0;               // new bytes stored past a hole on arrival
    std::uint64_t duplicate_bytes = 0;         // bytes before rcv_nxt or already held
    std::uint64_t trimmed_bytes = 0;           // bytes past the right window edge
    std::uint64_t dropped_too_fragmented = 0;  // segments refused: too many OOO ranges
};

class RecvBuffer {
public:
    static constexpr std::size_t kMaxCapacity = std::size_t{1} << 30;
    static constexpr std::size_t kDefaultMaxOooRanges = 64;

    struct InsertResult {
        std::size_t in_order = 0;       // bytes newly readable (may include stored OOO bytes)
        std::size_t duplicate = 0;      // bytes already held or before rcv_nxt
        std::size_t beyond_window = 0;  // bytes trimmed off past the window
        bool out_of_order = false;      // some new bytes were stored past a hole
        bool filled_hole = false;       // new bytes landed below stored OOO data (RFC 5681 4.2: ACK now)
        bool dropped = false;           // refused whole: would exceed max_ooo_ranges()
    };

    struct Range {
        SeqNum left;   // first byte present
        SeqNum right;  // one past the last byte present
    };

    explicit RecvBuffer(std::size_t capacity = 256 * 1024,
                        std::size_t max_ooo_ranges = kDefaultMaxOooRanges);
    RecvBuffer(const RecvBuffer&) = delete;
    RecvBuffer& operator=(const RecvBuffer&) = delete;
    RecvBuffer(RecvBuffer&&) noexcept = default;
    RecvBuffer& operator=(RecvBuffer&&) noexcept = default;

    // Resizes the ring, keeping readable and out-of-order bytes. Never goes
    // below what is held (readable() plus the extent of stored OOO data), nor
    // above kMaxCapacity. Shrinking shrinks the window: the TCB must not
    // shrink an advertised window (RFC 9293 section 3.8.6).
    void set_capacity(std::size_t capacity);
    std::size_t capacity() const { return cap_; }
    // Frees the ring if nothing is held (true); the capacity stays.
    bool release();
    bool allocated() const { return buf_ != nullptr; }

    // Empties the buffer (readable and OOO data); the next expected byte is rcv_nxt.
    void reset(SeqNum rcv_nxt);
    SeqNum rcv_nxt() const { return rcv_nxt_; }

    InsertResult insert(SeqNum seq, Bytes data);
    // Same, copying the payload bytes [offset, offset + len) of pkt's chain.
    // Bytes past the end of pkt are ignored (len is clamped).
    InsertResult insert(SeqNum seq, const Packet& pkt, std::size_t offset, std::size_t len);

    std::size_t readable() const { return readable_; }
    // Copies and consumes up to dst.size() in-order bytes; returns the count.
    std::size_t read(MutBytes dst);
    // Copies without consuming.
    std::size_t peek(MutBytes dst) const;
    // Consumes up to n in-order bytes without copying; returns the count.
    std::size_t consume(std::size_t n);
    // Calls f(Bytes) for the one or two ring pieces holding the readable bytes.
    template <class F>
    void for_each_readable(F&& f) const {
        if (readable_ == 0) return;
        std::size_t first = cap_ - read_pos_ < readable_ ? cap_ - read_pos_ : readable_;
        f(Bytes{buf_.get() + read_pos_, first});
        if (first < readable_) f(Bytes{buf_.get(), readable_ - first});
    }

    // capacity() - readable(): the receive window that may be advertised.
    std::size_t window() const { return cap_ - readable_; }

    std::span<const Range> ooo_ranges() const { return {ranges_.data(), ranges_.size()}; }
    std::size_t ooo_bytes() const { return ooo_bytes_; }
    std::size_t max_ooo_ranges() const { return max_ranges_; }
    const RecvStats& stats() const { return stats_; }

private:
    template <class CopyFn>
    InsertResult insert_impl(SeqNum seq, std::size_t len, CopyFn&& copy_from);
    // Ring index of the byte at offset `off` past rcv_nxt.
    std::size_t ring_index(std::size_t off) const;
    void write_ring(std::size_t off, Bytes src);

    std::unique_ptr<std::uint8_t[]> buf_;
    std::size_t cap_ = 0;
    std::size_t read_pos_ = 0;  // ring index of the first readable byte
    std::size_t readable_ = 0;
    SeqNum rcv_nxt_{};
    std::vector<Range> ranges_;  // reserved to max_ranges_ + 1 at construction
    std::size_t max_ranges_ = kDefaultMaxOooRanges;
    std::size_t ooo_bytes_ = 0;
    RecvStats stats_{};
};

}  // namespace uinet::tcp
