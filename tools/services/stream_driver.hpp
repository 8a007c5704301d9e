// tools/stream_driver.hpp — runs StreamService state machines over uinet
// TCP sockets, on the stack's thread, driven by socket upcalls.
//
// A ServiceHost listens on ports and gives every accepted connection its
// own service instance; connect() starts a client connection. Output is
// pulled from the service only as fast as the socket takes it, and input
// is read only while the service wants it, so back-pressure flows through
// in both directions. When the service is done and its output drained, the
// write side is shut (FIN) and input is read and dropped until the peer's
// FIN, so that a last response is never destroyed by a reset for unread
// data; a peer that keeps sending past kLingerLimit bytes is reset. A
// failing service aborts the connection (RST).
#pragma once

#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "services/stream_service.hpp"
#include "stack/stack.hpp"

namespace uinet::tools {

inline constexpr std::uint64_t kLingerLimit = 1 << 20;

using ServiceFactory = std::function<std::unique_ptr<services::StreamService>()>;

struct DriverStats {
    std::uint64_t accepted = 0;
    std::uint64_t connected = 0;
    std::uint64_t completed = 0;  // closed after the service finished
    std::uint64_t failed = 0;     // aborted: service error or socket error
    std::uint64_t bytes_in = 0;
    std::uint64_t bytes_out = 0;
};

class ServiceHost {
public:
    explicit ServiceHost(Stack& stack) : stack_(stack) {}
    ~ServiceHost();
    ServiceHost(const ServiceHost&) = delete;
    ServiceHost& operator=(const ServiceHost&) = delete;

    // Listens on port (any address) and serves each connection with a new service.
    bool listen(std::uint16_t port, ServiceFactory factory, std::size_t backlog = 1024);
    // Connects to remote and runs `service` on the connection; on_end is
    // called once, with whether it ended cleanly.
    bool connect(Endpoint remote, std::unique_ptr<services::StreamService> service,
                 std::function<void(bool ok)> on_end = {});
    const DriverStats& stats() const { return stats_; }
    std::size_t live() const { return conns_.size(); }
    // Closes listeners and aborts every connection.
    void shutdown();

private:
    struct Conn {
        SocketId id;
        std::unique_ptr<services::StreamService> svc;
        std::function<void(bool)> on_end;
        std::vector<std::uint8_t> out = std::vector<std::uint8_t>(64 * 1024);
        std::size_t out_off = 0, out_len = 0;
        bool eof = false;
        bool lingering = false;        // done: write side shut, draining the peer
        std::uint64_t discarded = 0;   // bytes read and dropped while lingering
    };
    void adopt(SocketId id, std::unique_ptr<services::StreamService> svc, std::function<void(bool)> on_end);
    void pump(std::uint64_t key);
    void finish(std::uint64_t key, bool ok, bool abort);

    Stack& stack_;
    std::vector<SocketId> listeners_;
    std::unordered_map<std::uint64_t, std::unique_ptr<Conn>> conns_;
    std::vector<std::uint8_t> inbuf_ = std::vector<std::uint8_t>(64 * 1024);
    DriverStats stats_;
};

}  // namespace uinet::tools
