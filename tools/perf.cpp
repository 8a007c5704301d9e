// tools/perf.cpp — `uinet perf`: runs each test on uinet and on the Linux
// kernel, one after the other in the same process, and prints the figures
// side by side with the ratio uinet/kernel, as a table or (--json) as one
// JSON object. What is compared, and how, is in docs/performance.md.
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "common.hpp"
#include "perf.hpp"

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
using perf::RrResult;

double gbps(const BulkResult& b) { return b.secs > 0 ? static_cast<double>(b.bytes) * 8 / b.secs / 1e9 : 0; }
double bytes_per_cpu(const BulkResult& b) {
    return b.cpu.total() > 0 ? static_cast<double>(b.bytes) / b.cpu.total() : 0;
}
double rate(const RrResult& r) { return r.secs > 0 ? static_cast<double>(r.transactions) / r.secs : 0; }
double cpu_us_per_tx(const RrResult& r) {
    return r.transactions ? r.cpu.total() * 1e6 / static_cast<double>(r.transactions) : 0;
}
double ratio(double u, double k) { return k > 0 ? u / k : 0; }
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

std::string bulk_json(const BulkResult& b) {
    std::string o = "{\"ok\":" + std::string(b.ok ? "true" : "false") + ",\"error\":" + json_string(b.error);
    o += ",\"seconds\":" + num(b.secs) + ",\"bytes\":" + std::to_string(b.bytes) + ",\"gbit_per_s\":" + num(gbps(b));
    o += ",\"cpu_user_s\":" + num(b.cpu.user) + ",\"cpu_sys_s\":" + num(b.cpu.sys);
    o += ",\"context_switches\":" + std::to_string(b.cpu.switches) + ",\"bytes_per_cpu_s\":" + num(bytes_per_cpu(b));
    o += ",\"segments\":" + std::to_string(b.segments) + ",\"retransmits\":" + std::to_string(b.retransmits);
    o += ",\"dropped_frames\":" + std::to_string(b.dropped_frames) + ",\"sndbuf\":" + std::to_string(b.sndbuf);
    return o + ",\"rcvbuf\":" + std::to_string(b.rcvbuf) + "}";
}

std::string rr_json(const RrResult& r) {
    std::string o = "{\"ok\":" + std::string(r.ok ? "true" : "false") + ",\"error\":" + json_string(r.error);
    o += ",\"seconds\":" + num(r.secs) + ",\"transactions\":" + std::to_string(r.transactions);
    o += ",\"per_s\":" + num(rate(r)) + ",\"mean_us\":" + num(r.mean_us) + ",\"p50_us\":" + num(r.p50_us);
    o += ",\"p99_us\":" + num(r.p99_us) + ",\"cpu_user_s\":" + num(r.cpu.user) + ",\"cpu_sys_s\":" + num(r.cpu.sys);
    o += ",\"context_switches\":" + std::to_string(r.cpu.switches);
    o += ",\"cpu_us_per_transaction\":" + num(cpu_us_per_tx(r)) + ",\"segments\":" + std::to_string(r.segments);
    return o + ",\"retransmits\":" + std::to_string(r.retransmits) + "}";
}

template <class R, class F>
R pick_median(std::vector<R>& runs, F figure) {
    for (R& r : runs)
        if (!r.ok) return r;
    std::sort(runs.begin(), runs.end(), [&](const R& x, const R& y) { return figure(x) < figure(y); });
    return runs[runs.size() / 2];
}

struct Row {
    const char* name;
    double u, k;
    bool ratio = true;  // false for breakdown rows, whose ratio means nothing
};

void print_rows(const std::vector<Row>& rows) {
    for (const Row& r : rows) {
        if (r.k > 0 && r.u > 0 && r.ratio)
            std::printf("  %-34s %14.3f %14.3f %10.3f\n", r.name, r.u, r.k, ratio(r.u, r.k));
        else
            std::printf("  %-34s %14.3f %14.3f %10s\n", r.name, r.u, r.k, "-");
    }
}

