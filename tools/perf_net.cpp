// tools/perf_net.cpp — network namespaces for `uinet perf` (see
// perf_net.hpp): made with `ip netns add`, entered with setns(), deleted
// with `ip netns del` on every way out but SIGKILL.
#include "perf_net.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace uinet::tools::perf {

namespace {

sigset_t exit_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    return set;
}

}  // namespace

bool run_ip(const std::vector<std::string>& args, bool quiet) {
    std::vector<std::string> all{"ip"};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    if (quiet) posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);  // the child must not inherit our blocked signals
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    pid_t pid = -1;
    const int rc = ::posix_spawnp(&pid, "ip", &fa, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        if (!quiet) std::fprintf(stderr, "uinet perf: cannot run ip: %s\n", std::strerror(rc));
        return false;
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) return false;
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool can_make_namespaces() { return ::geteuid() == 0 && run_ip({"-V"}, true); }

bool enter_netns(const std::string& name, std::string& error) {
    if (name.empty()) return true;
    const std::string path = "/run/netns/" + name;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        error = "cannot open " + path + ": " + std::strerror(errno);
        return false;
    }
    const int rc = ::setns(fd, CLONE_NEWNET);
    const int e = errno;
    ::close(fd);
    if (rc != 0) {
        error = "setns into " + name + ": " + std::strerror(e);
        return false;
    }
    return true;
}

std::string ip4_text(std::uint32_t a) {
    return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." + std::to_string((a >> 8) & 255) +
           "." + std::to_string(a & 255);
}

PerfNet::PerfNet() {
    const std::string base = "uinet-perf-" + std::to_string(::getpid());
    ns_a_ = base + "-a";
    ns_b_ = base + "-b";
    ns_t_ = base + "-t";
    tap_ = "tperf" + std::to_string(::getpid() % 10'000'000);
    const sigset_t set = exit_signals();
    masked_ = ::pthread_sigmask(SIG_BLOCK, &set, nullptr) == 0;
    if (masked_) watcher_ = std::thread([this] { watch(); });
}

PerfNet::~PerfNet() {
    quit_ = true;
    if (watcher_.joinable()) watcher_.join();
    delete_all();
    if (masked_) {
        const sigset_t set = exit_signals();
        ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    }
}

void PerfNet::watch() {
    const sigset_t set = exit_signals();
    while (!quit_) {
        timespec ts{0, 200'000'000};
        siginfo_t info{};
        const int sig = ::sigtimedwait(&set, &info, &ts);
        if (sig <= 0) continue;
        std::fprintf(stderr, "uinet perf: %s: removing the namespaces it made\n", ::strsignal(sig));
        delete_all();
        std::_Exit(128 + sig);
    }
}

bool PerfNet::add_ns(const std::string& name, std::string& error) {
    {
        std::lock_guard<std::mutex> lk(mu_);
        for (const std::string& n : made_)
            if (n == name) return true;
        made_.push_back(name);  // before it exists: a signal meanwhile still removes it
    }
    if (!run_ip({"netns", "add", name}) || !run_ip({"-n", name, "link", "set", "lo", "up"})) {
        error = "cannot make network namespace " + name;
        return false;
    }
    return true;
}

void PerfNet::delete_all() {
    std::vector<std::string> names;
    {
        std::lock_guard<std::mutex> lk(mu_);
        names.swap(made_);
    }
    for (const std::string& n : names) run_ip({"netns", "del", n}, true);
}

bool PerfNet::make_veth(std::uint32_t mtu, std::string& error) {
    if (!add_ns(ns_a_, error) || !add_ns(ns_b_, error)) return false;
    const std::string m = std::to_string(mtu);
    const bool ok = run_ip({"-n", ns_a_, "link", "add", "veth-a", "mtu", m, "type", "veth", "peer", "name",
                            "veth-b", "mtu", m, "netns", ns_b_}) &&
                    run_ip({"-n", ns_a_, "addr", "add", ip4_text(kVethClientIp) + "/24", "dev", "veth-a"}) &&
                    run_ip({"-n", ns_b_, "addr", "add", ip4_text(kVethServerIp) + "/24", "dev", "veth-b"}) &&
                    run_ip({"-n", ns_a_, "link", "set", "veth-a", "up"}) &&
                    run_ip({"-n", ns_b_, "link", "set", "veth-b", "up"});
    if (!ok) error = "cannot set up the veth pair between " + ns_a_ + " and " + ns_b_;
    return ok;
}

bool PerfNet::make_tap_ns(std::string& error) { return add_ns(ns_t_, error); }

}  // namespace uinet::tools::perf
