// stack/trace_writer.hpp — writes TCP trace records (tcp/trace.hpp) to a
// file as CSV or JSON lines (docs/tracing.md).
//
// Contract:
//  * A TraceWriter is a tcp::TraceSink: give it to TcpLayer::set_trace (a
//    whole stack) or TcpSockets::set_trace (one socket). It writes on the
//    stack's thread, through stdio buffering; the file is closed by the
//    destructor (or close()).
//  * Format: CSV with a header line, or one JSON object per line; by
//    default chosen from the file name (".json"/".jsonl" -> JSON).
//  * Bounded: at most max_records records are written; the rest are
//    counted (dropped()). A write error stops writing and is counted too.
//  * Sampled if asked (set_ack_interval): an `ack` or `dupack` record is
//    written only when the last one written for that connection is at
//    least that old; every other event is always written (sampled_out()
//    counts the ACK records skipped).
//  * Times are seconds since the first record; sequence numbers are bytes
//    of the stream (relative to ISS + 1).
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <unordered_map>

#include "tcp/trace.hpp"

namespace uinet {

class TraceWriter final : public tcp::TraceSink {
public:
    enum class Format : std::uint8_t { automatic, csv, json };
    static constexpr std::uint64_t kDefaultMaxRecords = 2'000'000;

    // nullptr if the file cannot be opened (errno tells why).
    static std::unique_ptr<TraceWriter> open(const std::string& path, Format f = Format::automatic,
                                             std::uint64_t max_records = kDefaultMaxRecords);
    ~TraceWriter() override;
    TraceWriter(const TraceWriter&) = delete;
    TraceWriter& operator=(const TraceWriter&) = delete;

    void trace(const tcp::TraceRecord& r) override;
    void set_ack_interval(Duration d) { ack_interval_ = d; }
    std::uint64_t sampled_out() const { return sampled_out_; }
    // Flushes and closes; false if any write failed.
    bool close();

    std::uint64_t written() const { return written_; }
    std::uint64_t dropped() const { return dropped_; }
    Format format() const { return format_; }

    // Column names of the CSV form, also the JSON keys, in order.
    static const char* csv_header();

private:
    TraceWriter(std::FILE* f, Format fmt, std::uint64_t max) : f_(f), format_(fmt), max_(max) {}

    std::FILE* f_;
    Format format_;
    std::uint64_t max_;
    std::uint64_t written_ = 0, dropped_ = 0, sampled_out_ = 0;
    Duration ack_interval_ = Duration::zero();
    std::unordered_map<tcp::TcbId, Instant> last_ack_;  // per connection, when sampling
    bool failed_ = false, started_ = false;
    Instant t0_{};
};

}  // namespace uinet
