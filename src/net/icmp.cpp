// net/icmp.cpp — ICMPv4: echo, errors received, errors sent.
//
// Decisions and their sources:
//  * Echo requests are answered in place: the request's own buffers become
//    the reply (type 0, checksum updated incrementally per RFC 1624), so a
//    4000-byte ping reassembled from fragments is echoed without copying
//    (RFC 792; RFC 1122 section 3.2.2.6 "MUST" implement echo). Requests
//    to broadcast addresses are ignored by default, as Linux does
//    (icmp_echo_ignore_broadcasts), RFC 1122 allowing either.
//  * Received errors (destination unreachable, time exceeded, parameter
//    problem) are passed to the transport named in the quoted header
//    (RFC 1122 section 3.2.2).
//  * Errors are never sent about ICMP errors, broadcast or multicast
//    datagrams, non-initial fragments, or datagrams whose source is not a
//    unicast address (RFC 1122 section 3.2.2); they are rate limited by a
//    token bucket (RFC 1812 section 4.3.2.8); they quote the offending
//    header and as much data as keeps the error within 576 bytes
//    (RFC 1812 section 4.3.2.3). A black-holing stack sends none.
#include <algorithm>
#include <cstring>

#include "net/net.hpp"
#include "wire/checksum.hpp"
#include "wire/icmpv4.hpp"
#include "wire/ipv4.hpp"

