// udp/udp.hpp — UDP (RFC 768; RFC 1122 section 4.1): protocol control
// blocks, demultiplexing, checksums, receive queues.
//
// Contract:
//  * UdpLayer registers with net/ for protocol 17 and owns every UDP
//    protocol control block (PCB). PCBs are addressed by small integer ids
//    handed out by open(); the socket layer maps its handles onto them.
//  * Demultiplexing prefers the most specific match: a connected PCB whose
//    4-tuple matches, then a PCB bound to the destination address, then a
//    wildcard-bound PCB (RFC 1122 section 4.1.3.4 leaves the order to the
//    host; this is BSD's).
//  * Each PCB's receive queue is bounded in bytes (rcvbuf); a datagram that
//    does not fit is dropped and counted, never queued unboundedly.
//  * Datagrams to no PCB get ICMP port unreachable (RFC 1122 section
//    4.1.3.1), unless the stack is a black hole.
//  * Events (readable, error) are reported to a UdpEvents sink with the
//    PCB's owner cookie; the socket layer queues them until the end of the
//    input batch.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "base/addr.hpp"
#include "base/result.hpp"
#include "buf/packet.hpp"
#include "host/host.hpp"
#include "net/net.hpp"

namespace uinet::udp {

using uinet::Endpoint;

struct Datagram {
    Endpoint from;
    Endpoint to;  // the local address and port it was sent to
    Packet data;  // payload only
};

struct UdpConfig {
    std::size_t default_rcvbuf = 256 * 1024;  // bytes of payload queued per PCB
    std::uint16_t ephemeral_low = 49152;      // RFC 6056 section 2.1: IANA range
    std::uint16_t ephemeral_high = 65535;
    std::size_t max_pcbs = 65536;
};

#define UINET_UDP_COUNTERS(X)                                                                  \
    X(rx_datagrams) X(rx_bytes) X(rx_bad_header) X(rx_bad_checksum) X(rx_no_port)             \
    X(rx_queue_full) X(tx_datagrams) X(tx_bytes) X(tx_errors) X(icmp_errors_rx)

struct UdpCounters {
#define UINET_X(name) std::uint64_t name = 0;
    UINET_UDP_COUNTERS(UINET_X)
#undef UINET_X
    template <class F>
    void visit(F&& f) const {
#define UINET_X(name) f(#name, name);
        UINET_UDP_COUNTERS(UINET_X)
#undef UINET_X
    }
};

using PcbId = std::uint32_t;

class UdpEvents {
public:
    virtual ~UdpEvents() = default;
    virtual void udp_readable(std::uint64_t owner) = 0;
    virtual void udp_error(std::uint64_t owner) = 0;
};

// Errors of each operation (DESIGN.md principle 10); errno values at the C API.
enum class BindError : std::uint8_t { address_in_use, address_not_available, already_bound, no_ports, bad_pcb };
enum class ConnectError : std::uint8_t { invalid_address, address_not_available, no_ports, bad_pcb };
enum class SendError : std::uint8_t {
    not_connected,      // no destination given and none connected
    message_too_big,    // larger than a UDP datagram can carry
    no_route,
    no_buffers,
    no_ports,
    bad_pcb,
    connection_refused, // an earlier datagram drew port unreachable
};
enum class RecvError : std::uint8_t { would_block, bad_pcb, connection_refused };

int to_errno(BindError e);
int to_errno(ConnectError e);
int to_errno(SendError e);
int to_errno(RecvError e);

class UdpLayer final : public net::Ipv4Handler {
public:
    UdpLayer(net::NetLayer& net, Random& random, const UdpConfig& cfg = {});
    ~UdpLayer() override;

    void set_events(UdpEvents* sink) { events_ = sink; }

    std::optional<PcbId> open(std::uint64_t owner);
    void close(PcbId id);
    Result<void, BindError> bind(PcbId id, Endpoint local, bool reuse = false);
    Result<void, ConnectError> connect(PcbId id, Endpoint remote);
    // Sends payload to `to` (or to the connected peer when to is empty).
    Result<void, SendError> send(Instant now, PcbId id, Bytes payload, std::optional<Endpoint> to);
    Result<Datagram, RecvError> recv(PcbId id);

    bool readable(PcbId id) const;
    std::optional<Endpoint> local_endpoint(PcbId id) const;
    std::optional<Endpoint> remote_endpoint(PcbId id) const;
    void set_rcvbuf(PcbId id, std::size_t bytes);

    net::Delivery on_ipv4(Instant now, const net::Ipv4Rx& rx, Packet payload) override;
    void on_icmp_error(Instant now, const net::IcmpErrorRx& err) override;

    const UdpCounters& counters() const { return ctr_; }
    std::size_t pcb_count() const { return live_; }

private:
    struct Pcb {
        std::uint64_t owner = 0;
        Endpoint local;
        Endpoint remote;
        bool bound = false;
        bool connected = false;
        bool reuse = false;
        bool refused = false;  // pending ICMP port unreachable (reported once)
        std::size_t rcvbuf = 0;
        std::size_t queued_bytes = 0;
        std::deque<Datagram> rxq;
    };
    Pcb* get(PcbId id);
    const Pcb* get(PcbId id) const;
    bool port_in_use(Ipv4Addr addr, Port port, bool reuse) const;
    std::optional<Port> pick_ephemeral(Ipv4Addr addr);
    Result<void, BindError> bind_ephemeral(PcbId id);
    PcbId lookup(const Endpoint& local, const Endpoint& remote) const;
    void link_port(PcbId id);
    void unlink_port(PcbId id);

    net::NetLayer& net_;
    Random& random_;
    UdpConfig cfg_;
    UdpEvents* events_ = nullptr;
    std::vector<std::unique_ptr<Pcb>> pcbs_;  // index = PcbId - 1
    std::vector<PcbId> free_;
    std::size_t live_ = 0;
    std::unordered_map<std::uint16_t, std::vector<PcbId>> by_port_;  // bound PCBs per local port
    UdpCounters ctr_{};
};

}  // namespace uinet::udp
