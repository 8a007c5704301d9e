// socket/tcp_socket.hpp — the stream socket API over tcp/.
//
// Contract: BSD-like, non-blocking stream sockets addressed by SocketId.
// Every operation has its own error type (errno via to_errno()). recv()
// returning 0 bytes means end of stream. Readiness is reported by poll()
// and by upcalls delivered after each input batch: readable (data, EOF,
// a connection to accept, or an error), writable (room in the send buffer,
// or connect() finished), error, hangup. All calls belong to the stack's
// thread; other threads go through Stack::call().
//
// Transparent-proxy features (libuinet's; docs/sockets.md): promiscuous
// sockets, a per-socket transmit interface, per-connection L2 info (MACs
// and VLAN tags), listeners restricted to a tag stack, and SYN filters
// with verdicts the application may defer.
//
// Passive receive (docs/passive.md): a passive listener observes other
// hosts' connections; accept_passive() yields a pair of receive-only
// stream sockets (client-to-server, server-to-client) that answer recv(),
// poll(), upcalls, close() and the endpoint and L2 queries like any TCP
// socket; recv_passive() reads up to a hole and reports it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_map>

#include "base/result.hpp"
#include "socket/socket_table.hpp"
#include "socket/udp_socket.hpp"
#include "tcp/tcp_layer.hpp"

namespace uinet {

enum class TcpSendError : std::uint8_t { would_block, not_connected, broken_pipe, bad_socket, connection_reset };
enum class TcpRecvError : std::uint8_t { would_block, not_connected, bad_socket, connection_reset, timed_out, refused };
enum class AcceptError : std::uint8_t { would_block, not_listening, bad_socket, too_many_sockets };
enum class ShutdownError : std::uint8_t { not_connected, bad_socket };
enum class ShutdownHow : std::uint8_t { read, write, both };
int to_errno(TcpSendError e);
int to_errno(TcpRecvError e);
int to_errno(AcceptError e);
int to_errno(ShutdownError e);

struct TcpOptions {
    std::optional<bool> nodelay;
    std::optional<bool> keepalive;
    std::optional<Duration> keep_idle, keep_intvl;
    std::optional<std::uint32_t> keep_cnt;
    std::optional<std::size_t> sndbuf, rcvbuf;
    std::optional<std::uint16_t> maxseg;
    std::optional<tcp::EcnMode> ecn;  // RFC 3168, for the next handshake (listeners pass it on)
    std::optional<bool> pacing;       // pace transmissions (TcpConfig::pacing)
};

// The two sockets of one observed connection.
struct PassivePair {
    SocketId c2s;  // bytes the client sent
    SocketId s2c;  // bytes the server sent
};

class TcpSockets final : public tcp::TcpEvents {
public:
    TcpSockets(SocketTable& table, tcp::TcpLayer& tcp) : table_(table), tcp_(tcp) { tcp_.set_events(this); }
    ~TcpSockets() override { tcp_.set_events(nullptr); }

    Result<SocketId, OpenError> open();
    // reuse: SO_REUSEADDR; reuse_port: SO_REUSEPORT (see TcpLayer::bind).
    Result<void, tcp::BindError> bind(SocketId id, Endpoint local, bool reuse = false, bool reuse_port = false);
    Result<void, tcp::ListenError> listen(SocketId id, std::size_t backlog = 128);
    Result<SocketId, AcceptError> accept(SocketId id, Endpoint* peer = nullptr);
    Result<void, tcp::ConnectError> connect(Instant now, SocketId id, Endpoint remote);
    Result<std::size_t, TcpSendError> send(Instant now, SocketId id, Bytes data);
    Result<std::size_t, TcpRecvError> recv(Instant now, SocketId id, MutBytes buf);
    // MSG_PEEK: copies readable bytes without consuming them; errors as recv().
    Result<std::size_t, TcpRecvError> peek(Instant now, SocketId id, MutBytes buf);
    Result<void, ShutdownError> shutdown(Instant now, SocketId id, ShutdownHow how);
    // Graceful close (FIN after queued data; RST if unread data remains).
    void close(Instant now, SocketId id);
    // Abortive close (SO_LINGER with zero timeout): RST now.
    void abort(Instant now, SocketId id);

    std::uint32_t poll(SocketId id) const;
    // In-order bytes waiting to be read, and room in the send buffer (for
    // SO_RCVLOWAT / SO_SNDLOWAT thresholds); 0 for a stale id.
    std::size_t readable_bytes(SocketId id) const;
    std::size_t send_space(SocketId id) const;
    bool set_upcall(SocketId id, Upcall cb);
    bool set_options(SocketId id, const TcpOptions& o);
    bool set_congestion_control(SocketId id, std::string_view name);
    // The algorithm's name ("newreno", "cubic"); nullptr for a bad socket.
    const char* congestion_control(SocketId id) const;
    std::optional<tcp::TcpInfo> info(SocketId id) const;
    // Connection tracing (tcp/trace.hpp; docs/tracing.md): the socket's
    // connection reports to sink (nullptr: off); a listener's sink passes to
    // the connections it accepts. The sink must outlive the connection.
    bool set_trace(SocketId id, tcp::TraceSink* sink);
    std::optional<Endpoint> local_endpoint(SocketId id) const;
    std::optional<Endpoint> remote_endpoint(SocketId id) const;
    // SO_ERROR: the pending error as an errno value (0 = none).
    int error(SocketId id) const;
    std::optional<tcp::TcpState> state(SocketId id) const;

