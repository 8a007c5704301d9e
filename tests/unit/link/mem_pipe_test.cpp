#include "link/mem_pipe.hpp"

#include <gtest/gtest.h>
#include <poll.h>

#include <thread>

#include "link_test_util.hpp"

using namespace uinet;
using namespace uinet::test;

namespace {
Instant at_us(std::int64_t us) { return Instant::from_ns(us * 1000); }
}  // namespace

TEST(MemPipe, DeliversInOrderBothWays) {
    Pool pa, pb;
    auto [a, b] = make_mem_pipe(pa, pb);
    EXPECT_EQ(a->name(), "mem0");
    EXPECT_EQ(b->name(), "mem1");
    std::vector<Frame> fa, fb;
    for (std::uint8_t i = 0; i < 20; ++i) fa.push_back(make_frame(60 + i * 7, i));
    for (std::uint8_t i = 0; i < 5; ++i) fb.push_back(make_frame(100, static_cast<std::uint8_t>(100 + i)));
    EXPECT_EQ(send(*a, pa, at_us(0), fa), fa.size());
    EXPECT_EQ(send(*b, pb, at_us(0), fb), fb.size());
    EXPECT_EQ(b->pending(), 20u);
    EXPECT_EQ(recv_all(*b, at_us(0), 3), fa);  // batch smaller than the queue
    EXPECT_EQ(recv_all(*a, at_us(0)), fb);
    EXPECT_EQ(a->stats().tx_packets, 20u);
    EXPECT_EQ(b->stats().rx_packets, 20u);
    EXPECT_EQ(b->stats().tx_packets, 5u);
    EXPECT_EQ(a->stats().rx_packets, 5u);
    // Each end received into its own pool; everything has been given back.
    EXPECT_EQ(pb.stats().allocs - pb.stats().frees, 0u);
    EXPECT_GE(pb.stats().allocs, 20u);
}

TEST(MemPipe, DropTailWhenQueueIsFull) {
    Pool pa, pb;
    auto [a, b] = make_mem_pipe(pa, pb, {.queue_frames = 4});
    std::vector<Frame> f;
    for (std::uint8_t i = 0; i < 6; ++i) f.push_back(make_frame(64, i));
    EXPECT_EQ(send(*a, pa, at_us(0), f), 6u);  // all taken; two dropped inside
    EXPECT_EQ(a->stats().tx_dropped, 2u);
    EXPECT_EQ(a->stats().tx_packets, 4u);
    auto got = recv_all(*b, at_us(0));
    ASSERT_EQ(got.size(), 4u);
    EXPECT_EQ(got, std::vector<Frame>(f.begin(), f.begin() + 4));
    // Room again once drained.
    EXPECT_EQ(send(*a, pa, at_us(0), {f[5]}), 1u);
    EXPECT_EQ(a->stats().tx_dropped, 2u);
    EXPECT_EQ(recv_all(*b, at_us(0)), std::vector<Frame>{f[5]});
}

TEST(MemPipe, BandwidthAndDelayTiming) {
    Pool pa, pb;
    // 8 Mbit/s = one byte per microsecond; 1 ms propagation delay.
    auto [a, b] = make_mem_pipe(pa, pb, {.bandwidth_bps = 8000000, .delay = Duration::millis(1)});
    const Frame f1 = make_frame(1000, 1), f2 = make_frame(1000, 2), f3 = make_frame(500, 3);
    send(*a, pa, at_us(0), {f1, f2});
    // f1: serialised 0..1000us, arrives 2000us. f2 waits for the link: 1000..2000, arrives 3000.
    EXPECT_EQ(b->next_deadline(), at_us(2000));
    EXPECT_TRUE(recv_all(*b, at_us(1999)).empty());
    EXPECT_EQ(recv_all(*b, at_us(2000)), std::vector<Frame>{f1});
    EXPECT_EQ(b->next_deadline(), at_us(3000));
    EXPECT_TRUE(recv_all(*b, at_us(2999)).empty());
    EXPECT_EQ(recv_all(*b, at_us(3000)), std::vector<Frame>{f2});
    EXPECT_EQ(b->next_deadline(), Instant::never());
    // After the link went idle, timing restarts from `now`.
    send(*a, pa, at_us(10000), {f3});
    EXPECT_EQ(b->next_deadline(), at_us(10000 + 500 + 1000));
    EXPECT_EQ(recv_all(*b, at_us(20000)), std::vector<Frame>{f3});
    // The reverse direction has its own busy-until.
    send(*b, pb, at_us(0), {f1});
    EXPECT_EQ(a->next_deadline(), at_us(2000));
}

