// TCP header and options: captured Linux segments byte for byte, option
// layouts, round trips, hostile option lengths, data offset lies, checksums.
#include <gtest/gtest.h>

#include "captures.hpp"
#include "wire/checksum.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"
#include "wire_test_util.hpp"

using namespace uinet;
using namespace uinet::wire;
using namespace wiretest;

namespace {

const Ipv4Addr kLo = Ipv4Addr::of(127, 0, 0, 1);
const Ipv4Addr kS = Ipv4Addr::of(198, 18, 0, 1);
const Ipv4Addr kD = Ipv4Addr::of(198, 18, 0, 2);

// The TCP segment of a captured frame, with the correct checksum patched in.
Buf captured_segment(Bytes frame, std::uint16_t correct) {
    Buf s(frame.begin() + 34, frame.end());
    store_be16(s.data() + 16, correct);
    return s;
}

// Emits r with payload into one buffer (header then payload).
Buf make_segment(TcpRepr r, const Buf& payload, Ipv4Addr s = kS, Ipv4Addr d = kD) {
    Buf b(r.size() + payload.size());
    for (std::size_t i = 0; i < payload.size(); ++i) b[r.size() + i] = payload[i];
    r.emit(MutBytes(b), sub(b, r.size()), s, d);
    return b;
}

// A segment whose option area is exactly `opts` (padded by the caller).
Buf segment_with_options(std::initializer_list<std::uint8_t> opts) {
    TcpRepr r;
    r.flags = TcpFlags::syn;
    Buf b(20);
    r.emit_header(MutBytes(b));
    b.insert(b.end(), opts);
    b[12] = static_cast<std::uint8_t>((b.size() / 4) << 4);
    set_tcp_checksum(MutBytes(b), 0);
    set_tcp_checksum(MutBytes(b), tcp_checksum_v4(Bytes(b), kS, kD, {}));
    return b;
}

TcpRepr random_tcp() {
    TcpRepr r;
    r.src_port = Port(rand16());
    r.dst_port = Port(rand16());
    r.seq = SeqNum(rand32());
    r.ack = SeqNum(rand32());
    r.flags = rand8();
    r.window = rand16();
    r.urgent = rand16();
    if (rand8() & 1) r.options.mss = rand16();
    if (rand8() & 1) r.options.wscale = static_cast<std::uint8_t>(rand_below(15));
    r.options.sack_permitted = rand8() & 1;
    if (rand8() & 1) r.options.timestamps = std::make_pair(rand32(), rand32());
    r.options.sack_count = static_cast<std::uint8_t>(rand_below(5));
    for (auto& b : r.options.sack) b = SackBlock{SeqNum(rand32()), SeqNum(rand32())};
    r.options.sack_count = static_cast<std::uint8_t>(
        std::min<std::size_t>(r.options.sack_count, r.options.sack_blocks_emitted()));
    r.header_len = static_cast<std::uint16_t>(r.size());
    return r;
}

}  // namespace

TEST(Tcp, CapturedLinuxSynByteExact) {
    Bytes frame(wirecap::kTcpSyn);
    Buf raw(frame.begin() + 34, frame.end());
    // Offloaded: the field holds the pseudo-header sum, not a checksum.
    EXPECT_EQ(load_be16(raw.data() + 16), pseudo_partial_v4(kLo, kLo, ip_proto::tcp, 40));
    EXPECT_EQ(TcpRepr::parse(Bytes(raw), kLo, kLo).error(), ParseError::bad_checksum);

    Buf seg = captured_segment(frame, wirecap::kTcpSynCorrect);
    auto r = TcpRepr::parse(Bytes(seg), kLo, kLo);
    ASSERT_TRUE(r) << to_string(r.error());
    EXPECT_EQ(r->src_port, Port(58672));
    EXPECT_EQ(r->dst_port, Port(8080));
    EXPECT_EQ(r->seq, SeqNum(3656194156u));
    EXPECT_EQ(r->flags, TcpFlags::syn);
    EXPECT_TRUE(r->has(TcpFlags::syn));
    EXPECT_FALSE(r->has(TcpFlags::ack));
    EXPECT_EQ(r->window, 65495);
    EXPECT_EQ(r->header_len, 40);
    // options [mss 65495,sackOK,TS val 1456832094 ecr 0,nop,wscale 10]
    EXPECT_EQ(r->options.mss, 65495);
    EXPECT_TRUE(r->options.sack_permitted);
    ASSERT_TRUE(r->options.timestamps);
    EXPECT_EQ(r->options.timestamps->first, 1456832094u);
    EXPECT_EQ(r->options.timestamps->second, 0u);
    EXPECT_EQ(r->options.wscale, 10);
    EXPECT_EQ(r->options.sack_count, 0);

    // Our option layout is Linux's: emitting reproduces all 40 bytes.
    EXPECT_EQ(r->size(), 40u);
    Buf out(r->size());
    r->emit(MutBytes(out), {}, kLo, kLo);
    EXPECT_EQ(out, seg);
}

