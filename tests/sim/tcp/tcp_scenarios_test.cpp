// Simulation scenarios beyond one bulk transfer: many concurrent
// connections both ways, half-close, aborts; under seeded faults.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <string>

#include "sim_pair.hpp"

using namespace uinet;
using namespace uinet::test;

namespace {

std::uint8_t pat(std::uint64_t i, std::uint64_t salt) { return static_cast<std::uint8_t>((i * 7 + salt * 13) % 253); }

std::uint64_t env_u64(const char* n, std::uint64_t d) {
    const char* v = std::getenv(n);
    return v ? std::strtoull(v, nullptr, 10) : d;
}

FaultConfig faults(std::uint64_t seed, double loss) {
    FaultConfig f;
    f.seed = seed;
    f.on_transmit = f.on_receive = true;
    f.drop = loss;
    f.duplicate = 0.01;
    f.reorder = 0.02;
    f.corrupt = 0.005;
    f.corrupt_min_offset = 42;  // ARP carries no checksum
    return f;
}

// An echo-like exchange: each client sends `size` bytes then shuts down
// its write side (half-close); the server reads everything, replies with
// the same bytes transformed, then closes. Both directions checked.
struct Session {
    std::uint64_t salt = 0, size = 0;
    SocketId cli{}, srv{};
    std::uint64_t c_sent = 0, s_recv = 0, s_sent = 0, c_recv = 0;
    bool s_eof = false, c_eof = false, bad = false, c_shut = false, s_closed = false;
};

class Harness {
public:
    Harness(SimPair& p, std::size_t n, std::uint64_t base_size) : p_(p) {
        sessions_.resize(n);
        for (std::size_t i = 0; i < n; ++i) {
            sessions_[i].salt = i + 1;
            sessions_[i].size = base_size + i * 1031;
        }
        TcpSockets& sb = p.b->tcp();
        lst_ = *sb.open();
        EXPECT_TRUE(sb.bind(lst_, {Ipv4Addr::any(), Port(5000)}));
        EXPECT_TRUE(sb.listen(lst_, 256));
        sb.set_upcall(lst_, [this](SocketId id, std::uint32_t) {
            while (auto c = p_.b->tcp().accept(id)) {
                // The client's first 8 bytes name its session.
                pending_.push_back(*c);
                p_.b->tcp().set_upcall(*c, [this](SocketId s, std::uint32_t) { server(s); });
                server(*c);
            }
        });
        for (std::size_t i = 0; i < n; ++i) {
            Session& s = sessions_[i];
            s.cli = *p.a->tcp().open();
            EXPECT_TRUE(p.a->tcp().connect(p.clock.now(), s.cli, {p.ip_b, Port(5000)}));
            p.a->tcp().set_upcall(s.cli, [this, i](SocketId, std::uint32_t) { client(i); });
        }
    }

    bool done() const {
        for (const Session& s : sessions_)
            if (!s.c_eof || !s.s_eof) return false;
        return true;
    }
    const std::vector<Session>& sessions() const { return sessions_; }

private:
    void client(std::size_t i) {
        Session& s = sessions_[i];
        TcpSockets& t = p_.a->tcp();
        std::uint8_t buf[8192];
        while (s.c_sent < s.size + 8) {
            std::size_t n = 0;
            for (; n < sizeof buf && s.c_sent + n < s.size + 8; ++n) {
                std::uint64_t k = s.c_sent + n;
                buf[n] = k < 8 ? static_cast<std::uint8_t>(i >> (8 * k)) : pat(k - 8, s.salt);
            }
            auto r = t.send(p_.clock.now(), s.cli, {buf, n});
            if (!r) break;
            s.c_sent += *r;
        }
        if (s.c_sent == s.size + 8 && !s.c_shut) {
            s.c_shut = true;
            (void)t.shutdown(p_.clock.now(), s.cli, ShutdownHow::write);  // half-close
        }
        for (;;) {
            auto r = t.recv(p_.clock.now(), s.cli, buf);
            if (!r) break;
            if (*r == 0) {
                s.c_eof = true;
                t.close(p_.clock.now(), s.cli);
                break;
            }
            for (std::size_t k = 0; k < *r; ++k)
                if (buf[k] != static_cast<std::uint8_t>(pat(s.c_recv + k, s.salt) ^ 0x5a)) s.bad = true;
            s.c_recv += *r;
        }
    }