TEST(MemPipe, DelayOnlyKeepsOrderAndStampsRxTime) {
    Pool pa, pb;
    auto [a, b] = make_mem_pipe(pa, pb, {.delay = Duration::micros(50)});
    send(*a, pa, at_us(10), {make_frame(64, 1)});
    send(*a, pa, at_us(20), {make_frame(64, 2)});
    std::vector<Packet> out(4);
    EXPECT_EQ(b->receive(at_us(59), out), 0u);
    ASSERT_EQ(b->receive(at_us(65), out), 1u);
    EXPECT_EQ(out[0].meta().rx_time, at_us(65));
    EXPECT_EQ(bytes_of(out[0])[11], 1);
    ASSERT_EQ(b->receive(at_us(70), out), 1u);
    EXPECT_EQ(bytes_of(out[0])[11], 2);
}

TEST(MemPipe, RefusesOversizeAndRuntFrames) {
    Pool pa, pb;
    auto [a, b] = make_mem_pipe(pa, pb, {.mtu = 1500});
    EXPECT_EQ(a->max_frame(), 1500u + 14 + 64);
    EXPECT_EQ(a->caps().mtu, 1500u);
    const Frame biggest = make_frame(1500 + 14 + 64, 1);
    send(*a, pa, at_us(0), {biggest, make_frame(1500 + 14 + 65, 2), make_frame(13, 3), make_frame(14, 4)});
    EXPECT_EQ(a->stats().tx_errors, 2u);
    EXPECT_EQ(a->stats().tx_packets, 2u);
    auto got = recv_all(*b, at_us(0));
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0], biggest);
    EXPECT_EQ(got[1].size(), 14u);
}

TEST(MemPipe, CopiesChainedFramesBothWays) {
    // Small buffers on both sides: the frame is a chain on transmit and on receive.
    Pool pa({.count = 64, .buf_size = 256, .headroom = 32});
    Pool pb({.count = 64, .buf_size = 256, .headroom = 32});
    auto [a, b] = make_mem_pipe(pa, pb);
    const Frame f = make_frame(1200, 9);
    std::vector<Packet> pkts;
    pkts.push_back(pa.copy_of(f, 32));
    ASSERT_TRUE(pkts[0].is_chain());
    a->transmit(at_us(0), pkts);
    std::vector<Packet> out(1);
    ASSERT_EQ(b->receive(at_us(0), out), 1u);
    EXPECT_TRUE(out[0].is_chain());
    EXPECT_EQ(out[0].front().headroom(), 32u);
    EXPECT_EQ(bytes_of(out[0]), f);
}

TEST(MemPipe, ReceivePoolExhaustedCountsRxDropped) {
    Pool pa;
    Pool pb({.count = 2, .buf_size = 2048, .headroom = 128});
    auto [a, b] = make_mem_pipe(pa, pb);
    std::vector<Frame> f;
    for (std::uint8_t i = 0; i < 4; ++i) f.push_back(make_frame(100, i));
    send(*a, pa, at_us(0), f);
    std::vector<Packet> out(4);
    EXPECT_EQ(b->receive(at_us(0), out), 2u);
    EXPECT_EQ(b->stats().rx_dropped, 2u);
    EXPECT_EQ(b->pending(), 0u);
    EXPECT_EQ(bytes_of(out[0]), f[0]);
    EXPECT_EQ(bytes_of(out[1]), f[1]);
}

