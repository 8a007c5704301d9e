// tcp/tcb.hpp — the transmission control block: one connection's state
// machine (RFC 9293), free of I/O.
//
// Contract (DESIGN.md principles 4, 5, 9):
//  * A Tcb consumes parsed segments (input), application calls (send,
//    recv, shutdown, close, abort) and the passage of time (on_timer), and
//    produces segments through its TcbSink; it never reads a clock, never
//    touches a device, never allocates per segment.
//  * Its work is split by concern: tcb_input.cpp (segment arrival, RFC 9293
//    section 3.10.7), tcb_output.cpp (what to send: data, ACKs, SYN, FIN,
//    RST, Nagle, silly-window avoidance, window updates), tcb_timers.cpp
//    (retransmission, persist, delayed ACK, keepalive, TIME-WAIT),
//    tcb_recovery.cpp (duplicate ACKs, fast retransmit, NewReno recovery),
//    tcb_sack.cpp (SACK blocks we send, the scoreboard, RFC 6675 recovery).
//    Byte storage is SendBuffer/RecvBuffer; RTT is RttEstimator; the
//    congestion window belongs to a CongestionControl module.
//  * State changes and readiness are reported to the sink (notify), which
//    the TCP layer turns into socket events and table maintenance.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>

#include "base/seq.hpp"
#include "base/time.hpp"
#include "buf/packet.hpp"
#include "tcp/cc.hpp"
#include "tcp/recv_buffer.hpp"
#include "tcp/rack.hpp"
#include "tcp/rtt.hpp"
#include "tcp/sack_scoreboard.hpp"
#include "tcp/send_buffer.hpp"
#include "tcp/tcp_types.hpp"
#include "tcp/trace.hpp"
#include "wire/tcp.hpp"

namespace uinet::tcp {

class Tcb;

// Events reported to the sink.
namespace tcb_event {
constexpr std::uint32_t readable = 1;      // data or EOF to read
constexpr std::uint32_t writable = 2;      // send buffer has room / connect finished
constexpr std::uint32_t error = 4;         // so_error set (reset, refused, timeout)
constexpr std::uint32_t hangup = 8;        // both directions done
constexpr std::uint32_t established = 16; // handshake completed
constexpr std::uint32_t closed = 32;       // the TCB reached CLOSED and may be freed
constexpr std::uint32_t time_wait = 64;    // the TCB entered TIME-WAIT
}  // namespace tcb_event

class TcbSink {
public:
    virtual ~TcbSink() = default;
    // Transmit a segment: header fields as given (the sink fills ports and
    // checksum), carrying `len` bytes of the send buffer from `data_seq`,
    // in an IP datagram whose ECN field is `ecn` (RFC 3168 section 5).
    virtual void send_segment(Tcb& tcb, const wire::TcpRepr& hdr, SeqNum data_seq, std::size_t len,
                              std::uint8_t ecn = 0) = 0;
    virtual void notify(Tcb& tcb, std::uint32_t events) = 0;
    // RFC 5961 section 7: may a challenge ACK go now? (A stack-wide rate
    // limit; the TCB counts what it was refused.)
    virtual bool challenge_ack_allowed(Instant /*now*/) { return true; }
    // Stack-wide socket-buffer memory (TcpConfig::memory_limit,
    // tcb_autotune.cpp): may `more` bytes be allocated now; the TCB's
    // buffers changed by `delta` bytes; is the stack under pressure; the
    // TCB was refused a send buffer and wants `writable` once memory frees.
    virtual bool mem_allow(std::size_t /*more*/) { return true; }
    virtual void mem_adjust(std::ptrdiff_t /*delta*/) {}
    virtual bool mem_pressure() const { return false; }
    virtual void mem_wait(Tcb& /*tcb*/) {}
};

// The state of an observed connection that a Tcb adopts at cut-in
// (tcb_adopt.cpp, docs/passive.md): the Tcb continues the connection as
// the endpoint it impersonates ("we"), facing the other one ("the peer").
struct AdoptState {
    SeqNum iss, irs;                  // our ISN (the impersonated endpoint's), the peer's
    SeqNum snd_una;                   // the peer's latest ACK
    SeqNum snd_nxt;                   // one past the highest byte we (the impersonated endpoint) sent
    std::uint32_t snd_wnd = 0;        // the peer's latest window, scaled
    SeqNum rcv_nxt;                   // one past the peer's in-order bytes
    SeqNum last_ack;                  // the impersonated endpoint's latest ACK
    std::uint32_t rcv_wnd = 0;        // ... and the window it advertised with it, scaled
    std::optional<std::uint16_t> snd_mss, rcv_mss;       // MSS options of the peer's SYN, of ours
    std::optional<std::uint8_t> snd_wscale, rcv_wscale;  // window scales of the peer's SYN, of ours
    bool sack = false;                // both SYNs carried SACK-permitted
    bool timestamps = false;          // both SYNs carried timestamps
    std::uint32_t ts_last = 0;        // the impersonated endpoint's latest TSval
    std::uint32_t ts_recent = 0;      // the peer's latest TSval
    Bytes unacked;                    // [snd_una, snd_nxt): ours, not yet acknowledged
    Duration rtt{};                   // observed round trip to the peer (zero: unknown)
};

// Why a connection ended, as errno values for SO_ERROR.
enum class TcpError : std::uint8_t { none, refused, reset, timed_out, aborted };

// The IP ECN field (RFC 3168 section 5).
namespace ecn_field {
constexpr std::uint8_t not_ect = 0;
constexpr std::uint8_t ect1 = 1;
constexpr std::uint8_t ect0 = 2;
constexpr std::uint8_t ce = 3;
}  // namespace ecn_field
int to_errno(TcpError e);

class Tcb {
public:
    // RFC 6298 5.7: the RTO once a handshake segment was retransmitted.
    static constexpr Duration kHandshakeFallbackRto = Duration::seconds(3);

