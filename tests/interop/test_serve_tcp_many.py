"""1,000+ concurrent Linux connections to `uinet serve`, each half-closed by
Linux while uinet still sends (echo after the client's FIN), all closing
cleanly; a reset from Linux (SO_LINGER 0) and a refused connection to a
port nobody listens on. uinet's own counters must show every connection
gone from its table."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import UINET_IP, InteropCase, main  # noqa: E402

CLIENT = r"""
import resource, socket, struct, sys
N = int(sys.argv[1]); ip = sys.argv[2]
resource.setrlimit(resource.RLIMIT_NOFILE, (N + 256, N + 256))
socks = []
for i in range(N):
    s = socket.create_connection((ip, 7), timeout=30)
    msg = struct.pack("!I", i) * 25          # 100 bytes naming the connection
    s.sendall(msg)
    s.shutdown(socket.SHUT_WR)               # half-close: uinet must still send the echo
    socks.append((s, msg))
for s, msg in socks:
    got = b""
    while True:
        b = s.recv(4096)
        if not b:
            break                            # uinet's FIN after the echo
        got += b
    assert got == msg, (len(got), got[:8], msg[:8])
for s, _ in socks:
    s.close()
# A reset from Linux: SO_LINGER with a zero timeout.
r = socket.create_connection((ip, 9), timeout=30)
r.sendall(b"x" * 1000)
r.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
r.close()
# Nobody listens on 12345: uinet (not black-holing) answers with RST.
try:
    socket.create_connection((ip, 12345), timeout=30)
    print("connected?!")
except ConnectionRefusedError:
    print("refused")
print("done", N)
"""


class ServeTcpMany(InteropCase):
    tag = "mny"

    def test_thousand_connections_half_close_and_resets(self):
        s = self.serve()
        n = 1200
        r = self.ns.exec("/usr/bin/python3", "-c", CLIENT, str(n), UINET_IP, timeout=240)
        self.assertIn("refused", r.stdout)
        self.assertIn(f"done {n}", r.stdout)
        # Ordering barrier: uinet handles frames in arrival order, so once it
        # answers this ping it has processed every earlier ACK and RST.
        self.ns.exec("ping", "-c", "1", "-W", "5", UINET_IP)
        c = s.stop()["tcp"]
        self.assertGreaterEqual(c["passive_opens"], n + 1)
        self.assertGreaterEqual(c["established"], n + 1)
        self.assertGreaterEqual(c["rsts_rcvd"], 1)      # the SO_LINGER 0 close
        self.assertGreaterEqual(c["no_listener"], 1)    # port 12345
        self.assertGreaterEqual(c["rsts_sent"], 1)
        # uinet closed passively (LAST-ACK): nothing may be left, not even TIME-WAIT.
        self.assertEqual(c["connections"], 0)
        self.assertEqual(c["time_wait_now"], 0)
        self.assertEqual(c["bad_checksum"], 0)


if __name__ == "__main__":
    main()
