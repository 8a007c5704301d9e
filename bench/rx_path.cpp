// bench/rx_path.cpp — whole-stack segment paths, beside the Linux kernel.
//
//  * rx_path/uinet: one Stack in virtual time on an injection device (as
//    the script harness's ScriptDevice), with an established connection
//    whose peer is the benchmark. Per iteration: a data segment of
//    `payload` bytes (next sequence number, checksum patched per RFC 1624)
//    is received by the device (one copy into a pool buffer, as a driver
//    does), the stack polls (Ethernet, IPv4, TCP input, every second
//    segment an ACK built and handed to the device, which drops it), and
//    the application reads the payload out.
//  * segment_xfer/uinet: two Stacks in virtual time on a mem pipe, one
//    thread: the client sends `payload` bytes (TCP_NODELAY), both stacks
//    poll, the server reads them. Both halves of the stack, both copies of
//    the mem pipe.
//  * rx_path/kernel_loopback and segment_xfer/kernel_loopback: the same
//    kernel measure for both: one thread sends `payload` bytes on a
//    127.0.0.1 TCP connection (TCP_NODELAY) and reads them at the other
//    end. The kernel runs its whole send path too (in the same thread, via
//    loopback softirq), so beside rx_path/uinet it does MORE work than uinet
//    and the ratio flatters uinet; beside segment_xfer/uinet the work is
//    the same (send, receive, ACK), plus two syscalls per iteration.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "common.hpp"
#include "host/virtual.hpp"
#include "link/mem_pipe.hpp"
#include "stack/stack.hpp"
#include "wire/checksum.hpp"
#include "wire/ethernet.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"

namespace {

using namespace uinet;

const MacAddr kPeerMac({2, 0, 0, 0, 0, 1});
const MacAddr kUsMac({2, 0, 0, 0, 0, 2});
constexpr Ipv4Addr kPeerIp = Ipv4Addr::of(198, 18, 0, 1);
constexpr Ipv4Addr kUsIp = Ipv4Addr::of(198, 18, 0, 2);
constexpr std::uint16_t kPeerPort = 40000, kUsPort = 5001;
constexpr std::size_t kSeqOff = 14 + 20 + 4, kCsumOff = 14 + 20 + 16;

// Hands the stack one injected frame at a time; drops what it transmits
// (keeping the last frame while asked to, for the handshake).
class InjectDevice final : public Device {
public:
    explicit InjectDevice(Pool& pool) : pool_(pool) {}
    std::vector<std::uint8_t> frame;  // injected by arm()
    std::vector<std::uint8_t> last_tx;
    bool keep_tx = true;
    void arm() { armed_ = true; }

