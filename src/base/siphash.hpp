// base/siphash.hpp — SipHash keyed pseudo-random functions.
//
// Contract: SipHash-2-4 and SipHash-1-3 exactly as specified by Aumasson and
// Bernstein ("SipHash: a fast short-input PRF", 2012): a 128-bit key given as
// two little-endian 64-bit words (k0 = key bytes 0..7, k1 = bytes 8..15), any
// message length, a 64-bit result. Outputs are identical on every machine
// (byte order is handled explicitly).
//
// Use SipHash-2-4 where an attacker must not predict or collide values (SYN
// cookies, ISN generation, flow steering of untrusted 4-tuples); SipHash-1-3
// is the cheaper variant for keyed hash tables. The *_u64x2 fast paths hash
// the 16-byte message formed by a then b, each as little-endian bytes, and
// equal siphash*(key, those 16 bytes); *_u64 hashes the 8 bytes of one word.
// No allocation, no failure.
#pragma once

#include <cstdint>

#include "base/bytes.hpp"

namespace uinet {

struct SipKey {
    std::uint64_t k0 = 0;
    std::uint64_t k1 = 0;

    // k0 from bytes 0..7, k1 from bytes 8..15, both little-endian (the
    // reference implementation's key layout).
    static SipKey from_bytes(const std::uint8_t* p16) { return SipKey{load_le64(p16), load_le64(p16 + 8)}; }
};

std::uint64_t siphash24(const SipKey& key, Bytes data) noexcept;
std::uint64_t siphash24_u64(const SipKey& key, std::uint64_t a) noexcept;
std::uint64_t siphash24_u64x2(const SipKey& key, std::uint64_t a, std::uint64_t b) noexcept;

std::uint64_t siphash13(const SipKey& key, Bytes data) noexcept;
std::uint64_t siphash13_u64(const SipKey& key, std::uint64_t a) noexcept;
std::uint64_t siphash13_u64x2(const SipKey& key, std::uint64_t a, std::uint64_t b) noexcept;

}  // namespace uinet
