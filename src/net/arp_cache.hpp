// net/arp_cache.hpp — the ARP neighbour cache of one interface (I/O-free).
//
// Contract: the cache maps IPv4 neighbours to MAC addresses (RFC 826) and
// holds, per unresolved neighbour, a bounded queue of packets waiting for
// the answer (RFC 1122 section 2.3.2.2: "SHOULD save at least one"). It
// never sends anything itself: resolve() and poll() tell the caller when to
// send a request and hand back packets that may now go or must be dropped.
// Entries age out after `reachable`. An entry that was used during its
// lifetime is not dropped but refreshed (RFC 1122 section 2.3.2.1, option
// "unicast poll"): it stays usable while up to `max_requests` requests are
// sent to the neighbour's known MAC; only if none is answered does it go.
// An unanswered new neighbour is retried every `retry_interval` up to
// `max_requests` requests (RFC 1122 asks for rate-limited requests), then
// its packets are dropped and counted. Memory is bounded by max_entries
// and max_pending_total.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "base/addr.hpp"
#include "base/time.hpp"
#include "buf/packet.hpp"

namespace uinet::net {

struct ArpConfig {
    Duration reachable = Duration::seconds(60);      // lifetime of a learned entry
    Duration retry_interval = Duration::seconds(1);  // between requests for one neighbour
    std::uint32_t max_requests = 3;                  // requests before giving up
    std::size_t pending_per_entry = 8;               // packets queued per neighbour
    std::size_t max_pending_total = 256;             // packets queued over the cache
    std::size_t max_entries = 4096;
};

struct ArpStats {
    std::uint64_t requests_sent = 0;
    std::uint64_t resolved = 0;
    std::uint64_t failed = 0;           // neighbours that never answered
    std::uint64_t pending_dropped = 0;  // packets dropped: queue full or neighbour failed
    std::uint64_t table_full = 0;       // new neighbour refused: max_entries reached
    std::uint64_t expired = 0;
};

class ArpCache {
public:
    explicit ArpCache(const ArpConfig& cfg = {}) : cfg_(cfg) {}

    enum class Verdict : std::uint8_t {
        ready,         // mac is known: send now (packet left with the caller)
        send_request,  // packet queued; caller must send a request now
        queued,        // packet queued behind an outstanding request
        dropped,       // packet dropped (counted): queue or table full
    };
    struct ResolveResult {
        Verdict verdict;
        MacAddr mac;  // valid when verdict == ready
    };
    // Finds ip's MAC; if unknown, keeps `pkt` until resolution. On `ready`
    // the packet is untouched and the caller sends it.
    ResolveResult resolve(Instant now, Ipv4Addr ip, Packet& pkt);

    std::optional<MacAddr> lookup(Instant now, Ipv4Addr ip) const;

    // Records ip -> mac. If `create` is false only an existing entry is
    // updated (RFC 826's "merge" step before checking the target address).
    // Returns the packets that were waiting for this neighbour.
    bool update(Instant now, Ipv4Addr ip, const MacAddr& mac, bool create, std::vector<Packet>& released);

    // Advances timers: for each neighbour due a request calls
    // on_request(ip, mac), where mac is the known address for a refresh
    // (send unicast) or nullptr for a new neighbour (broadcast); neighbours
    // out of retries are removed and their packets dropped.
    template <class F>
    void poll(Instant now, F&& on_request);

    // A lower bound on the next entry deadline (never later than the truth).
    Instant next_deadline() const { return earliest_; }
    const ArpStats& stats() const { return stats_; }
    std::size_t size() const { return entries_.size(); }
    std::size_t pending_total() const { return pending_total_; }
    void clear();

private:
    struct Entry {
        MacAddr mac;
        bool complete = false;
        bool stale = false;           // complete but being refreshed: still usable
        bool used = false;            // looked up since it was (re)confirmed
        Instant deadline;             // expiry (complete) or next retry (incomplete)
        std::uint32_t requests = 0;
        std::vector<Packet> pending;  // bounded by pending_per_entry
    };
    struct AddrHash {
        std::size_t operator()(Ipv4Addr a) const noexcept {
            return static_cast<std::size_t>(a.value() * 0x9e3779b97f4a7c15ull >> 16);
        }
    };
    void drop_pending(Entry& e);
    void note_deadline(Instant t) { earliest_ = earliest(earliest_, t); }

    ArpConfig cfg_;
    std::unordered_map<Ipv4Addr, Entry, AddrHash> entries_;
    std::size_t pending_total_ = 0;
    Instant earliest_ = Instant::never();
    ArpStats stats_{};
};

template <class F>
void ArpCache::poll(Instant now, F&& on_request) {
    if (earliest_ > now) return;
    earliest_ = Instant::never();
    for (auto it = entries_.begin(); it != entries_.end();) {
        Entry& e = it->second;
        if (e.deadline > now) {
            note_deadline(e.deadline);
            ++it;
            continue;
        }
        if (e.complete && !e.stale && !e.used) {
            ++stats_.expired;
            it = entries_.erase(it);
            continue;
        }
        if (e.complete && !e.stale) {
            e.stale = true;  // in use: refresh, keep using the old MAC meanwhile
            e.requests = 0;
        }
        if (e.requests >= cfg_.max_requests) {
            ++stats_.failed;
            drop_pending(e);
            it = entries_.erase(it);
            continue;
        }
        ++e.requests;
        ++stats_.requests_sent;
        e.deadline = now + cfg_.retry_interval;
        note_deadline(e.deadline);
        on_request(it->first, e.stale ? &e.mac : nullptr);
        ++it;
    }
}

}  // namespace uinet::net
