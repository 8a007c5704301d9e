// tools/perf.cpp — `uinet perf`: runs each workload on uinet and on the
// Linux kernel, one after the other in the same process, and prints the
// figures side by side with the ratio uinet/kernel, as a table or (--json)
// as JSON Lines, one object per figure. It makes (and removes) the network
// namespaces the chosen backends need. What is compared, and how, is in
// docs/performance.md.
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>

#include "common.hpp"
#include "perf.hpp"
#include "perf_net.hpp"

namespace uinet::tools {

namespace perf {

Cpu process_cpu() {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
    return Cpu{secs(ru.ru_utime), secs(ru.ru_stime), static_cast<std::uint64_t>(ru.ru_nvcsw + ru.ru_nivcsw)};
}

bool pin_self(int cpu) {
    if (cpu < 0) return true;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (::pthread_setaffinity_np(::pthread_self(), sizeof set, &set) == 0) return true;
    std::fprintf(stderr, "uinet perf: cannot pin a thread to CPU %d; it runs unpinned\n", cpu);
    return false;
}

Cpu operator-(const Cpu& a, const Cpu& b) { return Cpu{a.user - b.user, a.sys - b.sys, a.switches - b.switches}; }

void latency_stats(std::vector<double>& us, RrResult& r) {
    if (us.empty()) return;
    double sum = 0;
    for (double v : us) sum += v;
    r.mean_us = sum / static_cast<double>(us.size());
    auto at = [&us](double q) {
        std::size_t k = static_cast<std::size_t>(q * static_cast<double>(us.size() - 1));
        std::nth_element(us.begin(), us.begin() + static_cast<std::ptrdiff_t>(k), us.end());
        return us[k];
    };
    r.p50_us = at(0.50);
    r.p99_us = at(0.99);
}

void Completion::succeed() {
    std::lock_guard<std::mutex> lk(mu_);
    if (done_) return;
    done_ = ok_ = true;
    cv_.notify_all();
}

void Completion::fail(std::string why) {
    std::lock_guard<std::mutex> lk(mu_);
    if (done_) return;
    done_ = true;
    ok_ = false;
    error_ = std::move(why);
    cv_.notify_all();
}

bool Completion::wait(double secs) {
    std::unique_lock<std::mutex> lk(mu_);
    if (cv_.wait_for(lk, std::chrono::duration<double>(secs), [this] { return done_; })) return true;
    done_ = true;
    ok_ = false;
    error_ = "timed out after " + std::to_string(static_cast<long long>(secs)) + " s";
    return false;
}

bool Completion::ok() const {
    std::lock_guard<std::mutex> lk(mu_);
    return ok_;
}

std::string Completion::error() const {
    std::lock_guard<std::mutex> lk(mu_);
    return error_;
}

}  // namespace perf

namespace {

using perf::BulkResult;
using perf::Config;
using perf::RrResult;

double gbps(const BulkResult& b) { return b.secs > 0 ? static_cast<double>(b.bytes) * 8 / b.secs / 1e9 : 0; }
double bytes_per_cpu(const BulkResult& b) {
    return b.cpu.total() > 0 ? static_cast<double>(b.bytes) / b.cpu.total() : 0;
}
double rate(const RrResult& r) { return r.secs > 0 ? static_cast<double>(r.transactions) / r.secs : 0; }
double cpu_us_per_tx(const RrResult& r) {
    return r.transactions ? r.cpu.total() * 1e6 / static_cast<double>(r.transactions) : 0;
}
double per_tx(const RrResult& r, double v) { return r.transactions ? v / static_cast<double>(r.transactions) : 0; }

std::string json_string(const std::string& s) {
    std::string o = "\"";
    for (char ch : s) {
        const auto u = static_cast<unsigned char>(ch);
        if (ch == '"' || ch == '\\') {
            o += '\\';
            o += ch;
        } else if (u < 0x20) {
            char b[8];
            std::snprintf(b, sizeof b, "\\u%04x", u);
            o += b;
        } else {
            o += ch;
        }
    }
    return o + "\"";
}

std::string num(double v) {
    if (!std::isfinite(v)) return "0";
    char b[64];
    std::snprintf(b, sizeof b, "%.6g", v);
    return b;
}
std::string unum(std::uint64_t v) { return std::to_string(v); }

template <class R, class F>
R pick_median(std::vector<R>& runs, F figure) {
    for (R& r : runs)
        if (!r.ok) return r;
    std::sort(runs.begin(), runs.end(), [&](const R& x, const R& y) { return figure(x) < figure(y); });
    return runs[runs.size() / 2];
}

// One figure of one workload, uinet beside the kernel.
struct Figure {
    std::string workload;
    std::string unit;
    double u = 0, k = 0;
    bool higher_is_better = true;
};

// One workload's results: its figures and the fields every one of its JSON
// lines carries.
struct Workload {
    std::string label;  // the text table's heading
    std::vector<Figure> figures;
    std::string extra;  // JSON members, each with a leading comma
    bool ok = true;
    std::string error;
};

struct Sides {
    bool uinet = true, kernel = true;
};

// Runs `repeat` rounds, uinet then the kernel each round, and keeps each
// side's median run (a failed run if there is one), so that one figure set
// comes from one run.
template <class R, class U, class K, class F>
std::pair<R, R> rounds(unsigned repeat, Sides sides, U run_u, K run_k, F figure) {
    std::vector<R> us, ks;
    for (unsigned i = 0; i < repeat; ++i) {
        if (sides.uinet) us.push_back(run_u());
        if (sides.kernel) ks.push_back(run_k());
    }
    R u, k;
    u.ok = k.ok = true;  // a side not run counts as fine and shows no value
    if (sides.uinet) u = pick_median(us, figure);
    if (sides.kernel) k = pick_median(ks, figure);
    return {u, k};
}

void note_failures(Workload& w, const std::string& ue, bool uok, const std::string& ke, bool kok) {
    auto named = [](const char* side, const std::string& e) {
        return e.rfind(side, 0) == 0 ? e : side + (": " + e);
    };
    w.ok = uok && kok;
    if (!uok) w.error = named("uinet", ue);
    if (!kok) w.error += (w.error.empty() ? "" : "; ") + named("kernel", ke);
}

// rx: uinet receives from a kernel sender (TAP only; the kernel figure is
// the same kernel-to-kernel transfer as for bulk_<conns>).
Workload bulk_workload(const Config& base, unsigned conns, unsigned repeat, Sides sides, bool rx = false) {
    Config c = base;
    c.conns = conns;
    const bool tap = c.uinet_link == perf::UinetLink::tap;
    auto [u, k] = rounds<BulkResult>(
        repeat, sides,
        [&] { return rx ? perf::tap_bulk_rx(c) : tap ? perf::tap_bulk(c) : perf::uinet_bulk(c); },
        [&] { return perf::kernel_bulk(c); }, gbps);
    Workload w;
    const std::string name = (rx ? "bulk_rx_" : "bulk_") + std::to_string(conns);
    w.label = name + ": " + std::to_string(c.bytes) + " bytes over " + std::to_string(conns) + " connection(s), " +
              std::to_string(c.chunk) + "-byte user buffers" + (rx ? ", uinet receiving from the kernel" : "");
    note_failures(w, u.error, u.ok, k.error, k.ok);
    w.figures = {{name, "Gbit/s", gbps(u), gbps(k)},
                 {name + "_efficiency", "GB/CPU-s", bytes_per_cpu(u) / 1e9, bytes_per_cpu(k) / 1e9}};
    w.extra = ",\"conns\":" + unum(conns) + ",\"expected_bytes\":" + unum(c.bytes) + ",\"bytes\":" + unum(u.bytes) +
              ",\"kernel_bytes\":" + unum(k.bytes) + ",\"seconds\":" + num(u.secs) + ",\"kernel_seconds\":" +
              num(k.secs) + ",\"cpu_s\":" + num(u.cpu.total()) + ",\"kernel_cpu_s\":" + num(k.cpu.total()) +
              ",\"context_switches\":" + unum(u.cpu.switches) + ",\"kernel_context_switches\":" +
              unum(k.cpu.switches) + ",\"segments\":" + unum(u.segments) + ",\"retransmits\":" +
              unum(u.retransmits) + ",\"dropped_frames\":" + unum(u.dropped_frames) + ",\"sndbuf\":" +
              unum(u.sndbuf) + ",\"rcvbuf\":" + unum(u.rcvbuf) + ",\"kernel_sndbuf\":" + unum(k.sndbuf) +
              ",\"kernel_rcvbuf\":" + unum(k.rcvbuf);
    return w;
}

// rr and crr: rate, latency p50/p99, CPU per transaction.
Workload tx_workload(const std::string& name, const RrResult& u, const RrResult& k, std::uint64_t expected) {
    Workload w;
    note_failures(w, u.error, u.ok, k.error, k.ok);
    w.figures = {{name, name == "rr" ? "transactions/s" : "connections/s", rate(u), rate(k)},
                 {name + "_p50_us", "us", u.p50_us, k.p50_us, false},
                 {name + "_p99_us", "us", u.p99_us, k.p99_us, false},
                 {name + "_cpu_us", "CPU-us/" + std::string(name == "rr" ? "transaction" : "connection"),
                  cpu_us_per_tx(u), cpu_us_per_tx(k), false}};
    w.extra = ",\"expected_transactions\":" + unum(expected) + ",\"transactions\":" + unum(u.transactions) +
              ",\"kernel_transactions\":" + unum(k.transactions) + ",\"seconds\":" + num(u.secs) +
              ",\"kernel_seconds\":" + num(k.secs) + ",\"mean_us\":" + num(u.mean_us) + ",\"kernel_mean_us\":" +
              num(k.mean_us) + ",\"cpu_s\":" + num(u.cpu.total()) + ",\"kernel_cpu_s\":" + num(k.cpu.total()) +
              ",\"context_switches_per_transaction\":" + num(per_tx(u, static_cast<double>(u.cpu.switches))) +
              ",\"kernel_context_switches_per_transaction\":" +
              num(per_tx(k, static_cast<double>(k.cpu.switches))) + ",\"segments\":" + unum(u.segments) +
              ",\"retransmits\":" + unum(u.retransmits);
    return w;
}

Workload rr_workload(const Config& c, unsigned repeat, Sides sides) {
    auto [u, k] = rounds<RrResult>(
        repeat, sides, [&] { return c.uinet_link == perf::UinetLink::tap ? perf::tap_rr(c) : perf::uinet_rr(c); },
        [&] { return perf::kernel_rr(c); }, rate);
    Workload w = tx_workload("rr", u, k, c.rr_count);
    w.label = "rr: " + std::to_string(c.rr_count) + " x " + std::to_string(c.rr_size) +
              " byte(s) each way, one connection, TCP_NODELAY";
    w.extra += ",\"size\":" + unum(c.rr_size);
    return w;
}

Workload crr_workload(const Config& c, unsigned repeat, Sides sides) {
    auto [u, k] = rounds<RrResult>(
        repeat, sides, [&] { return c.uinet_link == perf::UinetLink::tap ? perf::tap_crr(c) : perf::uinet_crr(c); },
        [&] { return perf::kernel_crr(c); }, rate);
    Workload w = tx_workload("crr", u, k, c.crr_count);
    w.label = "crr: " + std::to_string(c.crr_count) + " connections, " + std::to_string(c.crr_conc) +
              " at a time: connect, " + std::to_string(c.crr_size) + "-byte request, " +
              std::to_string(c.crr_size) + "-byte answer, server closes first";
    w.extra += ",\"size\":" + unum(c.crr_size) + ",\"conc\":" + unum(c.crr_conc) +
               ",\"time_wait_budget_closes\":" + unum(u.time_wait_budget) + ",\"time_wait_reuse\":" +
               unum(u.time_wait_reuse);
    return w;
}

std::string ratio_text(double u, double k) {
    if (!(u > 0) || !(k > 0)) return "-";
    char b[32];
    std::snprintf(b, sizeof b, "%.3f", u / k);
    return b;
}

std::string value_text(double v, bool shown) {
    if (!shown) return "-";
    char b[32];
    std::snprintf(b, sizeof b, v >= 1000 ? "%.0f" : "%.3g", v);
    return b;
}

}  // namespace

int run_perf(const PerfArgs& a) {
    perf::Config c = a.cfg;
    const Sides sides{a.side != "kernel", a.side != "uinet"};
    const bool tap = a.uinet == "tap";
    c.uinet_link = tap ? perf::UinetLink::tap : perf::UinetLink::mem;

    // Where the kernel side runs: veth between two namespaces when this
    // process may make them (root, `ip` present), else loopback.
    std::string kernel_why;
    bool veth = a.kernel == "veth";
    const bool can_ns = (a.kernel != "loopback" || tap) && perf::can_make_namespaces();
    if (a.kernel == "auto") {
        veth = can_ns;
        kernel_why = can_ns ? "default: root and `ip` present" : "default: not root or no `ip`, so no namespaces";
    }
    if ((veth || tap) && !can_ns) {
        std::fprintf(stderr, "uinet perf: %s needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) and the `ip` command\n",
                     tap ? "--uinet tap" : "--kernel veth");
        return 2;
    }
    std::optional<perf::PerfNet> net;  // made before any thread: it blocks SIGINT/SIGTERM for them
    if (veth || tap) {
        net.emplace();
        std::string err;
        if (veth && !net->make_veth(c.mtu, err)) {
            if (a.kernel != "auto") {
                std::fprintf(stderr, "uinet perf: %s\n", err.c_str());
                return 2;
            }
            veth = false;
            kernel_why = "default veth failed (" + err + "), so loopback";
        }
        if (tap && !net->make_tap_ns(err)) {
            std::fprintf(stderr, "uinet perf: %s\n", err.c_str());
            return 2;
        }
    }
    if (veth) {
        c.kernel_path = perf::KernelPath::veth;
        c.kernel_client_ns = net->ns_a();
        c.kernel_server_ns = net->ns_b();
        c.kernel_server_ip = perf::kVethServerIp;
    }
    if (tap) {
        c.tap_ns = net->ns_t();
        c.tap_name = net->tap_name();
        c.tap_kernel_ip = perf::kTapKernelIp;
        c.tap_uinet_ip = perf::kTapUinetIp;
    }
    const std::string ub = tap ? "uinet-tap" : "uinet-mem";
    const std::string kb = veth ? "kernel-veth" : "kernel-loopback";

    if (!a.json) {
        if (tap)
            std::printf("uinet perf: uinet-tap = one uinet stack in this process on a TAP device (MTU %u, no offloads)\n"
                        "            against a kernel thread in namespace %s: uinet is the client/sender, and\n"
                        "            the receiver in bulk_rx_1\n",
                        c.mtu, c.tap_ns.c_str());
        else
            std::printf("uinet perf: uinet-mem = two uinet stacks in this process on a mem pipe (MTU %u, no delay),\n"
                        "            one thread each\n",
                        c.mtu);
        if (veth)
            std::printf("            kernel-veth = Linux TCP from namespace %s to %s over a veth pair (MTU %u,\n"
                        "            the kernel's default veth offloads: TSO/GSO, checksum), a thread in each%s\n",
                        c.kernel_client_ns.c_str(), c.kernel_server_ns.c_str(), c.mtu,
                        kernel_why.empty() ? "" : (" (" + kernel_why + ")").c_str());
        else
            std::printf("            kernel-loopback = Linux TCP over 127.0.0.1 (MTU 65536, TSO/GSO/GRO, no checksums),\n"
                        "            two threads%s\n",
                        kernel_why.empty() ? "" : (" (" + kernel_why + ")").c_str());
        if (tap && veth)
            std::printf("            so each ratio is uinet+tap+kernel against kernel+veth+kernel\n");
        std::printf("            same process, same run; ratio = uinet/kernel (for us figures, lower is better)\n");
        std::fflush(stdout);
    }

    const bool all = a.test == "all";
    std::vector<Workload> ws;
    if (all || a.test == "bulk") {
        ws.push_back(bulk_workload(c, 1, a.repeat, sides));
        if (a.conns_many > 1) ws.push_back(bulk_workload(c, a.conns_many, a.repeat, sides));
        if (tap) ws.push_back(bulk_workload(c, 1, a.repeat, sides, true));
    }
    if (all || a.test == "rr") ws.push_back(rr_workload(c, a.repeat, sides));
    if (all || a.test == "crr") ws.push_back(crr_workload(c, a.repeat, sides));

    bool ok = true;
    for (const Workload& w : ws) {
        if (!w.ok) std::fprintf(stderr, "uinet perf: %s FAILED: %s\n", w.label.c_str(), w.error.c_str());
        ok = ok && w.ok;
    }

    if (a.json) {
        // JSON Lines: one object per figure.
        const std::string common = ",\"runs\":" + unum(a.repeat) + ",\"mtu\":" + unum(c.mtu) +
                                   ",\"cpu_a\":" + std::to_string(c.cpu_a) + ",\"cpu_b\":" + std::to_string(c.cpu_b);
        for (const Workload& w : ws) {
            for (const Figure& f : w.figures) {
                std::string o = "{\"workload\":" + json_string(f.workload);
                o += ",\"backend\":" + (sides.uinet ? json_string(ub) : "null");
                o += ",\"value\":" + (sides.uinet ? num(f.u) : "null");
                o += ",\"unit\":" + json_string(f.unit);
                o += ",\"kernel_backend\":" + (sides.kernel ? json_string(kb) : "null");
                o += ",\"kernel_value\":" + (sides.kernel ? num(f.k) : "null");
                o += ",\"ratio\":" + (sides.uinet && sides.kernel && f.k > 0 ? num(f.u / f.k) : "null");
                o += ",\"higher_is_better\":" + std::string(f.higher_is_better ? "true" : "false");
                o += ",\"ok\":" + std::string(w.ok ? "true" : "false") + ",\"error\":" + json_string(w.error);
                std::printf("%s%s%s}\n", o.c_str(), common.c_str(), w.extra.c_str());
            }
        }
        return ok ? 0 : 1;
    }

    std::printf("\n  %-20s %-10s %10s  %-16s %10s  %-19s %12s\n", "workload", "uinet", "value", "kernel", "value", "unit",
                "uinet/kernel");
    if (a.repeat > 1) std::printf("  (each side: the median of %u runs)\n", a.repeat);
    if (c.cpu_a >= 0 || c.cpu_b >= 0)
        std::printf("  (both sides: sending/client thread on CPU %d, receiving/server thread on CPU %d)\n", c.cpu_a,
                    c.cpu_b);
    for (const Workload& w : ws) {
        std::printf("  %s\n", w.label.c_str());
        for (const Figure& f : w.figures)
            std::printf("  %-20s %-10s %10s  %-16s %10s  %-19s %12s\n", f.workload.c_str(),
                        sides.uinet ? ub.c_str() : "-", value_text(f.u, sides.uinet).c_str(),
                        sides.kernel ? kb.c_str() : "-", value_text(f.k, sides.kernel).c_str(), f.unit.c_str(),
                        sides.uinet && sides.kernel ? ratio_text(f.u, f.k).c_str() : "-");
    }
    std::printf("\n  crr close order, both sides: the server answers and closes first, the client reads the answer\n"
                "  and the end of stream, then closes (server: TIME-WAIT; client: LAST-ACK, no port held);\n"
                "  latency = the client's socket() .. close()\n");
    std::printf("  extra figures (sockets buffers, segments, retransmissions, context switches): --json\n");
    std::printf("result: %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}

}  // namespace uinet::tools
