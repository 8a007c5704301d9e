// Scripts: ARP (RFC 826). Answering requests for our address, resolving a
// neighbour (requests every second, three in all, then failure and the
// queued datagram dropped: RFC 1122 2.3.2.1/2.3.2.2), gratuitous ARP
// (RFC 5227 section 3) sent and received, and address conflicts.
#include <gtest/gtest.h>

#include "script.hpp"

using namespace uinet;
using namespace uinet::test;

namespace {

const Ipv4Addr kPeer = Ipv4Addr::of(198, 18, 0, 1);
const Ipv4Addr kUs = Ipv4Addr::of(198, 18, 0, 2);

// A UDP socket bound to `port` on the script's stack.
SocketId udp_socket(Script& s, std::uint16_t port) {
    SocketId id = *s.stack().udp().open();
    EXPECT_TRUE(s.stack().udp().bind(id, {Ipv4Addr::any(), Port(port)}));
    return id;
}

void send_to_peer(Script& s, SocketId id, std::string_view text, std::uint16_t port = 9,
                  Ipv4Addr dst = Ipv4Addr::of(198, 18, 0, 1)) {
    Bytes b(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
    EXPECT_TRUE(s.stack().udp().sendto(s.instant(), id, b, Endpoint{dst, Port(port)}));
}

}  // namespace

TEST(ScriptArp, AnswersRequestAndLearnsTheAsker) {
    Script s({.learn_peer = false});
    s.at(ms(0)).inject(s.peer().arp_request(kUs));
    s.at(ms(0)).expect(s.us().arp_reply());
    EXPECT_EQ(s.counter("net.arp_replies_sent"), 1u);
    // The asker was learnt (we were the target): no request before our datagram.
    SocketId u = udp_socket(s, 5000);
    s.at(ms(5));
    send_to_peer(s, u, "hello");
    s.at(ms(5)).expect(s.us().udp(5000, 9).payload("hello"));
    EXPECT_EQ(s.counter("net.arp_requests_sent"), 0u);
}

TEST(ScriptArp, RequestForAnotherAddressIsIgnoredAndNotLearnt) {
    Script s({.learn_peer = false});
    s.at(ms(0)).inject(s.peer().arp_request(Ipv4Addr::of(198, 18, 0, 77)));
    s.at(ms(100)).expect_nothing();
    EXPECT_EQ(s.counter("net.arp_not_for_us"), 1u);
    SocketId u = udp_socket(s, 5000);
    send_to_peer(s, u, "x");
    s.at(ms(100)).expect(s.us().arp_request(kPeer));
    s.allow_extra();  // the retries are another script's business
}

TEST(ScriptArp, RetriesEverySecondThreeTimesThenFails) {
    Script s({.learn_peer = false});
    SocketId u = udp_socket(s, 5000);
    send_to_peer(s, u, "queued");
    s.at(ms(0)).expect(s.us().arp_request(kPeer).arp_target(MacAddr(), kPeer));
    s.at(ms(999)).expect_nothing();
    s.at(sec(1)).expect(s.us().arp_request(kPeer));
    EXPECT_EQ(s.last().at, sec(1));  // the retry timer fired at its exact instant
    s.at(sec(2)).expect(s.us().arp_request(kPeer));
    s.at(sec(3)).expect_nothing();
    EXPECT_EQ(s.counter("net.arp_requests_sent"), 3u);
    EXPECT_EQ(s.counter("net.arp_resolve_failed"), 1u);
    EXPECT_EQ(s.interface().arp().stats().pending_dropped, 1u);
    EXPECT_EQ(s.counter("pool.in_use"), 0u);  // the queued datagram was freed
    s.at(sec(10)).expect_nothing();
    // A late reply finds nothing queued any more.
    s.at(sec(11)).inject(s.peer().arp_reply());
    s.at(sec(11)).expect_nothing();
}

TEST(ScriptArp, ReplyReleasesTheQueuedDatagram) {
    Script s({.learn_peer = false});
    SocketId u = udp_socket(s, 5000);
    send_to_peer(s, u, "one");
    send_to_peer(s, u, "two");
    s.at(ms(0)).expect(s.us().arp_request(kPeer));
    s.at(ms(300)).inject(s.peer().arp_reply());
    s.at(ms(300)).expect(s.us().udp(5000, 9).payload("one"));
    s.at(ms(300)).expect(s.us().udp(5000, 9).payload("two"));
    s.at(sec(5)).expect_nothing();  // no retry after the answer
    EXPECT_EQ(s.counter("net.arp_requests_sent"), 1u);
}

TEST(ScriptArp, SendsGratuitousAnnouncementWhenTheInterfaceComesUp) {
    Script s({.announce = true});
    s.at(ms(0)).expect(s.us().arp_announce());
    EXPECT_EQ(s.counter("net.arp_announcements_sent"), 1u);
}

TEST(ScriptArp, GratuitousArpUpdatesAKnownNeighbourOnly) {
    const MacAddr moved({0x02, 0, 0, 0, 0, 0x11});
    Script s;  // the peer is known
    s.at(ms(0)).inject(s.host({moved, kPeer}).arp_announce());
    s.at(ms(0)).expect_nothing();
    SocketId u = udp_socket(s, 5000);
    send_to_peer(s, u, "to the new MAC");
    s.at(ms(0)).expect(s.us().udp(5000, 9).eth_dst(moved));

    // An unknown host's announcement creates no entry (RFC 826: only merge).
    const Ipv4Addr stranger = Ipv4Addr::of(198, 18, 0, 50);
    s.at(ms(10)).inject(s.host({MacAddr({0x02, 0, 0, 0, 0, 0x50}), stranger}).arp_announce());
    send_to_peer(s, u, "?", 9, stranger);
    s.at(ms(10)).expect(s.us().arp_request(stranger));
    s.allow_extra();
}

TEST(ScriptArp, SomeoneClaimingOurAddressIsAConflict) {
    Script s;
    s.at(ms(0)).inject(s.host({MacAddr({0x02, 0, 0, 0, 0, 0x66}), kUs}).arp_announce());
    s.at(ms(0)).expect_nothing();
    EXPECT_EQ(s.counter("net.arp_conflicts"), 1u);
}

TEST(ScriptArp, MalformedArpIsCountedNotAnswered) {
    Script s({.learn_peer = false});
    // Truncated to 20 bytes of ARP body, then a hardware length of 8.
    s.at(ms(0)).inject(s.peer().arp_request(kUs).truncate(14 + 20));
    s.at(ms(0)).inject(s.peer().arp_request(kUs).poke(14 + 4, 8));
    s.at(ms(0)).expect_nothing();
    EXPECT_EQ(s.counter("net.arp_bad"), 2u);
}
