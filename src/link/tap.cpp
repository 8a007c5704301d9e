// link/tap.cpp — the Linux TAP driver: /dev/net/tun with IFF_TAP|IFF_NO_PI.
//
// Interface configuration goes through a throw-away AF_INET datagram socket
// (SIOCGIFFLAGS/SIOCSIFFLAGS, SIOCGIFMTU, SIOCGIFHWADDR), as ip(8) does.
#include "link/tap.hpp"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "wire/checksum.hpp"

// The virtio-net header that IFF_VNET_HDR puts before every frame (virtio
// spec 1.1 section 5.1.6; <linux/virtio_net.h> cannot be included from C++:
// a field is named `class`). Little-endian, which is host order here.
struct virtio_net_hdr {
    std::uint8_t flags;
    std::uint8_t gso_type;
    std::uint16_t hdr_len;      // Ethernet + IP + TCP headers
    std::uint16_t gso_size;     // payload bytes per segment
    std::uint16_t csum_start;   // where checksumming starts
    std::uint16_t csum_offset;  // where the result goes, from csum_start
};
static_assert(sizeof(virtio_net_hdr) == 10);

namespace uinet {

namespace {

constexpr std::uint8_t VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
constexpr std::uint8_t VIRTIO_NET_HDR_F_DATA_VALID = 2;
constexpr std::uint8_t VIRTIO_NET_HDR_GSO_NONE = 0;
constexpr std::uint8_t VIRTIO_NET_HDR_GSO_TCPV4 = 1;
constexpr std::uint8_t VIRTIO_NET_HDR_GSO_TCPV6 = 4;
constexpr std::uint8_t VIRTIO_NET_HDR_GSO_ECN = 0x80;

constexpr std::size_t kSpillBytes = 65536 + 256;  // largest TAP frame (MTU 65535) and then some
constexpr int kMaxIov = 64;

const char* kPermissionDenied =
    "permission denied: creating or attaching a TAP device needs CAP_NET_ADMIN (run as root)";

std::string sys_error(const std::string& what, int err) { return what + ": " + std::strerror(err); }

// A datagram socket for interface ioctls, closed on scope exit.
class CtlSocket {
public:
    CtlSocket() : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {}
    ~CtlSocket() {
        if (fd_ >= 0) ::close(fd_);
    }
    CtlSocket(const CtlSocket&) = delete;
    CtlSocket& operator=(const CtlSocket&) = delete;
    int fd() const { return fd_; }

private:
    int fd_;
};

void set_name(ifreq& ifr, const std::string& name) {
    std::memset(&ifr, 0, sizeof ifr);
    std::memcpy(ifr.ifr_name, name.data(), std::min<std::size_t>(name.size(), IFNAMSIZ - 1));
}

Result<std::uint32_t, std::string> read_mtu(const std::string& name) {
    CtlSocket s;
    if (s.fd() < 0) return Err{sys_error("socket for interface ioctls", errno)};
    ifreq ifr;
    set_name(ifr, name);
    if (::ioctl(s.fd(), SIOCGIFMTU, &ifr) < 0) return Err{sys_error("SIOCGIFMTU on " + name, errno)};
    return static_cast<std::uint32_t>(ifr.ifr_mtu);
}

// Header lengths of an Ethernet frame (tags skipped): L2, and L3 + L4 for
// TCP over IPv4/IPv6. Zeroes when the frame is not TCP or is too short.
struct Lens {
    std::size_t l2 = 0, l3 = 0, l4 = 0;
    bool v6 = false;
};
Lens tcp_lens(Bytes f) {
    Lens r;
    std::size_t off = 12;
    std::uint16_t type = 0;
    for (;;) {
        if (f.size() < off + 2) return {};
        type = static_cast<std::uint16_t>((f[off] << 8) | f[off + 1]);
        if (type != 0x8100 && type != 0x88a8 && type != 0x9100) break;
        off += 4;
    }
    r.l2 = off + 2;
    std::uint8_t proto = 0;
    if (type == 0x0800) {
        if (f.size() < r.l2 + 20) return {};
        r.l3 = static_cast<std::size_t>(f[r.l2] & 0x0fu) * 4;
        proto = f[r.l2 + 9];
    } else if (type == 0x86dd) {
        if (f.size() < r.l2 + 40) return {};
        r.l3 = 40;
        proto = f[r.l2 + 6];
        r.v6 = true;
    } else {
        return {};
    }
    if (proto != 6 || f.size() < r.l2 + r.l3 + 20) return {};
    r.l4 = static_cast<std::size_t>(f[r.l2 + r.l3 + 12] >> 4) * 4;
    return r;
}

// Completes a checksum the kernel left partial: the field at start+offset
// holds the pseudo-header sum; the sum over [start, end) finishes it.
void finish_checksum(Packet& p, std::size_t start, std::size_t offset) {
    const std::size_t at = start + offset;
    if (at + 2 > p.front().size()) return;  // headers are in the first buffer
    wire::Checksum c;
    std::size_t skip = start;
    p.for_each_segment([&](Bytes b) {
        if (skip >= b.size()) {
            skip -= b.size();
            return;
        }
        c.add(b.subspan(skip));
        skip = 0;
    });
    const std::uint16_t v = c.finish();
    p.front().data()[at] = static_cast<std::uint8_t>(v >> 8);
    p.front().data()[at + 1] = static_cast<std::uint8_t>(v);
}

}  // namespace

TapDevice::TapDevice(std::string name, Pool& pool, int fd)
    : name_(std::move(name)), pool_(pool), fd_(fd), spill_(std::make_unique<std::uint8_t[]>(kSpillBytes)) {}

TapDevice::~TapDevice() {
    if (fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<TapDevice>, std::string> TapDevice::open(const std::string& name, Pool& rx_pool,
                                                                 const TapOptions& opts) {
    if (name.empty()) return Err{std::string("invalid name: a TAP device needs a name")};
    if (name.size() >= IFNAMSIZ)
        return Err{"name too long: '" + name + "' has " + std::to_string(name.size()) +
                   " characters, an interface name has at most " + std::to_string(IFNAMSIZ - 1)};
    const bool existed = ::if_nametoindex(name.c_str()) != 0;
    if (!existed && !opts.create_if_missing)
        return Err{"no such device: " + name + " does not exist and create_if_missing is off"};

    int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        const int e = errno;
        if (e == EACCES || e == EPERM) return Err{std::string(kPermissionDenied)};
        if (e == ENOENT || e == ENODEV)
            return Err{sys_error("cannot open /dev/net/tun (is the tun module available?)", e)};
        return Err{sys_error("cannot open /dev/net/tun", e)};
    }
    std::unique_ptr<TapDevice> dev(new TapDevice(name, rx_pool, fd));

    ifreq ifr;
    set_name(ifr, name);
    ifr.ifr_flags = static_cast<short>(IFF_TAP | IFF_NO_PI | (opts.offloads ? IFF_VNET_HDR : 0));
    if (::ioctl(fd, TUNSETIFF, &ifr) < 0) {
        const int e = errno;
        if (e == EPERM || e == EACCES) return Err{std::string(kPermissionDenied)};
        if (e == EBUSY) return Err{"device busy: TAP device " + name + " is attached to another process"};
        if (e == EINVAL && (existed || ::if_nametoindex(name.c_str()) != 0))
            return Err{"not a tap: " + name + " exists and is not a single-queue TAP device"};
        return Err{sys_error("TUNSETIFF " + name, e)};
    }
    dev->name_.assign(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ));  // the kernel may expand "%d"
    dev->created_ = !existed;
    if (opts.offloads) {
        int hdr = sizeof(virtio_net_hdr);
        const unsigned feats = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
        dev->vnet_ = ::ioctl(fd, TUNSETVNETHDRSZ, &hdr) == 0 && ::ioctl(fd, TUNSETOFFLOAD, feats) == 0;
        if (!dev->vnet_) {
            // Still IFF_VNET_HDR: every frame carries an (empty) header.
            (void)::ioctl(fd, TUNSETOFFLOAD, 0u);
            dev->vnet_hdr_only_ = true;
        }
    }

    CtlSocket s;
    if (s.fd() < 0) return Err{sys_error("socket for interface ioctls", errno)};
    if (opts.set_up) {
        set_name(ifr, dev->name_);
        if (::ioctl(s.fd(), SIOCGIFFLAGS, &ifr) < 0) return Err{sys_error("SIOCGIFFLAGS on " + dev->name_, errno)};
        if (!(ifr.ifr_flags & IFF_UP)) {
            ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
            if (::ioctl(s.fd(), SIOCSIFFLAGS, &ifr) < 0) {
                const int e = errno;
                if (e == EPERM || e == EACCES) return Err{std::string(kPermissionDenied)};
                return Err{sys_error("bringing " + dev->name_ + " up (SIOCSIFFLAGS)", e)};
            }
        }
    }
    set_name(ifr, dev->name_);
    if (::ioctl(s.fd(), SIOCGIFHWADDR, &ifr) < 0) return Err{sys_error("SIOCGIFHWADDR on " + dev->name_, errno)};
    dev->kernel_mac_ = MacAddr::from_bytes(reinterpret_cast<const std::uint8_t*>(ifr.ifr_hwaddr.sa_data));
    auto mtu = read_mtu(dev->name_);
    if (!mtu) return Err{mtu.error()};
    dev->mtu_ = *mtu;
    dev->ifindex_ = ::if_nametoindex(dev->name_.c_str());
    return dev;
}

Result<std::uint32_t, std::string> TapDevice::refresh_mtu() {
    auto mtu = read_mtu(name_);
    if (mtu) mtu_ = *mtu;
    return mtu;
}

DeviceCaps TapDevice::caps() const {
    DeviceCaps c;
    c.mtu = mtu_;
    if (vnet_) {
        c.tx_csum_offload = true;
        c.tso_max = 65535;
    }
    return c;
}

std::size_t TapDevice::receive(Instant now, std::span<Packet> out) {
    std::size_t n = 0;
    while (n < out.size()) {
        Packet p = pool_.alloc();
        iovec iov[3];
        int cnt = 0;
        std::size_t room = 0;
        virtio_net_hdr vh{};
        const bool hdr = vnet_ || vnet_hdr_only_;
        if (hdr) iov[cnt++] = {&vh, sizeof vh};
        if (p) {
            PacketBuf& b = p.front();
            room = b.tailroom();
            iov[cnt++] = {b.data() + b.size(), room};
        }
        iov[cnt++] = {spill_.get(), kSpillBytes};
        const ssize_t r = ::readv(fd_, iov, cnt);
        if (r < 0) {
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) ++stats_.rx_errors;
            break;
        }
        if (r == 0) break;
        std::size_t got = static_cast<std::size_t>(r);
        if (hdr) {
            if (got < sizeof vh) {
                ++stats_.rx_errors;
                continue;
            }
            got -= sizeof vh;
        }
        if (!p) {
            ++stats_.rx_dropped;  // read and dropped: no buffer to keep it in
            continue;
        }
        const std::size_t first = std::min(got, room);
        p.front().put(first);
        if (got > first && !p.append(Bytes(spill_.get(), got - first))) {
            ++stats_.rx_dropped;
            continue;
        }
        p.meta().rx_time = now;
        if (hdr) {
            if (vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
                finish_checksum(p, vh.csum_start, vh.csum_offset);
                p.meta().rx_csum_verified = true;
            } else if (vh.flags & VIRTIO_NET_HDR_F_DATA_VALID) {
                p.meta().rx_csum_verified = true;
            }
            if ((vh.gso_type & ~VIRTIO_NET_HDR_GSO_ECN) != VIRTIO_NET_HDR_GSO_NONE) p.meta().tso_mss = vh.gso_size;
        }
        out[n++] = std::move(p);
        ++stats_.rx_packets;
        stats_.rx_bytes += got;
    }
    return n;
}