    void server(SocketId id) {
        TcpSockets& t = p_.b->tcp();
        auto it = owner_.find(id.cookie());
        std::uint8_t buf[8192];
        if (it == owner_.end()) {
            // Read the 8-byte session number first.
            auto& hdr = hdr_[id.cookie()];
            while (hdr.size() < 8) {
                auto r = t.recv(p_.clock.now(), id, {buf, 8 - hdr.size()});
                if (!r || *r == 0) return;
                hdr.insert(hdr.end(), buf, buf + *r);
            }
            std::uint64_t i = 0;
            for (int k = 7; k >= 0; --k) i = (i << 8) | hdr[static_cast<std::size_t>(k)];
            if (i >= sessions_.size()) return;
            it = owner_.emplace(id.cookie(), i).first;
            sessions_[i].srv = id;
        }
        Session& s = sessions_[it->second];
        for (;;) {
            auto r = t.recv(p_.clock.now(), id, buf);
            if (!r) break;
            if (*r == 0) {
                s.s_eof = true;
                break;
            }
            for (std::size_t k = 0; k < *r; ++k)
                if (buf[k] != pat(s.s_recv + k, s.salt)) s.bad = true;
            s.s_recv += *r;
        }
        // Reply with as much as has been received, transformed.
        while (s.s_sent < s.s_recv) {
            std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(sizeof buf, s.s_recv - s.s_sent));
            for (std::size_t k = 0; k < n; ++k) buf[k] = static_cast<std::uint8_t>(pat(s.s_sent + k, s.salt) ^ 0x5a);
            auto w = t.send(p_.clock.now(), id, {buf, n});
            if (!w) break;
            s.s_sent += *w;
        }
        if (s.s_eof && s.s_sent == s.size && !s.s_closed) {
            s.s_closed = true;
            t.close(p_.clock.now(), id);
        }
    }

    SimPair& p_;
    SocketId lst_{};
    std::vector<Session> sessions_;
    std::vector<SocketId> pending_;
    std::map<std::uint64_t, std::size_t> owner_;
    std::map<std::uint64_t, std::vector<std::uint8_t>> hdr_;
};

}  // namespace

TEST(SimTcpScenarios, ConcurrentHalfClosedExchangesOverSeeds) {
    std::uint64_t first = env_u64("UINET_SIM_SEED", 1);
    std::uint64_t count = std::getenv("UINET_SIM_SEED") ? 1 : env_u64("UINET_SIM_SEEDS", 60);
    for (std::uint64_t seed = first; seed < first + count; ++seed) {
        SCOPED_TRACE("replay with UINET_SIM_SEED=" + std::to_string(seed));
        SimPairConfig c;
        c.seed = seed;
        c.faults = faults(seed, static_cast<double>(seed % 5) * 0.02);
        SimPair p(c);
        if (std::getenv("UINET_SIM_DUMP"))
            p.faults->set_observer([&](FaultKind k, Bytes fr, bool tx) {
                if (fr.size() < 54 || fr[23] != 6) return;
                auto seg = wire::TcpRepr::parse_unchecked(fr.subspan(34));
                if (!seg) return;
                if (!(seg->flags & 0x05) && !std::getenv("UINET_SIM_ALL")) return;
                std::printf("t=%.3f %s %s %u>%u seq=%u ack=%u flags=%x len=%zu\n", p.clock.now().ns() / 1e9, tx ? "tx" : "rx",
                            to_string(k), seg->src_port.value(), seg->dst_port.value(), seg->seq.raw(), seg->ack.raw(),
                            seg->flags, fr.size() - 34 - seg->header_len);
            });
        Harness h(p, 20, 5000 + seed * 101);
        const bool finished = p.run_until([&] { return h.done(); }, Duration::seconds(900));
        if (!finished || std::getenv("UINET_SIM_DUMP")) {
            for (const Session& s : h.sessions())
                if (!s.c_eof || !s.s_eof)
                    std::printf("session %llu: sent %llu srv_recv %llu srv_sent %llu cli_recv %llu of %llu eof c=%d s=%d\n",
                                (unsigned long long)s.salt, (unsigned long long)s.c_sent, (unsigned long long)s.s_recv,
                                (unsigned long long)s.s_sent, (unsigned long long)s.c_recv, (unsigned long long)s.size,
                                s.c_eof, s.s_eof);
            for (Stack* st : {p.a.get(), p.b.get()})
                for (tcp::TcbId id = 1; id < 64; ++id)
                    if (const tcp::Tcb* t = st->tcp_layer().tcb(id)) {
                        auto i = t->info();
                        std::printf("%s tcb %u %s lport=%u rport=%u unacked=%u sndwnd=%u rcvwnd=%u readable=%zu next=%lld\n",
                                    st->name().c_str(), id, tcp::to_string(t->state()), t->key().lport.value(),
                                    t->key().rport.value(), i.unacked, i.snd_wnd, i.rcv_wnd, t->bytes_readable(),
                                    (long long)t->next_deadline().ns());
                    }
        }
        ASSERT_TRUE(finished);
        for (const Session& s : h.sessions()) {
            ASSERT_FALSE(s.bad);
            ASSERT_EQ(s.s_recv, s.size);
            ASSERT_EQ(s.c_recv, s.size);
        }
        // Everything winds down: FINs, TIME-WAIT, then no TCB is left.
        p.run_for(Duration::seconds(300));
        if (std::getenv("UINET_SIM_DUMP"))
            for (Stack* st : {p.a.get(), p.b.get()})
                for (tcp::TcbId id = 1; id < 64; ++id)
                    if (const tcp::Tcb* t = st->tcp_layer().tcb(id))
                        std::printf("%s tcb %u %s lport=%u owner=%llu orphan=%d\n", st->name().c_str(), id, tcp::to_string(t->state()), t->key().lport.value(),
                                    (unsigned long long)t->owner, t->orphaned()), std::printf("  info %s\n", "");
        EXPECT_EQ(p.a->tcp_layer().tcb_count(), 0u);
        EXPECT_EQ(p.b->tcp_layer().tcb_count(), 1u);  // the listener
        EXPECT_EQ(p.a->pool().stats().in_use, 0u);
    }
}

