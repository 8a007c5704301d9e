// net/ipv4_reassembly.cpp — fragment bookkeeping (see the header's contract).
#include "net/ipv4_reassembly.hpp"

#include <algorithm>
#include <cstring>

namespace uinet::net {

void Ipv4Reassembler::discard(std::size_t index) {
    bytes_ -= dgrams_[index].bytes;
    dgrams_.erase(dgrams_.begin() + static_cast<std::ptrdiff_t>(index));
}

std::optional<ReassemblyDone> Ipv4Reassembler::add(Instant now, const FragKey& key, std::uint16_t offset,
                                                   bool more_fragments, Packet payload, Bytes ip_header) {
    ++stats_.fragments_in;
    const std::uint32_t len = static_cast<std::uint32_t>(payload.size());
    const std::uint32_t begin = offset;
    const std::uint32_t end = begin + len;
    if ((more_fragments && (len == 0 || len % 8 != 0))) {
        ++stats_.dropped_invalid;
        return std::nullopt;
    }
    if (end > 65535 - 20) {
        ++stats_.dropped_too_big;
        return std::nullopt;
    }
    auto it = std::find_if(dgrams_.begin(), dgrams_.end(), [&](const Datagram& d) { return d.key == key; });
    if (it == dgrams_.end()) {
        if (dgrams_.size() >= cfg_.max_datagrams || bytes_ + len > cfg_.max_bytes) {
            ++stats_.dropped_limits;
            return std::nullopt;
        }
        dgrams_.emplace_back();
        it = dgrams_.end() - 1;
        it->key = key;
        it->deadline = now + cfg_.timeout;
    }
    const std::size_t index = static_cast<std::size_t>(it - dgrams_.begin());
    Datagram& d = *it;
    if (bytes_ + len > cfg_.max_bytes || d.pieces.size() >= cfg_.max_fragments_per_datagram) {
        ++stats_.dropped_limits;
        if (d.pieces.empty()) discard(index);
        return std::nullopt;
    }
    // The last fragment fixes the total; everything must agree with it.
    if (!more_fragments) {
        if ((d.total >= 0 && d.total != end) || (!d.pieces.empty() && d.pieces.back().end > end)) {
            ++stats_.dropped_invalid;
            discard(index);
            return std::nullopt;
        }
        d.total = end;
    } else if (d.total >= 0 && end > d.total) {
        ++stats_.dropped_invalid;
        discard(index);
        return std::nullopt;
    }
    // Find the insertion point and check both neighbours for overlap.
    auto pos = std::lower_bound(d.pieces.begin(), d.pieces.end(), begin,
                                [](const Piece& p, std::uint32_t b) { return p.begin < b; });
    auto overlaps = [&](const Piece& p) { return p.begin < end && begin < p.end; };
    bool dup = pos != d.pieces.end() && pos->begin == begin && pos->end == end;
    if (dup) {
        ++stats_.duplicates;
        return std::nullopt;
    }
    if ((pos != d.pieces.end() && overlaps(*pos)) || (pos != d.pieces.begin() && overlaps(*(pos - 1)))) {
        ++stats_.dropped_overlap;
        discard(index);
        return std::nullopt;
    }
    if (begin == 0) {
        d.header_len = std::min(ip_header.size(), d.header.size());
        std::memcpy(d.header.data(), ip_header.data(), d.header_len);
    }
    d.pieces.insert(pos, Piece{begin, end, std::move(payload)});
    d.bytes += len;
    bytes_ += len;

    if (d.total < 0 || d.pieces.front().begin != 0) return std::nullopt;
    std::uint32_t covered = 0;
    for (const Piece& p : d.pieces) {
        if (p.begin != covered) return std::nullopt;
        covered = p.end;
    }
    if (covered != d.total) return std::nullopt;

    ReassemblyDone done;
    done.key = d.key;
    done.payload = std::move(d.pieces.front().data);
    for (std::size_t i = 1; i < d.pieces.size(); ++i)
        if (d.pieces[i].end > d.pieces[i].begin) done.payload.append_chain(std::move(d.pieces[i].data));
    ++stats_.datagrams_done;
    discard(index);
    return done;
}

Instant Ipv4Reassembler::next_deadline() const {
    Instant t = Instant::never();
    for (const Datagram& d : dgrams_) t = earliest(t, d.deadline);
    return t;
}

}  // namespace uinet::net
