// net/ipv4_fragmenter.cpp — fragment planning, chain copying and option
// selection for IPv4 fragmentation; the contract is in the header.
#include "net/ipv4_fragmenter.hpp"

#include <algorithm>
#include <cstring>

namespace uinet::net {

namespace {

constexpr std::size_t kMinHeader = 20;
constexpr std::size_t kMaxHeader = 60;
constexpr std::size_t kMaxDatagram = 65535;

}  // namespace

std::optional<FragmentPlan> plan_fragments(std::size_t payload_len, std::size_t mtu, std::size_t ip_header_len,
                                           const Pool& pool, std::size_t headroom) {
    if (mtu < kIpv4MinMtu) return std::nullopt;
    if (ip_header_len < kMinHeader || ip_header_len > kMaxHeader || ip_header_len % 4 != 0) return std::nullopt;
    if (payload_len > kMaxDatagram - ip_header_len) return std::nullopt;

    FragmentPlan plan;
    // RFC 791 section 3.2: every fragment but the last carries a multiple of
    // 8 bytes. mtu >= 68 and a header <= 60 leave at least 8.
    plan.piece_len = (mtu - ip_header_len) & ~std::size_t{7};
    plan.pieces = payload_len == 0 ? 1 : (payload_len + plan.piece_len - 1) / plan.piece_len;

    // Pool::alloc(headroom) gives one buffer with capacity - headroom bytes
    // of tailroom; Packet::append continues in whole buffers.
    const std::size_t cap = pool.config().buf_size;
    const std::size_t first_room = cap - std::min(headroom, cap);
    auto buffers_for = [&](std::size_t n) -> std::size_t {
        if (n <= first_room) return 1;
        return 1 + (n - first_room + cap - 1) / cap;
    };
    const std::size_t full = payload_len / plan.piece_len;
    const std::size_t rest = payload_len % plan.piece_len;
    plan.buffers = full * buffers_for(plan.piece_len);
    if (rest != 0 || full == 0) plan.buffers += buffers_for(rest);
    return plan;
}

Packet ChainReader::take(std::size_t n, Pool& pool, std::size_t headroom) {
    Packet p = pool.alloc(headroom);
    if (!p) return p;
    std::size_t done = 0;
    while (done < n) {
        if (!buf_) return Packet();
        const std::size_t avail = buf_->size() - pos_;
        if (avail == 0) {
            buf_ = buf_->next();
            pos_ = 0;
            continue;
        }
        const std::size_t k = std::min(avail, n - done);
        if (!p.append(Bytes(buf_->data() + pos_, k))) return Packet();
        pos_ += k;
        done += k;
    }
    return p;
}

std::optional<std::size_t> ipv4_fragment_options(Bytes options, MutBytes out) {
    constexpr std::uint8_t kEol = 0;
    constexpr std::uint8_t kNop = 1;
    constexpr std::uint8_t kCopied = 0x80;
    std::size_t w = 0;
    std::size_t i = 0;
    while (i < options.size()) {
        const std::uint8_t type = options[i];
        if (type == kEol) break;
        if (type == kNop) {  // single octet, copied bit clear: not copied
            ++i;
            continue;
        }
        if (i + 1 >= options.size()) return std::nullopt;
        const std::size_t len = options[i + 1];
        if (len < 2 || i + len > options.size()) return std::nullopt;
        if (type & kCopied) {
            if (w + len > out.size()) return std::nullopt;
            std::memcpy(out.data() + w, options.data() + i, len);
            w += len;
        }
        i += len;
    }
    while (w % 4 != 0) {
        if (w >= out.size()) return std::nullopt;
        out[w++] = kEol;
    }
    return w;
}

}  // namespace uinet::net
