// tools/proxy_cmd.cpp — `uinet proxy`: the inline transparent TCP proxy
// between two devices (tools/proxy/transparent_proxy.hpp, docs/proxy.md).
//
// One stack with two promiscuous interfaces and no addresses: --client and
// --server are device specs (tap:NAME today). With --vlan each device is
// wrapped in a VlanTagger pushing that tag stack (so the stack sees, and
// the proxy must reproduce, tagged frames although the kernel endpoints
// are untagged); --pcap-client/--pcap-server capture between the stack and
// the tagger, so the files show the tags. Prints `ready` once forwarding,
// one `conn ...` line per connection when it ends, and on SIGTERM/SIGINT
// the stack's counters with the proxy's, the splicer's, the taggers' and
// the captures' as one JSON object; exits 0. Bad options: exit 2; an
// unusable device or capture file: exit 1.
//
// Decision: one --vlan for both sides rather than one per side. The proxy
// passes tags through unchanged (the server side sends with the client's
// tag stack, bridged frames keep theirs), so the two sides of one wire
// carry the same stack; different stacks per side would only make every
// frame a tag mismatch in the other side's tagger.
#include <CLI/CLI.hpp>

#include <atomic>
#include <cstdio>
#include <memory>
#include <sstream>

#include "common.hpp"
#include "link/pcap_writer.hpp"
#include "link/vlan_tagger.hpp"
#include "proxy/device_spec.hpp"
#include "proxy/transparent_proxy.hpp"
#include "tap_stack.hpp"

