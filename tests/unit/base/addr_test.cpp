#include "base/addr.hpp"

#include <gtest/gtest.h>

#include "base/result.hpp"
#include "base/seq.hpp"

using namespace uinet;

TEST(Ipv4Addr, ParsesDottedQuad) {
    auto a = Ipv4Addr::parse("198.18.0.2");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->value(), 0xc6120002u);
    EXPECT_EQ(a->to_string(), "198.18.0.2");
}

TEST(Ipv4Addr, RejectsMalformed) {
    for (const char* s : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", "1.2.3.4 ", "a.b.c.d", "1.2.3.0004", "-1.2.3.4"})
        EXPECT_FALSE(Ipv4Addr::parse(s)) << s;
}

TEST(Ipv4Cidr, ParsesPrefix) {
    auto c = Ipv4Cidr::parse("198.18.0.2/24");
    ASSERT_TRUE(c);
    EXPECT_EQ(c->prefix_len, 24);
    EXPECT_TRUE(c->contains(*Ipv4Addr::parse("198.18.0.200")));
    EXPECT_FALSE(c->contains(*Ipv4Addr::parse("198.18.1.1")));
    EXPECT_EQ(c->directed_broadcast().to_string(), "198.18.0.255");
    EXPECT_FALSE(Ipv4Cidr::parse("1.2.3.4/33"));
    EXPECT_FALSE(Ipv4Cidr::parse("1.2.3.4/"));
    EXPECT_EQ(Ipv4Cidr::parse("0.0.0.0/0")->mask(), 0u);
}

TEST(MacAddr, ParseAndPrint) {
    auto m = MacAddr::parse("02:00:5e:10:00:01");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->to_string(), "02:00:5e:10:00:01");
    EXPECT_FALSE(m->is_multicast());
    EXPECT_TRUE(MacAddr::broadcast().is_broadcast());
    EXPECT_FALSE(MacAddr::parse("02:00:5e:10:00"));
    EXPECT_FALSE(MacAddr::parse("02:00:5e:10:00:0g"));
}

TEST(Ipv6Addr, ParseAndPrint) {
    auto a = Ipv6Addr::parse("2001:db8::1");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->to_string(), "2001:db8::1");
    EXPECT_FALSE(Ipv6Addr::parse("2001:db8:::1"));
}

TEST(SeqNum, WrapAroundCompare) {
    SeqNum a(0xfffffff0u), b(0x10u);
    EXPECT_TRUE(a < b);
    EXPECT_TRUE(b > a);
    EXPECT_EQ(b - a, 0x20);
    EXPECT_TRUE(SeqNum(5).in_range(a, b));
    EXPECT_FALSE(b.in_range(a, b));
}

TEST(Result, HoldsValueOrError) {
    Result<int, const char*> ok = 5;
    Result<int, const char*> bad = Err{"nope"};
    EXPECT_TRUE(ok);
    EXPECT_EQ(*ok, 5);
    EXPECT_FALSE(bad);
    EXPECT_STREQ(bad.error(), "nope");
    EXPECT_EQ(bad.value_or(7), 7);
    Result<void, int> v;
    EXPECT_TRUE(v);
    Result<void, int> e = Err{3};
    EXPECT_EQ(e.error(), 3);
}
