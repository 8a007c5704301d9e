// tests/fuzz/pcap_passive.cpp — fuzzes the capture-file reader and the
// passive-receive path together: the input is a whole pcap/pcapng file,
// read by PcapFileDevice (through a memfd) into a passive stack on packet
// time, with a catch-all passive listener whose stream pairs are drained
// (reads stopping at holes). Midstream pickup on, checksums not verified,
// small limits, so that arbitrary bytes reach the reassembly and the flow
// table quickly.
// Invariants: no crash; nothing is ever transmitted; once the input ends,
// every flow ends, and after the sockets close and the flows linger out,
// every flow and every byte of reassembly memory is given back.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "host/virtual.hpp"
#include "link/pcap/pcap_device.hpp"
#include "stack/stack.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace uinet;
    const int fd = ::memfd_create("pcap-fuzz", MFD_CLOEXEC);
    if (fd < 0) return 0;
    std::size_t off = 0;
    while (off < size) {
        const ssize_t n = ::write(fd, data + off, size - off);
        if (n <= 0) break;
        off += static_cast<std::size_t>(n);
    }
    const std::string path = "/proc/self/fd/" + std::to_string(fd);
    {
        VirtualClock clock;
        SeededRandom rnd(1);
        Host host{};
        host.clock = &clock;
        host.random = &rnd;
        StackOptions o;
        o.net.passive = true;
        o.pool.count = 256;
        o.rx_batch = 8;
        o.tcp.passive.midstream = true;
        o.tcp.passive.verify_checksums = false;
        o.tcp.passive.max_flows = 16;
        o.tcp.passive.max_window = 256 * 1024;
        o.tcp.passive.unread_allowance = 64 * 1024;
        o.tcp.passive.max_memory = 2u << 20;
        o.tcp.passive.max_ooo_ranges = 8;
        o.tcp.passive.hole_timeout = Duration::seconds(1);
        Stack stack(host, o);
        auto dev = PcapFileDevice::open(path, stack.pool());
        if (dev) {
            PcapFileDevice* pd = dev->get();
            net::InterfaceConfig ic;
            ic.promiscuous = true;
            ic.announce = false;
            stack.add_interface(std::move(*dev), ic);
            TcpSockets& tcp = stack.tcp();
            const SocketId l = *tcp.open_passive_listener();
            std::vector<SocketId> socks;
            std::uint8_t buf[1500];
            auto drain = [&] {
                while (auto p = tcp.accept_passive(l)) {
                    socks.push_back(p->c2s);
                    socks.push_back(p->s2c);
                }
                for (SocketId s : socks)
                    while (auto r = tcp.recv_passive(s, buf))
                        if (r->bytes == 0 && r->hole_len == 0) break;
            };
            for (int guard = 0; !pd->at_end() && guard < 100000; ++guard) {
                const Instant ts = pd->next_timestamp();
                if (ts > clock.now()) clock.set(ts);
                stack.poll(clock.now());
                drain();
            }
            tcp.passive_finish(clock.now());
            stack.poll(clock.now());
            drain();
            for (SocketId s : socks) {
                if (!(tcp.poll(s) & event::hangup)) std::abort();  // every stream ended
                tcp.close(clock.now(), s);
            }
            clock.advance(Duration::seconds(3600));
            stack.poll(clock.now());
            const tcp::PassiveEngine* pe = stack.tcp_layer().passive_engine();
            if (pe->flows() != 0 || pe->memory() != 0) std::abort();
            if (pd->stats().tx_packets != 0) std::abort();
        }
    }
    ::close(fd);
    return 0;
}
