// link/mem_pipe.cpp — the in-memory link: two bounded, timed frame queues.
//
// Each direction is a ring of fixed-size slots allocated when the pipe is
// made, guarded by its own mutex; the sending end writes slots, the
// receiving end reads them. See mem_pipe.hpp for the timing model.
#include "link/mem_pipe.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

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

std::size_t max_frame_for(std::uint32_t mtu) { return mtu + kEthHeader + kMaxTags * kTagBytes; }
}  // namespace

namespace detail {

struct MemDirection {
    MemDirection(std::size_t capacity, std::size_t frame_max)
        : cap(capacity == 0 ? 1 : capacity),
          max_frame(frame_max),
          storage(std::make_unique<std::uint8_t[]>(cap * max_frame)),
          len(cap, 0),
          due(cap),
          efd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
    ~MemDirection() {
        if (efd >= 0) ::close(efd);
    }
    MemDirection(const MemDirection&) = delete;
    MemDirection& operator=(const MemDirection&) = delete;

    std::uint8_t* slot(std::size_t i) { return storage.get() + i * max_frame; }

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
    const std::size_t max_frame;
    std::unique_ptr<std::uint8_t[]> storage;
    std::vector<std::uint32_t> len;
    std::vector<Instant> due;
    std::size_t head = 0;
    std::size_t count = 0;
    Instant busy_until = Instant::from_ns(std::numeric_limits<std::int64_t>::min());
    Instant last_due = Instant::from_ns(std::numeric_limits<std::int64_t>::min());
    const int efd;
    bool signalled = false;
};

}  // namespace detail

MemPipeEnd::MemPipeEnd(std::string name, Pool& pool, const MemLinkConfig& cfg,
                       std::shared_ptr<detail::MemDirection> rx, std::shared_ptr<detail::MemDirection> tx)
    : name_(std::move(name)), pool_(pool), cfg_(cfg), rx_(std::move(rx)), tx_(std::move(tx)) {}

MemPipeEnd::~MemPipeEnd() = default;

DeviceCaps MemPipeEnd::caps() const {
    DeviceCaps c;
    c.mtu = cfg_.mtu;
    return c;
}

std::size_t MemPipeEnd::max_frame() const { return max_frame_for(cfg_.mtu); }

int MemPipeEnd::poll_fd() const { return rx_->efd; }

Instant MemPipeEnd::next_deadline() const {
    std::lock_guard<std::mutex> lk(rx_->mu);
    return rx_->count ? rx_->due[rx_->head] : Instant::never();
}

std::size_t MemPipeEnd::pending() const {
    std::lock_guard<std::mutex> lk(rx_->mu);
    return rx_->count;
}

std::size_t MemPipeEnd::transmit(Instant now, std::span<Packet> pkts) {
    detail::MemDirection& d = *tx_;
    std::lock_guard<std::mutex> lk(d.mu);
    for (Packet& slot_pkt : pkts) {
        Packet p = std::move(slot_pkt);
        if (!p) continue;
        const std::size_t size = p.size();
        if (size < kEthHeader || size > d.max_frame) {
            ++stats_.tx_errors;
            continue;
        }
        if (d.count == d.cap) {
            ++stats_.tx_dropped;  // drop-tail
            continue;
        }
        const std::size_t i = (d.head + d.count) % d.cap;
        std::uint8_t* dst = d.slot(i);
        p.for_each_segment([&dst](Bytes seg) {
            if (!seg.empty()) std::memcpy(dst, seg.data(), seg.size());
            dst += seg.size();
        });
        const Instant start = d.busy_until > now ? d.busy_until : now;
        Duration ser = Duration::zero();
        if (cfg_.bandwidth_bps) {
            // Rounded up, so a frame never takes zero time on a finite link.
            const std::uint64_t bits_ns = static_cast<std::uint64_t>(size) * 8u * 1000000000u;
            ser = Duration::nanos(static_cast<std::int64_t>((bits_ns + cfg_.bandwidth_bps - 1) / cfg_.bandwidth_bps));
        }
        d.busy_until = start + ser;
        Instant at = d.busy_until + cfg_.delay;
        if (at < d.last_due) at = d.last_due;  // keep delivery in order
        d.last_due = at;
        d.due[i] = at;
        d.len[i] = static_cast<std::uint32_t>(size);
        if (++d.count == 1) d.signal();
        ++stats_.tx_packets;
        stats_.tx_bytes += size;
    }
    return pkts.size();
}

std::size_t MemPipeEnd::receive(Instant now, std::span<Packet> out) {
    detail::MemDirection& d = *rx_;
    std::lock_guard<std::mutex> lk(d.mu);
    const std::size_t headroom = pool_.config().headroom;
    std::size_t n = 0;
    while (n < out.size() && d.count > 0 && d.due[d.head] <= now) {
        const std::size_t size = d.len[d.head];
        Packet p = pool_.copy_of(Bytes(d.slot(d.head), size), headroom);
        d.head = (d.head + 1) % d.cap;
        --d.count;
        if (!p) {
            ++stats_.rx_dropped;
            continue;
        }
        p.meta().rx_time = now;
        out[n++] = std::move(p);
        ++stats_.rx_packets;
        stats_.rx_bytes += size;
    }
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
    const std::size_t mf = max_frame_for(cfg.mtu);
    auto a_to_b = std::make_shared<detail::MemDirection>(cfg.queue_frames, mf);
    auto b_to_a = std::make_shared<detail::MemDirection>(cfg.queue_frames, mf);
    std::unique_ptr<MemPipeEnd> a(new MemPipeEnd(std::move(name_a), pool_a, cfg, b_to_a, a_to_b));
    std::unique_ptr<MemPipeEnd> b(new MemPipeEnd(std::move(name_b), pool_b, cfg, a_to_b, b_to_a));
    return {std::move(a), std::move(b)};
}

}  // namespace uinet
