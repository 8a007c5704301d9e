// tests/support/sim_transfer.hpp — one checked bulk transfer between the
// two stacks of a SimPair: a connects to b's listener on port 80, sends
// `bytes` of a salted pattern and closes; b reads and checks every byte.
// UINET_SIM_DUMP=1 prints the TCBs' state at the end (for debugging).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "sim_pair.hpp"

namespace uinet::test {

inline std::uint8_t pattern_byte(std::uint64_t i, std::uint64_t salt) { return static_cast<std::uint8_t>((i * 131 + salt) % 251); }

struct Transfer {
    std::uint64_t size;
    std::uint64_t sent = 0, received = 0;
    bool corrupt = false, eof = false, closed_sender = false;
    Duration took{};  // from connect to the receiver's EOF (or the limit)
    bool ok() const { return eof && received == size && !corrupt; }
};

// a connects to b's listener and sends `bytes`; b reads and checks them.
// Returns whether the transfer completed byte-exactly within the limit.
inline Transfer run_transfer(SimPair& p, std::uint64_t bytes, std::uint64_t salt, Duration limit) {
    Transfer tr{bytes};
    const Instant start = p.clock.now();
    TcpSockets& sb = p.b->tcp();
    TcpSockets& sa = p.a->tcp();
    SocketId lst = *sb.open();
    EXPECT_TRUE(sb.bind(lst, {Ipv4Addr::any(), Port(80)}));
    EXPECT_TRUE(sb.listen(lst, 16));
    SocketId srv{};
    std::vector<std::uint8_t> buf(65536);
    auto drain = [&](SocketId id) {
        for (;;) {
            auto r = sb.recv(p.clock.now(), id, buf);
            if (!r) return;
            if (*r == 0) {
                tr.eof = true;
                sb.close(p.clock.now(), id);
                return;
            }
            for (std::size_t i = 0; i < *r; ++i)
                if (buf[i] != pattern_byte(tr.received + i, salt)) tr.corrupt = true;
            tr.received += *r;
        }
    };
    sb.set_upcall(lst, [&](SocketId id, std::uint32_t) {
        while (auto c = sb.accept(id)) {
            srv = *c;
            sb.set_upcall(srv, [&](SocketId s, std::uint32_t) { drain(s); });
            drain(srv);
        }
    });
    SocketId cli = *sa.open();
    EXPECT_TRUE(sa.connect(p.clock.now(), cli, {p.ip_b, Port(80)}));
    std::vector<std::uint8_t> chunk(16384);
    auto pump = [&](SocketId id) {
        while (tr.sent < tr.size) {
            std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), tr.size - tr.sent));
            for (std::size_t i = 0; i < n; ++i) chunk[i] = pattern_byte(tr.sent + i, salt);
            auto r = sa.send(p.clock.now(), id, {chunk.data(), n});
            if (!r || *r == 0) return;
            tr.sent += *r;
        }
        if (!tr.closed_sender) {
            tr.closed_sender = true;
            sa.close(p.clock.now(), id);
        }
    };
    sa.set_upcall(cli, [&](SocketId id, std::uint32_t ev) {
        if (ev & event::writable) pump(id);
    });
    p.run_until([&] { return tr.eof; }, limit);
    tr.took = p.clock.now() - start;
    if (std::getenv("UINET_SIM_DUMP")) {
        for (tcp::TcbId id = 1; id < 4; ++id) {
            for (Stack* st : {p.a.get(), p.b.get()}) {
                const tcp::Tcb* t = st->tcp_layer().tcb(id);
                if (!t) continue;
                auto i = t->info();
                std::printf("%s tcb %u state=%s srtt=%lldus var=%lldus cwnd=%u ssth=%u rto=%lldms unacked=%u sndwnd=%u rcvwnd=%u readable=%zu\n",
                            st->name().c_str(), id, tcp::to_string(i.state), (long long)i.rtt.us(), (long long)i.rttvar.us(), i.cwnd, i.ssthresh, (long long)i.rto.ms(),
                            i.unacked, i.snd_wnd, i.rcv_wnd, t->bytes_readable());
            }
        }
    }
    sb.close(p.clock.now(), lst);
    return tr;
}

}  // namespace uinet::test
