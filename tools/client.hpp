// tools/client.hpp — the TAP client subcommands: `uinet fetch` (HTTP/1.1)
// and `uinet tcp` (a raw TCP transfer), both over one uinet connection to a
// peer reached on a TAP device (see tap_stack.hpp).
//
// Contract of both:
//  * The options of `uinet serve` for the device and address (--tap,
//    --addr, --gateway, --pcap, --mac), with the same checks and errors.
//  * One line of JSON on stdout at the end: what was sent and received
//    (bytes, SHA-256), "seconds" from connect() to the end of the exchange
//    and "connect_seconds" from connect() to the handshake's end (ARP
//    included), Mbit/s over the time between the two, "ok", "error" (plain words, also printed on stderr), and every
//    counter of the stack under "counters".
//  * Exit status: 0 on success; 1 when the exchange failed (refused, reset,
//    timed out, an HTTP status other than 2xx, an incomplete body, a file
//    that cannot be read or written); 2 for bad options.
//
// `uinet fetch URL`: GET (or PUT, with --put-bytes N: the PUT pattern,
// byte i == (7 i) mod 256, or --put-file F) http://A.B.C.D[:PORT]/PATH,
// --count K times on one keep-alive connection; with --output F the
// response bodies are written to F, one after another. Bodies delimited by
// Content-Length, chunked coding or the end of the connection are all
// read; a Content-Length body cut short fails.
//
// `uinet tcp --connect IP:PORT`: sends --send-bytes N (byte i == i mod 251)
// or --send-file F (or nothing), shuts its write side (FIN) when done, and
// reads what the peer sends until the peer's FIN (written to --output F if
// given). With --recv, receiving nothing at all is a failure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tap_stack.hpp"

namespace CLI {
class App;
}

namespace uinet::tools {

struct FetchArgs : TapArgs {
    std::string url;
    std::string output;
    std::optional<std::uint64_t> put_bytes;
    std::string put_file;
    unsigned count = 1;
    double timeout = 60;
    std::string trace;  // TCP trace file (docs/tracing.md)
};

struct TcpArgs : TapArgs {
    std::string connect;
    std::optional<std::uint64_t> send_bytes;
    std::string send_file;
    bool recv = false;
    std::string output;
    double timeout = 60;
    std::string trace;  // TCP trace file (docs/tracing.md)
};

CLI::App* add_fetch_command(CLI::App& app, FetchArgs& args);
CLI::App* add_tcp_command(CLI::App& app, TcpArgs& args);
int run_fetch(const FetchArgs& args);
int run_tcp(const TcpArgs& args);

// Helpers shared by both (client_util.cpp).

// The stack options of a client: a client talks the moment it attaches,
// and Linux drops the first frames written to a TAP device whose carrier
// has just come up (the open of the device brings it up), so ARP is
// retried every 200 ms (10 times) instead of every second (3 times): a
// lost first request costs 0.2 s, not a second and a SYN retransmission.
StackOptions client_stack_options(std::string name);
std::string json_quote(std::string_view s);
Duration seconds_to_duration(double s);
double mbit_per_s(std::uint64_t bytes, double seconds);

// A file read at any offset (request content, data to send).
class InFile {
public:
    ~InFile();
    // On failure, why says so in plain words.
    static std::unique_ptr<InFile> open(const std::string& path, std::string& why);
    std::uint64_t size() const { return size_; }
    bool read_at(std::uint64_t offset, MutBytes out);

private:
    InFile() = default;
    int fd_ = -1;
    std::uint64_t size_ = 0;
};

// A file written from the start, created or truncated.
class OutFile {
public:
    ~OutFile();
    static std::unique_ptr<OutFile> create(const std::string& path, std::string& why);
    bool write(Bytes data);

private:
    OutFile() = default;
    int fd_ = -1;
};

}  // namespace uinet::tools
