// net/ipv4_reassembly.hpp — IPv4 fragment reassembly (RFC 791 section 3.2).
//
// Contract:
//  * The caller parses and checks the IP header (wire/ is not included here)
//    and hands add() one fragment at a time: its key (RFC 791 section 2.3:
//    source, destination, identification, protocol), its offset in bytes,
//    its MF flag, its IP payload (exactly the payload: header pulled off and
//    link padding trimmed) and, for the offset-0 fragment, its IP header
//    bytes. When the last missing piece arrives, add() returns the whole IP
//    payload as one Packet chain made of the fragments' own buffers, in
//    order, without copying (a fragment whose Packet is shared is copied
//    once on arrival, because chains are built from unique packets).
//  * Overlap (RFC 5722's rule, applied to IPv4): a fragment that overlaps a
//    held one without being an exact duplicate (same offset and length)
//    discards the whole datagram and counts dropped_overlap. Exact
//    duplicates are ignored (counted as duplicates); their MF flag is still
//    checked against what is known of the datagram's end.
//  * Invalid input discards the fragment and, if the datagram is already
//    held, the whole datagram (it can no longer complete correctly):
//    offset not a multiple of 8, empty fragment, MF set with a length not
//    a multiple of 8, an offset-0 header longer than 60 bytes, a second
//    last fragment with a different end, data beyond a known end
//    (dropped_invalid); an end beyond 65535 - 20 bytes (dropped_too_big:
//    the datagram could never be represented, RFC 791 section 3.1).
//  * Bounded memory (DESIGN.md principle 8): at most max_datagrams
//    datagrams, max_fragments_per_datagram fragments each, and max_bytes of
//    buffer memory held in total. Memory is counted as whole buffers
//    (capacity of every buffer a held fragment pins, like Linux's
//    truesize), so floods of tiny fragments cannot pin more buffers than
//    max_bytes allows. A fragment that would start a datagram beyond
//    max_datagrams is dropped: held datagrams are never evicted for new
//    ones (as Linux since 4.17), so a flood cannot flush datagrams that are
//    about to complete; the flood's own entries time out. A fragment that
//    would exceed max_bytes or the per-datagram fragment limit discards its
//    whole datagram, which can no longer complete. All three count
//    dropped_limits.
//  * Timeout: a datagram expires `timeout` after its first fragment arrived
//    (the timer is not restarted by later fragments; RFC 791 suggests at
//    least 15 s, RFC 1122 section 3.3.2 60 s to 120 s, Linux uses 30 s).
//    expire() hands each expired datagram's offset-0 fragment and header
//    (if they arrived) to a callback so the caller can send ICMP time
//    exceeded, code 1 (RFC 792; RFC 1122 section 3.3.2: only if fragment
//    zero was received).
//  * Lookup is O(1) expected: an open-addressing index (load <= 1/2) over a
//    slot array sized at construction. Keys are attacker-chosen, so the hash
//    is seeded (hash_seed) and probing is in any case bounded by
//    max_datagrams. No heap allocation in steady state: slots and their
//    fragment vectors are reused.
//  * The reassembled Packet's offload metadata is the first fragment's, with
//    rx_csum_verified cleared: no device can have verified an L4 checksum
//    over a datagram it saw in pieces.
//  * Instants passed in should not go backwards; if they do, deadlines are
//    clamped so that expiry stays in arrival order.
//  * Single-threaded, like the rest of net/. Destroy the reassembler before
//    the pools whose buffers it holds.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "base/addr.hpp"
#include "base/bytes.hpp"
#include "base/time.hpp"
#include "buf/packet.hpp"

namespace uinet::net {

// Identifies the datagram a fragment belongs to (RFC 791 section 2.3).
struct FragKey {
    Ipv4Addr src;
    Ipv4Addr dst;
    std::uint16_t ident = 0;
    std::uint8_t protocol = 0;
    constexpr auto operator<=>(const FragKey&) const = default;
};

struct ReassemblyConfig {
    std::size_t max_datagrams = 64;               // concurrent reassemblies
    std::size_t max_bytes = 1 << 20;              // buffer memory held (whole buffers)
    Duration timeout = Duration::seconds(30);     // from a datagram's first fragment
    std::size_t max_fragments_per_datagram = 64;  // more discards the datagram
    std::uint64_t hash_seed = 0;                  // from the host's randomness
};

struct ReassemblyStats {
    std::uint64_t fragments_in = 0;     // every add() call
    std::uint64_t datagrams_done = 0;   // completed and returned
    std::uint64_t duplicates = 0;       // exact duplicates ignored
    std::uint64_t dropped_overlap = 0;  // non-duplicate overlap: datagram discarded
    std::uint64_t dropped_too_big = 0;  // end beyond 65515 bytes
    std::uint64_t dropped_limits = 0;   // max_datagrams, max_bytes, max_fragments
    std::uint64_t dropped_nobufs = 0;   // a shared fragment could not be copied
    std::uint64_t timed_out = 0;        // datagrams expired
    std::uint64_t dropped_invalid = 0;  // malformed or inconsistent fragments
};

// A copy of an IPv4 header (at most 60 bytes), with a span-like interface.
struct Ipv4HeaderCopy {
    std::array<std::uint8_t, 60> buf{};
    std::uint8_t len = 0;

