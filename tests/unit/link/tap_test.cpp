// TAP driver tests. They need root (CAP_NET_ADMIN) and skip otherwise;
// CI runs as root. Every TAP created here is non-persistent and named after
// the test process, so it vanishes when the test closes it.
#include "link/tap.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "link_test_util.hpp"

using namespace uinet;
using namespace uinet::test;

namespace {

constexpr std::uint16_t kTestEthertype = 0x88b5;  // IEEE local experimental
constexpr int kWaitMs = 5000;                     // failure bound for kernel round trips

class TapAsRoot : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "TAP tests need root (CAP_NET_ADMIN); skipped";
    }
};

std::string tap_name(const char* tag) { return std::string("uit") + tag + std::to_string(::getpid()); }

// An AF_PACKET socket bound to one interface: the kernel's side of the TAP.
class PacketSocket {
public:
    explicit PacketSocket(unsigned ifindex) : ifindex_(ifindex) {
        fd_ = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(kTestEthertype));
        if (fd_ < 0) return;
        sockaddr_ll sll{};
        sll.sll_family = AF_PACKET;
        sll.sll_protocol = htons(kTestEthertype);
        sll.sll_ifindex = static_cast<int>(ifindex);
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }
    ~PacketSocket() {
        if (fd_ >= 0) ::close(fd_);
    }
    bool ok() const { return fd_ >= 0; }
    bool send(const Frame& f) {
        sockaddr_ll sll{};
        sll.sll_family = AF_PACKET;
        sll.sll_ifindex = static_cast<int>(ifindex_);
        sll.sll_halen = 6;
        std::memcpy(sll.sll_addr, f.data(), 6);
        return ::sendto(fd_, f.data(), f.size(), 0, reinterpret_cast<sockaddr*>(&sll), sizeof sll) ==
               static_cast<ssize_t>(f.size());
    }
    // The next frame of our ethertype, or empty after kWaitMs.
    Frame recv() {
        pollfd pfd{fd_, POLLIN, 0};
        if (::poll(&pfd, 1, kWaitMs) != 1) return {};
        Frame f(2048);
        const ssize_t n = ::recv(fd_, f.data(), f.size(), 0);
        f.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
        return f;
    }

private:
    int fd_ = -1;
    unsigned ifindex_;
};

}  // namespace

TEST(TapDevice, RejectsBadNamesWithoutRoot) {
    Pool pool;
    auto r = TapDevice::open("a-very-long-interface-name", pool);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().rfind("name too long", 0), 0u) << r.error();
    auto e = TapDevice::open("", pool);
    ASSERT_FALSE(e);
    auto m = TapDevice::open(tap_name("m"), pool, {.create_if_missing = false});
    ASSERT_FALSE(m);
    EXPECT_EQ(m.error().rfind("no such device", 0), 0u) << m.error();
}

TEST_F(TapAsRoot, CreatesAndVanishesWhenClosed) {
    Pool pool;
    const std::string name = tap_name("c");
    ASSERT_EQ(::if_nametoindex(name.c_str()), 0u);
    {
        auto r = TapDevice::open(name, pool);
        ASSERT_TRUE(r) << r.error();
        TapDevice& tap = **r;
        EXPECT_EQ(tap.name(), name);
        EXPECT_TRUE(tap.created());
        const unsigned idx = ::if_nametoindex(name.c_str());
        EXPECT_NE(idx, 0u);
        EXPECT_EQ(tap.ifindex(), idx);
        EXPECT_EQ(tap.caps().mtu, 1500u);  // the kernel's default for a new TAP
        EXPECT_FALSE(tap.kernel_mac().is_zero());
        EXPECT_GE(tap.poll_fd(), 0);
        auto mtu = tap.refresh_mtu();
        ASSERT_TRUE(mtu) << mtu.error();
        EXPECT_EQ(*mtu, 1500u);
        // Non-blocking: nothing of ours is pending, and receive() returns at once.
        std::vector<Packet> out(4);
        (void)tap.receive(Instant::from_ns(0), out);
    }
    EXPECT_EQ(::if_nametoindex(name.c_str()), 0u);
}

TEST_F(TapAsRoot, SecondOpenIsBusy) {
    Pool pool;
    const std::string name = tap_name("b");
    auto first = TapDevice::open(name, pool);
    ASSERT_TRUE(first) << first.error();
    auto second = TapDevice::open(name, pool);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error(), "device busy: TAP device " + name + " is attached to another process");
}

TEST_F(TapAsRoot, RefusesNonTapInterfaces) {
    Pool pool;
    auto r = TapDevice::open("lo", pool);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().rfind("not a tap: lo", 0), 0u) << r.error();
}

