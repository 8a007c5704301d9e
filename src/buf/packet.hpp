// buf/packet.hpp — pooled packet buffers with headroom, chains and sharing.
//
// Contract:
//  * A Pool owns a fixed number of equally sized buffers, allocated once at
//    construction. alloc() never touches the heap; when the pool is empty it
//    returns an empty Packet and counts the failure (DESIGN.md principle 8).
//  * A Packet is a move-only owning handle on a chain of PacketBufs. The
//    first buffer carries the offload metadata. Dropping the handle returns
//    every buffer of the chain to its pool.
//  * share() makes another handle on the same chain (refcount on the head);
//    a shared chain is read-only: writers must check unique() first.
//  * Each buffer has headroom so lower layers can push() their headers in
//    front without copying.
//  * Pools and Packets belong to one thread (the stack's); they are not
//    thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/bytes.hpp"
#include "base/time.hpp"

namespace uinet {

class Pool;

// Per-packet offload metadata, set by drivers on receive and by the stack on
// transmit (DESIGN.md principle 7).
struct OffloadMeta {
    bool rx_csum_verified = false;  // rx: the device verified IP/L4 checksums
    bool tx_csum_partial = false;   // tx: device must finish the L4 checksum
    std::uint16_t csum_start = 0;   // tx: offset where checksumming starts
    std::uint16_t csum_offset = 0;  // tx: where the result goes, from csum_start
    std::uint16_t tso_mss = 0;      // tx: segment payloads to this size (0 = none)
    Instant rx_time{};              // rx: when the frame was received
    std::uint32_t ifindex = 0;      // rx: interface that received the frame
};

class PacketBuf {
public:
    PacketBuf(const PacketBuf&) = delete;
    PacketBuf& operator=(const PacketBuf&) = delete;

    std::uint8_t* data() { return storage_ + head_; }
    const std::uint8_t* data() const { return storage_ + head_; }
    std::size_t size() const { return len_; }
    Bytes bytes() const { return {data(), len_}; }
    MutBytes mut_bytes() { return {data(), len_}; }
    std::size_t headroom() const { return head_; }
    std::size_t tailroom() const { return cap_ - head_ - len_; }
    std::size_t capacity() const { return cap_; }

    // Prepends n bytes; returns their start, or nullptr if headroom is short.
    std::uint8_t* push(std::size_t n);
    // Removes n bytes from the front; false if fewer are present.
    bool pull(std::size_t n);
    // Appends n bytes; returns their start, or nullptr if tailroom is short.
    std::uint8_t* put(std::size_t n);
    // Shortens to len bytes; false if len > size().
    bool trim(std::size_t len);
    // Empties the buffer and restores headroom h (clamped to capacity).
    void reset(std::size_t h);

    PacketBuf* next() const { return next_; }

private:
    friend class Pool;
    friend class Packet;
    PacketBuf() = default;
    Pool* pool_ = nullptr;
    std::uint8_t* storage_ = nullptr;
    PacketBuf* next_ = nullptr;
    std::uint32_t cap_ = 0;
    std::uint32_t head_ = 0;
    std::uint32_t len_ = 0;
    std::uint32_t refs_ = 0;
    OffloadMeta meta_{};
};

class Packet {
public:
    Packet() = default;
    Packet(Packet&& o) noexcept : head_(o.head_) { o.head_ = nullptr; }
    Packet& operator=(Packet&& o) noexcept;
    Packet(const Packet&) = delete;
    Packet& operator=(const Packet&) = delete;
    ~Packet() { release(); }

    explicit operator bool() const { return head_ != nullptr; }
    bool empty() const { return head_ == nullptr; }

    // First buffer of the chain (must not be empty()).
    PacketBuf& front() { return *head_; }
    const PacketBuf& front() const { return *head_; }
    OffloadMeta& meta() { return head_->meta_; }
    const OffloadMeta& meta() const { return head_->meta_; }
    Pool& pool() const { return *head_->pool_; }

    // Total bytes over the whole chain.
    std::size_t size() const;
    bool is_chain() const { return head_ && head_->next_; }
    bool unique() const { return head_ && head_->refs_ == 1; }

    // Another handle on the same chain (read-only while shared).
    Packet share() const;
    // Appends another packet's chain after this one's (both must be unique).
    void append_chain(Packet&& tail);
    // Copies bytes [off, off+len) of the chain into dst; false if out of range.
    bool copy_out(std::size_t off, MutBytes dst) const;
    // Appends bytes, filling tailroom and then extending the chain with
    // buffers from this packet's pool. False (and counted by the pool) if
    // the pool runs dry; the packet is then left partly written.
    bool append(Bytes src);
    // Appends a copy of every byte of another packet's chain (one walk of
    // each chain); false as append() if the pool runs dry.
    bool append(const Packet& src);
    // Removes n bytes from the front of the chain, across buffers.
    bool pull(std::size_t n);
    // Shortens the chain to len bytes (drops trailing buffers).
    bool trim(std::size_t len);

    // Iteration over the chain's buffers.
    template <class F>
    void for_each_segment(F&& f) const {
        for (const PacketBuf* b = head_; b; b = b->next_) f(b->bytes());
    }

    void reset() { release(); }

private:
    friend class Pool;
    explicit Packet(PacketBuf* h) : head_(h) {}
    void release();
    PacketBuf* head_ = nullptr;
};

struct PoolConfig {
    std::size_t count = 4096;     // buffers in the pool
    std::size_t buf_size = 2048;  // bytes per buffer, headroom included
    std::size_t headroom = 128;   // default headroom after alloc()
};

struct PoolStats {
    std::uint64_t allocs = 0;
    std::uint64_t alloc_failures = 0;  // pool exhausted
    std::uint64_t frees = 0;
    std::size_t in_use = 0;
    std::size_t capacity = 0;
};

class Pool {
public:
    explicit Pool(const PoolConfig& cfg = {});
    ~Pool();
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    // A unique one-buffer packet with default headroom, or empty if exhausted.
    Packet alloc();
    // Same, with a chosen headroom.
    Packet alloc(std::size_t headroom);
    // A unique packet holding a copy of src (chained if longer than a buffer).
    Packet copy_of(Bytes src, std::size_t headroom);

    const PoolStats& stats() const { return stats_; }
    const PoolConfig& config() const { return cfg_; }
    std::size_t available() const { return free_.size(); }

private:
    friend class Packet;
    PacketBuf* take(std::size_t headroom);
    void give_back(PacketBuf* b);

    PoolConfig cfg_;
    std::unique_ptr<std::uint8_t[]> memory_;
    std::unique_ptr<PacketBuf[]> bufs_;
    std::vector<PacketBuf*> free_;
    PoolStats stats_{};
};

}  // namespace uinet
