// bench/wire_parse.cpp — parsing one received Ethernet + IPv4 + TCP frame
// (TCP header with the timestamps option, as on a Linux peer's data
// segments) with the wire layer's Repr parsers, against a reference that
// reads the same fields straight from fixed offsets with only the checks
// that keep it in bounds. Arguments: payload bytes (0 = a pure ACK, 1448 =
// a full segment at MTU 1500) and whether the TCP checksum is verified
// (1) or left to a device that verified it (0). The IPv4 header checksum
// is verified by both.
#include <benchmark/benchmark.h>

#include <vector>

#include "common.hpp"
#include "wire/checksum.hpp"
#include "wire/ethernet.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"

namespace {

using namespace uinet;

const Ipv4Addr kSrc = Ipv4Addr::of(198, 18, 0, 1);
const Ipv4Addr kDst = Ipv4Addr::of(198, 18, 0, 2);

std::vector<std::uint8_t> make_frame(std::size_t payload_len) {
    const auto payload = bench::random_bytes(payload_len, 7);
    wire::TcpRepr t;
    t.src_port = Port(40000);
    t.dst_port = Port(5001);
    t.seq = SeqNum(0x12345678);
    t.ack = SeqNum(0x9abcdef0);
    t.flags = wire::TcpFlags::ack | wire::TcpFlags::psh;
    t.window = 1024;
    t.options.timestamps = std::make_pair(std::uint32_t{1000}, std::uint32_t{2000});
    wire::Ipv4Repr ip;
    ip.src = kSrc;
    ip.dst = kDst;
    ip.protocol = wire::ip_proto::tcp;
    ip.dont_frag = true;
    ip.payload_len = static_cast<std::uint16_t>(t.size() + payload_len);
    wire::EthernetRepr eth;
    eth.dst = MacAddr({2, 0, 0, 0, 0, 2});
    eth.src = MacAddr({2, 0, 0, 0, 0, 1});
    eth.ethertype = wire::ethertype::ipv4;
    std::vector<std::uint8_t> f(eth.size() + ip.size() + t.size() + payload_len);
    std::uint8_t* p = f.data();
    eth.emit({p, eth.size()});
    ip.emit({p + 14, ip.size()});
    std::copy(payload.begin(), payload.end(), p + 14 + 20 + t.size());
    t.emit({p + 34, t.size()}, {payload.data(), payload.size()}, kSrc, kDst);
    return f;
}

struct Fields {
    std::uint16_t sport = 0, dport = 0, window = 0;
    std::uint32_t seq = 0, ack = 0, tsval = 0, tsecr = 0;
    std::uint8_t flags = 0;
    std::size_t payload = 0;
};

// The reference: fixed offsets, bounds checks, IPv4 header checksum, the
// TCP option walk, and (verify) the TCP checksum with the same accumulator.
bool direct_parse(const std::uint8_t* p, std::size_t n, bool verify, Fields& f) {
    if (n < 14 + 20 || load_be16(p + 12) != wire::ethertype::ipv4) return false;
    const std::uint8_t* ip = p + 14;
    const std::size_t ihl = std::size_t{ip[0] & 0x0fu} * 4;
    const std::size_t tot = load_be16(ip + 2);
    if ((ip[0] >> 4) != 4 || ihl < 20 || tot < ihl || 14 + tot > n || ip[9] != wire::ip_proto::tcp) return false;
    if (wire::internet_checksum({ip, ihl}) != 0) return false;
    const std::uint8_t* tcp = ip + ihl;
    const std::size_t seglen = tot - ihl;
    if (seglen < 20) return false;
    const std::size_t doff = static_cast<std::size_t>(tcp[12] >> 4) * 4;
    if (doff < 20 || doff > seglen) return false;
    if (verify) {
        wire::Checksum c;
        wire::add_pseudo_v4(c, Ipv4Addr(load_be32(ip + 12)), Ipv4Addr(load_be32(ip + 16)), wire::ip_proto::tcp,
                            static_cast<std::uint16_t>(seglen));
        c.add({tcp, seglen});
        if (c.finish() != 0) return false;
    }
    f.sport = load_be16(tcp);
    f.dport = load_be16(tcp + 2);
    f.seq = load_be32(tcp + 4);
    f.ack = load_be32(tcp + 8);
    f.flags = tcp[13];
    f.window = load_be16(tcp + 14);
    for (std::size_t i = 20; i < doff;) {
        const std::uint8_t kind = tcp[i];
        if (kind == 0) break;
        if (kind == 1) {
            ++i;
            continue;
        }
        if (i + 1 >= doff || tcp[i + 1] < 2 || i + tcp[i + 1] > doff) return false;
        if (kind == 8 && tcp[i + 1] == 10) {
            f.tsval = load_be32(tcp + i + 2);
            f.tsecr = load_be32(tcp + i + 6);
        }
        i += tcp[i + 1];
    }
    f.payload = seglen - doff;
    return true;
}

bool uinet_parse(const std::uint8_t* p, std::size_t n, bool verify, Fields& f) {
    auto eth = wire::EthernetRepr::parse({p, n});
    if (!eth || eth->ethertype != wire::ethertype::ipv4) return false;
    Bytes l3{p + 14, n - 14};
    auto ip = wire::Ipv4Repr::parse(l3, true);
    if (!ip || ip->protocol != wire::ip_proto::tcp) return false;
    Bytes seg = l3.subspan(ip->header_len, ip->payload_len);
    auto t = wire::TcpRepr::parse(seg, ip->src, ip->dst, verify);
    if (!t) return false;
    f.sport = t->src_port.value();
    f.dport = t->dst_port.value();
    f.seq = t->seq.raw();
    f.ack = t->ack.raw();
    f.flags = t->flags;
    f.window = t->window;
    if (t->options.timestamps) {
        f.tsval = t->options.timestamps->first;
        f.tsecr = t->options.timestamps->second;
    }
    f.payload = seg.size() - t->header_len;
    return true;
}

template <bool (*Parse)(const std::uint8_t*, std::size_t, bool, Fields&)>
void run(benchmark::State& st) {
    const auto frame = make_frame(static_cast<std::size_t>(st.range(0)));
    const bool verify = st.range(1) != 0;
    Fields f;
    if (!Parse(frame.data(), frame.size(), verify, f) || f.tsval != 1000 || f.seq != 0x12345678 ||
        f.payload != static_cast<std::size_t>(st.range(0))) {
        st.SkipWithError("the frame does not parse as built");
        return;
    }
    for (auto _ : st) {
        benchmark::DoNotOptimize(frame.data());
        bool ok = Parse(frame.data(), frame.size(), verify, f);
        benchmark::DoNotOptimize(ok);
        benchmark::DoNotOptimize(f);
    }
    st.SetItemsProcessed(static_cast<std::int64_t>(st.iterations()));
}

void args(benchmark::internal::Benchmark* b) {
    b->ArgNames({"payload", "verify"});
    for (int payload : {0, 1448})
        for (int verify : {0, 1}) b->Args({payload, verify});
}

BENCHMARK(run<uinet_parse>)->Name("wire_parse/uinet")->Apply(args);
BENCHMARK(run<direct_parse>)->Name("wire_parse/direct_loads")->Apply(args);

}  // namespace

BENCHMARK_MAIN();