    const std::string& name() const override { return name_; }
    DeviceCaps caps() const override { return DeviceCaps{}; }
    std::size_t receive(Instant now, std::span<Packet> out) override {
        if (!armed_ || out.empty()) return 0;
        armed_ = false;
        Packet p = pool_.copy_of({frame.data(), frame.size()}, 128);
        if (!p) return 0;
        p.meta().rx_time = now;
        out[0] = std::move(p);
        return 1;
    }
    std::size_t transmit(Instant, std::span<Packet> pkts) override {
        for (Packet& p : pkts) {
            if (keep_tx) {
                last_tx.resize(p.size());
                p.copy_out(0, last_tx);
            }
            p.reset();
            ++stats_.tx_packets;
        }
        return pkts.size();
    }
    Instant next_deadline() const override { return armed_ ? Instant::from_ns(0) : Instant::never(); }
    const DeviceStats& stats() const override { return stats_; }

private:
    Pool& pool_;
    std::string name_ = "inject0";
    DeviceStats stats_;
    bool armed_ = false;
};

std::vector<std::uint8_t> peer_frame(std::uint8_t flags, SeqNum seq, SeqNum ack, std::size_t payload_len,
                                     bool syn_options) {
    const auto payload = bench::random_bytes(payload_len, 5);
    wire::TcpRepr t;
    t.src_port = Port(kPeerPort);
    t.dst_port = Port(kUsPort);
    t.seq = seq;
    t.ack = ack;
    t.flags = flags;
    t.window = 65535;
    if (syn_options) t.options.mss = 1460;
    wire::Ipv4Repr ip;
    ip.src = kPeerIp;
    ip.dst = kUsIp;
    ip.protocol = wire::ip_proto::tcp;
    ip.payload_len = static_cast<std::uint16_t>(t.size() + payload_len);
    wire::EthernetRepr eth{kUsMac, kPeerMac, wire::ethertype::ipv4};
    std::vector<std::uint8_t> f(14 + 20 + t.size() + payload_len);
    eth.emit({f.data(), 14});
    ip.emit({f.data() + 14, 20});
    std::copy(payload.begin(), payload.end(), f.begin() + static_cast<std::ptrdiff_t>(14 + 20 + t.size()));
    t.emit({f.data() + 34, t.size()}, {payload.data(), payload.size()}, kPeerIp, kUsIp);
    return f;
}

// One stack with an established connection from the injecting peer.
struct InjectFixture {
    VirtualClock clock{Instant::from_ns(1'000'000'000)};
    SeededRandom rand{42};
    std::unique_ptr<Stack> stack;
    InjectDevice* dev = nullptr;
    SocketId conn;
    SeqNum next_seq;  // the peer's next sequence number
    SeqNum our_next;  // what the peer acknowledges: our ISS + 1

    bool setup() {
        Host h;
        h.clock = &clock;
        h.random = &rand;
        StackOptions o;
        o.net.blackhole = true;
        stack = std::make_unique<Stack>(h, o);
        auto d = std::make_unique<InjectDevice>(stack->pool());
        dev = d.get();
        net::InterfaceConfig ic;
        ic.mac = kUsMac;
        ic.ipv4 = {Ipv4Cidr{kUsIp, 24}};
        ic.announce = false;
        const net::IfIndex idx = stack->add_interface(std::move(d), ic);
        std::vector<Packet> released;
        stack->net().interface(idx)->arp().update(clock.now(), kPeerIp, kPeerMac, true, released);
        TcpSockets& t = stack->tcp();
        SocketId l = *t.open();
        if (!t.bind(l, {Ipv4Addr::any(), Port(kUsPort)}) || !t.listen(l)) return false;
        const SeqNum peer_iss(1000);
        dev->frame = peer_frame(wire::TcpFlags::syn, peer_iss, SeqNum(0), 0, true);
        dev->arm();
        step();
        auto synack = wire::TcpRepr::parse_unchecked(
            Bytes(dev->last_tx).subspan(std::min<std::size_t>(34, dev->last_tx.size())));
        if (!synack || !synack->has(wire::TcpFlags::syn | wire::TcpFlags::ack)) return false;
        our_next = synack->seq + 1;
        dev->frame = peer_frame(wire::TcpFlags::ack, peer_iss + 1, our_next, 0, false);
        dev->arm();
        step();
        auto c = t.accept(l);
        if (!c) return false;
        conn = *c;
        next_seq = peer_iss + 1;
        dev->keep_tx = false;
        return true;
    }
    void step() {
        clock.advance(Duration::micros(1));
        stack->poll(clock.now());
    }
    // A data segment whose sequence number is patched in place.
    void make_data(std::size_t payload) {
        dev->frame = peer_frame(wire::TcpFlags::ack | wire::TcpFlags::psh, next_seq, our_next, payload, false);
    }
};

void rx_uinet(benchmark::State& st) {
    const auto payload = static_cast<std::size_t>(st.range(0));
    InjectFixture fx;
    if (!fx.setup()) {
        st.SkipWithError("handshake failed");
        return;
    }
    fx.make_data(payload);
    std::vector<std::uint8_t> out(payload);
    std::vector<std::uint8_t>& f = fx.dev->frame;
    for (auto _ : st) {
        const std::uint32_t old_seq = load_be32(f.data() + kSeqOff);
        const std::uint16_t csum = load_be16(f.data() + kCsumOff);
        store_be32(f.data() + kSeqOff, fx.next_seq.raw());
        store_be16(f.data() + kCsumOff, wire::checksum_update32(csum, old_seq, fx.next_seq.raw()));
        fx.dev->arm();
        fx.step();
        auto r = fx.stack->tcp().recv(fx.stack->now(), fx.conn, out);
        if (!r || *r != payload) {
            st.SkipWithError("the segment was not delivered");
            break;
        }
        fx.next_seq = fx.next_seq + static_cast<std::uint32_t>(payload);
    }
    st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations()) * st.range(0));
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
}

// Two stacks on a mem pipe in virtual time, one thread.
void xfer_uinet(benchmark::State& st) {
    const auto payload = static_cast<std::size_t>(st.range(0));
    VirtualClock clock{Instant::from_ns(1'000'000'000)};
    SeededRandom ra{1}, rb{2};
    Host ha, hb;
    ha.clock = hb.clock = &clock;
    ha.random = &ra;
    hb.random = &rb;
    Stack a(ha), b(hb);
    MemLinkConfig link;
    link.queue_frames = 1024;
    auto [ea, eb] = make_mem_pipe(a.pool(), b.pool(), link);
    net::InterfaceConfig ca, cb;
    ca.mac = kPeerMac;
    ca.ipv4 = {Ipv4Cidr{kPeerIp, 24}};
    cb.mac = kUsMac;
    cb.ipv4 = {Ipv4Cidr{kUsIp, 24}};
    a.add_interface(std::move(ea), ca);
    b.add_interface(std::move(eb), cb);
    auto poll_both = [&] {
        clock.advance(Duration::micros(1));
        a.poll(clock.now());
        b.poll(clock.now());
    };
    SocketId l = *b.tcp().open();
    (void)b.tcp().bind(l, {Ipv4Addr::any(), Port(kUsPort)});
    (void)b.tcp().listen(l);
    SocketId c = *a.tcp().open();
    TcpOptions o;
    o.nodelay = true;
    a.tcp().set_options(c, o);
    (void)a.tcp().connect(clock.now(), c, {kUsIp, Port(kUsPort)});
    std::optional<SocketId> s;
    for (int i = 0; i < 100 && !s; ++i) {
        poll_both();
        if (auto r = b.tcp().accept(l)) s = *r;
    }
    if (!s) {
        st.SkipWithError("handshake failed");
        return;
    }
    for (int i = 0; i < 10; ++i) poll_both();
    const auto data = bench::random_bytes(payload);
    std::vector<std::uint8_t> out(payload);
    for (auto _ : st) {
        auto w = a.tcp().send(clock.now(), c, {data.data(), payload});
        poll_both();
        auto r = b.tcp().recv(clock.now(), *s, out);
        if (!w || *w != payload || !r || *r != payload) {
            st.SkipWithError("the segment did not get through");
            break;
        }
    }
    st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations()) * st.range(0));
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
}

// A kernel TCP connection over 127.0.0.1, both ends in this thread.
void kernel_loopback(benchmark::State& st) {
    const auto payload = static_cast<std::size_t>(st.range(0));
    int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    int one = 1;
    int a = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int b = -1;
    if (lfd >= 0 && a >= 0 && ::bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::listen(lfd, 1) == 0 && ::getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len) == 0 &&
        ::setsockopt(a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0 &&
        ::connect(a, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0)
        b = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
    if (b < 0) {
        st.SkipWithError("cannot set up a loopback connection");
    } else {
        ::setsockopt(b, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        const auto data = bench::random_bytes(payload);
        std::vector<std::uint8_t> out(payload);
        for (auto _ : st) {
            ssize_t w = ::send(a, data.data(), payload, MSG_NOSIGNAL);
            ssize_t r = ::recv(b, out.data(), payload, MSG_WAITALL);
            if (w != static_cast<ssize_t>(payload) || r != static_cast<ssize_t>(payload)) {
                st.SkipWithError("loopback send/recv failed");
                break;
            }
        }
        st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations()) * st.range(0));
        st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
    }
    for (int fd : {a, b, lfd})
        if (fd >= 0) ::close(fd);
}

void payloads(benchmark::internal::Benchmark* b) {
    b->ArgName("payload");
    b->Arg(64)->Arg(1448);
}

BENCHMARK(rx_uinet)->Name("rx_path/uinet")->Apply(payloads);
BENCHMARK(kernel_loopback)->Name("rx_path/kernel_loopback")->Apply(payloads);
BENCHMARK(xfer_uinet)->Name("segment_xfer/uinet")->Apply(payloads);
BENCHMARK(kernel_loopback)->Name("segment_xfer/kernel_loopback")->Apply(payloads);

}  // namespace

BENCHMARK_MAIN();
