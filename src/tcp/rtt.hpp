// tcp/rtt.hpp — round-trip time estimation and the retransmission timeout.
//
// Contract (RFC 6298):
//  * Before any sample, rto() is config.initial_rto (section 2.1: 1 s).
//  * First sample R: SRTT = R, RTTVAR = R/2 (section 2.2). Later samples:
//    RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R|, then SRTT = 7/8 SRTT + 1/8 R
//    (section 2.3, alpha = 1/8, beta = 1/4; RTTVAR uses the old SRTT).
//    Base RTO = SRTT + max(G, 4 * RTTVAR), G = config.granularity.
//  * rto() = base RTO clamped to [min_rto, max_rto], then doubled once per
//    backoff() (section 5.5), and clamped to max_rto again (section 2.5
//    allows a maximum; 120 s here, not less than the 60 s it asks for).
//  * min_rto defaults to 200 ms, as Linux does (TCP_RTO_MIN), not the 1 s of
//    section 2.4: on today's paths 1 s makes every tail loss stall for a
//    second, and 200 ms keeps clear of delayed-ACK timers (RFC 9293
//    3.8.6.3 bounds them at 500 ms, but common stacks use 40-200 ms).
//  * Karn's algorithm (section 3) is the caller's: never pass a sample
//    measured on a retransmitted segment. A valid sample collapses any
//    backoff (the path is answering again; section 5.7's "RTO is recomputed"):
//    sample() calls reset_backoff().
//  * Negative samples are ignored. All arithmetic is in integer nanoseconds;
//    no overflow for samples up to hours.
#pragma once

#include "base/time.hpp"

namespace uinet::tcp {

struct RttConfig {
    Duration initial_rto = Duration::seconds(1);
    Duration min_rto = Duration::millis(200);  // Linux's; RFC 6298 2.4 says 1 s (see above)
    Duration max_rto = Duration::seconds(120);
    Duration granularity = Duration::millis(1);
};

class RttEstimator {
public:
    explicit RttEstimator(RttConfig config = {});

    // Feeds one RTT measurement (Karn: not from a retransmitted segment).
    void sample(Duration rtt);
    // The current retransmission timeout, backoff applied, clamped.
    Duration rto() const;
    // Doubles the timeout (up to max_rto) after a retransmission timer expiry.
    void backoff();
    void reset_backoff() { backoffs_ = 0; }
    // Expiries since the last reset_backoff() or sample() (for give-up limits).
    int backoffs() const { return backoffs_; }
    // Forgets every sample and any backoff (RFC 6298 5.7 allows clearing).
    void clear();
    // The RTO used until the first sample (RFC 6298 5.7: 3 s once a SYN
    // or SYN-ACK had to be retransmitted). No effect once sampled.
    void set_initial_rto(Duration d) { cfg_.initial_rto = d; }

    bool has_sample() const { return has_sample_; }
    Duration srtt() const { return srtt_; }
    Duration rttvar() const { return rttvar_; }
    const RttConfig& config() const { return cfg_; }

private:
    RttConfig cfg_;
    Duration srtt_{};
    Duration rttvar_{};
    int backoffs_ = 0;
    bool has_sample_ = false;
};

}  // namespace uinet::tcp
