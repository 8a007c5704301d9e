// tcp/rack.cpp — the sent-range log behind RACK (contract in rack.hpp).
#include "tcp/rack.hpp"

#include <algorithm>

namespace uinet::tcp {

void SentLog::grow(std::size_t cap) {
    if (cap <= buf_.size()) return;
    std::vector<Rec> nb(cap);
    for (std::size_t i = 0; i < n_; ++i) nb[i] = at(i);
    buf_.swap(nb);
    head_ = 0;
}

void SentLog::push(Rec r) {
    if (n_ == buf_.size()) {
        // Full: the last record grows to cover the new range (rack.hpp).
        Rec& last = at(n_ - 1);
        last.end = r.end;
        last.xmit = r.xmit;
        last.flags = 0;
        return;
    }
    ++n_;
    at(n_ - 1) = r;
}

void SentLog::append(SeqNum start, SeqNum end, Instant t, std::uint32_t mss) {
    if (mss == 0) mss = 1;
    while (start < end) {
        const std::uint32_t left = static_cast<std::uint32_t>(end - start);
        const SeqNum e = start + std::min(left, mss);
        push(Rec{start, e, t, 0});
        start = e;
    }
}

bool SentLog::split(std::size_t i, SeqNum p) {
    if (n_ == buf_.size()) return false;
    for (std::size_t k = n_; k > i + 1; --k) at(k) = at(k - 1);
    ++n_;
    at(i + 1) = at(i);
    at(i).end = p;
    at(i + 1).start = p;
    return true;
}

void SentLog::retransmit(SeqNum start, SeqNum end, Instant t) {
    for (std::size_t i = 0; i < n_; ++i) {
        Rec& r = at(i);
        if (r.end <= start) continue;
        if (r.start >= end) break;
        if (r.end > end && r.start < end) split(i, end);
        Rec& s = at(i);
        s.xmit = t;
        s.flags = static_cast<std::uint8_t>((s.flags | kRexmit) & ~kLost);
    }
}

void SentLog::trim(SeqNum una) {
    while (n_ > 0 && at(0).end <= una) {
        head_ = (head_ + 1) % buf_.size();
        --n_;
    }
    if (n_ > 0 && at(0).start < una) at(0).start = una;
}

}  // namespace uinet::tcp
