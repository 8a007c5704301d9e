#include "link/vlan_tagger.hpp"

#include <gtest/gtest.h>

#include "link_test_util.hpp"

using namespace uinet;
using namespace uinet::test;

namespace {

const Instant t0 = Instant::from_ns(0);

std::vector<VlanTagger::Tag> make_tags(std::size_t n) {
    std::vector<VlanTagger::Tag> tags;
    for (std::size_t i = 0; i < n; ++i)
        tags.emplace_back(i + 1 == n ? 0x8100 : 0x88a8, static_cast<std::uint16_t>(0x2000 | (100 + i)));
    return tags;
}

// What the stack should see: the tags after the MAC addresses.
Frame tagged(const Frame& f, const std::vector<VlanTagger::Tag>& tags) {
    Frame out(f.begin(), f.begin() + 12);
    for (auto [tpid, tci] : tags) {
        out.push_back(static_cast<std::uint8_t>(tpid >> 8));
        out.push_back(static_cast<std::uint8_t>(tpid));
        out.push_back(static_cast<std::uint8_t>(tci >> 8));
        out.push_back(static_cast<std::uint8_t>(tci));
    }
    out.insert(out.end(), f.begin() + 12, f.end());
    return out;
}

struct Rig {
    Rig(std::size_t ntags, std::size_t inner_headroom = 128) : tags(make_tags(ntags)) {
        auto f = std::make_unique<FakeDevice>(pool);
        f->headroom = inner_headroom;
        fake = f.get();
        vt = std::make_unique<VlanTagger>(std::move(f), tags);
    }
    Pool pool;
    std::vector<VlanTagger::Tag> tags;
    FakeDevice* fake = nullptr;
    std::unique_ptr<VlanTagger> vt;
};

void round_trip(std::size_t ntags, std::size_t inner_headroom, bool expect_copy) {
    Rig r(ntags, inner_headroom);
    std::vector<Frame> f;
    for (std::uint8_t i = 0; i < 5; ++i) f.push_back(make_frame(60 + i * 100, i, i % 2 ? 0x0800 : 0x86dd));
    for (auto& x : f) r.fake->incoming.push_back(x);
    auto up = recv_all(*r.vt, t0);
    ASSERT_EQ(up.size(), f.size());
    for (std::size_t i = 0; i < f.size(); ++i) EXPECT_EQ(up[i], tagged(f[i], r.tags)) << i;
    EXPECT_EQ(r.vt->vlan_stats().rx_tagged, 5u);
    EXPECT_EQ(r.vt->vlan_stats().rx_copied, expect_copy ? 5u : 0u);
    EXPECT_EQ(r.vt->stats().rx_packets, 5u);
    // And back down: the stack's tagged frames leave untagged.
    EXPECT_EQ(send(*r.vt, r.pool, t0, up), 5u);
    EXPECT_EQ(r.fake->sent, f);
    EXPECT_EQ(r.vt->vlan_stats().tx_untagged, 5u);
    EXPECT_EQ(r.vt->vlan_stats().tx_copied, 0u);
    EXPECT_EQ(r.vt->stats().tx_packets, 5u);
    EXPECT_EQ(r.pool.stats().in_use, 0u);
}

}  // namespace

TEST(VlanTagger, RoundTripTwoTags) { round_trip(2, 128, false); }
TEST(VlanTagger, RoundTripSixteenTags) { round_trip(16, 128, false); }
TEST(VlanTagger, ShortHeadroomCopies) { round_trip(16, 32, true); }

TEST(VlanTagger, WireFormatOfOneTag) {
    Pool pool;
    auto f = std::make_unique<FakeDevice>(pool);
    FakeDevice* fake = f.get();
    VlanTagger vt(std::move(f), {{0x8100, 0x6064}});  // PCP 3, VID 100
    fake->incoming.push_back(make_frame(64, 1, 0x0800));
    auto up = recv_all(vt, t0);
    ASSERT_EQ(up.size(), 1u);
    ASSERT_EQ(up[0].size(), 68u);
    EXPECT_EQ(load_be16(&up[0][12]), 0x8100);
    EXPECT_EQ(load_be16(&up[0][14]), 0x6064);
    EXPECT_EQ(load_be16(&up[0][16]), 0x0800);
    EXPECT_EQ(up[0][11], 1);  // source MAC moved intact
}

