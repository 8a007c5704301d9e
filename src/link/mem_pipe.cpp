// link/mem_pipe.cpp — the in-memory link: two bounded, timed frame queues.
//
// Each direction is a ring of entries allocated when the pipe is made,
// guarded by its own mutex; the sending end writes entries, the receiving end
// reads them. An entry is a fixed-size slot of bytes (default) or the
// sender's own packet (hand_over). See mem_pipe.hpp for the timing model,
// the copies and the offloads.
#include "link/mem_pipe.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <limits>
#include <mutex>
#include <vector>

namespace uinet {

namespace {
constexpr std::size_t kEthHeader = 14;
constexpr std::size_t kMaxTags = 16;
constexpr std::size_t kTagBytes = 4;
constexpr std::uint32_t kMaxDatagram = 65535;  // IPv4 total length

std::size_t max_frame_for(std::uint32_t mtu) { return mtu + kEthHeader + kMaxTags * kTagBytes; }

// The effective TSO limit: TSO needs checksum offload, and no IPv4
// datagram exceeds 65535 bytes.
std::uint32_t tso_limit(const MemLinkConfig& c) {
    if (!c.csum_offload || c.tso_max == 0) return 0;
    return std::min(c.tso_max, kMaxDatagram);
}
std::size_t super_frame_for(const MemLinkConfig& c) {
    const std::uint32_t t = tso_limit(c);
    return t ? max_frame_for(t) : 0;
}
}  // namespace

namespace detail {

struct MemDirection {
    MemDirection(std::size_t capacity, std::size_t slot_bytes, bool hand_over)
        : cap(capacity == 0 ? 1 : capacity),
          slot_size(hand_over ? 0 : slot_bytes),
          storage(hand_over ? nullptr : new std::uint8_t[cap * slot_size]),
          len(cap, 0),
          tso_mss(cap, 0),
          partial(cap, 0),
          due(cap),
          efd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
        if (hand_over) {
            pkts.resize(cap);
            done.reserve(cap);
        }
    }
    ~MemDirection() {
        if (efd >= 0) ::close(efd);
    }
    MemDirection(const MemDirection&) = delete;
    MemDirection& operator=(const MemDirection&) = delete;

    std::uint8_t* slot(std::size_t i) { return storage.get() + i * slot_size; }

    // Marks the descriptor readable (caller holds mu).
    void signal() {
        if (signalled || efd < 0) return;
        std::uint64_t one = 1;
        ssize_t r;
        do {
            r = ::write(efd, &one, sizeof one);
        } while (r < 0 && errno == EINTR);
        signalled = true;
    }
    // Drains the descriptor (caller holds mu).
    void clear() {
        if (!signalled || efd < 0) return;
        std::uint64_t v;
        ssize_t r;
        do {
            r = ::read(efd, &v, sizeof v);
        } while (r < 0 && errno == EINTR);
        signalled = false;
    }

    std::mutex mu;
    const std::size_t cap;
    const std::size_t slot_size;                // 0 with hand_over
    std::unique_ptr<std::uint8_t[]> storage;    // copy mode: cap slots of slot_size bytes
    std::vector<Packet> pkts;                   // hand_over: the sender's packets
    std::vector<Packet> done;                   // hand_over: consumed, for the sender to free
    std::vector<std::uint32_t> len;
    std::vector<std::uint16_t> tso_mss;
    std::vector<std::uint8_t> partial;          // sent with tx_csum_partial
    std::vector<Instant> due;
    std::size_t head = 0;
    std::size_t count = 0;
    Instant busy_until = Instant::from_ns(std::numeric_limits<std::int64_t>::min());
    Instant last_due = Instant::from_ns(std::numeric_limits<std::int64_t>::min());
    const int efd;
    bool signalled = false;
    // Delivery instant of the first queued frame (never() if none), written
    // under mu, read without it by next_deadline(): the receiving loop asks
    // every iteration, and a lock there would be taken once per wake-up.
    std::atomic<std::int64_t> head_due{Instant::never().ns()};
    void publish_head() {
        head_due.store(count ? due[head].ns() : Instant::never().ns(), std::memory_order_release);
    }
};

}  // namespace detail

MemPipeEnd::MemPipeEnd(std::string name, Pool& pool, const MemLinkConfig& cfg,
                       std::shared_ptr<detail::MemDirection> rx, std::shared_ptr<detail::MemDirection> tx)
    : name_(std::move(name)), pool_(pool), cfg_(cfg), rx_(std::move(rx)), tx_(std::move(tx)) {
    if (cfg_.hand_over) done_.reserve(tx_->cap);
}

MemPipeEnd::~MemPipeEnd() {
    // Frames this end handed over still reference its pool: give them back
    // now, on this end's thread, whether or not the peer still exists.
    if (!cfg_.hand_over) return;
    std::lock_guard<std::mutex> lk(tx_->mu);
    tx_->done.clear();
    for (Packet& p : tx_->pkts) p.reset();
    tx_->count = 0;
    tx_->publish_head();
}

DeviceCaps MemPipeEnd::caps() const {
    DeviceCaps c;
    c.mtu = cfg_.mtu;
    c.tx_csum_offload = cfg_.csum_offload;
    c.rx_csum_verified = cfg_.csum_offload;
    c.tso_max = tso_limit(cfg_);
    return c;
}

std::size_t MemPipeEnd::max_frame() const { return max_frame_for(cfg_.mtu); }
std::size_t MemPipeEnd::max_super_frame() const { return super_frame_for(cfg_); }

