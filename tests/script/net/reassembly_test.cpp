// Scripts: IPv4 reassembly timeout (RFC 791 3.2; RFC 1122 3.3.2). A
// datagram left incomplete is dropped 30 s after its first fragment
// arrived; ICMP time exceeded, code 1, is sent only if fragment zero was
// received, and never by a black-holing stack.
#include <gtest/gtest.h>

#include "frames.hpp"
#include "script.hpp"

using namespace uinet;
using namespace uinet::test;

namespace {

// A 3000-byte UDP datagram in three fragments of 1480, 1480 and 48 bytes.
std::vector<PacketSpec> fragments_of_big_datagram(Script& s, std::uint16_t ident) {
    return s.peer().udp(4000, 7).payload(pattern(3000)).ip_id(ident).fragments(1480);
}

}  // namespace

TEST(ScriptReassembly, TimeoutSendsTimeExceededWhenFragmentZeroArrived) {
    Script s({.blackhole = false});
    auto frags = fragments_of_big_datagram(s, 500);
    s.at(ms(0)).inject(frags[0]);
    s.at(sec(10)).inject(frags[2]);  // a later fragment does not restart the timer
    s.at(sec(30) - usecs(1)).expect_nothing();
    // Code 1: fragment reassembly time exceeded; the quote is fragment
    // zero's header and its first 8 data bytes (the UDP header).
    s.at(sec(30)).expect(s.us().icmp(wire::icmpv4_type::time_exceeded, wire::icmpv4_code::reassembly_exceeded)
                             .icmp_rest(0)
                             .quotes(frags[0])
                             .payload_len(20 + 8));
    EXPECT_EQ(s.last().at, sec(30));
    EXPECT_EQ(s.counter("net.ip_reasm_timeouts"), 1u);
    EXPECT_EQ(s.counter("net.icmp_time_exceeded_sent"), 1u);
    EXPECT_EQ(s.counter("pool.in_use"), 0u);
    // The missing fragment arriving late starts a new datagram, which never completes.
    s.at(sec(31)).inject(frags[1]);
    s.at(sec(61)).expect_nothing();  // no fragment zero: no error
    EXPECT_EQ(s.counter("net.ip_reasm_timeouts"), 2u);
    EXPECT_EQ(s.counter("net.icmp_time_exceeded_sent"), 1u);
}

TEST(ScriptReassembly, TimeoutWithoutFragmentZeroIsSilent) {
    Script s({.blackhole = false});
    auto frags = fragments_of_big_datagram(s, 501);
    s.at(ms(0)).inject(frags[1]);
    s.at(ms(5)).inject(frags[2]);
    s.at(sec(31)).expect_nothing();
    EXPECT_EQ(s.counter("net.ip_reasm_timeouts"), 1u);
    EXPECT_EQ(s.counter("net.icmp_time_exceeded_sent"), 0u);
}

TEST(ScriptReassembly, BlackholedStackSendsNoTimeExceeded) {
    Script s;
    auto frags = fragments_of_big_datagram(s, 502);
    s.at(ms(0)).inject(frags[0]);
    s.at(sec(31)).expect_nothing();
    EXPECT_EQ(s.counter("net.ip_reasm_timeouts"), 1u);
    EXPECT_EQ(s.counter("net.icmp_errors_suppressed"), 1u);
}

TEST(ScriptReassembly, CompletedDatagramIsDeliveredAndNoTimerRemains) {
    Script s({.blackhole = false});
    SocketId id = *s.stack().udp().open();
    ASSERT_TRUE(s.stack().udp().bind(id, {Ipv4Addr::any(), Port(7)}));
    auto frags = fragments_of_big_datagram(s, 503);
    s.at(ms(0)).inject({frags[1], frags[0], frags[2]});
    std::vector<std::uint8_t> buf(4000);
    auto r = s.stack().udp().recvfrom(id, buf);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->size, 3000u);
    EXPECT_TRUE(std::equal(buf.begin(), buf.begin() + 3000, pattern(3000).begin()));
    s.at(sec(60)).expect_nothing();
    EXPECT_EQ(s.counter("net.ip_reasm_timeouts"), 0u);
}

TEST(ScriptReassembly, OverlappingFragmentsDiscardTheDatagram) {
    Script s({.blackhole = false});
    auto frags = fragments_of_big_datagram(s, 504);
    s.at(ms(0)).inject(frags[0]);
    // 8 bytes before fragment one's start: overlaps fragment zero.
    s.at(ms(1)).inject(PacketSpec(frags[1]).frag_off(-8));
    s.at(ms(2)).inject(frags[2]);
    s.at(sec(31)).expect_nothing();  // the datagram is gone: no timeout, no error
    EXPECT_GE(s.stack().net().reassembly_stats().dropped_overlap, 1u);
    EXPECT_EQ(s.counter("net.ip_reassembled"), 0u);
}

// The ICMP error about a reassembled datagram quotes fragment zero's
// header whatever order the fragments came in (RFC 1122 3.2.2's "first
// fragment" is the datagram's own).
TEST(ScriptReassembly, ErrorAboutAReassembledDatagramDoesNotDependOnArrivalOrder) {
    Script s({.blackhole = false});
    auto frags = s.peer().udp(40000, 9999).payload(pattern(3000)).ip_id(99).fragments(1480);
    s.at(ms(0)).inject({frags[0], frags[2], frags[1]});
    s.at(ms(0)).expect(s.us().icmp(wire::icmpv4_type::dest_unreachable, wire::icmpv4_code::port_unreachable));
}
