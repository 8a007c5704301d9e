// IPv6 fixed header and ICMPv6: captured frames byte for byte, round trips,
// the pseudo-header checksum, length lies and truncations.
#include <gtest/gtest.h>

#include "captures.hpp"
#include "wire/ethernet.hpp"
#include "wire/icmpv6.hpp"
#include "wire/ipv4.hpp"
#include "wire/ipv6.hpp"
#include "wire/udp.hpp"
#include "wire_test_util.hpp"

using namespace uinet;
using namespace uinet::wire;
using namespace wiretest;

namespace {
const Ipv6Addr kLo6 = *Ipv6Addr::parse("::1");
}

TEST(Ipv6, ParsesCapturedEchoRequest) {
    Bytes f(wirecap::kIcmp6EchoRequest);
    ASSERT_EQ(EthernetRepr::parse(f)->ethertype, ethertype::ipv6);
    Bytes ip = f.subspan(kEthHeaderLen);
    auto r = Ipv6Repr::parse(ip);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->src, kLo6);
    EXPECT_EQ(r->dst, kLo6);
    EXPECT_EQ(r->next_header, ip_proto::ipv6_icmp);
    EXPECT_EQ(r->hop_limit, 64);
    EXPECT_EQ(r->traffic_class, 0);
    EXPECT_EQ(r->flow_label, 0xc339du);  // "flowlabel 0xc339d"
    EXPECT_EQ(r->payload_len, 28);
    Buf out(Ipv6Repr::size());
    r->emit(MutBytes(out));
    EXPECT_TRUE(std::equal(out.begin(), out.end(), ip.begin()));

    Ipv6View v(ip);
    ASSERT_TRUE(v.check_len());
    EXPECT_EQ(v.payload().size(), 28u);
    EXPECT_EQ(v.version(), 6);
}

TEST(Ipv6, RoundTrip) {
    for (int i = 0; i < 300; ++i) {
        Ipv6Repr r;
        r.src = Ipv6Addr::from_bytes(rand_bytes(16).data());
        r.dst = Ipv6Addr::from_bytes(rand_bytes(16).data());
        r.next_header = rand8();
        r.hop_limit = rand8();
        r.traffic_class = rand8();
        r.flow_label = rand32() & 0xfffff;
        r.payload_len = static_cast<std::uint16_t>(rand_below(200));
        Buf b(40 + r.payload_len);
        r.emit(MutBytes(b));
        auto p = Ipv6Repr::parse(Bytes(b));
        ASSERT_TRUE(p);
        EXPECT_EQ(*p, r);
        Ipv6View v{Bytes(b)};
        EXPECT_EQ(v.traffic_class(), r.traffic_class);
        EXPECT_EQ(v.flow_label(), r.flow_label);
    }
}

TEST(Ipv6, LengthLiesAndVersion) {
    Ipv6Repr r;
    r.payload_len = 10;
    Buf b(50);
    r.emit(MutBytes(b));
    ASSERT_TRUE(Ipv6Repr::parse(Bytes(b)));
    store_be16(b.data() + 4, 11);
    EXPECT_EQ(Ipv6Repr::parse(Bytes(b)).error(), ParseError::bad_length);
    store_be16(b.data() + 4, 0xffff);
    EXPECT_EQ(Ipv6Repr::parse(Bytes(b)).error(), ParseError::bad_length);
    store_be16(b.data() + 4, 4);  // shorter than the buffer: trailing link padding
    EXPECT_EQ(Ipv6Repr::parse(Bytes(b))->payload_len, 4);
    b[0] = 0x45;
    EXPECT_EQ(Ipv6Repr::parse(Bytes(b)).error(), ParseError::bad_version);
}

TEST(Ipv6, EveryTruncationFails) {
    Bytes ip = Bytes(wirecap::kIcmp6EchoRequest).subspan(kEthHeaderLen);
    for (std::size_t n = 0; n < ip.size(); ++n) {
        auto p = Ipv6Repr::parse(ip.first(n));
        ASSERT_FALSE(p) << n;
        EXPECT_EQ(p.error(), n < 40 ? ParseError::truncated : ParseError::bad_length);
    }
}

