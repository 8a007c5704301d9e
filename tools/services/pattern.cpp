// tools/services/pattern.cpp — body patterns (see pattern.hpp).
//
// The mod-251 pattern is copied from a table holding several periods, so a
// 64 KiB slice is a few dozen memcpy calls rather than a division per byte.
#include "services/pattern.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace uinet::services {

namespace {

constexpr std::size_t kPeriods = 16;
constexpr std::size_t kRun = kGetPeriod * kPeriods;  // bytes copied per step

constexpr std::array<std::uint8_t, kRun + kGetPeriod> make_table() {
    std::array<std::uint8_t, kRun + kGetPeriod> t{};
    for (std::size_t i = 0; i < t.size(); ++i) t[i] = static_cast<std::uint8_t>(i % kGetPeriod);
    return t;
}
constexpr auto kTable = make_table();

}  // namespace

void fill_get_pattern(std::uint64_t offset, MutBytes out) {
    std::size_t phase = static_cast<std::size_t>(offset % kGetPeriod);
    std::size_t done = 0;
    while (done < out.size()) {
        const std::size_t n = std::min(kRun, out.size() - done);
        std::memcpy(out.data() + done, kTable.data() + phase, n);
        done += n;
        phase = (phase + n) % kGetPeriod;
    }
}

std::size_t check_get_pattern(std::uint64_t offset, Bytes in) {
    std::size_t phase = static_cast<std::size_t>(offset % kGetPeriod);
    std::size_t done = 0;
    while (done < in.size()) {
        const std::size_t n = std::min(kRun, in.size() - done);
        if (std::memcmp(in.data() + done, kTable.data() + phase, n) != 0) {
            for (std::size_t k = 0; k < n; ++k)
                if (in[done + k] != kTable[phase + k]) return done + k;
        }
        done += n;
        phase = (phase + n) % kGetPeriod;
    }
    return in.size();
}

void fill_put_pattern(std::uint64_t offset, MutBytes out) {
    // (7 * i) mod 256 depends only on i mod 256; 7 is odd, so the period is 256.
    auto v = static_cast<std::uint8_t>(offset * 7);
    for (std::uint8_t& b : out) {
        b = v;
        v = static_cast<std::uint8_t>(v + 7);
    }
}

}  // namespace uinet::services
