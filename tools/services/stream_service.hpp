// tools/services/stream_service.hpp — application services as byte-stream state machines.
//
// Contract:
//  * A StreamService is one side of one connection, with no I/O of its own
//    (DESIGN.md principle 5): the driver (a TCP socket loop, or a test that
//    wires two services together in memory) feeds received bytes with
//    on_data(), reports the peer's FIN with on_eof(), and pulls bytes to
//    send with produce() whenever the transport can take more.
//  * produce(out) never writes more than out.size() bytes; output that does
//    not fit stays inside the service (bodies are generated lazily, so a
//    response of any size costs no memory).
//  * on_data() accepts every byte it is given. wants_input() is the
//    back-pressure signal: while it is false the driver stops reading (the
//    transport's receive window then closes) until produce() has drained
//    output. Services stay bounded as long as the driver feeds at most
//    kMaxFeed bytes per call and stops feeding when wants_input() is false;
//    a driver that keeps feeding far past that gets failed() instead of
//    unbounded buffering.
//  * done(): the service has nothing more to say and wants the connection
//    closed (the driver sends FIN once output_pending() is false). A
//    server that closes while the peer may still be sending (an error
//    response, "Connection: close") is best driven with a lingering close
//    (RFC 9112 §9.6): half-close, then read and discard until the peer's
//    FIN or a timeout, so that a reset does not destroy the last response.
//    failed(): the peer broke the protocol or the driver broke the contract
//    above; close (or reset) now without draining.
//  * Single-threaded, no exceptions, no globals.
//
// The services:
//  * echo (RFC 862): every received byte is sent back, in order. At most
//    kEchoBuffer bytes are held before wants_input() turns false; done after
//    the peer's FIN once everything has been echoed.
//  * discard (RFC 863): received bytes are thrown away; done after FIN.
//  * chargen (RFC 864): the "popular pattern" of the RFC: the 95 printing
//    ASCII characters (' ' to '~') as a ring, line N holds ring characters
//    N .. N+71 (mod 95) followed by CR LF. Endless; input is discarded;
//    done after the peer's FIN.
//  * the HTTP/1.1 test server: see http_server.cpp for its resources.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "base/bytes.hpp"

namespace uinet::services {

// The most a driver should pass to one on_data() call.
inline constexpr std::size_t kMaxFeed = 64 * 1024;
// Echo holds this much before it stops asking for input.
inline constexpr std::size_t kEchoBuffer = 64 * 1024;

class StreamService {
public:
    virtual ~StreamService() = default;
    virtual void on_data(Bytes in) = 0;
    virtual void on_eof() = 0;
    virtual std::size_t produce(MutBytes out) = 0;  // bytes written into out (may be 0)
    virtual bool output_pending() const = 0;        // produce() would return > 0 now
    virtual bool wants_input() const = 0;           // false: stop reading until output drains
    virtual bool done() const = 0;                  // wants to close (once produce() has drained)
    virtual bool failed() const { return false; }   // close (or reset) now
};

struct HttpServerLimits {
    std::size_t max_header_bytes = 16 * 1024;  // request line + fields, CRLFs included (431 beyond)
    std::size_t max_header_lines = 100;        // field lines per request (431 beyond)
    std::size_t max_queued_responses = 16;     // pipelined requests answered ahead of output
    std::uint64_t max_bytes_resource = std::uint64_t{1} << 40;  // largest N of GET /bytes/N
};

std::unique_ptr<StreamService> make_echo();
std::unique_ptr<StreamService> make_discard();
std::unique_ptr<StreamService> make_chargen();
std::unique_ptr<StreamService> make_http_server(const HttpServerLimits& limits = {});

}  // namespace uinet::services
