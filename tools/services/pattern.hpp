// tools/services/pattern.hpp — the deterministic body patterns of the HTTP test resources.
//
// Contract: a pattern is a pure function of the byte's offset in the body,
// so any slice of a body of any length (up to 2^64 bytes) is generated or
// checked without state beyond the offset:
//  * the GET pattern: byte i == i mod 251 (a prime period, so it never
//    lines up with buffer or segment sizes);
//  * the PUT pattern: byte i == (7 * i) mod 256.
// fill_* write out.size() bytes of the body starting at `offset`;
// check_get returns the index in `in` of the first wrong byte, or
// in.size() when all are right.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/bytes.hpp"

namespace uinet::services {

inline constexpr std::uint64_t kGetPeriod = 251;

void fill_get_pattern(std::uint64_t offset, MutBytes out);
std::size_t check_get_pattern(std::uint64_t offset, Bytes in);
void fill_put_pattern(std::uint64_t offset, MutBytes out);

}  // namespace uinet::services
