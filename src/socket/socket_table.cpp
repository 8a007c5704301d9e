// socket/socket_table.cpp — handle allocation and deferred event delivery.
#include "socket/socket_table.hpp"

namespace uinet {

SocketId SocketTable::create(SocketKind kind) {
    if (slots_.empty()) slots_.emplace_back();  // reserve slot 0
    std::uint32_t s;
    if (!free_.empty()) {
        s = free_.back();
        free_.pop_back();
    } else {
        slots_.emplace_back();
        s = static_cast<std::uint32_t>(slots_.size() - 1);
    }
    Slot& sl = slots_[s];
    sl.kind = kind;
    sl.pending = 0;
    sl.queued = false;
    sl.proto_id = 0;
    sl.upcall = nullptr;
    ++live_;
    return SocketId{s, sl.gen};
}

SocketTable::Slot* SocketTable::find(SocketId id) {
    if (id.slot == 0 || id.slot >= slots_.size()) return nullptr;
    Slot& sl = slots_[id.slot];
    if (sl.gen != id.gen || sl.kind == SocketKind::none) return nullptr;
    return &sl;
}

const SocketTable::Slot* SocketTable::find(SocketId id) const {
    return const_cast<SocketTable*>(this)->find(id);
}

void SocketTable::destroy(SocketId id) {
    Slot* sl = find(id);
    if (!sl) return;
    sl->kind = SocketKind::none;
    sl->upcall = nullptr;
    sl->pending = 0;
    // Skip generation 0 on wrap so that no live id is ever "invalid".
    if (++sl->gen == 0) sl->gen = 1;
    free_.push_back(id.slot);
    --live_;
}

void SocketTable::raise(SocketId id, std::uint32_t events) {
    Slot* sl = find(id);
    if (!sl) return;
    sl->pending |= events;
    if (!sl->queued) {
        sl->queued = true;
        queue_.push_back(id);
    }
}

std::size_t SocketTable::deliver() {
    std::size_t n = 0;
    // Upcalls may raise new events (they go to the next round) or close
    // sockets (their ids turn stale and are skipped).
    delivering_.swap(queue_);
    for (SocketId id : delivering_) {
        Slot* sl = find(id);
        if (!sl) continue;
        std::uint32_t ev = sl->pending;
        sl->pending = 0;
        sl->queued = false;
        if (ev == 0 || !sl->upcall) continue;
        Upcall cb = sl->upcall;  // the callback may destroy the slot
        cb(id, ev);
        ++n;
    }
    delivering_.clear();
    return n;
}

}  // namespace uinet
