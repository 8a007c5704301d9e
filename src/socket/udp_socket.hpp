// socket/udp_socket.hpp — the datagram socket API over udp/.
//
// Contract: BSD-like, non-blocking datagram sockets addressed by SocketId.
// Every operation returns its own error type (errno values via to_errno).
// Readiness: poll() reports the current event mask; upcalls set with
// set_upcall() are called after each input batch with the events raised
// during it. All calls belong to the stack's thread; other threads go
// through Stack::call().
#pragma once

#include <cstdint>
#include <optional>

#include "base/result.hpp"
#include "socket/socket_table.hpp"
#include "udp/udp.hpp"

namespace uinet {

enum class OpenError : std::uint8_t { too_many_sockets };
enum class SockRecvError : std::uint8_t { would_block, bad_socket, connection_refused };
int to_errno(OpenError e);
int to_errno(SockRecvError e);

struct RecvInfo {
    std::size_t size = 0;      // bytes copied into the buffer
    std::size_t full_size = 0; // datagram size (> size: truncated, as MSG_TRUNC)
    Endpoint from;
    Endpoint to;
};

class UdpSockets final : public udp::UdpEvents {
public:
    UdpSockets(SocketTable& table, udp::UdpLayer& udp) : table_(table), udp_(udp) { udp_.set_events(this); }
    ~UdpSockets() override { udp_.set_events(nullptr); }

    Result<SocketId, OpenError> open();
    void close(SocketId id);
    Result<void, udp::BindError> bind(SocketId id, Endpoint local, bool reuse = false);
    Result<void, udp::ConnectError> connect(SocketId id, Endpoint remote);
    Result<void, udp::SendError> sendto(Instant now, SocketId id, Bytes data, std::optional<Endpoint> to = std::nullopt);
    Result<RecvInfo, SockRecvError> recvfrom(SocketId id, MutBytes buf);
    std::optional<Endpoint> local_endpoint(SocketId id) const;
    std::optional<Endpoint> remote_endpoint(SocketId id) const;
    bool set_rcvbuf(SocketId id, std::size_t bytes);

    // Current readiness: event::readable when a datagram (or an error) is
    // waiting; UDP sockets are always writable.
    std::uint32_t poll(SocketId id) const;
    bool set_upcall(SocketId id, Upcall cb);

    void udp_readable(std::uint64_t owner) override { table_.raise(SocketId::from_cookie(owner), event::readable); }
    void udp_error(std::uint64_t owner) override {
        table_.raise(SocketId::from_cookie(owner), event::error | event::readable);
    }

private:
    std::optional<udp::PcbId> pcb(SocketId id) const;
    SocketTable& table_;
    udp::UdpLayer& udp_;
};

}  // namespace uinet
