// UDP over IPv4 and IPv6: captured datagrams, checksum rules of RFC 768 and
// RFC 8200, length lies and truncations.
#include <gtest/gtest.h>

#include <string_view>

#include "captures.hpp"
#include "wire/checksum.hpp"
#include "wire/ipv4.hpp"
#include "wire/udp.hpp"
#include "wire_test_util.hpp"

using namespace uinet;
using namespace uinet::wire;
using namespace wiretest;

namespace {

const Ipv4Addr kLo = Ipv4Addr::of(127, 0, 0, 1);
const Ipv4Addr kS = Ipv4Addr::of(198, 18, 0, 1);
const Ipv4Addr kD = Ipv4Addr::of(198, 18, 0, 2);
Ipv6Addr v6(const char* s) { return *Ipv6Addr::parse(s); }

// The datagram with a valid checksum.
Buf make_dgram(UdpRepr r, const Buf& payload, Ipv4Addr s = kS, Ipv4Addr d = kD) {
    r.length = static_cast<std::uint16_t>(8 + payload.size());
    Buf b(8 + payload.size());
    for (std::size_t i = 0; i < payload.size(); ++i) b[8 + i] = payload[i];
    r.emit(MutBytes(b), sub(b, 8), s, d);
    return b;
}

}  // namespace

TEST(Udp, CapturedV4DatagramByteExact) {
    Buf f = to_buf(wirecap::kUdp4Datagram);
    Buf d(f.begin() + 34, f.end());
    // Loopback offload left the pseudo-header partial sum in the field.
    EXPECT_EQ(load_be16(d.data() + 6), pseudo_partial_v4(kLo, kLo, ip_proto::udp, 26));
    EXPECT_EQ(UdpRepr::parse(Bytes(d), kLo, kLo).error(), ParseError::bad_checksum);
    auto r = UdpRepr::parse(Bytes(d), kLo, kLo, /*verify=*/false);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->src_port, Port(43615));
    EXPECT_EQ(r->dst_port, Port(5555));
    EXPECT_EQ(r->length, 26);
    EXPECT_EQ(r->payload_len(), 18u);
    UdpView v{Bytes(d)};
    ASSERT_TRUE(v.check_len());
    EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(v.payload().data()), v.payload().size()),
              "hello, uinet wire!");

    // Our checksum equals the one tcpdump computed, and emitting gives the
    // captured bytes with that checksum in place.
    Buf out(8);
    r->emit(MutBytes(out), v.payload(), kLo, kLo);
    EXPECT_EQ(load_be16(out.data() + 6), wirecap::kUdp4Correct);
    store_be16(d.data() + 6, wirecap::kUdp4Correct);
    EXPECT_TRUE(std::equal(out.begin(), out.end(), d.begin()));
    EXPECT_TRUE(UdpRepr::parse(Bytes(d), kLo, kLo));
    EXPECT_EQ(UdpRepr::parse(Bytes(d), kLo, kS).error(), ParseError::bad_checksum);
}

TEST(Udp, CapturedV6DatagramByteExact) {
    Buf f = to_buf(wirecap::kUdp6Datagram);
    Buf d(f.begin() + 54, f.end());
    const Ipv6Addr lo = v6("::1");
    EXPECT_EQ(load_be16(d.data() + 6), pseudo_partial_v6(lo, lo, ip_proto::udp, 11));
    auto r = UdpRepr::parse(Bytes(d), lo, lo, false);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->dst_port, Port(5556));
    EXPECT_EQ(r->length, 11);
    Buf out(8);
    r->emit(MutBytes(out), sub(d, 8), lo, lo);
    EXPECT_EQ(load_be16(out.data() + 6), wirecap::kUdp6Correct);
    store_be16(d.data() + 6, wirecap::kUdp6Correct);
    EXPECT_TRUE(std::equal(out.begin(), out.end(), d.begin()));
    EXPECT_TRUE(UdpRepr::parse(Bytes(d), lo, lo));
}

TEST(Udp, RoundTripV4AndV6) {
    const Ipv6Addr s6 = v6("2001:db8::1"), d6 = v6("2001:db8::2");
    for (int i = 0; i < 300; ++i) {
        UdpRepr r{Port(rand16()), Port(rand16()), 0};
        Buf payload = rand_bytes(rand_below(100));
        r.length = static_cast<std::uint16_t>(8 + payload.size());
        Buf b = make_dgram(r, payload);
        auto p = UdpRepr::parse(Bytes(b), kS, kD);
        ASSERT_TRUE(p);
        EXPECT_EQ(*p, r);
        EXPECT_NE(load_be16(b.data() + 6), 0);

        Buf b6 = b;
        r.emit(MutBytes(b6), sub(b6, 8), s6, d6);
        auto p6 = UdpRepr::parse(Bytes(b6), s6, d6);
        ASSERT_TRUE(p6);
        EXPECT_EQ(*p6, r);
    }
}

