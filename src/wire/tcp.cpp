// wire/tcp.cpp — TCP header and option parse/emit (RFC 9293 sections 3.1,
// 3.2; RFC 7323 sections 2.2, 3.2; RFC 2018 sections 2, 3).
#include "wire/tcp.hpp"

#include <algorithm>

#include "wire/checksum.hpp"
#include "wire/ipv4.hpp"

namespace uinet::wire {

namespace {

// Byte counts of the emitted layout (all multiples of 4, so never padded).
constexpr std::size_t kMssLen = 4;        // MSS
constexpr std::size_t kTsBlockLen = 12;   // SACK-perm+TS, or NOP NOP TS
constexpr std::size_t kSackPermLen = 4;   // NOP NOP SACK-perm (without TS)
constexpr std::size_t kWscaleLen = 4;     // NOP WS
constexpr std::size_t kSackHdrLen = 4;    // NOP NOP kind len
constexpr std::size_t kSackBlockLen = 8;

std::size_t fixed_options_len(const TcpOptions& o) {
    std::size_t n = 0;
    if (o.mss) n += kMssLen;
    if (o.timestamps) n += kTsBlockLen;
    else if (o.sack_permitted) n += kSackPermLen;
    if (o.wscale) n += kWscaleLen;
    return n;
}

}  // namespace

std::size_t TcpOptions::sack_blocks_emitted() const {
    if (sack_count == 0) return 0;
    std::size_t fixed = fixed_options_len(*this);
    if (fixed + kSackHdrLen + kSackBlockLen > kTcpMaxOptionsLen) return 0;
    std::size_t fit = (kTcpMaxOptionsLen - fixed - kSackHdrLen) / kSackBlockLen;
    return std::min({std::size_t{sack_count}, kTcpMaxSackBlocks, fit});
}

std::size_t TcpOptions::size() const {
    std::size_t n = fixed_options_len(*this);
    if (std::size_t k = sack_blocks_emitted(); k > 0) n += kSackHdrLen + k * kSackBlockLen;
    return n;
}

void TcpOptions::emit(MutBytes out) const {
    std::uint8_t* p = out.data();
    if (mss) {
        p[0] = tcp_opt::mss;
        p[1] = 4;
        store_be16(p + 2, *mss);
        p += kMssLen;
    }
    if (timestamps) {
        // RFC 7323 appendix A layout; SACK-permitted takes the two NOPs' place.
        if (sack_permitted) {
            p[0] = tcp_opt::sack_permitted;
            p[1] = 2;
        } else {
            p[0] = tcp_opt::nop;
            p[1] = tcp_opt::nop;
        }
        p[2] = tcp_opt::timestamps;
        p[3] = 10;
        store_be32(p + 4, timestamps->first);
        store_be32(p + 8, timestamps->second);
        p += kTsBlockLen;
    } else if (sack_permitted) {
        p[0] = tcp_opt::nop;
        p[1] = tcp_opt::nop;
        p[2] = tcp_opt::sack_permitted;
        p[3] = 2;
        p += kSackPermLen;
    }
    if (wscale) {
        p[0] = tcp_opt::nop;
        p[1] = tcp_opt::wscale;
        p[2] = 3;
        p[3] = *wscale;
        p += kWscaleLen;
    }
    if (std::size_t k = sack_blocks_emitted(); k > 0) {
        p[0] = tcp_opt::nop;
        p[1] = tcp_opt::nop;
        p[2] = tcp_opt::sack;
        p[3] = static_cast<std::uint8_t>(2 + k * kSackBlockLen);
        p += kSackHdrLen;
        for (std::size_t i = 0; i < k; ++i) {
            store_be32(p, sack[i].left.raw());
            store_be32(p + 4, sack[i].right.raw());
            p += kSackBlockLen;
        }
    }
}

Result<TcpOptions, ParseError> TcpOptions::parse(Bytes o) {
    TcpOptions r;
    std::size_t i = 0;
    while (i < o.size()) {
        const std::uint8_t kind = o[i];
        if (kind == tcp_opt::eol) break;
        if (kind == tcp_opt::nop) {
            ++i;
            continue;
        }
        // RFC 9293 section 3.2: every other option has a length octet that
        // counts kind and length; < 2 would loop forever, past the end is a lie.
        if (i + 1 >= o.size()) return Err{ParseError::bad_option};
        const std::size_t len = o[i + 1];
        if (len < 2 || len > o.size() - i) return Err{ParseError::bad_option};
        const std::uint8_t* b = o.data() + i + 2;
        switch (kind) {
            case tcp_opt::mss:
                if (len == 4) r.mss = load_be16(b);
                break;
            case tcp_opt::wscale:
                if (len == 3) r.wscale = b[0];
                break;
            case tcp_opt::sack_permitted:
                if (len == 2) r.sack_permitted = true;
                break;
            case tcp_opt::sack:
                // RFC 2018 section 3: length 2 + 8n; at most 4 blocks fit in 40 bytes.
                if (len >= 10 && (len - 2) % 8 == 0 && (len - 2) / 8 <= kTcpMaxSackBlocks) {
                    r.sack_count = static_cast<std::uint8_t>((len - 2) / 8);
                    for (std::size_t k = 0; k < r.sack_count; ++k)
                        r.sack[k] = SackBlock{SeqNum(load_be32(b + 8 * k)), SeqNum(load_be32(b + 8 * k + 4))};
                }
                break;
            case tcp_opt::timestamps:
                if (len == 10) r.timestamps = std::make_pair(load_be32(b), load_be32(b + 4));
                break;
            default:
                break;  // unknown: skipped by its length
        }
        i += len;
    }
    return r;
}

bool TcpOptions::operator==(const TcpOptions& o) const {
    if (mss != o.mss || wscale != o.wscale || sack_permitted != o.sack_permitted ||
        timestamps != o.timestamps || sack_count != o.sack_count)
        return false;
    for (std::size_t i = 0; i < sack_count && i < kTcpMaxSackBlocks; ++i)
        if (!(sack[i] == o.sack[i])) return false;
    return true;
}

Result<void, ParseError> TcpView::check_len() const {
    if (b_.size() < kTcpMinHeaderLen) return Err{ParseError::truncated};
    if (header_len() < kTcpMinHeaderLen || header_len() > b_.size())
        return Err{ParseError::bad_header_len};
    return {};
}

Result<TcpRepr, ParseError> TcpRepr::parse_unchecked(Bytes segment) {
    TcpView v(segment);
    if (auto c = v.check_len(); !c) return Err{c.error()};
    auto opts = TcpOptions::parse(v.options());
    if (!opts) return Err{opts.error()};
    TcpRepr r;
    r.src_port = v.src_port();
    r.dst_port = v.dst_port();
    r.seq = v.seq();
    r.ack = v.ack();
    r.flags = v.flags();
    r.window = v.window();
    r.urgent = v.urgent();
    r.options = *opts;
    r.header_len = static_cast<std::uint16_t>(v.header_len());
    return r;
}

Result<TcpRepr, ParseError> TcpRepr::parse(Bytes segment, Ipv4Addr src, Ipv4Addr dst, bool verify) {
    if (verify) {
        if (auto c = TcpView(segment).check_len(); !c) return Err{c.error()};
        if (segment.size() > kIpv4MaxTotalLen) return Err{ParseError::bad_length};
        Checksum c;
        add_pseudo_v4(c, src, dst, ip_proto::tcp, static_cast<std::uint16_t>(segment.size()));
        c.add(segment);
        if (c.finish() != 0) return Err{ParseError::bad_checksum};
    }
    return parse_unchecked(segment);
}

Result<TcpRepr, ParseError> TcpRepr::parse(Bytes segment, const Ipv6Addr& src, const Ipv6Addr& dst,
                                           bool verify) {
    if (verify) {
        if (auto c = TcpView(segment).check_len(); !c) return Err{c.error()};
        Checksum c;
        add_pseudo_v6(c, src, dst, ip_proto::tcp, static_cast<std::uint32_t>(segment.size()));
        c.add(segment);
        if (c.finish() != 0) return Err{ParseError::bad_checksum};
    }
    return parse_unchecked(segment);
}

void TcpRepr::emit_header(MutBytes out, std::uint16_t checksum) const {
    std::uint8_t* p = out.data();
    const std::size_t len = size();
    store_be16(p, src_port.value());
    store_be16(p + 2, dst_port.value());
    store_be32(p + 4, seq.raw());
    store_be32(p + 8, ack.raw());
    p[12] = static_cast<std::uint8_t>((len / 4) << 4);
    p[13] = flags;
    store_be16(p + 14, window);
    store_be16(p + 16, checksum);
    store_be16(p + 18, urgent);
    options.emit(out.subspan(kTcpMinHeaderLen));
}

std::uint16_t tcp_checksum_v4(Bytes header, Ipv4Addr src, Ipv4Addr dst,
                              std::span<const Bytes> payload) {
    std::size_t len = header.size();
    for (Bytes piece : payload) len += piece.size();
    Checksum c;
    add_pseudo_v4(c, src, dst, ip_proto::tcp, static_cast<std::uint16_t>(len));
    c.add(header);
    for (Bytes piece : payload) c.add(piece);
    return c.finish();
}

std::uint16_t tcp_checksum_v6(Bytes header, const Ipv6Addr& src, const Ipv6Addr& dst,
                              std::span<const Bytes> payload) {
    std::size_t len = header.size();
    for (Bytes piece : payload) len += piece.size();
    Checksum c;
    add_pseudo_v6(c, src, dst, ip_proto::tcp, static_cast<std::uint32_t>(len));
    c.add(header);
    for (Bytes piece : payload) c.add(piece);
    return c.finish();
}

void TcpRepr::emit(MutBytes out, Bytes payload, Ipv4Addr src, Ipv4Addr dst) const {
    emit_header(out, 0);
    const Bytes pieces[1] = {payload};
    set_tcp_checksum(out, tcp_checksum_v4(out.first(size()), src, dst, pieces));
}

void TcpRepr::emit(MutBytes out, Bytes payload, const Ipv6Addr& src, const Ipv6Addr& dst) const {
    emit_header(out, 0);
    const Bytes pieces[1] = {payload};
    set_tcp_checksum(out, tcp_checksum_v6(out.first(size()), src, dst, pieces));
}

}  // namespace uinet::wire
