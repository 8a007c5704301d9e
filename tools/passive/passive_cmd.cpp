// tools/passive/passive_cmd.cpp — `uinet passive`: observe the TCP
// connections in a capture file (or on a live interface) with a passive
// uinet stack and write out their byte streams.
//
// Contract:
//  * The stack is silent (NetConfig::passive) on a promiscuous interface
//    with no address; one catch-all passive listener observes every
//    connection from its SYN (--midstream: also those already running).
//  * A file is read at full speed with the stack's clock set to each
//    batch's capture timestamp (VirtualClock <- PcapFileDevice::
//    next_timestamp()), so timeouts run on packet time. At the end of the
//    file every open connection ends (capture-end). A live interface runs
//    in real time until SIGINT/SIGTERM.
//  * --outdir: each connection's streams go to
//    DIR/<n>-<client ip>.<port>-<server ip>.<port>.c2s and .s2c, written at
//    their stream offsets: a hole is a run of zero bytes (sparse), so file
//    offsets are stream offsets. --http-bodies DIR: HTTP/1.x bodies,
//    DIR/<same name>.c2s.<k>.body / .s2c.<k>.body. --summary: one line per
//    connection when it ends. --pcap-dir DIR: each TCP/UDP flow's frames
//    also go to a capture file of their own (link/flow_capture.hpp),
//    --pcap-port P keeping only flows with an endpoint on port P.
//  * At the end: frames and capture bytes processed, seconds, Gbit/s, and
//    the passive counters; exit 0 (2 on a bad argument or input).
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "host/posix.hpp"
#include "host/virtual.hpp"
#include "link/flow_capture.hpp"
#include "link/pcap/pcap_device.hpp"
#include "passive/http_bodies.hpp"
#include "passive/passive_cmd.hpp"
#include "stack/stack.hpp"

namespace uinet::tools {

namespace {

std::string endpoint_name(const Endpoint& e) { return e.addr.to_string() + "." + std::to_string(e.port.value()); }

// One observed connection and what is done with its two streams.
struct Conn {
    struct Side {
        SocketId sock;
        int fd = -1;
        std::uint64_t offset = 0;  // stream offset reached (holes included)
        std::uint64_t data = 0;
        bool done = false;
        std::unique_ptr<HttpBodies> http;
    };
    std::uint64_t serial = 0;
    std::string name;
    Side side[2];
    std::deque<std::string> methods;  // requests seen, for the responses' framing
};

class Observer {
public:
    Observer(Stack& stack, const PassiveArgs& args) : stack_(stack), tcp_(stack.tcp()), args_(args), buf_(256 * 1024) {}

    bool start() {
        auto l = tcp_.open_passive_listener({}, 1u << 20);
        if (!l) return false;
        listener_ = *l;
        tcp_.set_upcall(listener_, [this](SocketId, std::uint32_t) { accept_all(); });
        return true;
    }
    std::size_t open_conns() const { return conns_.size(); }
    std::uint64_t total_conns() const { return total_; }

private:
    void accept_all() {
        while (auto p = tcp_.accept_passive(listener_)) {
            auto c = std::make_unique<Conn>();
            const auto in = tcp_.passive_info(p->c2s);
            c->serial = in ? in->serial : 0;
            char num[32];
            std::snprintf(num, sizeof num, "%06" PRIu64, c->serial);
            c->name = std::string(num) + "-" + (in ? endpoint_name(in->client) + "-" + endpoint_name(in->server) : "");
            c->side[0].sock = p->c2s;
            c->side[1].sock = p->s2c;
            for (int d = 0; d < 2; ++d) {
                const char* ext = d == 0 ? ".c2s" : ".s2c";
                if (!args_.outdir.empty()) {
                    const std::string path = args_.outdir + "/" + c->name + ext;
                    c->side[d].fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
                    if (c->side[d].fd < 0) ++open_errors_;
                }
                if (!args_.http_dir.empty())
                    c->side[d].http = std::make_unique<HttpBodies>(args_.http_dir + "/" + c->name + ext, d == 1, c->methods);
            }
            Conn* raw = c.get();
            conns_[raw->serial] = std::move(c);
            ++total_;
            for (int d = 0; d < 2; ++d)
                tcp_.set_upcall(raw->side[d].sock, [this, serial = raw->serial](SocketId, std::uint32_t) { pump(serial); });
            pump(raw->serial);
        }
    }

