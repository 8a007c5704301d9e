// link/flow_capture.cpp — classify frames into flows and write each selected
// flow to its own pcap file, with bounded open files and flows.
#include "link/flow_capture.hpp"

#include <algorithm>
#include <cstring>
#include <tuple>

#include <unistd.h>

#include "base/siphash.hpp"
#include "wire/ethernet.hpp"
#include "wire/vlan.hpp"

namespace uinet {

namespace {
constexpr std::size_t kHeaderCopy = 160;  // L2 + 4 tags + IPv6 + L4 ports
constexpr std::uint16_t kEtherIpv4 = 0x0800, kEtherIpv6 = 0x86dd;
constexpr std::uint8_t kTcp = 6, kUdp = 17;
constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kAck = 0x10;

// One frame's flow identity, as parsed.
struct Parsed {
    FlowCapture::Key key;
    bool from_a = true;  // sender is the key's endpoint a
    std::uint8_t tcp_flags = 0;
};

std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }

bool parse(const Packet& frame, Parsed& out) {
    std::uint8_t h[kHeaderCopy];
    const std::size_t n = std::min(frame.size(), sizeof h);
    if (!frame.copy_out(0, MutBytes(h, n))) return false;
    auto l2 = wire::parse_l2(Bytes(h, n));
    if (!l2) return false;
    std::size_t off = l2->header_len;
    FlowCapture::Key& k = out.key;
    for (std::size_t i = 0; i < l2->vlans.size() && i < k.tags.size(); ++i)
        k.tags[i] = static_cast<std::uint16_t>(l2->vlans.begin()[i].vid() | 0x8000);  // 0 stays "no tag"
    std::array<std::uint8_t, 16> src{}, dst{};
    std::size_t l4;
    if (l2->ethertype == kEtherIpv4) {
        if (n < off + 20 || (h[off] >> 4) != 4) return false;
        const std::size_t ihl = std::size_t{static_cast<std::uint8_t>(h[off] & 0x0f)} * 4;
        if (ihl < 20 || (be16(h + off + 6) & 0x1fff) != 0) return false;  // not the first fragment
        k.proto = h[off + 9];
        std::memcpy(src.data(), h + off + 12, 4);
        std::memcpy(dst.data(), h + off + 16, 4);
        l4 = off + ihl;
    } else if (l2->ethertype == kEtherIpv6) {
        if (n < off + 40 || (h[off] >> 4) != 6) return false;
        k.proto = h[off + 6];
        k.v6 = true;
        std::memcpy(src.data(), h + off + 8, 16);
        std::memcpy(dst.data(), h + off + 24, 16);
        l4 = off + 40;
    } else {
        return false;
    }
    if ((k.proto != kTcp && k.proto != kUdp) || n < l4 + 4) return false;
    const std::uint16_t sport = be16(h + l4), dport = be16(h + l4 + 2);
    if (k.proto == kTcp && n >= l4 + 14) out.tcp_flags = h[l4 + 13];
    const bool src_low = std::tie(src, sport) < std::tie(dst, dport);
    out.from_a = src_low;
    k.a = src_low ? src : dst;
    k.b = src_low ? dst : src;
    k.pa = src_low ? sport : dport;
    k.pb = src_low ? dport : sport;
    return true;
}

std::string endpoint(const std::array<std::uint8_t, 16>& a, bool v6, std::uint16_t port) {
    std::string s;
    if (v6) {
        s = "[" + Ipv6Addr::from_bytes(a.data()).to_string() + "]";
    } else {
        s = Ipv4Addr::of(a[0], a[1], a[2], a[3]).to_string();
    }
    return s + "." + std::to_string(port);
}

FlowCaptureInfo describe(const FlowCapture::Key& k, bool client_is_a) {
    FlowCaptureInfo i;
    i.protocol = k.proto;
    const std::string ea = endpoint(k.a, k.v6, k.pa), eb = endpoint(k.b, k.v6, k.pb);
    i.client = client_is_a ? ea : eb;
    i.server = client_is_a ? eb : ea;
    for (std::uint16_t t : k.tags) {
        if (!t) break;
        if (!i.vlan_tags.empty()) i.vlan_tags += ".";
        i.vlan_tags += std::to_string(t & 0x0fff);
    }
    return i;
}
}  // namespace

std::size_t FlowCapture::KeyHash::operator()(const Key& k) const {
    std::uint8_t b[16 + 16 + 2 + 2 + 1 + 1 + 8];
    std::uint8_t* p = b;
    std::memcpy(p, k.a.data(), 16), p += 16;
    std::memcpy(p, k.b.data(), 16), p += 16;
    std::memcpy(p, &k.pa, 2), p += 2;
    std::memcpy(p, &k.pb, 2), p += 2;
    *p++ = k.proto;
    *p++ = k.v6 ? 1 : 0;
    std::memcpy(p, k.tags.data(), 8);
    return static_cast<std::size_t>(siphash13(SipKey{0x75696e6574666c6fULL, 0x7763617074757265ULL}, Bytes(b, sizeof b)));
}

