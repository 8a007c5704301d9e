// stack/trace_writer.cpp — CSV / JSON-lines output of TCP trace records
// (contract in trace_writer.hpp).
#include "stack/trace_writer.hpp"

#include <cinttypes>

namespace uinet {

namespace {

bool ends_with(const std::string& s, const char* suffix) {
    const std::string x(suffix);
    return s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
}

double ms(Duration d) { return static_cast<double>(d.us()) / 1000.0; }

}  // namespace

const char* TraceWriter::csv_header() {
    return "time,event,conn,lport,rport,cwnd,ssthresh,srtt_ms,rttvar_ms,rto_ms,in_flight,snd_una,snd_nxt,"
           "delivered,rcv_wnd,snd_wnd,sndbuf,rcvbuf,seq,len";
}

std::unique_ptr<TraceWriter> TraceWriter::open(const std::string& path, Format f, std::uint64_t max_records) {
    if (f == Format::automatic) f = ends_with(path, ".json") || ends_with(path, ".jsonl") ? Format::json : Format::csv;
    std::FILE* file = std::fopen(path.c_str(), "w");
    if (!file) return nullptr;
    std::unique_ptr<TraceWriter> w(new TraceWriter(file, f, max_records));
    if (f == Format::csv && std::fprintf(file, "%s\n", csv_header()) < 0) w->failed_ = true;
    return w;
}

TraceWriter::~TraceWriter() { close(); }

bool TraceWriter::close() {
    if (f_) {
        if (std::fclose(f_) != 0) failed_ = true;
        f_ = nullptr;
    }
    return !failed_;
}

void TraceWriter::trace(const tcp::TraceRecord& r) {
    if (!f_ || failed_ || written_ >= max_) {
        ++dropped_;
        return;
    }
    if (ack_interval_ > Duration::zero() &&
        (r.event == tcp::TraceEvent::ack || r.event == tcp::TraceEvent::dupack)) {
        auto [it, fresh] = last_ack_.try_emplace(r.conn, r.time);
        if (!fresh) {
            if (r.time - it->second < ack_interval_) {
                ++sampled_out_;
                return;
            }
            it->second = r.time;
        }
    }
    if (!started_) {
        started_ = true;
        t0_ = r.time;
    }
    const double t = (r.time - t0_).secs();
    int n;
    if (format_ == Format::csv) {
        n = std::fprintf(f_,
                         "%.6f,%s,%u,%u,%u,%u,%u,%.3f,%.3f,%.3f,%u,%u,%u,%" PRIu64 ",%u,%u,%u,%u,%u,%u\n", t,
                         tcp::to_string(r.event), r.conn, r.lport, r.rport, r.cwnd, r.ssthresh, ms(r.srtt),
                         ms(r.rttvar), ms(r.rto), r.in_flight, r.snd_una, r.snd_nxt, r.delivered, r.rcv_wnd,
                         r.snd_wnd, r.sndbuf, r.rcvbuf, r.seq, r.len);
    } else {
        n = std::fprintf(f_,
                         "{\"time\":%.6f,\"event\":\"%s\",\"conn\":%u,\"lport\":%u,\"rport\":%u,\"cwnd\":%u,"
                         "\"ssthresh\":%u,\"srtt_ms\":%.3f,\"rttvar_ms\":%.3f,\"rto_ms\":%.3f,\"in_flight\":%u,"
                         "\"snd_una\":%u,\"snd_nxt\":%u,\"delivered\":%" PRIu64 ",\"rcv_wnd\":%u,\"snd_wnd\":%u,"
                         "\"sndbuf\":%u,\"rcvbuf\":%u,\"seq\":%u,\"len\":%u}\n",
                         t, tcp::to_string(r.event), r.conn, r.lport, r.rport, r.cwnd, r.ssthresh, ms(r.srtt),
                         ms(r.rttvar), ms(r.rto), r.in_flight, r.snd_una, r.snd_nxt, r.delivered, r.rcv_wnd,
                         r.snd_wnd, r.sndbuf, r.rcvbuf, r.seq, r.len);
    }
    if (n < 0) {
        failed_ = true;
        ++dropped_;
        return;
    }
    ++written_;
}

}  // namespace uinet
