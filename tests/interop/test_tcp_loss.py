"""`uinet tcp --loss P` against Linux in the namespace: uinet's TAP side
drops each frame, in each direction, with probability P (a seeded
FaultInjector: 1 %, then 5 %). For each rate, 20 MB go from uinet to a
socat sink and 20 MB come from a Linux source; SHA-256 must match both
ways. While the receive connection is held open (the source waits for a
word from the test before sending), `ss -tin` in the namespace must show
the kernel's side with SACK, window scaling and timestamps negotiated.
uinet's own counters (retransmissions, out-of-order segments) and the
fault injector's drops are printed beside the throughput; the test asserts
that frames were really dropped and the retransmission machinery ran, but
judges no figure."""
import hashlib
import json
import os
import re
import select
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import KERNEL_IP, UINET, UINET_IP, InteropCase, file_sha, main  # noqa: E402

MB = 1_000_000
SIZE = 20 * MB

# Whether this system's `ss` prints the option flags at all: a kernel-to-
# kernel connection on the namespace's loopback, as `ss -tin` shows it.
SS_PROBE = r"""
import socket, subprocess
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
c = socket.create_connection(s.getsockname())
a, _ = s.accept()
print(subprocess.run(["ss", "-tinH", "dst", "127.0.0.1"], capture_output=True, text=True).stdout)
"""
TCPI_OPT_TIMESTAMPS, TCPI_OPT_SACK, TCPI_OPT_WSCALE = 1, 2, 4

# A Linux source that holds the connection open: accepts one connection,
# says so on stdout, waits for a line on stdin, then sends the file and
# closes.
HELD_SOURCE = r"""
import socket, struct, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1)
c, peer = s.accept()
info = c.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
# struct tcp_info: tcpi_options is byte 5, snd_wscale:4 | rcv_wscale:4 byte 6.
print("accepted", peer[0], peer[1], info[5], info[6] & 15, info[6] >> 4, flush=True)
sys.stdin.readline()
with open(sys.argv[3], "rb") as f:
    while chunk := f.read(1 << 20):
        c.sendall(chunk)
c.shutdown(socket.SHUT_WR)
while c.recv(65536):
    pass
# The kernel's own figures once everything (FIN included) is acknowledged:
# tcpi_unacked (offset 24), tcpi_total_retrans (offset 100).
end = time.monotonic() + 60
while True:
    info = c.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    if struct.unpack_from("I", info, 24)[0] == 0 or time.monotonic() > end:
        break
    time.sleep(0.01)
print("linux_total_retrans", struct.unpack_from("I", info, 100)[0], flush=True)
c.close()
"""


