// tools/main.cpp — the `uinet` command: subcommands over the library.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdio>

#include "common.hpp"

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

    uinet::tools::ServeArgs sa;
    auto* serve = app.add_subcommand("serve", "Serve ping, UDP echo (7) and TCP echo (7), discard (9), chargen (19) and HTTP (80) on a TAP device");
    serve->add_option("--tap", sa.tap, "TAP device to attach to (created if missing)")->required();
    serve->add_option("--addr", sa.addr, "Address and prefix of the stack, e.g. 198.18.0.2/24")->required();
    serve->add_option("--gateway", sa.gateway, "Default gateway");
    serve->add_option("--pcap", sa.pcap, "Write a capture of every frame to this file");
    serve->add_option("--mac", sa.mac, "MAC address of the stack (default: random, locally administered)");
    serve->add_flag("--no-blackhole{false},--blackhole{true}", sa.blackhole,
                    "Stay silent (no ICMP unreachable) for unclaimed traffic (default: answer)");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    if (*demo) return uinet::tools::run_demo(loss, seed, pings, datagrams, verbose);
    if (*serve) return uinet::tools::run_serve(sa);
    return 2;
}
