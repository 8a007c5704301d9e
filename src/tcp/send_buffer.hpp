// tcp/send_buffer.hpp — the send side's byte stream, indexed by sequence number.
//
// Contract (DESIGN.md principle 8):
//  * A ring of `capacity()` bytes, allocated (not zero-filled) when the
//    first byte is appended, never per segment; release() gives the memory
//    back while nothing is held (a connection in TIME-WAIT keeps no buffer),
//    and the next append allocates again. It holds the bytes
//    [head_seq(), end_seq()): everything written by the application and not
//    yet acknowledged, sent or not. Which of them were sent is the TCB's
//    business (snd_una/snd_nxt); any held range can be read again, so a
//    segment can be rebuilt at any size for retransmission, SACK recovery, a
//    tail-loss probe or a new path MTU.
//  * reset(first_seq) empties the buffer; the first byte appended afterwards
//    has sequence number first_seq (ISS + 1 on a fresh connection, since the
//    SYN takes one number; RFC 9293 section 3.4).
//  * append() takes what fits (up to free_space()) and returns the count.
//  * ack(upto) drops every byte before `upto`, clamped to what is held: a
//    cumulative ACK that also covers the FIN (one past end_seq()) drops all
//    data and leaves head_seq() == end_seq(). Old ACKs drop nothing.
//  * copy()/append_to()/for_each_span() read without consuming and fail
//    (false, nothing read) when the range is not entirely held.
//  * Capacity is at most kMaxCapacity (2^30, the largest window a scaled TCP
//    window can express, RFC 7323 section 2.3), so every held byte is within
//    2^31 of every other and SeqNum comparisons stay meaningful.
//  * Sequence numbers given from far outside the held range (more than 2^31
//    away) compare as the modulo arithmetic says; callers pass numbers from
//    the live window.
//  * No exceptions; the only allocations are the ring's (first append after
//    construction or release(), and set_capacity()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "base/bytes.hpp"
#include "base/seq.hpp"
#include "buf/packet.hpp"

namespace uinet::tcp {

class SendBuffer {
public:
    static constexpr std::size_t kMaxCapacity = std::size_t{1} << 30;

    explicit SendBuffer(std::size_t capacity = 256 * 1024);
    SendBuffer(const SendBuffer&) = delete;
    SendBuffer& operator=(const SendBuffer&) = delete;
    SendBuffer(SendBuffer&&) noexcept = default;
    SendBuffer& operator=(SendBuffer&&) noexcept = default;

    // Resizes the ring (clamped to [size(), kMaxCapacity]); held bytes and
    // their sequence numbers are kept. Allocates when the size changes.
    void set_capacity(std::size_t capacity);
    std::size_t capacity() const { return cap_; }
    // Frees the ring if nothing is held (true); the capacity stays.
    bool release();
    bool allocated() const { return buf_ != nullptr; }

    // Empties the buffer; the next appended byte will carry first_seq.
    void reset(SeqNum first_seq);

    // Appends up to free_space() bytes of data; returns how many were taken.
    std::size_t append(Bytes data);

    std::size_t size() const { return size_; }
    std::size_t free_space() const { return cap_ - size_; }
    bool empty() const { return size_ == 0; }
    // Sequence number of the oldest byte held (snd_una once data is acked).
    SeqNum head_seq() const { return head_seq_; }
    // One past the newest byte held: head_seq() + size().
    SeqNum end_seq() const { return head_seq_ + static_cast<std::uint32_t>(size_); }
    // Bytes held from seq to end_seq() (0 if seq is outside [head, end]).
    std::size_t bytes_from(SeqNum seq) const;

    // Copies bytes [seq, seq + dst.size()) into dst; false if not all held.
    bool copy(SeqNum seq, MutBytes dst) const;
    // Appends bytes [seq, seq + len) to pkt with Packet::append. False if the
    // range is not held (pkt untouched) or the pool ran dry (pkt then holds
    // part of the range: the caller drops it).
    bool append_to(Packet& pkt, SeqNum seq, std::size_t len) const;
    // Calls f(Bytes) for the one or two contiguous pieces of ring memory that
    // hold [seq, seq + len), in order (for checksumming or zero-copy). False
    // (f not called) if the range is not held. Spans are valid until the next
    // append, ack, reset or set_capacity.
    template <class F>
    bool for_each_span(SeqNum seq, std::size_t len, F&& f) const {
        std::size_t pos = 0;
        if (!locate(seq, len, pos)) return false;
        if (len == 0) return true;
        std::size_t first = cap_ - pos < len ? cap_ - pos : len;
        f(Bytes{buf_.get() + pos, first});
        if (first < len) f(Bytes{buf_.get(), len - first});
        return true;
    }

    // Drops the bytes before `upto` (clamped to what is held); returns how
    // many were dropped.
    std::size_t ack(SeqNum upto);

private:
    // Ring index of seq if [seq, seq+len) is held.
    bool locate(SeqNum seq, std::size_t len, std::size_t& pos) const;

    std::unique_ptr<std::uint8_t[]> buf_;
    std::size_t cap_ = 0;
    std::size_t start_ = 0;  // ring index of head_seq_
    std::size_t size_ = 0;
    SeqNum head_seq_{};
};

}  // namespace uinet::tcp
