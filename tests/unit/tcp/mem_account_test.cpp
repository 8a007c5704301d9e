// MemAccount: the stack-wide socket-buffer account (tcp/mem_account.hpp).
#include <gtest/gtest.h>

#include "tcp/mem_account.hpp"

using uinet::tcp::MemAccount;

TEST(MemAccount, UnlimitedAllowsEverythingAndNeverPressures) {
    MemAccount m;
    EXPECT_TRUE(m.allow(std::size_t{1} << 40));
    EXPECT_FALSE(m.adjust(1 << 30));
    EXPECT_FALSE(m.pressure());
    EXPECT_EQ(m.used(), std::size_t{1} << 30);
}

TEST(MemAccount, LimitPressureAndHysteresis) {
    MemAccount m;
    m.configure(1000, 75);
    EXPECT_TRUE(m.allow(1000));
    EXPECT_FALSE(m.allow(1001));
    EXPECT_FALSE(m.adjust(700));
    EXPECT_FALSE(m.pressure());
    EXPECT_TRUE(m.adjust(50));  // 750: pressure starts (reported once)
    EXPECT_TRUE(m.pressure());
    EXPECT_FALSE(m.adjust(10));
    EXPECT_TRUE(m.allow(240));
    EXPECT_FALSE(m.allow(241));
    EXPECT_FALSE(m.adjust(-100));  // 660: still above 650
    EXPECT_TRUE(m.pressure());
    EXPECT_FALSE(m.adjust(-20));  // 640: ends
    EXPECT_FALSE(m.pressure());
    EXPECT_EQ(m.peak(), 760u);
    // A release larger than what is held clamps at zero.
    m.adjust(-5000);
    EXPECT_EQ(m.used(), 0u);
}