    // Requests first: a response's framing may depend on its request's method.
    void pump(std::uint64_t serial) {
        auto it = conns_.find(serial);
        if (it == conns_.end()) return;
        Conn& c = *it->second;
        for (int d = 0; d < 2; ++d) drain(c, d);
        if (c.side[0].done && c.side[1].done) finish(c);
    }

    void drain(Conn& c, int d) {
        Conn::Side& s = c.side[d];
        if (s.done) return;
        for (;;) {
            auto r = tcp_.recv_passive(s.sock, {buf_.data(), buf_.size()});
            if (!r) return;  // would block
            if (r->hole_len > 0) {
                s.offset += r->hole_len;
                if (s.http) s.http->hole(r->hole_len);
                continue;
            }
            if (r->bytes == 0) {
                s.done = true;
                if (s.http) s.http->eof();
                return;
            }
            if (s.fd >= 0) {
                std::size_t off = 0;
                while (off < r->bytes) {
                    const ssize_t n = ::pwrite(s.fd, buf_.data() + off, r->bytes - off, static_cast<off_t>(s.offset + off));
                    if (n <= 0) {
                        ++write_errors_;
                        break;
                    }
                    off += static_cast<std::size_t>(n);
                }
            }
            if (s.http) s.http->data({buf_.data(), r->bytes});
            s.offset += r->bytes;
            s.data += r->bytes;
        }
    }

    void finish(Conn& c) {
        const auto in = tcp_.passive_info(c.side[0].sock);
        if (args_.summary && in) {
            const double dur = in->first.is_never() || in->last.is_never() ? 0 : (in->last - in->first).secs();
            std::printf("%06" PRIu64 " %s:%u -> %s:%u c2s=%" PRIu64 " s2c=%" PRIu64 " holes=%" PRIu64 "/%" PRIu64
                        "B inconsistent=%" PRIu64 " dur=%.3fs end=%s%s\n",
                        c.serial, in->client.addr.to_string().c_str(), in->client.port.value(),
                        in->server.addr.to_string().c_str(), in->server.port.value(), c.side[0].data, c.side[1].data,
                        in->c2s.holes + in->s2c.holes, in->c2s.hole_bytes + in->s2c.hole_bytes,
                        in->c2s.inconsistent_segments + in->s2c.inconsistent_segments, dur, tcp::to_string(in->end),
                        in->midstream ? " midstream" : "");
        }
        for (int d = 0; d < 2; ++d) {
            Conn::Side& s = c.side[d];
            if (s.fd >= 0) {
                // A stream ending in a hole still has its full length.
                if (::ftruncate(s.fd, static_cast<off_t>(s.offset)) != 0) ++write_errors_;
                ::close(s.fd);
            }
            if (s.http) {
                http_bodies_ += s.http->bodies();
                http_incomplete_ += s.http->incomplete();
            }
            tcp_.close(stack_.now(), s.sock);
        }
        conns_.erase(c.serial);  // c is gone
    }

public:
    std::uint64_t open_errors_ = 0, write_errors_ = 0, http_bodies_ = 0, http_incomplete_ = 0;

private:
    Stack& stack_;
    TcpSockets& tcp_;
    const PassiveArgs& args_;
    SocketId listener_;
    std::vector<std::uint8_t> buf_;
    std::unordered_map<std::uint64_t, std::unique_ptr<Conn>> conns_;
    std::uint64_t total_ = 0;
};

StackOptions passive_stack_options(const PassiveArgs& args) {
    StackOptions o;
    o.name = "passive";
    o.net.passive = true;
    o.pool = PoolConfig{.count = 4096, .buf_size = 2048, .headroom = 64};
    o.rx_batch = 256;
    o.tcp.passive.hole_timeout = Duration::nanos(static_cast<std::int64_t>(args.hole_timeout * 1e9));
    o.tcp.passive.midstream = args.midstream;
    o.tcp.passive.verify_checksums = !args.no_checksums;
    o.tcp.passive.max_flows = args.max_flows;
    return o;
}

net::InterfaceConfig passive_interface() {
    net::InterfaceConfig ic;
    ic.promiscuous = true;
    ic.announce = false;
    return ic;
}

void print_counters(const Stack& stack) {
    std::string line;
    stack.visit_counters([&](const char* sec, const char* name, std::uint64_t v) {
        if (std::string(sec) != "passive" || v == 0) return;
        line += " " + std::string(name) + "=" + std::to_string(v);
    });
    std::printf("passive:%s\n", line.c_str());
}

void raise_fd_limit() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)::setrlimit(RLIMIT_NOFILE, &rl);
    }
}

