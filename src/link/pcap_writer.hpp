// link/pcap_writer.hpp — classic pcap files, and a capturing Device wrapper.
//
// Contract:
//  * PcapWriter writes the classic libpcap format by hand (no libpcap):
//    a 24-byte global header with magic 0xa1b23c4d (nanosecond
//    timestamps), version 2.4, LINKTYPE_ETHERNET (1), then one 16-byte
//    record header (seconds, nanoseconds, captured length, original length)
//    per frame, all in host byte order as the format prescribes. Frames
//    longer than snaplen are cut to snaplen (original length kept).
//  * Output is buffered; flush() pushes it to the file, as does the
//    destructor. Write errors are counted (errors()), never thrown; after
//    one the file is left as it is and further frames are only counted.
//  * Timestamps before the epoch of the timeline are clamped to 0.
//  * PcapCapture owns an inner Device and records every frame received
//    from it and every frame handed to it for transmission (recorded before
//    the inner device sees it, as tcpdump sees frames before the driver),
//    stamped with now + ts_offset. A real-time stack passes a monotonic
//    `now`; pass ts_offset = wall clock - monotonic clock to get wall-clock
//    stamps.
//  * caps() is the inner device's with transmit checksum offload and TSO
//    masked off, so every frame the stack hands it is a complete, checksummed
//    frame of at most the MTU, as it will be on the wire. Frames received
//    from a peer that used checksum offload (mem pipe with csum_offload) are
//    recorded as they came, with the L4 checksum unfinished, as tcpdump
//    shows offloaded frames.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/result.hpp"
#include "link/device.hpp"
#include "link/recording_device.hpp"

namespace uinet {

class PcapWriter {
public:
    static constexpr std::uint32_t magic_nanos = 0xa1b23c4d;
    static constexpr std::uint32_t linktype_ethernet = 1;

    static Result<std::unique_ptr<PcapWriter>, std::string> create(const std::string& path,
                                                                    std::uint32_t snaplen = 262144);
    // Continues a file this class wrote before (appending records), or
    // creates it when missing or empty. The snaplen should be the file's.
    static Result<std::unique_ptr<PcapWriter>, std::string> append_to(const std::string& path,
                                                                       std::uint32_t snaplen = 262144);
    ~PcapWriter();
    PcapWriter(const PcapWriter&) = delete;
    PcapWriter& operator=(const PcapWriter&) = delete;

    void write(Instant ts, Bytes frame);
    void write(Instant ts, const Packet& frame);  // scattered frames
    void flush();

    std::uint64_t frames() const { return frames_; }
    std::uint64_t errors() const { return errors_; }
    std::uint32_t snaplen() const { return snaplen_; }
    const std::string& path() const { return path_; }

private:
    PcapWriter(std::string path, int fd, std::uint32_t snaplen);
    static Result<std::unique_ptr<PcapWriter>, std::string> open_file(const std::string& path,
                                                                       std::uint32_t snaplen, bool append);
    void record_header(Instant ts, std::size_t caplen, std::size_t origlen);
    void append(const std::uint8_t* p, std::size_t n);

    std::string path_;
    int fd_ = -1;
    std::uint32_t snaplen_;
    std::vector<std::uint8_t> buf_;
    std::size_t used_ = 0;
    std::uint64_t frames_ = 0;
    std::uint64_t errors_ = 0;
};

class PcapCapture final : public RecordingDevice {
public:
    PcapCapture(std::unique_ptr<Device> inner, std::unique_ptr<PcapWriter> writer,
                Duration ts_offset = Duration::zero());
    ~PcapCapture() override;

    PcapWriter& writer() { return *writer_; }

private:
    void record(Instant now, const Packet& frame) override { writer_->write(now + ts_offset_, frame); }

    std::unique_ptr<PcapWriter> writer_;
    Duration ts_offset_;
};

}  // namespace uinet
