// bench/sim/sim_loss.cpp — `sim_loss`: TCP loss recovery on a simulated
// path, in virtual time (deterministic: the same build prints the same
// table every run).
//
// The path: two stacks on a mem link of 100 Mb/s each way with 10 ms of
// delay each way (20 ms base RTT) and a bounded drop-tail queue (one
// bandwidth-delay product in flight plus one of buffering); losses are
// applied to the data direction only, before the bottleneck, by a
// DropDevice (tests/support/drop_device.hpp) on the sender.
//
//  goodput   a bulk transfer for each (configuration, loss model, seed):
//            bytes the receiving application read in a window of virtual
//            time that starts `warmup` after its first byte, in Mbit/s;
//            mean, min and max over the seeds, beside the Mathis et al.
//            bound MSS/RTT * C/sqrt(p), C = sqrt(3/2) (MSS 1448: payload
//            with timestamps; RTT the base 20 ms; p the mean loss rate).
//            Loss models: random (Bernoulli) 0.1 %, 1 %, 5 %, and bursty
//            (Gilbert, 1 % mean in bursts of mean length 4).
//  tail      a 100 KB response whose last 1, 2 or 3 segments are dropped
//            on their first transmission (nothing else is lost): time from
//            the first of those drops to the moment the receiving
//            application holds the whole response, in ms and in base RTTs.
//            k = 0 is the reference: nothing dropped, timed from the first
//            transmission of the last segment.
//
// Each compared configuration is one row of kConfigs: a function that sets
// TcpConfig fields. Usage: sim_loss [--quick] [--seeds N] [--json]
// (--json: one JSON object per figure instead of the table). Exits 1 if a
// transfer failed or delivered a wrong byte. Figures only, never a test.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "drop_device.hpp"
#include "sim_pair.hpp"

using namespace uinet;
using namespace uinet::test;

namespace {

struct ConfigRow {
    const char* name;
    void (*apply)(tcp::TcpConfig&);
};

// The compared configurations: the first three use only the loss recovery
// of RFC 5681/6582/6675 (RACK-TLP, PRR and undo off); the last is the
// default stack (SACK, RACK-TLP, PRR, undo, CUBIC with HyStart++).
void rfc6675_only(tcp::TcpConfig& c) { c.rack = c.tlp = c.prr = c.undo = false; }

const ConfigRow kConfigs[] = {
    {"NewReno", [](tcp::TcpConfig& c) {
         rfc6675_only(c);
         c.sack = false;
         c.congestion_control = tcp::CcAlgorithm::newreno;
     }},
    {"NewReno+SACK", [](tcp::TcpConfig& c) {
         rfc6675_only(c);
         c.sack = true;
         c.congestion_control = tcp::CcAlgorithm::newreno;
     }},
    {"CUBIC+SACK", [](tcp::TcpConfig& c) {
         rfc6675_only(c);
         c.sack = true;
         c.congestion_control = tcp::CcAlgorithm::cubic;
     }},
    {"SACK+RACK-TLP+CUBIC", [](tcp::TcpConfig& c) {
         c.sack = c.rack = c.tlp = c.prr = c.undo = true;
         c.congestion_control = tcp::CcAlgorithm::cubic;
     }},
};

struct LossModel {
    const char* name;
    double mean;   // long-run loss rate
    double burst;  // mean burst length (1: independent losses)
};

const LossModel kLosses[] = {
    {"random 0.1%", 0.001, 1},
    {"random 1%", 0.01, 1},
    {"random 5%", 0.05, 1},
    {"bursty 1% (x4)", 0.01, 4},
};

constexpr double kRtt = 0.020;   // s, base
constexpr double kMss = 1448;    // bytes of payload with timestamps
constexpr std::uint64_t kBandwidth = 100'000'000;

SimPairConfig path_config(const ConfigRow& row, std::uint64_t seed) {
    SimPairConfig c;
    // One BDP in flight (100 Mb/s * 20 ms / 1514 B ~ 165 frames) plus one
    // BDP of buffer: the queue bound counts frames in flight too.
    c.link = MemLinkConfig{.queue_frames = 330, .bandwidth_bps = kBandwidth, .delay = Duration::millis(10)};
    c.seed = seed;
    c.pool_count = 8192;
    c.tcp.sndbuf = 1 << 20;
    c.tcp.rcvbuf = 1 << 20;
    row.apply(c.tcp);
    return c;
}

// The stream's byte i is i mod 251; kChunk + 251 bytes of it serve any offset.
std::vector<std::uint8_t> make_pattern() {
    std::vector<std::uint8_t> v(65536 + 251);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<std::uint8_t>(i % 251);
    return v;
}

// A one-way transfer a -> b of `total` bytes (0: endless), the receiver
// checking every byte; on_read(now, received) after each read.
struct Transfer {
    SimPair& p;
    std::uint64_t total;
    std::uint64_t sent = 0, received = 0;
    bool corrupt = false;
    SocketId lst{}, srv{}, cli{};
    static constexpr std::size_t kChunk = 65536;
    std::vector<std::uint8_t> buf = std::vector<std::uint8_t>(kChunk);
    std::vector<std::uint8_t> pattern = make_pattern();
    std::function<void(Instant, std::uint64_t)> on_read;

