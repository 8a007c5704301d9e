// capi/instance.cpp — C API: instances, their thread, interfaces, routes and
// address helpers.
//
// Contract: see include/uinet/uinet.h. An instance runs Stack::run() on a
// thread from the host's Threads; start() returns only once that thread
// drives the stack (a function posted before the thread starts runs in its
// first iteration, after the stack is marked running). stop() and destroy()
// refuse to run on the instance's own thread (EDEADLK): they would wait for
// themselves.
#include <cstdio>
#include <cstring>
#include <future>
#include <new>

#include "capi/capi.hpp"
#include "link/mem_pipe.hpp"
#include "link/tap.hpp"

using namespace uinet;
using namespace uinet::capi;

namespace uinet::capi {

void Waiter::bump() {
    {
        std::lock_guard lk(mu_);
        ++seq_;
        for (SetWaiter* s : sets_) {
            std::lock_guard sl(s->mu);
            s->fired = true;
            s->cv.notify_all();
        }
    }
    cv_.notify_all();
}

void Waiter::add(SetWaiter* s) {
    std::lock_guard lk(mu_);
    sets_.push_back(s);
}

void Waiter::remove(SetWaiter* s) {
    std::lock_guard lk(mu_);
    std::erase(sets_, s);
}

SteadyTime deadline_after(std::int64_t timeout_us) {
    if (timeout_us <= 0) return SteadyTime::max();
    return std::chrono::steady_clock::now() + std::chrono::microseconds(timeout_us);
}

Endpoint to_endpoint(const uinet_sockaddr_in& sin) {
    const auto* a = reinterpret_cast<const std::uint8_t*>(&sin.sin_addr.s_addr);
    const auto* p = reinterpret_cast<const std::uint8_t*>(&sin.sin_port);
    return Endpoint{Ipv4Addr::of(a[0], a[1], a[2], a[3]), Port(static_cast<std::uint16_t>((p[0] << 8) | p[1]))};
}

void from_endpoint(const Endpoint& ep, uinet_sockaddr_in* out) {
    std::memset(out, 0, sizeof *out);
    out->sin_len = sizeof *out;
    out->sin_family = UINET_AF_INET;
    auto* a = reinterpret_cast<std::uint8_t*>(&out->sin_addr.s_addr);
    auto* p = reinterpret_cast<std::uint8_t*>(&out->sin_port);
    const std::uint32_t v = ep.addr.value();
    a[0] = static_cast<std::uint8_t>(v >> 24);
    a[1] = static_cast<std::uint8_t>(v >> 16);
    a[2] = static_cast<std::uint8_t>(v >> 8);
    a[3] = static_cast<std::uint8_t>(v);
    p[0] = static_cast<std::uint8_t>(ep.port.value() >> 8);
    p[1] = static_cast<std::uint8_t>(ep.port.value());
}

}  // namespace uinet::capi

namespace {

MacAddr random_mac(Random& r) {
    std::array<std::uint8_t, 6> b{};
    r.fill(MutBytes(b.data(), b.size()));
    b[0] = static_cast<std::uint8_t>((b[0] & 0xfe) | 0x02);  // unicast, locally administered
    return MacAddr(b);
}

int add_iface(uinet_instance* inst, std::unique_ptr<Device> dev, MacAddr mac, Ipv4Cidr cidr, uinet_if_t* out) {
    net::InterfaceConfig ic;
    ic.mac = mac;
    ic.ipv4 = {cidr};
    net::IfIndex i = inst->stack->add_interface(std::move(dev), std::move(ic));
    if (out) *out = i;
    return 0;
}

void wake_all(uinet_instance* inst) {
    std::lock_guard lk(inst->sockets_mu);
    for (uinet_socket* so : inst->sockets) so->waiter.bump();
}

}  // namespace

