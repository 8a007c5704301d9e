// tcp/send_buffer.cpp — the send side's sequence-indexed ring (contract in
// send_buffer.hpp).
#include "tcp/send_buffer.hpp"

#include <algorithm>
#include <cstring>

namespace uinet::tcp {

SendBuffer::SendBuffer(std::size_t capacity) { cap_ = std::min(capacity, kMaxCapacity); }

bool SendBuffer::release() {
    if (size_ != 0) return false;
    buf_.reset();
    start_ = 0;
    return true;
}

void SendBuffer::set_capacity(std::size_t capacity) {
    const std::size_t want = std::clamp(capacity, size_, kMaxCapacity);
    if (want == cap_) return;
    if (!buf_) {  // nothing held, nothing allocated yet
        cap_ = want;
        start_ = 0;
        return;
    }
    std::unique_ptr<std::uint8_t[]> fresh;
    if (want > 0) fresh = std::make_unique_for_overwrite<std::uint8_t[]>(want);
    // Linearise the held bytes at the start of the new ring.
    std::size_t done = 0;
    for_each_span(head_seq_, size_, [&](Bytes piece) {
        std::memcpy(fresh.get() + done, piece.data(), piece.size());
        done += piece.size();
    });
    buf_ = std::move(fresh);
    cap_ = want;
    start_ = 0;
}

void SendBuffer::reset(SeqNum first_seq) {
    start_ = 0;
    size_ = 0;
    head_seq_ = first_seq;
}

std::size_t SendBuffer::append(Bytes data) {
    const std::size_t n = std::min(data.size(), free_space());
    if (n == 0) return 0;
    if (!buf_) buf_ = std::make_unique_for_overwrite<std::uint8_t[]>(cap_);  // first byte: allocate now
    std::size_t tail = start_ + size_;
    if (tail >= cap_) tail -= cap_;
    const std::size_t first = std::min(n, cap_ - tail);
    std::memcpy(buf_.get() + tail, data.data(), first);
    if (first < n) std::memcpy(buf_.get(), data.data() + first, n - first);
    size_ += n;
    return n;
}

std::size_t SendBuffer::bytes_from(SeqNum seq) const {
    const std::int64_t off = seq - head_seq_;
    if (off < 0 || static_cast<std::size_t>(off) > size_) return 0;
    return size_ - static_cast<std::size_t>(off);
}

bool SendBuffer::locate(SeqNum seq, std::size_t len, std::size_t& pos) const {
    const std::int64_t off = seq - head_seq_;
    if (off < 0) return false;
    const auto uoff = static_cast<std::size_t>(off);
    if (uoff > size_ || len > size_ - uoff) return false;
    pos = start_ + uoff;
    if (pos >= cap_) pos -= cap_;
    return true;
}

bool SendBuffer::copy(SeqNum seq, MutBytes dst) const {
    std::size_t done = 0;
    return for_each_span(seq, dst.size(), [&](Bytes piece) {
        std::memcpy(dst.data() + done, piece.data(), piece.size());
        done += piece.size();
    });
}

bool SendBuffer::append_to(Packet& pkt, SeqNum seq, std::size_t len) const {
    if (pkt.empty()) return false;
    std::size_t pos = 0;
    if (!locate(seq, len, pos)) return false;
    bool ok = true;
    for_each_span(seq, len, [&](Bytes piece) {
        if (ok) ok = pkt.append(piece);
    });
    return ok;
}

std::size_t SendBuffer::ack(SeqNum upto) {
    const std::int64_t off = upto - head_seq_;
    if (off <= 0) return 0;
    const std::size_t n = std::min(static_cast<std::size_t>(off), size_);
    size_ -= n;
    start_ += n;
    if (start_ >= cap_) start_ -= cap_;
    if (size_ == 0) start_ = 0;
    head_seq_ += static_cast<std::uint32_t>(n);
    return n;
}

}  // namespace uinet::tcp
