// tests/support/script.hpp — the packet-script harness (DESIGN.md "script").
//
// Contract:
//  * A Script owns ONE Stack on a VirtualClock and a SeededRandom, with one
//    interface on a ScriptDevice ("us": 198.18.0.2/24, 02:00:00:00:00:02)
//    facing a scripted peer (198.18.0.1, 02:00:00:00:00:01) whose MAC is
//    pre-learnt in the ARP cache unless ScriptOptions::learn_peer is false.
//  * Time moves only when the script says: at(t) polls the stack at every
//    deadline it reports up to t, then at t, so timers fire at their exact
//    instants. Script times are durations since the script started.
//  * inject(spec) renders a frame (checksums computed unless the spec asks
//    for a bad one) and polls the stack at the current time.
//  * expect(spec) consumes exactly one transmitted frame: the oldest one not
//    yet matched (strict order, as packetdrill), which must match every field
//    the spec names (unnamed fields are don't-care) and must have been sent
//    at the expectation's time (within(d): +-d; a frame may be waited for up
//    to t+d). expect_nothing() fails if any transmitted frame is unmatched.
//    Unmatched frames at the end fail the test unless allow_extra().
//  * Every frame the stack sends is decoded and its IPv4, UDP, TCP and ICMP
//    checksums verified (fragmented datagrams once reassembled); a bad one
//    fails the test.
//  * Failures are non-fatal gtest failures at the script line, printing the
//    pattern and every candidate frame decoded on one line each; after the
//    first failure the script stops reporting (no cascades). Misuse of the
//    harness (time going backwards, injecting a wildcard, an undefined
//    variable) is a fatal failure.
//  * Values: literals, `any` (don't care), capture("x") (don't care, and
//    remember the value on a successful match), var("x") + k (the remembered
//    value plus k, modulo the field's width).
// See docs/script-harness.md for the DSL reference.
#pragma once

#include <concepts>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/addr.hpp"
#include "base/result.hpp"
#include "base/seq.hpp"
#include "base/time.hpp"
#include "host/virtual.hpp"
#include "net/net.hpp"
#include "script_device.hpp"
#include "stack/stack.hpp"
#include "wire/arp.hpp"
#include "wire/icmpv4.hpp"
#include "wire/ipv4.hpp"
#include "wire/tcp.hpp"
#include "wire/udp.hpp"
#include "wire/vlan.hpp"

namespace uinet::test {

// ---- time ---------------------------------------------------------------
constexpr Duration usecs(std::int64_t n) { return Duration::micros(n); }
constexpr Duration ms(std::int64_t n) { return Duration::millis(n); }
constexpr Duration sec(std::int64_t n) { return Duration::seconds(n); }
std::string format_time(Duration d);  // "1.000s", "0.0105s"
// "untagged" or "vlan[0x88a8:100,0x8100:200 pcp 5]".
std::string format_vlans(std::span<const wire::VlanTag> tags);

// The script line a step was written on (captured by default arguments).
struct Where {
    const char* file;
    int line;
    Where(const char* f = __builtin_FILE(), int l = __builtin_LINE()) : file(f), line(l) {}
};

// ---- values -------------------------------------------------------------
struct AnyT {
    constexpr AnyT operator()() const { return *this; }  // so both `any` and `any()` read well
};
inline constexpr AnyT any{};

struct Capture {
    std::string name;
};
inline Capture capture(std::string name) { return Capture{std::move(name)}; }

struct VarRef {
    std::string name;
    std::int64_t offset = 0;
    friend VarRef operator+(VarRef v, std::int64_t k) { v.offset += k; return v; }
    friend VarRef operator-(VarRef v, std::int64_t k) { v.offset -= k; return v; }
};
inline VarRef var(std::string name) { return VarRef{std::move(name), 0}; }

class Val {
public:
    enum class Kind : std::uint8_t { literal, wild, capture, var };
    template <std::integral T>
    Val(T v) : lit_(static_cast<std::uint64_t>(v)) {}  // NOLINT: implicit by design
    Val(SeqNum s) : lit_(s.raw()) {}                    // NOLINT
    Val(Port p) : lit_(p.value()) {}                    // NOLINT
    Val(AnyT) : kind_(Kind::wild) {}                    // NOLINT
    Val(Capture c) : kind_(Kind::capture), name_(std::move(c.name)) {}  // NOLINT
    Val(VarRef v) : kind_(Kind::var), name_(std::move(v.name)), off_(v.offset) {}  // NOLINT