TEST_F(TapAsRoot, FramesCrossToAndFromTheKernel) {
    Pool pool;
    const std::string name = tap_name("x");
    auto r = TapDevice::open(name, pool);
    ASSERT_TRUE(r) << r.error();
    TapDevice& tap = **r;
    PacketSocket kernel(tap.ifindex());
    ASSERT_TRUE(kernel.ok()) << std::strerror(errno);

    // Kernel -> uinet: a frame sent on the interface comes out of the TAP.
    Frame down = make_frame(200, 0x11, kTestEthertype);
    ASSERT_TRUE(kernel.send(down)) << std::strerror(errno);
    Frame got;
    std::vector<Packet> out(8);
    for (int rounds = 0; rounds < 50 && got.empty(); ++rounds) {
        pollfd pfd{tap.poll_fd(), POLLIN, 0};
        if (::poll(&pfd, 1, kWaitMs) != 1) break;
        const std::size_t n = tap.receive(Instant::from_ns(123), out);
        for (std::size_t i = 0; i < n; ++i) {
            Frame f = bytes_of(out[i]);
            EXPECT_EQ(out[i].meta().rx_time, Instant::from_ns(123));
            out[i].reset();
            if (f.size() >= 14 && load_be16(&f[12]) == kTestEthertype) got = f;  // skip IPv6 chatter
        }
    }
    EXPECT_EQ(got, down);
    EXPECT_GE(tap.stats().rx_packets, 1u);

    // uinet -> kernel: a frame transmitted on the TAP is received by the interface.
    Frame up = make_frame(300, 0x22, kTestEthertype);
    std::vector<Packet> pkts;
    pkts.push_back(packet_of(pool, up));
    EXPECT_EQ(tap.transmit(Instant::from_ns(0), pkts), 1u);
    EXPECT_FALSE(pkts[0]);
    EXPECT_EQ(tap.stats().tx_packets, 1u);
    EXPECT_EQ(tap.stats().tx_bytes, 300u);
    EXPECT_EQ(kernel.recv(), up);

    // A chained frame goes out with writev.
    Pool small({.count = 32, .buf_size = 128, .headroom = 16});
    Frame big = make_frame(1000, 0x33, kTestEthertype);
    pkts[0] = small.copy_of(big, 16);
    ASSERT_TRUE(pkts[0].is_chain());
    EXPECT_EQ(tap.transmit(Instant::from_ns(0), pkts), 1u);
    EXPECT_EQ(kernel.recv(), big);
}

TEST_F(TapAsRoot, ReceivesLargeFramesIntoChains) {
    Pool small({.count = 64, .buf_size = 256, .headroom = 32});
    const std::string name = tap_name("l");
    auto r = TapDevice::open(name, small);
    ASSERT_TRUE(r) << r.error();
    TapDevice& tap = **r;
    PacketSocket kernel(tap.ifindex());
    ASSERT_TRUE(kernel.ok());
    Frame down = make_frame(1400, 0x44, kTestEthertype);
    ASSERT_TRUE(kernel.send(down));
    Frame got;
    std::vector<Packet> out(8);
    for (int rounds = 0; rounds < 50 && got.empty(); ++rounds) {
        pollfd pfd{tap.poll_fd(), POLLIN, 0};
        if (::poll(&pfd, 1, kWaitMs) != 1) break;
        const std::size_t n = tap.receive(Instant::from_ns(0), out);
        for (std::size_t i = 0; i < n; ++i) {
            if (out[i].size() == down.size()) {
                EXPECT_TRUE(out[i].is_chain());
                got = bytes_of(out[i]);
            }
            out[i].reset();
        }
    }
    EXPECT_EQ(got, down);
}

// As root, checks the message an unprivileged user gets, by opening from a
// child process that has dropped to user nobody.
TEST_F(TapAsRoot, PermissionDeniedForUnprivilegedUsers) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const std::string name = tap_name("p");
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::close(fds[0]);
        std::string msg = "could not drop privileges";
        if (::setgid(65534) == 0 && ::setuid(65534) == 0) {
            Pool pool({.count = 4, .buf_size = 2048, .headroom = 128});
            auto r = TapDevice::open(name, pool);
            msg = r ? std::string("opened") : r.error();
        }
        ssize_t w = ::write(fds[1], msg.data(), msg.size());
        ::_exit(w == static_cast<ssize_t>(msg.size()) ? 0 : 1);
    }
    ::close(fds[1]);
    std::string got;
    char buf[512];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0) got.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_EQ(got, "permission denied: creating or attaching a TAP device needs CAP_NET_ADMIN (run as root)");
    EXPECT_EQ(::if_nametoindex(name.c_str()), 0u);
}
