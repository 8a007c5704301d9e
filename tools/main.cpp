// tools/main.cpp — the `uinet` command: subcommands over the library.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>
#include <vector>

#include "client.hpp"
#include "common.hpp"
#ifdef UINET_WITH_PCAP
#include "passive/passive_cmd.hpp"
#endif

int main(int argc, char** argv) {
    CLI::App app{"uinet: a userland TCP/IP stack, and tools built on it"};
    app.require_subcommand(1);

    double loss = 0;
    std::uint64_t seed = 1;
    int pings = 5, datagrams = 100;
    bool verbose = false;
    auto* demo = app.add_subcommand("demo", "Two stacks over an in-memory link: ARP, ping and UDP echo");
    demo->add_option("--loss", loss, "Frame loss probability on the link (0..0.9)")->check(CLI::Range(0.0, 0.9));
    demo->add_option("--seed", seed, "Seed of the loss injector");
    demo->add_option("--pings", pings, "Echo requests to send")->check(CLI::Range(1, 100000));
    demo->add_option("--datagrams", datagrams, "UDP datagrams to echo")->check(CLI::Range(1, 1000000));
    demo->add_flag("-v,--verbose", verbose, "Print every counter at the end");
    std::string demo_trace;
    unsigned http_mb = 100;
    demo->add_option("--trace", demo_trace,
                     "Write the TCP trace of the lossy HTTP transfer's server connection to this file (CSV; JSON "
                     "lines if it ends in .json or .jsonl; docs/tracing.md)");
    double trace_sample_ms = 0;
    demo->add_option("--trace-sample-ms", trace_sample_ms,
                     "Write at most one ack record per this many ms (events are always written)")
        ->check(CLI::Range(0.0, 60000.0));
    demo->add_option("--http-mb", http_mb, "Megabytes the HTTP phase downloads (it uploads half as many)")
        ->check(CLI::Range(1u, 10000u));
    uinet::tools::TraceArgs tra;
    auto* trace = uinet::tools::add_trace_command(app, tra);

    uinet::tools::ServeArgs sa;
    auto* serve = app.add_subcommand("serve", "Serve ping, UDP echo (7) and TCP echo (7), discard (9), chargen (19) and HTTP (80) on a TAP device");
    uinet::tools::add_tap_options(*serve, sa);
    serve->add_flag("--no-blackhole{false},--blackhole{true}", sa.blackhole,
                    "Stay silent (no ICMP unreachable) for unclaimed traffic (default: answer)");

    uinet::tools::FetchArgs fa;
    auto* fetch = uinet::tools::add_fetch_command(app, fa);
    uinet::tools::TcpArgs ta;
    auto* tcp = uinet::tools::add_tcp_command(app, ta);

    uinet::tools::ProxyArgs xa;
    auto* proxy = uinet::tools::add_proxy_command(app, xa);

    uinet::tools::PerfArgs pa;
    bool quick = false;
    auto* perf = app.add_subcommand(
        "perf", "TCP bulk throughput, request/response and short connections: uinet (two stacks on a mem pipe, or one "
                "on a TAP device against the kernel) beside the Linux kernel (veth between namespaces, or loopback), "
                "same work, same run");
    auto* bytes_opt = perf->add_option("--bytes", pa.cfg.bytes, "Bytes to send in each bulk test (default 1 GB)")
                          ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40));
    perf->add_option("--conns-many,--conns", pa.conns_many,
                     "Connections sharing the bytes in the second bulk test, bulk_N (default 8; 1: no second test)")
        ->check(CLI::Range(1u, 1024u));
    perf->add_option("--mtu", pa.cfg.mtu, "MTU of the uinet mem pipe or TAP device and of the veth pair")
        ->check(CLI::Range(576u, 9000u));
    auto* rr_opt = perf->add_option("--rr-count", pa.cfg.rr_count, "Request/response transactions")
                       ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{10'000'000}));
    perf->add_option("--rr-size", pa.cfg.rr_size, "Bytes per request and per response")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
    auto* crr_opt = perf->add_option("--crr-count", pa.cfg.crr_count, "Short connections (default 20000)")
                        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{10'000'000}));
    perf->add_option("--crr-conc", pa.cfg.crr_conc, "Short connections in flight at once (default 1)")
        ->check(CLI::Range(1u, 1024u));
    perf->add_option("--crr-size", pa.cfg.crr_size, "Bytes of each short connection's request and answer (default 64)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{65536}));
    perf->add_option("--chunk", pa.cfg.chunk, "User buffer per send/recv call, both sides")
        ->check(CLI::Range(std::size_t{1}, std::size_t{16} << 20));
    perf->add_option("--sockbuf", pa.cfg.sockbuf,
                     "Socket send and receive buffer sizes for both sides (default: each stack's own default)")
        ->check(CLI::Range(std::size_t{0}, std::size_t{1} << 30));
    perf->add_option("--test", pa.test, "Which workloads to run")->check(CLI::IsMember({"all", "bulk", "rr", "crr"}));
    perf->add_option("--uinet", pa.uinet,
                     "uinet backend: mem (two stacks on a mem pipe) or tap (one stack on a TAP device, a kernel "
                     "server in a namespace as its peer; needs root)")
        ->check(CLI::IsMember({"mem", "tap"}));
    perf->add_option("--kernel", pa.kernel,
                     "kernel backend: veth (two namespaces joined by a veth pair; needs root) or loopback "
                     "(default: veth when root and `ip` is present)")
        ->check(CLI::IsMember({"auto", "veth", "loopback"}));
    perf->add_option("--side", pa.side, "Run both sides (all), or one alone, e.g. under perf stat")
        ->check(CLI::IsMember({"all", "uinet", "kernel"}));
    perf->add_option("--repeat", pa.repeat, "Rounds of each test; each side's median run is reported")
        ->check(CLI::Range(1u, 100u));
    std::vector<int> cpus;
    perf->add_option("--cpus", cpus,
                     "Two CPUs: pin the sending/client thread to the first and the receiving/server thread to the "
                     "second, on both sides (e.g. 0,0 or 0,1)")
        ->delimiter(',')
        ->expected(2)
        ->check(CLI::Range(0, 4095));
    perf->add_option("--timeout", pa.cfg.timeout_secs, "Give up on a test after this many seconds")
        ->check(CLI::Range(1.0, 86400.0));
    perf->add_flag("--quick", quick,
                   "Small sizes (32 MiB, 2000 transactions, 2000 connections) to check that it works");
    perf->add_flag("--json", pa.json, "Print JSON Lines, one object per figure, instead of the table");
    bool no_offload = false;
    perf->add_flag("--no-offload", no_offload,
                   "uinet's mem pipe without checksum offload, TSO and frame hand-over (1500-byte frames, "
                   "software checksums, two copies per frame)");

#ifdef UINET_WITH_PCAP
    uinet::tools::PassiveArgs pva;
    auto* passive = uinet::tools::add_passive_command(app, pva);
#endif

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    if (*demo) return uinet::tools::run_demo(loss, seed, pings, datagrams, verbose, demo_trace, http_mb,
                                             trace_sample_ms);
    if (*trace) return uinet::tools::run_trace(tra);
    if (*serve) return uinet::tools::run_serve(sa);
    if (*fetch) return uinet::tools::run_fetch(fa);
    if (*tcp) return uinet::tools::run_tcp(ta);
    if (*proxy) return uinet::tools::run_proxy(xa);
#ifdef UINET_WITH_PCAP
    if (*passive) return uinet::tools::run_passive(pva);
#endif
    if (*perf) {
        if (quick && bytes_opt->count() == 0) pa.cfg.bytes = 32u << 20;
        if (quick && rr_opt->count() == 0) pa.cfg.rr_count = 2000;
        if (quick && crr_opt->count() == 0) pa.cfg.crr_count = 2000;
        pa.cfg.offload = !no_offload;
        if (cpus.size() == 2) {
            pa.cfg.cpu_a = cpus[0];
            pa.cfg.cpu_b = cpus[1];
        }
        return uinet::tools::run_perf(pa);
    }
    return 2;
}
