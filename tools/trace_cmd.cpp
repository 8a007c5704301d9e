// tools/trace_cmd.cpp — `uinet trace plot FILE -o out.png`: draws a TCP
// connection trace (CSV or JSON lines from stack/trace_writer) with gnuplot.
//
// Top panel: time-sequence (snd_una and snd_nxt against time, in MB of the
// stream) with retransmissions, fast retransmits and RTOs marked; bottom
// panel: cwnd and ssthresh (clamped to the plot: "infinite" ssthresh before
// the first loss is drawn at the top) in KB, and srtt in ms on the right
// axis. gnuplot (Debian: gnuplot-nox) does the drawing; without it the
// command fails with a clear message.
#include <CLI/CLI.hpp>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "common.hpp"

extern char** environ;

namespace uinet::tools {

namespace {

struct Rec {
    double time = 0;
    std::string event;
    unsigned long conn = 0;
    double cwnd = 0, ssthresh = 0, srtt_ms = 0, snd_una = 0, snd_nxt = 0, seq = 0, len = 0;
};

// Fields by name from one CSV line (with the header's names) or one JSON
// object of the writer's flat form.
bool parse_csv(const std::string& line, const std::vector<std::string>& names, std::map<std::string, std::string>& out) {
    std::stringstream ss(line);
    std::string cell;
    std::size_t i = 0;
    while (std::getline(ss, cell, ',')) {
        if (i < names.size()) out[names[i]] = cell;
        ++i;
    }
    return i >= names.size();
}

bool parse_json(const std::string& line, std::map<std::string, std::string>& out) {
    std::size_t p = line.find('{');
    if (p == std::string::npos) return false;
    ++p;
    while (p < line.size()) {
        const std::size_t k0 = line.find('"', p);
        if (k0 == std::string::npos) break;
        const std::size_t k1 = line.find('"', k0 + 1);
        if (k1 == std::string::npos) return false;
        const std::string key = line.substr(k0 + 1, k1 - k0 - 1);
        std::size_t v0 = line.find(':', k1);
        if (v0 == std::string::npos) return false;
        ++v0;
        std::string val;
        if (v0 < line.size() && line[v0] == '"') {
            const std::size_t v1 = line.find('"', v0 + 1);
            if (v1 == std::string::npos) return false;
            val = line.substr(v0 + 1, v1 - v0 - 1);
            p = v1 + 1;
        } else {
            std::size_t v1 = line.find_first_of(",}", v0);
            if (v1 == std::string::npos) v1 = line.size();
            val = line.substr(v0, v1 - v0);
            p = v1;
        }
        out[key] = val;
        p = line.find_first_of(",}", p);
        if (p == std::string::npos || line[p] == '}') break;
        ++p;
    }
    return !out.empty();
}

double num(const std::map<std::string, std::string>& m, const char* k) {
    auto it = m.find(k);
    return it == m.end() ? 0.0 : std::strtod(it->second.c_str(), nullptr);
}

bool read_trace(const std::string& path, std::vector<Rec>& recs, std::string& why) {
    std::ifstream in(path);
    if (!in) {
        why = "cannot open " + path + ": " + std::strerror(errno);
        return false;
    }
    std::string line;
    std::vector<std::string> names;
    std::size_t lineno = 0;
    while (std::getline(in, line)) {
        ++lineno;
        if (line.empty()) continue;
        std::map<std::string, std::string> f;
        if (line[0] == '{') {
            if (!parse_json(line, f)) {
                why = path + ":" + std::to_string(lineno) + ": not a trace record";
                return false;
            }
        } else if (names.empty()) {
            std::stringstream ss(line);
            std::string n;
            while (std::getline(ss, n, ',')) names.push_back(n);
            if (std::find(names.begin(), names.end(), "time") == names.end() ||
                std::find(names.begin(), names.end(), "snd_nxt") == names.end()) {
                why = path + ": not a uinet trace (no CSV header with time and snd_nxt)";
                return false;
            }
            continue;
        } else if (!parse_csv(line, names, f)) {
            why = path + ":" + std::to_string(lineno) + ": short CSV line";
            return false;
        }
        Rec r;
        r.time = num(f, "time");
        r.event = f["event"];
        r.conn = static_cast<unsigned long>(num(f, "conn"));
        r.cwnd = num(f, "cwnd");
        r.ssthresh = num(f, "ssthresh");
        r.srtt_ms = num(f, "srtt_ms");
        r.snd_una = num(f, "snd_una");
        r.snd_nxt = num(f, "snd_nxt");
        r.seq = num(f, "seq");
        r.len = num(f, "len");
        recs.push_back(std::move(r));
    }
    if (recs.empty()) {
        why = path + ": no trace records";
        return false;
    }
    return true;
}

int run_gnuplot(const std::string& script, std::string& why) {
    const char* argv[] = {"gnuplot", script.c_str(), nullptr};
    pid_t pid = 0;
    const int e = posix_spawnp(&pid, "gnuplot", nullptr, nullptr, const_cast<char* const*>(argv), environ);
    if (e != 0) {
        why = e == ENOENT ? "gnuplot not found: install it (Debian: apt-get install gnuplot-nox, or "
                            "scripts/install-deps.sh test)"
                          : std::string("cannot run gnuplot: ") + std::strerror(e);
        return -1;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        why = "gnuplot not found: install it (Debian: apt-get install gnuplot-nox)";
        return -1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        why = "gnuplot failed (exit status " + std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")";
        return -1;
    }
    return 0;
}

std::string quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("''") : std::string(1, c);
    return q + "'";
}

}  // namespace

