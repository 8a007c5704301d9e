// tests/support/script_device.hpp — a Device driven by the test itself.
//
// inject() queues a frame for the stack to receive; everything the stack
// transmits is kept in `sent`, in order, with the instant it was handed to
// the device in `sent_at` (same index), for the test to inspect.
#pragma once

#include <deque>
#include <string>
#include <vector>

#include "link/device.hpp"

namespace uinet::test {

class ScriptDevice : public Device {
public:
    explicit ScriptDevice(Pool& pool, std::uint32_t mtu = 1500, std::string name = "script0")
        : pool_(pool), name_(std::move(name)) {
        caps_.mtu = mtu;
    }

    void inject(Bytes frame) { inbox_.emplace_back(frame.begin(), frame.end()); }

    const std::string& name() const override { return name_; }
    DeviceCaps caps() const override { return caps_; }
    // Offloads to advertise (set before the device joins an interface).
    void set_caps(const DeviceCaps& c) { caps_ = c; }
    std::size_t receive(Instant now, std::span<Packet> out) override {
        std::size_t n = 0;
        while (n < out.size() && !inbox_.empty()) {
            Packet p = pool_.copy_of(inbox_.front(), 64);
            inbox_.pop_front();
            if (!p) {
                ++stats_.rx_dropped;
                continue;
            }
            p.meta().rx_time = now;
            ++stats_.rx_packets;
            stats_.rx_bytes += p.size();
            out[n++] = std::move(p);
        }
        return n;
    }
    std::size_t transmit(Instant now, std::span<Packet> pkts) override {
        for (Packet& p : pkts) {
            std::vector<std::uint8_t> f(p.size());
            p.copy_out(0, f);
            stats_.tx_bytes += f.size();
            sent.push_back(std::move(f));
            sent_at.push_back(now);
            ++stats_.tx_packets;
            p.reset();
        }
        return pkts.size();
    }
    // Injected frames are due at once.
    Instant next_deadline() const override { return inbox_.empty() ? Instant::never() : Instant::from_ns(0); }
    const DeviceStats& stats() const override { return stats_; }

    std::vector<std::vector<std::uint8_t>> sent;
    std::vector<Instant> sent_at;

private:
    Pool& pool_;
    std::string name_;
    DeviceCaps caps_;
    DeviceStats stats_;
    std::deque<std::vector<std::uint8_t>> inbox_;
};

}  // namespace uinet::test
