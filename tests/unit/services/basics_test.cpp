// Tests of SHA-256 (FIPS 180-4 / NIST example vectors), the body patterns,
// and the echo, discard and chargen services.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pump.hpp"
#include "services/byte_queue.hpp"
#include "services/pattern.hpp"
#include "services/sha256.hpp"
#include "services/stream_service.hpp"

using namespace uinet;
using namespace uinet::services;
using namespace uinet::services::test;

namespace {

Bytes bytes_of(std::string_view s) { return Bytes(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()); }

TEST(Sha256, KnownVectors) {
    EXPECT_EQ(Sha256::hex(Sha256::of(bytes_of(""))),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(Sha256::hex(Sha256::of(bytes_of("abc"))),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(Sha256::hex(Sha256::of(bytes_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, IncrementalEqualsOneShotAndFinishResets) {
    const std::string msg(1000, 'a');
    Sha256 h;
    ASSERT_TRUE(h.ok());
    for (std::size_t i = 0; i < msg.size(); i += 7) h.update(bytes_of(std::string_view(msg).substr(i, 7)));
    EXPECT_EQ(h.finish(), Sha256::of(bytes_of(msg)));
    h.update(bytes_of("abc"));  // finish() reset the context
    EXPECT_EQ(Sha256::hex(h.finish()), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Pattern, GetPatternAtAnyOffset) {
    for (std::uint64_t off : {std::uint64_t{0}, std::uint64_t{250}, std::uint64_t{251}, std::uint64_t{123456789},
                              (std::uint64_t{1} << 40) - 3}) {
        std::vector<std::uint8_t> buf(10000);
        fill_get_pattern(off, buf);
        for (std::size_t i = 0; i < buf.size(); ++i) ASSERT_EQ(buf[i], (off + i) % 251) << off << "+" << i;
        EXPECT_EQ(check_get_pattern(off, buf), buf.size());
        buf[4321] ^= 1;
        EXPECT_EQ(check_get_pattern(off, buf), 4321u);
        EXPECT_EQ(check_get_pattern(off + 1, buf), 0u);
    }
}

TEST(Pattern, PutPattern) {
    std::vector<std::uint8_t> buf(600);
    fill_put_pattern(1000, buf);
    for (std::size_t i = 0; i < buf.size(); ++i) ASSERT_EQ(buf[i], ((1000 + i) * 7) % 256);
}

TEST(ByteQueue, FifoAcrossCompaction) {
    ByteQueue q;
    std::string expect;
    std::uint8_t next = 0;
    std::vector<std::uint8_t> out(97);
    std::string got;
    for (int round = 0; round < 200; ++round) {
        std::vector<std::uint8_t> in(static_cast<std::size_t>(round % 13) * 11);
        for (auto& b : in) expect.push_back(static_cast<char>(b = next++));
        q.append(in);
        const std::size_t n = q.pop_into(out);
        got.append(reinterpret_cast<const char*>(out.data()), n);
    }
    while (!q.empty()) {
        const std::size_t n = q.pop_into(out);
        got.append(reinterpret_cast<const char*>(out.data()), n);
    }
    EXPECT_EQ(got, expect);
}

// A peer that sends `data`, collects what comes back, and closes once it has
// received `expect` bytes.
class Peer final : public StreamService {
public:
    Peer(std::string data, std::size_t expect) : data_(std::move(data)), expect_(expect) {}
    void on_data(Bytes in) override { got.append(reinterpret_cast<const char*>(in.data()), in.size()); }
    void on_eof() override { eof = true; }
    std::size_t produce(MutBytes out) override {
        const std::size_t n = std::min(out.size(), data_.size() - sent_);
        std::memcpy(out.data(), data_.data() + sent_, n);
        sent_ += n;
        return n;
    }
    bool output_pending() const override { return sent_ < data_.size(); }
    bool wants_input() const override { return true; }
    bool done() const override { return sent_ == data_.size() && got.size() >= expect_; }
    std::string got;
    bool eof = false;

private:
    std::string data_;
    std::size_t sent_ = 0;
    std::size_t expect_;
};

TEST(Echo, EchoesEverythingUnderBackPressure) {
    std::string data(1'000'000, '\0');
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 131 + (i >> 9));
    for (std::uint64_t seed : {1, 2, 3}) {
        auto echo = make_echo();
        Peer peer(data, data.size());
        Pump pump(peer, *echo, seed, 20000, 256 * 1024);
        const PumpStats st = pump.run();
        EXPECT_FALSE(st.stalled) << seed;
        EXPECT_EQ(peer.got, data) << seed;
        EXPECT_TRUE(echo->done());
        EXPECT_TRUE(peer.eof);
        EXPECT_FALSE(echo->failed());
    }
}

TEST(Echo, BufferIsBounded) {
    auto echo = make_echo();
    const std::vector<std::uint8_t> chunk(4096, 0x5a);
    std::size_t fed = 0;
    while (echo->wants_input()) {
        echo->on_data(chunk);
        fed += chunk.size();
        ASSERT_LE(fed, kEchoBuffer + chunk.size());
    }
    EXPECT_EQ(fed, kEchoBuffer);
    EXPECT_TRUE(echo->output_pending());
    std::vector<std::uint8_t> out(1000);
    EXPECT_EQ(echo->produce(out), 1000u);
    EXPECT_TRUE(echo->wants_input());  // room again
    // A driver that ignores back-pressure gets failed(), not unbounded memory.
    for (int i = 0; i < 1000 && !echo->failed(); ++i) echo->on_data(chunk);
    EXPECT_TRUE(echo->failed());
    EXPECT_FALSE(echo->output_pending());
}

TEST(Echo, DoneOnlyAfterEofAndDrain) {
    auto echo = make_echo();
    echo->on_data(bytes_of("hello"));
    echo->on_eof();
    EXPECT_FALSE(echo->done());
    EXPECT_FALSE(echo->wants_input());
    EXPECT_EQ(drain(*echo), "hello");
    EXPECT_TRUE(echo->done());
}

TEST(Discard, SwallowsInput) {
    auto d = make_discard();
    d->on_data(bytes_of("whatever"));
    EXPECT_FALSE(d->output_pending());
    EXPECT_EQ(drain(*d), "");
    EXPECT_FALSE(d->done());
    d->on_eof();
    EXPECT_TRUE(d->done());
}

TEST(Chargen, ClassicLines) {
    auto c = make_chargen();
    c->on_data(bytes_of("ignored input"));
    const std::string out = drain(*c, 3 * 74);
    EXPECT_EQ(out,
              " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefg\r\n"
              "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefgh\r\n"
              "\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghi\r\n");
}

TEST(Chargen, RingWrapsAndSmallBuffersAgree) {
    auto big = make_chargen();
    const std::string a = drain(*big, 200 * 74);
    auto small = make_chargen();
    std::string b;
    std::vector<std::uint8_t> buf(5);
    while (b.size() < a.size()) {
        const std::size_t n = small->produce(MutBytes(buf.data(), 1 + b.size() % 5));
        b.append(reinterpret_cast<const char*>(buf.data()), n);
    }
    EXPECT_EQ(a, b);
    // Line 94 starts with '~' and wraps to ' '; line 95 equals line 0.
    EXPECT_EQ(a.substr(94 * 74, 3), "~ !");
    EXPECT_EQ(a.substr(95 * 74, 74), a.substr(0, 74));
    for (std::size_t line = 0; line < 200; ++line) EXPECT_EQ(a.substr(line * 74 + 72, 2), "\r\n");
    big->on_eof();
    EXPECT_FALSE(big->output_pending());
    EXPECT_TRUE(big->done());
}

}  // namespace