TEST(VlanTagger, MismatchedTagsAreDropped) {
    Rig r(2);
    const Frame plain = make_frame(100, 1);
    Frame wrong_vid = tagged(plain, r.tags);
    wrong_vid[15] ^= 1;                          // the outer tag's VID differs
    Frame one_tag = tagged(plain, {r.tags[0]});  // missing the inner tag
    Frame right = tagged(plain, r.tags);
    Frame too_short(right.begin(), right.begin() + 12 + 8 + 1);  // no room for the ethertype
    EXPECT_EQ(send(*r.vt, r.pool, t0, {plain, wrong_vid, one_tag, too_short, right}), 5u);
    EXPECT_EQ(r.fake->sent, std::vector<Frame>{plain});  // only `right`, untagged
    EXPECT_EQ(r.vt->vlan_stats().tag_mismatch, 4u);
    EXPECT_EQ(r.vt->stats().tx_dropped, 4u);
    EXPECT_EQ(r.pool.stats().in_use, 0u);
}

TEST(VlanTagger, SharedFramesAreCopiedNotModified) {
    Rig r(2);
    const Frame plain = make_frame(100, 3);
    const Frame t = tagged(plain, r.tags);
    Packet original = packet_of(r.pool, t);
    std::vector<Packet> pkts;
    pkts.push_back(original.share());
    r.vt->transmit(t0, pkts);
    EXPECT_EQ(r.fake->sent, std::vector<Frame>{plain});
    EXPECT_EQ(bytes_of(original), t);
    EXPECT_EQ(r.vt->vlan_stats().tx_copied, 1u);
}

TEST(VlanTagger, TagsSpanningBuffersOfAChain) {
    Pool small({.count = 64, .buf_size = 64, .headroom = 32});  // 32 bytes of data per first buffer
    auto f = std::make_unique<FakeDevice>(small);
    FakeDevice* fake = f.get();
    auto tags = make_tags(8);  // 12 + 32 bytes of header: past the first buffer
    VlanTagger vt(std::move(f), tags);
    const Frame plain = make_frame(300, 4);
    std::vector<Packet> pkts;
    pkts.push_back(small.copy_of(tagged(plain, tags), 32));
    ASSERT_TRUE(pkts[0].is_chain());
    vt.transmit(t0, pkts);
    EXPECT_EQ(fake->sent, std::vector<Frame>{plain});
    EXPECT_EQ(vt.vlan_stats().tx_copied, 1u);
    // Received with 16 bytes of headroom, short of the 32 the tags need: copied.
    fake->incoming.push_back(plain);
    fake->headroom = 16;
    auto up = recv_all(vt, t0);
    ASSERT_EQ(up.size(), 1u);
    EXPECT_EQ(up[0], tagged(plain, tags));
    EXPECT_EQ(vt.vlan_stats().rx_copied, 1u);
}

TEST(VlanTagger, PartialChecksumOffsetFollowsThePop) {
    Rig r(2);
    std::vector<Packet> pkts;
    pkts.push_back(packet_of(r.pool, tagged(make_frame(100, 1, 0x0800), r.tags)));
    pkts[0].meta().tx_csum_partial = true;
    pkts[0].meta().csum_start = 14 + 8 + 20;  // L4 start behind two tags and an IPv4 header
    pkts[0].meta().csum_offset = 16;
    r.vt->transmit(t0, pkts);
    ASSERT_EQ(r.fake->sent_meta.size(), 1u);
    EXPECT_EQ(r.fake->sent_meta[0].csum_start, 14 + 20);
    EXPECT_EQ(r.fake->sent_meta[0].csum_offset, 16);
}

TEST(VlanTagger, RuntsAndInnerRefusals) {
    Rig r(1);
    r.fake->incoming.push_back(Frame(10, 0xaa));
    r.fake->incoming.push_back(make_frame(64, 2));
    auto up = recv_all(*r.vt, t0);
    ASSERT_EQ(up.size(), 1u);
    EXPECT_EQ(r.vt->vlan_stats().rx_runts, 1u);
    EXPECT_EQ(r.vt->stats().rx_errors, 1u);
    r.fake->accept_limit = 1;
    EXPECT_EQ(send(*r.vt, r.pool, t0, {up[0], up[0], up[0]}), 3u);
    EXPECT_EQ(r.fake->sent.size(), 1u);
    EXPECT_EQ(r.vt->stats().tx_packets, 1u);
    EXPECT_EQ(r.vt->stats().tx_bytes, 64u);
    EXPECT_EQ(r.vt->stats().tx_dropped, 2u);
    EXPECT_EQ(r.pool.stats().in_use, 0u);
}

TEST(VlanTagger, NoTagsIsAPassThrough) {
    Rig r(0);
    const Frame f = make_frame(64, 1);
    r.fake->incoming.push_back(f);
    EXPECT_EQ(recv_all(*r.vt, t0), std::vector<Frame>{f});
    send(*r.vt, r.pool, t0, {f});
    EXPECT_EQ(r.fake->sent, std::vector<Frame>{f});
}
