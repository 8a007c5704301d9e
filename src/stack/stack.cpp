// stack/stack.cpp — the stack instance and its event loop.
#include "stack/stack.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>

namespace uinet {

int to_errno(CallError e) {
    switch (e) {
        case CallError::deadlock: return EDEADLK;
        case CallError::not_running: return ENOTCONN;
        case CallError::cancelled: return ECANCELED;
    }
    return EINVAL;
}

Stack::Stack(const Host& host, StackOptions opts)
    : host_(host),
      opts_(std::move(opts)),
      pool_(opts_.pool),
      net_(pool_, opts_.net),
      udp_(net_, *host_.random, opts_.udp),
      tcp_(net_, *host_.random, opts_.tcp),
      udp_sockets_(sockets_, udp_),
      tcp_sockets_(sockets_, tcp_) {
    rxbuf_.resize(opts_.rx_batch == 0 ? 1 : opts_.rx_batch);
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    watch_fd(mailbox_.fd());
    if (host_.clock) now_ = host_.clock->now();
}

Stack::~Stack() {
    // Drop every queued packet before the pool goes away.
    rxbuf_.clear();
    if (epfd_ >= 0) ::close(epfd_);
}

void Stack::watch_fd(int fd) {
    if (fd < 0 || epfd_ < 0) return;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
}

net::IfIndex Stack::add_interface(std::unique_ptr<Device> dev, net::InterfaceConfig cfg) {
    int fd = dev->poll_fd();
    if (cfg.name.empty()) cfg.name = dev->name();
    net::IfIndex i = net_.add_interface(now_, std::move(dev), std::move(cfg));
    watch_fd(fd);
    return i;
}

bool Stack::set_first_look(net::IfIndex ifindex, net::FirstLookHook hook) {
    net::Interface* ifc = net_.interface(ifindex);
    if (ifc == nullptr) return false;
    ifc->first_look = std::move(hook);
    return true;
}

bool Stack::add_route(Ipv4Cidr dst, Ipv4Addr gateway, net::IfIndex ifindex) {
    if (ifindex == 0) {
        for (const auto& ifc : net_.interfaces())
            for (const auto& c : ifc->config().ipv4)
                if (c.contains(gateway)) ifindex = ifc->index();
    }
    if (ifindex == 0 || !net_.interface(ifindex)) return false;
    net_.routes().add(net::Route{dst, gateway, ifindex});
    return true;
}

Instant Stack::poll(Instant now) {
    now_ = now;
    ++polls_;
    mailbox_.drain();
    bool more_rx = false;
    for (const auto& ifc : net_.interfaces()) {
        // A few batches per device per iteration keeps devices fair.
        for (int round = 0; round < 4; ++round) {
            std::size_t n = ifc->device().receive(now, rxbuf_);
            for (std::size_t i = 0; i < n; ++i) {
                rxbuf_[i].meta().ifindex = ifc->index();
                net_.input(now, *ifc, std::move(rxbuf_[i]));
            }
            if (n < rxbuf_.size()) break;
            if (round == 3) more_rx = true;
        }
    }
    net_.poll(now);
    tcp_.poll(now);
    sockets_.deliver();
    for (const auto& ifc : net_.interfaces()) {
        if (ifc->txq.empty()) continue;
        std::size_t sent = ifc->device().transmit(now, ifc->txq);
        net_.note_tx_dropped(ifc->txq.size() - sent);
        ifc->txq.clear();
    }
    Instant next = next_deadline();
    return more_rx ? now : next;
}

Instant Stack::next_deadline() const {
    Instant t = earliest(net_.next_deadline(), tcp_.next_deadline());
    for (const auto& ifc : net_.interfaces()) t = earliest(t, ifc->device().next_deadline());
    if (sockets_.has_pending() || !mailbox_.empty()) t = earliest(t, now_);
    return t;
}

bool Stack::on_stack_thread() const {
    return loop_thread_.load(std::memory_order_acquire) == std::this_thread::get_id();
}

void Stack::post(std::function<void()> fn) {
    mailbox_.post([f = std::move(fn)](bool cancelled) {
        if (!cancelled) f();
    });
}

void Stack::post_syn_verdict(tcp::SynHandle h, tcp::SynVerdict v) {
    if (on_stack_thread()) {
        (void)tcp_sockets_.deliver_syn_verdict(now_, h, v);
        return;
    }
    post([this, h, v] { (void)tcp_sockets_.deliver_syn_verdict(now_, h, v); });
}

void Stack::run() {
    mailbox_.open();
    loop_thread_.store(std::this_thread::get_id(), std::memory_order_release);
    running_.store(true, std::memory_order_release);
    epoll_event evs[16];
    while (!stop_.load(std::memory_order_acquire)) {
        Instant next = poll(host_.clock->now());
        int timeout_ms = -1;
        if (!next.is_never()) {
            Duration wait = next - host_.clock->now();
            timeout_ms = wait <= Duration::zero() ? 0 : static_cast<int>((wait.ns() + 999999) / 1000000);
        }
        int n = ::epoll_wait(epfd_, evs, 16, timeout_ms);
        if (n < 0 && errno != EINTR) break;
    }
    running_.store(false, std::memory_order_release);
    // Anyone still waiting in call() is released with `cancelled`, and no
    // new call can be posted until the loop runs again.
    mailbox_.close();
    loop_thread_.store(std::thread::id{}, std::memory_order_release);
    stop_.store(false, std::memory_order_release);
}

void Stack::stop() {
    stop_.store(true, std::memory_order_release);
    mailbox_.post([](bool) {});  // wakes the loop
}

std::string Stack::counters_json() const {
    std::ostringstream out;
    out << "{\"stack\":\"" << opts_.name << "\"";
    std::string section;
    visit_counters([&](const char* sec, const char* name, std::uint64_t v) {
        if (section != sec) {
            out << (section.empty() ? "" : "}") << ",\"" << sec << "\":{";
            section = sec;
        } else {
            out << ",";
        }
        out << "\"" << name << "\":" << v;
    });
    if (!section.empty()) out << "}";
    out << "}";
    return out.str();
}

}  // namespace uinet
