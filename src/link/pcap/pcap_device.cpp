// link/pcap/pcap_device.cpp — capture files and live capture through libpcap.
#include "link/pcap/pcap_device.hpp"

#include <pcap/pcap.h>

#include <array>
#include <cstring>

namespace uinet {

namespace {

constexpr std::size_t kEthHeader = 14;
constexpr std::size_t kHeadroom = 128;

std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }

Instant stamp(const pcap_pkthdr& h) {
    // Opened with nanosecond precision: tv_usec holds nanoseconds.
    return Instant::from_ns(static_cast<std::int64_t>(h.ts.tv_sec) * 1'000'000'000 +
                            static_cast<std::int64_t>(h.ts.tv_usec));
}

// How a link type's packets become Ethernet frames: the bytes to skip and
// the synthetic header to put in front (none for Ethernet itself).
struct Framing {
    bool ok = false;
    std::size_t skip = 0;
    bool synthesize = false;
    std::uint16_t ethertype = 0;
    std::array<std::uint8_t, 6> src{};
};

Framing framing(int linktype, const std::uint8_t* d, std::size_t n) {
    Framing f;
    switch (linktype) {
        case DLT_EN10MB: f.ok = n >= kEthHeader; return f;
        case DLT_RAW:
        case DLT_IPV4:
        case DLT_IPV6:
            if (n < 1) return f;
            f.ok = true;
            f.synthesize = true;
            f.ethertype = (d[0] >> 4) == 6 ? 0x86dd : 0x0800;
            return f;
        case DLT_LINUX_SLL:  // 16-byte cooked header; protocol last
            if (n < 16) return f;
            f.ok = f.synthesize = true;
            f.skip = 16;
            f.ethertype = be16(d + 14);
            if (be16(d + 4) == 6) std::memcpy(f.src.data(), d + 6, 6);
            return f;
        case DLT_LINUX_SLL2:  // 20-byte cooked header; protocol first
            if (n < 20) return f;
            f.ok = f.synthesize = true;
            f.skip = 20;
            f.ethertype = be16(d);
            if (d[11] == 6) std::memcpy(f.src.data(), d + 12, 6);
            return f;
        default: return f;
    }
}

bool supported(int linktype) {
    return linktype == DLT_EN10MB || linktype == DLT_RAW || linktype == DLT_IPV4 || linktype == DLT_IPV6 ||
           linktype == DLT_LINUX_SLL || linktype == DLT_LINUX_SLL2;
}

}  // namespace

// ---------------------------------------------------------------- file

Result<std::unique_ptr<PcapFileDevice>, std::string> PcapFileDevice::open(const std::string& path, Pool& pool,
                                                                            Pace pace) {
    char err[PCAP_ERRBUF_SIZE] = {};
    pcap_t* p = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
    if (p == nullptr) return Err{"cannot read capture '" + path + "': " + err};
    const int lt = pcap_datalink(p);
    if (!supported(lt)) {
        const char* lname = pcap_datalink_val_to_name(lt);
        pcap_close(p);
        return Err{"capture '" + path + "': unsupported link type " + std::to_string(lt) + " (" +
                   (lname ? lname : "unknown") + "); Ethernet, raw IP and Linux cooked captures are read"};
    }
    auto dev = std::unique_ptr<PcapFileDevice>(new PcapFileDevice(path, p, pool, pace));
    dev->linktype_ = lt;
    dev->advance();
    dev->first_ts_ = dev->next_ts_;
    return dev;
}

PcapFileDevice::PcapFileDevice(std::string path, pcap* p, Pool& pool, Pace pace)
    : name_(std::move(path)), pcap_(p), pool_(pool), pace_(pace) {}

PcapFileDevice::~PcapFileDevice() { pcap_close(pcap_); }

DeviceCaps PcapFileDevice::caps() const {
    DeviceCaps c;
    c.mtu = 65535;  // whatever was captured
    return c;
}

void PcapFileDevice::advance() {
    pcap_pkthdr* h = nullptr;
    const std::uint8_t* d = nullptr;
    const int r = pcap_next_ex(pcap_, &h, &d);
    if (r == 1) {
        have_next_ = true;
        next_ts_ = stamp(*h);
        next_data_ = d;
        next_caplen_ = h->caplen;
        next_len_ = h->len;
        ++fstats_.packets;
        return;
    }
    have_next_ = false;
    next_data_ = nullptr;
    if (r == PCAP_ERROR) {
        ++stats_.rx_errors;
        error_ = pcap_geterr(pcap_);
    }
}

Instant PcapFileDevice::next_deadline() const {
    if (!have_next_) return Instant::never();
    if (pace_ == Pace::full_speed || !started_) return Instant::from_ns(0);
    return start_ + (next_ts_ - first_ts_);
}