CLI::App* add_trace_command(CLI::App& app, TraceArgs& a) {
    auto* t = app.add_subcommand("trace", "Work with TCP connection traces (docs/tracing.md)");
    t->require_subcommand(1);
    auto* plot = t->add_subcommand("plot", "Draw a trace as a PNG with gnuplot: time-sequence above, cwnd/ssthresh/srtt below");
    plot->add_option("file", a.file, "Trace file (CSV or JSON lines, from --trace)")->required();
    plot->add_option("-o,--output", a.output, "PNG to write")->required();
    plot->add_option("--conn", a.conn, "Connection id to draw (default: the first in the file)");
    plot->add_option("--title", a.title, "Title of the plot (default: the file name)");
    return t;
}

int run_trace(const TraceArgs& a) {
    std::vector<Rec> all;
    std::string why;
    if (!read_trace(a.file, all, why)) {
        std::fprintf(stderr, "uinet trace plot: %s\n", why.c_str());
        return 1;
    }
    const unsigned long conn = a.conn != 0 ? a.conn : all.front().conn;
    std::vector<Rec> recs;
    for (Rec& r : all)
        if (r.conn == conn) recs.push_back(std::move(r));
    if (recs.empty()) {
        std::fprintf(stderr, "uinet trace plot: no records of connection %lu in %s\n", conn, a.file.c_str());
        return 1;
    }
    char dir[] = "/tmp/uinet-plot-XXXXXX";
    if (!mkdtemp(dir)) {
        std::fprintf(stderr, "uinet trace plot: cannot make a temporary directory: %s\n", std::strerror(errno));
        return 1;
    }
    const std::string d(dir);
    double max_cwnd = 1;
    for (const Rec& r : recs) max_cwnd = std::max(max_cwnd, r.cwnd);
    const double top = max_cwnd * 1.25;  // ssthresh above this is drawn here
    {
        std::ofstream data(d + "/data.dat"), rex(d + "/rexmit.dat"), fr(d + "/fast.dat"), rto(d + "/rto.dat");
        rex << "0 NaN\n";
        fr << "0 NaN\n";
        rto << "0 NaN\n";
        for (const Rec& r : recs) {
            data << r.time << ' ' << r.snd_una / 1e6 << ' ' << r.snd_nxt / 1e6 << ' ' << r.cwnd / 1e3 << ' '
                 << std::min(r.ssthresh, top) / 1e3 << ' ' << r.srtt_ms << '\n';
            if (r.event == "retransmit") rex << r.time << ' ' << r.seq / 1e6 << '\n';
            if (r.event == "fast_retransmit") fr << r.time << ' ' << r.seq / 1e6 << '\n';
            if (r.event == "rto") rto << r.time << ' ' << r.snd_una / 1e6 << '\n';
        }
    }
    const std::string title = a.title.empty() ? a.file : a.title;
    {
        std::ofstream gp(d + "/plot.gp");
        gp << "set terminal pngcairo size 1100,800 font 'sans,10'\n"
           << "set output " << quote(a.output) << "\n"
           << "set multiplot layout 2,1 title " << quote(title + " (connection " + std::to_string(conn) + ")") << "\n"
           << "set grid\nset key top left\n"
           << "set xlabel 'time (s)'\nset ylabel 'stream offset (MB)'\n"
           << "plot " << quote(d + "/data.dat") << " using 1:3 with lines lw 1 lc rgb '#1f77b4' title 'snd\\_nxt', "
           << "'' using 1:2 with lines lw 1 lc rgb '#2ca02c' title 'snd\\_una', "
           << quote(d + "/fast.dat") << " using 1:2 with points pt 7 ps 0.5 lc rgb '#d62728' title 'fast retransmit', "
           << quote(d + "/rexmit.dat") << " using 1:2 with points pt 2 ps 0.6 lc rgb '#ff7f0e' title 'retransmit', "
           << quote(d + "/rto.dat") << " using 1:2 with points pt 5 ps 0.9 lc rgb '#000000' title 'RTO'\n"
           << "set ylabel 'window (KB)'\nset y2label 'srtt (ms)'\nset y2tics\nset ytics nomirror\n"
           << "set yrange [0:" << top / 1e3 * 1.02 << "]\n"
           << "plot " << quote(d + "/data.dat") << " using 1:4 with lines lw 1 lc rgb '#1f77b4' title 'cwnd', "
           << "'' using 1:5 with lines lw 1 lc rgb '#d62728' title 'ssthresh (clamped)', "
           << "'' using 1:6 axes x1y2 with lines lw 1 lc rgb '#7f7f7f' title 'srtt'\n"
           << "unset multiplot\n";
    }
    const int rc = run_gnuplot(d + "/plot.gp", why);
    for (const char* f : {"/data.dat", "/rexmit.dat", "/fast.dat", "/rto.dat", "/plot.gp"}) std::remove((d + f).c_str());
    rmdir(dir);
    if (rc != 0) {
        std::fprintf(stderr, "uinet trace plot: %s\n", why.c_str());
        return 1;
    }
    std::printf("uinet trace plot: %zu records of connection %lu -> %s\n", recs.size(), conn, a.output.c_str());
    return 0;
}

}  // namespace uinet::tools