// --pcap-dir: the device wrapped so that each flow is also written to a
// capture file of its own; `fc` points at the wrapper (null without it).
std::unique_ptr<Device> with_flow_capture(std::unique_ptr<Device> dev, const PassiveArgs& args, FlowCapture*& fc) {
    fc = nullptr;
    if (args.pcap_dir.empty()) return dev;
    FlowCaptureConfig cfg;
    cfg.dir = args.pcap_dir;
    if (args.pcap_port) {
        const std::string suffix = "." + std::to_string(args.pcap_port);
        cfg.select = [suffix](const FlowCaptureInfo& i) {
            return i.client.ends_with(suffix) || i.server.ends_with(suffix);
        };
    }
    auto w = std::make_unique<FlowCapture>(std::move(dev), std::move(cfg));
    fc = w.get();
    return w;
}

void report_flow_capture(const FlowCapture* fc, int& rc) {
    if (!fc) return;
    const FlowCaptureStats& s = fc->capture_stats();
    std::printf("pcap-dir: %" PRIu64 " flows written, %" PRIu64 " frames, %" PRIu64 " flows refused, %" PRIu64
                " write errors\n",
                s.flows_written, s.frames_written, s.flows_refused, s.write_errors);
    if (s.write_errors) rc = 1;
}

}  // namespace

CLI::App* add_passive_command(CLI::App& app, PassiveArgs& a) {
    auto* c = app.add_subcommand(
        "passive", "Observe TCP connections in a capture file (or live) without sending anything; write each "
                   "connection's two byte streams, a summary, HTTP bodies");
    auto* f = c->add_option("--file", a.file, "A pcap or pcapng capture to read (at full speed, on packet time)");
    auto* i = c->add_option("--interface", a.iface, "A live interface to capture on (until SIGINT/SIGTERM)");
    f->excludes(i);
    c->add_option("--outdir", a.outdir, "Write DIR/<n>-<client>-<server>.c2s and .s2c (holes as zero bytes)")
        ->check(CLI::ExistingDirectory);
    c->add_flag("--summary", a.summary, "Print one line per connection when it ends");
    c->add_option("--http-bodies", a.http_dir, "Write each HTTP/1.x request and response body to DIR")
        ->check(CLI::ExistingDirectory);
    c->add_option("--hole-timeout", a.hole_timeout, "Seconds (packet time) before missing bytes become a hole")
        ->check(CLI::Range(0.0, 86400.0));
    c->add_flag("--midstream", a.midstream, "Also pick up connections whose handshake was not captured");
    c->add_flag("--no-checksums", a.no_checksums,
                "Do not verify TCP checksums (captures made on a host with checksum offload)");
    c->add_option("--max-flows", a.max_flows, "Connections tracked at once")->check(CLI::Range(1, 1 << 24));
    c->add_option("--pcap-dir", a.pcap_dir,
                  "Also write each TCP/UDP flow's frames to DIR/<tcp|udp>-<client>-<server>.pcap")
        ->check(CLI::ExistingDirectory);
    c->add_option("--pcap-port", a.pcap_port, "With --pcap-dir: only flows with an endpoint on this port")
        ->check(CLI::Range(1, 65535));
    return c;
}

