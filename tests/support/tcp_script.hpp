// tests/support/tcp_script.hpp — helpers shared by the TCP packet scripts
// (tests/script/tcp_*): connections opened with exact handshakes, and the
// socket API called at the script's time.
//
// Conventions of every TCP script:
//  * "us" is 198.18.0.2, the scripted peer 198.18.0.1. Passive opens listen
//    on port 80 and the peer's port is 40000; the peer's ISN is 1000, so its
//    first data byte is 1001 (theirs(0)).
//  * Our ISN is captured as $iss; ours(k) is the sequence number of our
//    k-th data byte (ISS + 1 + k).
//  * With timestamps, our TSval is the stack's millisecond clock plus a
//    per-connection offset equal to the ISS (RFC 7323 5.4); the script's
//    t = 0 is the clock's 1000 ms, so tsv(t_ms) is our TSval at t.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "frames.hpp"
#include "script.hpp"

namespace uinet::test::tcps {

inline constexpr std::uint16_t kPort = 80;
inline constexpr std::uint16_t kPeerPort = 40000;
inline constexpr std::uint32_t kPeerIss = 1000;
inline const Ipv4Addr kPeerIp = Ipv4Addr::of(198, 18, 0, 1);
inline const Ipv4Addr kUsIp = Ipv4Addr::of(198, 18, 0, 2);

inline VarRef ours(std::int64_t k) { return var("iss") + (1 + k); }
inline std::uint32_t theirs(std::uint32_t k) { return kPeerIss + 1 + k; }
inline VarRef tsv(std::int64_t t_ms) { return var("iss") + (1000 + t_ms); }

inline Bytes text(std::string_view t) { return {reinterpret_cast<const std::uint8_t*>(t.data()), t.size()}; }

// From the peer (port 40000 -> 80) / from us (80 -> 40000).
inline PacketSpec in(const Script& s) { return s.peer().tcp(kPeerPort, kPort); }
inline PacketSpec out(const Script& s) { return s.us().tcp(kPort, kPeerPort); }
// Active opens: from the peer's port 80 to our port $port, and back.
inline PacketSpec ina(const Script& s) { return s.peer().tcp(80, var("port")); }
inline PacketSpec outa(const Script& s) { return s.us().tcp(var("port"), 80); }

inline SocketId listen_on(Script& s, std::uint16_t port = kPort, std::size_t backlog = 128, const TcpOptions& o = {}) {
    TcpSockets& tcp = s.stack().tcp();
    SocketId l = *tcp.open();
    EXPECT_TRUE(tcp.set_options(l, o));
    EXPECT_TRUE(tcp.bind(l, {Ipv4Addr::any(), Port(port)}));
    EXPECT_TRUE(tcp.listen(l, backlog));
    return l;
}

// Everything readable now, as text.
inline std::string read_all(Script& s, SocketId id) {
    std::string got;
    std::vector<std::uint8_t> buf(4096);
    for (;;) {
        auto r = s.stack().tcp().recv(s.instant(), id, buf);
        if (!r || *r == 0) break;
        got.append(reinterpret_cast<const char*>(buf.data()), *r);
    }
    return got;
}

inline std::size_t send_text(Script& s, SocketId id, std::string_view t) {
    auto r = s.stack().tcp().send(s.instant(), id, text(t));
    EXPECT_TRUE(r);
    return r ? *r : 0;
}

inline std::size_t send_bytes(Script& s, SocketId id, const std::vector<std::uint8_t>& b) {
    auto r = s.stack().tcp().send(s.instant(), id, Bytes{b.data(), b.size()});
    EXPECT_TRUE(r);
    return r ? *r : 0;
}

inline tcp::TcpState state_of(Script& s, SocketId id) {
    return s.stack().tcp().state(id).value_or(tcp::TcpState::closed);
}

// Passive open at time t with a peer that offers only MSS 1460 (no window
// scaling, timestamps or SACK) and a window of peer_syn_win: our SYN-ACK
// must carry exactly MSS 1460 and the unscaled window our_win (65535 for
// the default 256 KiB buffer). The peer's ACK carries peer_win. Returns
// the accepted socket.
inline SocketId accept_plain(Script& s, SocketId listener, Duration t = Duration::zero(),
                             std::uint16_t peer_win = 65535, std::uint16_t our_win = 65535,
                             std::uint16_t peer_syn_win = 65535) {
    s.at(t).inject(in(s).syn().seq(kPeerIss).win(peer_syn_win).mss(1460));
    s.at(t).expect(out(s).flags("S.").seq(capture("iss")).ack(kPeerIss + 1).win(our_win).mss(1460));
    s.at(t).inject(in(s).flags(".").seq(theirs(0)).ack(ours(0)).win(peer_win));
    s.at(t).expect_nothing();
    auto c = s.stack().tcp().accept(listener);
    EXPECT_TRUE(c);
    return c ? *c : SocketId{};
}

// Passive open at time t with a peer that offers MSS 1460, SACK,
// timestamps (TSval 100) and window scale 7: our SYN-ACK echoes them all
// and offers window scale 3 (a 256 KiB buffer, RFC 7323 2.3). The peer's
// ACK carries TSval 101 and window field peer_win (scaled by 2^7).
inline SocketId accept_ts(Script& s, SocketId listener, Duration t = Duration::zero(), std::uint16_t peer_win = 512) {
    const std::int64_t tm = t.ns() / 1'000'000;
    s.at(t).inject(in(s).syn().seq(kPeerIss).win(65535).mss(1460).sack_ok().ts(100, 0).wscale(7));
    s.at(t).expect(out(s).flags("S.").seq(capture("iss")).ack(kPeerIss + 1).win(65535).mss(1460).sack_ok()
                       .ts(tsv(tm), 100).wscale(3));
    s.at(t).inject(in(s).flags(".").seq(theirs(0)).ack(ours(0)).win(peer_win).ts(101, tsv(tm)));
    s.at(t).expect_nothing();
    auto c = s.stack().tcp().accept(listener);
    EXPECT_TRUE(c);
    return c ? *c : SocketId{};
}

// Active open at time t to the peer's port 80 (our port captured as
// $port, our ISN as $iss); the script then answers. The SYN
// offers MSS 1460, SACK, timestamps and window scale 3.
inline SocketId connect_plain(Script& s, Duration t = Duration::zero()) {
    const std::int64_t tm = t.ns() / 1'000'000;
    TcpSockets& tcp = s.stack().tcp();
    SocketId c = *tcp.open();
    s.at(t);
    EXPECT_TRUE(tcp.connect(s.instant(), c, {kPeerIp, Port(80)}));
    s.at(t).expect(s.us().tcp(capture("port"), 80).flags("S").seq(capture("iss")).ack(0).win(65535).mss(1460)
                       .sack_ok().ts(tsv(tm), 0).wscale(3));
    return c;
}

}  // namespace uinet::test::tcps
