// A TCP echo server on a uinet stack attached to a TAP device, in 20 lines
// of C++ (the README shows it): non-blocking sockets driven by upcalls on
// the stack's own thread.
#include <uinet/uinet.hpp>

int main() {
    uinet::PosixHost host;
    uinet::Stack stack(host.host());
    uinet::net::InterfaceConfig ifc;
    ifc.mac = *uinet::MacAddr::parse("02:00:00:00:00:02");
    ifc.ipv4 = {*uinet::Ipv4Cidr::parse("198.18.0.2/24")};
    stack.add_interface(*uinet::TapDevice::open("tap0", stack.pool()), ifc);  // (check the Result in real code)
    uinet::TcpSockets& tcp = stack.tcp();
    uinet::SocketId listener = *tcp.open();
    (void)tcp.bind(listener, {uinet::Ipv4Addr::any(), uinet::Port(7)});
    (void)tcp.listen(listener);
    tcp.set_upcall(listener, [&](uinet::SocketId l, std::uint32_t) {
        while (auto conn = tcp.accept(l))
            tcp.set_upcall(*conn, [&](uinet::SocketId c, std::uint32_t) {
                std::uint8_t buf[16384];
                while (auto n = tcp.recv(stack.now(), c, buf)) {
                    if (*n == 0) return tcp.close(stack.now(), c);  // the peer closed: so do we
                    (void)tcp.send(stack.now(), c, {buf, *n});       // (a real server keeps what send() refuses)
                }
            });
    });
    stack.run();
}