FlowCapture::FlowCapture(std::unique_ptr<Device> inner, FlowCaptureConfig cfg)
    : RecordingDevice(std::move(inner)), cfg_(std::move(cfg)) {
    cfg_.max_open = std::max<std::size_t>(cfg_.max_open, 1);
}

FlowCapture::~FlowCapture() { close_all(); }

void FlowCapture::close_all() {
    for (auto& [k, f] : flows_) close_writer(f);
}

void FlowCapture::record(Instant now, const Packet& frame) {
    const Instant ts = frame.meta().rx_time != Instant{} ? frame.meta().rx_time : now;
    forget_idle(ts);
    Parsed p;
    if (!parse(frame, p)) {
        ++stats_.unclassified;
        return;
    }
    const bool syn_only = (p.tcp_flags & (kSyn | kAck)) == kSyn;
    auto it = flows_.find(p.key);
    // A new SYN on an ended flow starts a new file (the 4-tuple recurs).
    if (it != flows_.end() && it->second.ended && syn_only) {
        close_writer(it->second);
        flows_.erase(it);
        it = flows_.end();
    }
    if (it == flows_.end()) {
        if (flows_.size() >= cfg_.max_flows) {
            ++stats_.flows_refused;
            return;
        }
        ++stats_.flows;
        it = flows_.emplace(p.key, Flow{}).first;
        Flow& f = it->second;
        // The sender of the first frame is the client, except that the
        // receiver of a SYN-ACK is.
        const bool synack = (p.tcp_flags & (kSyn | kAck)) == (kSyn | kAck);
        const bool client_is_a = synack ? !p.from_a : p.from_a;
        const FlowCaptureInfo info = describe(p.key, client_is_a);
        f.selected = !cfg_.select || cfg_.select(info);
        if (f.selected) {
            std::string base = cfg_.dir + "/" + (p.key.proto == kTcp ? "tcp-" : "udp-") + info.client + "-" +
                               info.server + (info.vlan_tags.empty() ? "" : "-v" + info.vlan_tags);
            // Never overwrite: a recurring 4-tuple (or an earlier run's
            // file) gets the next free suffix.
            f.path = base + ".pcap";
            for (std::uint32_t n = 2; ::access(f.path.c_str(), F_OK) == 0 && n < 100000; ++n)
                f.path = base + "-" + std::to_string(n) + ".pcap";
            open_writer(p.key, f, false);
            if (f.writer) {
                ++stats_.flows_written;
                files_.push_back(f.path);
            }
        }
    }
    Flow& f = it->second;
    f.last = ts;
    if (p.tcp_flags & kRst) f.ended = true;
    if (p.tcp_flags & kFin) {
        f.fins |= p.from_a ? 1 : 2;
        if (f.fins == 3) f.ended = true;
    }
    if (!f.selected || f.path.empty()) return;
    if (!f.writer) {
        ++stats_.reopens;
        open_writer(p.key, f, true);
        if (!f.writer) return;
    } else if (f.lru != lru_.begin()) {
        lru_.splice(lru_.begin(), lru_, f.lru);
    }
    f.writer->write(ts, frame);
    if (f.writer->errors()) {
        ++stats_.write_errors;
        close_writer(f);
        f.path.clear();  // no more attempts for this flow
        return;
    }
    ++stats_.frames_written;
}

void FlowCapture::open_writer(const Key& k, Flow& f, bool append) {
    while (lru_.size() >= cfg_.max_open) {
        auto victim = flows_.find(lru_.back());
        if (victim == flows_.end()) {
            lru_.pop_back();
            continue;
        }
        close_writer(victim->second);
    }
    auto w = append ? PcapWriter::append_to(f.path, cfg_.snaplen) : PcapWriter::create(f.path, cfg_.snaplen);
    if (!w) {
        ++stats_.write_errors;
        f.path.clear();
        return;
    }
    f.writer = std::move(*w);
    lru_.push_front(k);
    f.lru = lru_.begin();
}

void FlowCapture::close_writer(Flow& f) {
    if (!f.writer) return;
    f.writer->flush();
    if (f.writer->errors()) ++stats_.write_errors;
    f.writer.reset();
    lru_.erase(f.lru);
}

void FlowCapture::forget_idle(Instant now) {
    if (now < next_sweep_) return;
    next_sweep_ = now + std::max(cfg_.idle_forget / 4, Duration::millis(1));
    for (auto it = flows_.begin(); it != flows_.end();) {
        if (now - it->second.last > cfg_.idle_forget) {
            close_writer(it->second);
            it = flows_.erase(it);
        } else {
            ++it;
        }
    }
}

}  // namespace uinet
