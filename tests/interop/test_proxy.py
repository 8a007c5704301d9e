"""`uinet proxy` inline between two Linux namespaces.

Three namespaces, all named with the test's PID: the proxy's
(uinet-pxp-<pid>), the client's (uinet-pxc-<pid>) and the server's
(uinet-pxs-<pid>). Both TAP devices are created in the proxy's namespace,
opened there by `uinet proxy --client tap:A --server tap:B`, then moved into
the client's and the server's namespaces (a TAP's descriptor stays attached
when its device changes namespace). The kernel sides are 198.18.60.1/24
(client) and 198.18.60.2/24 (server): one subnet, so ARP crosses the
proxy's bridge. The two namespaces are joined only through the proxy.

Checked, once plain and once with the proxy's devices wrapped in a VLAN
tagger pushing 802.1ad 100 + 802.1Q 200 (the kernel has no VLAN devices):
curl in the client namespace fetches 100 MB from nginx in the server
namespace, SHA-256 equal; nginx logs the client's real address; a capture
on the server namespace's TAP shows the client's MAC as the source of its
TCP frames (and, tagged, the proxy's own server-side capture shows both
tags); ping and a UDP exchange (socat) cross the bridge; a connection to a
closed port is refused through the proxy; the proxy's counters show the
connections proxied and completed and frames bridged. Figures (no
thresholds): the fetch's throughput and a short-connection rate, through
the proxy and directly over a veth pair between the same namespaces.
"""
import hashlib
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import UINET, Namespace, file_sha, main, nginx_conf, run, start_in  # noqa: E402

CLIENT_IP = "198.18.60.1"
SERVER_IP = "198.18.60.2"
DIRECT_CLIENT_IP = "198.18.61.1"
DIRECT_SERVER_IP = "198.18.61.2"
BIG = 100_000_000
RATE_CONNS = 300
VLANS = "0x88a8:100,0x8100:200"
EXAMPLE = os.environ.get("UINET_EXAMPLE_PROXY", "example_transparent_proxy")


# The short-connection client: RATE_CONNS HTTP/1.0 requests, one
# connection each, one after the other; prints connections per second.
RATE_CLIENT = """
import socket, sys, time
host, n = sys.argv[1], int(sys.argv[2])
req = b"GET /small.txt HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n"
t0 = time.monotonic()
for i in range(n):
    s = socket.create_connection((host, 80), timeout=10)
    s.sendall(req)
    got = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += b
    s.close()
    assert got.startswith(b"HTTP/1.1 200"), got[:100]
print(n / (time.monotonic() - t0))
"""


def sha(data):
    return hashlib.sha256(data).hexdigest()


def read_pcap(path):
    """(ethernet frame) for each record of a classic pcap file."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    off, frames = 24, []
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        frames.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return frames


def parse_frame(f):
    """(dst mac, src mac, [(tpid, vid)], ethertype, ip src, ip dst, ip proto) or None."""
    if len(f) < 14:
        return None
    dst, src = f[0:6].hex(":"), f[6:12].hex(":")
    off, tags = 12, []
    etype = struct.unpack("!H", f[off:off + 2])[0]
    while etype in (0x8100, 0x88A8, 0x9100) and len(f) >= off + 6:
        tci = struct.unpack("!H", f[off + 2:off + 4])[0]
        tags.append((etype, tci & 0xFFF))
        off += 4
        etype = struct.unpack("!H", f[off:off + 2])[0]
    off += 2
    if etype != 0x0800 or len(f) < off + 20:
        return dst, src, tags, etype, None, None, None
    ip = f[off:]
    return dst, src, tags, etype, socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20]), ip[9]


class ProxyProcess:
    """`uinet proxy` in a namespace. After `ready`, a thread keeps reading
    its stdout (one line per connection: a pipe left unread would stall it)."""

    def __init__(self, cmd):
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.out = []
        self.reader = None
        self.lines = []
        self.counters = None

    def wait_ready(self, timeout=20):
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline().rstrip("\n") if r else None
        if line != "ready":
            err = self.proc.stderr.read() if self.proc.poll() is not None else ""
            raise AssertionError(f"expected 'ready', got {line!r} {err}")
        self.reader = threading.Thread(target=lambda: self.out.extend(self.proc.stdout), daemon=True)
        self.reader.start()

    def stop(self):
        """SIGTERM by PID; returns the counters JSON; keeps the log lines."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)
        self.reader.join(timeout=10)
        err = self.proc.stderr.read()
        if self.proc.returncode != 0:
            raise AssertionError(f"uinet proxy exited {self.proc.returncode}: {err}")
        out = [line.rstrip("\n") for line in self.out]
        self.lines = [line for line in out if line.startswith("conn ")]
        js = [line for line in out if line.startswith("{")]
        if not js:
            raise AssertionError(f"no counters JSON: {out[-5:]!r} {err!r}")
        self.counters = json.loads(js[-1])
        return self.counters

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if self.reader:
            self.reader.join(timeout=10)
        self.proc.stdout.close()
        self.proc.stderr.close()