    Transfer(SimPair& pair, std::uint64_t n) : p(pair), total(n) {}

    void start() {
        TcpSockets& sb = p.b->tcp();
        TcpSockets& sa = p.a->tcp();
        lst = *sb.open();
        (void)sb.bind(lst, {Ipv4Addr::any(), Port(80)});
        (void)sb.listen(lst, 4);
        sb.set_upcall(lst, [this](SocketId id, std::uint32_t) {
            TcpSockets& s = p.b->tcp();
            while (auto c = s.accept(id)) {
                srv = *c;
                s.set_upcall(srv, [this](SocketId, std::uint32_t) { drain(); });
                drain();
            }
        });
        cli = *sa.open();
        (void)sa.connect(p.clock.now(), cli, {p.ip_b, Port(80)});
        sa.set_upcall(cli, [this](SocketId, std::uint32_t ev) {
            if (ev & event::writable) pump();
        });
    }
    void pump() {
        TcpSockets& sa = p.a->tcp();
        while (total == 0 || sent < total) {
            // pattern[] holds the stream's bytes from any offset's phase on.
            const std::uint64_t left = total == 0 ? kChunk : total - sent;
            const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, left));
            auto r = sa.send(p.clock.now(), cli, {pattern.data() + sent % 251, n});
            if (!r || *r == 0) return;
            sent += *r;
        }
    }
    void drain() {
        TcpSockets& sb = p.b->tcp();
        for (;;) {
            auto r = sb.recv(p.clock.now(), srv, buf);
            if (!r || *r == 0) return;
            if (std::memcmp(buf.data(), pattern.data() + received % 251, *r) != 0) corrupt = true;
            received += *r;
            if (on_read) on_read(p.clock.now(), received);
        }
    }
};

struct BulkResult {
    double mbit_s = 0;
    std::uint64_t retransmits = 0, rtos = 0, dropped = 0, frames = 0;
    bool ok = false;
};

BulkResult run_bulk(const ConfigRow& row, const LossModel& loss, std::uint64_t seed, Duration warmup,
                    Duration window) {
    SimPairConfig c = path_config(row, seed);
    std::uint64_t frames = 0;
    DropDevice* dd = nullptr;
    c.wrap_a = [&](std::unique_ptr<Device> d, Pool&) -> std::unique_ptr<Device> {
        std::function<bool()> lose;
        if (loss.burst > 1)
            lose = GilbertElliott::with_mean(loss.mean, loss.burst, seed * 7919 + 1);
        else
            lose = BernoulliLoss(loss.mean, seed * 7919 + 1);
        auto w = std::make_unique<DropDevice>(std::move(d), [lose, &frames](Instant, const Packet&) mutable {
            ++frames;
            return lose();
        });
        dd = w.get();
        return w;
    };
    SimPair p(c);
    Transfer t(p, 0);
    Instant first = Instant::never(), from = Instant::never(), to = Instant::never();
    std::uint64_t at_from = 0, at_to = 0;
    t.on_read = [&](Instant now, std::uint64_t got) {
        if (first == Instant::never()) {
            first = now;
            from = now + warmup;
            to = from + window;
        }
        if (now <= from) at_from = got;
        if (now <= to) at_to = got;
    };
    t.start();
    const bool done = p.run_until([&] { return to != Instant::never() && p.clock.now() > to; },
                                  warmup + window + Duration::seconds(60));
    BulkResult r;
    r.ok = done && !t.corrupt;
    r.mbit_s = static_cast<double>(at_to - at_from) * 8 / window.secs() / 1e6;
    const auto& k = p.a->tcp_layer().counters();
    r.retransmits = k.retransmits;
    r.rtos = k.rto_expired;
    r.dropped = dd ? dd->dropped() : 0;
    r.frames = frames;
    return r;
}

