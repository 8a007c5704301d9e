// net/ipv4_fragmenter.cpp — copying a byte range between packet chains.
#include "net/ipv4_fragmenter.hpp"

namespace uinet::net {

bool append_range(Packet& dst, const Packet& src, std::size_t off, std::size_t n) {
    bool ok = true;
    src.for_each_segment([&](Bytes seg) {
        if (!ok || n == 0) return;
        if (off >= seg.size()) {
            off -= seg.size();
            return;
        }
        std::size_t k = std::min(seg.size() - off, n);
        ok = dst.append(seg.subspan(off, k));
        n -= k;
        off = 0;
    });
    return ok && n == 0;
}

}  // namespace uinet::net
