// tools/fetch.cpp — `uinet fetch`: an HTTP/1.1 client on a TAP device (see client.hpp).
//
// The exchange is the HttpClient state machine of tools/services, driven
// over one uinet connection by run_client(); requests go one at a time on
// that connection (keep-alive, RFC 9112 §9.3), and the client half-closes
// only after the last response.
#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <sstream>

#include "client.hpp"
#include "client_conn.hpp"
#include "services/http_client.hpp"
#include "services/http_syntax.hpp"
#include "stack/trace_writer.hpp"

namespace uinet::tools {

namespace {

struct Url {
    Endpoint remote;
    std::string authority;  // the Host field
    std::string path;
};

// http://A.B.C.D[:PORT][/PATH]; the host must be an IPv4 literal (no DNS here).
std::optional<Url> parse_url(std::string_view u) {
    constexpr std::string_view kScheme = "http://";
    if (u.size() < kScheme.size() || !services::http::iequals(u.substr(0, kScheme.size()), kScheme))
        return std::nullopt;
    u.remove_prefix(kScheme.size());
    const std::size_t slash = u.find('/');
    const std::string_view auth = u.substr(0, slash);
    std::string_view path = slash == std::string_view::npos ? "/" : u.substr(slash);
    if (const std::size_t hash = path.find('#'); hash != std::string_view::npos) path = path.substr(0, hash);
    for (char c : path)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return std::nullopt;
    std::string_view host = auth;
    std::uint16_t port = 80;
    if (const std::size_t colon = auth.find(':'); colon != std::string_view::npos) {
        host = auth.substr(0, colon);
        const auto p = services::http::parse_decimal(auth.substr(colon + 1), 65535);
        if (!p || *p == 0) return std::nullopt;
        port = static_cast<std::uint16_t>(*p);
    }
    const auto ip = Ipv4Addr::parse(host);
    if (!ip || ip->is_any()) return std::nullopt;
    return Url{{*ip, Port(port)}, std::string(auth), std::string(path)};
}

bool good_response(const services::HttpResult& r) {
    return r.complete && r.status >= 200 && r.status < 300 &&
           (!r.content_length || *r.content_length == r.body_bytes);
}

}  // namespace

CLI::App* add_fetch_command(CLI::App& app, FetchArgs& a) {
    auto* c = app.add_subcommand("fetch", "HTTP/1.1 client on a TAP device: GET (or PUT) a URL, print one JSON line");
    add_tap_options(*c, a);
    c->add_option("url", a.url, "http://A.B.C.D[:PORT]/PATH")->required();
    c->add_option("-o,--output", a.output, "Write the response bodies to this file, one after another");
    auto* pb = c->add_option("--put-bytes", a.put_bytes, "PUT this many bytes of the pattern (7 i) mod 256")
                   ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1} << 40));
    auto* pf = c->add_option("--put-file", a.put_file, "PUT the contents of this file");
    pb->excludes(pf);
    c->add_option("--count", a.count, "Requests, one after another on one keep-alive connection")
        ->check(CLI::Range(1u, 100000u));
    c->add_option("--timeout", a.timeout, "Give up (and reset the connection) after this many seconds")
        ->check(CLI::Range(0.1, 86400.0));
    c->add_option("--trace", a.trace, "Write the connection's TCP trace here (CSV, or JSON lines for .json/.jsonl)");
    return c;
}