void print_failure(const char* side, const char* test, const std::string& error) {
    std::fprintf(stderr, "uinet perf: %s %s FAILED: %s\n", side, test, error.c_str());
}

}  // namespace

int run_perf(const PerfArgs& a) {
    const perf::Config& c = a.cfg;
    const bool do_bulk = a.test == "all" || a.test == "bulk";
    const bool do_rr = a.test == "all" || a.test == "rr";
    const bool do_uinet = a.side != "kernel";
    const bool do_kernel = a.side != "uinet";
    BulkResult ub, kb;
    RrResult ur, kr;
    // A side not run counts as fine and shows no ratio.
    ub.ok = kb.ok = ur.ok = kr.ok = true;
    if (!a.json) {
        std::printf("uinet perf: uinet = two stacks on a mem pipe (MTU %u, no delay), one thread each;\n"
                    "            kernel = Linux TCP over 127.0.0.1, two threads; same process, same run\n",
                    c.mtu);
        std::fflush(stdout);
    }
    // Each round runs uinet then the kernel; with several rounds the run
    // with the median main figure is reported for each side (a failed run
    // is reported if there is one), so one figure set comes from one run.
    if (do_bulk) {
        std::vector<BulkResult> us, ks;
        for (unsigned i = 0; i < a.repeat; ++i) {
            if (do_uinet) us.push_back(perf::uinet_bulk(c));
            if (do_kernel) ks.push_back(perf::kernel_bulk(c));
        }
        if (do_uinet) ub = pick_median(us, gbps);
        if (do_kernel) kb = pick_median(ks, gbps);
    }
    if (do_rr) {
        std::vector<RrResult> us, ks;
        for (unsigned i = 0; i < a.repeat; ++i) {
            if (do_uinet) us.push_back(perf::uinet_rr(c));
            if (do_kernel) ks.push_back(perf::kernel_rr(c));
        }
        if (do_uinet) ur = pick_median(us, rate);
        if (do_kernel) kr = pick_median(ks, rate);
    }
    bool ok = true;
    if (do_bulk) {
        if (!ub.ok) print_failure("uinet", "bulk", ub.error);
        if (!kb.ok) print_failure("kernel", "bulk", kb.error);
        ok = ok && ub.ok && kb.ok;
    }
    if (do_rr) {
        if (!ur.ok) print_failure("uinet", "rr", ur.error);
        if (!kr.ok) print_failure("kernel", "rr", kr.error);
        ok = ok && ur.ok && kr.ok;
    }

    if (a.json) {
        std::string cfg = "{\"bytes\":" + std::to_string(c.bytes) + ",\"conns\":" + std::to_string(c.conns) +
                          ",\"mtu\":" + std::to_string(c.mtu) + ",\"rr_count\":" + std::to_string(c.rr_count) +
                          ",\"rr_size\":" + std::to_string(c.rr_size) + ",\"chunk\":" + std::to_string(c.chunk) +
                          ",\"sockbuf\":" + std::to_string(c.sockbuf) + ",\"repeat\":" + std::to_string(a.repeat) +
                          ",\"cpu_a\":" + std::to_string(c.cpu_a) + ",\"cpu_b\":" + std::to_string(c.cpu_b) +
                          ",\"side\":" + json_string(a.side) + "}";
        std::string u, k, r;
        if (do_bulk) {
            u += "\"bulk\":" + bulk_json(ub);
            k += "\"bulk\":" + bulk_json(kb);
            r += "\"bulk_gbit_per_s\":" + num(ratio(gbps(ub), gbps(kb))) +
                 ",\"bulk_bytes_per_cpu_s\":" + num(ratio(bytes_per_cpu(ub), bytes_per_cpu(kb)));
        }
        if (do_rr) {
            const char* sep = do_bulk ? "," : "";
            u += sep + ("\"rr\":" + rr_json(ur));
            k += sep + ("\"rr\":" + rr_json(kr));
            r += sep + ("\"rr_per_s\":" + num(ratio(rate(ur), rate(kr))) +
                        ",\"rr_mean_us\":" + num(ratio(ur.mean_us, kr.mean_us)) +
                        ",\"rr_cpu_us_per_transaction\":" + num(ratio(cpu_us_per_tx(ur), cpu_us_per_tx(kr))));
        }
        std::string out = "{\"ok\":" + std::string(ok ? "true" : "false") + ",\"config\":" + cfg;
        if (do_uinet) out += ",\"uinet\":{" + u + "}";
        if (do_kernel) out += ",\"kernel\":{" + k + "}";
        if (do_uinet && do_kernel) out += ",\"ratio_uinet_over_kernel\":{" + r + "}";
        std::printf("%s}\n", out.c_str());
        return ok ? 0 : 1;
    }

    std::printf("\n  %-34s %14s %14s %10s\n", "test", "uinet", "kernel", "uinet/kernel");
    if (a.repeat > 1) std::printf("  (each side: the median of %u runs)\n", a.repeat);
    if (c.cpu_a >= 0 || c.cpu_b >= 0)
        std::printf("  (both sides: sending/client thread on CPU %d, receiving/server thread on CPU %d)\n", c.cpu_a,
                    c.cpu_b);
    if (do_bulk) {
        std::printf("  bulk: %llu bytes over %u connection(s), %zu-byte user buffers\n",
                    static_cast<unsigned long long>(c.bytes), c.conns, c.chunk);
        print_rows({{"throughput (Gbit/s)", gbps(ub), gbps(kb)},
                    {"CPU time, user+sys (s)", ub.cpu.total(), kb.cpu.total()},
                    {"  of which user (s)", ub.cpu.user, kb.cpu.user, false},
                    {"  of which sys (s)", ub.cpu.sys, kb.cpu.sys, false},
                    {"efficiency (GB per CPU-second)", bytes_per_cpu(ub) / 1e9, bytes_per_cpu(kb) / 1e9},
                    {"context switches", static_cast<double>(ub.cpu.switches), static_cast<double>(kb.cpu.switches)}});
    }
    if (do_rr) {
        std::printf("  request/response: %llu x %zu byte(s) each way, one connection, TCP_NODELAY\n",
                    static_cast<unsigned long long>(c.rr_count), c.rr_size);
        print_rows({{"rate (transactions/s)", rate(ur), rate(kr)},
                    {"latency mean (us)", ur.mean_us, kr.mean_us},
                    {"latency p50 (us)", ur.p50_us, kr.p50_us},
                    {"latency p99 (us)", ur.p99_us, kr.p99_us},
                    {"CPU per transaction (us)", cpu_us_per_tx(ur), cpu_us_per_tx(kr)},
                    {"context switches per transaction", per_tx(ur, static_cast<double>(ur.cpu.switches)),
                     per_tx(kr, static_cast<double>(kr.cpu.switches))}});
    }
    std::printf("\n");
    if (do_bulk)
        std::printf("  socket buffers (send/receive): uinet %zu/%zu, kernel %zu/%zu (as reported at the start%s)\n",
                    ub.sndbuf, ub.rcvbuf, kb.sndbuf, kb.rcvbuf, c.sockbuf ? "" : ", then autotuned");
    if (do_bulk && do_uinet)
        std::printf("  uinet bulk: %llu segments, %llu retransmissions, %llu frames dropped\n",
                    static_cast<unsigned long long>(ub.segments), static_cast<unsigned long long>(ub.retransmits),
                    static_cast<unsigned long long>(ub.dropped_frames));
    if (do_rr && do_uinet)
        std::printf("  uinet rr: %.2f segments per transaction, %llu retransmissions\n",
                    per_tx(ur, static_cast<double>(ur.segments)), static_cast<unsigned long long>(ur.retransmits));
    std::printf("result: %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}

}  // namespace uinet::tools
