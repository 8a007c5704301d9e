// PcapFileDevice: pcap and pcapng files as receive-only devices, link-type
// conversion, truncated records, pacing, and clear errors
// (link/pcap/pcap_device.hpp).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "link/pcap/pcap_device.hpp"
#include "link/pcap_writer.hpp"

using namespace uinet;

namespace {

using Bytes8 = std::vector<std::uint8_t>;

struct TempFile {
    std::string path;
    TempFile() {
        char tmpl[] = "/tmp/uinet-pcap-test-XXXXXX";
        int fd = mkstemp(tmpl);
        EXPECT_GE(fd, 0);
        close(fd);
        path = tmpl;
    }
    ~TempFile() { std::remove(path.c_str()); }
    void write(const Bytes8& b) const {
        FILE* f = std::fopen(path.c_str(), "wb");
        ASSERT_NE(f, nullptr);
        ASSERT_EQ(std::fwrite(b.data(), 1, b.size(), f), b.size());
        std::fclose(f);
    }
};

void le32(Bytes8& b, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void le16(Bytes8& b, std::uint16_t v) {
    b.push_back(static_cast<std::uint8_t>(v));
    b.push_back(static_cast<std::uint8_t>(v >> 8));
}

// A classic pcap file (microsecond stamps) of any link type, by hand.
struct Record {
    std::uint32_t sec, usec;
    Bytes8 data;
    std::uint32_t orig_len = 0;  // 0: data.size()
};
Bytes8 classic_pcap(std::uint32_t linktype, const std::vector<Record>& recs) {
    Bytes8 b;
    le32(b, 0xa1b2c3d4);
    le16(b, 2);
    le16(b, 4);
    le32(b, 0);
    le32(b, 0);
    le32(b, 65535);
    le32(b, linktype);
    for (const Record& r : recs) {
        le32(b, r.sec);
        le32(b, r.usec);
        le32(b, static_cast<std::uint32_t>(r.data.size()));
        le32(b, r.orig_len ? r.orig_len : static_cast<std::uint32_t>(r.data.size()));
        b.insert(b.end(), r.data.begin(), r.data.end());
    }
    return b;
}

Bytes8 frame(std::size_t n, std::uint8_t seed) {
    Bytes8 f(n);
    for (std::size_t i = 0; i < n; ++i) f[i] = static_cast<std::uint8_t>(seed + i);
    f[12] = 0x08;  // an IPv4 ethertype, for good measure
    f[13] = 0x00;
    return f;
}

Bytes8 contents(const Packet& p) {
    Bytes8 b(p.size());
    p.copy_out(0, b);
    return b;
}

struct PcapFileTest : ::testing::Test {
    Pool pool{{.count = 256, .buf_size = 2048, .headroom = 128}};
    TempFile file;

    std::unique_ptr<PcapFileDevice> open(PcapFileDevice::Pace pace = PcapFileDevice::Pace::full_speed) {
        auto d = PcapFileDevice::open(file.path, pool, pace);
        EXPECT_TRUE(d) << (d ? "" : d.error());
        return d ? std::move(*d) : nullptr;
    }
    std::vector<Packet> read_all(PcapFileDevice& d) {
        std::vector<Packet> all;
        std::vector<Packet> batch(4);
        for (int guard = 0; guard < 1000 && !d.at_end(); ++guard) {
            std::size_t n = d.receive(Instant::from_ns(0), batch);
            for (std::size_t i = 0; i < n; ++i) all.push_back(std::move(batch[i]));
        }
        return all;
    }
};

}  // namespace

TEST_F(PcapFileTest, ReadsBackWhatPcapWriterWrote) {
    const std::vector<Bytes8> frames = {frame(60, 1), frame(1514, 2), frame(4000, 3)};
    const Instant t0 = Instant::from_ns(1'700'000'000'123'456'789);
    {
        auto w = PcapWriter::create(file.path);
        ASSERT_TRUE(w);
        for (std::size_t i = 0; i < frames.size(); ++i)
            (*w)->write(t0 + Duration::micros(static_cast<std::int64_t>(i) * 1500), Bytes(frames[i]));
    }
    auto d = open();
    ASSERT_TRUE(d);
    EXPECT_EQ(d->linktype(), 1);
    EXPECT_EQ(d->next_timestamp(), t0);
    auto got = read_all(*d);
    ASSERT_EQ(got.size(), frames.size());
    for (std::size_t i = 0; i < frames.size(); ++i) {
        EXPECT_EQ(contents(got[i]), frames[i]) << i;
        EXPECT_EQ(got[i].meta().rx_time, t0 + Duration::micros(static_cast<std::int64_t>(i) * 1500)) << i;
    }
    EXPECT_TRUE(got[2].is_chain());  // 4000 bytes in 2048-byte buffers
    EXPECT_TRUE(d->at_end());
    EXPECT_EQ(d->next_timestamp(), Instant::never());
    EXPECT_EQ(d->stats().rx_packets, 3u);
    EXPECT_EQ(d->file_stats().packets, 3u);
}

TEST_F(PcapFileTest, ReadsPcapng) {
    // Section header, interface description (Ethernet, default microsecond
    // resolution), two enhanced packet blocks.
    Bytes8 b;
    le32(b, 0x0a0d0d0a);
    le32(b, 28);
    le32(b, 0x1a2b3c4d);
    le16(b, 1);
    le16(b, 0);
    le32(b, 0xffffffff);
    le32(b, 0xffffffff);
    le32(b, 28);
    le32(b, 1);
    le32(b, 20);
    le16(b, 1);
    le16(b, 0);
    le32(b, 0);
    le32(b, 20);
    const std::vector<Bytes8> frames = {frame(64, 7), frame(102, 8)};
    for (std::size_t i = 0; i < frames.size(); ++i) {
        const auto& f = frames[i];
        const std::uint32_t padded = static_cast<std::uint32_t>((f.size() + 3) & ~std::size_t{3});
        const std::uint32_t len = 32 + padded;
        const std::uint64_t us = 5'000'000ull + i * 250;
        le32(b, 6);
        le32(b, len);
        le32(b, 0);
        le32(b, static_cast<std::uint32_t>(us >> 32));
        le32(b, static_cast<std::uint32_t>(us));
        le32(b, static_cast<std::uint32_t>(f.size()));
        le32(b, static_cast<std::uint32_t>(f.size()));
        b.insert(b.end(), f.begin(), f.end());
        b.resize(b.size() + (padded - f.size()), 0);
        le32(b, len);
    }
    file.write(b);
    auto d = open();
    ASSERT_TRUE(d);
    auto got = read_all(*d);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(contents(got[0]), frames[0]);
    EXPECT_EQ(contents(got[1]), frames[1]);
    EXPECT_EQ(got[0].meta().rx_time, Instant::from_ns(5'000'000'000));
    EXPECT_EQ(got[1].meta().rx_time, Instant::from_ns(5'000'250'000));
}

TEST_F(PcapFileTest, RawIpGetsAnEthernetHeader) {
    Bytes8 v4 = {0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 198, 18, 0, 1, 198, 18, 0, 2};
    Bytes8 v6(40, 0);
    v6[0] = 0x60;
    file.write(classic_pcap(101, {{1, 0, v4}, {1, 1, v6}}));
    auto d = open();
    ASSERT_TRUE(d);
    auto got = read_all(*d);
    ASSERT_EQ(got.size(), 2u);
    Bytes8 f0 = contents(got[0]), f1 = contents(got[1]);
    ASSERT_EQ(f0.size(), 14 + v4.size());
    EXPECT_EQ(Bytes8(f0.begin() + 12, f0.begin() + 14), (Bytes8{0x08, 0x00}));
    EXPECT_EQ(Bytes8(f0.begin() + 14, f0.end()), v4);
    EXPECT_EQ(Bytes8(f1.begin() + 12, f1.begin() + 14), (Bytes8{0x86, 0xdd}));
    EXPECT_EQ(d->file_stats().converted, 2u);
}

TEST_F(PcapFileTest, LinuxCookedCaptureKeepsTheSenderMac) {
    Bytes8 sll = {0, 0, 0, 1, 0, 6, 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0, 0, 0x08, 0x00};
    Bytes8 payload = {0x45, 1, 2, 3};
    Bytes8 rec = sll;
    rec.insert(rec.end(), payload.begin(), payload.end());
    file.write(classic_pcap(113, {{1, 0, rec}}));
    auto d = open();
    ASSERT_TRUE(d);
    auto got = read_all(*d);
    ASSERT_EQ(got.size(), 1u);
    Bytes8 f = contents(got[0]);
    ASSERT_EQ(f.size(), 14 + payload.size());
    EXPECT_EQ(Bytes8(f.begin() + 6, f.begin() + 12), (Bytes8{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee}));
    EXPECT_EQ(Bytes8(f.begin() + 12, f.begin() + 14), (Bytes8{0x08, 0x00}));
}

TEST_F(PcapFileTest, TruncatedRecordsAreCountedNotDelivered) {
    file.write(classic_pcap(1, {{1, 0, frame(60, 1)}, {1, 1, frame(96, 2), 1514}, {1, 2, frame(70, 3)}}));
    auto d = open();
    ASSERT_TRUE(d);
    auto got = read_all(*d);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(contents(got[1]), frame(70, 3));
    EXPECT_EQ(d->file_stats().truncated, 1u);
    EXPECT_EQ(d->file_stats().packets, 3u);
}

TEST_F(PcapFileTest, NeverTransmits) {
    file.write(classic_pcap(1, {{1, 0, frame(60, 1)}}));
    auto d = open();
    ASSERT_TRUE(d);
    std::vector<Packet> out;
    out.push_back(pool.copy_of(Bytes(frame(60, 9)), 64));
    out.push_back(pool.copy_of(Bytes(frame(60, 9)), 64));
    EXPECT_EQ(d->transmit(Instant::from_ns(0), out), 2u);
    EXPECT_EQ(d->stats().tx_dropped, 2u);
    EXPECT_EQ(d->stats().tx_packets, 0u);
    EXPECT_EQ(pool.stats().in_use, 0u);
}

TEST_F(PcapFileTest, CaptureTimingReplaysAtTheRecordedPace) {
    file.write(classic_pcap(1, {{10, 0, frame(60, 1)}, {10, 500, frame(60, 2)}, {11, 0, frame(60, 3)}}));
    auto d = open(PcapFileDevice::Pace::capture_timing);
    ASSERT_TRUE(d);
    std::vector<Packet> batch(8);
    const Instant start = Instant::from_ns(7'000'000'000);
    EXPECT_EQ(d->receive(start, batch), 1u);  // only the first is due
    EXPECT_EQ(d->next_deadline(), start + Duration::micros(500));
    EXPECT_EQ(d->receive(start + Duration::micros(499), batch), 0u);
    EXPECT_EQ(d->receive(start + Duration::micros(500), batch), 1u);
    EXPECT_EQ(d->next_deadline(), start + Duration::seconds(1));
    EXPECT_EQ(d->receive(start + Duration::seconds(2), batch), 1u);
    EXPECT_TRUE(d->at_end());
    EXPECT_EQ(d->next_deadline(), Instant::never());
}

TEST_F(PcapFileTest, ClearErrors) {
    auto missing = PcapFileDevice::open("/nonexistent/uinet.pcap", pool);
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().find("/nonexistent/uinet.pcap"), std::string::npos);

    file.write(classic_pcap(105, {{1, 0, frame(60, 1)}}));  // IEEE 802.11
    auto wifi = PcapFileDevice::open(file.path, pool);
    ASSERT_FALSE(wifi);
    EXPECT_NE(wifi.error().find("unsupported link type 105"), std::string::npos) << wifi.error();

    file.write({1, 2, 3, 4, 5});
    auto junk = PcapFileDevice::open(file.path, pool);
    EXPECT_FALSE(junk);
}