extern "C" {

void uinet_instance_default_cfg(struct uinet_instance_cfg* cfg) {
    if (!cfg) return;
    StackOptions d;
    cfg->name = "uinet";
    cfg->blackhole = d.net.blackhole ? 1 : 0;
    cfg->pool_buffers = static_cast<std::uint32_t>(d.pool.count);
    cfg->pool_buffer_size = static_cast<std::uint32_t>(d.pool.buf_size);
}

int uinet_instance_create(const struct uinet_instance_cfg* cfg, uinet_instance_t** out) {
    if (!out) return EINVAL;
    *out = nullptr;
    return guarded([&] {
        uinet_instance_cfg c;
        uinet_instance_default_cfg(&c);
        if (cfg) c = *cfg;
        StackOptions o;
        if (c.name && *c.name) o.name = c.name;
        o.net.blackhole = c.blackhole != 0;
        if (c.pool_buffers == 0 || c.pool_buffer_size < o.pool.headroom + 128) return EINVAL;
        o.pool.count = c.pool_buffers;
        o.pool.buf_size = c.pool_buffer_size;
        auto inst = std::make_unique<uinet_instance>();
        inst->stack = std::make_unique<Stack>(inst->host.host(), o);
        *out = inst.release();
        return 0;
    });
}

int uinet_instance_start(uinet_instance_t* inst) {
    if (!inst) return EINVAL;
    if (inst->stack->on_stack_thread()) return EALREADY;
    return guarded([&] {
        std::unique_lock lk(inst->run_mu);
        if (inst->thread) return EALREADY;
        auto ready = std::make_shared<std::promise<void>>();
        auto fut = ready->get_future();
        inst->stack->post([ready] { ready->set_value(); });
        Stack* st = inst->stack.get();
        inst->thread = inst->host.threads.start(st->name(), [st] { st->run(); });
        if (!inst->thread) return EAGAIN;  // the posted function runs at the next start
        fut.wait();
        return 0;
    });
}

int uinet_instance_stop(uinet_instance_t* inst) {
    if (!inst) return EINVAL;
    if (inst->stack->on_stack_thread()) return EDEADLK;
    return guarded([&] {
        {
            std::unique_lock lk(inst->run_mu);
            if (!inst->thread) return 0;
            inst->stack->stop();
            inst->thread->join();
            inst->thread.reset();
        }
        wake_all(inst);
        return 0;
    });
}

int uinet_instance_destroy(uinet_instance_t* inst) {
    if (!inst) return EINVAL;
    if (inst->stack->on_stack_thread()) return EDEADLK;
    int e = uinet_instance_stop(inst);
    if (e != 0) return e;
    std::unordered_set<uinet_socket*> left;
    {
        std::lock_guard lk(inst->sockets_mu);
        left.swap(inst->sockets);
    }
    inst->stack.reset();
    for (uinet_socket* so : left) delete so;
    delete inst;
    return 0;
}

int uinet_instance_fd(uinet_instance_t* inst) { return inst ? inst->stack->event_fd() : -1; }

int uinet_if_create_tap(uinet_instance_t* inst, const char* tap_name, const char* mac_or_null, const char* cidr,
                        uinet_if_t* out) {
    if (!inst || !tap_name || !cidr) return EINVAL;
    return guarded([&] {
        auto c = Ipv4Cidr::parse(cidr);
        if (!c) return EINVAL;
        MacAddr mac;
        if (mac_or_null) {
            auto m = MacAddr::parse(mac_or_null);
            if (!m || m->is_multicast() || m->is_zero()) return EINVAL;
            mac = *m;
        } else {
            mac = random_mac(inst->host.random);
        }
        std::string name = tap_name;
        return inst->configure([&] {
            auto dev = TapDevice::open(name, inst->stack->pool());
            if (!dev) {
                const std::string& m = dev.error();
                if (m.rfind("permission", 0) == 0) return EPERM;
                if (m.rfind("device busy", 0) == 0) return EBUSY;
                if (m.rfind("name too long", 0) == 0) return EINVAL;
                return ENXIO;
            }
            return add_iface(inst, std::move(*dev), mac, *c, out);
        });
    });
}

int uinet_memlink_create(uinet_instance_t* inst_a, const char* cidr_a, uinet_instance_t* inst_b, const char* cidr_b) {
    if (!inst_a || !inst_b || inst_a == inst_b || !cidr_a || !cidr_b) return EINVAL;
    return guarded([&] {
        auto ca = Ipv4Cidr::parse(cidr_a);
        auto cb = Ipv4Cidr::parse(cidr_b);
        if (!ca || !cb) return EINVAL;
        auto [ea, eb] = make_mem_pipe(inst_a->stack->pool(), inst_b->stack->pool(), MemLinkConfig{},
                                      inst_a->stack->name() + "-mem", inst_b->stack->name() + "-mem");
        MacAddr ma = random_mac(inst_a->host.random);
        MacAddr mb = random_mac(inst_b->host.random);
        if (ma == mb) mb = MacAddr({0x02, 0, 0, 0, 0, static_cast<std::uint8_t>(ma.bytes()[5] ^ 1)});
        std::unique_ptr<Device> da = std::move(ea), db = std::move(eb);
        int e = inst_a->configure([&] { return add_iface(inst_a, std::move(da), ma, *ca, nullptr); });
        if (e != 0) return e;
        return inst_b->configure([&] { return add_iface(inst_b, std::move(db), mb, *cb, nullptr); });
    });
}

int uinet_add_route(uinet_instance_t* inst, const char* cidr, const char* gateway) {
    if (!inst || !cidr || !gateway) return EINVAL;
    return guarded([&] {
        auto c = Ipv4Cidr::parse(cidr);
        auto g = Ipv4Addr::parse(gateway);
        if (!c || !g) return EINVAL;
        return inst->configure([&] { return inst->stack->add_route(*c, *g) ? 0 : ENETUNREACH; });
    });
}

int uinet_inet_pton(const char* src, struct uinet_in_addr* dst) {
    if (!src || !dst) return EINVAL;
    return guarded([&] {
        auto a = Ipv4Addr::parse(src);
        if (!a) return EINVAL;
        uinet_sockaddr_in sin;
        from_endpoint(Endpoint{*a, Port(0)}, &sin);
        *dst = sin.sin_addr;
        return 0;
    });
}

int uinet_inet_ntop(const struct uinet_in_addr* src, char* dst, size_t size) {
    if (!src || !dst) return EINVAL;
    if (size < 16) return ENOSPC;
    uinet_sockaddr_in sin{};
    sin.sin_addr = *src;
    const std::uint32_t v = to_endpoint(sin).addr.value();
    std::snprintf(dst, size, "%u.%u.%u.%u", v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
    return 0;
}

int uinet_sockaddr_in_set(struct uinet_sockaddr_in* sin, const char* ip_or_null, uint16_t port) {
    if (!sin) return EINVAL;
    return guarded([&] {
        Ipv4Addr a;
        if (ip_or_null) {
            auto p = Ipv4Addr::parse(ip_or_null);
            if (!p) return EINVAL;
            a = *p;
        }
        from_endpoint(Endpoint{a, Port(port)}, sin);
        return 0;
    });
}

}  // extern "C"
