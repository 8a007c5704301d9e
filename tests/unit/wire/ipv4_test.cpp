// IPv4 and ICMPv4: captured frames byte for byte, round trips, length lies,
// option walking, checksums and every truncation.
#include <gtest/gtest.h>

#include "captures.hpp"
#include "wire/checksum.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmpv4.hpp"
#include "wire/ipv4.hpp"
#include "wire_test_util.hpp"

using namespace uinet;
using namespace uinet::wire;
using namespace wiretest;

namespace {

const Ipv4Addr kLo = Ipv4Addr::of(127, 0, 0, 1);

Ipv4Repr random_ipv4() {
    Ipv4Repr r;
    r.src = Ipv4Addr(rand32());
    r.dst = Ipv4Addr(rand32());
    r.protocol = rand8();
    r.ttl = rand8();
    r.tos = rand8();
    r.ident = rand16();
    r.dont_frag = rand8() & 1;
    r.more_frags = rand8() & 1;
    r.frag_offset = static_cast<std::uint16_t>(rand16() & 0xfff8);
    r.payload_len = static_cast<std::uint16_t>(rand_below(1500));
    return r;
}

// A 20-byte header for a packet of `payload` bytes, checksum set, payload 0xaa.
Buf make_packet(const Ipv4Repr& r) {
    Buf b(r.size() + r.payload_len, 0xaa);
    r.emit(MutBytes(b));
    return b;
}

void fix_checksum(Buf& b) {
    std::size_t hl = std::size_t{static_cast<std::uint8_t>(b[0] & 0x0f)} * 4;
    b[10] = b[11] = 0;
    store_be16(b.data() + 10, internet_checksum(sub(b, 0, std::min(hl, b.size()))));
}

}  // namespace

TEST(Ipv4, ParsesCapturedEchoRequest) {
    Buf f = to_buf(wirecap::kIcmp4EchoRequest);
    Bytes ip = sub(f, kEthHeaderLen);
    auto r = Ipv4Repr::parse(ip);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->src, kLo);
    EXPECT_EQ(r->dst, kLo);
    EXPECT_EQ(r->protocol, ip_proto::icmp);
    EXPECT_EQ(r->ttl, 64);
    EXPECT_EQ(r->ident, 0xaf2c);  // "id 44844"
    EXPECT_TRUE(r->dont_frag);
    EXPECT_FALSE(r->is_fragment());
    EXPECT_EQ(r->header_len, 20);
    EXPECT_EQ(r->payload_len, 108);
    EXPECT_EQ(r->total_len(), 128u);

    // Emitting the decoded value reproduces the captured header exactly,
    // checksum included.
    Buf out(r->size());
    r->emit(MutBytes(out));
    EXPECT_EQ(out, Buf(ip.begin(), ip.begin() + 20));

    Ipv4View v(ip);
    ASSERT_TRUE(v.check_len());
    EXPECT_TRUE(v.checksum_ok());
    EXPECT_EQ(v.checksum(), 0x8d4e);
    EXPECT_EQ(v.payload().size(), 108u);
    EXPECT_EQ(v.options().size(), 0u);
}

TEST(Ipv4, ParsesEveryCapturedFrame) {
    for (Bytes f : {Bytes(wirecap::kIcmp4EchoReply), Bytes(wirecap::kUdp4Datagram), Bytes(wirecap::kTcpSyn),
                    Bytes(wirecap::kTcpSynAck), Bytes(wirecap::kTcpData), Bytes(wirecap::kTcpFin)}) {
        auto e = EthernetRepr::parse(f);
        ASSERT_TRUE(e);
        EXPECT_EQ(e->ethertype, ethertype::ipv4);
        auto r = Ipv4Repr::parse(f.subspan(kEthHeaderLen));
        ASSERT_TRUE(r);
        EXPECT_EQ(r->total_len(), f.size() - kEthHeaderLen);
        Buf out(20);
        r->emit(MutBytes(out));
        EXPECT_TRUE(std::equal(out.begin(), out.end(), f.begin() + kEthHeaderLen));
    }
}