int run_fetch(const FetchArgs& args) {
    const auto url = parse_url(args.url);
    if (!url) {
        std::fprintf(stderr, "uinet fetch: bad URL '%s' (expected http://A.B.C.D[:PORT]/PATH)\n", args.url.c_str());
        return 2;
    }
    std::string why;
    std::unique_ptr<InFile> in;
    if (!args.put_file.empty() && !(in = InFile::open(args.put_file, why))) {
        std::fprintf(stderr, "uinet fetch: %s\n", why.c_str());
        return 1;
    }
    std::unique_ptr<OutFile> out;
    if (!args.output.empty() && !(out = OutFile::create(args.output, why))) {
        std::fprintf(stderr, "uinet fetch: %s\n", why.c_str());
        return 1;
    }
    std::unique_ptr<TraceWriter> tracer;  // outlives the stack
    if (!args.trace.empty() && !(tracer = TraceWriter::open(args.trace))) {
        std::fprintf(stderr, "uinet fetch: cannot write %s: %s\n", args.trace.c_str(), std::strerror(errno));
        return 1;
    }
    auto ts = TapStack::open(args, "fetch", client_stack_options("fetch"));
    if (!ts) return ts.error();
    (*ts)->stack().tcp_layer().set_trace(tracer.get());

    const bool put = args.put_bytes.has_value() || in;
    services::HttpRequestSpec spec;
    spec.method = put ? "PUT" : "GET";
    spec.path = url->path;
    spec.body_size = in ? in->size() : args.put_bytes.value_or(0);
    services::HttpClientOptions ho;
    ho.host = url->authority;
    ho.keep_body = 0;
    if (in) ho.content_source = [&](std::uint64_t off, MutBytes o) { return in->read_at(off, o); };
    if (out) ho.body_sink = [&](std::size_t, Bytes d) { return out->write(d); };
    services::HttpClient client(std::vector<services::HttpRequestSpec>(args.count, spec), ho);

    ClientOptions co;
    co.timeout = seconds_to_duration(args.timeout);
    const ClientResult res = run_client(**ts, url->remote, client, co);

    // The verdict: the connection ended cleanly, every request was answered
    // with 2xx, and every body is complete.
    std::string error = res.ok ? "" : res.error;
    if (!client.error().empty()) error = client.error();
    int status = 0;
    std::uint64_t bytes = 0, sent = 0;
    std::string sha;
    std::ostringstream results;
    for (std::size_t i = 0; i < client.results().size(); ++i) {
        const services::HttpResult& r = client.results()[i];
        if (i < client.responses()) {
            if (status == 0 || (status >= 200 && status < 300)) status = r.status;
            sha = r.body_sha256;
            if (error.empty() && !good_response(r)) {
                error = r.status >= 200 && r.status < 300
                            ? "incomplete body in response " + std::to_string(i + 1)
                            : "HTTP status " + std::to_string(r.status) + " for " + spec.method + " " + spec.path;
            }
        }
        bytes += r.body_bytes;
        if (put && !r.sent_sha256.empty()) sent += spec.body_size;
        results << (i ? "," : "") << "{\"status\":" << r.status << ",\"bytes\":" << r.body_bytes
                << ",\"chunked\":" << (r.chunked ? "true" : "false") << ",\"sha256\":" << json_quote(r.body_sha256)
                << "}";
    }
    if (error.empty() && client.responses() != args.count)
        error = "only " + std::to_string(client.responses()) + " of " + std::to_string(args.count) + " responses";
    const bool ok = error.empty();

    std::ostringstream j;
    j << "{\"url\":" << json_quote(args.url) << ",\"method\":\"" << spec.method << "\""
      << ",\"ok\":" << (ok ? "true" : "false") << ",\"error\":" << json_quote(error) << ",\"requests\":" << args.count
      << ",\"responses\":" << client.responses() << ",\"status\":" << status << ",\"bytes\":" << bytes
      << ",\"sha256\":" << json_quote(sha) << ",\"sent_bytes\":" << sent;
    if (put && !client.results().empty()) j << ",\"sent_sha256\":" << json_quote(client.results()[0].sent_sha256);
    char num[96];
    std::snprintf(num, sizeof num, ",\"seconds\":%.6f,\"connect_seconds\":%.6f,\"mbit_s\":%.1f", res.seconds,
                  res.connect_seconds, mbit_per_s(bytes + sent, res.transfer_seconds()));
    j << num << ",\"results\":[" << results.str() << "],\"counters\":" << (*ts)->stack().counters_json() << "}";
    std::printf("%s\n", j.str().c_str());
    std::fflush(stdout);
    if (!ok) std::fprintf(stderr, "uinet fetch: %s\n", error.c_str());
    return ok ? 0 : 1;
}

}  // namespace uinet::tools