TEST(Icmpv6, ParsesCapturedEchoByteExact) {
    for (Bytes f : {Bytes(wirecap::kIcmp6EchoRequest), Bytes(wirecap::kIcmp6EchoReply)}) {
        Bytes msg = f.subspan(54);
        auto m = Icmpv6Repr::parse(msg, kLo6, kLo6);
        ASSERT_TRUE(m);
        EXPECT_EQ(m->echo_ident(), 5829);
        EXPECT_EQ(m->echo_seq(), 1);
        EXPECT_FALSE(m->is_error());
        Buf out(8);
        m->emit(MutBytes(out), msg.subspan(8), kLo6, kLo6);
        EXPECT_TRUE(std::equal(out.begin(), out.end(), msg.begin()));
        const Bytes pieces[] = {msg.subspan(8, 5), msg.subspan(13)};
        EXPECT_EQ(icmpv6_checksum(*m, kLo6, kLo6, pieces), load_be16(msg.data() + 2));
        // The pseudo header matters.
        EXPECT_EQ(Icmpv6Repr::parse(msg, kLo6, *Ipv6Addr::parse("::2")).error(), ParseError::bad_checksum);
        EXPECT_TRUE(Icmpv6Repr::parse(msg, kLo6, *Ipv6Addr::parse("::2"), false));
    }
    EXPECT_EQ(Icmpv6Repr::parse(Bytes(wirecap::kIcmp6EchoRequest).subspan(54), kLo6, kLo6)->type,
              icmpv6_type::echo_request);
    EXPECT_EQ(Icmpv6Repr::parse(Bytes(wirecap::kIcmp6EchoReply).subspan(54), kLo6, kLo6)->type,
              icmpv6_type::echo_reply);
}

TEST(Icmpv6, CapturedPortUnreachableQuotesTheDatagram) {
    Bytes f(wirecap::kIcmp6PortUnreachable);
    auto ip = Ipv6Repr::parse(f.subspan(14));
    ASSERT_TRUE(ip);
    Bytes msg = f.subspan(54, ip->payload_len);
    auto m = Icmpv6Repr::parse(msg, ip->src, ip->dst);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->type, icmpv6_type::dest_unreachable);
    EXPECT_EQ(m->code, icmpv6_code::port_unreachable);
    EXPECT_TRUE(m->is_error());
    // The quoted packet is the UDP6 datagram captured just before it.
    auto inner = Ipv6Repr::parse(msg.subspan(8));
    ASSERT_TRUE(inner);
    EXPECT_EQ(inner->next_header, ip_proto::udp);
    auto udp = UdpRepr::parse(msg.subspan(48), inner->src, inner->dst, false);
    ASSERT_TRUE(udp);
    EXPECT_EQ(udp->dst_port, Port(5556));
    EXPECT_TRUE(std::equal(msg.begin() + 8, msg.end(), std::begin(wirecap::kUdp6Datagram) + 14));
}

TEST(Icmpv6, RoundTripAndCorruption) {
    const Ipv6Addr s = *Ipv6Addr::parse("fe80::1"), d = *Ipv6Addr::parse("ff02::1:ff00:2");
    for (int i = 0; i < 100; ++i) {
        Icmpv6Repr m{rand8(), rand8(), rand32()};
        Buf b(8 + rand_below(40));
        for (std::size_t k = 8; k < b.size(); ++k) b[k] = rand8();
        m.emit(MutBytes(b), sub(b, 8), s, d);
        auto p = Icmpv6Repr::parse(Bytes(b), s, d);
        ASSERT_TRUE(p);
        EXPECT_EQ(*p, m);
        b[rand_below(b.size())] ^= 0x20;
        EXPECT_EQ(Icmpv6Repr::parse(Bytes(b), s, d).error(), ParseError::bad_checksum);
    }
    for (std::size_t n = 0; n < 8; ++n) {
        Buf b(n);
        EXPECT_EQ(Icmpv6Repr::parse(Bytes(b), s, d, false).error(), ParseError::truncated);
        EXPECT_EQ(Icmpv6Repr::parse(Bytes(b), s, d, true).error(), ParseError::truncated);
    }
}
