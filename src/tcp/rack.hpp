// tcp/rack.hpp — the sender's record of what it sent and when, for RACK-TLP
// loss detection (RFC 8985), and the RACK/TLP/PRR/undo state of one
// connection.
//
// Contract:
//  * SentLog keeps one record per transmitted range above SND.UNA, in
//    sequence order: [start, end) (a FIN counts as one byte), the time of
//    its latest transmission, and whether it was retransmitted, is SACKed
//    or is marked lost. New data is recorded in pieces of at most one MSS
//    (a TSO super-segment is several records), so retransmissions, which
//    are at most one MSS, line up with records.
//  * Memory is bounded: the ring's capacity is fixed by reserve() when the
//    connection starts using RACK (one allocation per connection, none per
//    segment; grow() when the send buffer grows). When it is full, new data extends the last record (and takes
//    its newer time): detection only becomes more conservative for it.
//  * A retransmission stamps every record it overlaps; a record only partly
//    covered is split first when there is room (else stamped whole).
//  * Every operation is O(records); no allocation after reserve().
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/seq.hpp"
#include "base/time.hpp"

namespace uinet::tcp {

class SentLog {
public:
    static constexpr std::uint8_t kSacked = 1;   // wholly SACKed
    static constexpr std::uint8_t kLost = 2;     // marked lost, not resent since
    static constexpr std::uint8_t kRexmit = 4;   // retransmitted at least once

    struct Rec {
        SeqNum start, end;
        Instant xmit;
        std::uint8_t flags = 0;
    };

    void reserve(std::size_t cap) {
        buf_.assign(cap < 4 ? 4 : cap, Rec{});
        head_ = n_ = 0;
    }
    bool active() const { return !buf_.empty(); }
    std::size_t capacity() const { return buf_.size(); }
    bool full() const { return n_ == buf_.size(); }
    // A larger ring, records kept (when the send buffer grew: a rare event).
    void grow(std::size_t cap);
    void clear() { head_ = n_ = 0; }
    std::size_t size() const { return n_; }
    Rec& at(std::size_t i) { return buf_[(head_ + i) % buf_.size()]; }
    const Rec& at(std::size_t i) const { return buf_[(head_ + i) % buf_.size()]; }
    bool empty() const { return n_ == 0; }
    SeqNum end() const { return at(n_ - 1).end; }

    // New data [start, end) sent at t, in pieces of at most mss.
    void append(SeqNum start, SeqNum end, Instant t, std::uint32_t mss);
    // [start, end) sent again at t: stamp, mark retransmitted, clear lost.
    void retransmit(SeqNum start, SeqNum end, Instant t);
    // Forget what lies below una (cumulatively acknowledged).
    void trim(SeqNum una);

private:
    void push(Rec r);
    bool split(std::size_t i, SeqNum at);  // record i becomes [start, at) and [at, end)

    std::vector<Rec> buf_;
    std::size_t head_ = 0, n_ = 0;
};

// RFC 8985 section 6.1 per-connection state, with TLP (section 7), PRR
// (RFC 6937) and undo (RFC 3522, 3708, 4015) bookkeeping.
struct RackState {
    // RACK.
    Instant xmit_ts{};           // RACK.xmit_ts: latest send time of a delivered segment
    SeqNum end_seq;              // RACK.end_seq
    bool have_xmit = false;
    Duration rtt{};              // RACK.rtt
    Duration min_rtt = Duration::max();
    SeqNum fack;                 // highest end of a delivered segment (RACK.fack)
    bool fack_valid = false;
    bool reordering_seen = false;
    std::uint32_t reo_wnd_mult = 1;
    std::int32_t reo_wnd_persist = 0;
    SeqNum dsack_round;
    bool dsack_round_valid = false;
    std::uint32_t segs_sacked = 0;  // records SACKed (for RACK_update_reo_wnd)
    Instant timer_at = Instant::never();  // the reordering timer
    // TLP (RFC 8985 section 7).
    Instant pto_at = Instant::never();
    bool tlp_in_flight = false;  // TLP.end_seq valid: an episode is open
    SeqNum tlp_end_seq;
    bool tlp_is_retrans = false;
    // PRR (RFC 6937).
    std::uint32_t prr_delivered = 0, prr_out = 0, recover_fs = 0;
    std::uint32_t delivered = 0;  // DeliveredData of the ACK being processed
    // Undo: the window before the congestion event, and the episode's
    // retransmissions (for D-SACK, RFC 3708's idea).
    bool undo_armed = false;
    bool undo_rto = false;          // the event was an RTO
    std::uint32_t undo_cwnd = 0, undo_ssthresh = 0;
    std::uint32_t undo_tsval = 0;   // TSval of the episode's first retransmission
    std::uint32_t undo_retrans = 0; // retransmissions of the episode
    std::uint32_t undo_dsacked = 0; // of which D-SACKed
};

}  // namespace uinet::tcp
