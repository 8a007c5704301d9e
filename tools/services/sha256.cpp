// tools/services/sha256.cpp — SHA-256 through OpenSSL's EVP digest API (see sha256.hpp).
#include "services/sha256.hpp"

#include <openssl/evp.h>

namespace uinet::services {

namespace {
EVP_MD_CTX* ctx_of(void* p) { return static_cast<EVP_MD_CTX*>(p); }
}  // namespace

Sha256::Sha256() {
    ctx_ = EVP_MD_CTX_new();
    reset();
}

Sha256::~Sha256() { EVP_MD_CTX_free(ctx_of(ctx_)); }

void Sha256::reset() {
    ok_ = ctx_ != nullptr && EVP_DigestInit_ex(ctx_of(ctx_), EVP_sha256(), nullptr) == 1;
}

void Sha256::update(Bytes data) {
    if (!ok_ || data.empty()) return;
    if (EVP_DigestUpdate(ctx_of(ctx_), data.data(), data.size()) != 1) ok_ = false;
}

Sha256Digest Sha256::finish() {
    Sha256Digest d{};
    unsigned int len = 0;
    const bool good = ok_ && EVP_DigestFinal_ex(ctx_of(ctx_), d.data(), &len) == 1 && len == d.size();
    if (!good) d.fill(0);
    reset();
    return d;
}

Sha256Digest Sha256::of(Bytes data) {
    Sha256 h;
    h.update(data);
    return h.finish();
}

std::string Sha256::hex(const Sha256Digest& d) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string s(d.size() * 2, '0');
    for (std::size_t i = 0; i < d.size(); ++i) {
        s[2 * i] = kDigits[d[i] >> 4];
        s[2 * i + 1] = kDigits[d[i] & 0xf];
    }
    return s;
}

}  // namespace uinet::services