TEST(Ipv4, RoundTrip) {
    for (int i = 0; i < 500; ++i) {
        Ipv4Repr r = random_ipv4();
        Buf b = make_packet(r);
        auto p = Ipv4Repr::parse(Bytes(b));
        ASSERT_TRUE(p) << to_string(p.error());
        EXPECT_EQ(*p, r);
        EXPECT_EQ(p->is_fragment(), r.more_frags || r.frag_offset != 0);
    }
}

TEST(Ipv4, FragmentFields) {
    Ipv4Repr r;
    r.protocol = ip_proto::udp;
    r.more_frags = true;
    r.frag_offset = 1480;
    r.payload_len = 8;
    Buf b = make_packet(r);
    EXPECT_EQ(load_be16(b.data() + 6), 0x2000 | (1480 / 8));
    Ipv4View v{Bytes(b)};
    EXPECT_EQ(v.frag_offset(), 1480);
    EXPECT_TRUE(v.is_fragment());
    EXPECT_TRUE(Ipv4Repr::parse(Bytes(b))->is_fragment());
}

TEST(Ipv4, AllowsLinkPaddingAfterTotalLength) {
    Ipv4Repr r;
    r.protocol = ip_proto::tcp;
    r.payload_len = 6;
    Buf b = make_packet(r);
    b.resize(46, 0);  // minimum Ethernet payload
    auto p = Ipv4Repr::parse(Bytes(b));
    ASSERT_TRUE(p);
    EXPECT_EQ(p->payload_len, 6);
    EXPECT_EQ(Ipv4View(Bytes(b)).payload().size(), 6u);
}

TEST(Ipv4, LengthLies) {
    Ipv4Repr r;
    r.payload_len = 20;
    const Buf good = make_packet(r);

    Buf b = good;  // total length larger than the buffer
    store_be16(b.data() + 2, 41);
    fix_checksum(b);
    EXPECT_EQ(Ipv4Repr::parse(Bytes(b)).error(), ParseError::bad_length);

    b = good;  // total length smaller than the header
    store_be16(b.data() + 2, 19);
    fix_checksum(b);
    EXPECT_EQ(Ipv4Repr::parse(Bytes(b)).error(), ParseError::bad_length);
    store_be16(b.data() + 2, 0);
    fix_checksum(b);
    EXPECT_EQ(Ipv4Repr::parse(Bytes(b)).error(), ParseError::bad_length);

    for (std::uint8_t ihl = 0; ihl < 5; ++ihl) {  // IHL < 5
        b = good;
        b[0] = static_cast<std::uint8_t>(0x40 | ihl);
        EXPECT_EQ(Ipv4Repr::parse(Bytes(b)).error(), ParseError::bad_header_len) << int(ihl);
    }

    b = good;  // IHL*4 (60) past a 40-byte buffer
    b[0] = 0x4f;
    EXPECT_EQ(Ipv4Repr::parse(Bytes(b)).error(), ParseError::bad_header_len);

    b = good;  // IHL larger than total length but within the buffer
    b[0] = 0x46;
    store_be16(b.data() + 2, 22);
    b[20] = b[21] = b[22] = b[23] = ipv4_opt::nop;
    fix_checksum(b);
    EXPECT_EQ(Ipv4Repr::parse(Bytes(b)).error(), ParseError::bad_length);
}

TEST(Ipv4, RejectsOtherVersions) {
    Buf b = make_packet(Ipv4Repr{});
    for (std::uint8_t ver : {0, 6, 15}) {
        b[0] = static_cast<std::uint8_t>((ver << 4) | 5);
        EXPECT_EQ(Ipv4Repr::parse(Bytes(b)).error(), ParseError::bad_version);
    }
}