def conn_fields(line):
    return dict(kv.split("=", 1) for kv in line.split()[1:])


class ProxyInterop(unittest.TestCase):
    def setUp(self):
        if os.geteuid() != 0:
            self.fail("interop tests need root (CAP_NET_ADMIN) to create namespaces and TAP devices")
        self.tmp = tempfile.TemporaryDirectory(prefix="uinet-proxy-")
        self.addCleanup(self.tmp.cleanup)
        pid = os.getpid() % 100000
        self.pns = Namespace("pxp")
        self.addCleanup(self.pns.delete)
        self.cns = Namespace("pxc")
        self.addCleanup(self.cns.delete)
        self.sns = Namespace("pxs")
        self.addCleanup(self.sns.delete)
        self.ctap, self.stap = f"pxc{pid}", f"pxs{pid}"
        for tap in (self.ctap, self.stap):
            self.pns.exec("ip", "tuntap", "add", "dev", tap, "mode", "tap")
        d = self.tmp.name
        for sub in ("www", "tmp"):
            os.makedirs(os.path.join(d, sub))
        os.chmod(d, 0o755)
        os.chmod(os.path.join(d, "tmp"), 0o777)
        self.big = os.urandom(BIG)
        self.write("www/big.bin", self.big)
        self.write("www/small.txt", b"hello through the proxy\n")

    def write(self, rel, data):
        with open(os.path.join(self.tmp.name, rel), "wb") as f:
            f.write(data)

    def start(self, ns, *cmd, **kw):
        return start_in(self, ns, *cmd, **kw)

    def start_proxy(self, *extra, example=False):
        if example:
            cmd = [EXAMPLE, self.ctap, self.stap]
        else:
            cmd = [UINET, "proxy", "--client", f"tap:{self.ctap}", "--server", f"tap:{self.stap}", *extra]
        p = ProxyProcess(["ip", "netns", "exec", self.pns.name, *cmd])
        self.addCleanup(p.kill)
        p.wait_ready()
        # The TAPs move to the endpoints' namespaces; the proxy keeps them open.
        for ns, tap, ip in ((self.cns, self.ctap, CLIENT_IP), (self.sns, self.stap, SERVER_IP)):
            self.pns.exec("ip", "link", "set", tap, "netns", ns.name)
            ns.exec("ip", "addr", "add", f"{ip}/24", "dev", tap)
            ns.exec("ip", "link", "set", tap, "up")
            ns.exec("ethtool", "-K", tap, "tx", "off", "tso", "off", "gso", "off", "gro", "off", check=False)
        self.client_mac = self.mac(self.cns, self.ctap)
        self.server_mac = self.mac(self.sns, self.stap)
        return p

    @staticmethod
    def mac(ns, dev):
        return json.loads(ns.exec("ip", "-j", "link", "show", "dev", dev).stdout)[0]["address"]

    def start_nginx(self):
        conf = os.path.join(self.tmp.name, "nginx.conf")
        with open(conf, "w") as f:
            f.write(nginx_conf(self.tmp.name, "80", "$remote_addr $remote_port $request_method $uri $status $body_bytes_sent", conns=256))
        nginx = self.start(self.sns, "nginx", "-c", conf, "-e", os.path.join(self.tmp.name, "error.log"),
                           "-p", self.tmp.name)
        end = time.monotonic() + 20
        while not self.sns.listening(80):
            if nginx.poll() is not None:
                self.fail(f"nginx exited: {nginx.stderr.read()}")
            if time.monotonic() > end:
                self.fail("nginx does not listen")
            time.sleep(0.02)
        self.addCleanup(lambda: nginx.poll() is None and nginx.send_signal(signal.SIGQUIT))
        return nginx

    def start_tcpdump(self, path):
        p = self.start(self.sns, "tcpdump", "-i", self.stap, "-nn", "-s", "128", "-B", "32768", "-U", "-w", path,
                       "tcp")
        # tcpdump says "listening on" once capturing.
        r, _, _ = select.select([p.stderr], [], [], 10)
        self.assertTrue(r, "tcpdump did not start")
        self.assertIn("listening on", p.stderr.readline().decode())
        return p

    def stop_tcpdump(self, p):
        time.sleep(0.5)  # lets it write what is still in its buffer
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=20)
        err = err.decode()
        self.assertRegex(err, r"(?m)^0 packets dropped by kernel$")
        return err

    def fetch(self, ns, ip, label):
        out = os.path.join(self.tmp.name, "got.bin")
        r = ns.exec("curl", "-sS", "--max-time", "120", "-o", out, "-w", "%{http_code} %{size_download} %{time_total}",
                    f"http://{ip}/big.bin", timeout=150)
        code, size, secs = r.stdout.split()
        self.assertEqual(code, "200")
        self.assertEqual(int(size), BIG)
        self.assertEqual(file_sha(out), sha(self.big))
        os.unlink(out)
        mbit = BIG * 8 / float(secs) / 1e6
        print(f"\n  {label}: 100 MB in {float(secs):.3f} s = {mbit:.0f} Mbit/s", file=sys.stderr)
        return mbit

    def conn_rate(self, ns, ip, label):
        r = ns.exec("python3", "-c", RATE_CLIENT, ip, str(RATE_CONNS), timeout=120)
        rate = float(r.stdout.strip())
        print(f"\n  {label}: {RATE_CONNS} short HTTP connections, {rate:.0f} conn/s", file=sys.stderr)
        return rate

    def bridge_checks(self):
        ping = self.cns.exec("ping", "-c", "3", "-i", "0.2", "-W", "5", SERVER_IP)
        self.assertIn("3 received", ping.stdout)
        udp = self.start(self.sns, "socat", "UDP4-RECVFROM:9000,bind=" + SERVER_IP + ",fork", "PIPE")
        time.sleep(0.2)  # socat binds at once; a lost first datagram would only be retried below
        for attempt in range(5):
            r = self.cns.exec("socat", "-t", "2", "-T", "3", "-", f"UDP4:{SERVER_IP}:9000", input=b"bridged udp\n",
                              text=False, check=False)
            if r.stdout == b"bridged udp\n":
                break
            self.assertIsNone(udp.poll(), "socat UDP server exited")
        self.assertEqual(r.stdout, b"bridged udp\n")

    def refused_check(self):
        r = self.cns.exec("curl", "-v", "-sS", "--max-time", "10", f"http://{SERVER_IP}:81/", check=False)
        self.assertEqual(r.returncode, 7, r.stderr)  # couldn't connect
        self.assertIn("Connection refused", r.stderr)

    def access_log(self):
        with open(os.path.join(self.tmp.name, "access.log")) as f:
            return [line.split() for line in f if line.strip()]

    def run_case(self, tagged):
        extra = []
        pcap = os.path.join(self.tmp.name, "proxy-server.pcap")
        if tagged:
            extra = ["--vlan", VLANS, "--pcap-server", pcap]
        px = self.start_proxy(*extra)
        self.start_nginx()
        dump_path = os.path.join(self.tmp.name, "server-tap.pcap")
        dump = self.start_tcpdump(dump_path)

        self.bridge_checks()
        proxied = self.fetch(self.cns, SERVER_IP, "through uinet proxy" + (" (QinQ)" if tagged else ""))
        self.refused_check()
        self.stop_tcpdump(dump)
        rate = self.conn_rate(self.cns, SERVER_IP, "through uinet proxy" + (" (QinQ)" if tagged else ""))

        # nginx saw the client itself.
        log = self.access_log()
        big = [line for line in log if line[3] == "/big.bin"]
        self.assertEqual(len(big), 1, log)
        self.assertEqual(big[0][0], CLIENT_IP)
        self.assertEqual(big[0][4], "200")
        self.assertEqual(int(big[0][5]), BIG)
        self.assertEqual({line[0] for line in log}, {CLIENT_IP})

        # On the server's wire, the client's TCP frames come from the client's MAC.
        frames = [parse_frame(f) for f in read_pcap(dump_path)]
        from_client = [f for f in frames if f and f[4] == CLIENT_IP]
        self.assertGreater(len(from_client), 1000)
        self.assertEqual({f[1] for f in from_client}, {self.client_mac})
        self.assertEqual({f[2] == [] for f in from_client}, {True})  # the kernel's side is untagged
        to_client = [f for f in frames if f and f[5] == CLIENT_IP]
        self.assertEqual({f[0] for f in to_client}, {self.client_mac})

        c = px.stop()
        p = c["proxy"]
        print(f"\n  proxy counters: {p}", file=sys.stderr)
        self.assertGreaterEqual(p["accepted"], 1 + RATE_CONNS)
        self.assertEqual(p["completed"], p["accepted"])
        self.assertGreaterEqual(p["refused"], 1)
        self.assertEqual(p["reset"] + p["orphans"] + p["client_gone"] + p["connect_errors"], 0)
        self.assertGreaterEqual(p["bytes_s2c"], BIG)
        self.assertGreater(p["bridged_c2s"], 0)
        self.assertGreater(p["bridged_s2c"], 0)
        self.assertGreater(c["net"]["bridged_frames"], 0)
        self.assertEqual(c["net"]["bridge_errors"], 0)
        self.assertEqual(c["tcp"]["bad_checksum"], 0)
        for side in ("client", "server"):
            self.assertEqual(c[f"dev.{side}"]["tx_dropped"], 0, c[f"dev.{side}"])
        # One log line per connection; the fetch's shows the whole body.
        lines = [conn_fields(line) for line in px.lines]
        fetch = [f for f in lines if f["end"] == "clean" and int(f["s2c"]) >= BIG]
        self.assertEqual(len(fetch), 1, px.lines[:5])
        self.assertEqual(fetch[0]["client"].split(":")[0], CLIENT_IP)
        self.assertEqual(fetch[0]["server"], f"{SERVER_IP}:80")
        self.assertEqual(fetch[0]["client_mac"], self.client_mac)
        self.assertEqual(fetch[0]["server_mac"], self.server_mac)
        self.assertEqual(fetch[0]["vlans"], "88a8:100,8100:200" if tagged else "-")
        self.assertTrue(any(f["end"] == "refused" and f["server"] == f"{SERVER_IP}:81" for f in lines))

        if tagged:
            v = c["vlan.server"]
            self.assertEqual(v["tag_mismatch"], 0)
            self.assertEqual(c["vlan.client"]["tag_mismatch"], 0)
            self.assertGreater(c["pcap.server"]["frames"], 1000)
            frames = [parse_frame(f) for f in read_pcap(pcap)]
            tcp_out = [f for f in frames if f and f[4] == CLIENT_IP and f[6] == 6]
            self.assertGreater(len(tcp_out), 1000)
            # The proxy's server-side wire: both tags, the client's MAC.
            self.assertEqual({tuple(f[2]) for f in tcp_out}, {((0x88A8, 100), (0x8100, 200))})
            self.assertEqual({f[1] for f in tcp_out}, {self.client_mac})
            arp = [f for f in frames if f and f[3] == 0x0806]
            self.assertTrue(arp, "no ARP crossed the server side")
            self.assertEqual({tuple(f[2]) for f in arp}, {((0x88A8, 100), (0x8100, 200))})
        return proxied, rate

    def direct(self):
        """The same fetch and connection rate over a veth pair between the
        two namespaces, without the proxy (kernel to kernel)."""
        pid = os.getpid() % 100000
        a, b = f"pvc{pid}", f"pvs{pid}"
        self.cns.exec("ip", "link", "add", a, "type", "veth", "peer", "name", b)
        self.cns.exec("ip", "link", "set", b, "netns", self.sns.name)
        self.cns.exec("ip", "addr", "add", f"{DIRECT_CLIENT_IP}/24", "dev", a)
        self.sns.exec("ip", "addr", "add", f"{DIRECT_SERVER_IP}/24", "dev", b)
        self.cns.exec("ip", "link", "set", a, "up")
        self.sns.exec("ip", "link", "set", b, "up")
        mbit = self.fetch(self.cns, DIRECT_SERVER_IP, "direct over veth (kernel)")
        rate = self.conn_rate(self.cns, DIRECT_SERVER_IP, "direct over veth (kernel)")
        return mbit, rate

    def test_plain(self):
        mbit, rate = self.run_case(tagged=False)
        dm, dr = self.direct()
        print(f"\n  figures: proxy {mbit:.0f} Mbit/s, {rate:.0f} conn/s; direct veth {dm:.0f} Mbit/s, "
              f"{dr:.0f} conn/s", file=sys.stderr)

    def test_qinq(self):
        self.run_case(tagged=True)

    def test_example_program(self):
        """docs/proxy.md's minimal proxy (examples/transparent_proxy.cpp)."""
        px = self.start_proxy(example=True)
        self.start_nginx()
        ping = self.cns.exec("ping", "-c", "2", "-i", "0.2", "-W", "5", SERVER_IP)
        self.assertIn("2 received", ping.stdout)
        r = self.cns.exec("curl", "-sS", "--max-time", "20", f"http://{SERVER_IP}/small.txt")
        self.assertEqual(r.stdout, "hello through the proxy\n")
        self.refused_check()
        self.assertEqual([line[0] for line in self.access_log()], [CLIENT_IP])
        end = time.monotonic() + 10
        while not any(line.startswith("relayed") for line in px.out) and time.monotonic() < end:
            time.sleep(0.05)
        self.assertTrue(any(line.startswith("relayed ") and line.rstrip().endswith("clean") for line in px.out), px.out)

    def test_bad_options(self):
        for args, want in ((["--client", "tap0", "--server", "tap:b"], "expected DRIVER:ARGUMENT"),
                           (["--client", "xdp:a", "--server", "tap:b"], "unknown driver 'xdp'"),
                           (["--client", "tap:a", "--server", "tap:a"], "same device"),
                           (["--client", "tap:a", "--server", "tap:b", "--vlan", "0x0800:1"], "bad TPID")):
            r = run(UINET, "proxy", *args, check=False)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(want, r.stderr)


if __name__ == "__main__":
    main()
