// net/arp_cache.cpp — neighbour cache bookkeeping.
#include "net/arp_cache.hpp"

namespace uinet::net {

ArpCache::ResolveResult ArpCache::resolve(Instant now, Ipv4Addr ip, Packet& pkt) {
    auto it = entries_.find(ip);
    if (it != entries_.end() && it->second.complete && (it->second.stale || it->second.deadline > now)) {
        it->second.used = true;
        return {Verdict::ready, it->second.mac};
    }
    if (it != entries_.end() && it->second.complete) {
        // Aged out: forget the old answer and ask again.
        ++stats_.expired;
        entries_.erase(it);
        it = entries_.end();
    }
    bool fresh = false;
    if (it == entries_.end()) {
        if (entries_.size() >= cfg_.max_entries) {
            ++stats_.table_full;
            ++stats_.pending_dropped;
            pkt.reset();
            return {Verdict::dropped, {}};
        }
        it = entries_.emplace(ip, Entry{}).first;
        fresh = true;
    }
    Entry& e = it->second;
    bool dropped = false;
    if (e.pending.size() >= cfg_.pending_per_entry || pending_total_ >= cfg_.max_pending_total) {
        ++stats_.pending_dropped;
        pkt.reset();
        dropped = true;
    } else {
        e.pending.push_back(std::move(pkt));
        ++pending_total_;
    }
    if (fresh) {
        e.requests = 1;
        e.deadline = now + cfg_.retry_interval;
        note_deadline(e.deadline);
        ++stats_.requests_sent;
        return {Verdict::send_request, {}};
    }
    return {dropped ? Verdict::dropped : Verdict::queued, {}};
}

std::optional<MacAddr> ArpCache::lookup(Instant now, Ipv4Addr ip) const {
    auto it = entries_.find(ip);
    if (it == entries_.end() || !it->second.complete || (!it->second.stale && it->second.deadline <= now))
        return std::nullopt;
    return it->second.mac;
}

bool ArpCache::update(Instant now, Ipv4Addr ip, const MacAddr& mac, bool create, std::vector<Packet>& released) {
    auto it = entries_.find(ip);
    if (it == entries_.end()) {
        if (!create) return false;
        if (entries_.size() >= cfg_.max_entries) {
            ++stats_.table_full;
            return false;
        }
        it = entries_.emplace(ip, Entry{}).first;
    }
    Entry& e = it->second;
    if (!e.complete) ++stats_.resolved;
    e.mac = mac;
    e.complete = true;
    e.stale = false;
    e.used = false;
    e.requests = 0;
    e.deadline = now + cfg_.reachable;
    note_deadline(e.deadline);
    for (Packet& p : e.pending) released.push_back(std::move(p));
    pending_total_ -= e.pending.size();
    e.pending.clear();
    return true;
}


void ArpCache::drop_pending(Entry& e) {
    stats_.pending_dropped += e.pending.size();
    pending_total_ -= e.pending.size();
    e.pending.clear();
}

void ArpCache::clear() {
    for (auto& [ip, e] : entries_) drop_pending(e);
    entries_.clear();
}

}  // namespace uinet::net