int MemPipeEnd::poll_fd() const { return rx_->efd; }

Instant MemPipeEnd::next_deadline() const {
    return Instant::from_ns(rx_->head_due.load(std::memory_order_acquire));
}

std::size_t MemPipeEnd::pending() const {
    std::lock_guard<std::mutex> lk(rx_->mu);
    return rx_->count;
}

std::size_t MemPipeEnd::transmit(Instant now, std::span<Packet> pkts) {
    detail::MemDirection& d = *tx_;
    const std::size_t normal_max = max_frame();
    const std::size_t super_max = max_super_frame();
    {
        std::lock_guard<std::mutex> lk(d.mu);
        if (cfg_.hand_over) done_.swap(d.done);  // freed below, outside the lock
        for (Packet& slot_pkt : pkts) {
            Packet p = std::move(slot_pkt);
            if (!p) continue;
            const std::size_t size = p.size();
            const OffloadMeta& m = p.meta();
            const bool super_ok = size <= super_max && m.tso_mss != 0 && m.tx_csum_partial;
            if (size < kEthHeader || (size > normal_max && !super_ok)) {
                ++stats_.tx_errors;
                continue;
            }
            if (d.count == d.cap) {
                ++stats_.tx_dropped;  // drop-tail
                continue;
            }
            const std::size_t i = (d.head + d.count) % d.cap;
            d.tso_mss[i] = super_max ? m.tso_mss : 0;
            d.partial[i] = cfg_.csum_offload && m.tx_csum_partial;
            if (cfg_.hand_over) {
                d.pkts[i] = std::move(p);
            } else {
                std::uint8_t* dst = d.slot(i);
                p.for_each_segment([&dst](Bytes seg) {
                    if (!seg.empty()) std::memcpy(dst, seg.data(), seg.size());
                    dst += seg.size();
                });
            }
            const Instant start = d.busy_until > now ? d.busy_until : now;
            Duration ser = Duration::zero();
            if (cfg_.bandwidth_bps) {
                // Rounded up, so a frame never takes zero time on a finite link.
                const std::uint64_t bits_ns = static_cast<std::uint64_t>(size) * 8u * 1000000000u;
                ser = Duration::nanos(
                    static_cast<std::int64_t>((bits_ns + cfg_.bandwidth_bps - 1) / cfg_.bandwidth_bps));
            }
            d.busy_until = start + ser;
            Instant at = d.busy_until + cfg_.delay;
            if (at < d.last_due) at = d.last_due;  // keep delivery in order
            d.last_due = at;
            d.due[i] = at;
            d.len[i] = static_cast<std::uint32_t>(size);
            if (++d.count == 1) {
                d.publish_head();
                d.signal();
            }
            ++stats_.tx_packets;
            stats_.tx_bytes += size;
        }
    }
    done_.clear();  // frames the peer has consumed go back to this end's pool
    return pkts.size();
}

std::size_t MemPipeEnd::receive(Instant now, std::span<Packet> out) {
    detail::MemDirection& d = *rx_;
    std::lock_guard<std::mutex> lk(d.mu);
    const std::size_t headroom = pool_.config().headroom;
    std::size_t n = 0;
    while (n < out.size() && d.count > 0 && d.due[d.head] <= now) {
        const std::size_t h = d.head;
        const std::size_t size = d.len[h];
        Packet p;
        if (cfg_.hand_over) {
            // One copy, from the sender's buffers into this end's pool; the
            // sender's packet goes back to it (it frees it on its thread).
            p = pool_.alloc(headroom);
            if (p && !p.append(d.pkts[h])) p.reset();
            d.done.push_back(std::move(d.pkts[h]));
        } else {
            p = pool_.copy_of(Bytes(d.slot(h), size), headroom);
        }
        d.head = (h + 1) % d.cap;
        --d.count;
        if (!p) {
            ++stats_.rx_dropped;
            continue;
        }
        OffloadMeta& m = p.meta();
        m.rx_time = now;
        m.tso_mss = d.tso_mss[h];
        m.rx_csum_verified = d.partial[h] != 0;
        out[n++] = std::move(p);
        ++stats_.rx_packets;
        stats_.rx_bytes += size;
    }
    d.publish_head();
    // The descriptor stays readable exactly when due frames remain behind;
    // frames still in flight are announced by next_deadline().
    if (d.count == 0 || now < d.due[d.head])
        d.clear();
    else
        d.signal();
    return n;
}

std::pair<std::unique_ptr<MemPipeEnd>, std::unique_ptr<MemPipeEnd>> make_mem_pipe(
    Pool& pool_a, Pool& pool_b, const MemLinkConfig& cfg, std::string name_a, std::string name_b) {
    const std::size_t slot = std::max(max_frame_for(cfg.mtu), super_frame_for(cfg));
    auto a_to_b = std::make_shared<detail::MemDirection>(cfg.queue_frames, slot, cfg.hand_over);
    auto b_to_a = std::make_shared<detail::MemDirection>(cfg.queue_frames, slot, cfg.hand_over);
    std::unique_ptr<MemPipeEnd> a(new MemPipeEnd(std::move(name_a), pool_a, cfg, b_to_a, a_to_b));
    std::unique_ptr<MemPipeEnd> b(new MemPipeEnd(std::move(name_b), pool_b, cfg, a_to_b, b_to_a));
    return {std::move(a), std::move(b)};
}

}  // namespace uinet
