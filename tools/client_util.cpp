// tools/client_util.cpp — helpers of the TAP client subcommands (see client.hpp).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "client.hpp"

namespace uinet::tools {

std::string json_quote(std::string_view s) {
    std::string out = "\"";
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += ch;
        } else if (c < 0x20) {
            char esc[8];
            std::snprintf(esc, sizeof esc, "\\u%04x", c);
            out += esc;
        } else {
            out += ch;
        }
    }
    out += '"';
    return out;
}

StackOptions client_stack_options(std::string name) {
    StackOptions so;
    so.name = std::move(name);
    so.net.arp.retry_interval = Duration::millis(200);
    so.net.arp.max_requests = 10;
    return so;
}

Duration seconds_to_duration(double s) { return Duration::nanos(static_cast<std::int64_t>(std::llround(s * 1e9))); }

double mbit_per_s(std::uint64_t bytes, double seconds) {
    return seconds > 0 ? static_cast<double>(bytes) * 8 / seconds / 1e6 : 0;
}

InFile::~InFile() {
    if (fd_ >= 0) ::close(fd_);
}

std::unique_ptr<InFile> InFile::open(const std::string& path, std::string& why) {
    std::unique_ptr<InFile> f(new InFile());
    f->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (f->fd_ < 0 || ::fstat(f->fd_, &st) != 0) {
        why = "cannot read '" + path + "': " + std::strerror(errno);
        return nullptr;
    }
    if (!S_ISREG(st.st_mode)) {
        why = "cannot read '" + path + "': not a regular file";
        return nullptr;
    }
    f->size_ = static_cast<std::uint64_t>(st.st_size);
    return f;
}

bool InFile::read_at(std::uint64_t offset, MutBytes out) {
    std::size_t done = 0;
    while (done < out.size()) {
        const ssize_t n = ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;  // an error, or the file shrank
        done += static_cast<std::size_t>(n);
    }
    return true;
}

OutFile::~OutFile() {
    if (fd_ >= 0) ::close(fd_);
}

std::unique_ptr<OutFile> OutFile::create(const std::string& path, std::string& why) {
    std::unique_ptr<OutFile> f(new OutFile());
    f->fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (f->fd_ < 0) {
        why = "cannot write '" + path + "': " + std::strerror(errno);
        return nullptr;
    }
    return f;
}

bool OutFile::write(Bytes data) {
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

}  // namespace uinet::tools
