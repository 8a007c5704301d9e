// socket/socket_table.hpp — generation-counted socket handles and the
// deferred event queue.
//
// Contract (DESIGN.md principle 6):
//  * Applications hold SocketIds, never pointers. A SocketId names a slot
//    and the slot's generation; once a socket is closed its slot's
//    generation moves on, so a stale id is detected, never misused.
//  * Protocol code raises events (readable, writable, error, hangup) while
//    a batch of input is processed; they are merged per socket and
//    delivered by deliver() after the batch, so an upcall may close its own
//    socket, or any other, safely.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace uinet {

struct SocketId {
    std::uint32_t slot = 0;
    std::uint32_t gen = 0;  // 0 = invalid
    bool valid() const { return gen != 0; }
    std::uint64_t cookie() const { return (std::uint64_t{gen} << 32) | slot; }
    static SocketId from_cookie(std::uint64_t c) {
        return SocketId{static_cast<std::uint32_t>(c), static_cast<std::uint32_t>(c >> 32)};
    }
    bool operator==(const SocketId&) const = default;
};

namespace event {
constexpr std::uint32_t readable = 1;
constexpr std::uint32_t writable = 2;
constexpr std::uint32_t error = 4;
constexpr std::uint32_t hangup = 8;
}  // namespace event

using Upcall = std::function<void(SocketId, std::uint32_t events)>;

// passive: one observed direction of a connection (socket/passive_socket.cpp).
enum class SocketKind : std::uint8_t { none, udp, tcp, passive };

class SocketTable {
public:
    struct Slot {
        std::uint32_t gen = 1;
        SocketKind kind = SocketKind::none;
        std::uint32_t proto_id = 0;  // the PCB in the protocol's own table
        std::uint32_t pending = 0;   // events raised, not yet delivered
        bool queued = false;
        Upcall upcall;
    };

    SocketId create(SocketKind kind);
    // The live slot for id, or nullptr if id is stale or invalid.
    Slot* find(SocketId id);
    const Slot* find(SocketId id) const;
    void destroy(SocketId id);

    void raise(SocketId id, std::uint32_t events);
    // Delivers queued events to upcalls; returns how many were delivered.
    std::size_t deliver();
    bool has_pending() const { return !queue_.empty(); }
    std::size_t live() const { return live_; }

private:
    std::vector<Slot> slots_;  // slot 0 unused so that {0,0} is never valid
    std::vector<std::uint32_t> free_;
    std::vector<SocketId> queue_;
    std::vector<SocketId> delivering_;
    std::size_t live_ = 0;
};

}  // namespace uinet
