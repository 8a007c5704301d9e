#include "link/flow_capture.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "frames.hpp"
#include "link_test_util.hpp"

using namespace uinet;
using namespace uinet::test;

namespace {

const MacAddr kMacA = MacAddr::from_bytes(std::array<std::uint8_t, 6>{2, 0, 0, 0, 0, 1}.data());
const MacAddr kMacB = MacAddr::from_bytes(std::array<std::uint8_t, 6>{2, 0, 0, 0, 0, 2}.data());
const Ipv4Addr kIpA = Ipv4Addr::of(198, 18, 0, 1), kIpB = Ipv4Addr::of(198, 18, 0, 2);

constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kAck = 0x10;

// A TCP segment in an Ethernet frame (checksum left zero: not checked here).
Frame tcp_frame(Ipv4Addr src, Ipv4Addr dst, std::uint16_t sport, std::uint16_t dport, std::uint8_t flags,
                std::size_t payload = 0, const wire::VlanStack& tags = {}) {
    Frame t(20 + payload, 0x5a);
    t[0] = static_cast<std::uint8_t>(sport >> 8), t[1] = static_cast<std::uint8_t>(sport);
    t[2] = static_cast<std::uint8_t>(dport >> 8), t[3] = static_cast<std::uint8_t>(dport);
    t[12] = 5 << 4;
    t[13] = flags;
    return eth(kMacB, kMacA, 0x0800, ipv4(src, dst, 6, t), tags);
}

struct TempDir {
    std::string path;
    TempDir() {
        path = ::testing::TempDir() + "uinet_flowcap_" + std::to_string(::getpid()) + "_" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name();
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

// The frames of a pcap file written by PcapWriter.
std::vector<Frame> frames_in(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    const Frame f((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<Frame> out;
    if (f.size() < 24) return out;
    for (std::size_t off = 24; off + 16 <= f.size();) {
        std::uint32_t caplen;
        std::memcpy(&caplen, &f[off + 8], 4);
        off += 16;
        if (off + caplen > f.size()) break;
        out.emplace_back(f.begin() + static_cast<std::ptrdiff_t>(off),
                         f.begin() + static_cast<std::ptrdiff_t>(off + caplen));
        off += caplen;
    }
    return out;
}

struct Rig {
    Pool pool;
    FakeDevice* fake = nullptr;
    std::unique_ptr<FlowCapture> cap;
    explicit Rig(FlowCaptureConfig cfg) {
        auto d = std::make_unique<FakeDevice>(pool);
        fake = d.get();
        cap = std::make_unique<FlowCapture>(std::move(d), std::move(cfg));
    }
    void rx(const std::vector<Frame>& fs, Instant now = Instant::from_ns(1)) {
        for (const Frame& f : fs) fake->incoming.push_back(f);
        recv_all(*cap, now);
    }
};

}  // namespace

TEST(FlowCapture, OneFilePerFlowBothDirectionsInOrder) {
    TempDir dir;
    Rig r({.dir = dir.path});
    const Frame syn = tcp_frame(kIpA, kIpB, 40000, 80, kSyn), synack = tcp_frame(kIpB, kIpA, 80, 40000, kSyn | kAck),
                data = tcp_frame(kIpA, kIpB, 40000, 80, kAck, 100),
                other = tcp_frame(kIpA, kIpB, 40001, 443, kAck, 10),  // mid-stream: first sender is the client
                u = eth(kMacB, kMacA, 0x0800, ipv4(kIpB, kIpA, 17, udp(kIpB, kIpA, 53, 5353, pattern(20)))),
                arpf = eth(kMacB, kMacA, 0x0806, arp(1, kMacA, kIpA, MacAddr{}, kIpB));
    r.rx({syn, other, synack, u, arpf});
    EXPECT_EQ(send(*r.cap, r.pool, Instant::from_ns(2), {data}), 1u);  // transmitted frames too
    r.cap->close_all();
    const std::string f1 = dir.path + "/tcp-198.18.0.1.40000-198.18.0.2.80.pcap";
    const std::string f2 = dir.path + "/tcp-198.18.0.1.40001-198.18.0.2.443.pcap";
    const std::string f3 = dir.path + "/udp-198.18.0.2.53-198.18.0.1.5353.pcap";
    EXPECT_EQ(frames_in(f1), (std::vector<Frame>{syn, synack, data}));
    EXPECT_EQ(frames_in(f2), std::vector<Frame>{other});
    EXPECT_EQ(frames_in(f3), std::vector<Frame>{u});
    EXPECT_EQ(r.cap->capture_stats().flows, 3u);
    EXPECT_EQ(r.cap->capture_stats().frames_written, 5u);
    EXPECT_EQ(r.cap->capture_stats().unclassified, 1u);  // the ARP
    EXPECT_EQ(r.cap->files(), (std::vector<std::string>{f1, f2, f3}));
    EXPECT_EQ(r.fake->sent, std::vector<Frame>{data});
}

TEST(FlowCapture, SynAckFirstMakesItsReceiverTheClient) {
    TempDir dir;
    Rig r({.dir = dir.path});
    r.rx({tcp_frame(kIpB, kIpA, 80, 40000, kSyn | kAck)});
    r.cap->close_all();
    EXPECT_EQ(frames_in(dir.path + "/tcp-198.18.0.1.40000-198.18.0.2.80.pcap").size(), 1u);
}

TEST(FlowCapture, RecurringFourTupleGetsANewFileAfterRstOrFins) {
    TempDir dir;
    Rig r({.dir = dir.path});
    r.rx({tcp_frame(kIpA, kIpB, 40000, 80, kSyn), tcp_frame(kIpB, kIpA, 80, 40000, kRst | kAck),
          tcp_frame(kIpA, kIpB, 40000, 80, kSyn), tcp_frame(kIpA, kIpB, 40000, 80, kFin | kAck),
          tcp_frame(kIpB, kIpA, 80, 40000, kFin | kAck), tcp_frame(kIpA, kIpB, 40000, 80, kSyn)});
    r.cap->close_all();
    const std::string base = dir.path + "/tcp-198.18.0.1.40000-198.18.0.2.80";
    EXPECT_EQ(frames_in(base + ".pcap").size(), 2u);
    EXPECT_EQ(frames_in(base + "-2.pcap").size(), 3u);
    EXPECT_EQ(frames_in(base + "-3.pcap").size(), 1u);
    // A retransmitted SYN of a live flow stays in its file.
    Rig r2({.dir = dir.path});
    r2.rx({tcp_frame(kIpA, kIpB, 1, 2, kSyn), tcp_frame(kIpA, kIpB, 1, 2, kSyn)});
    r2.cap->close_all();
    EXPECT_EQ(frames_in(dir.path + "/tcp-198.18.0.1.1-198.18.0.2.2.pcap").size(), 2u);
}

TEST(FlowCapture, BoundedOpenFilesReopenToAppend) {
    TempDir dir;
    Rig r({.dir = dir.path, .max_open = 1});
    std::vector<Frame> a, b;
    for (int i = 0; i < 5; ++i) {
        a.push_back(tcp_frame(kIpA, kIpB, 1000, 80, kAck, 10 + static_cast<std::size_t>(i)));
        b.push_back(tcp_frame(kIpA, kIpB, 2000, 80, kAck, 20 + static_cast<std::size_t>(i)));
        r.rx({a.back(), b.back()});
    }
    r.cap->close_all();
    EXPECT_EQ(frames_in(dir.path + "/tcp-198.18.0.1.1000-198.18.0.2.80.pcap"), a);
    EXPECT_EQ(frames_in(dir.path + "/tcp-198.18.0.1.2000-198.18.0.2.80.pcap"), b);
    EXPECT_EQ(r.cap->capture_stats().reopens, 8u);  // every frame but the first two reopens a file
}

TEST(FlowCapture, SelectedFlowsOnlyAndBoundedFlowTable) {
    TempDir dir;
    FlowCaptureConfig cfg{.dir = dir.path, .max_flows = 2};
    cfg.select = [](const FlowCaptureInfo& i) { return i.server.ends_with(".80"); };
    Rig r(std::move(cfg));
    r.rx({tcp_frame(kIpA, kIpB, 1, 80, kSyn), tcp_frame(kIpA, kIpB, 2, 22, kSyn), tcp_frame(kIpA, kIpB, 3, 80, kSyn)});
    r.cap->close_all();
    EXPECT_EQ(r.cap->capture_stats().flows, 2u);
    EXPECT_EQ(r.cap->capture_stats().flows_written, 1u);
    EXPECT_EQ(r.cap->capture_stats().flows_refused, 1u);
    EXPECT_EQ(r.cap->files(), std::vector<std::string>{dir.path + "/tcp-198.18.0.1.1-198.18.0.2.80.pcap"});
}

TEST(FlowCapture, IdleFlowsAreForgottenAndTagsNameTheFile) {
    TempDir dir;
    Rig r({.dir = dir.path, .idle_forget = Duration::seconds(10)});
    wire::VlanStack tags;
    tags.push_back(wire::VlanTag::make(0x88a8, 100));
    tags.push_back(wire::VlanTag::make(0x8100, 200));
    const Frame f = tcp_frame(kIpA, kIpB, 5, 80, kAck, 1, tags);
    r.rx({f}, Instant::from_ns(1));
    r.rx({f}, Instant::from_ns(1) + Duration::seconds(60));  // forgotten in between: a new file
    r.cap->close_all();
    const std::string base = dir.path + "/tcp-198.18.0.1.5-198.18.0.2.80-v100.200";
    EXPECT_EQ(frames_in(base + ".pcap"), std::vector<Frame>{f});
    EXPECT_EQ(frames_in(base + "-2.pcap"), std::vector<Frame>{f});
    // The same 4-tuple untagged is another flow.
    r.rx({tcp_frame(kIpA, kIpB, 5, 80, kAck, 1)}, Instant::from_ns(1) + Duration::seconds(61));
    EXPECT_EQ(r.cap->capture_stats().flows, 3u);
}

TEST(FlowCapture, UnwritableDirectoryIsCountedNotFatal) {
    Rig r({.dir = "/nonexistent-uinet-dir"});
    r.rx({tcp_frame(kIpA, kIpB, 1, 80, kSyn), tcp_frame(kIpA, kIpB, 1, 80, kAck)});
    EXPECT_EQ(r.cap->capture_stats().write_errors, 1u);
    EXPECT_EQ(r.cap->capture_stats().frames_written, 0u);
    EXPECT_TRUE(r.cap->files().empty());
}

TEST(FlowCapture, GarbageFramesAreUnclassified) {
    TempDir dir;
    Rig r({.dir = dir.path});
    Frame runt(10, 0xff), short_ip = eth(kMacB, kMacA, 0x0800, Frame(8, 0x45));
    Frame frag = eth(kMacB, kMacA, 0x0800, ipv4(kIpA, kIpB, 6, Frame(20, 0), 7, 8, false));
    r.rx({runt, short_ip, frag});
    EXPECT_EQ(r.cap->capture_stats().unclassified, 3u);
    EXPECT_EQ(r.cap->capture_stats().flows, 0u);
}
