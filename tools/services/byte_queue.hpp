// tools/services/byte_queue.hpp — a FIFO of bytes for the services' small buffers.
//
// Contract: append() at the back, peek()/consume() at the front. Storage is
// one vector whose consumed prefix is reclaimed when it outgrows the live
// part, so each byte is moved at most a constant number of times on
// average. The queue does not bound itself: callers check size() against
// their own limits before appending.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "base/bytes.hpp"

namespace uinet::services {

class ByteQueue {
public:
    std::size_t size() const { return buf_.size() - head_; }
    bool empty() const { return size() == 0; }
    Bytes peek() const { return Bytes(buf_.data() + head_, size()); }

    void append(Bytes b) {
        if (b.empty()) return;
        if (head_ > 0 && head_ >= size()) compact();
        buf_.insert(buf_.end(), b.begin(), b.end());
    }
    void append(std::string_view s) {
        append(Bytes(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
    }
    void consume(std::size_t n) {
        head_ += std::min(n, size());
        if (head_ == buf_.size()) clear();
    }
    // Copies up to out.size() bytes to out and consumes them.
    std::size_t pop_into(MutBytes out) {
        const std::size_t n = std::min(out.size(), size());
        if (n > 0) std::memcpy(out.data(), buf_.data() + head_, n);
        consume(n);
        return n;
    }
    void clear() {
        buf_.clear();
        head_ = 0;
    }

private:
    void compact() {
        buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(head_));
        head_ = 0;
    }

    std::vector<std::uint8_t> buf_;
    std::size_t head_ = 0;
};

}  // namespace uinet::services