namespace uinet::tools {

CLI::App* add_proxy_command(CLI::App& app, ProxyArgs& a) {
    auto* cmd = app.add_subcommand(
        "proxy",
        "Inline transparent TCP proxy between two devices: every TCP connection from the client side is "
        "re-originated to the server side as the client (addresses, ports, MACs, VLAN tags), the server's answer "
        "mirrored; everything else is bridged");
    cmd->add_option("--client", a.client, "Client-side device, e.g. tap:tap0")->required();
    cmd->add_option("--server", a.server, "Server-side device, e.g. tap:tap1")->required();
    cmd->add_option("--vlan", a.vlan,
                    "Wrap both devices in a VLAN tagger pushing this tag stack, outermost first, "
                    "e.g. 0x88a8:100,0x8100:200");
    cmd->add_option("--pcap-client", a.pcap_client, "Capture the client side (between the stack and any tagger)");
    cmd->add_option("--pcap-server", a.pcap_server, "Capture the server side (between the stack and any tagger)");
    cmd->add_option("--max-conns", a.max_conns, "Connections at once, pending included (default 4096)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
    cmd->add_option("--max-pending", a.max_pending, "Connections waiting for the server's answer (default 256)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 16));
    cmd->add_option("--connect-timeout", a.connect_timeout,
                    "Seconds without an answer from the server after which the client's SYN goes unanswered "
                    "(default 5)")
        ->check(CLI::Range(0.1, 600.0));
    cmd->add_option("--sockbuf", a.sockbuf, "Send and receive buffers of relayed connections (default 256 KiB)")
        ->check(CLI::Range(std::size_t{4096}, std::size_t{64} << 20));
    return cmd;
}

namespace {

struct Side {
    const char* name;
    proxy::DeviceSpec spec;
    std::string pcap;
    VlanTagger* tagger = nullptr;
    PcapWriter* writer = nullptr;
};

// The device of one side: the driver, then the tagger, then the capture.
Result<std::unique_ptr<Device>, int> open_side(Side& side, Pool& pool, const std::vector<VlanTagger::Tag>& tags) {
    auto dev = proxy::open_device(side.spec, pool);
    if (!dev) {
        std::fprintf(stderr, "uinet proxy: %s side: %s\n", side.name, dev.error().c_str());
        return Err{1};
    }
    std::unique_ptr<Device> d = std::move(*dev);
    if (!tags.empty()) {
        auto t = std::make_unique<VlanTagger>(std::move(d), tags);
        side.tagger = t.get();
        d = std::move(t);
    }
    if (!side.pcap.empty()) {
        auto w = PcapWriter::create(side.pcap);
        if (!w) {
            std::fprintf(stderr, "uinet proxy: %s\n", w.error().c_str());
            return Err{1};
        }
        side.writer = w->get();
        d = std::make_unique<PcapCapture>(std::move(d), std::move(*w), wall_minus_monotonic());
    }
    return d;
}

std::string sides_json(const Side* sides) {
    std::ostringstream o;
    for (int i = 0; i < 2; ++i) {
        const Side& s = sides[i];
        if (s.tagger) {
            const VlanStats& v = s.tagger->vlan_stats();
            o << ",\"vlan." << s.name << "\":{\"rx_tagged\":" << v.rx_tagged << ",\"rx_copied\":" << v.rx_copied
              << ",\"tx_untagged\":" << v.tx_untagged << ",\"tx_copied\":" << v.tx_copied
              << ",\"tag_mismatch\":" << v.tag_mismatch << ",\"no_buffer\":" << v.no_buffer << "}";
        }
        if (s.writer)
            o << ",\"pcap." << s.name << "\":{\"frames\":" << s.writer->frames() << ",\"errors\":" << s.writer->errors()
              << "}";
    }
    return o.str();
}

}  // namespace

int run_proxy(const ProxyArgs& args) {
    // Signals go to one thread only: block them before any thread starts.
    block_stop_signals();

    Side sides[2] = {{"client", {}, args.pcap_client}, {"server", {}, args.pcap_server}};
    const std::string* specs[2] = {&args.client, &args.server};
    for (int i = 0; i < 2; ++i) {
        auto s = proxy::parse_device_spec(*specs[i]);
        if (!s) {
            std::fprintf(stderr, "uinet proxy: --%s: %s\n", sides[i].name, s.error().c_str());
            return 2;
        }
        sides[i].spec = *s;
    }
    if (sides[0].spec.driver == sides[1].spec.driver && sides[0].spec.name == sides[1].spec.name) {
        std::fprintf(stderr, "uinet proxy: --client and --server name the same device '%s'\n", args.client.c_str());
        return 2;
    }
    auto tags = proxy::parse_vlan_stack(args.vlan);
    if (!tags) {
        std::fprintf(stderr, "uinet proxy: --vlan: %s\n", tags.error().c_str());
        return 2;
    }

    PosixHost ph;
    StackOptions opts;
    opts.name = "proxy";
    opts.pool.count = 16384;
    if (args.sockbuf != 0) opts.tcp.sndbuf = opts.tcp.rcvbuf = args.sockbuf;
    Stack stack(ph.host(), opts);
    net::IfIndex ifx[2] = {0, 0};
    for (int i = 0; i < 2; ++i) {
        auto dev = open_side(sides[i], stack.pool(), *tags);
        if (!dev) return dev.error();
        net::InterfaceConfig ic;
        ic.name = sides[i].name;
        ic.mac = random_local_mac(ph.random);
        ic.promiscuous = true;
        ic.announce = false;  // no addresses, nothing to announce: the proxy is invisible
        ifx[i] = stack.add_interface(std::move(*dev), ic);
    }

    proxy::ProxyConfig pc;
    pc.client_if = ifx[0];
    pc.server_if = ifx[1];
    pc.max_conns = args.max_conns;
    pc.max_pending = std::min(args.max_pending, args.max_conns);
    pc.connect_timeout = Duration::millis(static_cast<std::int64_t>(args.connect_timeout * 1000));
    proxy::TransparentProxy px(stack, pc, [](const proxy::ConnLog& l) {
        std::printf("%s\n", proxy::format_log(l).c_str());
        std::fflush(stdout);
    });
    if (auto r = px.start(); !r) {
        std::fprintf(stderr, "uinet proxy: %s\n", r.error().c_str());
        return 1;
    }

    std::atomic<bool> stop{false};
    // The posted task wakes the loop (the mailbox is in the stack's epoll set).
    SignalThread sig_thread([&] { stack.post([&] { stop = true; }); });
    // `ready` is printed from inside the loop: by then frames are forwarded.
    stack.post([] {
        std::printf("ready\n");
        std::fflush(stdout);
    });
    drive_until(stack, *ph.host().clock, [&] { return stop.load(); }, Instant::never(),
                [&](Instant now) { return px.poll(now); });
    px.stop();
    stack.poll(ph.host().clock->now());  // the resets of stop() leave
    if (sides[0].writer) sides[0].writer->flush();
    if (sides[1].writer) sides[1].writer->flush();

    std::string out = stack.counters_json();
    out.pop_back();  // the closing brace: the proxy's sections follow
    const SpliceCounters& sc = px.splice_counters();
    std::printf("%s,\"proxy\":%s,\"splice\":{\"joined\":%llu,\"clean\":%llu,\"reset\":%llu,\"aborted\":%llu,"
                "\"bytes\":%llu}%s}\n",
                out.c_str(), px.counters_json().c_str(), static_cast<unsigned long long>(sc.joined),
                static_cast<unsigned long long>(sc.clean), static_cast<unsigned long long>(sc.reset),
                static_cast<unsigned long long>(sc.aborted), static_cast<unsigned long long>(sc.bytes),
                sides_json(sides).c_str());
    std::fflush(stdout);
    return 0;
}

}  // namespace uinet::tools
