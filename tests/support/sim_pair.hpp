// tests/support/sim_pair.hpp — two stacks on a mem link in virtual time,
// with an optional fault injector on each direction (on a's side).
#pragma once

#include <functional>
#include <memory>

#include "host/virtual.hpp"
#include "link/fault.hpp"
#include "link/mem_pipe.hpp"
#include "stack/stack.hpp"

namespace uinet::test {

struct SimPairConfig {
    MemLinkConfig link{.queue_frames = 1024, .bandwidth_bps = 100'000'000, .delay = Duration::millis(5)};
    std::optional<FaultConfig> faults;  // applied on a's device, both directions if on_receive
    std::uint64_t seed = 1;
    bool blackhole = false;
    tcp::TcpConfig tcp;
    std::size_t pool_count = 4096;
    // Wrap a stack's device (after the fault injector on a's side), e.g.
    // with an InjectingDevice (inject_device.hpp); the Pool is the stack's.
    std::function<std::unique_ptr<Device>(std::unique_ptr<Device>, Pool&)> wrap_a, wrap_b;
};

struct SimPair {
    VirtualClock clock;
    SeededRandom ra, rb;
    Host ha{}, hb{};
    std::unique_ptr<Stack> a, b;
    FaultInjector* faults = nullptr;
    const Ipv4Addr ip_a = Ipv4Addr::of(198, 18, 0, 1), ip_b = Ipv4Addr::of(198, 18, 0, 2);

    explicit SimPair(const SimPairConfig& c = {}) : ra(c.seed * 2 + 1), rb(c.seed * 2 + 2) {
        clock.set(Instant::from_ns(1'000'000'000));
        ha.clock = hb.clock = &clock;
        ha.random = &ra;
        hb.random = &rb;
        StackOptions o;
        o.pool.count = c.pool_count;
        o.net.blackhole = c.blackhole;
        o.tcp = c.tcp;
        o.name = "a";
        a = std::make_unique<Stack>(ha, o);
        o.name = "b";
        b = std::make_unique<Stack>(hb, o);
        auto [ea, eb] = make_mem_pipe(a->pool(), b->pool(), c.link);
        std::unique_ptr<Device> da = std::move(ea);
        if (c.faults) {
            auto f = std::make_unique<FaultInjector>(std::move(da), a->pool(), *c.faults);
            faults = f.get();
            da = std::move(f);
        }
        std::unique_ptr<Device> db = std::move(eb);
        if (c.wrap_a) da = c.wrap_a(std::move(da), a->pool());
        if (c.wrap_b) db = c.wrap_b(std::move(db), b->pool());
        net::InterfaceConfig ca, cb;
        ca.mac = *MacAddr::parse("02:00:00:00:00:01");
        ca.ipv4 = {Ipv4Cidr{ip_a, 24}};
        cb.mac = *MacAddr::parse("02:00:00:00:00:02");
        cb.ipv4 = {Ipv4Cidr{ip_b, 24}};
        a->add_interface(std::move(da), ca);
        b->add_interface(std::move(db), cb);
    }

    // One step: both stacks run at the current time, then the clock moves to
    // the earliest deadline (never past `limit`).
    void step(Instant limit) {
        Instant now = clock.now();
        a->poll(now);
        b->poll(now);  // deadlines only after both ran: each may have sent to the other
        Instant t = earliest(a->next_deadline(), b->next_deadline());
        if (t <= now) t = now + Duration::nanos(1);
        clock.set(earliest(t, limit));
    }

    // Runs until done() or until `limit` of virtual time passes; returns done().
    bool run_until(const std::function<bool()>& done, Duration limit) {
        const Instant end = clock.now() + limit;
        while (!done()) {
            if (clock.now() >= end) return done();
            step(end);
        }
        return true;
    }
    void run_for(Duration d) {
        run_until([] { return false; }, d);
    }
};

}  // namespace uinet::test
