// tcp/passive_buffer.cpp — reassembly of one observed direction (see the header).
#include "tcp/passive_buffer.hpp"

#include <algorithm>
#include <cstring>

namespace uinet::tcp {

PassiveBuffer::PassiveBuffer(MemoryBudget& budget, std::size_t window, std::size_t capacity, std::size_t max_ranges)
    : budget_(budget), max_ranges_(max_ranges == 0 ? 1 : max_ranges) {
    set_limits(window, capacity);
}

PassiveBuffer::~PassiveBuffer() { release(); }

void PassiveBuffer::release() {
    if (buf_) budget_.used -= cap_;
    buf_.reset();
    cap_ = 0;
    rpos_ = 0;
    ranges_.clear();
    holes_.clear();
    head_ = nxt_;
    keep_ = nxt_;
    nxt_ring_ = 0;
}

void PassiveBuffer::set_retain(bool on) {
    retain_ = on;
    if (!on) keep_ = head_;
}

void PassiveBuffer::release_to(std::uint64_t upto) {
    keep_ = std::max(keep_, std::min(upto, head_));
}

bool PassiveBuffer::copy_range(std::uint64_t from, MutBytes dst) const {
    const std::uint64_t end = from + dst.size();
    if (from < keep_ || end > nxt_) return false;
    if (!holes_.empty()) return false;  // then ring bytes and stream bytes correspond one to one
    if (dst.empty()) return true;
    if (cap_ == 0) return false;
    // Ring index of `from`: rpos_ holds head_, the retained span lies before it.
    std::size_t i;
    if (from >= head_) {
        i = static_cast<std::size_t>((rpos_ + (from - head_)) % cap_);
    } else {
        i = static_cast<std::size_t>((rpos_ + cap_ - (head_ - from) % cap_) % cap_);
    }
    const std::size_t first = std::min(dst.size(), cap_ - i);
    std::memcpy(dst.data(), buf_.get() + i, first);
    if (first < dst.size()) std::memcpy(dst.data() + first, buf_.get(), dst.size() - first);
    return true;
}

bool PassiveBuffer::ensure(std::uint64_t ring_end_in) {
    // The retained span (bytes read but kept) sits just before the reader.
    const std::uint64_t kept = head_ - keep_;
    const std::uint64_t ring_end = ring_end_in + kept;
    if (ring_end <= cap_) return true;
    std::size_t ncap = cap_ == 0 ? kInitialRing : cap_;
    while (ncap < ring_end) ncap *= 2;
    ncap = std::min(ncap, std::max<std::size_t>(capacity_ + static_cast<std::size_t>(kept),
                                                static_cast<std::size_t>(ring_end)));
    if (budget_.used - cap_ + ncap > budget_.max) {
        ++budget_.refused;
        return false;
    }
    auto nbuf = std::make_unique_for_overwrite<std::uint8_t[]>(ncap);
    // Everything held lies in ring offsets [-kept, extent): retained bytes,
    // readable bytes, holes that keep their place, and the span of stored
    // out-of-order bytes.
    const std::uint64_t extent = ranges_.empty() ? nxt_ring_ : ring_of(ranges_.back().right);
    if (extent + kept > 0 && cap_ > 0) {
        const std::size_t n = static_cast<std::size_t>(extent + kept);
        const std::size_t i = static_cast<std::size_t>((rpos_ + cap_ - kept % cap_) % cap_);
        const std::size_t first = std::min(n, cap_ - i);
        std::memcpy(nbuf.get(), buf_.get() + i, first);
        if (first < n) std::memcpy(nbuf.get() + first, buf_.get(), n - first);
    }
    budget_.used += ncap - cap_;
    buf_ = std::move(nbuf);
    cap_ = ncap;
    rpos_ = static_cast<std::size_t>(kept);
    return true;
}

void PassiveBuffer::write(std::uint64_t r, Bytes src) {
    std::size_t i = static_cast<std::size_t>((rpos_ + r) % cap_);
    const std::size_t first = std::min(src.size(), cap_ - i);
    std::memcpy(buf_.get() + i, src.data(), first);
    if (first < src.size()) std::memcpy(buf_.get(), src.data() + first, src.size() - first);
}

void PassiveBuffer::copy_out(std::uint64_t r, MutBytes dst) const {
    std::size_t i = static_cast<std::size_t>((rpos_ + r) % cap_);
    const std::size_t first = std::min(dst.size(), cap_ - i);
    std::memcpy(dst.data(), buf_.get() + i, first);
    if (first < dst.size()) std::memcpy(dst.data() + first, buf_.get(), dst.size() - first);
}

std::size_t PassiveBuffer::compare(std::uint64_t r, Bytes src) const {
    std::size_t diff = 0;
    std::size_t done = 0;
    while (done < src.size()) {
        const std::size_t i = static_cast<std::size_t>((rpos_ + r + done) % cap_);
        const std::size_t n = std::min(src.size() - done, cap_ - i);
        const std::uint8_t* a = buf_.get() + i;
        const std::uint8_t* b = src.data() + done;
        if (std::memcmp(a, b, n) != 0)
            for (std::size_t k = 0; k < n; ++k) diff += a[k] != b[k] ? 1 : 0;
        done += n;
    }
    return diff;
}

void PassiveBuffer::add_hole(std::uint64_t offset, std::uint64_t len, std::uint64_t ring) {
    if (len == 0) return;
    hole_bytes_ += len;
    if (!holes_.empty() && holes_.back().offset + holes_.back().len == offset) {
        holes_.back().len += len;
        holes_.back().ring += ring;
        return;
    }
    holes_.push_back(PassiveHole{offset, len, ring});
    ++holes_made_;
}

void PassiveBuffer::advance_in_order() {
    while (!ranges_.empty() && ranges_.front().left <= nxt_) {
        const Range& r = ranges_.front();
        if (r.right > nxt_) {
            nxt_ring_ += r.right - nxt_;
            nxt_ = r.right;
        }
        ranges_.erase(ranges_.begin());
    }
}

void PassiveBuffer::check_in_order(std::uint64_t o, Bytes data, PassiveInsert& res) const {
    // Walk the readable region: data runs separated by holes.
    const std::uint64_t end = o + data.size();
    std::uint64_t s = head_, r = 0;
    auto data_run = [&](std::uint64_t from, std::uint64_t to, std::uint64_t ring_from) {
        const std::uint64_t a = std::max(from, o), b = std::min(to, end);
        if (a >= b) return;
        res.inconsistent += compare(ring_from + (a - from), data.subspan(a - o, b - a));
        res.duplicate += b - a;
    };
    for (const PassiveHole& h : holes_) {
        if (s >= end) return;
        data_run(s, h.offset, r);
        r += h.offset - s;
        const std::uint64_t a = std::max(h.offset, o), b = std::min(h.offset + h.len, end);
        if (a < b) res.late += b - a;
        r += h.ring;
        s = h.offset + h.len;
    }
    data_run(s, nxt_, r);
}

PassiveInsert PassiveBuffer::insert(std::uint64_t o, Bytes data, Instant t) {
    PassiveInsert res;
    if (data.empty()) return res;
    if (o < head_) {
        const std::uint64_t k = std::min<std::uint64_t>(head_ - o, data.size());
        res.duplicate += k;
        data = data.subspan(k);
        o += k;
    }
    if (!data.empty() && o < nxt_) {
        const std::uint64_t k = std::min<std::uint64_t>(nxt_ - o, data.size());
        check_in_order(o, data.first(k), res);
        data = data.subspan(k);
        o += k;
    }
    if (data.empty()) return res;
    // The window (from nxt_), then the capacity (ring bytes from the reader).
    if (o - nxt_ >= window_) {
        res.beyond_window += data.size();
        return res;
    }
    if (o - nxt_ + data.size() > window_) {
        const std::size_t keep = static_cast<std::size_t>(window_ - (o - nxt_));
        res.beyond_window += data.size() - keep;
        data = data.first(keep);
    }
    const std::uint64_t r0 = ring_of(o);
    if (r0 >= capacity_) {
        res.overrun += data.size();
        return res;
    }
    if (r0 + data.size() > capacity_) {
        const std::size_t keep = static_cast<std::size_t>(capacity_ - r0);
        res.overrun += data.size() - keep;
        data = data.first(keep);
    }
    const std::uint64_t a = o, b = o + data.size();
    // Which stored ranges does [a, b) touch (overlap or adjoin)?
    std::size_t i = 0;
    while (i < ranges_.size() && ranges_[i].right < a) ++i;
    std::size_t j = i;
    while (j < ranges_.size() && ranges_[j].left <= b) ++j;  // touched: [i, j)
    if (i == j && a != nxt_ && ranges_.size() >= max_ranges_) {
        // One range too many: the oldest gap becomes a hole, then retry.
        skip_first_gap();
        ++res.forced_holes;
        PassiveInsert again = insert(o, data, t);
        again.duplicate += res.duplicate;
        again.late += res.late;
        again.inconsistent += res.inconsistent;
        again.beyond_window += res.beyond_window;
        again.overrun += res.overrun;
        again.forced_holes += res.forced_holes;
        return again;
    }
    if (!ensure(ring_of(b))) {
        res.overrun += data.size();
        return res;
    }
    // Compare with what is held, store the rest.
    std::uint64_t pos = a;
    for (std::size_t k = i; k < j; ++k) {
        const Range& rg = ranges_[k];
        if (pos < rg.left) {
            const std::uint64_t e = std::min(b, rg.left);
            write(ring_of(pos), data.subspan(pos - a, e - pos));
            res.stored += e - pos;
            pos = e;
        }
        const std::uint64_t oa = std::max(pos, rg.left), ob = std::min(b, rg.right);
        if (oa < ob) {
            res.inconsistent += compare(ring_of(oa), data.subspan(oa - a, ob - oa));
            res.duplicate += ob - oa;
        }
        pos = std::max(pos, rg.right);
    }
    if (pos < b) {
        write(ring_of(pos), data.subspan(pos - a, b - pos));
        res.stored += b - pos;
    }
    if (i == j) {
        ranges_.insert(ranges_.begin() + static_cast<std::ptrdiff_t>(i), Range{a, b, t});
    } else {
        Range merged{std::min(a, ranges_[i].left), std::max(b, ranges_[j - 1].right), t};
        for (std::size_t k = i; k < j; ++k) merged.since = std::min(merged.since, ranges_[k].since);
        ranges_[i] = merged;
        ranges_.erase(ranges_.begin() + static_cast<std::ptrdiff_t>(i + 1), ranges_.begin() + static_cast<std::ptrdiff_t>(j));
    }
    advance_in_order();
    return res;
}

void PassiveBuffer::skip_first_gap() {
    if (ranges_.empty()) return;
    const std::uint64_t len = ranges_.front().left - nxt_;
    add_hole(nxt_, len, len);
    nxt_ring_ += len;
    nxt_ = ranges_.front().left;
    advance_in_order();
}

void PassiveBuffer::skip_to(std::uint64_t upto) {
    while (nxt_ < upto) {
        if (!ranges_.empty() && ranges_.front().left <= upto) {
            skip_first_gap();
            continue;
        }
        // Nothing stored before `upto`: a tail hole. It keeps ring space only
        // if stored bytes lie beyond it (their places are fixed).
        const std::uint64_t len = upto - nxt_;
        const std::uint64_t ring = ranges_.empty() ? 0 : len;
        add_hole(nxt_, len, ring);
        nxt_ring_ += ring;
        nxt_ = upto;
    }
}

void PassiveBuffer::flush() {
    while (!ranges_.empty()) skip_first_gap();
}

Instant PassiveBuffer::gap_since() const {
    Instant t = Instant::never();
    for (const Range& r : ranges_) t = std::min(t, r.since);
    return t;
}

std::size_t PassiveBuffer::readable() const {
    const std::uint64_t until = holes_.empty() ? nxt_ : holes_.front().offset;
    return static_cast<std::size_t>(until - head_);
}

PassiveRead PassiveBuffer::read(MutBytes dst, bool stop_at_hole) {
    PassiveRead out;
    while (head_ < nxt_) {
        if (!holes_.empty() && holes_.front().offset == head_) {
            if (stop_at_hole && out.bytes > 0) break;
            const PassiveHole h = holes_.front();
            holes_.pop_front();
            head_ += h.len;
            if (cap_ > 0) rpos_ = static_cast<std::size_t>((rpos_ + h.ring) % cap_);
            nxt_ring_ -= h.ring;
            keep_ = head_;  // a retained span never spans a hole
            if (stop_at_hole) {
                out.hole_len = h.len;
                out.hole_offset = h.offset;
                return out;
            }
            continue;
        }
        const std::uint64_t until = holes_.empty() ? nxt_ : holes_.front().offset;
        const std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(until - head_, dst.size() - out.bytes));
        if (k == 0) break;
        copy_out(0, dst.subspan(out.bytes, k));
        rpos_ = (rpos_ + k) % cap_;
        head_ += k;
        nxt_ring_ -= k;
        out.bytes += k;
    }
    if (!retain_) keep_ = head_;
    return out;
}

}  // namespace uinet::tcp
