// buf/packet.cpp — pool and packet chain operations.
#include "buf/packet.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace uinet {

std::uint8_t* PacketBuf::push(std::size_t n) {
    if (n > head_) return nullptr;
    head_ -= static_cast<std::uint32_t>(n);
    len_ += static_cast<std::uint32_t>(n);
    return data();
}

bool PacketBuf::pull(std::size_t n) {
    if (n > len_) return false;
    head_ += static_cast<std::uint32_t>(n);
    len_ -= static_cast<std::uint32_t>(n);
    return true;
}

std::uint8_t* PacketBuf::put(std::size_t n) {
    if (n > tailroom()) return nullptr;
    std::uint8_t* p = data() + len_;
    len_ += static_cast<std::uint32_t>(n);
    return p;
}

bool PacketBuf::trim(std::size_t len) {
    if (len > len_) return false;
    len_ = static_cast<std::uint32_t>(len);
    return true;
}

void PacketBuf::reset(std::size_t h) {
    head_ = static_cast<std::uint32_t>(std::min<std::size_t>(h, cap_));
    len_ = 0;
}

Packet& Packet::operator=(Packet&& o) noexcept {
    if (this != &o) {
        release();
        head_ = o.head_;
        o.head_ = nullptr;
    }
    return *this;
}

void Packet::release() {
    if (!head_) return;
    PacketBuf* h = head_;
    head_ = nullptr;
    if (--h->refs_ != 0) return;
    while (h) {
        PacketBuf* n = h->next_;
        h->next_ = nullptr;
        h->pool_->give_back(h);
        h = n;
    }
}

std::size_t Packet::size() const {
    std::size_t n = 0;
    for (const PacketBuf* b = head_; b; b = b->next_) n += b->len_;
    return n;
}

Packet Packet::share() const {
    if (!head_) return Packet();
    ++head_->refs_;
    return Packet(head_);
}

void Packet::append_chain(Packet&& tail) {
    if (!tail.head_) return;
    assert(unique() && tail.unique());
    if (!head_) {
        head_ = tail.head_;
        tail.head_ = nullptr;
        return;
    }
    PacketBuf* last = head_;
    while (last->next_) last = last->next_;
    last->next_ = tail.head_;
    tail.head_->refs_ = 0;  // refcount lives on the chain head only
    tail.head_ = nullptr;
}

bool Packet::copy_out(std::size_t off, MutBytes dst) const {
    std::size_t need = dst.size();
    std::size_t written = 0;
    for (const PacketBuf* b = head_; b && written < need; b = b->next_) {
        if (off >= b->len_) {
            off -= b->len_;
            continue;
        }
        std::size_t n = std::min<std::size_t>(b->len_ - off, need - written);
        std::memcpy(dst.data() + written, b->data() + off, n);
        written += n;
        off = 0;
    }
    return written == need;
}

bool Packet::append(Bytes src) {
    assert(head_ && unique());
    PacketBuf* last = head_;
    while (last->next_) last = last->next_;
    std::size_t done = 0;
    while (done < src.size()) {
        std::size_t room = last->tailroom();
        if (room == 0) {
            PacketBuf* nb = head_->pool_->take(0);
            if (!nb) return false;
            nb->refs_ = 0;
            last->next_ = nb;
            last = nb;
            continue;
        }
        std::size_t n = std::min(room, src.size() - done);
        std::memcpy(last->put(n), src.data() + done, n);
        done += n;
    }
    return true;
}

bool Packet::append(const Packet& src) {
    assert(head_ && unique() && head_ != src.head_);
    PacketBuf* last = head_;
    while (last->next_) last = last->next_;
    for (const PacketBuf* b = src.head_; b; b = b->next_) {
        const std::uint8_t* from = b->data();
        std::size_t left = b->len_;
        while (left > 0) {
            std::size_t room = last->tailroom();
            if (room == 0) {
                PacketBuf* nb = head_->pool_->take(0);
                if (!nb) return false;
                nb->refs_ = 0;
                last->next_ = nb;
                last = nb;
                continue;
            }
            const std::size_t n = std::min(room, left);
            std::memcpy(last->put(n), from, n);
            from += n;
            left -= n;
        }
    }
    return true;
}

bool Packet::pull(std::size_t n) {
    if (n > size()) return false;
    PacketBuf* b = head_;
    while (n > 0) {
        std::size_t k = std::min<std::size_t>(n, b->len_);
        b->pull(k);
        n -= k;
        if (n > 0) b = b->next_;
    }
    return true;
}

bool Packet::trim(std::size_t len) {
    if (len > size()) return false;
    PacketBuf* b = head_;
    std::size_t kept = 0;
    while (b) {
        if (kept + b->len_ >= len) {
            b->trim(len - kept);
            PacketBuf* rest = b->next_;
            b->next_ = nullptr;
            while (rest) {
                PacketBuf* n = rest->next_;
                rest->next_ = nullptr;
                rest->pool_->give_back(rest);
                rest = n;
            }
            return true;
        }
        kept += b->len_;
        b = b->next_;
    }
    return true;
}

Pool::Pool(const PoolConfig& cfg) : cfg_(cfg) {
    if (cfg_.buf_size < 64) cfg_.buf_size = 64;
    if (cfg_.headroom > cfg_.buf_size / 2) cfg_.headroom = cfg_.buf_size / 2;
    memory_ = std::make_unique<std::uint8_t[]>(cfg_.count * cfg_.buf_size);
    bufs_.reset(new PacketBuf[cfg_.count]);
    free_.reserve(cfg_.count);
    for (std::size_t i = cfg_.count; i-- > 0;) {
        PacketBuf& b = bufs_[i];
        b.pool_ = this;
        b.storage_ = memory_.get() + i * cfg_.buf_size;
        b.cap_ = static_cast<std::uint32_t>(cfg_.buf_size);
        free_.push_back(&b);
    }
    stats_.capacity = cfg_.count;
}

Pool::~Pool() { assert(stats_.in_use == 0 && "packets outlived their pool"); }

PacketBuf* Pool::take(std::size_t headroom) {
    if (free_.empty()) {
        ++stats_.alloc_failures;
        return nullptr;
    }
    PacketBuf* b = free_.back();
    free_.pop_back();
    b->reset(headroom);
    b->refs_ = 1;
    b->next_ = nullptr;
    b->meta_ = OffloadMeta{};
    ++stats_.allocs;
    ++stats_.in_use;
    return b;
}

void Pool::give_back(PacketBuf* b) {
    ++stats_.frees;
    --stats_.in_use;
    free_.push_back(b);
}

Packet Pool::alloc() { return Packet(take(cfg_.headroom)); }
Packet Pool::alloc(std::size_t headroom) { return Packet(take(headroom)); }

Packet Pool::copy_of(Bytes src, std::size_t headroom) {
    Packet p(take(headroom));
    if (!p) return p;
    if (!p.append(src)) return Packet();
    return p;
}

}  // namespace uinet