TEST(Ipv4, BadChecksum) {
    Buf b = make_packet(random_ipv4());
    for (std::size_t byte = 0; byte < 20; ++byte) {
        if (byte == 0 || byte == 2 || byte == 3) continue;  // would change lengths
        Buf c = b;
        c[byte] ^= 0x10;
        auto p = Ipv4Repr::parse(Bytes(c));
        ASSERT_FALSE(p) << byte;
        EXPECT_EQ(p.error(), ParseError::bad_checksum);
        EXPECT_TRUE(Ipv4Repr::parse(Bytes(c), /*verify_checksum=*/false)) << byte;
    }
}

TEST(Ipv4, OptionsAreSkippedAndReported) {
    // IHL 7: NOP, Record Route (7, len 7, ptr 4, one empty slot); 4 data bytes.
    Ipv4Repr r;
    r.protocol = ip_proto::udp;
    Buf b(20);
    r.emit(MutBytes(b));
    b.insert(b.end(), {ipv4_opt::nop, 7, 7, 4, 0, 0, 0, 0, 0x55, 0x55, 0x55, 0x55});
    b[0] = 0x47;
    store_be16(b.data() + 2, 32);
    fix_checksum(b);
    auto p = Ipv4Repr::parse(Bytes(b));
    ASSERT_TRUE(p) << to_string(p.error());
    EXPECT_EQ(p->header_len, 28);
    EXPECT_EQ(p->payload_len, 4);
    EXPECT_EQ(Ipv4View(Bytes(b)).options().size(), 8u);
    EXPECT_EQ(Ipv4View(Bytes(b)).payload()[0], 0x55);
}

TEST(Ipv4, MalformedOptions) {
    auto with_options = [](std::initializer_list<std::uint8_t> opts) {
        Buf b(20);
        Ipv4Repr{}.emit(MutBytes(b));
        b.insert(b.end(), opts);
        b[0] = static_cast<std::uint8_t>(0x40 | (b.size() / 4));
        store_be16(b.data() + 2, static_cast<std::uint16_t>(b.size()));
        fix_checksum(b);
        return b;
    };
    EXPECT_TRUE(Ipv4Repr::parse(Bytes(with_options({1, 1, 1, 0}))));
    EXPECT_TRUE(Ipv4Repr::parse(Bytes(with_options({0, 0xff, 0xff, 0xff}))));  // after EOL: padding
    EXPECT_TRUE(Ipv4Repr::parse(Bytes(with_options({0x94, 4, 0, 0}))));       // router alert
    EXPECT_EQ(Ipv4Repr::parse(Bytes(with_options({7, 0, 0, 0}))).error(), ParseError::bad_option);
    EXPECT_EQ(Ipv4Repr::parse(Bytes(with_options({7, 1, 0, 0}))).error(), ParseError::bad_option);
    EXPECT_EQ(Ipv4Repr::parse(Bytes(with_options({7, 5, 0, 0}))).error(), ParseError::bad_option);
    EXPECT_EQ(Ipv4Repr::parse(Bytes(with_options({1, 1, 1, 7}))).error(), ParseError::bad_option);
    EXPECT_EQ(Ipv4Repr::parse(Bytes(with_options({1, 1, 3, 3}))).error(), ParseError::bad_option);
}

TEST(Ipv4, EveryTruncationFails) {
    Buf f = to_buf(wirecap::kIcmp4EchoRequest);
    Buf ip(f.begin() + kEthHeaderLen, f.end());
    for (std::size_t n = 0; n < ip.size(); ++n) {
        auto p = Ipv4Repr::parse(sub(ip, 0, n));
        ASSERT_FALSE(p) << n;
        EXPECT_EQ(p.error(), n < 20 ? ParseError::truncated : ParseError::bad_length) << n;
        EXPECT_FALSE(Ipv4View(sub(ip, 0, n)).check_len()) << n;
    }
}

