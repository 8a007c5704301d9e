"""`uinet tcp` against socat in the namespace: 64 MB sent to a socat that
writes a file, 64 MB of a file read from a socat that sends it, and an
echo through `cat` with both directions at once; SHA-256 on both ends.
A refused port, a reset, an unreachable peer (timeout) and bad arguments
end with a non-zero exit and a clear message. uinet's own counters must
show the bytes and no connection left but TIME-WAIT."""
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import KERNEL_IP, UINET, UINET_IP, InteropCase, file_sha, main  # noqa: E402

MB = 1_000_000

RESET_SERVER = r"""
import socket, struct, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1)
c, _ = s.accept()
c.recv(1000)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()   # unread data and SO_LINGER 0: Linux resets the connection
"""


def pattern(n):
    """Byte i == i mod 251: what `uinet tcp --send-bytes` sends."""
    period = bytes(range(251))
    return (period * (n // 251 + 1))[:n]


def sha(data):
    return hashlib.sha256(data).hexdigest()


class TcpSocat(InteropCase):
    tag = "soc"

    def socat(self, port, *args):
        # -T: give up after 30 s without traffic, so a stuck test cannot hang.
        proc = self.start("socat", "-T", "30", *args)
        self.wait_listening(port, proc)
        return proc

    def finish(self, proc):
        proc.wait(timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr.read())

    def test_send_to_socat(self):
        n = 64 * MB
        rx = self.path("rx.bin")
        proc = self.socat(5001, "-u", "TCP-LISTEN:5001,reuseaddr", f"OPEN:{rx},creat,trunc")
        rc, j, err = self.client("tcp", "--connect", f"{KERNEL_IP}:5001", "--send-bytes", str(n))
        self.assertEqual(rc, 0, err)
        self.finish(proc)
        self.assertEqual(j["sent"], n)
        self.assertEqual(j["received"], 0)
        self.assertEqual(j["sent_sha256"], sha(pattern(n)))
        self.assertEqual(file_sha(rx), j["sent_sha256"])
        tcp = self.check_counters(j, "64 MB to socat")
        self.assertGreaterEqual(tcp["bytes_out"], n)

    def test_receive_from_socat(self):
        data = os.urandom(64 * MB)
        src = self.path("src.bin")
        with open(src, "wb") as f:
            f.write(data)
        out = self.path("got.bin")
        proc = self.socat(5002, "-u", f"OPEN:{src}", "TCP-LISTEN:5002,reuseaddr")
        rc, j, err = self.client("tcp", "--connect", f"{KERNEL_IP}:5002", "--recv", "--output", out)
        self.assertEqual(rc, 0, err)
        self.finish(proc)
        self.assertEqual(j["sent"], 0)
        self.assertEqual(j["received"], len(data))
        self.assertEqual(j["received_sha256"], sha(data))
        self.assertEqual(file_sha(out), sha(data))
        tcp = self.check_counters(j, "64 MB from socat")
        self.assertGreaterEqual(tcp["bytes_in"], len(data))

    def test_echo_both_directions_at_once(self):
        data = os.urandom(32 * MB)
        src = self.path("src.bin")
        with open(src, "wb") as f:
            f.write(data)
        # -t 30: after uinet's FIN, socat keeps passing cat's output back
        # (the default is half a second).
        proc = self.socat(5003, "-t", "30", "TCP-LISTEN:5003,reuseaddr", "EXEC:cat")
        rc, j, err = self.client("tcp", "--connect", f"{KERNEL_IP}:5003", "--send-file", src, "--recv")
        self.assertEqual(rc, 0, err)
        self.finish(proc)
        self.assertEqual(j["sent"], len(data))
        self.assertEqual(j["received"], len(data))
        self.assertEqual(j["sent_sha256"], sha(data))
        self.assertEqual(j["received_sha256"], sha(data))
        tcp = self.check_counters(j, "32 MB echoed through socat")
        self.assertGreaterEqual(tcp["bytes_out"], len(data))
        self.assertGreaterEqual(tcp["bytes_in"], len(data))

    def test_refused(self):
        rc, j, err = self.client("tcp", "--connect", f"{KERNEL_IP}:5004", "--send-bytes", "1000")
        self.assertEqual(rc, 1)
        self.assertIn("connection refused", err)
        self.assertFalse(j["ok"])
        tcp = self.check_counters(j, "refused")
        self.assertEqual(tcp["conn_refused"], 1)

    def test_reset(self):
        srv = self.start("/usr/bin/python3", "-c", RESET_SERVER, KERNEL_IP, "5005")
        self.wait_listening(5005, srv)
        rc, j, err = self.client("tcp", "--connect", f"{KERNEL_IP}:5005", "--send-bytes", str(8 * MB))
        self.assertEqual(rc, 1)
        self.assertIn("reset", err)
        tcp = self.check_counters(j, "reset")
        self.assertGreaterEqual(tcp["rsts_rcvd"], 1)
        srv.wait(timeout=20)

    def test_unreachable_peer_times_out(self):
        # Nobody owns 198.18.0.77: ARP goes unanswered.
        rc, j, err = self.client("tcp", "--connect", "198.18.0.77:5006", "--send-bytes", "10", "--timeout", "2")
        self.assertEqual(rc, 1)
        self.assertIn("timed out", err)
        self.assertFalse(j["ok"])
        self.check_counters(j, "timeout")

    def test_bad_arguments(self):
        for cmd, args, words in [
            ("tcp", ["--connect", "198.18.0.1"], "bad peer"),
            ("tcp", ["--connect", "banana:80"], "bad peer"),
            ("tcp", ["--connect", f"{KERNEL_IP}:1", "--send-file", self.path("missing")], "cannot read"),
            ("fetch", ["https://198.18.0.1/"], "bad URL"),
            ("fetch", ["http://example.com/"], "bad URL"),
        ]:
            rc, _, err = self.client(cmd, *args, timeout=20)
            self.assertNotEqual(rc, 0, (cmd, args))
            self.assertIn(words, err, (cmd, args))
        # The TAP options are checked as `uinet serve` checks them.
        for cmd, addr, rest in [("tcp", "198.18.0.300/24", ["--connect", f"{KERNEL_IP}:1"]),
                                ("fetch", UINET_IP, [f"http://{KERNEL_IP}/"])]:
            r = self.ns.exec(UINET, cmd, "--tap", self.ns.tap, "--addr", addr, *rest, check=False, timeout=20)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(f"uinet {cmd}: bad address", r.stderr)
        r = self.ns.exec(UINET, "tcp", "--tap", self.ns.tap, "--addr", f"{UINET_IP}/24", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--connect", r.stderr + r.stdout)


if __name__ == "__main__":
    main()
