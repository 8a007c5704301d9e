// tests/support/drop_device.hpp — a Device wrapper that drops the frames a
// predicate picks on their way out, and the loss models that feed it.
//
// Contract:
//  * DropDevice asks `drop(now, frame)` once per frame handed to
//    transmit(), in order; a frame it answers true for is freed and counted
//    (dropped()); the others go on to the inner device in one batch. The
//    receive side and everything else are forwarded unchanged. transmit()
//    takes every frame (those the inner device refuses are freed and
//    counted in stats().tx_dropped, as the mem pipe would).
//  * GilbertElliott is the two-state Markov loss model of Gilbert (1960)
//    and Elliott (1963): in the good state a frame is lost with probability
//    loss_good, in the bad state with loss_bad; after each frame the state
//    flips good->bad with p_gb and bad->good with p_bg. With loss_good = 0
//    and loss_bad = 1 (the Gilbert model) losses come in bursts of mean
//    length 1/p_bg and the long-run loss rate is p_gb / (p_gb + p_bg);
//    with_mean() solves those two for p_gb and p_bg. Its generator is a
//    self-contained SplitMix64, so a seed replays exactly.
//  * BernoulliLoss drops each frame independently with probability p.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "link/device.hpp"

namespace uinet::test {

class SplitMix64 {
public:
    explicit SplitMix64(std::uint64_t seed) : s_(seed) {}
    std::uint64_t next() {
        std::uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    // Uniform in [0, 1).
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

private:
    std::uint64_t s_;
};

struct BernoulliLoss {
    double p = 0;
    SplitMix64 rng{1};
    BernoulliLoss(double prob, std::uint64_t seed) : p(prob), rng(seed) {}
    bool operator()() { return p > 0 && rng.uniform() < p; }
};

struct GilbertElliott {
    double p_gb = 0, p_bg = 1;
    double loss_good = 0, loss_bad = 1;
    bool bad = false;
    SplitMix64 rng{1};

    // The Gilbert model with long-run loss rate `mean` in bursts of mean
    // length `burst` (>= 1): p_bg = 1/burst, p_gb = mean * p_bg / (1 - mean).
    static GilbertElliott with_mean(double mean, double burst, std::uint64_t seed) {
        GilbertElliott g;
        g.p_bg = 1.0 / burst;
        g.p_gb = mean * g.p_bg / (1.0 - mean);
        g.rng = SplitMix64(seed);
        return g;
    }
    bool operator()() {
        const bool lost = rng.uniform() < (bad ? loss_bad : loss_good);
        bad = bad ? !(rng.uniform() < p_bg) : rng.uniform() < p_gb;
        return lost;
    }
};

class DropDevice final : public Device {
public:
    using Predicate = std::function<bool(Instant now, const Packet& frame)>;

    DropDevice(std::unique_ptr<Device> inner, Predicate drop) : inner_(std::move(inner)), drop_(std::move(drop)) {}

    std::uint64_t dropped() const { return dropped_; }

    const std::string& name() const override { return inner_->name(); }
    DeviceCaps caps() const override { return inner_->caps(); }
    std::size_t receive(Instant now, std::span<Packet> out) override { return inner_->receive(now, out); }
    std::size_t transmit(Instant now, std::span<Packet> pkts) override {
        std::size_t kept = 0;
        for (Packet& p : pkts) {
            if (drop_ && drop_(now, p)) {
                ++dropped_;
                p = Packet();
                continue;
            }
            if (&pkts[kept] != &p) pkts[kept] = std::move(p);
            ++kept;
        }
        const std::size_t taken = inner_->transmit(now, pkts.first(kept));
        for (std::size_t i = taken; i < kept; ++i) {
            pkts[i] = Packet();
            ++stats_.tx_dropped;
        }
        return pkts.size();
    }
    int poll_fd() const override { return inner_->poll_fd(); }
    Instant next_deadline() const override { return inner_->next_deadline(); }
    const DeviceStats& stats() const override {
        stats_view_ = inner_->stats();
        stats_view_.tx_dropped += stats_.tx_dropped + dropped_;
        return stats_view_;
    }

private:
    std::unique_ptr<Device> inner_;
    Predicate drop_;
    std::uint64_t dropped_ = 0;
    DeviceStats stats_{};
    mutable DeviceStats stats_view_{};
};

}  // namespace uinet::test
