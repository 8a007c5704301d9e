#include "link/pcap_writer.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#include "link_test_util.hpp"

using namespace uinet;
using namespace uinet::test;

namespace {

std::string temp_path(const std::string& tag) {
    return ::testing::TempDir() + "uinet_pcap_" + tag + "_" + std::to_string(::getpid()) + ".pcap";
}

Frame read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return Frame(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::uint32_t u32(const Frame& f, std::size_t off) {
    std::uint32_t v;
    std::memcpy(&v, &f[off], 4);
    return v;
}
std::uint16_t u16(const Frame& f, std::size_t off) {
    std::uint16_t v;
    std::memcpy(&v, &f[off], 2);
    return v;
}

struct Record {
    std::uint32_t sec, nsec, caplen, origlen;
    Frame data;
};

std::vector<Record> records(const Frame& file) {
    std::vector<Record> out;
    std::size_t off = 24;
    while (off + 16 <= file.size()) {
        Record r{u32(file, off), u32(file, off + 4), u32(file, off + 8), u32(file, off + 12), {}};
        off += 16;
        if (off + r.caplen > file.size()) break;
        r.data.assign(file.begin() + static_cast<std::ptrdiff_t>(off),
                      file.begin() + static_cast<std::ptrdiff_t>(off + r.caplen));
        off += r.caplen;
        out.push_back(std::move(r));
    }
    return out;
}

// Number of packets tcpdump prints (lines starting with a timestamp) from the file, or -1 if tcpdump is absent.
int tcpdump_count(const std::string& path) {
    if (std::system("command -v tcpdump >/dev/null 2>&1") != 0) return -1;
    const std::string cmd = "tcpdump -r '" + path + "' -nn 2>/dev/null";
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return -1;
    int lines = 0;
    char buf[4096];
    while (std::fgets(buf, sizeof buf, p))
        if (buf[0] >= '0' && buf[0] <= '9') ++lines;  // one per packet; hex dumps are indented
    ::pclose(p);
    return lines;
}

}  // namespace

TEST(PcapWriter, WritesHeadersAndFrames) {
    const std::string path = temp_path("basic");
    Pool small({.count = 16, .buf_size = 128, .headroom = 16});
    const Frame f1 = make_frame(60, 1, 0x0800), f2 = make_frame(300, 2, 0x86dd), f3 = make_frame(200, 3);
    {
        auto w = PcapWriter::create(path, 128);
        ASSERT_TRUE(w) << w.error();
        (*w)->write(Instant::from_ns(1'500'000'001), f1);
        Packet chained = small.copy_of(f2, 16);
        ASSERT_TRUE(chained.is_chain());
        (*w)->write(Instant::from_ns(2'000'000'000), chained);  // scattered, cut to the snaplen
        (*w)->write(Instant::from_ns(-5), Bytes(f3));            // before the epoch: clamped
        EXPECT_EQ((*w)->frames(), 3u);
        EXPECT_EQ((*w)->errors(), 0u);
    }  // destructor flushes
    const Frame file = read_file(path);
    ASSERT_GE(file.size(), 24u);
    EXPECT_EQ(u32(file, 0), 0xa1b23c4du);
    EXPECT_EQ(u16(file, 4), 2);
    EXPECT_EQ(u16(file, 6), 4);
    EXPECT_EQ(u32(file, 8), 0u);
    EXPECT_EQ(u32(file, 16), 128u);  // snaplen
    EXPECT_EQ(u32(file, 20), 1u);    // LINKTYPE_ETHERNET
    auto recs = records(file);
    ASSERT_EQ(recs.size(), 3u);
    EXPECT_EQ(file.size(), 24u + 3 * 16 + 60 + 128 + 128);
    EXPECT_EQ(recs[0].sec, 1u);
    EXPECT_EQ(recs[0].nsec, 500'000'001u);
    EXPECT_EQ(recs[0].caplen, 60u);
    EXPECT_EQ(recs[0].origlen, 60u);
    EXPECT_EQ(recs[0].data, f1);
    EXPECT_EQ(recs[1].sec, 2u);
    EXPECT_EQ(recs[1].nsec, 0u);
    EXPECT_EQ(recs[1].caplen, 128u);
    EXPECT_EQ(recs[1].origlen, 300u);
    EXPECT_EQ(recs[1].data, Frame(f2.begin(), f2.begin() + 128));
    EXPECT_EQ(recs[2].sec, 0u);
    EXPECT_EQ(recs[2].nsec, 0u);
    EXPECT_EQ(recs[2].origlen, 200u);

    const int n = tcpdump_count(path);
    if (n >= 0) EXPECT_EQ(n, 3);
    std::remove(path.c_str());
}

TEST(PcapWriter, ManyFramesThroughTheBufferAndTcpdump) {
    const std::string path = temp_path("many");
    auto w = PcapWriter::create(path);
    ASSERT_TRUE(w) << w.error();
    for (int i = 0; i < 500; ++i)
        (*w)->write(Instant::from_ns(i * 1000), make_frame(60 + (i * 37) % 1400, static_cast<std::uint8_t>(i)));
    (*w)->flush();
    auto recs = records(read_file(path));
    ASSERT_EQ(recs.size(), 500u);
    EXPECT_EQ(recs[499].nsec, 499000u);
    EXPECT_EQ(recs[499].data, make_frame(60 + (499 * 37) % 1400, static_cast<std::uint8_t>(499)));
    const int n = tcpdump_count(path);
    if (n < 0) std::puts("tcpdump not installed: file check only");
    else EXPECT_EQ(n, 500);
    std::remove(path.c_str());
}

TEST(PcapWriter, ReportsErrors) {
    auto bad = PcapWriter::create("/nonexistent-dir/x.pcap");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().find("cannot create pcap file /nonexistent-dir/x.pcap"), std::string::npos) << bad.error();
    EXPECT_FALSE(PcapWriter::create(temp_path("zero"), 0));
    if (::access("/dev/full", W_OK) == 0) {
        auto full = PcapWriter::create("/dev/full");
        ASSERT_FALSE(full);
        EXPECT_NE(full.error().find("cannot write pcap header"), std::string::npos) << full.error();
    }
}

TEST(PcapCapture, RecordsBothDirectionsWithOffset) {
    const std::string path = temp_path("capture");
    Pool pool;
    auto fd = std::make_unique<FakeDevice>(pool);
    FakeDevice* fake = fd.get();
    auto w = PcapWriter::create(path);
    ASSERT_TRUE(w) << w.error();
    PcapCapture cap(std::move(fd), std::move(w).value(), Duration::seconds(1000));
    const Frame in1 = make_frame(80, 1), in2 = make_frame(90, 2), out1 = make_frame(100, 3);
    fake->incoming = {in1, in2};
    fake->accept_limit = 1;
    EXPECT_EQ(recv_all(cap, Instant::from_ns(5)), (std::vector<Frame>{in1, in2}));
    EXPECT_EQ(send(cap, pool, Instant::from_ns(7), {out1, out1}), 1u);  // inner takes one
    EXPECT_EQ(fake->sent, std::vector<Frame>{out1});
    EXPECT_EQ(cap.writer().frames(), 4u);  // recorded as handed to the device
    cap.writer().flush();
    auto recs = records(read_file(path));
    ASSERT_EQ(recs.size(), 4u);
    EXPECT_EQ(recs[0].sec, 1000u);
    EXPECT_EQ(recs[0].nsec, 5u);
    EXPECT_EQ(recs[0].data, in1);
    EXPECT_EQ(recs[1].data, in2);
    EXPECT_EQ(recs[2].nsec, 7u);
    EXPECT_EQ(recs[2].data, out1);
    EXPECT_EQ(cap.name(), "fake");
    EXPECT_EQ(&cap.inner(), fake);
    std::remove(path.c_str());
}
