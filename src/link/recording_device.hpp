// link/recording_device.hpp — the base of Device wrappers that record the
// frames crossing them (PcapCapture, FlowCapture).
//
// Contract: owns an inner Device and forwards everything to it; record()
// sees every frame received from it (after it was received) and every
// frame handed to it for transmission (before the inner device sees it, as
// tcpdump sees frames before the driver). caps() is the inner device's with
// transmit checksum offload and TSO masked off, so every frame the stack
// hands over is complete and checksummed, as it will be on the wire.
#pragma once

#include <memory>

#include "link/device.hpp"

namespace uinet {

class RecordingDevice : public Device {
public:
    const std::string& name() const override { return inner_->name(); }
    DeviceCaps caps() const override {
        DeviceCaps c = inner_->caps();
        c.tx_csum_offload = false;
        c.tso_max = 0;
        return c;
    }
    std::size_t receive(Instant now, std::span<Packet> out) override {
        const std::size_t n = inner_->receive(now, out);
        for (std::size_t i = 0; i < n; ++i)
            if (out[i]) record(now, out[i]);
        return n;
    }
    std::size_t transmit(Instant now, std::span<Packet> pkts) override {
        for (const Packet& p : pkts)
            if (p) record(now, p);
        return inner_->transmit(now, pkts);
    }
    int poll_fd() const override { return inner_->poll_fd(); }
    Instant next_deadline() const override { return inner_->next_deadline(); }
    const DeviceStats& stats() const override { return inner_->stats(); }

    Device& inner() { return *inner_; }

protected:
    explicit RecordingDevice(std::unique_ptr<Device> inner) : inner_(std::move(inner)) {}
    virtual void record(Instant now, const Packet& frame) = 0;

private:
    std::unique_ptr<Device> inner_;
};

}  // namespace uinet
