// net/route.hpp — the IPv4 route table: longest-prefix match.
//
// Contract: routes map a destination prefix to an outgoing interface and an
// optional gateway (next hop). Connected routes are added for each
// interface address; a default route is a /0 with a gateway. Lookup returns
// the most specific route (ties: the one added first). The table is small
// (a host's table, not a router's), so a vector scanned in prefix order is
// both simple and fast.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "base/addr.hpp"

namespace uinet::net {

using IfIndex = std::uint32_t;

struct Route {
    Ipv4Cidr dst;
    Ipv4Addr gateway;  // any() = directly connected
    IfIndex ifindex = 0;
};

struct NextHop {
    IfIndex ifindex = 0;
    Ipv4Addr addr;  // the neighbour to resolve: gateway or the destination itself
};

class RouteTable {
public:
    void add(const Route& r);
    // Removes every route through ifindex matching dst exactly; returns how many.
    std::size_t remove(const Ipv4Cidr& dst, IfIndex ifindex);
    std::optional<NextHop> lookup(Ipv4Addr dst) const;
    const std::vector<Route>& routes() const { return routes_; }

private:
    std::vector<Route> routes_;  // sorted by prefix length, longest first
};

}  // namespace uinet::net