TEST(MemPipe, EventFdSignalsQueuedFrames) {
    Pool pa, pb;
    auto [a, b] = make_mem_pipe(pa, pb, {.delay = Duration::micros(100)});
    ASSERT_GE(b->poll_fd(), 0);
    ASSERT_NE(a->poll_fd(), b->poll_fd());
    EXPECT_FALSE(readable(b->poll_fd()));
    send(*a, pa, at_us(0), {make_frame(64, 1), make_frame(64, 2), make_frame(64, 3)});
    EXPECT_TRUE(readable(b->poll_fd()));
    EXPECT_FALSE(readable(a->poll_fd()));
    // Not due yet: receive() gets nothing and clears the descriptor; the
    // deadline tells when to come back.
    EXPECT_TRUE(recv_all(*b, at_us(50)).empty());
    EXPECT_FALSE(readable(b->poll_fd()));
    EXPECT_EQ(b->next_deadline(), at_us(100));
    // Due, but the batch is too small: stays readable while due frames remain.
    std::vector<Packet> out(1);
    EXPECT_EQ(b->receive(at_us(100), out), 1u);
    EXPECT_TRUE(readable(b->poll_fd()));
    out.resize(8);
    EXPECT_EQ(b->receive(at_us(100), out), 2u);
    EXPECT_FALSE(readable(b->poll_fd()));
    // A new frame on the empty queue signals again.
    send(*a, pa, at_us(200), {make_frame(64, 4)});
    EXPECT_TRUE(readable(b->poll_fd()));
}

TEST(MemPipe, EndsOutliveEachOther) {
    Pool pa, pb;
    auto ends = make_mem_pipe(pa, pb);
    send(*ends.first, pa, at_us(0), {make_frame(64, 1)});
    ends.second.reset();  // the receiving end goes away with a frame queued
    EXPECT_EQ(send(*ends.first, pa, at_us(0), {make_frame(64, 2)}), 1u);
    EXPECT_TRUE(recv_all(*ends.first, at_us(0)).empty());
}

// Two threads, each driving one end with its own pool, as two stacks would:
// A keeps a window of frames in flight, B echoes them back; both wait on
// poll_fd(). Checks order, completeness and cross-thread wake-ups.
TEST(MemPipe, CrossThreadEcho) {
    constexpr std::uint32_t kFrames = 20000;
    constexpr std::uint32_t kWindow = 32;
    constexpr int kPollMs = 10000;  // a generous failure bound, not a timing assumption
    Pool pa, pb;
    auto [a, b] = make_mem_pipe(pa, pb, {.queue_frames = 64});
    const Instant t0 = at_us(0);

    std::uint32_t echoed = 0;
    bool b_ok = true;
    std::thread tb([&, bend = b.get()] {
        std::vector<Packet> out(16);
        while (echoed < kFrames) {
            pollfd pfd{bend->poll_fd(), POLLIN, 0};
            if (::poll(&pfd, 1, kPollMs) != 1) {
                b_ok = false;
                return;
            }
            const std::size_t n = bend->receive(t0, out);
            bend->transmit(t0, std::span<Packet>(out.data(), n));
            echoed += static_cast<std::uint32_t>(n);
        }
    });

    std::uint32_t sent = 0, back = 0;
    bool order_ok = true, a_ok = true;
    std::vector<Packet> out(16);
    while (back < kFrames && a_ok) {
        while (sent < kFrames && sent - back < kWindow) {
            Frame f = make_frame(64 + sent % 512, static_cast<std::uint8_t>(sent));
            store_be32(&f[14], sent);
            std::vector<Packet> one;
            one.push_back(packet_of(pa, f));
            a->transmit(t0, one);
            ++sent;
        }
        pollfd pfd{a->poll_fd(), POLLIN, 0};
        if (::poll(&pfd, 1, kPollMs) != 1) {
            a_ok = false;
            break;
        }
        const std::size_t n = a->receive(t0, out);
        for (std::size_t i = 0; i < n; ++i) {
            Frame f = bytes_of(out[i]);
            out[i].reset();
            if (load_be32(&f[14]) != back || f.size() != 64 + back % 512) order_ok = false;
            ++back;
        }
    }
    tb.join();
    EXPECT_TRUE(a_ok);
    EXPECT_TRUE(b_ok);
    EXPECT_TRUE(order_ok);
    EXPECT_EQ(back, kFrames);
    EXPECT_EQ(a->stats().tx_dropped + b->stats().tx_dropped, 0u);
    EXPECT_EQ(b->stats().rx_packets, kFrames);
}
