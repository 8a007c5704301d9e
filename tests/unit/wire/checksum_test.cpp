// Checksum accumulator: RFC 1071 known values, scattered odd pieces, word
// helpers after odd offsets, pseudo headers and RFC 1624 updates.
#include "wire/checksum.hpp"

#include <gtest/gtest.h>

#include "wire/error.hpp"
#include "wire_test_util.hpp"

using namespace uinet;
using namespace uinet::wire;
using namespace wiretest;

TEST(Checksum, Rfc1071Example) {
    // RFC 1071 section 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to 0xddf2.
    const std::uint8_t d[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    Checksum c;
    c.add(Bytes(d));
    EXPECT_EQ(c.sum(), 0xddf2);
    EXPECT_EQ(c.finish(), 0x220d);
    EXPECT_EQ(internet_checksum(Bytes(d)), 0x220d);
}

TEST(Checksum, EmptyAndZeros) {
    EXPECT_EQ(internet_checksum(Bytes()), 0xffff);
    const std::uint8_t z[7] = {};
    EXPECT_EQ(internet_checksum(Bytes(z)), 0xffff);
    Checksum c;
    EXPECT_EQ(c.sum(), 0);
    EXPECT_EQ(c.finish(), 0xffff);
}

TEST(Checksum, OddLengthPadsWithZero) {
    const std::uint8_t d[] = {0x12, 0x34, 0x56};
    EXPECT_EQ(internet_checksum(Bytes(d)), static_cast<std::uint16_t>(~(0x1234 + 0x5600)));
}

TEST(Checksum, MatchesReferenceAtAllLengthsAndAlignments) {
    Buf big = rand_bytes(600);
    for (std::size_t off = 0; off < 8; ++off) {
        for (std::size_t n = 0; n + off <= 300; ++n) {
            Buf piece(big.begin() + static_cast<long>(off), big.begin() + static_cast<long>(off + n));
            ASSERT_EQ(internet_checksum(Bytes(big.data() + off, n)), ref_checksum(piece))
                << "off " << off << " len " << n;
        }
    }
}

TEST(Checksum, AllOnesAndCarryHeavyInput) {
    // Every 64-bit add carries; a lost carry shows up here.
    Buf ff(65535 + 1, 0xff);
    for (std::size_t n : {1u, 2u, 7u, 8u, 9u, 31u, 32u, 33u, 1500u, 65535u, 65536u})
        EXPECT_EQ(internet_checksum(Bytes(ff.data(), n)), ref_sum(ff.data(), n) ^ 0xffff) << n;
    Buf b(4096);
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(i % 3 ? 0xff : 0xfe);
    EXPECT_EQ(internet_checksum(Bytes(b)), ref_checksum(b));
}

TEST(Checksum, ScatteredOddPiecesEqualContiguous) {
    for (int round = 0; round < 500; ++round) {
        Buf b = rand_bytes(rand_below(400));
        Checksum whole;
        whole.add(Bytes(b));
        Checksum pieces;
        std::size_t pos = 0;
        while (pos < b.size()) {
            std::size_t n = std::min(b.size() - pos, rand_below(12));  // includes 0 and odd sizes
            pieces.add(Bytes(b.data() + pos, n));
            pos += n;
        }
        ASSERT_EQ(pieces.finish(), whole.finish()) << "round " << round;
        ASSERT_EQ(pieces.sum(), whole.sum());
        ASSERT_EQ(whole.finish(), ref_checksum(b));
    }
}

TEST(Checksum, OneBytePiecesEqualContiguous) {
    Buf b = rand_bytes(77);
    Checksum c;
    for (std::uint8_t x : b) c.add(Bytes(&x, 1));
    EXPECT_EQ(c.finish(), ref_checksum(b));
}

TEST(Checksum, Add16And32AsIfBytes) {
    // After an odd piece, add16/add32 must straddle correctly.
    const std::uint8_t head[] = {0xab, 0xcd, 0xef};
    Checksum a;
    a.add(Bytes(head));
    a.add16(0x1234);
    a.add32(0x89abcdefu);
    const std::uint8_t flat[] = {0xab, 0xcd, 0xef, 0x12, 0x34, 0x89, 0xab, 0xcd, 0xef};
    EXPECT_EQ(a.finish(), internet_checksum(Bytes(flat)));

    Checksum b;
    b.add16(0x0102);
    b.add32(0x03040506u);
    const std::uint8_t flat2[] = {1, 2, 3, 4, 5, 6};
    EXPECT_EQ(b.finish(), internet_checksum(Bytes(flat2)));
}

TEST(Checksum, VerifiesToZeroWhenStored) {
    for (int round = 0; round < 100; ++round) {
        Buf b = rand_bytes(2 * (5 + rand_below(50)));
        b[4] = b[5] = 0;
        std::uint16_t c = internet_checksum(Bytes(b));
        store_be16(b.data() + 4, c);
        ASSERT_EQ(internet_checksum(Bytes(b)), 0);
    }
}

TEST(Checksum, PseudoHeaderV4) {
    // src 10.0.0.1 dst 10.0.0.2 proto 6 len 20, summed by hand.
    Checksum c;
    add_pseudo_v4(c, Ipv4Addr::of(10, 0, 0, 1), Ipv4Addr::of(10, 0, 0, 2), 6, 20);
    EXPECT_EQ(c.sum(), 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 6 + 20);
    const std::uint8_t flat[] = {10, 0, 0, 1, 10, 0, 0, 2, 0, 6, 0, 20};
    EXPECT_EQ(c.finish(), internet_checksum(Bytes(flat)));
    // Linux loopback stores exactly this partial sum in offloaded packets
    // (see the captures): 127.0.0.1 -> 127.0.0.1, TCP, 40 bytes -> 0xfe30.
    EXPECT_EQ(pseudo_partial_v4(Ipv4Addr::of(127, 0, 0, 1), Ipv4Addr::of(127, 0, 0, 1), 6, 40), 0xfe30);
}

TEST(Checksum, PseudoHeaderV6) {
    auto a = *Ipv6Addr::parse("2001:db8::1");
    auto b = *Ipv6Addr::parse("fe80::2");
    Checksum c;
    add_pseudo_v6(c, a, b, 58, 0x12345);
    Buf flat;
    flat.insert(flat.end(), a.bytes().begin(), a.bytes().end());
    flat.insert(flat.end(), b.bytes().begin(), b.bytes().end());
    for (std::uint8_t x : {0x00, 0x01, 0x23, 0x45, 0x00, 0x00, 0x00, 58}) flat.push_back(x);
    EXPECT_EQ(c.finish(), ref_checksum(flat));
    EXPECT_EQ(pseudo_partial_v6(*Ipv6Addr::parse("::1"), *Ipv6Addr::parse("::1"), 17, 11), 0x001e);
}

TEST(Checksum, Rfc1624UpdateEqualsRecompute) {
    for (int round = 0; round < 2000; ++round) {
        Buf h = rand_bytes(20);
        h[10] = h[11] = 0;
        store_be16(h.data() + 10, internet_checksum(Bytes(h)));
        std::size_t field = 2 * rand_below(10);
        if (field == 10) field = 8;  // not the checksum itself
        std::uint16_t old_v = load_be16(h.data() + field);
        std::uint16_t new_v = round % 10 == 0 ? static_cast<std::uint16_t>(~old_v) : rand16();
        std::uint16_t upd = checksum_update16(load_be16(h.data() + 10), old_v, new_v);
        store_be16(h.data() + field, new_v);
        h[10] = h[11] = 0;
        std::uint16_t full = internet_checksum(Bytes(h));
        ASSERT_EQ(upd, full) << "round " << round;
    }
}

TEST(Checksum, Rfc1624ExampleTtlDecrement) {
    // A classic: decrement TTL in the word TTL|proto, checksum follows.
    Buf h = {0x45, 0x00, 0x00, 0x54, 0x00, 0x00, 0x40, 0x00, 0x40, 0x01,
             0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    store_be16(h.data() + 10, internet_checksum(Bytes(h)));
    std::uint16_t old_w = load_be16(h.data() + 8);
    std::uint16_t new_w = static_cast<std::uint16_t>(old_w - 0x100);
    std::uint16_t upd = checksum_update16(load_be16(h.data() + 10), old_w, new_w);
    store_be16(h.data() + 8, new_w);
    store_be16(h.data() + 10, upd);
    EXPECT_EQ(internet_checksum(Bytes(h)), 0);
}

TEST(Checksum, Update32EqualsRecompute) {
    for (int round = 0; round < 500; ++round) {
        Buf h = rand_bytes(20);
        h[10] = h[11] = 0;
        store_be16(h.data() + 10, internet_checksum(Bytes(h)));
        std::uint32_t old_a = load_be32(h.data() + 12);
        std::uint32_t new_a = rand32();
        std::uint16_t upd = checksum_update32(load_be16(h.data() + 10), old_a, new_a);
        store_be32(h.data() + 12, new_a);
        h[10] = h[11] = 0;
        ASSERT_EQ(upd, internet_checksum(Bytes(h)));
    }
}

TEST(ParseError, Names) {
    EXPECT_STREQ(to_string(ParseError::truncated), "truncated");
    EXPECT_STREQ(to_string(ParseError::too_many_tags), "too_many_tags");
    EXPECT_STREQ(to_string(ParseError::bad_checksum), "bad_checksum");
    EXPECT_STREQ(to_string(static_cast<ParseError>(200)), "unknown");
}
