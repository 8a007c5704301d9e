// tcp/recv_buffer.cpp — receive ring with in-place out-of-order reassembly
// (contract in recv_buffer.hpp; RFC 9293 section 3.10.7.4).
//
// Offsets: "rel" offsets below count bytes past rcv_nxt_. The byte at rel
// offset o lives at ring index read_pos_ + readable_ + o (mod cap_), which
// stays true as rcv_nxt_ advances (readable_ grows by the same amount) and as
// the reader consumes (read_pos_ moves, readable_ shrinks).
#include "tcp/recv_buffer.hpp"

#include <algorithm>
#include <cstring>

namespace uinet::tcp {

RecvBuffer::RecvBuffer(std::size_t capacity, std::size_t max_ooo_ranges)
    : cap_(std::clamp<std::size_t>(capacity, 1, kMaxCapacity)), max_ranges_(max_ooo_ranges) {
    ranges_.reserve(max_ranges_ + 1);
}

bool RecvBuffer::release() {
    if (readable_ != 0 || !ranges_.empty()) return false;
    buf_.reset();
    read_pos_ = 0;
    return true;
}

void RecvBuffer::set_capacity(std::size_t capacity) {
    std::size_t extent = 0;  // rel offset one past the last stored OOO byte
    if (!ranges_.empty()) extent = static_cast<std::size_t>(ranges_.back().right - rcv_nxt_);
    const std::size_t held = readable_ + extent;
    const std::size_t want = std::clamp<std::size_t>(capacity, std::max<std::size_t>(held, 1), kMaxCapacity);
    if (want == cap_) return;
    if (!buf_) {  // nothing held, nothing allocated yet
        cap_ = want;
        read_pos_ = 0;
        return;
    }
    auto fresh = std::make_unique_for_overwrite<std::uint8_t[]>(want);
    // Linearise readable bytes and the OOO area (holes included) at index 0.
    const std::size_t first = std::min(held, cap_ - read_pos_);
    std::memcpy(fresh.get(), buf_.get() + read_pos_, first);
    if (first < held) std::memcpy(fresh.get() + first, buf_.get(), held - first);
    buf_ = std::move(fresh);
    cap_ = want;
    read_pos_ = 0;
}

void RecvBuffer::reset(SeqNum rcv_nxt) {
    rcv_nxt_ = rcv_nxt;
    read_pos_ = 0;
    readable_ = 0;
    ranges_.clear();
    ooo_bytes_ = 0;
}

std::size_t RecvBuffer::ring_index(std::size_t off) const {
    std::size_t i = read_pos_ + readable_ + off;  // < 2 * cap_
    if (i >= cap_) i -= cap_;
    return i;
}

void RecvBuffer::write_ring(std::size_t off, Bytes src) {
    if (!buf_) buf_ = std::make_unique_for_overwrite<std::uint8_t[]>(cap_);  // first byte: allocate now
    const std::size_t i = ring_index(off);
    const std::size_t first = std::min(src.size(), cap_ - i);
    std::memcpy(buf_.get() + i, src.data(), first);
    if (first < src.size()) std::memcpy(buf_.get(), src.data() + first, src.size() - first);
}

template <class CopyFn>
RecvBuffer::InsertResult RecvBuffer::insert_impl(SeqNum seq, std::size_t len, CopyFn&& copy_from) {
    InsertResult r;
    if (len == 0) return r;

    // Trim what precedes rcv_nxt (already delivered or readable).
    std::int64_t off = seq - rcv_nxt_;
    std::size_t skip = 0;  // source bytes trimmed at the front
    if (off < 0) {
        skip = std::min(len, static_cast<std::size_t>(-off));
        r.duplicate = skip;
        off = 0;
    }
    const std::size_t avail = len - skip;
    const auto s = static_cast<std::size_t>(off);
    const std::size_t win = window();
    std::size_t take = 0;
    if (s < win) take = std::min(avail, win - s);
    r.beyond_window = avail - take;
    stats_.trimmed_bytes += r.beyond_window;
    if (take == 0) {
        stats_.duplicate_bytes += r.duplicate;
        return r;
    }
    const std::size_t e = s + take;

    auto rel = [this](SeqNum x) { return static_cast<std::size_t>(x - rcv_nxt_); };

    // Ranges [i, j) overlap or touch [s, e).
    std::size_t i = 0;
    while (i < ranges_.size() && rel(ranges_[i].right) < s) ++i;
    std::size_t j = i;
    while (j < ranges_.size() && rel(ranges_[j].left) <= e) ++j;

    std::size_t merged_left = s;
    std::size_t merged_right = e;
    if (j > i) {
        merged_left = std::min(s, rel(ranges_[i].left));
        merged_right = std::max(e, rel(ranges_[j - 1].right));
    }
    if (merged_left > 0) {
        const std::size_t count = ranges_.size() - (j - i) + 1;
        if (count > max_ranges_) {
            r.dropped = true;
            stats_.dropped_too_fragmented++;
            stats_.duplicate_bytes += r.duplicate;
            return r;
        }
    }

    // Copy the parts of [s, e) not yet held; count the rest as duplicate.
    std::size_t cursor = s;
    std::size_t dup_inside = 0;
    auto store = [&](std::size_t from, std::size_t to) {
        if (to > from) copy_from(skip + (from - s), to - from, from);
    };
    for (std::size_t k = i; k < j; ++k) {
        const std::size_t l = rel(ranges_[k].left);
        const std::size_t rr = rel(ranges_[k].right);
        store(cursor, std::min(e, l));
        const std::size_t ol = std::max(s, l);
        const std::size_t orr = std::min(e, rr);
        if (orr > ol) dup_inside += orr - ol;
        cursor = std::max(cursor, rr);
    }
    store(cursor, e);
    r.duplicate += dup_inside;
    stats_.duplicate_bytes += r.duplicate;
    const std::size_t fresh = take - dup_inside;
    r.filled_hole = fresh > 0 && !ranges_.empty() && s < rel(ranges_.back().right);

    // Replace ranges [i, j) by the merged range, or deliver it.
    std::size_t absorbed = 0;  // OOO bytes of the replaced ranges
    for (std::size_t k = i; k < j; ++k) absorbed += rel(ranges_[k].right) - rel(ranges_[k].left);
    ranges_.erase(ranges_.begin() + static_cast<std::ptrdiff_t>(i), ranges_.begin() + static_cast<std::ptrdiff_t>(j));
    if (merged_left == 0) {
        // The block at rcv_nxt is complete: it becomes readable (i == 0 here).
        ooo_bytes_ -= absorbed;
        r.in_order = merged_right;
        readable_ += merged_right;
        rcv_nxt_ += static_cast<std::uint32_t>(merged_right);
        stats_.bytes_in_order += merged_right;
    } else {
        const Range m{rcv_nxt_ + static_cast<std::uint32_t>(merged_left),
                      rcv_nxt_ + static_cast<std::uint32_t>(merged_right)};
        ranges_.insert(ranges_.begin() + static_cast<std::ptrdiff_t>(i), m);
        ooo_bytes_ += fresh;
        r.out_of_order = fresh > 0;
        stats_.bytes_ooo += fresh;
    }
    return r;
}

RecvBuffer::InsertResult RecvBuffer::insert(SeqNum seq, Bytes data) {
    return insert_impl(seq, data.size(), [&](std::size_t src_off, std::size_t n, std::size_t rel_off) {
        write_ring(rel_off, data.subspan(src_off, n));
    });
}

RecvBuffer::InsertResult RecvBuffer::insert(SeqNum seq, const Packet& pkt, std::size_t offset, std::size_t len) {
    if (pkt.empty()) return {};
    const std::size_t total = pkt.size();
    if (offset >= total) return {};
    len = std::min(len, total - offset);
    return insert_impl(seq, len, [&](std::size_t src_off, std::size_t n, std::size_t rel_off) {
        // Walk the chain: copy packet bytes [offset + src_off, +n).
        std::size_t want_from = offset + src_off;
        std::size_t pos = 0;  // packet offset of the current buffer
        pkt.for_each_segment([&](Bytes piece) {
            if (n == 0) return;
            const std::size_t piece_end = pos + piece.size();
            if (piece_end > want_from) {
                const std::size_t in = want_from - pos;
                const std::size_t k = std::min(n, piece.size() - in);
                write_ring(rel_off, piece.subspan(in, k));
                rel_off += k;
                want_from += k;
                n -= k;
            }
            pos = piece_end;
        });
    });
}

std::size_t RecvBuffer::peek(MutBytes dst) const {
    const std::size_t n = std::min(dst.size(), readable_);
    if (n == 0) return 0;
    const std::size_t first = std::min(n, cap_ - read_pos_);
    std::memcpy(dst.data(), buf_.get() + read_pos_, first);
    if (first < n) std::memcpy(dst.data() + first, buf_.get(), n - first);
    return n;
}

std::size_t RecvBuffer::consume(std::size_t n) {
    n = std::min(n, readable_);
    read_pos_ += n;
    if (read_pos_ >= cap_) read_pos_ -= cap_;
    readable_ -= n;
    return n;
}

std::size_t RecvBuffer::read(MutBytes dst) {
    return consume(peek(dst));
}

}  // namespace uinet::tcp
