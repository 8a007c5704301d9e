// tools/client_conn.hpp — one client TCP connection of a TAP subcommand
// (`fetch`, `tcp`), driven to its end on the calling thread.
//
// Contract:
//  * run_client() connects a uinet socket to `remote` and moves bytes
//    between it and a StreamService: output is pulled from the service only
//    as fast as the socket takes it, input is read while the service wants
//    it (back-pressure both ways), as ServiceHost does for servers. The
//    stack's loop runs on the calling thread (TapStack::drive_until) until
//    the connection ends or the deadline passes.
//  * With half_close, the write side is shut (FIN) as soon as the
//    connection is established and the service has no output pending:
//    the shape of a raw transfer that sends a stream, then reads the
//    peer's answer to EOF. Without it, the write side is shut once the
//    service is done() (an HTTP client after its last response).
//  * Once the service is done() and drained, input it no longer wants is
//    read and dropped until the peer's FIN, for at most linger.
//  * The connection ends cleanly (ok) when the service is done, its output
//    drained and the peer's FIN read (or linger passed without it: a peer
//    that keeps an idle connection open does not fail a finished exchange):
//    the socket is then closed and the stack
//    driven a little longer (at most linger, never past the deadline) until
//    no connection but TIME-WAIT is left, so that the last ACKs go out.
//  * It ends with an error, and a reason in plain words, when the
//    connection is refused, reset or times out in the stack, when the
//    service fails (the connection is then reset), when the peer closes
//    before the service is done, or when the deadline passes (the
//    connection is then reset).
#pragma once

#include <string>

#include "services/stream_service.hpp"
#include "tap_stack.hpp"

namespace uinet::tools {

struct ClientOptions {
    bool half_close = false;
    Duration timeout = Duration::seconds(60);
    Duration linger = Duration::seconds(2);
};

struct ClientResult {
    bool ok = false;
    bool established = false;
    std::string error;  // empty when ok
    double seconds = 0;          // from connect() to the end of the exchange
    double connect_seconds = 0;  // from connect() to established (ARP and handshake)
    // The time data could flow: from established to the end.
    double transfer_seconds() const { return established ? seconds - connect_seconds : 0; }
};

ClientResult run_client(TapStack& ts, Endpoint remote, services::StreamService& svc, const ClientOptions& opts);

}  // namespace uinet::tools
