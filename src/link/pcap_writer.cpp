// link/pcap_writer.cpp — classic pcap output (nanosecond variant), written
// by hand: global header, then a record header and the bytes of each frame.
#include "link/pcap_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace uinet {

namespace {
constexpr std::size_t kBufferBytes = 64 * 1024;
constexpr std::int64_t kNanosPerSec = 1000000000;

template <class T>
void put_native(std::uint8_t*& p, T v) {
    std::memcpy(p, &v, sizeof v);
    p += sizeof v;
}
}  // namespace

PcapWriter::PcapWriter(std::string path, int fd, std::uint32_t snaplen)
    : path_(std::move(path)), fd_(fd), snaplen_(snaplen), buf_(kBufferBytes) {}

PcapWriter::~PcapWriter() {
    flush();
    if (fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<PcapWriter>, std::string> PcapWriter::create(const std::string& path,
                                                                     std::uint32_t snaplen) {
    return open_file(path, snaplen, false);
}

Result<std::unique_ptr<PcapWriter>, std::string> PcapWriter::append_to(const std::string& path,
                                                                        std::uint32_t snaplen) {
    return open_file(path, snaplen, true);
}

Result<std::unique_ptr<PcapWriter>, std::string> PcapWriter::open_file(const std::string& path,
                                                                        std::uint32_t snaplen, bool append) {
    if (snaplen == 0) return Err{std::string("invalid snaplen 0 for pcap file ") + path};
    const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
    const int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) return Err{"cannot create pcap file " + path + ": " + std::strerror(errno)};
    std::unique_ptr<PcapWriter> w(new PcapWriter(path, fd, snaplen));
    if (append && ::lseek(fd, 0, SEEK_END) > 0) return w;  // the header is already there
    std::uint8_t hdr[24];
    std::uint8_t* p = hdr;
    put_native<std::uint32_t>(p, magic_nanos);
    put_native<std::uint16_t>(p, 2);  // version 2.4
    put_native<std::uint16_t>(p, 4);
    put_native<std::int32_t>(p, 0);   // thiszone: timestamps are UTC
    put_native<std::uint32_t>(p, 0);  // sigfigs
    put_native<std::uint32_t>(p, snaplen);
    put_native<std::uint32_t>(p, linktype_ethernet);
    w->append(hdr, sizeof hdr);
    w->flush();
    if (w->errors_) return Err{"cannot write pcap header to " + path};
    return w;
}

void PcapWriter::flush() {
    std::size_t done = 0;
    while (fd_ >= 0 && done < used_) {
        const ssize_t r = ::write(fd_, buf_.data() + done, used_ - done);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            ++errors_;
            ::close(fd_);
            fd_ = -1;  // the file stays as it is; later frames are only counted
            break;
        }
        done += static_cast<std::size_t>(r);
    }
    used_ = 0;
}

void PcapWriter::append(const std::uint8_t* p, std::size_t n) {
    while (n > 0) {
        if (used_ == buf_.size()) flush();
        const std::size_t k = std::min(n, buf_.size() - used_);
        std::memcpy(buf_.data() + used_, p, k);
        used_ += k;
        p += k;
        n -= k;
    }
}

void PcapWriter::record_header(Instant ts, std::size_t caplen, std::size_t origlen) {
    const std::int64_t ns = std::max<std::int64_t>(ts.ns(), 0);
    std::uint8_t hdr[16];
    std::uint8_t* p = hdr;
    put_native<std::uint32_t>(p, static_cast<std::uint32_t>(ns / kNanosPerSec));
    put_native<std::uint32_t>(p, static_cast<std::uint32_t>(ns % kNanosPerSec));
    put_native<std::uint32_t>(p, static_cast<std::uint32_t>(caplen));
    put_native<std::uint32_t>(p, static_cast<std::uint32_t>(origlen));
    append(hdr, sizeof hdr);
}

void PcapWriter::write(Instant ts, Bytes frame) {
    ++frames_;
    if (fd_ < 0) return;
    const std::size_t caplen = std::min<std::size_t>(frame.size(), snaplen_);
    record_header(ts, caplen, frame.size());
    append(frame.data(), caplen);
}

void PcapWriter::write(Instant ts, const Packet& frame) {
    ++frames_;
    if (fd_ < 0 || !frame) return;
    const std::size_t size = frame.size();
    std::size_t left = std::min<std::size_t>(size, snaplen_);
    record_header(ts, left, size);
    frame.for_each_segment([&](Bytes seg) {
        const std::size_t k = std::min(left, seg.size());
        if (k) append(seg.data(), k);
        left -= k;
    });
}

PcapCapture::PcapCapture(std::unique_ptr<Device> inner, std::unique_ptr<PcapWriter> writer, Duration ts_offset)
    : RecordingDevice(std::move(inner)), writer_(std::move(writer)), ts_offset_(ts_offset) {}

PcapCapture::~PcapCapture() = default;

}  // namespace uinet