struct TailResult {
    double ms = 0;
    std::uint64_t dropped = 0, retransmits = 0, rtos = 0;
    bool ok = false;
};

// Reads the TCP sequence number and payload length of an IPv4/TCP frame
// without VLAN tags (the sims use none); false for anything else.
bool tcp_segment(const Packet& f, std::uint32_t& seq, std::uint32_t& len, std::uint8_t& flags) {
    std::uint8_t h[14 + 60 + 60];
    const std::size_t n = std::min(f.size(), sizeof h);
    if (n < 14 + 20 + 20 || !f.copy_out(0, {h, n})) return false;
    if (h[12] != 0x08 || h[13] != 0x00) return false;
    const std::uint8_t* ip = h + 14;
    const std::size_t ihl = std::size_t{static_cast<std::uint8_t>(ip[0] & 15u)} * 4;
    if (ip[9] != 6 || ihl < 20 || 14 + ihl + 20 > n) return false;
    const std::uint32_t ip_total = static_cast<std::uint32_t>(ip[2] << 8 | ip[3]);
    const std::uint8_t* tcp = ip + ihl;
    const std::size_t thl = std::size_t{static_cast<std::uint8_t>(tcp[12] >> 4)} * 4;
    if (ip_total < ihl + thl) return false;
    seq = static_cast<std::uint32_t>(tcp[4]) << 24 | static_cast<std::uint32_t>(tcp[5]) << 16 |
          static_cast<std::uint32_t>(tcp[6]) << 8 | tcp[7];
    len = static_cast<std::uint32_t>(ip_total - ihl - thl);
    flags = tcp[13];
    return true;
}

TailResult run_tail(const ConfigRow& row, std::uint32_t k, std::uint64_t seed) {
    constexpr std::uint64_t kTotal = 100'000;
    SimPairConfig c = path_config(row, seed);
    std::uint32_t isn = 0, mss = 0;
    std::uint64_t high = 0;  // end offset of the highest data sent so far
    Instant first_drop = Instant::never();
    DropDevice* dd = nullptr;
    c.wrap_a = [&](std::unique_ptr<Device> d, Pool&) -> std::unique_ptr<Device> {
        auto w = std::make_unique<DropDevice>(std::move(d), [&](Instant now, const Packet& f) {
            std::uint32_t seq = 0, len = 0;
            std::uint8_t flags = 0;
            if (!tcp_segment(f, seq, len, flags)) return false;
            if (flags & 0x02) {  // SYN: the stream starts after it
                isn = seq;
                return false;
            }
            if (len == 0) return false;
            mss = std::max(mss, len);
            const std::uint64_t off = static_cast<std::uint32_t>(seq - isn - 1);
            const std::uint64_t end = off + len;
            // The last k segments start here (segments are MSS-aligned from
            // the start of the stream: one send of the whole response).
            const std::uint64_t rest = kTotal % mss == 0 ? mss : kTotal % mss;
            // k = 0, the reference: nothing dropped, timed from the first
            // transmission of the last segment.
            const std::uint64_t boundary = kTotal - rest - std::uint64_t{k > 0 ? k - 1 : 0} * mss;
            const bool fresh = end > high;
            high = std::max(high, end);
            if (!fresh || off < boundary) return false;
            if (first_drop == Instant::never()) first_drop = now;
            return k > 0;
        });
        dd = w.get();
        return w;
    };
    SimPair p(c);
    Transfer t(p, kTotal);
    Instant complete = Instant::never();
    t.on_read = [&](Instant now, std::uint64_t got) {
        if (got == kTotal) complete = now;
    };
    t.start();
    const bool done = p.run_until([&] { return complete != Instant::never(); }, Duration::seconds(120));
    TailResult r;
    r.dropped = dd ? dd->dropped() : 0;
    r.ok = done && !t.corrupt && r.dropped == k && first_drop != Instant::never();
    if (r.ok) r.ms = (complete - first_drop).secs() * 1e3;
    r.retransmits = p.a->tcp_layer().counters().retransmits;
    r.rtos = p.a->tcp_layer().counters().rto_expired;
    return r;
}

double mathis_mbit_s(double p) { return kMss * 8 / kRtt * std::sqrt(1.5) / std::sqrt(p) / 1e6; }

}  // namespace