    const std::uint8_t* data() const { return buf.data(); }
    std::size_t size() const { return len; }
    bool empty() const { return len == 0; }
    Bytes bytes() const { return {buf.data(), len}; }
};

struct ReassemblyDone {
    FragKey key;
    Packet payload;           // the whole IP payload, a chain of the fragments' buffers
    Ipv4HeaderCopy ip_header;  // header of the offset-0 fragment, as received
};

struct ReassemblyExpired {
    FragKey key;
    Packet first_fragment;     // payload of the offset-0 fragment; empty if it never came
    Ipv4HeaderCopy ip_header;  // its header; empty if it never came
};

class Ipv4Reassembler {
public:
    explicit Ipv4Reassembler(ReassemblyConfig cfg = {});
    Ipv4Reassembler(const Ipv4Reassembler&) = delete;
    Ipv4Reassembler& operator=(const Ipv4Reassembler&) = delete;

    // Takes one fragment. offset_bytes is the fragment offset field times 8;
    // payload is the fragment's IP payload; ip_header is kept for the
    // offset-0 fragment only (pass it always, or at least for offset 0).
    // Returns the datagram when this fragment completes it.
    std::optional<ReassemblyDone> add(Instant now, const FragKey& key, std::uint16_t offset_bytes,
                                      bool more_fragments, Packet payload, Bytes ip_header);

    // Removes every datagram whose deadline is <= now, calling
    // on_expired(ReassemblyExpired&&) for each, oldest first. The callback
    // may call add().
    template <class F>
    void expire(Instant now, F&& on_expired) {
        ReassemblyExpired e;
        while (pop_expired(now, e)) on_expired(std::move(e));
    }

    // Earliest deadline of a held datagram, or Instant::never().
    Instant next_deadline() const;

    // Drops every held datagram (e.g. interface down); not counted.
    void clear();

    const ReassemblyStats& stats() const { return stats_; }
    const ReassemblyConfig& config() const { return cfg_; }
    std::size_t bytes_held() const { return bytes_held_; }
    std::size_t datagrams_held() const { return held_; }

private:
    static constexpr std::uint32_t kNone = 0xffffffffu;

    struct Frag {
        std::uint16_t offset = 0;
        std::uint16_t len = 0;
        Packet data;
        std::uint32_t end() const { return std::uint32_t{offset} + len; }
    };
    struct Slot {
        FragKey key;
        std::uint64_t hash = 0;
        Instant deadline;
        std::uint32_t older = kNone;  // age list, oldest first
        std::uint32_t newer = kNone;
        std::uint32_t total = 0;      // payload length, once the last fragment came
        bool last_seen = false;
        std::uint32_t received = 0;   // payload bytes held (fragments never overlap)
        std::size_t mem = 0;          // buffer bytes held
        std::vector<Frag> frags;      // sorted by offset, non-overlapping
        Ipv4HeaderCopy header;        // of the offset-0 fragment
    };

    bool pop_expired(Instant now, ReassemblyExpired& out);
    std::uint64_t hash_of(const FragKey& k) const;
    std::uint32_t find(const FragKey& k, std::uint64_t h) const;
    std::uint32_t create(const FragKey& k, std::uint64_t h, Instant now);
    void release(std::uint32_t idx);  // unlinks the slot and frees its fragments
    void discard(std::uint32_t idx, std::uint64_t& counter);

    ReassemblyConfig cfg_;
    std::vector<Slot> slots_;
    std::vector<std::uint32_t> free_;   // unused slot indices
    std::vector<std::uint32_t> index_;  // open addressing: slot index or kNone
    std::size_t mask_ = 0;
    std::uint32_t oldest_ = kNone;
    std::uint32_t newest_ = kNone;
    std::size_t bytes_held_ = 0;
    std::size_t held_ = 0;
    ReassemblyStats stats_{};
};

}  // namespace uinet::net
