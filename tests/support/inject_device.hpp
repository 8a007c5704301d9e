// tests/support/inject_device.hpp — a Device wrapper that adds frames from
// a generator to what the wrapped device receives: traffic that never
// crossed the link (spoofed floods, blind injection) in virtual time.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "link/device.hpp"
#include "wire/ethernet.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"
#include "wire/vlan.hpp"

namespace uinet::test {

class InjectingDevice final : public Device {
public:
    // next(): when the next generated frame is due (never: none).
    // make(frame): writes that frame's bytes and advances to the next.
    struct Generator {
        std::function<Instant()> next;
        std::function<void(std::vector<std::uint8_t>&)> make;
    };

    InjectingDevice(std::unique_ptr<Device> inner, Pool& pool) : inner_(std::move(inner)), pool_(pool) {}
    void set_generator(Generator g) { gen_ = std::move(g); }
    std::uint64_t injected() const { return injected_; }
    std::uint64_t dropped() const { return dropped_; }  // pool exhausted

    const std::string& name() const override { return inner_->name(); }
    DeviceCaps caps() const override { return inner_->caps(); }
    std::size_t receive(Instant now, std::span<Packet> out) override {
        std::size_t n = inner_->receive(now, out);
        while (n < out.size() && gen_.next && gen_.next() <= now) {
            gen_.make(frame_);
            Packet p = pool_.copy_of({frame_.data(), frame_.size()}, 0);
            if (!p) {
                ++dropped_;
                continue;
            }
            ++injected_;
            out[n++] = std::move(p);
        }
        return n;
    }
    std::size_t transmit(Instant now, std::span<Packet> pkts) override { return inner_->transmit(now, pkts); }
    int poll_fd() const override { return inner_->poll_fd(); }
    Instant next_deadline() const override {
        const Instant g = gen_.next ? gen_.next() : Instant::never();
        return earliest(g, inner_->next_deadline());
    }
    const DeviceStats& stats() const override { return inner_->stats(); }

private:
    std::unique_ptr<Device> inner_;
    Pool& pool_;
    Generator gen_;
    std::vector<std::uint8_t> frame_;
    std::uint64_t injected_ = 0, dropped_ = 0;
};

// An Ethernet/IPv4/TCP frame with correct checksums.
inline void tcp_frame(std::vector<std::uint8_t>& f, const MacAddr& dst_mac, const MacAddr& src_mac, Ipv4Addr src,
                      Ipv4Addr dst, const wire::TcpRepr& t, Bytes payload = {}) {
    const std::size_t eh = 14, ih = 20, th = t.size();
    f.assign(eh + ih + th + payload.size(), 0);
    wire::emit_l2({f.data(), eh}, dst_mac, src_mac, {}, wire::ethertype::ipv4);
    wire::Ipv4Repr ip;
    ip.src = src;
    ip.dst = dst;
    ip.protocol = wire::ip_proto::tcp;
    ip.ttl = 64;
    ip.payload_len = static_cast<std::uint16_t>(th + payload.size());
    ip.emit({f.data() + eh, ih});
    std::copy(payload.begin(), payload.end(), f.begin() + static_cast<std::ptrdiff_t>(eh + ih + th));
    t.emit({f.data() + eh + ih, th}, payload, src, dst);
}

}  // namespace uinet::test