std::size_t TapDevice::transmit(Instant /*now*/, std::span<Packet> pkts) {
    std::size_t i = 0;
    for (; i < pkts.size(); ++i) {
        Packet& p = pkts[i];
        if (!p) continue;
        iovec iov[kMaxIov];
        int cnt = 0;
        bool fits = true;
        std::size_t size = 0;
        virtio_net_hdr vh{};
        if (vnet_ || vnet_hdr_only_) {
            fill_vnet_header(p, vh);
            iov[cnt++] = {&vh, sizeof vh};
        }
        p.for_each_segment([&](Bytes seg) {
            if (seg.empty()) return;
            if (cnt == kMaxIov) {
                fits = false;
                return;
            }
            iov[cnt++] = {const_cast<std::uint8_t*>(seg.data()), seg.size()};
            size += seg.size();
        });
        if (!fits) {
            ++stats_.tx_errors;  // a chain this long is not a frame the stack makes
            p.reset();
            continue;
        }
        ssize_t r;
        do {
            r = ::writev(fd_, iov, cnt);
        } while (r < 0 && errno == EINTR);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;  // the rest stays with the caller
        if (r >= 0 && (vnet_ || vnet_hdr_only_)) r -= static_cast<ssize_t>(sizeof vh);
        if (r < 0 || static_cast<std::size_t>(r) != size) {
            ++stats_.tx_errors;
        } else {
            ++stats_.tx_packets;
            stats_.tx_bytes += size;
        }
        p.reset();
    }
    return i;
}

void TapDevice::fill_vnet_header(Packet& p, ::virtio_net_hdr& vh) const {
    OffloadMeta& m = p.meta();
    if (!vnet_) {
        // No offloads: the frame must be complete.
        if (m.tx_csum_partial) {
            finish_checksum(p, m.csum_start, m.csum_offset);
            m.tx_csum_partial = false;
        }
        return;
    }
    const Lens l = tcp_lens(p.front().bytes());
    const std::size_t frame_max = std::size_t{mtu_} + l.l2;
    if (m.tso_mss != 0 && m.tx_csum_partial && l.l4 != 0 && p.size() > frame_max) {
        // A TSO super-frame (TCP leaves its checksum partial): the kernel
        // cuts it into gso_size segments where it must.
        vh.gso_type = l.v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
        vh.gso_size = m.tso_mss;
        vh.hdr_len = static_cast<std::uint16_t>(l.l2 + l.l3 + l.l4);
    }
    if (m.tx_csum_partial) {
        vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        vh.csum_start = m.csum_start;
        vh.csum_offset = m.csum_offset;
    }
}

}  // namespace uinet
