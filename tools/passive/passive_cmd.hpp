// tools/passive/passive_cmd.hpp — `uinet passive` (built with libpcap only).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace CLI {
class App;
}

namespace uinet::tools {

struct PassiveArgs {
    std::string file;        // a pcap/pcapng capture
    std::string iface;       // or a live interface
    std::string outdir;      // each connection's two streams
    std::string http_dir;    // HTTP/1.x bodies
    bool summary = false;    // one line per connection
    double hole_timeout = 10;
    bool midstream = false;
    bool no_checksums = false;
    std::size_t max_flows = 65536;
    std::string pcap_dir;    // per-flow capture files
    std::uint16_t pcap_port = 0;
};

CLI::App* add_passive_command(CLI::App& app, PassiveArgs& args);
int run_passive(const PassiveArgs& args);

}  // namespace uinet::tools