namespace uinet::net {

namespace {
constexpr std::uint8_t kEchoReply = 0;
constexpr std::uint8_t kDestUnreachable = 3;
constexpr std::uint8_t kEchoRequest = 8;
constexpr std::uint8_t kTimeExceeded = 11;
constexpr std::uint8_t kParamProblem = 12;

bool is_error_type(std::uint8_t t) { return t == kDestUnreachable || t == kTimeExceeded || t == kParamProblem || t == 4 || t == 5; }

// One's-complement checksum over a (possibly chained) message.
std::uint16_t checksum_of(const Packet& p) {
    wire::Checksum c;
    p.for_each_segment([&](Bytes b) { c.add(b); });
    return c.finish();
}
}  // namespace

void NetLayer::input_icmp(Instant now, Interface& /*ifc*/, const Ipv4Rx& rx, Packet payload) {
    ++ctr_.icmp_rx;
    if (payload.size() < 8 || payload.front().size() < 8 || checksum_of(payload) != 0) {
        ++ctr_.icmp_bad;
        return;
    }
    auto parsed = wire::Icmpv4Repr::parse(payload.front().bytes().first(8), false);
    if (!parsed) {
        ++ctr_.icmp_bad;
        return;
    }
    const wire::Icmpv4Repr& m = *parsed;
    if (m.type == kEchoRequest) {
        ++ctr_.icmp_echo_rx;
        if (rx.link_broadcast && !cfg_.reply_to_broadcast_echo) {
            ++ctr_.icmp_bcast_echo_ignored;
            return;
        }
        if (!payload.unique()) {
            Packet copy = pool_.alloc(cfg_.headroom);
            if (!copy) {
                ++ctr_.tx_no_buffers;
                return;
            }
            bool ok = true;
            payload.for_each_segment([&](Bytes b) { ok = ok && copy.append(b); });
            if (!ok) {
                ++ctr_.tx_no_buffers;
                return;
            }
            payload = std::move(copy);
        }
        std::uint8_t* h = payload.front().data();
        std::uint16_t old_word = static_cast<std::uint16_t>((h[0] << 8) | h[1]);
        h[0] = kEchoReply;
        std::uint16_t new_word = static_cast<std::uint16_t>(kEchoReply << 8 | h[1]);
        std::uint16_t old_csum = static_cast<std::uint16_t>((h[2] << 8) | h[3]);
        std::uint16_t c = wire::checksum_update16(old_csum, old_word, new_word);
        h[2] = static_cast<std::uint8_t>(c >> 8);
        h[3] = static_cast<std::uint8_t>(c);
        SendOptions o;
        o.src = rx.dst;
        o.dst = rx.src;
        o.protocol = wire::ip_proto::icmp;
        o.tos = rx.tos;
        if (send(now, o, std::move(payload))) ++ctr_.icmp_echo_replies_sent;
        return;
    }
    if (is_error_type(m.type)) {
        ++ctr_.icmp_errors_rx;
        // The quoted datagram: its IP header (with options) and >= 8 bytes.
        std::array<std::uint8_t, 60 + 64> q{};
        std::size_t qlen = std::min<std::size_t>(q.size(), payload.size() - 8);
        payload.copy_out(8, {q.data(), qlen});
        if (qlen < 20 || (q[0] >> 4) != 4) {
            ++ctr_.icmp_bad;
            return;
        }
        std::size_t ihl = static_cast<std::size_t>(q[0] & 0x0f) * 4;
        if (ihl < 20 || qlen < ihl + 8) {
            ++ctr_.icmp_bad;
            return;
        }
        IcmpErrorRx err;
        err.type = m.type;
        err.code = m.code;
        err.rest = m.rest;
        err.reporter = rx.src;
        err.src = Ipv4Addr(load_be32(&q[12]));
        err.dst = Ipv4Addr(load_be32(&q[16]));
        err.quoted_l4 = Bytes{q.data() + ihl, qlen - ihl};
        err.l2 = rx.l2;
        if (Ipv4Handler* h = handlers_[q[9]]) h->on_icmp_error(now, err);
        return;
    }
    if (m.type == kEchoReply && echo_listener_) {
        EchoReply r;
        r.from = rx.src;
        r.id = static_cast<std::uint16_t>(m.rest >> 16);
        r.seq = static_cast<std::uint16_t>(m.rest);
        r.size = payload.size() - 8;
        r.payload_ok = true;
        std::size_t i = 0;
        payload.for_each_segment([&](Bytes b) {
            for (std::uint8_t x : b) {
                if (i >= 8 && x != static_cast<std::uint8_t>(i - 8)) r.payload_ok = false;
                ++i;
            }
        });
        echo_listener_(r);
        return;
    }
    ++ctr_.icmp_other_rx;
}

Result<void, SendError> NetLayer::send_echo_request(Instant now, Ipv4Addr dst, std::uint16_t id, std::uint16_t seq,
                                                    std::size_t size) {
    Packet p = pool_.alloc(cfg_.headroom);
    if (!p) return Err{SendError::no_buffers};
    std::array<std::uint8_t, 8> hdr{};
    if (!p.append(hdr)) return Err{SendError::no_buffers};
    std::array<std::uint8_t, 256> chunk;
    for (std::size_t i = 0; i < chunk.size(); ++i) chunk[i] = static_cast<std::uint8_t>(i);
    for (std::size_t done = 0; done < size;) {
        std::size_t n = std::min(chunk.size(), size - done);
        if (!p.append({chunk.data(), n})) return Err{SendError::no_buffers};
        done += n;
    }
    wire::Icmpv4Repr m{kEchoRequest, 0, (std::uint32_t{id} << 16) | seq};
    m.emit({p.front().data(), 8}, {});
    // The header was emitted without payload: checksum the whole message
    // (possibly chained) with the checksum field zeroed.
    std::uint8_t* h = p.front().data();
    h[2] = h[3] = 0;
    std::uint16_t sum = checksum_of(p);
    h[2] = static_cast<std::uint8_t>(sum >> 8);
    h[3] = static_cast<std::uint8_t>(sum);
    SendOptions o;
    o.dst = dst;
    o.protocol = wire::ip_proto::icmp;
    return send(now, o, std::move(p));
}

bool NetLayer::icmp_error_allowed(Instant now) {
    double elapsed = (now - icmp_last_).secs();
    icmp_last_ = now;
    if (elapsed > 0)
        icmp_tokens_ = std::min<double>(cfg_.icmp_error_burst, icmp_tokens_ + elapsed * cfg_.icmp_errors_per_sec);
    if (icmp_tokens_ < 1.0) return false;
    icmp_tokens_ -= 1.0;
    return true;
}

void NetLayer::send_icmp_error(Instant now, std::uint8_t type, std::uint8_t code, std::uint32_t rest, const Ipv4Rx& rx,
                               const Packet& payload) {
    // Quote the header and as much payload as fits in a 576-byte error.
    std::array<std::uint8_t, 576 - 20 - 8> quote{};
    std::size_t hl = std::min(rx.ip_header.size(), quote.size());
    std::memcpy(quote.data(), rx.ip_header.data(), hl);
    std::size_t n = std::min(payload.size(), quote.size() - hl);
    payload.copy_out(0, {quote.data() + hl, n});
    send_icmp_error_quote(now, type, code, rest, {quote.data(), hl + n}, rx.link_broadcast);
}

void NetLayer::send_icmp_error_quote(Instant now, std::uint8_t type, std::uint8_t code, std::uint32_t rest, Bytes quote,
                                     bool link_broadcast) {
    if (cfg_.blackhole || link_broadcast || quote.size() < 20) {
        ++ctr_.icmp_errors_suppressed;
        return;
    }
    std::size_t ihl = static_cast<std::size_t>(quote[0] & 0x0f) * 4;
    Ipv4Addr src(load_be32(&quote[12]));
    Ipv4Addr dst(load_be32(&quote[16]));
    std::uint16_t frag = load_be16(&quote[6]);
    bool non_initial_fragment = (frag & 0x1fff) != 0;
    bool about_icmp_error = quote[9] == wire::ip_proto::icmp && quote.size() > ihl && is_error_type(quote[ihl]);
    if (non_initial_fragment || about_icmp_error || src.is_any() || src.is_broadcast() || src.is_multicast() ||
        dst.is_broadcast() || dst.is_multicast() || src.is_loopback()) {
        ++ctr_.icmp_errors_suppressed;
        return;
    }
    if (!icmp_error_allowed(now)) {
        ++ctr_.icmp_rate_limited;
        return;
    }
    Packet p = pool_.alloc(cfg_.headroom);
    std::uint8_t* h = p ? p.front().put(8 + quote.size()) : nullptr;
    if (!h) {
        ++ctr_.tx_no_buffers;
        return;
    }
    std::memcpy(h + 8, quote.data(), quote.size());
    wire::Icmpv4Repr m{type, code, rest};
    m.emit({h, 8}, quote);
    SendOptions o;
    o.src = is_local(dst) ? dst : Ipv4Addr::any();
    o.dst = src;
    o.protocol = wire::ip_proto::icmp;
    if (!send(now, o, std::move(p))) return;
    if (type == kDestUnreachable) ++ctr_.icmp_unreach_sent;
    if (type == kTimeExceeded) ++ctr_.icmp_time_exceeded_sent;
}

}  // namespace uinet::net