    // --- transparent-proxy features ---
    // Before bind: the socket may bind any address, local or not, and any
    // port; bound with port 0 it listens on every port. Connections it
    // accepts are promiscuous too and answer with their SYN's L2 header.
    Result<void, tcp::ProxyError> set_promiscuous(SocketId id, bool on = true);
    bool promiscuous(SocketId id) const;
    // libuinet's uinet_sosettxif: segments leave by this interface,
    // bypassing routing (0: routing again).
    Result<void, tcp::ProxyError> set_tx_interface(SocketId id, net::IfIndex ifindex);
    // Before connect: every segment (SYN, data, retransmissions, RSTs)
    // leaves with exactly these MACs and tags, without ARP.
    Result<void, tcp::ProxyError> set_l2info(SocketId id, const tcp::ConnL2& l2);
    // The connection's L2 info: its SYN's for an accepted socket, what was
    // set for an outbound one (not_found if none).
    Result<tcp::ConnL2, tcp::ProxyError> l2info(SocketId id) const;
    // A listener that takes only SYNs carrying exactly this tag stack
    // (nullopt: any, the default).
    Result<void, tcp::ProxyError> set_listen_vlans(SocketId id, const std::optional<wire::VlanStack>& vlans);
    // Called on the stack's thread for each new SYN to the listener, before
    // any state exists (tcp/proxy.hpp). An empty fn removes the filter.
    using SynFilterFn = std::function<tcp::SynVerdict(SocketId listener, const tcp::SynInfo& info)>;
    Result<void, tcp::ProxyError> set_syn_filter(SocketId id, SynFilterFn fn, const tcp::SynFilterConfig& cfg = {});
    // The verdict on a deferred SYN (accept, reject_rst, reject_silent).
    // From other threads: Stack::post_syn_verdict().
    Result<void, tcp::VerdictError> deliver_syn_verdict(Instant now, tcp::SynHandle h, tcp::SynVerdict v);

    // --- passive receive (socket/passive_socket.cpp, docs/passive.md) ---
    // Before listen: the listener observes connections instead of answering
    // them (it also becomes promiscuous if not yet bound).
    Result<void, tcp::ProxyError> set_passive(SocketId id, bool on = true);
    // open + set_passive + bind + listen, in one call: observes every
    // connection whose server is `local` (default: any address, any port).
    Result<SocketId, tcp::ProxyError> open_passive_listener(Endpoint local = {}, std::size_t backlog = 1024);
    // The next observed connection as two receive-only stream sockets.
    // (accept() on a passive listener fails with not_listening.)
    Result<PassivePair, AcceptError> accept_passive(SocketId listener);
    // Reads up to buf.size() bytes, stopping before a hole; when the hole is
    // next it is consumed and reported (bytes 0, hole_len > 0). bytes 0 and
    // hole_len 0: end of stream. Plain recv() skips holes (counted in
    // passive_info()).
    Result<tcp::PassiveRead, TcpRecvError> recv_passive(SocketId id, MutBytes buf);
    // The observed connection (either of its sockets): endpoints, L2 info,
    // timestamps, and each direction's bytes, holes, overlaps and end.
    std::optional<tcp::PassiveConnInfo> passive_info(SocketId id) const;
    // 0 = client-to-server, 1 = server-to-client; nullopt if not a passive stream.
    std::optional<int> passive_direction(SocketId id) const;
    // The input is over (end of a capture file): every observed connection
    // ends now (capture_end), its gaps becoming holes; readers get EOF.
    void passive_finish(Instant now);

    // --- cut-in (socket/passive_socket.cpp, docs/passive.md) ---
    // Converts the observed connection of a passive stream socket (either
    // of the pair) into active sockets: to_client impersonates the server
    // towards the client, to_server the client towards the server (with
    // mode reset_server / reset_client that side is reset and its id is
    // invalid). The passive sockets read what they hold, then EOF; the new
    // sockets continue exactly there. not_ready (EAGAIN): a gap or an
    // unfinished handshake; try again at a later readable event.
    struct CutInPair {
        SocketId to_client, to_server;
    };
    Result<CutInPair, tcp::CutInError> cut_in(Instant now, SocketId passive_socket,
                                              tcp::CutInMode mode = tcp::CutInMode::both);

    void tcp_event(std::uint64_t owner, std::uint32_t events) override;

private:
    struct PassiveRef {
        tcp::PassiveFlowId flow;
        int dir = 0;
    };
    const PassiveRef* passive_ref(SocketId id) const;
    std::uint32_t passive_poll(const PassiveRef& p) const;
    // recv() on a passive stream: holes are skipped; peek is not offered.
    Result<std::size_t, TcpRecvError> passive_recv(const PassiveRef& p, MutBytes buf, bool peek);
    void passive_close(SocketId id, const PassiveRef& p);
    int passive_error(const PassiveRef& p) const;  // ECONNRESET once ended by a RST
    std::unordered_map<std::uint32_t, PassiveRef> passive_socks_;  // by socket slot

    tcp::Tcb* tcb(SocketId id) const;
    std::optional<tcp::TcbId> tcb_id(SocketId id) const;
    Result<std::size_t, TcpRecvError> recv_or_peek(Instant now, SocketId id, MutBytes buf, bool peek);
    SocketTable& table_;
    tcp::TcpLayer& tcp_;
};

}  // namespace uinet