TEST(Tcp, CapturedSegmentsByteExact) {
    struct Cap { Bytes frame; std::uint16_t correct; std::uint8_t flags; std::size_t payload; };
    for (Cap c : {Cap{Bytes(wirecap::kTcpSynAck), wirecap::kTcpSynAckCorrect, TcpFlags::syn | TcpFlags::ack, 0},
                  Cap{Bytes(wirecap::kTcpData), wirecap::kTcpDataCorrect, TcpFlags::psh | TcpFlags::ack, 18},
                  Cap{Bytes(wirecap::kTcpFin), wirecap::kTcpFinCorrect, TcpFlags::fin | TcpFlags::ack, 0}}) {
        Buf seg = captured_segment(c.frame, c.correct);
        auto r = TcpRepr::parse(Bytes(seg), kLo, kLo);
        ASSERT_TRUE(r);
        EXPECT_EQ(r->flags, c.flags);
        EXPECT_EQ(seg.size() - r->header_len, c.payload);
        ASSERT_TRUE(r->options.timestamps);
        Buf out(r->size());
        r->emit(MutBytes(out), sub(seg, r->header_len), kLo, kLo);
        EXPECT_TRUE(std::equal(out.begin(), out.end(), seg.begin()));
        // Scattered payload, header emitted separately.
        Buf hdr(r->size());
        r->emit_header(MutBytes(hdr));
        Bytes pay = sub(seg, r->header_len);
        const Bytes pieces[] = {pay.first(pay.size() / 3), pay.subspan(pay.size() / 3)};
        EXPECT_EQ(tcp_checksum_v4(Bytes(hdr), kLo, kLo, pieces), c.correct);
    }
    auto data = TcpRepr::parse(Bytes(captured_segment(Bytes(wirecap::kTcpData), wirecap::kTcpDataCorrect)), kLo, kLo);
    ASSERT_TRUE(data);
    EXPECT_EQ(data->options.timestamps->first, 1456832095u);
    EXPECT_EQ(data->options.timestamps->second, 2470279038u);
    EXPECT_EQ(data->window, 64);
    EXPECT_EQ(data->header_len, 32);
}

TEST(Tcp, RoundTripV4) {
    for (int i = 0; i < 1000; ++i) {
        TcpRepr r = random_tcp();
        Buf b = make_segment(r, rand_bytes(rand_below(64)));
        auto p = TcpRepr::parse(Bytes(b), kS, kD);
        ASSERT_TRUE(p) << to_string(p.error());
        ASSERT_EQ(*p, r) << "round " << i;
        EXPECT_EQ(r.size() % 4, 0u);
        EXPECT_LE(r.size(), kTcpMaxHeaderLen);
        TcpView v{Bytes(b)};
        ASSERT_TRUE(v.check_len());
        EXPECT_EQ(v.seq(), r.seq);
        EXPECT_EQ(v.header_len(), r.size());
    }
}

TEST(Tcp, RoundTripV6) {
    const Ipv6Addr s = *Ipv6Addr::parse("2001:db8::a"), d = *Ipv6Addr::parse("2001:db8::b");
    for (int i = 0; i < 200; ++i) {
        TcpRepr r = random_tcp();
        Buf payload = rand_bytes(rand_below(50));
        Buf b(r.size() + payload.size());
        for (std::size_t k = 0; k < payload.size(); ++k) b[r.size() + k] = payload[k];
        r.emit(MutBytes(b), sub(b, r.size()), s, d);
        auto p = TcpRepr::parse(Bytes(b), s, d);
        ASSERT_TRUE(p);
        EXPECT_EQ(*p, r);
        // (Swapping src and dst would not change the sum: use another address.)
        EXPECT_EQ(TcpRepr::parse(Bytes(b), s, *Ipv6Addr::parse("2001:db8::c")).error(), ParseError::bad_checksum);
        Buf h(r.size());
        r.emit_header(MutBytes(h));
        const Bytes pieces[] = {Bytes(payload)};
        EXPECT_EQ(tcp_checksum_v6(Bytes(h), s, d, pieces), load_be16(b.data() + 16));
    }
}