    Kind kind() const { return kind_; }
    std::uint64_t literal() const { return lit_; }
    const std::string& name() const { return name_; }
    std::int64_t offset() const { return off_; }
    std::string describe() const;

private:
    Kind kind_ = Kind::literal;
    std::uint64_t lit_ = 0;
    std::string name_;
    std::int64_t off_ = 0;
};

using Vars = std::map<std::string, std::uint64_t, std::less<>>;

class PacketSpec;
struct Decoded;
struct MatchResult;
// Renders a spec for injection; the error names the field that cannot be
// rendered (a wildcard, an undefined variable).
Result<std::vector<std::uint8_t>, std::string> render(const PacketSpec& p, const Vars& vars);
// Compares a decoded frame with a pattern (see MatchResult below).
MatchResult match(const PacketSpec& p, const Decoded& d, const Vars& vars);

// ---- a frame pattern / frame builder -------------------------------------
// The same object describes a frame to inject (unset fields take defaults:
// TTL 64, ident 1, window 65535, zero elsewhere) and a frame to expect
// (unset fields are not compared). Side (below) fills in the addresses.
class PacketSpec {
public:
    enum class Kind : std::uint8_t { raw, eth, arp, ipv4 };
    enum class L4 : std::uint8_t { none, udp, tcp, icmp };

    PacketSpec() = default;
    static PacketSpec raw(std::vector<std::uint8_t> frame);
    static PacketSpec make(Kind k, L4 l4 = L4::none);

    // Ethernet and VLAN.
    PacketSpec& eth_src(const MacAddr& m) { eth_src_ = m; return *this; }
    PacketSpec& eth_dst(const MacAddr& m) { eth_dst_ = m; return *this; }
    PacketSpec& ethertype(Val v) { ethertype_ = std::move(v); return *this; }
    // Appends a tag (outermost first) to the stack the spec has (a Side's
    // frames start with the script's tags: untagged().vlan(...) to spell a
    // stack out). Any number of tags, for hostile input.
    PacketSpec& vlan(std::uint16_t vid, std::uint8_t pcp = 0, std::uint16_t tpid = 0x8100);
    PacketSpec& vlans(const wire::VlanStack& s) { vlans_.emplace(s.begin(), s.end()); return *this; }
    PacketSpec& untagged() { vlans_.emplace(); return *this; }
    PacketSpec& any_vlans() { vlans_.reset(); return *this; }
    PacketSpec& pad_to(std::size_t frame_len) { pad_to_ = frame_len; return *this; }

    // ARP (RFC 826).
    PacketSpec& arp_op(Val v) { arp_op_ = std::move(v); return *this; }
    PacketSpec& arp_sender(const MacAddr& m, Ipv4Addr ip) { arp_smac_ = m; arp_sip_ = ip; return *this; }
    PacketSpec& arp_target(const MacAddr& m, Ipv4Addr ip) { arp_tmac_ = m; arp_tip_ = ip; return *this; }
    PacketSpec& arp_target_ip(Ipv4Addr ip) { arp_tip_ = ip; return *this; }

    // IPv4 (RFC 791). frag_off is in bytes; ip_hl in bytes (injection: the
    // IHL field written; expectation: the header length); ip_len the total
    // length field.
    PacketSpec& ip_src(Ipv4Addr a) { ip_src_ = a; return *this; }
    PacketSpec& ip_dst(Ipv4Addr a) { ip_dst_ = a; return *this; }
    PacketSpec& ip_proto(Val v) { ip_proto_ = std::move(v); return *this; }
    PacketSpec& ttl(Val v) { ttl_ = std::move(v); return *this; }
    PacketSpec& tos(Val v) { tos_ = std::move(v); return *this; }
    PacketSpec& ip_id(Val v) { ip_id_ = std::move(v); return *this; }
    PacketSpec& df(Val v = 1) { df_ = std::move(v); return *this; }
    PacketSpec& mf(Val v = 1) { mf_ = std::move(v); return *this; }
    PacketSpec& frag_off(Val v) { frag_off_ = std::move(v); return *this; }
    PacketSpec& ip_len(Val v) { ip_len_ = std::move(v); return *this; }
    PacketSpec& ip_hl(Val v) { ip_hl_ = std::move(v); return *this; }
    PacketSpec& ip_options(std::vector<std::uint8_t> b) { ip_opts_ = std::move(b); return *this; }
    PacketSpec& ip_checksum(Val v) { ip_csum_ = std::move(v); return *this; }
    PacketSpec& bad_ip_checksum() { bad_ip_csum_ = true; return *this; }
    // Splits this datagram into fragments carrying at most max_payload
    // bytes of IP payload each (a multiple of 8), for injection.
    std::vector<PacketSpec> fragments(std::size_t max_payload) const;

