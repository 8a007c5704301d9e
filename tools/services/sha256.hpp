// tools/services/sha256.hpp — incremental SHA-256 (FIPS 180-4) over OpenSSL's EVP API.
//
// Contract: update() any number of times, then finish() for the 32-byte
// digest; finish() also resets the hasher for the next message. If OpenSSL
// cannot allocate its context, ok() is false and the digest is all zero
// (callers treat that as a failure; nothing throws). Only the tool and its
// services link libcrypto; the core library never does.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "base/bytes.hpp"

namespace uinet::services {

using Sha256Digest = std::array<std::uint8_t, 32>;

class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;

    bool ok() const { return ok_; }
    void update(Bytes data);
    Sha256Digest finish();
    void reset();

    // One-shot helpers.
    static Sha256Digest of(Bytes data);
    static std::string hex(const Sha256Digest& d);  // 64 lowercase hex digits

private:
    void* ctx_ = nullptr;  // EVP_MD_CTX*, kept opaque so OpenSSL headers stay in the .cpp
    bool ok_ = false;
};

}  // namespace uinet::services