TEST(Tcp, OptionSizesAndSackClamping) {
    TcpOptions o;
    EXPECT_EQ(o.size(), 0u);
    o.mss = 1460;
    EXPECT_EQ(o.size(), 4u);
    o.sack_permitted = true;
    EXPECT_EQ(o.size(), 8u);
    o.timestamps = std::make_pair(1u, 2u);
    EXPECT_EQ(o.size(), 16u);  // SACK-permitted shares the timestamp word
    o.wscale = 7;
    EXPECT_EQ(o.size(), 20u);

    TcpOptions d;  // an established-state ACK with timestamps and SACK
    d.timestamps = std::make_pair(5u, 6u);
    d.sack_count = 4;
    EXPECT_EQ(d.sack_blocks_emitted(), 3u);  // 12 + 4 + 3*8 = 40
    EXPECT_EQ(d.size(), 40u);
    d.timestamps.reset();
    EXPECT_EQ(d.sack_blocks_emitted(), 4u);
    EXPECT_EQ(d.size(), 36u);
    d.sack_count = 9;  // nonsense count: clamped, never overflows
    EXPECT_EQ(d.sack_blocks_emitted(), 4u);

    TcpOptions full;  // nothing fits for SACK after MSS+TS+WS+... = 20 -> 2 blocks
    full.mss = 1;
    full.wscale = 1;
    full.timestamps = std::make_pair(1u, 1u);
    full.sack_count = 4;
    EXPECT_EQ(full.sack_blocks_emitted(), 2u);
    EXPECT_EQ(full.size(), 40u);
}

TEST(Tcp, SackBlocksRoundTrip) {
    for (std::uint8_t n = 1; n <= 4; ++n) {
        TcpRepr r;
        r.flags = TcpFlags::ack;
        r.options.sack_count = n;
        for (std::uint8_t k = 0; k < n; ++k)
            r.options.sack[k] = SackBlock{SeqNum(1000u * k + 0xfffff000u), SeqNum(1000u * k + 0xfffff100u)};
        r.header_len = static_cast<std::uint16_t>(r.size());
        Buf b = make_segment(r, {});
        EXPECT_EQ(b[20], tcp_opt::nop);
        EXPECT_EQ(b[22], tcp_opt::sack);
        EXPECT_EQ(b[23], 2 + 8 * n);
        auto p = TcpRepr::parse(Bytes(b), kS, kD);
        ASSERT_TRUE(p);
        EXPECT_EQ(*p, r);
    }
}

TEST(Tcp, HandMadeOptionsParse) {
    // MSS 1460, NOP, WS 7, SACK-perm, unknown kind 254 len 4 (skipped),
    // TS 1/2, then EOL and garbage that must be ignored.
    Buf b = segment_with_options({2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 254, 4, 0xaa, 0xbb,
                                  8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0x55, 5, 0xff});
    ASSERT_EQ(b.size(), 48u);
    auto p = TcpRepr::parse(Bytes(b), kS, kD);
    ASSERT_TRUE(p) << to_string(p.error());
    EXPECT_EQ(p->options.mss, 1460);
    EXPECT_EQ(p->options.wscale, 7);
    EXPECT_TRUE(p->options.sack_permitted);
    EXPECT_EQ(p->options.timestamps, std::make_pair(1u, 2u));
    EXPECT_EQ(p->options.sack_count, 0);
    EXPECT_EQ(p->header_len, 48);
}