    // UDP and TCP ports; UDP length field.
    PacketSpec& sport(Val v) { sport_ = std::move(v); return *this; }
    PacketSpec& dport(Val v) { dport_ = std::move(v); return *this; }
    PacketSpec& udp_len(Val v) { udp_len_ = std::move(v); return *this; }

    // TCP (RFC 9293 section 3.1). Flag calls accumulate; once any flag is
    // named the flags byte must equal them exactly. flags("S.") takes
    // tcpdump's letters: F S R P . U E W (ack is '.').
    PacketSpec& seq(Val v) { seq_ = std::move(v); return *this; }
    PacketSpec& ack(Val v) { ack_ = std::move(v); return *this; }
    PacketSpec& win(Val v) { win_ = std::move(v); return *this; }
    PacketSpec& urgent(Val v) { urp_ = std::move(v); return *this; }
    PacketSpec& tcp_hl(Val v) { tcp_hl_ = std::move(v); return *this; }  // data offset, in bytes
    PacketSpec& reserved(Val v) { reserved_ = std::move(v); return *this; }  // the 4 bits after doff
    PacketSpec& flags(Val v) { flags_ = std::move(v); return *this; }
    PacketSpec& flags(std::string_view tcpdump_letters);
    PacketSpec& fin() { return add_flag(wire::TcpFlags::fin); }
    PacketSpec& syn() { return add_flag(wire::TcpFlags::syn); }
    PacketSpec& rst() { return add_flag(wire::TcpFlags::rst); }
    PacketSpec& psh() { return add_flag(wire::TcpFlags::psh); }
    PacketSpec& ack_flag() { return add_flag(wire::TcpFlags::ack); }
    PacketSpec& urg() { return add_flag(wire::TcpFlags::urg); }
    PacketSpec& ece() { return add_flag(wire::TcpFlags::ece); }
    PacketSpec& cwr() { return add_flag(wire::TcpFlags::cwr); }
    // TCP options (RFC 9293 3.2, RFC 7323, RFC 2018). Naming any option
    // makes the option set exact (options not named must be absent) unless
    // more_options(); no_options() requires none. Injection emits them in
    // wire/tcp.hpp's fixed layout; tcp_option_bytes() gives raw bytes instead
    // (injected as is, padded with EOL to 4; expected byte for byte).
    PacketSpec& mss(Val v) { opts_named_ = true; mss_ = std::move(v); return *this; }
    PacketSpec& wscale(Val v) { opts_named_ = true; wscale_ = std::move(v); return *this; }
    PacketSpec& sack_ok() { opts_named_ = true; sack_ok_ = true; return *this; }
    PacketSpec& ts(Val tsval, Val tsecr);
    PacketSpec& sack(std::vector<std::pair<Val, Val>> blocks);
    PacketSpec& no_options() { opts_named_ = true; return *this; }
    PacketSpec& more_options() { more_opts_ = true; return *this; }
    PacketSpec& tcp_option_bytes(std::vector<std::uint8_t> b) { tcp_opt_raw_ = std::move(b); return *this; }

    // ICMP (RFC 792). rest = the 4 bytes after the checksum.
    PacketSpec& icmp_type(Val v) { icmp_type_ = std::move(v); return *this; }
    PacketSpec& icmp_code(Val v) { icmp_code_ = std::move(v); return *this; }
    PacketSpec& icmp_rest(Val v) { icmp_rest_ = std::move(v); return *this; }
    PacketSpec& echo(Val id, Val seq);  // echo identifier and sequence (the halves of rest)
    // Expectation: the ICMP body quotes this frame's IP datagram (its
    // header and at least 8 more bytes, byte for byte).
    PacketSpec& quotes(const PacketSpec& original);

