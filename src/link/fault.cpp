// link/fault.cpp — the fault injector: one PRNG, reorder slot and delay line
// per direction. See fault.hpp for the contract.
#include "link/fault.hpp"

#include <algorithm>
#include <limits>

#include "base/xoshiro.hpp"

namespace uinet {

namespace {

constexpr std::size_t kTxBatch = 64;

// The lanes' deterministic generator.
using Rng = Xoshiro256ss;

struct Held {
    Instant at;
    std::uint64_t seq;
    Packet pkt;
};

// A unique copy of p (data and metadata) from pool, or empty if it runs dry.
Packet copy_packet(Pool& pool, const Packet& p) {
    Packet c = pool.alloc();
    if (!c) return c;
    bool ok = true;
    p.for_each_segment([&](Bytes seg) {
        if (ok && !seg.empty()) ok = c.append(seg);
    });
    if (!ok) return Packet();
    c.meta() = p.meta();
    return c;
}

void flip_bit(Packet& p, std::size_t bit) {
    std::size_t off = bit / 8;
    PacketBuf* b = &p.front();
    while (b && off >= b->size()) {
        off -= b->size();
        b = b->next();
    }
    if (b) b->data()[off] = static_cast<std::uint8_t>(b->data()[off] ^ (1u << (bit % 8)));
}

}  // namespace

const char* to_string(FaultKind k) {
    switch (k) {
        case FaultKind::pass: return "pass";
        case FaultKind::drop: return "drop";
        case FaultKind::duplicate: return "duplicate";
        case FaultKind::reorder: return "reorder";
        case FaultKind::corrupt: return "corrupt";
        case FaultKind::delay: return "delay";
    }
    return "?";
}

struct FaultInjector::Lane {
    explicit Lane(FaultCounters& c) : counters(c) {}
    Rng rng;
    std::vector<Held> delayed;  // sorted latest first: back() leaves next
    std::uint64_t seq = 0;
    Packet held;                // waiting to be reordered
    Instant held_until = Instant::never();
    FaultCounters& counters;
};

FaultInjector::FaultInjector(std::unique_ptr<Device> inner, Pool& pool, FaultConfig cfg)
    : inner_(std::move(inner)),
      pool_(pool),
      cfg_(cfg),
      tx_lane_(std::make_unique<Lane>(fault_stats_.tx)),
      rx_lane_(std::make_unique<Lane>(fault_stats_.rx)) {
    std::uint64_t sm = cfg_.seed;
    tx_lane_->rng.seed(sm);
    rx_lane_->rng.seed(sm);
    tx_lane_->delayed.reserve(cfg_.delay_queue);
    rx_lane_->delayed.reserve(cfg_.delay_queue);
    tx_batch_.reserve(kTxBatch);
}

FaultInjector::~FaultInjector() = default;

void FaultInjector::set_config(const FaultConfig& cfg) {
    const bool reseed = cfg.seed != cfg_.seed;
    cfg_ = cfg;
    if (reseed) {
        std::uint64_t sm = cfg_.seed;
        tx_lane_->rng.seed(sm);
        rx_lane_->rng.seed(sm);
    }
    tx_lane_->delayed.reserve(cfg_.delay_queue);
    rx_lane_->delayed.reserve(cfg_.delay_queue);
}

DeviceCaps FaultInjector::caps() const {
    DeviceCaps c = inner_->caps();
    c.rx_csum_verified = false;
    c.tx_csum_offload = false;
    c.tso_max = 0;
    return c;
}

std::size_t FaultInjector::held() const {
    std::size_t n = tx_lane_->delayed.size() + rx_lane_->delayed.size();
    if (tx_lane_->held) ++n;
    if (rx_lane_->held) ++n;
    return n;
}

Instant FaultInjector::next_deadline() const {
    if (rx_ready_head_ < rx_ready_.size()) return Instant::from_ns(std::numeric_limits<std::int64_t>::min());
    Instant d = inner_->next_deadline();
    for (const Lane* l : {tx_lane_.get(), rx_lane_.get()}) {
        if (!l->delayed.empty()) d = earliest(d, l->delayed.back().at);
        if (l->held) d = earliest(d, l->held_until);
    }
    return d;
}

Bytes FaultInjector::view(const Packet& p) {
    if (!p.is_chain()) return p.front().bytes();
    linear_.resize(p.size());
    p.copy_out(0, linear_);
    return linear_;
}

void FaultInjector::deliver(Packet&& p, bool tx) {
    if (tx)
        tx_batch_.push_back(std::move(p));
    else
        rx_ready_.push_back(std::move(p));
}

void FaultInjector::flush_tx(Instant now) {
    if (tx_batch_.empty()) return;
    std::uint64_t bytes = 0;
    for (const Packet& p : tx_batch_) bytes += p.size();
    const std::size_t taken = inner_->transmit(now, tx_batch_);
    for (std::size_t i = taken; i < tx_batch_.size(); ++i) {
        if (tx_batch_[i]) {
            bytes -= tx_batch_[i].size();
            ++stats_.tx_dropped;  // the inner device refused it
        }
    }
    stats_.tx_packets += taken;
    stats_.tx_bytes += bytes;
    tx_batch_.clear();
}

// When a frame leaving now reaches the other side of the delay line.
Instant FaultInjector::departure(Lane& lane, Instant now) {
    Instant at = now + cfg_.delay;
    if (cfg_.jitter > Duration::zero())
        at += Duration::nanos(
            static_cast<std::int64_t>(lane.rng.below(static_cast<std::uint64_t>(cfg_.jitter.ns()) + 1)));
    return at;
}

// Sends a frame on its way: now, or at `at` through the delay line. Returns
// false if the delay line is full and the frame was dropped.
bool FaultInjector::depart(Lane& lane, Instant now, Instant at, Packet&& p, bool tx, bool report_overflow) {
    if (at <= now) {
        deliver(std::move(p), tx);
        if (tx && tx_batch_.size() >= kTxBatch) flush_tx(now);
        return true;
    }
    if (lane.delayed.size() >= cfg_.delay_queue) {
        ++lane.counters.delay_overflow;
        ++(tx ? stats_.tx_dropped : stats_.rx_dropped);
        if (report_overflow && observer_) observer_(FaultKind::drop, view(p), tx);
        return false;
    }
    const std::uint64_t seq = lane.seq++;
    const auto key = std::make_pair(at, seq);
    auto pos = std::upper_bound(lane.delayed.begin(), lane.delayed.end(), key,
                                [](const std::pair<Instant, std::uint64_t>& k, const Held& e) {
                                    return k.first > e.at || (k.first == e.at && k.second > e.seq);
                                });
    lane.delayed.insert(pos, Held{at, seq, std::move(p)});
    ++lane.counters.delayed;
    return true;
}

void FaultInjector::release_due(Lane& lane, Instant now, bool tx) {
    if (lane.held && lane.held_until <= now) {
        Packet p = std::move(lane.held);
        lane.held_until = Instant::never();
        depart(lane, now, departure(lane, now), std::move(p), tx, true);
    }
    while (!lane.delayed.empty() && lane.delayed.back().at <= now) {
        Packet p = std::move(lane.delayed.back().pkt);
        lane.delayed.pop_back();
        deliver(std::move(p), tx);
        if (tx && tx_batch_.size() >= kTxBatch) flush_tx(now);
    }
}

void FaultInjector::process(Lane& lane, Instant now, Packet&& in, bool tx) {
    Packet p = std::move(in);
    FaultCounters& c = lane.counters;
    ++c.frames;
    const double u = lane.rng.uniform();
    double edge = cfg_.drop;
    FaultKind kind = FaultKind::pass;
    if (u < edge) {
        kind = FaultKind::drop;
    } else if (u < (edge += cfg_.duplicate)) {
        kind = FaultKind::duplicate;
    } else if (u < (edge += cfg_.reorder)) {
        kind = FaultKind::reorder;
    } else if (u < (edge += cfg_.corrupt)) {
        kind = FaultKind::corrupt;
    }

    Packet dup;
    switch (kind) {
        case FaultKind::drop:
            ++c.dropped;
            ++(tx ? stats_.tx_dropped : stats_.rx_dropped);
            if (observer_) observer_(kind, view(p), tx);
            return;
        case FaultKind::reorder:
            if (!lane.held) {
                ++c.reordered;
                if (observer_) observer_(kind, view(p), tx);
                lane.held = std::move(p);
                lane.held_until = now + cfg_.reorder_max_hold;
                return;
            }
            kind = FaultKind::pass;  // the slot is taken: this frame is "the next one"
            break;
        case FaultKind::corrupt: {
            const std::size_t size = p.size();
            if (size <= cfg_.corrupt_min_offset) {
                kind = FaultKind::pass;
                break;
            }
            if (!p.unique()) {
                Packet copy = copy_packet(pool_, p);
                if (!copy) {
                    ++c.no_buffer;
                    kind = FaultKind::pass;
                    break;
                }
                p = std::move(copy);
            }
            const std::size_t bits = (size - cfg_.corrupt_min_offset) * 8;
            flip_bit(p, cfg_.corrupt_min_offset * 8 + static_cast<std::size_t>(lane.rng.below(bits)));
            p.meta().rx_csum_verified = false;
            ++c.corrupted;
            break;
        }
        case FaultKind::duplicate:
            dup = copy_packet(pool_, p);
            if (dup) {
                ++c.duplicated;
            } else {
                ++c.no_buffer;
                kind = FaultKind::pass;
            }
            break;
        case FaultKind::pass:
        case FaultKind::delay:
            break;
    }
    if (kind == FaultKind::pass) ++c.passed;
    if (cfg_.ce_mark > 0 && kind != FaultKind::corrupt) mark_ce(lane, p);

    // The observer hears about the frame before it moves on; whether the
    // delay line takes it is known beforehand.
    const Instant at = departure(lane, now);
    const bool fits = at <= now || lane.delayed.size() < cfg_.delay_queue;
    if (observer_) {
        FaultKind told = kind;
        if (!fits)
            told = FaultKind::drop;
        else if (kind == FaultKind::pass && at > now)
            told = FaultKind::delay;
        observer_(told, view(p), tx);
    }
    depart(lane, now, at, std::move(p), tx, false);
    if (dup) depart(lane, now, departure(lane, now), std::move(dup), tx, true);
    if (lane.held) {
        Packet h = std::move(lane.held);
        lane.held_until = Instant::never();
        depart(lane, now, departure(lane, now), std::move(h), tx, true);
    }
}

void FaultInjector::mark_ce(Lane& lane, Packet& p) {
    // Untagged Ethernet + IPv4 with an ECT codepoint in the first buffer.
    if (p.front().size() < 34) return;
    const std::uint8_t* d = p.front().data();
    if (d[12] != 0x08 || d[13] != 0x00 || (d[14] >> 4) != 4) return;
    const std::uint8_t ecn = d[15] & 3;
    if (ecn != 1 && ecn != 2) return;
    if (lane.rng.uniform() >= cfg_.ce_mark) return;
    if (!p.unique()) {
        Packet copy = copy_packet(pool_, p);
        if (!copy) {
            ++lane.counters.no_buffer;
            return;
        }
        p = std::move(copy);
    }
    std::uint8_t* w = p.front().data();
    const std::uint16_t old_word = static_cast<std::uint16_t>((w[14] << 8) | w[15]);
    w[15] = static_cast<std::uint8_t>(w[15] | 3);
    const std::uint16_t new_word = static_cast<std::uint16_t>((w[14] << 8) | w[15]);
    // RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m').
    std::uint32_t sum = static_cast<std::uint16_t>(~((w[24] << 8) | w[25]));
    sum += static_cast<std::uint16_t>(~old_word);
    sum += new_word;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    const auto hc = static_cast<std::uint16_t>(~sum);
    w[24] = static_cast<std::uint8_t>(hc >> 8);
    w[25] = static_cast<std::uint8_t>(hc & 0xff);
    ++lane.counters.ce_marked;
}

std::size_t FaultInjector::transmit(Instant now, std::span<Packet> pkts) {
    release_due(*tx_lane_, now, true);
    for (Packet& slot : pkts) {
        if (!slot) continue;
        if (cfg_.on_transmit) {
            process(*tx_lane_, now, std::move(slot), true);
        } else {
            deliver(std::move(slot), true);
            if (tx_batch_.size() >= kTxBatch) flush_tx(now);
        }
    }
    flush_tx(now);
    return pkts.size();
}

std::size_t FaultInjector::receive(Instant now, std::span<Packet> out) {
    // Time-driven departures in both directions happen here too.
    release_due(*tx_lane_, now, true);
    flush_tx(now);

    if (rx_ready_head_ > 0) {  // compact what an earlier call left behind
        std::move(rx_ready_.begin() + static_cast<std::ptrdiff_t>(rx_ready_head_), rx_ready_.end(),
                  rx_ready_.begin());
        rx_ready_.resize(rx_ready_.size() - rx_ready_head_);
        rx_ready_head_ = 0;
    }
    release_due(*rx_lane_, now, false);
    if (rx_ready_.size() < out.size()) {
        const std::size_t want = out.size() - rx_ready_.size();
        if (rx_scratch_.size() < want) rx_scratch_.resize(want);
        const std::size_t got = inner_->receive(now, std::span<Packet>(rx_scratch_.data(), want));
        for (std::size_t i = 0; i < got; ++i) {
            if (!rx_scratch_[i]) continue;
            if (cfg_.on_receive)
                process(*rx_lane_, now, std::move(rx_scratch_[i]), false);
            else
                deliver(std::move(rx_scratch_[i]), false);
        }
    }
    std::size_t n = 0;
    while (n < out.size() && rx_ready_head_ < rx_ready_.size()) {
        Packet& p = rx_ready_[rx_ready_head_++];
        ++stats_.rx_packets;
        stats_.rx_bytes += p.size();
        out[n++] = std::move(p);
    }
    if (rx_ready_head_ == rx_ready_.size()) {
        rx_ready_.clear();
        rx_ready_head_ = 0;
    }
    return n;
}

}  // namespace uinet
