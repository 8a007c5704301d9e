// tools/tcp_client.cpp — `uinet tcp`: a raw TCP client on a TAP device (see client.hpp).
//
// The transfer is a StreamService run by run_client() with half_close: it
// produces the bytes to send (generated or read from a file as the socket
// takes them, so a transfer of any size costs no memory), and takes every
// received byte into a SHA-256 (and the output file). It is done once all
// is sent and the peer's FIN has been read.
#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <sstream>

#include "client.hpp"
#include "client_conn.hpp"
#include "services/pattern.hpp"
#include "services/sha256.hpp"
#include "stack/trace_writer.hpp"

namespace uinet::tools {

namespace {

class RawTransfer final : public services::StreamService {
public:
    RawTransfer(std::uint64_t total, InFile* in, OutFile* out) : total_(total), in_(in), out_(out) {}

    void on_data(Bytes d) override {
        recv_hash_.update(d);
        received_ += d.size();
        if (out_ && !out_->write(d)) error_ = "cannot write the output file";
    }
    void on_eof() override { eof_ = true; }
    std::size_t produce(MutBytes o) override {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(o.size(), total_ - sent_));
        const MutBytes piece = o.first(n);
        if (in_) {
            if (!in_->read_at(sent_, piece)) {
                error_ = "cannot read the input file";
                return 0;
            }
        } else {
            services::fill_get_pattern(sent_, piece);
        }
        sent_hash_.update(piece);
        sent_ += n;
        return n;
    }
    bool output_pending() const override { return sent_ < total_ && error_.empty(); }
    bool wants_input() const override { return !eof_; }
    bool done() const override { return eof_ && sent_ == total_; }
    bool failed() const override { return !error_.empty(); }

    std::uint64_t sent() const { return sent_; }
    std::uint64_t received() const { return received_; }
    std::string sent_sha256() { return services::Sha256::hex(sent_hash_.finish()); }
    std::string received_sha256() { return services::Sha256::hex(recv_hash_.finish()); }
    const std::string& error() const { return error_; }

private:
    std::uint64_t total_;
    InFile* in_;
    OutFile* out_;
    std::uint64_t sent_ = 0, received_ = 0;
    services::Sha256 sent_hash_, recv_hash_;
    bool eof_ = false;
    std::string error_;
};

std::optional<Endpoint> parse_endpoint(const std::string& s) {
    const std::size_t colon = s.rfind(':');
    if (colon == std::string::npos) return std::nullopt;
    const auto ip = Ipv4Addr::parse(std::string_view(s).substr(0, colon));
    std::uint32_t port = 0;
    const std::string p = s.substr(colon + 1);
    if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    port = static_cast<std::uint32_t>(std::stoul(p));
    if (!ip || ip->is_any() || port == 0 || port > 65535) return std::nullopt;
    return Endpoint{*ip, Port(static_cast<std::uint16_t>(port))};
}

}  // namespace

CLI::App* add_tcp_command(CLI::App& app, TcpArgs& a) {
    auto* c = app.add_subcommand("tcp",
                                 "Raw TCP client on a TAP device: send, half-close, read to EOF, print one JSON line");
    add_tap_options(*c, a);
    c->add_option("--connect", a.connect, "Peer to connect to, IP:PORT")->required();
    auto* sb = c->add_option("--send-bytes", a.send_bytes, "Send this many bytes of the pattern i mod 251")
                   ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1} << 40));
    auto* sf = c->add_option("--send-file", a.send_file, "Send the contents of this file");
    sb->excludes(sf);
    c->add_flag("--recv", a.recv, "Expect data from the peer: receiving nothing is a failure");
    c->add_option("-o,--output", a.output, "Write the received bytes to this file");
    c->add_option("--timeout", a.timeout, "Give up (and reset the connection) after this many seconds")
        ->check(CLI::Range(0.1, 86400.0));
    c->add_option("--trace", a.trace, "Write the connection's TCP trace here (CSV, or JSON lines for .json/.jsonl)");
    return c;
}

int run_tcp(const TcpArgs& args) {
    const auto remote = parse_endpoint(args.connect);
    if (!remote) {
        std::fprintf(stderr, "uinet tcp: bad peer '%s' (expected IP:PORT, e.g. 198.18.0.1:5001)\n",
                     args.connect.c_str());
        return 2;
    }
    std::string why;
    std::unique_ptr<InFile> in;
    if (!args.send_file.empty() && !(in = InFile::open(args.send_file, why))) {
        std::fprintf(stderr, "uinet tcp: %s\n", why.c_str());
        return 1;
    }
    std::unique_ptr<OutFile> out;
    if (!args.output.empty() && !(out = OutFile::create(args.output, why))) {
        std::fprintf(stderr, "uinet tcp: %s\n", why.c_str());
        return 1;
    }
    std::unique_ptr<TraceWriter> tracer;  // outlives the stack
    if (!args.trace.empty() && !(tracer = TraceWriter::open(args.trace))) {
        std::fprintf(stderr, "uinet tcp: cannot write %s: %s\n", args.trace.c_str(), std::strerror(errno));
        return 1;
    }
    auto ts = TapStack::open(args, "tcp", client_stack_options("tcp"));
    if (!ts) return ts.error();
    (*ts)->stack().tcp_layer().set_trace(tracer.get());

    const std::uint64_t total = in ? in->size() : args.send_bytes.value_or(0);
    RawTransfer xfer(total, in.get(), out.get());
    ClientOptions co;
    co.half_close = true;
    co.timeout = seconds_to_duration(args.timeout);
    const ClientResult res = run_client(**ts, *remote, xfer, co);

    std::string error = res.ok ? "" : res.error;
    if (!xfer.error().empty()) error = xfer.error();
    if (error.empty() && args.recv && xfer.received() == 0) error = "nothing received";
    const bool ok = error.empty();

    std::ostringstream j;
    j << "{\"connect\":" << json_quote(args.connect) << ",\"ok\":" << (ok ? "true" : "false")
      << ",\"error\":" << json_quote(error) << ",\"sent\":" << xfer.sent()
      << ",\"sent_sha256\":" << json_quote(xfer.sent_sha256()) << ",\"received\":" << xfer.received()
      << ",\"received_sha256\":" << json_quote(xfer.received_sha256());
    char num[160];
    std::snprintf(num, sizeof num,
                  ",\"seconds\":%.6f,\"connect_seconds\":%.6f,\"send_mbit_s\":%.1f,\"recv_mbit_s\":%.1f", res.seconds,
                  res.connect_seconds, mbit_per_s(xfer.sent(), res.transfer_seconds()), mbit_per_s(xfer.received(), res.transfer_seconds()));
    j << num << ",\"faults\":" << (*ts)->faults_json() << ",\"counters\":" << (*ts)->stack().counters_json()
      << "}";
    std::printf("%s\n", j.str().c_str());
    std::fflush(stdout);
    if (!ok) std::fprintf(stderr, "uinet tcp: %s\n", error.c_str());
    return ok ? 0 : 1;
}

}  // namespace uinet::tools