int run_passive(const PassiveArgs& args) {
    if (args.file.empty() == args.iface.empty()) {
        std::fprintf(stderr, "uinet passive: give exactly one of --file and --interface\n");
        return 2;
    }
    raise_fd_limit();
    const auto t0 = std::chrono::steady_clock::now();
    std::uint64_t frames = 0, bytes = 0, truncated = 0;
    int rc = 0;
    if (!args.file.empty()) {
        VirtualClock clock;
        SeededRandom rnd(1);
        Host host{};
        host.clock = &clock;
        host.random = &rnd;
        Stack stack(host, passive_stack_options(args));
        auto dev = PcapFileDevice::open(args.file, stack.pool());
        if (!dev) {
            std::fprintf(stderr, "uinet passive: %s\n", dev.error().c_str());
            return 2;
        }
        PcapFileDevice* pd = dev->get();
        if (pd->next_timestamp() != Instant::never()) clock.set(pd->next_timestamp());
        FlowCapture* fc;
        stack.add_interface(with_flow_capture(std::move(*dev), args, fc), passive_interface());
        Observer obs(stack, args);
        if (!obs.start()) return 2;
        while (!pd->at_end()) {
            const Instant ts = pd->next_timestamp();
            if (ts > clock.now()) clock.set(ts);
            stack.poll(clock.now());
        }
        stack.tcp().passive_finish(clock.now());
        for (int i = 0; i < 3; ++i) stack.poll(clock.now());
        frames = pd->file_stats().packets;
        bytes = pd->stats().rx_bytes;
        truncated = pd->file_stats().truncated;
        if (!pd->last_error().empty()) {
            std::fprintf(stderr, "uinet passive: %s\n", pd->last_error().c_str());
            rc = 1;
        }
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        std::printf("processed %" PRIu64 " frames, %" PRIu64 " bytes in %.3f s: %.3f Gbit/s; %" PRIu64
                    " connections%s\n",
                    frames, bytes, secs, secs > 0 ? static_cast<double>(bytes) * 8 / secs / 1e9 : 0.0,
                    obs.total_conns(), truncated ? " (some frames truncated by the snap length)" : "");
        if (!args.http_dir.empty())
            std::printf("http: %" PRIu64 " bodies, %" PRIu64 " incomplete\n", obs.http_bodies_, obs.http_incomplete_);
        print_counters(stack);
        if (fc) fc->close_all();
        report_flow_capture(fc, rc);
        if (obs.open_errors_ || obs.write_errors_) {
            std::fprintf(stderr, "uinet passive: %" PRIu64 " files could not be opened, %" PRIu64 " write errors\n",
                         obs.open_errors_, obs.write_errors_);
            rc = 1;
        }
        return rc;
    }
    PosixHost ph;
    Stack stack(ph.host(), passive_stack_options(args));
    auto dev = PcapLiveDevice::open(args.iface, stack.pool(), 65535);
    if (!dev) {
        std::fprintf(stderr, "uinet passive: %s\n", dev.error().c_str());
        return 2;
    }
    Device* ld = dev->get();
    FlowCapture* fc;
    stack.add_interface(with_flow_capture(std::move(*dev), args, fc), passive_interface());
    Observer obs(stack, args);
    if (!obs.start()) return 2;
    // SIGINT/SIGTERM end the capture: taken through a signalfd beside the
    // stack's descriptor, so the loop needs no signal handler.
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
    const int sfd = ::signalfd(-1, &sigs, SFD_CLOEXEC);
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    for (int fd : {stack.event_fd(), sfd}) {
        epoll_event e{};
        e.events = EPOLLIN;
        e.data.fd = fd;
        ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
    }
    std::printf("ready\n");
    std::fflush(stdout);
    epoll_event ev[4];
    for (bool stop = false; !stop;) {
        const Instant next = stack.poll(ph.clock.now());
        int ms = 200;
        if (!next.is_never()) {
            const Duration w = next - ph.clock.now();
            ms = w <= Duration::zero() ? 0 : static_cast<int>(std::min<std::int64_t>(w.ms() + 1, 200));
        }
        const int n = ::epoll_wait(ep, ev, 4, ms);
        for (int i = 0; i < n; ++i) stop = stop || ev[i].data.fd == sfd;
    }
    ::close(ep);
    ::close(sfd);
    stack.tcp().passive_finish(stack.now());
    for (int i = 0; i < 3; ++i) stack.poll(ph.clock.now());
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("processed %" PRIu64 " frames, %" PRIu64 " bytes in %.3f s: %.3f Gbit/s; %" PRIu64
                " connections; %" PRIu64 " dropped by the kernel\n",
                ld->stats().rx_packets, ld->stats().rx_bytes, secs,
                secs > 0 ? static_cast<double>(ld->stats().rx_bytes) * 8 / secs / 1e9 : 0.0, obs.total_conns(),
                ld->stats().rx_dropped);
    print_counters(stack);
    if (fc) fc->close_all();
    report_flow_capture(fc, rc);
    return rc;
}

}  // namespace uinet::tools
