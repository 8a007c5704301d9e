// tools/common.hpp — shared helpers of the `uinet` command's subcommands.
#pragma once

#include <string>

#include "perf.hpp"
#include "tap_stack.hpp"

namespace uinet::tools {

// trace: write the TCP trace of the lossy HTTP phase's server connection
// (the download's sender) there; http_mb: megabytes downloaded (half as
// many uploaded).
int run_demo(double loss, std::uint64_t seed, int pings, int datagrams, bool verbose, const std::string& trace = {},
             unsigned http_mb = 100, double trace_sample_ms = 0);

// `uinet trace plot` (trace_cmd.cpp).
struct TraceArgs {
    std::string file, output, title;
    unsigned long conn = 0;  // 0: the first connection in the file
};
CLI::App* add_trace_command(CLI::App& app, TraceArgs& args);
int run_trace(const TraceArgs& args);

struct ServeArgs : TapArgs {
    bool blackhole = false;
};
int run_serve(const ServeArgs& args);

struct PerfArgs {
    perf::Config cfg;
    std::string test = "all";  // all, bulk, rr or crr
    unsigned conns_many = 8;   // connections of the second bulk run (bulk_N); 1 = none
    std::string uinet = "mem";     // mem (two stacks on a mem pipe) or tap (one stack against the kernel)
    std::string kernel = "auto";   // auto, loopback or veth
    unsigned repeat = 1;       // rounds; the median run of each side is reported
    std::string side = "all";  // all, uinet or kernel (one side alone, e.g. under perf stat)
    bool json = false;
};
int run_perf(const PerfArgs& args);

struct ProxyArgs {
    std::string client, server;          // device specs: tap:NAME
    std::string vlan;                    // tag stack pushed on both sides: TPID:VID,...
    std::string pcap_client, pcap_server;
    std::size_t max_conns = 4096;
    std::size_t max_pending = 256;
    double connect_timeout = 5.0;        // seconds
    std::size_t sockbuf = 0;             // socket buffers of the relayed connections (0: the stack's default)
};
CLI::App* add_proxy_command(CLI::App& app, ProxyArgs& args);
int run_proxy(const ProxyArgs& args);

}  // namespace uinet::tools