    Tcb(TcbId id, const ConnKey& key, const TcpConfig& cfg, TcpCounters& ctr, TcbSink& sink);
    ~Tcb();
    Tcb(const Tcb&) = delete;
    Tcb& operator=(const Tcb&) = delete;

    // --- addressing (before opening) ---
    void set_local(Ipv4Addr addr, Port port) {
        key_.laddr = addr;
        key_.lport = port;
    }
    void set_remote(Ipv4Addr addr, Port port) {
        key_.raddr = addr;
        key_.rport = port;
    }
    void set_vlan(std::uint32_t vlan_id) { key_.vlan = vlan_id; }
    void set_listen() { state_ = TcpState::listen; }
    // Ends the TCB at once without a segment (TIME-WAIT budget, listener
    // teardown); reports `closed` like any other end.
    void force_close() {
        if (state_ != TcpState::closed) enter_closed(TcpError::none);
    }
    // RFC 6191 / RFC 9293 3.6.1: may a new SYN reopen this TIME-WAIT
    // connection? Yes if its timestamp is newer, or without timestamps if
    // it starts beyond what the old connection received.
    bool time_wait_reusable(const wire::TcpRepr& syn) const {
        if (ts_ok_ && syn.options.timestamps)
            return static_cast<std::int32_t>(syn.options.timestamps->first - ts_recent_) > 0;
        return syn.seq > rcv_nxt();
    }
    // A listener's options carried to the connections it accepts.
    void inherit_options(const Tcb& l) {
        nodelay_ = l.nodelay_;
        keepalive_ = l.keepalive_;
        keep_idle_ = l.keep_idle_;
        keep_intvl_ = l.keep_intvl_;
        keep_cnt_ = l.keep_cnt_;
        user_mss_ = l.user_mss_;
        ecn_mode_ = l.ecn_mode_;
        pacing_ = l.pacing_;
        sndbuf_.set_capacity(l.sndbuf_.capacity());
        rcvbuf_.set_capacity(l.rcvbuf_.capacity());
        snd_autotune_ = l.snd_autotune_;
        rcv_autotune_ = l.rcv_autotune_;
        trace_ = l.trace_;
    }
    bool seq_in_flight(SeqNum q) const { return snd_una_ <= q && q < snd_max_; }
    void fail(TcpError e) {
        if (state_ != TcpState::closed) enter_closed(e);
    }
    // The route's offloads (before connect/accept_syn); see tcb_output.cpp.
    void set_tx_offload(TxOffload o) { offload_ = o; }
    const TxOffload& tx_offload() const { return offload_; }
    // Payload bytes of one full-sized segment (SMSS less the options).
    std::uint16_t segment_size() const { return payload_mss(); }
    // Appends `len` bytes of the send buffer from `seq` to pkt (for the sink).
    bool append_send_data(Packet& pkt, SeqNum seq, std::size_t len) const {
        return sndbuf_.append_to(pkt, seq, len);
    }

