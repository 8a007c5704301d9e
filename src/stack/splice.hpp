// stack/splice.hpp — joins two stream sockets of one stack and relays bytes
// between them in both directions: the data plane of a TCP proxy.
//
// Contract:
//  * join(a, b) takes over both sockets' upcalls. Bytes read from a are
//    written to b and bytes read from b are written to a, each direction
//    reading only as much as the other socket's send buffer has room for,
//    so a slow reader slows its writer down through the TCP windows
//    (back-pressure) and memory stays bounded by the socket buffers.
//  * End of stream is passed on: when a's peer has closed its side (FIN)
//    and every byte from a has been handed to b, b's write side is shut
//    (FIN to b's peer), and the other direction goes on (half-close).
//    When both directions have ended, both sockets are closed gracefully
//    and the splice reports `clean`.
//  * A reset is passed on: when either socket fails (RST from its peer,
//    timeout), the other is aborted (RST to its peer) and the splice ends
//    with reset_a / reset_b.
//  * The sockets may still be connecting when joined: bytes wait in the
//    connected one's receive buffer until the other becomes writable.
//  * Everything runs on the stack's thread, in upcalls. `done` is called
//    once per splice, after both sockets were closed or aborted.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "socket/socket_table.hpp"

namespace uinet {

class Stack;

enum class SpliceEnd : std::uint8_t { clean, reset_a, reset_b, aborted };
const char* to_string(SpliceEnd e);

struct SpliceResult {
    SocketId a, b;
    std::uint64_t a_to_b = 0;  // bytes relayed from a to b
    std::uint64_t b_to_a = 0;
    SpliceEnd end = SpliceEnd::clean;
};

struct SpliceCounters {
    std::uint64_t joined = 0;
    std::uint64_t clean = 0;
    std::uint64_t reset = 0;    // ended by a reset or error on either side
    std::uint64_t aborted = 0;  // ended by abort_all() or the Splicer's end
    std::uint64_t bytes = 0;    // relayed, both directions
};

class Splicer {
public:
    using Done = std::function<void(const SpliceResult&)>;

    // scratch: size of the one relay buffer shared by every splice.
    explicit Splicer(Stack& stack, std::size_t scratch = 64 * 1024);
    ~Splicer();  // aborts the splices still running
    Splicer(const Splicer&) = delete;
    Splicer& operator=(const Splicer&) = delete;

    // False if either socket is not a live TCP socket, or already spliced.
    bool join(SocketId a, SocketId b, Done done = {});
    // Aborts every running splice (RST both ways).
    void abort_all();

    std::size_t live() const { return splices_.size(); }
    const SpliceCounters& counters() const { return ctr_; }

private:
    struct Direction {
        bool eof = false;           // read end of stream from the source
        bool shut = false;          // and passed it on (write side of the sink shut)
        std::uint64_t bytes = 0;
    };
    struct Splice {
        SpliceResult res;
        Direction ab, ba;
        Done done;
    };
    void pump(std::uint64_t key);
    // Moves bytes from src to dst; false if the splice ended meanwhile.
    bool relay(std::uint64_t key, Splice& s, SocketId src, SocketId dst, Direction& d, bool src_is_a);
    void finish(std::uint64_t key, SpliceEnd end);

    Stack& stack_;
    std::vector<std::uint8_t> scratch_;
    std::unordered_map<std::uint64_t, std::unique_ptr<Splice>> splices_;  // key: a's cookie
    std::unordered_map<std::uint64_t, std::uint64_t> by_socket_;          // cookie of a or b -> key
    SpliceCounters ctr_;
};

}  // namespace uinet