    // Any L4 (or the IP payload when there is no L4): checksum value, or a
    // deliberately wrong one for injection.
    PacketSpec& checksum(Val v) { csum_ = std::move(v); return *this; }
    PacketSpec& bad_checksum() { bad_csum_ = true; return *this; }
    PacketSpec& payload(std::string_view text);
    PacketSpec& payload(std::vector<std::uint8_t> bytes) { payload_ = std::move(bytes); return *this; }
    // Injection: n bytes 0,1,2,...; expectation: the payload length only.
    PacketSpec& payload_len(std::size_t n) { payload_len_ = n; return *this; }
    // The whole L4 part (header and data) as given, for hostile input.
    PacketSpec& l4_bytes(std::vector<std::uint8_t> b) { l4_raw_ = std::move(b); return *this; }

    // Injection only, applied after rendering: cut to n bytes; set a byte.
    PacketSpec& truncate(std::size_t n) { truncate_ = n; return *this; }
    PacketSpec& poke(std::size_t offset, std::uint8_t value) { pokes_.emplace_back(offset, value); return *this; }

    // Expectation only: accept the frame sent up to d before or after.
    PacketSpec& within(Duration d) { within_ = d; return *this; }
    Duration tolerance() const { return within_; }

    Kind kind() const { return kind_; }
    L4 l4() const { return l4_; }
    // The pattern as one line: only the fields it names.
    std::string describe() const;

private:
    friend Result<std::vector<std::uint8_t>, std::string> render(const PacketSpec& p, const Vars& vars);
    friend MatchResult match(const PacketSpec& p, const Decoded& d, const Vars& vars);
    PacketSpec& add_flag(std::uint8_t f);
    std::size_t l4_size() const;

    Kind kind_ = Kind::raw;
    L4 l4_ = L4::none;
    std::vector<std::uint8_t> raw_;
    std::optional<MacAddr> eth_src_, eth_dst_;
    std::optional<Val> ethertype_;
    std::optional<std::vector<wire::VlanTag>> vlans_;
    std::size_t pad_to_ = 0;
    std::optional<Val> arp_op_;
    std::optional<MacAddr> arp_smac_, arp_tmac_;
    std::optional<Ipv4Addr> arp_sip_, arp_tip_;
    std::optional<Ipv4Addr> ip_src_, ip_dst_;
    std::optional<Val> ip_proto_, ttl_, tos_, ip_id_, df_, mf_, frag_off_, ip_len_, ip_hl_, ip_csum_;
    std::optional<std::vector<std::uint8_t>> ip_opts_;
    bool bad_ip_csum_ = false;
    struct Slice {
        std::size_t offset = 0, len = 0;
        bool more = false;
    };
    std::optional<Slice> slice_;  // set by fragments()
    std::optional<Val> sport_, dport_, udp_len_;
    std::optional<Val> seq_, ack_, win_, urp_, tcp_hl_, reserved_, flags_;
    bool opts_named_ = false, more_opts_ = false, sack_ok_ = false;
    std::optional<Val> mss_, wscale_;
    std::optional<std::pair<Val, Val>> ts_;
    std::optional<std::vector<std::pair<Val, Val>>> sack_;
    std::optional<std::vector<std::uint8_t>> tcp_opt_raw_;
    std::optional<Val> icmp_type_, icmp_code_, icmp_rest_, echo_id_, echo_seq_;
    std::shared_ptr<const PacketSpec> quotes_;
    std::optional<Val> csum_;
    bool bad_csum_ = false;
    std::optional<std::vector<std::uint8_t>> payload_;
    std::optional<std::size_t> payload_len_;
    std::optional<std::vector<std::uint8_t>> l4_raw_;
    std::optional<std::size_t> truncate_;
    std::vector<std::pair<std::size_t, std::uint8_t>> pokes_;
    Duration within_ = Duration::zero();
};

// A raw frame (bytes as given; expected byte for byte).
inline PacketSpec raw(std::vector<std::uint8_t> frame) { return PacketSpec::raw(std::move(frame)); }

// ---- who sends ----------------------------------------------------------
struct Node {
    MacAddr mac;
    Ipv4Addr ip;
};

// Builders for frames from `self` to `other` on the script's link (with its
// VLAN tags). s.peer() sends to us; s.us() is what we send to the peer.
class Side {
public:
    Side(Node self, Node other, wire::VlanStack vlans) : self_(self), other_(other), vlans_(vlans) {}

