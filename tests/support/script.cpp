// tests/support/script.cpp — the Script runner: virtual time, injection,
// expectations, checksum verification of everything the stack sends, and
// failure reports.
#include "script.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

namespace uinet::test {

namespace {
constexpr int kMaxPollsPerInstant = 10000;  // a stack that never settles is a bug, not a hang
constexpr std::size_t kNone = SIZE_MAX;
}  // namespace

// Fragments of one datagram the stack sent, kept until complete so that the
// L4 checksum (which covers the whole datagram) can be verified.
struct Script::FragBuf {
    Ipv4Addr src, dst;
    std::uint16_t ident = 0;
    std::uint8_t proto = 0;
    std::vector<std::pair<std::size_t, std::vector<std::uint8_t>>> pieces;
    std::optional<std::size_t> end;
    std::vector<std::size_t> frames;
};

Script::Script(ScriptOptions opts, Where w)
    : opts_(std::move(opts)), random_(opts_.seed), where_(w), born_(w) {
    start_ = now_ = scripted_ = Instant::from_ns(1'000'000'000);
    clock_.set(start_);
    host_.clock = &clock_;
    host_.random = &random_;
    host_.logger = &logger_;
    StackOptions so = opts_.stack;
    so.net.blackhole = opts_.blackhole;
    stack_ = std::make_unique<Stack>(host_, so);
    auto dev = std::make_unique<ScriptDevice>(stack_->pool(), opts_.mtu);
    dev_ = dev.get();
    net::InterfaceConfig ic;
    ic.name = "script0";
    ic.mac = opts_.us.mac;
    ic.ipv4 = {Ipv4Cidr{opts_.us.ip, opts_.prefix_len}};
    ic.vlans = opts_.vlans;
    ic.promiscuous = opts_.promiscuous;
    ic.announce = opts_.announce;
    ifindex_ = stack_->add_interface(std::move(dev), ic);
    if (opts_.learn_peer) {
        std::vector<Packet> released;
        interface().arp().update(now_, opts_.peer.ip, opts_.peer.mac, true, released);
    }
    settle();  // sends the announcement, if any, at t=0
}

Script::~Script() {
    if (!finished_) finish(born_);
}

// ---- time -------------------------------------------------------------------

void Script::step(const Where& w) { where_ = w; }

void Script::poll_at(Instant t) {
    if (t < now_) t = now_;
    now_ = t;
    clock_.set(t);
    stack_->poll(t);
    collect();
}

void Script::settle() {
    for (int i = 0;; ++i) {
        poll_at(now_);
        if (stack_->next_deadline() > now_) return;
        if (i == kMaxPollsPerInstant) {
            misuse(where_, "the stack asks to be polled again and again at " + format_time(now()));
            return;
        }
    }
}

void Script::advance_to(Instant t, bool stop_on_frame) {
    settle();
    Instant last = now_;
    int same = 0;
    while (!(stop_on_frame && first_unmatched() != kNone)) {
        Instant d = stack_->next_deadline();
        if (d.is_never() || d > t) break;
        if (d < now_) d = now_;
        if (d == last && ++same > kMaxPollsPerInstant) {
            misuse(where_, "the stack's deadline is stuck at " + format_time(d - start_));
            return;
        }
        if (d != last) same = 0;
        last = d;
        poll_at(d);
    }
    if (stop_on_frame && first_unmatched() != kNone) return;
    if (now_ < t) poll_at(t);
    settle();
}

Script& Script::at(Duration t, Where w) {
    step(w);
    Instant target = start_ + t;
    if (target < scripted_) {
        misuse(w, "time goes backwards: at(" + format_time(t) + ") after at(" + format_time(scripted_ - start_) + ")");
        return *this;
    }
    scripted_ = target;
    // A within() expectation may have waited past t already: then t is now.
    advance_to(target, false);
    return *this;
}

Script& Script::after(Duration d, Where w) { return at(now() + d, w); }

// ---- frames in --------------------------------------------------------------

Script& Script::inject(const PacketSpec& p, Where w) { return inject(std::vector<PacketSpec>{p}, w); }

Script& Script::inject(const std::vector<PacketSpec>& batch, Where w) {
    step(w);
    settle();  // frames the API queued go out before this input is seen
    for (const PacketSpec& p : batch) {
        auto bytes = test::render(p, vars_);
        if (!bytes) {
            misuse(w, "inject: " + bytes.error() + "\n  pattern: " + p.describe());
            return *this;
        }
        dev_->inject(*bytes);
        Decoded d = decode(std::move(*bytes));
        d.index = injected_count_++;
        d.at = now();
        injected_.push_back(std::move(d));
        if (injected_.size() > 8) injected_.erase(injected_.begin());
    }
    settle();
    return *this;
}

// ---- frames out -------------------------------------------------------------

void Script::collect() {
    auto& frames = dev_->sent;
    for (std::size_t i = 0; i < frames.size(); ++i) {
        Decoded d = decode(std::move(frames[i]));
        d.index = sent_.size();
        d.at = dev_->sent_at[i] - start_;
        verify_sent(d);
        std::uint8_t st = 0;
        for (const PacketSpec& ign : ignores_)
            if (match(ign, d, vars_).ok) st = 2;
        sent_.push_back(std::move(d));
        state_.push_back(st);
    }
    frames.clear();
    dev_->sent_at.clear();
}

void Script::verify_sent(const Decoded& d) {
    if (!d.problems.empty()) {
        fail(where_, "the stack sent a frame that does not verify", "    " + d.line());
        return;
    }
    if (d.l4 == PacketSpec::L4::udp && d.l4_csum == 0) {
        fail(where_, "the stack sent a UDP datagram without a checksum", "    " + d.line());
        return;
    }
    if (!d.is_fragment()) return;
    const wire::Ipv4Repr& ip = *d.ip;
    FragBuf* fb = nullptr;
    for (auto& f : frags_)
        if (f->src == ip.src && f->dst == ip.dst && f->ident == ip.ident && f->proto == ip.protocol) fb = f.get();
    if (!fb) {
        frags_.push_back(std::make_unique<FragBuf>());
        fb = frags_.back().get();
        fb->src = ip.src;
        fb->dst = ip.dst;
        fb->ident = ip.ident;
        fb->proto = ip.protocol;
    }
    Bytes piece = d.ip_bytes().subspan(ip.header_len);
    fb->pieces.emplace_back(ip.frag_offset, std::vector<std::uint8_t>(piece.begin(), piece.end()));
    fb->frames.push_back(d.index);
    if (!ip.more_frags) fb->end = ip.frag_offset + piece.size();
    if (!fb->end) return;
    std::sort(fb->pieces.begin(), fb->pieces.end());
    std::vector<std::uint8_t> all;
    for (const auto& [off, bytes] : fb->pieces) {
        if (off > all.size()) return;  // a hole: not complete yet
        if (off + bytes.size() > all.size())
            all.insert(all.end(), bytes.begin() + static_cast<std::ptrdiff_t>(all.size() - off), bytes.end());
    }
    if (all.size() < *fb->end) return;
    std::string frames;
    for (std::size_t i : fb->frames) frames += " #" + std::to_string(i);
    std::string err;
    if (fb->proto == wire::ip_proto::udp) {
        auto r = wire::UdpRepr::parse(all, fb->src, fb->dst, true);
        if (!r) err = std::string("UDP: ") + wire::to_string(r.error());
    } else if (fb->proto == wire::ip_proto::tcp) {
        auto r = wire::TcpRepr::parse(all, fb->src, fb->dst, true);
        if (!r) err = std::string("TCP: ") + wire::to_string(r.error());
    } else if (fb->proto == wire::ip_proto::icmp) {
        auto r = wire::Icmpv4Repr::parse(all, true);
        if (!r) err = std::string("ICMP: ") + wire::to_string(r.error());
    }
    frags_.erase(std::find_if(frags_.begin(), frags_.end(), [&](const auto& f) { return f.get() == fb; }));
    if (!err.empty())
        fail(where_, "the stack sent a fragmented datagram that does not verify once reassembled (frames" + frames + ")",
             "    " + err);
}

std::size_t Script::first_unmatched() const {
    for (std::size_t i = 0; i < state_.size(); ++i)
        if (state_[i] == 0) return i;
    return kNone;
}

Script& Script::ignore(const PacketSpec& p) {
    ignores_.push_back(p);
    for (std::size_t i = 0; i < sent_.size(); ++i)
        if (state_[i] == 0 && match(p, sent_[i], vars_).ok) state_[i] = 2;
    return *this;
}

std::string Script::candidates(const PacketSpec* p) const {
    std::ostringstream o;
    bool any_left = false;
    for (std::size_t i = 0; i < sent_.size(); ++i) {
        if (state_[i] != 0) continue;
        if (!any_left) o << "  unmatched frames sent by the stack (oldest first):\n";
        any_left = true;
        o << "    " << sent_[i].line() << "\n";
        if (p) {
            MatchResult r = match(*p, sent_[i], vars_);
            for (const auto& why : r.why) o << "        mismatch " << why << "\n";
            if (r.ok) o << "        (matches the pattern)\n";
        }
    }
    if (!any_left) {
        o << "  no unmatched frame; the stack sent " << sent_.size() << " frame(s) in all";
        if (!sent_.empty()) {
            o << ", the last ones:\n";
            for (std::size_t i = sent_.size() > 3 ? sent_.size() - 3 : 0; i < sent_.size(); ++i)
                o << "    " << sent_[i].line() << (state_[i] == 2 ? "  (ignored)" : "  (matched)") << "\n";
        } else {
            o << "\n";
        }
    }
    if (!injected_.empty()) {
        o << "  last frames injected:\n";
        for (const auto& d : injected_) o << "    in " << d.line() << "\n";
    }
    std::size_t nlog = logger_.lines.size();
    if (nlog) {
        o << "  stack log (last lines):\n";
        for (std::size_t i = nlog > 5 ? nlog - 5 : 0; i < nlog; ++i) o << "    " << logger_.lines[i].text << "\n";
    }
    return o.str();
}

Script& Script::expect(const PacketSpec& p, Where w) {
    step(w);
    // The expectation's time is the scripted one, even if an earlier
    // within() waited past it.
    const Instant target = scripted_;
    const Duration tol = p.tolerance();
    settle();
    std::size_t i = first_unmatched();
    if (i == kNone && tol > Duration::zero()) {
        advance_to(target + tol, true);
        i = first_unmatched();
    }
    const std::string head = "expected at " + format_time(target - start_) +
                             (tol > Duration::zero() ? " +- " + format_time(tol) : std::string()) + ":\n    " +
                             p.describe() + "\n";
    if (i == kNone) {
        fail(w, "no frame was sent", head + candidates(&p));
        return *this;
    }
    const Decoded& d = sent_[i];
    MatchResult r = match(p, d, vars_);
    if (!r.script_error.empty()) {
        misuse(w, "expect: " + r.script_error);
        return *this;
    }
    if (!r.ok) {
        std::string note;
        for (std::size_t j = i + 1; j < sent_.size(); ++j)
            if (state_[j] == 0 && match(p, sent_[j], vars_).ok) {
                note = "  frame #" + std::to_string(j) + " matches: frames out of order, or an unexpected frame first\n";
                break;
            }
        fail(w, "the next frame the stack sent does not match", head + note + candidates(&p));
        return *this;
    }
    if (d.at < (target - start_) - tol) {
        fail(w, "frame sent too early, at " + format_time(d.at), head + candidates(&p));
        return *this;
    }
    if (d.at > (target - start_) + tol) {
        fail(w, "frame sent too late, at " + format_time(d.at), head + candidates(&p));
        return *this;
    }
    state_[i] = 1;
    last_ = i;
    for (auto& [k, v] : r.bound) vars_[k] = v;
    return *this;
}

Script& Script::expect_unordered(const std::vector<PacketSpec>& ps, Where w) {
    step(w);
    settle();
    std::vector<std::size_t> idx;
    for (std::size_t i = 0; i < state_.size() && idx.size() < ps.size(); ++i)
        if (state_[i] == 0) idx.push_back(i);
    const Duration t = scripted_ - start_;
    std::string head = "expected at " + format_time(t) + ", in any order:\n";
    for (const auto& p : ps) head += "    " + p.describe() + "\n";
    if (idx.size() < ps.size()) {
        fail(w, std::to_string(ps.size()) + " frames expected, " + std::to_string(idx.size()) + " sent", head + candidates(nullptr));
        return *this;
    }
    // ok[j][k]: pattern j matches frame idx[k] (in time); then a small
    // backtracking search for a one-to-one assignment.
    const std::size_t n = ps.size();
    std::vector<std::vector<char>> ok(n, std::vector<char>(n, 0));
    for (std::size_t j = 0; j < n; ++j)
        for (std::size_t k = 0; k < n; ++k) {
            const Decoded& d = sent_[idx[k]];
            MatchResult r = match(ps[j], d, vars_);
            if (!r.script_error.empty()) {
                misuse(w, "expect_unordered: " + r.script_error);
                return *this;
            }
            ok[j][k] = r.ok && d.at >= t - ps[j].tolerance() && d.at <= t + ps[j].tolerance();
        }
    std::vector<std::size_t> pick(n, kNone);
    std::vector<char> used(n, 0);
    auto solve = [&](auto& self, std::size_t j) -> bool {
        if (j == n) return true;
        for (std::size_t k = 0; k < n; ++k) {
            if (used[k] || !ok[j][k]) continue;
            used[k] = 1;
            pick[j] = k;
            if (self(self, j + 1)) return true;
            used[k] = 0;
        }
        return false;
    };
    if (!solve(solve, 0)) {
        std::string detail = head + "  the oldest " + std::to_string(n) + " unmatched frames:\n";
        for (std::size_t k = 0; k < n; ++k) {
            detail += "    " + sent_[idx[k]].line() + "\n";
            for (std::size_t j = 0; j < n; ++j)
                detail += "        pattern " + std::to_string(j + 1) + (ok[j][k] ? ": matches\n" : ": no match\n");
        }
        fail(w, "no one-to-one match between the patterns and the frames", detail + candidates(nullptr));
        return *this;
    }
    for (std::size_t j = 0; j < n; ++j) {
        MatchResult r = match(ps[j], sent_[idx[pick[j]]], vars_);
        for (auto& [k, v] : r.bound) vars_[k] = v;
        state_[idx[pick[j]]] = 1;
        last_ = idx[pick[j]];
    }
    return *this;
}

Script& Script::expect_nothing(Where w) {
    step(w);
    settle();
    if (first_unmatched() != kNone) fail(w, "expected no frame by " + format_time(now()), candidates(nullptr));
    return *this;
}

void Script::finish(Where w) {
    if (finished_) return;
    finished_ = true;
    step(w);
    settle();
    if (!allow_extra_ && first_unmatched() != kNone)
        fail(w, "the script ended with frames nobody expected (allow_extra() to permit)", candidates(nullptr));
}

// ---- failures -----------------------------------------------------------------

void Script::fail(const Where& w, const std::string& what, const std::string& detail) {
    if (failed_) return;
    failed_ = true;
    ADD_FAILURE_AT(w.file, w.line) << "script at " << format_time(now()) << ": " << what << "\n" << detail;
}

void Script::misuse(const Where& w, const std::string& what) {
    if (failed_) return;
    failed_ = true;
    GTEST_FAIL_AT(w.file, w.line) << "script misuse at " << format_time(now()) << ": " << what;
}

// ---- access -------------------------------------------------------------------

std::uint64_t Script::counter(std::string_view name, Where w) {
    settle();
    std::optional<std::uint64_t> v;
    stack_->visit_counters([&](const char* sec, const char* n, std::uint64_t x) {
        std::string full = std::string(sec) + "." + n;
        if (full == name) v = x;
    });
    if (!v) misuse(w, "no counter named " + std::string(name));
    return v.value_or(0);
}

std::uint64_t Script::value(std::string_view name, Where w) {
    auto it = vars_.find(name);
    if (it == vars_.end()) {
        misuse(w, "undefined variable $" + std::string(name));
        return 0;
    }
    return it->second;
}

std::vector<std::uint8_t> Script::render(const PacketSpec& p, Where w) {
    auto r = test::render(p, vars_);
    if (!r) {
        misuse(w, "render: " + r.error());
        return {};
    }
    return std::move(*r);
}

Upcall Script::recorder(std::string tag, Upcall then) {
    return [this, tag = std::move(tag), then = std::move(then)](SocketId id, std::uint32_t ev) {
        events_.push_back(ScriptEvent{now(), tag, id, ev});
        if (then) then(id, ev);
    };
}

const Decoded& Script::last() const { return last_ == kNone ? none_ : sent_[last_]; }

}  // namespace uinet::test
