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

namespace uinet {

namespace {

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
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
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
    return c;
}

std::size_t TapDevice::receive(Instant now, std::span<Packet> out) {
    std::size_t n = 0;
    while (n < out.size()) {
        Packet p = pool_.alloc();
        iovec iov[2];
        int cnt = 0;
        std::size_t room = 0;
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
        const auto got = static_cast<std::size_t>(r);
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

}  // namespace uinet