    PacketSpec eth(std::uint16_t ethertype) const;  // an Ethernet frame with payload()
    PacketSpec ipv4(Val protocol) const;            // an IPv4 datagram with payload()
    PacketSpec udp(Val sport, Val dport) const;
    PacketSpec tcp(Val sport, Val dport) const;
    PacketSpec icmp(Val type, Val code) const;
    PacketSpec echo_request(Val id, Val seq) const;
    PacketSpec echo_reply(Val id, Val seq) const;
    PacketSpec arp_request(Ipv4Addr target) const;  // broadcast "who has target, tell self"
    PacketSpec arp_reply() const;                   // to other: "self.ip is at self.mac"
    PacketSpec arp_announce() const;                // RFC 5227 gratuitous announcement

    // The same side with another IP destination / source (MACs unchanged).
    Side to(Ipv4Addr ip) const { Side s = *this; s.other_.ip = ip; return s; }
    Side from(Ipv4Addr ip) const { Side s = *this; s.self_.ip = ip; return s; }
    const Node& self() const { return self_; }
    const Node& other() const { return other_; }

private:
    PacketSpec l2(PacketSpec p, const MacAddr& dst) const;
    Node self_, other_;
    wire::VlanStack vlans_;
};

// ---- decoded frames -----------------------------------------------------
struct Decoded {
    std::size_t index = 0;  // order of transmission (or injection)
    Duration at;            // since the script started
    std::vector<std::uint8_t> bytes;
    bool l2_ok = false;
    wire::L2Header l2;
    std::optional<wire::ArpRepr> arp;
    std::optional<wire::Ipv4Repr> ip;
    std::size_t ip_off = 0;
    PacketSpec::L4 l4 = PacketSpec::L4::none;  // decoded L4 header (first fragment or whole datagram)
    std::size_t l4_off = 0;
    wire::UdpRepr udp;
    wire::TcpRepr tcp;
    std::uint8_t tcp_reserved = 0;
    wire::Icmpv4Repr icmp;
    std::uint16_t l4_csum = 0;
    std::size_t payload_off = 0, payload_len = 0;  // L4 payload in this frame (IP payload if no L4)
    std::vector<std::string> problems;              // checksum or format errors

    Bytes payload() const { return Bytes(bytes).subspan(payload_off, payload_len); }
    Bytes ip_bytes() const;  // the IP datagram in this frame (to its total length)
    Bytes tcp_option_bytes() const;
    bool is_fragment() const { return ip && ip->is_fragment(); }
    // One line: index, time, L2/VLAN, ARP or IP, L4 fields, options, payload length.
    std::string line() const;
};

// Decodes a frame; problems lists every check that failed (IP header
// checksum, L4 checksum of unfragmented datagrams, malformed headers).
Decoded decode(std::vector<std::uint8_t> frame);

struct MatchResult {
    bool ok = true;
    std::vector<std::string> why;  // every mismatch, "field: got X, want Y"
    Vars bound;                    // captures made by this match
    std::string script_error;      // misuse found while matching (undefined variable)
};

// ---- the script ---------------------------------------------------------
struct ScriptOptions {
    Node us{MacAddr({0x02, 0, 0, 0, 0, 0x02}), Ipv4Addr::of(198, 18, 0, 2)};
    Node peer{MacAddr({0x02, 0, 0, 0, 0, 0x01}), Ipv4Addr::of(198, 18, 0, 1)};
    std::uint8_t prefix_len = 24;
    wire::VlanStack vlans{};  // tags of our interface (and of both sides' frames)
    bool learn_peer = true;   // the peer's MAC is in the ARP cache from the start
    bool announce = false;    // gratuitous ARP when the interface comes up (at t=0)
    bool blackhole = true;    // the stack's default: no ICMP errors / RSTs for unclaimed traffic
    bool promiscuous = false;
    std::uint32_t mtu = 1500;
    std::uint64_t seed = 1;
    StackOptions stack = small_stack();  // net.blackhole is overridden by `blackhole`
    // A smaller pool, and learnt ARP entries that last a day so that long
    // scripts (TCP timers) see no ARP traffic they did not ask for. Fixed
    // socket buffers: scripts spell out exact windows and window scales
    // (autotuning has its own sims, tests/sim/autotune).
    static StackOptions small_stack() {
        StackOptions o;
        o.name = "script";
        o.tcp.autotune = false;
        o.pool.count = 1024;
        o.net.arp.reachable = Duration::seconds(86400);
        return o;
    }
};

struct ScriptEvent {
    Duration at;
    std::string tag;
    SocketId socket;
    std::uint32_t events = 0;
};

class Script {
public:
    explicit Script(ScriptOptions opts = {}, Where w = {});
    ~Script();
    Script(const Script&) = delete;
    Script& operator=(const Script&) = delete;

