// net/ipv4_reassembly.cpp — IPv4 fragment reassembly; the contract is in
// the header. Fragments of a datagram are kept sorted by offset and never
// overlap, so "complete" is simply "the last fragment came and the bytes
// held add up to its end" (no hole list needed, cf. RFC 815).
#include "net/ipv4_reassembly.hpp"

#include <algorithm>
#include <cstring>
#include <iterator>

namespace uinet::net {

namespace {

// Largest IP payload a datagram can carry: total length is 16 bits and the
// header is at least 20 bytes (RFC 791 section 3.1).
constexpr std::uint32_t kMaxPayload = 65535 - 20;
constexpr std::size_t kMaxHeader = 60;

std::uint64_t mix64(std::uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

// Buffer memory a packet pins: the capacity of every buffer of its chain.
std::size_t buffer_bytes(const Packet& p) {
    std::size_t n = 0;
    for (const PacketBuf* b = &p.front(); b; b = b->next()) n += b->capacity();
    return n;
}

// A unique copy of a (shared) packet, from the same pool; empty if the pool
// runs dry.
Packet private_copy(const Packet& p) {
    Packet c = p.pool().alloc(0);
    if (!c) return c;
    bool ok = true;
    p.for_each_segment([&](Bytes seg) {
        if (ok && !seg.empty()) ok = c.append(seg);
    });
    if (!ok) c.reset();
    return c;
}

Ipv4HeaderCopy copy_header(Bytes h) {
    Ipv4HeaderCopy c;
    c.len = static_cast<std::uint8_t>(std::min(h.size(), kMaxHeader));
    if (c.len) std::memcpy(c.buf.data(), h.data(), c.len);
    return c;
}

}  // namespace

Ipv4Reassembler::Ipv4Reassembler(ReassemblyConfig cfg) : cfg_(cfg) {
    slots_.resize(cfg_.max_datagrams);
    free_.reserve(cfg_.max_datagrams);
    for (std::size_t i = cfg_.max_datagrams; i-- > 0;) free_.push_back(static_cast<std::uint32_t>(i));
    std::size_t cap = 2;
    while (cap < 2 * cfg_.max_datagrams) cap *= 2;
    index_.assign(cap, kNone);
    mask_ = cap - 1;
}

std::uint64_t Ipv4Reassembler::hash_of(const FragKey& k) const {
    std::uint64_t a = (std::uint64_t{k.src.value()} << 32) | k.dst.value();
    std::uint64_t b = (std::uint64_t{k.ident} << 8) | k.protocol;
    return mix64(mix64(a ^ cfg_.hash_seed) ^ b);
}

std::uint32_t Ipv4Reassembler::find(const FragKey& k, std::uint64_t h) const {
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
        std::uint32_t s = index_[i];
        if (s == kNone) return kNone;
        if (slots_[s].hash == h && slots_[s].key == k) return s;
    }
}

std::uint32_t Ipv4Reassembler::create(const FragKey& k, std::uint64_t h, Instant now) {
    std::uint32_t idx = free_.back();
    free_.pop_back();
    Slot& s = slots_[idx];
    s.key = k;
    s.hash = h;
    // Keep the age list sorted by deadline even if `now` went backwards.
    s.deadline = now + cfg_.timeout;
    if (newest_ != kNone && s.deadline < slots_[newest_].deadline) s.deadline = slots_[newest_].deadline;
    s.total = 0;
    s.last_seen = false;
    s.received = 0;
    s.mem = 0;
    s.frags.clear();
    s.header = Ipv4HeaderCopy{};
    s.older = newest_;
    s.newer = kNone;
    if (newest_ != kNone)
        slots_[newest_].newer = idx;
    else
        oldest_ = idx;
    newest_ = idx;

    std::size_t i = h & mask_;
    while (index_[i] != kNone) i = (i + 1) & mask_;
    index_[i] = idx;
    ++held_;
    return idx;
}

void Ipv4Reassembler::release(std::uint32_t idx) {
    Slot& s = slots_[idx];

    // Remove from the index with backward-shift deletion (no tombstones).
    std::size_t i = s.hash & mask_;
    while (index_[i] != idx) i = (i + 1) & mask_;
    for (std::size_t j = (i + 1) & mask_; index_[j] != kNone; j = (j + 1) & mask_) {
        std::size_t home = slots_[index_[j]].hash & mask_;
        // The entry at j may move to i only if its home is not cyclically in (i, j].
        bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
        if (stays) continue;
        index_[i] = index_[j];
        i = j;
    }
    index_[i] = kNone;

    if (s.older != kNone)
        slots_[s.older].newer = s.newer;
    else
        oldest_ = s.newer;
    if (s.newer != kNone)
        slots_[s.newer].older = s.older;
    else
        newest_ = s.older;
    s.older = s.newer = kNone;

    s.frags.clear();  // returns the buffers; keeps the vector's capacity
    bytes_held_ -= s.mem;
    s.mem = 0;
    --held_;
    free_.push_back(idx);
}

void Ipv4Reassembler::discard(std::uint32_t idx, std::uint64_t& counter) {
    ++counter;
    if (idx != kNone) release(idx);
}

std::optional<ReassemblyDone> Ipv4Reassembler::add(Instant now, const FragKey& key, std::uint16_t offset_bytes,
                                                   bool more_fragments, Packet payload, Bytes ip_header) {
    ++stats_.fragments_in;
    const std::uint64_t h = hash_of(key);
    std::uint32_t idx = find(key, h);

    const std::size_t len = payload.empty() ? 0 : payload.size();
    const std::uint32_t off = offset_bytes;
    const std::size_t end = off + len;

    // Checks on the fragment alone.
    if (off % 8 != 0 || len == 0 || (more_fragments && len % 8 != 0) ||
        (off == 0 && ip_header.size() > kMaxHeader)) {
        discard(idx, stats_.dropped_invalid);
        return std::nullopt;
    }
    if (end > kMaxPayload) {
        discard(idx, stats_.dropped_too_big);
        return std::nullopt;
    }

    if (idx == kNone) {
        if (held_ >= cfg_.max_datagrams) {
            ++stats_.dropped_limits;
            return std::nullopt;
        }
        idx = create(key, h, now);
    }
    Slot& s = slots_[idx];

    // Consistency with what is known of the datagram's end.
    const std::uint32_t held_end = s.frags.empty() ? 0 : s.frags.back().end();
    if (!more_fragments) {
        if ((s.last_seen && s.total != end) || held_end > end) {
            discard(idx, stats_.dropped_invalid);
            return std::nullopt;
        }
        s.last_seen = true;
        s.total = static_cast<std::uint32_t>(end);
    } else if (s.last_seen && end > s.total) {
        discard(idx, stats_.dropped_invalid);
        return std::nullopt;
    }

    // Position among the held fragments; exact duplicate or overlap?
    auto it = std::lower_bound(s.frags.begin(), s.frags.end(), off,
                               [](const Frag& f, std::uint32_t o) { return f.offset < o; });
    if (it != s.frags.end() && it->offset == off && it->len == len) {
        ++stats_.duplicates;
        return std::nullopt;
    }
    if ((it != s.frags.end() && it->offset < end) || (it != s.frags.begin() && std::prev(it)->end() > off)) {
        discard(idx, stats_.dropped_overlap);
        return std::nullopt;
    }

    // Limits. Chains are built from unique packets: copy a shared one.
    if (s.frags.size() >= cfg_.max_fragments_per_datagram) {
        discard(idx, stats_.dropped_limits);
        return std::nullopt;
    }
    if (!payload.unique()) {
        payload = private_copy(payload);
        if (!payload) {
            discard(idx, stats_.dropped_nobufs);
            return std::nullopt;
        }
    }
    const std::size_t mem = buffer_bytes(payload);
    if (bytes_held_ + mem > cfg_.max_bytes) {
        discard(idx, stats_.dropped_limits);
        return std::nullopt;
    }

    const std::ptrdiff_t pos = it - s.frags.begin();
    s.frags.insert(s.frags.begin() + pos,
                   Frag{offset_bytes, static_cast<std::uint16_t>(len), std::move(payload)});
    s.received += static_cast<std::uint32_t>(len);
    s.mem += mem;
    bytes_held_ += mem;
    if (off == 0) s.header = copy_header(ip_header);

    if (!s.last_seen || s.received != s.total) return std::nullopt;

    // Complete: chain the fragments back to front, so each append walks
    // only the chain of the fragment in front.
    // (append_chain wants two non-empty unique packets.)
    Packet whole = std::move(s.frags.back().data);
    for (std::size_t i = s.frags.size() - 1; i-- > 0;) {
        Packet p = std::move(s.frags[i].data);
        p.append_chain(std::move(whole));
        whole = std::move(p);
    }
    whole.meta().rx_csum_verified = false;
    ReassemblyDone done{key, std::move(whole), s.header};
    release(idx);
    ++stats_.datagrams_done;
    return done;
}

bool Ipv4Reassembler::pop_expired(Instant now, ReassemblyExpired& out) {
    if (oldest_ == kNone) return false;
    Slot& s = slots_[oldest_];
    if (s.deadline > now) return false;
    out.key = s.key;
    out.first_fragment.reset();
    out.ip_header = Ipv4HeaderCopy{};
    if (!s.frags.empty() && s.frags.front().offset == 0) {
        out.first_fragment = std::move(s.frags.front().data);
        out.ip_header = s.header;
    }
    ++stats_.timed_out;
    release(oldest_);
    return true;
}

Instant Ipv4Reassembler::next_deadline() const {
    return oldest_ == kNone ? Instant::never() : slots_[oldest_].deadline;
}

void Ipv4Reassembler::clear() {
    while (oldest_ != kNone) release(oldest_);
}

}  // namespace uinet::net