    // --- opening ---
    // Active open: SYN-SENT, first SYN sent.
    void connect(Instant now, SeqNum iss, std::uint16_t mss);
    // Passive open from a listener's SYN: SYN-RECEIVED, SYN-ACK sent.
    void accept_syn(Instant now, SeqNum iss, std::uint16_t mss, const wire::TcpRepr& syn);
    // Passive open from a valid SYN cookie: SYN-RECEIVED as if `syn` (the
    // SYN rebuilt from the cookie) had been answered with SYN-ACK `iss`,
    // nothing sent; the returning ACK is then given to input().
    void accept_cookie(Instant now, SeqNum iss, std::uint16_t mss, const wire::TcpRepr& syn);
    // Cut-in (tcb_adopt.cpp): ESTABLISHED at once with an observed
    // connection's state; nothing is sent. route_mss caps what we send.
    void adopt(Instant now, const AdoptState& st, std::uint16_t route_mss);
    // RSTs for an adopted connection the application does not keep: at
    // SND.NXT and, if different, SND.UNA, so that a receiver that takes
    // only an exact RCV.NXT (RFC 5961 3.2) finds one; then CLOSED.
    void reset_adopted(Instant now);
    // What a listener's connections announce in their SYN-ACK: the window
    // shift (before negotiation), the unscaled window, the MSS for a route MSS.
    std::uint8_t passive_wscale() const { return cfg_.window_scaling ? wscale_for(wscale_basis()) : 0; }
    std::uint16_t passive_window() const {
        return static_cast<std::uint16_t>(std::min<std::size_t>(rcvbuf_.capacity(), 65535));
    }
    std::uint16_t passive_mss(std::uint16_t route_mss) const { return clamp_offered_mss(route_mss); }

    // --- segment arrival (RFC 9293 3.10.7) ---
    // `ecn` is the ECN field of the datagram that carried the segment.
    void input(Instant now, const wire::TcpRepr& seg, const Packet& pkt, std::size_t data_off, std::size_t data_len,
               std::uint8_t ecn = 0);

    // --- application ---
    std::size_t send(Instant now, Bytes data);
    std::size_t recv(Instant now, MutBytes out);
    std::size_t peek(MutBytes out) const { return rcvbuf_.peek(out); }
    void shutdown_write(Instant now);
    void close(Instant now);  // graceful: FIN after queued data; orphaned afterwards
    void abort(Instant now);  // RST now (SO_LINGER 0)

    // --- time ---
    void on_timer(Instant now);
    Instant next_deadline() const;

    // --- introspection ---
    TcbId id() const { return id_; }
    const ConnKey& key() const { return key_; }
    TcpState state() const { return state_; }
    TcpError error() const { return error_; }
    bool readable() const { return rcvbuf_.readable() > 0 || eof(); }
    bool eof() const { return fin_rcvd_ && rcvbuf_.readable() == 0; }
    bool writable() const;
    std::size_t send_space() const;
    std::size_t bytes_readable() const { return rcvbuf_.readable(); }
    // Memory the connection's two buffers hold right now.
    std::size_t buffer_bytes() const {
        return (sndbuf_.allocated() ? sndbuf_.capacity() : 0) + (rcvbuf_.allocated() ? rcvbuf_.capacity() : 0);
    }
    // What the stack's memory account holds for this TCB (tcb_autotune.cpp).
    std::size_t mem_charged() const { return mem_charged_; }
    std::size_t sndbuf_capacity() const { return sndbuf_.capacity(); }
    std::size_t rcvbuf_capacity() const { return rcvbuf_.capacity(); }
    bool autotuning() const { return snd_autotune_ || rcv_autotune_; }
    // Under memory pressure: give back what the buffers hold beyond the
    // configured sizes, and empty buffers altogether, where no advertised
    // window depends on them.
    void mem_trim(bool send_side = true, bool recv_side = true);
    // Connection tracing (tcp/trace.hpp); nullptr = off.
    void set_trace(TraceSink* s) { trace_ = s; }
    bool orphaned() const { return orphaned_; }
    bool write_closed() const { return fin_queued_; }
    TcpInfo info() const;

