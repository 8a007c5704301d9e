// Helpers for the link tests: frame builders and a scripted fake Device.
#pragma once

#include <poll.h>

#include <cstdint>
#include <deque>
#include <limits>
#include <string>
#include <vector>

#include "link/device.hpp"

namespace uinet::test {

using Frame = std::vector<std::uint8_t>;

// An Ethernet frame of `len` bytes: broadcast destination,
// source 02:00:00:00:00:<id>, ethertype 0x88b5 (local experimental), then
// payload bytes derived from id so that frames differ.
inline Frame make_frame(std::size_t len, std::uint8_t id, std::uint16_t ethertype = 0x88b5) {
    Frame f(len < 14 ? 14 : len, 0);
    for (int i = 0; i < 6; ++i) f[i] = 0xff;
    f[6] = 0x02;
    f[11] = id;
    f[12] = static_cast<std::uint8_t>(ethertype >> 8);
    f[13] = static_cast<std::uint8_t>(ethertype);
    for (std::size_t i = 14; i < len; ++i) f[i] = static_cast<std::uint8_t>(id * 31 + i);
    f.resize(len);  // a runt keeps only its first len bytes
    return f;
}

inline Frame bytes_of(const Packet& p) {
    Frame f(p.size());
    p.copy_out(0, f);
    return f;
}

inline bool readable(int fd) {
    pollfd pfd{fd, POLLIN, 0};
    return ::poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

inline Packet packet_of(Pool& pool, const Frame& f) { return pool.copy_of(f, pool.config().headroom); }

// Sends frames through dev.transmit, returns how many it took.
inline std::size_t send(Device& dev, Pool& pool, Instant now, const std::vector<Frame>& frames) {
    std::vector<Packet> pkts;
    for (const Frame& f : frames) pkts.push_back(packet_of(pool, f));
    return dev.transmit(now, pkts);
}

// Receives everything due at `now` (batches of `batch`).
inline std::vector<Frame> recv_all(Device& dev, Instant now, std::size_t batch = 8) {
    std::vector<Frame> got;
    std::vector<Packet> out(batch);
    for (;;) {
        const std::size_t n = dev.receive(now, out);
        for (std::size_t i = 0; i < n; ++i) {
            got.push_back(bytes_of(out[i]));
            out[i].reset();
        }
        if (n < batch) break;
    }
    return got;
}

// A scripted device: frames queued in `incoming` are received (from the
// pool), transmitted frames are recorded in `sent`.
class FakeDevice : public Device {
public:
    explicit FakeDevice(Pool& pool, std::string name = "fake") : pool_(pool), name_(std::move(name)) {}

    const std::string& name() const override { return name_; }
    DeviceCaps caps() const override { return caps_; }
    std::size_t receive(Instant, std::span<Packet> out) override {
        std::size_t n = 0;
        while (n < out.size() && !incoming.empty()) {
            out[n] = pool_.copy_of(incoming.front(), headroom);
            if (out[n] && mark_verified) out[n].meta().rx_csum_verified = true;
            ++n;
            incoming.pop_front();
            ++stats_.rx_packets;
        }
        return n;
    }
    std::size_t transmit(Instant now, std::span<Packet> pkts) override {
        std::size_t i = 0;
        for (; i < pkts.size() && accepted < accept_limit; ++i) {
            if (!pkts[i]) continue;
            sent.push_back(bytes_of(pkts[i]));
            sent_at.push_back(now);
            sent_meta.push_back(pkts[i].meta());
            pkts[i].reset();
            ++accepted;
            ++stats_.tx_packets;
        }
        return i;
    }
    int poll_fd() const override { return fd; }
    Instant next_deadline() const override { return deadline; }
    const DeviceStats& stats() const override { return stats_; }

    std::deque<Frame> incoming;
    std::vector<Frame> sent;
    std::vector<Instant> sent_at;
    std::vector<OffloadMeta> sent_meta;
    std::size_t accept_limit = std::numeric_limits<std::size_t>::max();  // over the device's life
    std::size_t accepted = 0;
    std::size_t headroom = 128;
    bool mark_verified = false;
    int fd = -1;
    Instant deadline = Instant::never();
    DeviceCaps caps_{};

private:
    Pool& pool_;
    std::string name_;
    DeviceStats stats_{};
};

}  // namespace uinet::test