int main(int argc, char** argv) {
    bool quick = false, json = false;
    std::uint64_t seeds = 10;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--quick")) {
            quick = true;
            seeds = 1;
        } else if (!std::strcmp(argv[i], "--json")) {
            json = true;
        } else if (!std::strcmp(argv[i], "--seeds") && i + 1 < argc) {
            seeds = std::max<std::uint64_t>(1, std::strtoull(argv[++i], nullptr, 10));
        } else {
            std::fprintf(stderr, "usage: %s [--quick] [--seeds N] [--json]\n", argv[0]);
            return 2;
        }
    }
    const Duration warmup = quick ? Duration::seconds(1) : Duration::seconds(2);
    const Duration window = quick ? Duration::seconds(3) : Duration::seconds(20);
    bool all_ok = true;

    if (!json) {
        std::printf("goodput, Mbit/s: 100 Mb/s bottleneck, 20 ms RTT, queue 1 BDP; %llu seed(s), %.0f s after %.0f s "
                    "warm-up; mean [min..max], retransmissions and RTOs per run (mean)\n",
                    static_cast<unsigned long long>(seeds), window.secs(), warmup.secs());
        std::printf("%-16s %-22s %22s %10s %8s %12s\n", "loss", "config", "goodput", "rexmit", "RTOs",
                    "Mathis bound");
    }
    for (const LossModel& loss : kLosses) {
        for (const ConfigRow& row : kConfigs) {
            double sum = 0, lo = 1e18, hi = 0, rex = 0, rtos = 0, lost = 0, frames = 0;
            bool ok = true;
            for (std::uint64_t s = 1; s <= seeds; ++s) {
                const BulkResult r = run_bulk(row, loss, s, warmup, window);
                ok = ok && r.ok;
                sum += r.mbit_s;
                lo = std::min(lo, r.mbit_s);
                hi = std::max(hi, r.mbit_s);
                rex += static_cast<double>(r.retransmits);
                rtos += static_cast<double>(r.rtos);
                lost += static_cast<double>(r.dropped);
                frames += static_cast<double>(r.frames);
            }
            all_ok = all_ok && ok;
            const double n = static_cast<double>(seeds);
            if (json) {
                std::printf("{\"kind\":\"goodput\",\"loss\":\"%s\",\"loss_rate\":%g,\"burst\":%g,\"config\":\"%s\","
                            "\"seeds\":%llu,\"goodput_mbit_s\":%.3f,\"min_mbit_s\":%.3f,\"max_mbit_s\":%.3f,"
                            "\"mathis_mbit_s\":%.3f,\"retransmits\":%.1f,\"rtos\":%.1f,\"measured_loss\":%.5f,"
                            "\"ok\":%s}\n",
                            loss.name, loss.mean, loss.burst, row.name, static_cast<unsigned long long>(seeds),
                            sum / n, lo, hi, mathis_mbit_s(loss.mean), rex / n, rtos / n,
                            frames > 0 ? lost / frames : 0.0, ok ? "true" : "false");
            } else {
                char g[48];
                std::snprintf(g, sizeof g, "%.2f [%.2f..%.2f]", sum / n, lo, hi);
                std::printf("%-16s %-22s %22s %10.0f %8.1f %12.2f%s\n", loss.name, row.name, g, rex / n, rtos / n,
                            mathis_mbit_s(loss.mean), ok ? "" : "  FAILED");
            }
            std::fflush(stdout);
        }
    }

    if (!json) {
        std::printf("\ntail loss: 100 KB response, its last k segments dropped once; time from the first drop to "
                    "the whole response read (k = 0: nothing dropped, from the last segment's sending; base RTT 20 ms)\n");
        std::printf("%-22s %4s %12s %8s %8s %8s\n", "config", "k", "recovery ms", "RTTs", "rexmit", "RTOs");
    }
    for (const ConfigRow& row : kConfigs) {
        for (std::uint32_t k = 0; k <= 3; ++k) {
            const TailResult r = run_tail(row, k, 1);
            all_ok = all_ok && r.ok;
            if (json) {
                std::printf("{\"kind\":\"tail\",\"config\":\"%s\",\"dropped_segments\":%u,\"recovery_ms\":%.3f,"
                            "\"retransmits\":%llu,\"rtos\":%llu,\"ok\":%s}\n",
                            row.name, k, r.ms, static_cast<unsigned long long>(r.retransmits),
                            static_cast<unsigned long long>(r.rtos), r.ok ? "true" : "false");
            } else {
                std::printf("%-22s %4u %12.1f %8.1f %8llu %8llu%s\n", row.name, k, r.ms, r.ms / (kRtt * 1e3),
                            static_cast<unsigned long long>(r.retransmits), static_cast<unsigned long long>(r.rtos),
                            r.ok ? "" : "  FAILED");
            }
            std::fflush(stdout);
        }
    }
    return all_ok ? 0 : 1;
}