    // Socket options.
    void set_nodelay(bool v) { nodelay_ = v; }
    bool nodelay() const { return nodelay_; }
    void set_keepalive(bool on, Duration idle, Duration intvl, std::uint32_t cnt);
    bool keepalive_on() const { return keepalive_; }
    void set_buffers(std::size_t sndbuf, std::size_t rcvbuf);
    void set_user_mss(std::uint16_t mss) { user_mss_ = mss; }
    void set_congestion_control(std::unique_ptr<CongestionControl> cc);
    // ECN (RFC 3168) for this connection: effective for the next handshake.
    void set_ecn(EcnMode m) { ecn_mode_ = m; }
    EcnMode ecn_mode() const { return ecn_mode_; }
    bool ecn_ok() const { return ecn_ok_; }
    // Pacing (tcb_output.cpp): on/off at any time.
    void set_pacing(bool on) {
        pacing_ = on;
        if (!on) {
            next_send_at_ = Instant::never();
            pace_wait_ = false;
        }
    }
    bool pacing() const { return pacing_; }
    // The current pacing rate in bytes per second (0: not pacing yet).
    std::uint64_t pacing_rate() const;
    const CongestionControl& congestion_control() const { return *cc_; }

    // Owner cookie (the socket layer's handle) and listener link.
    std::uint64_t owner = 0;
    TcbId listener = 0;  // set while a passively opened TCB waits for accept()
    bool accepted = false;
    std::uint64_t user_cookie = 0;

private:
    friend class TcbTestPeer;
    // tcb_input.cpp
    void input_syn_sent(Instant now, const wire::TcpRepr& seg);
    void open_passive(Instant now, SeqNum iss, std::uint16_t mss, const wire::TcpRepr& syn);
    void challenge_ack(Instant now);  // RFC 5961, rate-limited by the sink
    void complete_simultaneous_open(Instant now, const wire::TcpRepr& seg);
    bool acceptable(const wire::TcpRepr& seg, std::size_t len) const;
    bool process_ack(Instant now, const wire::TcpRepr& seg, std::size_t data_len);
    void process_data(Instant now, const wire::TcpRepr& seg, const Packet& pkt, std::size_t off, std::size_t len);
    void process_fin(Instant now);
    void update_window(const wire::TcpRepr& seg);
    void update_timestamps(Instant now, const wire::TcpRepr& seg, std::size_t len);
    void negotiate_options(const wire::TcpRepr& syn);
    std::uint16_t clamp_offered_mss(std::uint16_t mss) const;
    // RFC 7323 5.5: TS.Recent is invalid after 24 days without an update.
    bool ts_recent_valid(Instant now) const { return now - ts_recent_at_ <= Duration::seconds(24 * 86400); }
    void enter_established(Instant now);
    void enter_time_wait(Instant now);
    void enter_closed(TcpError err);
    // tcb_output.cpp
    void output(Instant now);
    bool send_data_segment(Instant now, SeqNum seq, std::size_t len, bool fin, bool retransmit);
    void send_ack(Instant now);
    void send_syn(Instant now, bool with_ack);
    void send_rst(SeqNum seq);
    wire::TcpRepr base_header(Instant now, std::uint8_t flags, SeqNum seq);
    std::uint16_t advertised_window(bool syn);
    std::uint16_t payload_mss() const;
    std::uint32_t tso_payload_max(std::uint32_t mss) const;
    std::uint32_t tsval(Instant now) const;
    void rtt_sample(Instant now, std::uint32_t tsecr);
    void take_rtt_sample(Instant now, Duration rtt);  // RttEstimator and the CC (HyStart++)
    void ecn_input(Instant now, const wire::TcpRepr& seg, std::uint8_t ecn);  // RFC 3168 6.1.3 / 6.1.5
    void ecn_on_ack(Instant now, const wire::TcpRepr& seg);                                 // RFC 3168 6.1.2
    std::uint32_t pacing_quantum(std::uint32_t mss) const;
    SeqNum rcv_nxt() const;
    std::uint32_t rcv_window() const;
    std::uint8_t wscale_for(std::size_t bufsize) const;
    std::size_t data_to_send() const;
    std::uint32_t in_flight() const;
    void schedule_ack(Instant now, bool immediate);
    void maybe_window_update(Instant now);
    // tcb_timers.cpp
    void on_rto(Instant now);
    void on_persist(Instant now);
    void on_keepalive(Instant now);
    void arm_rto(Instant now);
    void restart_keepalive(Instant now);
    // tcb_autotune.cpp: buffer autotuning, the memory account, tracing.
    std::size_t wscale_basis() const {
        return rcv_autotune_ ? std::max(rcvbuf_.capacity(), cfg_.rcvbuf_max) : rcvbuf_.capacity();
    }
    std::uint32_t window_room() const;
    void rcv_autotune_sample(Instant now, const wire::TcpRepr& seg);
    void rcv_autotune(Instant now);
    void snd_autotune();
    void mem_sync();
    struct TraceMark {
        SeqNum una;
        std::uint32_t dupacks;
    };
    TraceMark trace_mark() const { return {snd_una_, dupacks_}; }
    // Enters or leaves loss recovery (every path: duplicate ACKs, SACK,
    // RACK, its timer, the RTO); the trace sees each change once.
    void set_recovery(Instant now, bool on) {
        if (in_recovery_ == on) return;
        in_recovery_ = on;
        if (trace_) trace_event(now, on ? TraceEvent::recovery_enter : TraceEvent::recovery_exit);
    }
    void trace_after_ack(Instant now, TraceMark before);
    void trace_event(Instant now, TraceEvent e, SeqNum seq = {}, std::uint32_t len = 0);
    static std::uint32_t len32(std::size_t n) { return static_cast<std::uint32_t>(n); }
    // tcb_recovery.cpp
    void on_dupack(Instant now);
    void on_new_ack(Instant now, std::uint32_t acked, std::uint32_t flight_before);
    void retransmit_head(Instant now, std::size_t max_len);
    // tcb_sack.cpp (RFC 2018, 2883, 6675)
    void sack_process(const wire::TcpRepr& seg);
    void sack_enter_recovery(Instant now);
    void sack_output(Instant now);
    bool sack_next_seg(SeqNum& seq, std::uint32_t& len, bool& rexmit, bool& rescue);
    void sack_send(Instant now, SeqNum seq, std::uint32_t len, bool rexmit);
    void sack_partial_ack();
    void sack_note_arrival(SeqNum s);
    void sack_note_dsack(SeqNum left, SeqNum right);
    void sack_fill(wire::TcpOptions& o);
    // tcb_rack.cpp (RFC 8985 RACK-TLP, RFC 6937 PRR, RFC 3522/3708/4015 undo)
    bool rack_on() const { return sack_ok_ && cfg_.rack && sent_.active(); }
    void rack_start();
    std::size_t rack_log_size() const;
    void rack_on_send(Instant now, SeqNum seq, SeqNum end);
    void rack_on_ack(Instant now, const wire::TcpRepr& seg, std::uint64_t sacked_before);
    void rack_after_ack(Instant now, const wire::TcpRepr& seg, bool new_ack);
    bool rack_detect_loss(Instant now);
    Duration rack_reo_wnd() const;
    void rack_enter_recovery(Instant now);
    std::uint32_t rack_pipe() const;
    bool rack_next_lost(SeqNum& seq, std::uint32_t& len) const;
    void on_rack_timer(Instant now);
    void tlp_schedule(Instant now);
    void on_pto(Instant now);
    void tlp_on_ack(const wire::TcpRepr& seg, bool new_ack);
    void prr_start();
    void prr_on_ack();
    void undo_arm(bool rto, Instant now);
    void undo_on_ack(Instant now, const wire::TcpRepr& seg);
    void undo_now(Instant now);