TEST(Udp, ScatteredChecksumEqualsContiguous) {
    Buf payload = rand_bytes(101);
    UdpRepr r{Port(1), Port(2), static_cast<std::uint16_t>(8 + payload.size())};
    Buf b = make_dgram(r, payload);
    const Bytes pieces[] = {sub(payload, 0, 1), sub(payload, 1, 33), sub(payload, 34, 0), sub(payload, 34)};
    EXPECT_EQ(udp_checksum_v4(r, kS, kD, pieces), load_be16(b.data() + 6));
    Buf h(8);
    r.emit_header_only(MutBytes(h), udp_checksum_v4(r, kS, kD, pieces));
    EXPECT_TRUE(std::equal(h.begin(), h.end(), b.begin()));
}

TEST(Udp, ComputedZeroIsSentAsAllOnes) {
    // Choose the last two payload bytes so the checksum computes to zero.
    UdpRepr r{Port(1000), Port(2000), 8 + 6};
    Buf payload = {1, 2, 3, 4, 0, 0};
    Checksum c;
    add_pseudo_v4(c, kS, kD, ip_proto::udp, r.length);
    std::uint8_t h[8];
    r.emit_header_only(MutBytes(h, 8), 0);
    c.add(Bytes(h, 8));
    c.add(Bytes(payload));
    store_be16(payload.data() + 4, static_cast<std::uint16_t>(~c.sum()));
    Checksum check;
    add_pseudo_v4(check, kS, kD, ip_proto::udp, r.length);
    check.add(Bytes(h, 8));
    check.add(Bytes(payload));
    ASSERT_EQ(check.finish(), 0);  // the RFC 768 corner case is set up

    Buf b = make_dgram(r, payload);
    EXPECT_EQ(load_be16(b.data() + 6), 0xffff);
    EXPECT_TRUE(UdpRepr::parse(Bytes(b), kS, kD));
}

TEST(Udp, ZeroChecksumMeansNoneOnlyOverIpv4) {
    Buf b = make_dgram(UdpRepr{Port(7), Port(9), 0}, rand_bytes(10));
    store_be16(b.data() + 6, 0);
    EXPECT_TRUE(UdpRepr::parse(Bytes(b), kS, kD));
    EXPECT_TRUE(UdpRepr::parse(Bytes(b), Ipv4Addr::of(1, 1, 1, 1), kD));  // not checked at all
    const Ipv6Addr s6 = v6("fe80::1"), d6 = v6("fe80::2");
    EXPECT_EQ(UdpRepr::parse(Bytes(b), s6, d6).error(), ParseError::bad_checksum);
    EXPECT_TRUE(UdpRepr::parse(Bytes(b), s6, d6, false));
}

TEST(Udp, BadChecksum) {
    Buf b = make_dgram(UdpRepr{Port(7), Port(9), 0}, rand_bytes(33));
    for (std::size_t i = 0; i < b.size(); ++i) {
        if (i == 4 || i == 5) continue;  // the length field: may become bad_length
        Buf c = b;
        c[i] ^= 0x40;
        auto p = UdpRepr::parse(Bytes(c), kS, kD);
        ASSERT_FALSE(p) << i;
        EXPECT_EQ(p.error(), ParseError::bad_checksum) << i;
    }
}

TEST(Udp, LengthLies) {
    Buf b = make_dgram(UdpRepr{Port(7), Port(9), 0}, rand_bytes(12));
    for (std::uint16_t len : {0, 1, 7, 21, 0xffff}) {
        Buf c = b;
        store_be16(c.data() + 4, len);
        auto p = UdpRepr::parse(Bytes(c), kS, kD, false);
        ASSERT_FALSE(p) << len;
        EXPECT_EQ(p.error(), ParseError::bad_length) << len;
        EXPECT_FALSE(UdpView(Bytes(c)).check_len());
    }
    // Bytes past the length field (e.g. IP padding) are not part of the datagram.
    Buf c = b;
    c.insert(c.end(), {0xde, 0xad, 0xbe});
    auto p = UdpRepr::parse(Bytes(c), kS, kD);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->length, 20);
    EXPECT_EQ(UdpView(Bytes(c)).payload().size(), 12u);
}

TEST(Udp, EveryTruncationFails) {
    Buf b = make_dgram(UdpRepr{Port(7), Port(9), 0}, rand_bytes(12));
    for (std::size_t n = 0; n < b.size(); ++n) {
        for (bool verify : {true, false}) {
            auto p = UdpRepr::parse(sub(b, 0, n), kS, kD, verify);
            ASSERT_FALSE(p) << n;
            EXPECT_EQ(p.error(), n < 8 ? ParseError::truncated : ParseError::bad_length) << n;
            auto p6 = UdpRepr::parse(sub(b, 0, n), v6("::1"), v6("::2"), verify);
            ASSERT_FALSE(p6) << n;
        }
    }
}