TEST(Tcp, KnownOptionsWithWrongLengthAreIgnored) {
    // MSS len 3 (+1 byte), WS len 4, SACK-perm len 3, SACK len 9, TS len 8.
    auto p = TcpRepr::parse(Bytes(segment_with_options({2, 3, 5, 3, 4, 1, 2, 4, 3, 0, 5, 9, 1, 2, 3, 4, 5, 6, 7,
                                                        8, 6, 1, 2, 3, 4, 0, 0, 0})),
                            kS, kD);
    ASSERT_TRUE(p) << to_string(p.error());
    EXPECT_FALSE(p->options.mss);
    EXPECT_FALSE(p->options.wscale);
    EXPECT_FALSE(p->options.sack_permitted);
    EXPECT_EQ(p->options.sack_count, 0);
    EXPECT_FALSE(p->options.timestamps);
}

TEST(Tcp, MalformedOptionLengths) {
    for (auto opts : {std::initializer_list<std::uint8_t>{2, 0, 0, 0},  // length 0
                      {2, 1, 0, 0},                                     // length 1
                      {254, 0, 0, 0},                                   // unknown, length 0
                      {2, 5, 0, 0},                                     // runs past the header
                      {1, 1, 1, 2},                                     // kind with no length byte
                      {1, 8, 10, 0},                                    // TS running past the end
                      {5, 34, 0, 0}}) {
        Buf b = segment_with_options(opts);
        auto p = TcpRepr::parse(Bytes(b), kS, kD);
        ASSERT_FALSE(p);
        EXPECT_EQ(p.error(), ParseError::bad_option);
        EXPECT_EQ(TcpRepr::parse_unchecked(Bytes(b)).error(), ParseError::bad_option);
    }
    // An option reaching exactly the end of the header is fine.
    EXPECT_TRUE(TcpRepr::parse(Bytes(segment_with_options({1, 1, 254, 2})), kS, kD));
}

TEST(Tcp, DataOffsetLies) {
    TcpRepr r;
    r.options.mss = 1400;
    Buf good = make_segment(r, rand_bytes(10));  // 24-byte header + 10
    for (std::uint8_t off = 0; off < 5; ++off) {
        Buf b = good;
        b[12] = static_cast<std::uint8_t>(off << 4);
        EXPECT_EQ(TcpRepr::parse(Bytes(b), kS, kD, false).error(), ParseError::bad_header_len) << int(off);
        EXPECT_EQ(TcpRepr::parse(Bytes(b), kS, kD, true).error(), ParseError::bad_header_len) << int(off);
    }
    Buf b = good;
    b[12] = 0xf0;  // 60 bytes > 34 available
    EXPECT_EQ(TcpRepr::parse(Bytes(b), kS, kD, false).error(), ParseError::bad_header_len);
    EXPECT_FALSE(TcpView(Bytes(b)).check_len());
    b[12] = 0x80;  // 32 bytes: within the buffer, options now include payload bytes
    EXPECT_EQ(TcpRepr::parse(Bytes(b), kS, kD).error(), ParseError::bad_checksum);
}

TEST(Tcp, BadChecksum) {
    TcpRepr r = random_tcp();
    Buf b = make_segment(r, rand_bytes(21));
    for (std::size_t i = 0; i < b.size(); ++i) {
        if (i == 12) continue;  // data offset: may become a length error
        Buf c = b;
        c[i] ^= 0x08;
        auto p = TcpRepr::parse(Bytes(c), kS, kD);
        ASSERT_FALSE(p) << i;
        EXPECT_EQ(p.error(), ParseError::bad_checksum) << i;
    }
    EXPECT_EQ(TcpRepr::parse(Bytes(b), kS, Ipv4Addr::of(198, 18, 0, 3)).error(), ParseError::bad_checksum);
}

TEST(Tcp, EveryTruncationFails) {
    Buf seg = captured_segment(Bytes(wirecap::kTcpSyn), wirecap::kTcpSynCorrect);
    for (std::size_t n = 0; n < seg.size(); ++n) {
        auto p = TcpRepr::parse_unchecked(sub(seg, 0, n));
        ASSERT_FALSE(p) << n;
        EXPECT_EQ(p.error(), n < 20 ? ParseError::truncated : ParseError::bad_header_len);
        ASSERT_FALSE(TcpRepr::parse(sub(seg, 0, n), kLo, kLo)) << n;
    }
    // With payload: dropping payload bytes is caught by the checksum.
    Buf data = captured_segment(Bytes(wirecap::kTcpData), wirecap::kTcpDataCorrect);
    for (std::size_t n = 0; n < data.size(); ++n) ASSERT_FALSE(TcpRepr::parse(sub(data, 0, n), kLo, kLo)) << n;
}
