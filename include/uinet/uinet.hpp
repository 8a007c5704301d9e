// uinet/uinet.hpp — the C++ API of uinet in one include.
//
// A Stack is one independent TCP/IP instance. Give it a Host (clock,
// randomness, threads, memory, logging: PosixHost for real time,
// VirtualClock + SeededRandom for deterministic tests), add interfaces over
// packet Devices (mem pipe, TAP, ...), then drive it with poll(now) from your
// own loop or run() on a thread of its own. Sockets are SocketIds; every
// operation returns a Result with its own error type (to_errno() gives the
// errno value).
//
//   uinet::PosixHost host;
//   uinet::Stack stack(host.host());
//   auto tap = uinet::TapDevice::open("tap0", stack.pool());
//   uinet::net::InterfaceConfig ic;
//   ic.mac = *uinet::MacAddr::parse("02:00:00:00:00:02");
//   ic.ipv4 = {*uinet::Ipv4Cidr::parse("198.18.0.2/24")};
//   stack.add_interface(std::move(*tap), ic);
//   stack.run();
#pragma once

#include "host/posix.hpp"      // IWYU pragma: export
#include "host/virtual.hpp"    // IWYU pragma: export
#include "link/fault.hpp"      // IWYU pragma: export
#include "link/mem_pipe.hpp"   // IWYU pragma: export
#include "link/pcap_writer.hpp"  // IWYU pragma: export
#include "link/tap.hpp"        // IWYU pragma: export
#include "link/vlan_tagger.hpp"  // IWYU pragma: export
#include "stack/stack.hpp"     // IWYU pragma: export
