// net/route.cpp — longest-prefix-match route table (RFC 1122 section 3.3.1).
#include "net/route.hpp"

#include <algorithm>

namespace uinet::net {

void RouteTable::add(const Route& r) {
    Route norm = r;
    norm.dst.addr = r.dst.network();
    // Keep longest prefixes first; equal lengths keep insertion order.
    auto pos = std::find_if(routes_.begin(), routes_.end(),
                            [&](const Route& e) { return e.dst.prefix_len < norm.dst.prefix_len; });
    routes_.insert(pos, norm);
}

std::size_t RouteTable::remove(const Ipv4Cidr& dst, IfIndex ifindex) {
    Ipv4Cidr d = dst;
    d.addr = dst.network();
    auto n = std::erase_if(routes_, [&](const Route& e) { return e.ifindex == ifindex && e.dst == d; });
    return n;
}

std::optional<NextHop> RouteTable::lookup(Ipv4Addr dst) const {
    for (const Route& r : routes_) {
        if (!r.dst.contains(dst)) continue;
        return NextHop{r.ifindex, r.gateway.is_any() ? dst : r.gateway};
    }
    return std::nullopt;
}

}  // namespace uinet::net