TEST(SimTcpScenarios, AbortResetsThePeerOverSeeds) {
    std::uint64_t first = env_u64("UINET_SIM_SEED", 1);
    std::uint64_t count = std::getenv("UINET_SIM_SEED") ? 1 : env_u64("UINET_SIM_SEEDS", 100);
    for (std::uint64_t seed = first; seed < first + count; ++seed) {
        SCOPED_TRACE("replay with UINET_SIM_SEED=" + std::to_string(seed));
        SimPairConfig c;
        c.seed = seed;
        c.faults = faults(seed, 0.0);
        SimPair p(c);
        TcpSockets& sa = p.a->tcp();
        TcpSockets& sb = p.b->tcp();
        SocketId l = *sb.open();
        ASSERT_TRUE(sb.bind(l, {Ipv4Addr::any(), Port(81)}));
        ASSERT_TRUE(sb.listen(l));
        SocketId srv{};
        int srv_err = 0;
        sb.set_upcall(l, [&](SocketId id, std::uint32_t) {
            if (auto c = sb.accept(id)) {
                srv = *c;
                sb.set_upcall(srv, [&](SocketId s, std::uint32_t ev) {
                    std::uint8_t b[4096];
                    while (true) {
                        auto r = sb.recv(p.clock.now(), s, b);
                        if (!r) {
                            if (r.error() != TcpRecvError::would_block) srv_err = to_errno(r.error());
                            break;
                        }
                        if (*r == 0) break;
                    }
                    (void)ev;
                });
            }
        });
        SocketId cli = *sa.open();
        ASSERT_TRUE(sa.connect(p.clock.now(), cli, {p.ip_b, Port(81)}));
        ASSERT_TRUE(p.run_until([&] { return srv.valid(); }, Duration::seconds(60)));
        std::vector<std::uint8_t> data(50'000, 0x42);
        (void)sa.send(p.clock.now(), cli, data);
        p.run_for(Duration::millis(static_cast<std::int64_t>(seed % 20)));
        sa.abort(p.clock.now(), cli);  // SO_LINGER 0: RST
        ASSERT_TRUE(p.run_until([&] { return srv_err != 0; }, Duration::seconds(60)));
        EXPECT_EQ(srv_err, ECONNRESET);
        EXPECT_EQ(sb.error(srv), ECONNRESET);
        sb.close(p.clock.now(), srv);
        p.run_for(Duration::seconds(10));
        EXPECT_EQ(p.a->tcp_layer().tcb_count(), 0u);
        EXPECT_EQ(p.b->tcp_layer().tcb_count(), 1u);
    }
}