def pattern(n):
    """Byte i == i mod 251: what `uinet tcp --send-bytes` sends."""
    period = bytes(range(251))
    return (period * (n // 251 + 1))[:n]


class TcpLoss(InteropCase):
    tag = "los"

    def ss_prints_flags(self):
        """Whether `ss -tin` here shows " ts" and " sack" for a kernel-to-kernel
        connection (iproute2 6.1 on some kernels prints neither)."""
        out = self.ns.exec("/usr/bin/python3", "-c", SS_PROBE).stdout
        shows = re.search(r"\bsack\b", out) is not None and re.search(r"\bts\b", out) is not None
        if not shows:
            print("  (this ss prints no ts/sack flags even kernel-to-kernel: checked through TCP_INFO)",
                  file=sys.stderr)
        return shows

    def uinet_tcp(self, loss, seed, *args):
        """`uinet tcp` over the lossy TAP, started in the background."""
        return self.start(UINET, "tcp", "--tap", self.ns.tap, "--addr", f"{UINET_IP}/24", "--loss", str(loss),
                          "--loss-seed", str(seed), "--timeout", "80", *args, stdout=subprocess.PIPE, text=True)

    def result(self, proc):
        out, err = proc.communicate(timeout=90)
        lines = [line for line in out.splitlines() if line.startswith("{")]
        self.assertEqual(proc.returncode, 0, err)
        self.assertTrue(lines, f"no JSON from uinet tcp: {out!r} {err!r}")
        return json.loads(lines[-1])

    def report(self, j, label):
        tcp = self.check_counters(j, label)
        f = j["faults"]
        print(f"  {label}: fault injector dropped {f['tx_dropped']}/{f['tx_frames']} frames sent, "
              f"{f['rx_dropped']}/{f['rx_frames']} received", file=sys.stderr)
        self.assertGreater(f["tx_dropped"] + f["rx_dropped"], 0, f)
        return tcp, f

    def send_to_linux(self, loss, seed):
        port = 5101
        rx = self.path("rx.bin")
        sink = self.start("socat", "-T", "30", "-u", f"TCP-LISTEN:{port},reuseaddr", f"OPEN:{rx},creat,trunc")
        self.wait_listening(port, sink)
        proc = self.uinet_tcp(loss, seed, "--connect", f"{KERNEL_IP}:{port}", "--send-bytes", str(SIZE))
        j = self.result(proc)
        sink.wait(timeout=60)
        self.assertEqual(sink.returncode, 0, sink.stderr.read())
        self.assertEqual(j["sent"], SIZE)
        self.assertEqual(j["sent_sha256"], hashlib.sha256(pattern(SIZE)).hexdigest())
        self.assertEqual(file_sha(rx), j["sent_sha256"])
        tcp, f = self.report(j, f"{SIZE // MB} MB uinet -> Linux, loss {loss:.0%}")
        # uinet's data frames were dropped: it had to resend.
        self.assertGreater(f["tx_dropped"], 0)
        self.assertGreater(tcp["retransmits"], 0)

    def receive_from_linux(self, loss, seed):
        port = 5102
        data = os.urandom(SIZE)
        src = self.path("src.bin")
        with open(src, "wb") as fh:
            fh.write(data)
        out = self.path("got.bin")
        source = self.start("/usr/bin/python3", "-c", HELD_SOURCE, KERNEL_IP, str(port), src,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.wait_listening(port, source)
        proc = self.uinet_tcp(loss, seed, "--connect", f"{KERNEL_IP}:{port}", "--recv", "--output", out)
        # The handshake may lose frames too; the source reports the accept.
        r, _, _ = select.select([source.stdout], [], [], 30)
        self.assertTrue(r, "the Linux source accepted no connection within 30 s")
        accepted = source.stdout.readline().split()
        self.assertEqual(accepted[:2], ["accepted", UINET_IP], accepted)
        # The connection is held open now: the kernel's view of it.
        ss = self.ns.exec("ss", "-tinH", "dst", UINET_IP).stdout
        print(f"\n  ss -tin (loss {loss:.0%}): {' '.join(ss.split())}", file=sys.stderr)
        self.assertIn(f"{UINET_IP}:", ss)
        self.assertRegex(ss, r"\bwscale:\d+,\d+")
        if self.ss_prints_flags():
            self.assertRegex(ss, r"\bsack\b")
            self.assertRegex(ss, r"\bts\b")
        # The same facts from the kernel's TCP_INFO on its socket (what ss
        # reads): timestamps, SACK and window scaling negotiated with uinet.
        opts, snd_ws, rcv_ws = (int(x) for x in accepted[3:6])
        print(f"  TCP_INFO: tcpi_options={opts:#x} snd_wscale={snd_ws} rcv_wscale={rcv_ws}", file=sys.stderr)
        for bit, name in ((TCPI_OPT_TIMESTAMPS, "ts"), (TCPI_OPT_SACK, "sack"), (TCPI_OPT_WSCALE, "wscale")):
            self.assertTrue(opts & bit, f"{name} not negotiated: tcpi_options={opts:#x}")
        source.stdin.write("go\n")
        source.stdin.close()
        j = self.result(proc)
        source.wait(timeout=90)
        self.assertEqual(source.returncode, 0)
        last = source.stdout.read().split()
        if last[:1] == ["linux_total_retrans"]:
            print(f"\n  Linux (sender) retransmitted {last[1]} segments", file=sys.stderr)
        self.assertEqual(j["received"], SIZE)
        self.assertEqual(j["received_sha256"], hashlib.sha256(data).hexdigest())
        self.assertEqual(file_sha(out), j["received_sha256"])
        tcp, f = self.report(j, f"{SIZE // MB} MB Linux -> uinet, loss {loss:.0%}")
        # Data frames were dropped on their way in: uinet saw holes.
        self.assertGreater(f["rx_dropped"], 0)
        self.assertGreater(tcp["ooo_segments"], 0)

    def test_loss_options(self):
        """The options are listed in --help of every TAP subcommand and
        checked before any device is touched."""
        for cmd in ("tcp", "fetch", "serve"):
            r = self.ns.exec(UINET, cmd, "--help", check=False)
            for opt in ("--loss", "--reorder", "--loss-seed"):
                self.assertIn(opt, r.stdout, (cmd, opt))
        base = ["tcp", "--tap", self.ns.tap, "--addr", f"{UINET_IP}/24", "--connect", f"{KERNEL_IP}:1"]
        r = self.ns.exec(UINET, *base, "--loss", "1.5", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--loss", r.stderr + r.stdout)
        r = self.ns.exec(UINET, *base, "--loss", "0.6", "--reorder", "0.6", check=False)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("uinet tcp: --loss and --reorder add up to more than 1", r.stderr)

    def test_loss_1_percent(self):
        self.send_to_linux(0.01, 11)
        self.receive_from_linux(0.01, 12)

    def test_loss_5_percent(self):
        self.send_to_linux(0.05, 51)
        self.receive_from_linux(0.05, 52)


if __name__ == "__main__":
    main()