std::size_t PcapFileDevice::receive(Instant now, std::span<Packet> out) {
    if (!started_) {
        started_ = true;
        start_ = now;
    }
    std::size_t n = 0;
    while (n < out.size() && have_next_) {
        if (pace_ == Pace::capture_timing && start_ + (next_ts_ - first_ts_) > now) break;
        const Instant ts = next_ts_;
        const std::uint8_t* d = next_data_;
        const std::size_t caplen = next_caplen_;
        const bool cut = next_caplen_ < next_len_;
        // The data pointer is valid until the next read: build the frame first.
        Packet pkt;
        Framing f = cut ? Framing{} : framing(linktype_, d, caplen);
        if (cut) {
            ++fstats_.truncated;
        } else if (!f.ok) {
            ++stats_.rx_errors;  // too short for its own link header
        } else if (pkt = pool_.alloc(kHeadroom); !pkt) {
            ++stats_.rx_dropped;
        } else {
            bool ok = true;
            if (f.synthesize) {
                std::array<std::uint8_t, kEthHeader> eth{};
                std::memcpy(eth.data() + 6, f.src.data(), 6);
                eth[12] = static_cast<std::uint8_t>(f.ethertype >> 8);
                eth[13] = static_cast<std::uint8_t>(f.ethertype);
                ok = pkt.append({eth.data(), eth.size()});
                ++fstats_.converted;
            }
            ok = ok && pkt.append({d + f.skip, caplen - f.skip});
            if (!ok) {
                pkt.reset();
                ++stats_.rx_dropped;
            }
        }
        advance();
        if (!pkt) continue;
        pkt.meta().rx_time = ts;
        ++stats_.rx_packets;
        stats_.rx_bytes += pkt.size();
        out[n++] = std::move(pkt);
    }
    return n;
}

std::size_t PcapFileDevice::transmit(Instant, std::span<Packet> pkts) {
    for (Packet& p : pkts) p.reset();
    stats_.tx_dropped += pkts.size();
    return pkts.size();
}

// ---------------------------------------------------------------- live

Result<std::unique_ptr<PcapLiveDevice>, std::string> PcapLiveDevice::open(const std::string& ifname, Pool& pool,
                                                                            std::uint32_t mtu) {
    char err[PCAP_ERRBUF_SIZE] = {};
    pcap_t* p = pcap_create(ifname.c_str(), err);
    if (p == nullptr) return Err{"cannot capture on '" + ifname + "': " + err};
    auto fail = [&](const std::string& what) -> Result<std::unique_ptr<PcapLiveDevice>, std::string> {
        std::string msg = "cannot capture on '" + ifname + "': " + what + ": " + pcap_geterr(p);
        pcap_close(p);
        return Err{msg};
    };
    if (pcap_set_snaplen(p, 65535) != 0 || pcap_set_promisc(p, 1) != 0 || pcap_set_immediate_mode(p, 1) != 0 ||
        pcap_set_buffer_size(p, 8 << 20) != 0)
        return fail("setting capture options");
    if (const int r = pcap_activate(p); r < 0) return fail("activating");
    if (pcap_datalink(p) != DLT_EN10MB) {
        pcap_close(p);
        return Err{"cannot capture on '" + ifname + "': not an Ethernet interface"};
    }
    // Frames we inject must not come back to us as received ones.
    if (pcap_setdirection(p, PCAP_D_IN) != 0) return fail("selecting inbound frames only");
    if (pcap_setnonblock(p, 1, err) != 0) {
        pcap_close(p);
        return Err{"cannot capture on '" + ifname + "': " + err};
    }
    auto dev = std::unique_ptr<PcapLiveDevice>(new PcapLiveDevice(ifname, p, pool, mtu));
    dev->fd_ = pcap_get_selectable_fd(p);
    return dev;
}

PcapLiveDevice::PcapLiveDevice(std::string ifname, pcap* p, Pool& pool, std::uint32_t mtu)
    : name_(std::move(ifname)), pcap_(p), pool_(pool), mtu_(mtu), scratch_(65536) {}

PcapLiveDevice::~PcapLiveDevice() { pcap_close(pcap_); }

DeviceCaps PcapLiveDevice::caps() const {
    DeviceCaps c;
    c.mtu = mtu_;
    return c;
}

std::size_t PcapLiveDevice::receive(Instant now, std::span<Packet> out) {
    std::size_t n = 0;
    while (n < out.size()) {
        pcap_pkthdr* h = nullptr;
        const std::uint8_t* d = nullptr;
        const int r = pcap_next_ex(pcap_, &h, &d);
        if (r != 1) {
            if (r == PCAP_ERROR) ++stats_.rx_errors;
            break;
        }
        if (h->caplen < h->len || h->caplen < kEthHeader) {
            ++stats_.rx_errors;
            continue;
        }
        Packet pkt = pool_.copy_of({d, h->caplen}, kHeadroom);
        if (!pkt) {
            ++stats_.rx_dropped;
            continue;
        }
        pkt.meta().rx_time = now;
        ++stats_.rx_packets;
        stats_.rx_bytes += h->caplen;
        out[n++] = std::move(pkt);
    }
    pcap_stat ps{};
    if (pcap_stats(pcap_, &ps) == 0) {
        const std::uint64_t drops = std::uint64_t{ps.ps_drop} + ps.ps_ifdrop;
        if (drops > kernel_drops_seen_) stats_.rx_dropped += drops - kernel_drops_seen_;
        kernel_drops_seen_ = drops;
    }
    return n;
}

std::size_t PcapLiveDevice::transmit(Instant, std::span<Packet> pkts) {
    for (Packet& p : pkts) {
        const std::size_t len = p.size();
        const std::uint8_t* data = p.front().data();
        if (p.is_chain()) {
            if (len > scratch_.size() || !p.copy_out(0, {scratch_.data(), len})) {
                ++stats_.tx_errors;
                p.reset();
                continue;
            }
            data = scratch_.data();
        }
        if (pcap_inject(pcap_, data, len) == static_cast<int>(len)) {
            ++stats_.tx_packets;
            stats_.tx_bytes += len;
        } else {
            ++stats_.tx_errors;
        }
        p.reset();
    }
    return pkts.size();
}

}  // namespace uinet
