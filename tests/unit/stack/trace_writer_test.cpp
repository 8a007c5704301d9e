// TraceWriter: CSV and JSON-lines output of trace records, the record
// budget, and a file that cannot be opened.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "stack/trace_writer.hpp"

using namespace uinet;

namespace {

std::vector<std::string> lines_of(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> v;
    for (std::string l; std::getline(in, l);) v.push_back(l);
    return v;
}

tcp::TraceRecord record(std::int64_t ms, tcp::TraceEvent e) {
    tcp::TraceRecord r;
    r.time = Instant::from_ns(5'000'000'000 + ms * 1'000'000);
    r.event = e;
    r.conn = 3;
    r.lport = 49152;
    r.rport = 80;
    r.cwnd = 14480;
    r.ssthresh = 0xffffffffu;
    r.srtt = Duration::micros(20500);
    r.snd_una = 1000;
    r.snd_nxt = 5000;
    r.delivered = 1000;
    r.seq = 1000;
    r.len = e == tcp::TraceEvent::fast_retransmit ? 1448 : 0;
    return r;
}

std::string temp_path(const char* name) {
    return ::testing::TempDir() + "uinet-trace-" + std::to_string(::getpid()) + "-" + name;
}

}  // namespace

TEST(TraceWriter, CsvHasHeaderAndRelativeTimes) {
    const std::string path = temp_path("a.csv");
    auto w = TraceWriter::open(path);
    ASSERT_TRUE(w);
    EXPECT_EQ(w->format(), TraceWriter::Format::csv);
    w->trace(record(0, tcp::TraceEvent::established));
    w->trace(record(250, tcp::TraceEvent::fast_retransmit));
    ASSERT_TRUE(w->close());
    auto l = lines_of(path);
    ASSERT_EQ(l.size(), 3u);
    EXPECT_EQ(l[0], TraceWriter::csv_header());
    EXPECT_EQ(l[1].rfind("0.000000,established,3,49152,80,14480,4294967295,20.500,", 0), 0u) << l[1];
    EXPECT_EQ(l[2].rfind("0.250000,fast_retransmit,", 0), 0u) << l[2];
    EXPECT_NE(l[2].find(",1000,1448"), std::string::npos) << l[2];
    // Every line has as many fields as the header.
    auto fields = [](const std::string& s) { return std::count(s.begin(), s.end(), ',') + 1; };
    EXPECT_EQ(fields(l[1]), fields(l[0]));
    ::unlink(path.c_str());
}

TEST(TraceWriter, JsonLinesByExtensionAndBudget) {
    const std::string path = temp_path("b.jsonl");
    auto w = TraceWriter::open(path, TraceWriter::Format::automatic, 2);
    ASSERT_TRUE(w);
    EXPECT_EQ(w->format(), TraceWriter::Format::json);
    for (int i = 0; i < 5; ++i) w->trace(record(i, tcp::TraceEvent::ack));
    EXPECT_EQ(w->written(), 2u);
    EXPECT_EQ(w->dropped(), 3u);
    ASSERT_TRUE(w->close());
    auto l = lines_of(path);
    ASSERT_EQ(l.size(), 2u);
    EXPECT_EQ(l[0].rfind("{\"time\":0.000000,\"event\":\"ack\",\"conn\":3,", 0), 0u) << l[0];
    EXPECT_EQ(l[1].back(), '}');
    ::unlink(path.c_str());
}

TEST(TraceWriter, SamplingKeepsEventsAndThinsAcks) {
    const std::string path = temp_path("c.csv");
    auto w = TraceWriter::open(path);
    ASSERT_TRUE(w);
    w->set_ack_interval(Duration::millis(10));
    for (int ms = 0; ms < 30; ++ms) w->trace(record(ms, tcp::TraceEvent::ack));  // kept at 0, 10, 20
    w->trace(record(21, tcp::TraceEvent::fast_retransmit));                      // events always kept
    auto other = record(22, tcp::TraceEvent::ack);
    other.conn = 4;  // another connection has its own clock
    w->trace(other);
    EXPECT_EQ(w->written(), 5u);
    EXPECT_EQ(w->sampled_out(), 27u);
    ASSERT_TRUE(w->close());
    EXPECT_EQ(lines_of(path).size(), 6u);
    ::unlink(path.c_str());
}

TEST(TraceWriter, UnwritablePathFailsCleanly) {
    EXPECT_FALSE(TraceWriter::open("/nonexistent-dir/x/trace.csv"));
}
