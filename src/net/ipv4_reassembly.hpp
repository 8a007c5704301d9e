// net/ipv4_reassembly.hpp — IPv4 fragment reassembly with bounded memory.
//
// Contract (RFC 791 section 3.2, RFC 815, RFC 1122 section 3.3.2):
//  * Fragments are grouped by (source, destination, identification,
//    protocol). A datagram completes when pieces cover [0, total) with no
//    gap; its payload is returned as one Packet chain of the fragments'
//    own buffers (no copy).
//  * Memory is bounded: at most max_datagrams in progress, max_bytes of
//    payload held in all, max_fragments_per_datagram per datagram. A
//    fragment that would exceed a bound is dropped and counted
//    (dropped_limits); datagrams already in progress are kept — evicting
//    them would let a flood of junk fragments starve real ones.
//  * Overlaps: an exact duplicate of a piece already held is ignored; any
//    other overlap discards the whole datagram (RFC 5722's rule, applied to
//    IPv4: overlapping fragments are how IDS evasion and "teardrop" attacks
//    work, and no honest sender produces them).
//  * Non-last fragments must carry a multiple of 8 bytes; a datagram longer
//    than 65535 bytes, or two different ends, are invalid.
//  * A datagram not completed within `timeout` expires; the caller is told,
//    with the offset-zero fragment when it had arrived, so it can send ICMP
//    time exceeded (code 1) quoting it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "base/addr.hpp"
#include "base/bytes.hpp"
#include "base/time.hpp"
#include "buf/packet.hpp"

namespace uinet::net {

struct FragKey {
    Ipv4Addr src, dst;
    std::uint16_t ident = 0;
    std::uint8_t protocol = 0;
    bool operator==(const FragKey&) const = default;
};

struct ReassemblyConfig {
    std::size_t max_datagrams = 64;
    std::size_t max_bytes = std::size_t{1} << 20;
    Duration timeout = Duration::seconds(30);  // Linux's ipfrag_time; RFC 791 suggests >= 15 s
    std::size_t max_fragments_per_datagram = 64;
};

struct ReassemblyStats {
    std::uint64_t fragments_in = 0;
    std::uint64_t datagrams_done = 0;
    std::uint64_t duplicates = 0;
    std::uint64_t dropped_overlap = 0;  // datagrams discarded for an overlap
    std::uint64_t dropped_too_big = 0;  // fragments ending past 65535
    std::uint64_t dropped_limits = 0;   // fragments refused by a bound
    std::uint64_t timed_out = 0;
    std::uint64_t dropped_invalid = 0;  // bad length or inconsistent ends
};

struct ReassemblyDone {
    FragKey key;
    Packet payload;  // the whole IP payload, a chain
};

struct ReassemblyExpired {
    FragKey key;
    Packet first_fragment;  // payload of offset zero, empty if it never came
    Bytes ip_header;        // its IP header (valid during the callback)
};

class Ipv4Reassembler {
public:
    explicit Ipv4Reassembler(const ReassemblyConfig& cfg = {}) : cfg_(cfg) {}

    // Adds one fragment (IP header removed). ip_header is kept when the
    // fragment is the first one. Returns the datagram once it is complete.
    std::optional<ReassemblyDone> add(Instant now, const FragKey& key, std::uint16_t offset, bool more_fragments,
                                      Packet payload, Bytes ip_header);

    template <class F>
    void expire(Instant now, F&& on_expired);

    Instant next_deadline() const;
    const ReassemblyStats& stats() const { return stats_; }
    std::size_t bytes_held() const { return bytes_; }
    std::size_t datagrams_held() const { return dgrams_.size(); }

private:
    struct Piece {
        std::uint32_t begin = 0, end = 0;
        Packet data;
    };
    struct Datagram {
        FragKey key;
        Instant deadline;
        std::vector<Piece> pieces;  // sorted by begin, never overlapping
        std::size_t bytes = 0;
        std::int64_t total = -1;    // known once the last fragment arrived
        std::array<std::uint8_t, 60> header{};
        std::size_t header_len = 0;
    };
    void discard(std::size_t index);

    ReassemblyConfig cfg_;
    std::vector<Datagram> dgrams_;  // at most max_datagrams: a linear scan is cheap
    std::size_t bytes_ = 0;
    ReassemblyStats stats_{};
};

template <class F>
void Ipv4Reassembler::expire(Instant now, F&& on_expired) {
    for (std::size_t i = 0; i < dgrams_.size();) {
        Datagram& d = dgrams_[i];
        if (d.deadline > now) {
            ++i;
            continue;
        }
        ++stats_.timed_out;
        ReassemblyExpired e;
        e.key = d.key;
        if (!d.pieces.empty() && d.pieces.front().begin == 0 && d.header_len != 0) {
            e.first_fragment = std::move(d.pieces.front().data);
            e.ip_header = Bytes{d.header.data(), d.header_len};
        }
        on_expired(std::move(e));
        discard(i);
    }
}

}  // namespace uinet::net