    TcbId id_;
    ConnKey key_;
    const TcpConfig& cfg_;
    TcpCounters& ctr_;
    TcbSink& sink_;
    TcpState state_ = TcpState::closed;
    TcpError error_ = TcpError::none;
    bool passive_ = false;
    bool orphaned_ = false;

    // Send sequence space (RFC 9293 3.3.1).
    SeqNum iss_, snd_una_, snd_nxt_, snd_max_, snd_wl1_, snd_wl2_;
    std::uint32_t snd_wnd_ = 0, max_snd_wnd_ = 0;
    SendBuffer sndbuf_;
    bool fin_queued_ = false, fin_sent_ = false;
    SeqNum fin_seq_;  // sequence number of our FIN

    // Receive sequence space.
    SeqNum irs_;
    RecvBuffer rcvbuf_;
    SeqNum rcv_adv_;  // right edge of the window last advertised
    bool fin_rcvd_ = false;
    bool fin_pending_ = false;  // FIN seen beyond a hole
    SeqNum fin_pending_seq_;

    // Options (RFC 7323, RFC 2018, RFC 6691).
    std::uint16_t snd_mss_ = 536, rcv_mss_ = 536, user_mss_ = 0, offered_mss_ = 1460;
    std::uint8_t snd_wscale_ = 0, rcv_wscale_ = 0;
    bool ws_ok_ = false, ts_ok_ = false, sack_ok_ = false;
    bool offered_ws_ = false, offered_ts_ = false, offered_sack_ = false;  // in our SYN (active open)
    std::uint32_t ts_offset_ = 0;
    std::uint32_t rexmit_tsval_ = 0;  // TSval of our latest retransmission
    bool rexmit_tsval_valid_ = false;
    Instant syn_sent_at_{};
    std::uint32_t ts_recent_ = 0;
    Instant ts_recent_at_{};
    SeqNum last_ack_sent_;

