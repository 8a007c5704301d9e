// link/flow_capture.hpp — per-flow capture files: a Device wrapper that
// writes each TCP or UDP flow it sees into a pcap file of its own.
//
// Contract:
//  * FlowCapture owns an inner Device. Every frame received from it and
//    every frame handed to it for transmission is classified (Ethernet, any
//    number of VLAN tags, IPv4 or IPv6 without extension headers, TCP or
//    UDP) into a flow: protocol, the two endpoints in either order, and the
//    VLAN tag stack. Both directions of a connection are one flow. Frames
//    that are not TCP/UDP, and IP fragments other than the first, are counted
//    as unclassified and not written.
//  * A flow's "client" is the sender of its first frame, except that a TCP
//    SYN without ACK makes its sender the client; the file is named
//    DIR/<proto>-<client>-<server>[-v<tag>.<tag>...].pcap (IPv6 addresses
//    in brackets), with "-2", "-3"... appended when that file exists already (the
//    4-tuple recurs: a new SYN after the flow ended with FIN or RST, or
//    after it was forgotten; or an earlier run's file): nothing is
//    overwritten.
//  * Which flows are written is decided once, at a flow's first frame, by
//    `select` (all of them when it is empty): the "on request" part.
//    Decisions are remembered for the flow's life.
//  * Bounded: at most max_open files are open at once (the least recently
//    used one is closed and later reopened to append); at most max_flows
//    flows are remembered (a new flow beyond that is counted in
//    flows_refused and not written); a flow idle for idle_forget (packet
//    time) is forgotten and its file closed. No I/O error is fatal: it is
//    counted (write_errors) and the flow is no longer written.
//  * Timestamps: the frame's rx_time when set (capture files), else now.
//  * caps() masks transmit offloads, as for every RecordingDevice, so
//    written frames are complete.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/addr.hpp"
#include "base/time.hpp"
#include "link/recording_device.hpp"
#include "link/pcap_writer.hpp"

namespace uinet {

struct FlowCaptureInfo {
    std::uint8_t protocol = 0;  // 6 TCP, 17 UDP
    std::string client, server;  // "addr.port" / "[v6addr].port"
    std::string vlan_tags;       // "" or "100.200" (outermost first)
};

struct FlowCaptureConfig {
    std::string dir;                 // must exist
    std::size_t max_open = 64;
    std::size_t max_flows = 65536;
    Duration idle_forget = Duration::seconds(300);
    std::uint32_t snaplen = 262144;
    std::function<bool(const FlowCaptureInfo&)> select;  // empty = every flow
};

struct FlowCaptureStats {
    std::uint64_t frames_written = 0;
    std::uint64_t unclassified = 0;
    std::uint64_t flows = 0;          // flows seen in total
    std::uint64_t flows_written = 0;  // of which selected (files created)
    std::uint64_t flows_refused = 0;  // beyond max_flows
    std::uint64_t reopens = 0;        // files reopened after an LRU close
    std::uint64_t write_errors = 0;
};

class FlowCapture final : public RecordingDevice {
public:
    FlowCapture(std::unique_ptr<Device> inner, FlowCaptureConfig cfg);
    ~FlowCapture() override;
    FlowCapture(const FlowCapture&) = delete;
    FlowCapture& operator=(const FlowCapture&) = delete;

    const FlowCaptureStats& capture_stats() const { return stats_; }
    // Paths of the files written so far, in creation order.
    const std::vector<std::string>& files() const { return files_; }
    // Flushes and closes every open file (the destructor does too).
    void close_all();

    // The canonical flow key (lower endpoint first); public for hashing.
    struct Key {
        std::array<std::uint8_t, 16> a{}, b{};
        std::uint16_t pa = 0, pb = 0;
        std::uint8_t proto = 0;
        bool v6 = false;
        std::array<std::uint16_t, 4> tags{};  // outermost first; 0 = none
        bool operator==(const Key&) const = default;
    };
    struct KeyHash {
        std::size_t operator()(const Key& k) const;
    };

private:
    struct Flow {
        bool selected = false;
        bool ended = false;        // FIN seen both ways, or RST
        std::uint8_t fins = 0;     // bit 0: from a, bit 1: from b
        Instant last{};
        std::string path;
        std::unique_ptr<PcapWriter> writer;
        std::list<Key>::iterator lru;  // valid while writer is open
    };
    void record(Instant now, const Packet& frame) override;
    void open_writer(const Key& k, Flow& f, bool append);
    void close_writer(Flow& f);
    void forget_idle(Instant now);

    FlowCaptureConfig cfg_;
    std::unordered_map<Key, Flow, KeyHash> flows_;
    std::list<Key> lru_;  // open files, most recent first
    std::vector<std::string> files_;
    Instant next_sweep_{};
    FlowCaptureStats stats_{};
};

}  // namespace uinet