TEST(Icmpv4, ParsesCapturedEcho) {
    for (Bytes f : {Bytes(wirecap::kIcmp4EchoRequest), Bytes(wirecap::kIcmp4EchoReply)}) {
        Bytes msg = f.subspan(kEthHeaderLen + 20);
        auto m = Icmpv4Repr::parse(msg);
        ASSERT_TRUE(m);
        EXPECT_EQ(m->echo_ident(), 5828);
        EXPECT_EQ(m->echo_seq(), 1);
        EXPECT_EQ(m->code, 0);
        EXPECT_FALSE(m->is_error());

        Buf out(8);
        m->emit(MutBytes(out), msg.subspan(8));
        EXPECT_TRUE(std::equal(out.begin(), out.end(), msg.begin()));
    }
    EXPECT_EQ(Icmpv4Repr::parse(Bytes(wirecap::kIcmp4EchoRequest).subspan(34))->type, icmpv4_type::echo_request);
    EXPECT_EQ(Icmpv4Repr::parse(Bytes(wirecap::kIcmp4EchoReply).subspan(34))->type, icmpv4_type::echo_reply);
}

TEST(Icmpv4, ScatteredChecksumEqualsContiguous) {
    Bytes msg = Bytes(wirecap::kIcmp4EchoRequest).subspan(34);
    Icmpv4Repr m = *Icmpv4Repr::parse(msg);
    Bytes data = msg.subspan(8);  // 100 bytes
    const Bytes pieces[] = {data.first(3), data.subspan(3, 0), data.subspan(3, 51), data.subspan(54)};
    EXPECT_EQ(icmpv4_checksum(m, pieces), load_be16(msg.data() + 2));
}

TEST(Icmpv4, RoundTripErrorsAndFragNeeded) {
    const Buf quoted = rand_bytes(28);
    for (Icmpv4Repr m : {Icmpv4Repr{icmpv4_type::dest_unreachable, icmpv4_code::frag_needed, 1400},
                         Icmpv4Repr{icmpv4_type::dest_unreachable, icmpv4_code::port_unreachable, 0},
                         Icmpv4Repr{icmpv4_type::time_exceeded, icmpv4_code::reassembly_exceeded, 0},
                         Icmpv4Repr{icmpv4_type::param_problem, 0, 0x0c000000u},
                         Icmpv4Repr{icmpv4_type::echo_request, 0, Icmpv4Repr::echo_rest(7, 9)}}) {
        Buf b(8 + quoted.size());
        std::copy(quoted.begin(), quoted.end(), b.begin() + 8);
        m.emit(MutBytes(b), sub(b, 8));
        auto p = Icmpv4Repr::parse(Bytes(b));
        ASSERT_TRUE(p);
        EXPECT_EQ(*p, m);
    }
    EXPECT_EQ((Icmpv4Repr{3, 4, 1400}.next_hop_mtu()), 1400);
    EXPECT_TRUE((Icmpv4Repr{3, 4, 1400}.is_error()));
}

TEST(Icmpv4, BadChecksumAndTruncation) {
    Buf msg(wirecap::kIcmp4EchoRequest + 34, wirecap::kIcmp4EchoRequest + sizeof wirecap::kIcmp4EchoRequest);
    for (std::size_t i = 0; i < msg.size(); i += 7) {
        Buf c = msg;
        c[i] ^= 0x01;
        EXPECT_EQ(Icmpv4Repr::parse(Bytes(c)).error(), ParseError::bad_checksum) << i;
        EXPECT_TRUE(Icmpv4Repr::parse(Bytes(c), false));
    }
    for (std::size_t n = 0; n < 8; ++n) {
        auto p = Icmpv4Repr::parse(sub(msg, 0, n), false);
        ASSERT_FALSE(p);
        EXPECT_EQ(p.error(), ParseError::truncated);
    }
    // Dropping data bytes breaks the checksum over the whole message.
    EXPECT_EQ(Icmpv4Repr::parse(sub(msg, 0, msg.size() - 1)).error(), ParseError::bad_checksum);
}