    // Time. at(t): move to t (since the start), running every timer due
    // before it at its own instant. after(d): at(now() + d).
    Script& at(Duration t, Where w = {});
    Script& after(Duration d, Where w = {});
    Duration now() const { return now_ - start_; }
    Instant instant() const { return now_; }  // for API calls that take `now`

    // Frames in.
    Script& inject(const PacketSpec& p, Where w = {});
    Script& inject(const std::vector<PacketSpec>& batch, Where w = {});  // one receive batch
    // Frames out.
    Script& expect(const PacketSpec& p, Where w = {});
    // As many frames as patterns, in any order among the oldest unmatched ones.
    Script& expect_unordered(const std::vector<PacketSpec>& ps, Where w = {});
    Script& expect_nothing(Where w = {});
    // Frames matching p are never expected (still checksum-verified).
    Script& ignore(const PacketSpec& p);
    Script& allow_extra() { allow_extra_ = true; return *this; }
    // Final checks (also run by the destructor).
    void finish(Where w = {});

    Side peer() const { return Side(opts_.peer, opts_.us, opts_.vlans); }
    Side us() const { return Side(opts_.us, opts_.peer, opts_.vlans); }
    // Another host on the link, sending to us.
    Side host(Node n) const { return Side(n, opts_.us, opts_.vlans); }
    const ScriptOptions& options() const { return opts_; }

    Stack& stack() { return *stack_; }
    ScriptDevice& device() { return *dev_; }
    net::Interface& interface() { return *stack_->net().interface(ifindex_); }
    // A counter by "section.name" as in Stack::visit_counters ("net.arp_requests_sent").
    std::uint64_t counter(std::string_view name, Where w = {});
    // A captured variable's value.
    std::uint64_t value(std::string_view name, Where w = {});
    void set_value(std::string name, std::uint64_t v) { vars_[std::move(name)] = v; }
    std::vector<std::uint8_t> render(const PacketSpec& p, Where w = {});

    // An upcall that records (time, tag, socket, events), then calls `then`.
    Upcall recorder(std::string tag, Upcall then = {});
    const std::vector<ScriptEvent>& events() const { return events_; }
    std::vector<ScriptEvent> take_events() { return std::exchange(events_, {}); }

    // Every frame the stack transmitted, decoded, in order.
    const std::vector<Decoded>& sent() const { return sent_; }
    // The frame the last expect() matched.
    const Decoded& last() const;
    bool failed() const { return failed_; }

private:
    void step(const Where& w);
    void poll_at(Instant t);
    void settle();
    void advance_to(Instant t, bool stop_on_frame);
    void collect();
    void verify_sent(const Decoded& d);
    std::size_t first_unmatched() const;
    // Unmatched frames (with their mismatches against p, if given), the
    // last injected frames and the stack's last log lines.
    std::string candidates(const PacketSpec* p) const;
    void fail(const Where& w, const std::string& what, const std::string& detail);
    void misuse(const Where& w, const std::string& what);

    struct FragBuf;

    ScriptOptions opts_;
    VirtualClock clock_;
    SeededRandom random_;
    CaptureLogger logger_;
    Host host_;
    std::unique_ptr<Stack> stack_;
    ScriptDevice* dev_ = nullptr;
    net::IfIndex ifindex_ = 0;
    Instant start_, now_, scripted_;
    Where where_;
    Where born_;
    std::vector<Decoded> sent_;
    std::vector<std::uint8_t> state_;  // per sent frame: 0 unmatched, 1 matched, 2 ignored
    std::vector<Decoded> injected_;    // the last few, for failure reports
    std::size_t injected_count_ = 0;
    std::vector<PacketSpec> ignores_;
    std::vector<std::unique_ptr<FragBuf>> frags_;
    Vars vars_;
    std::vector<ScriptEvent> events_;
    std::size_t last_ = SIZE_MAX;
    Decoded none_;
    bool failed_ = false, finished_ = false, allow_extra_ = false;
};

}  // namespace uinet::test
