// tools/client_conn.cpp — one client TCP connection (see client_conn.hpp).
#include "client_conn.hpp"

#include <cerrno>
#include <cstring>
#include <vector>

namespace uinet::tools {

namespace {

std::string errno_text(int e) {
    switch (e) {
        case 0: return "unknown error";
        case ECONNREFUSED: return "connection refused";
        case ECONNRESET: return "connection reset by the peer";
        case ETIMEDOUT: return "connection timed out (no answer from the peer)";
        default: return std::strerror(e);
    }
}

class Driver {
public:
    Driver(TapStack& ts, services::StreamService& svc, const ClientOptions& o)
        : ts_(ts), t_(ts.stack().tcp()), svc_(svc), opts_(o) {}

    ClientResult run(Endpoint remote) {
        start_ = ts_.now();
        const Instant deadline = start_ + opts_.timeout;
        auto s = t_.open();
        if (!s) return fail_result("cannot open a socket");
        id_ = *s;
        if (auto r = t_.connect(ts_.now(), id_, remote); !r) {
            t_.close(ts_.now(), id_);
            return fail_result("cannot connect: " + errno_text(tcp::to_errno(r.error())));
        }
        t_.set_upcall(id_, [this](SocketId, std::uint32_t) { pump(); });
        bool ended = ts_.drive_until([this] { return ended_ || lingering_; }, deadline);
        if (ended && !ended_) {
            // The exchange is complete: give the peer `linger` to close too.
            ts_.drive_until([this] { return ended_; }, earliest(deadline, ts_.now() + opts_.linger));
            if (!ended_) end(true, "", false);
        }
        res_.seconds = (ts_.now() - start_).secs();
        if (!ended) {
            t_.abort(ts_.now(), id_);
            res_.ok = false;
            res_.error = res_.established ? "timed out (no end of the exchange within the timeout)"
                                          : "timed out connecting";
            ts_.drive_until([] { return false; }, ts_.now());  // the RST goes out
            return res_;
        }
        // The last ACKs: drive until nothing but TIME-WAIT is left.
        const tcp::TcpLayer& layer = ts_.stack().tcp_layer();
        ts_.drive_until([&] { return layer.connections() == layer.time_wait_count(); },
                        earliest(deadline, ts_.now() + opts_.linger));
        return res_;
    }

private:
    ClientResult fail_result(std::string why) {
        res_.ok = false;
        res_.error = std::move(why);
        return res_;
    }

    void end(bool ok, std::string why, bool abort) {
        if (ended_) return;
        ended_ = true;
        res_.ok = ok;
        res_.error = std::move(why);
        if (abort)
            t_.abort(ts_.now(), id_);
        else
            t_.close(ts_.now(), id_);
    }

    // The socket's pending error (SO_ERROR) in words, else `fallback`.
    std::string socket_error(std::string fallback) const {
        const int e = t_.error(id_);
        return e != 0 ? errno_text(e) : fallback;
    }

    void pump() {
        if (ended_) return;
        const Instant now = ts_.now();
        const auto st = t_.state(id_);
        if (!res_.established && st && *st != tcp::TcpState::syn_sent && *st != tcp::TcpState::closed) {
            res_.established = true;
            res_.connect_seconds = (ts_.now() - start_).secs();
        }
        for (bool progress = true; progress;) {
            progress = false;
            // Output: as much as the socket takes.
            while (!write_shut_) {
                if (out_off_ == out_len_) {
                    if (!svc_.output_pending()) break;
                    out_len_ = svc_.produce(out_);
                    out_off_ = 0;
                    if (out_len_ == 0) break;
                }
                auto r = t_.send(now, id_, {out_.data() + out_off_, out_len_ - out_off_});
                if (!r) {
                    if (r.error() == TcpSendError::would_block) break;
                    return end(false, send_error(r.error()), true);
                }
                out_off_ += *r;
                progress = true;
            }
            // Input: while the service wants it, or dropped once it is done.
            if (!eof_ && (svc_.wants_input() || svc_.done())) {
                const bool keep = svc_.wants_input();
                auto r = t_.recv(now, id_, {in_.data(), keep ? services::kMaxFeed : in_.size()});
                if (r) {
                    if (*r == 0) {
                        eof_ = true;
                        if (!svc_.done()) svc_.on_eof();
                    } else if (keep) {
                        svc_.on_data({in_.data(), *r});
                    }
                    progress = true;
                } else if (r.error() != TcpRecvError::would_block) {
                    return end(false, recv_error(r.error()), true);
                }
            }
            if (svc_.failed()) return end(false, "protocol error", true);
        }
        const bool drained = out_off_ == out_len_ && !svc_.output_pending();
        if (!write_shut_ && res_.established && drained && (opts_.half_close || svc_.done())) {
            write_shut_ = true;
            (void)t_.shutdown(now, id_, ShutdownHow::write);
        }
        if (svc_.done() && drained && write_shut_) lingering_ = true;
        if (eof_) {
            if (svc_.done() && drained) return end(true, "", false);
            if (!svc_.output_pending() && !svc_.wants_input() && !svc_.done())
                return end(false, "the peer closed the connection early", false);
        }
        if (auto s = t_.state(id_); s && *s == tcp::TcpState::closed && !eof_)
            end(false, socket_error("connection lost"), true);
    }

    std::string send_error(TcpSendError e) const {
        switch (e) {
            case TcpSendError::connection_reset: return "connection reset by the peer";
            case TcpSendError::broken_pipe: return socket_error("broken pipe (the connection was closed)");
            default: return socket_error("send failed");
        }
    }
    std::string recv_error(TcpRecvError e) const {
        switch (e) {
            case TcpRecvError::refused: return "connection refused";
            case TcpRecvError::connection_reset: return "connection reset by the peer";
            case TcpRecvError::timed_out: return "connection timed out (no answer from the peer)";
            default: return socket_error("receive failed");
        }
    }

    TapStack& ts_;
    TcpSockets& t_;
    services::StreamService& svc_;
    ClientOptions opts_;
    SocketId id_{};
    Instant start_{};
    ClientResult res_;
    std::vector<std::uint8_t> out_ = std::vector<std::uint8_t>(64 * 1024);
    std::vector<std::uint8_t> in_ = std::vector<std::uint8_t>(64 * 1024);
    std::size_t out_off_ = 0, out_len_ = 0;
    bool eof_ = false;
    bool write_shut_ = false;
    bool lingering_ = false;  // done: only the peer's FIN is awaited
    bool ended_ = false;
};

}  // namespace

ClientResult run_client(TapStack& ts, Endpoint remote, services::StreamService& svc, const ClientOptions& opts) {
    Driver d(ts, svc, opts);
    return d.run(remote);
}

}  // namespace uinet::tools