    // Timers: one deadline each; never() when off.
    Instant rto_at_ = Instant::never(), persist_at_ = Instant::never(), delack_at_ = Instant::never(),
            keep_at_ = Instant::never(), close_at_ = Instant::never();
    RttEstimator rtt_;
    bool rtt_timing_ = false;
    SeqNum rtt_seq_;
    Instant rtt_start_{};
    std::uint32_t retries_ = 0;   // consecutive RTOs
    std::uint32_t probes_ = 0;    // keepalive or persist probes without answer
    Duration persist_backoff_{};
    bool sws_override_ = false;   // output() may send a sub-MSS window (override timeout)
    Instant last_rcv_{};          // for keepalive idle
    Instant last_send_{};         // for the restart window after idle

    // Congestion control and recovery (RFC 5681, 6582, 3042).
    std::unique_ptr<CongestionControl> cc_;
    std::uint32_t dupacks_ = 0;
    bool in_recovery_ = false;
    SeqNum recover_;

    // SACK (RFC 6675): the sender's scoreboard and recovery marks (HighRxt,
    // RescueRxt as exclusive ends; un-SACKed bytes below lost_below_ count
    // as lost). The receiver's side: the points of the latest out-of-order
    // arrivals, most recent first (RFC 2018 section 4), and a pending D-SACK
    // block (RFC 2883).
    SackScoreboard sack_sb_;
    SeqNum high_rxt_, rescue_rxt_, lost_below_;
    std::array<SeqNum, wire::kTcpMaxSackBlocks> sack_recent_{};
    std::uint8_t sack_recent_n_ = 0;
    bool dsack_pending_ = false;
    wire::SackBlock dsack_{};
    // RACK-TLP, PRR and undo (tcb_rack.cpp): the sent-range log (allocated
    // once when a SACK connection starts using RACK), the D-SACK block of
    // the ACK being processed, and the PRR send budget in bytes.
    SentLog sent_;
    RackState rack_;
    bool ack_dsack_ = false;
    wire::SackBlock ack_dsack_block_{};
    std::int64_t prr_budget_ = 0;
    SeqNum undo_seq_;

    // Delayed ACK (RFC 9293 3.8.6.3, RFC 1122 4.2.3.2).
    std::uint32_t unacked_segs_ = 0;
    bool ack_now_ = false;

    bool nodelay_ = false;
    bool keepalive_ = false;
    TxOffload offload_{};
    Duration keep_idle_{}, keep_intvl_{};
    std::uint32_t keep_cnt_ = 0;

    // ECN (RFC 3168): negotiated; we offered it (active open); the
    // receiver echoes CE (ECE on every ACK) until CWR; the sender owes CWR
    // on its next new data segment, and reduces once per window (below
    // ecn_recover_ it does not react again).
    EcnMode ecn_mode_ = EcnMode::accept;
    bool ecn_ok_ = false, offered_ecn_ = false, ece_pending_ = false, cwr_pending_ = false;
    SeqNum ecn_recover_;

    // Pacing: the earliest departure of the next burst (never() when
    // idle); pace_wait_ while output() holds data back for it.
    bool pacing_ = false;
    bool pace_wait_ = false;
    Instant next_send_at_ = Instant::never();

    TcpInfo stats_{};

    // Autotuning (Linux's DRS for the receiver, 2 x cwnd for the sender)
    // and the memory account; tracing.
    bool snd_autotune_ = false, rcv_autotune_ = false;
    std::size_t mem_charged_ = 0;
    std::uint64_t app_read_ = 0;      // bytes the application consumed
    std::uint64_t rcvq_mark_ = 0;     // app_read_ at the start of the measurement
    std::size_t rcvq_space_ = 0;      // largest per-RTT consumption seen
    Instant rcvq_time_{};
    Duration rcv_rtt_{};              // receiver's RTT estimate from echoed timestamps
    TraceSink* trace_ = nullptr;
    std::uint64_t delivered_ = 0;     // bytes cumulatively acknowledged (traced connections)
};

}  // namespace uinet::tcp
