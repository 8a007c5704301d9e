"""`uinet passive` on a real capture: nginx in one namespace, curl in
another, a veth pair between them (offloads off on both ends, so frames on
the wire are what the capture shows), tcpdump writing the capture (it must
report 0 packets dropped by the kernel). curl fetches several files over one
keep-alive connection (a 50 MB body, a chunked response among them) and
uploads a file on a second connection. `uinet passive --file` must then
reproduce each direction byte-exactly: the response stream parses into
exactly the served files (SHA-256), the request stream into exactly the
requests curl made, the upload's request body is the uploaded file, and the
bodies --http-bodies extracts match. Everything is removed by PID and name,
even on failure."""
import hashlib
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from harness import UINET, Namespace, start_in, nginx_conf, run  # noqa: E402

SERVER_IP = "198.18.0.1"
CLIENT_IP = "198.18.0.2"



def sha(data):
    return hashlib.sha256(data).hexdigest()


def read(path):
    with open(path, "rb") as f:
        return f.read()


def parse_messages(stream, responses):
    """Splits an HTTP/1.1 stream into (start line, headers, body) triples;
    fails on anything left over or malformed (byte-exactness check)."""
    out, pos = [], 0
    while pos < len(stream):
        end = stream.find(b"\r\n\r\n", pos)
        if end < 0:
            raise AssertionError(f"incomplete head at {pos}: {stream[pos:pos + 80]!r}")
        lines = stream[pos:end].decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:])}
        pos = end + 4
        body = b""
        status = lines[0].split(" ")[1] if responses else ""
        if responses and (status.startswith("1") or status in ("204", "304")):
            pass  # no body (RFC 9112 6.3)
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                eol = stream.index(b"\r\n", pos)
                size = int(stream[pos:eol].split(b";")[0], 16)
                pos = eol + 2
                body += stream[pos:pos + size]
                pos += size
                if stream[pos:pos + 2] != b"\r\n":
                    raise AssertionError(f"bad chunk end at {pos}")
                pos += 2
                if size == 0:
                    break
        elif "content-length" in headers:
            n = int(headers["content-length"])
            body = stream[pos:pos + n]
            if len(body) != n:
                raise AssertionError(f"body cut short: {len(body)} of {n}")
            pos += n
        elif responses:
            body, pos = stream[pos:], len(stream)
        out.append((lines[0], headers, body))
    return out


class PassiveNginx(unittest.TestCase):
    def setUp(self):
        if os.geteuid() != 0:
            self.fail("interop tests need root (CAP_NET_ADMIN) to create namespaces")
        self.tmp = tempfile.TemporaryDirectory(prefix="uinet-passive-")
        self.addCleanup(self.tmp.cleanup)
        self.d = self.tmp.name
        self.a = Namespace("pv-a")  # nginx
        self.addCleanup(self.a.delete)
        self.b = Namespace("pv-b")  # curl
        self.addCleanup(self.b.delete)
        pid = os.getpid() % 100000
        self.va, self.vb = f"pva{pid}", f"pvb{pid}"
        self.a.exec("ip", "link", "add", self.va, "type", "veth", "peer", "name", self.vb, "netns", self.b.name)
        for ns, dev, ip in ((self.a, self.va, SERVER_IP), (self.b, self.vb, CLIENT_IP)):
            ns.exec("ip", "addr", "add", f"{ip}/24", "dev", dev)
            ns.exec("ip", "link", "set", dev, "up")
            ns.exec("ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off", "tx", "off")
        for sub in ("www", "www/up", "tmp", "out", "bodies", "streams"):
            os.makedirs(os.path.join(self.d, sub))
        os.chmod(self.d, 0o755)
        for sub in ("www/up", "tmp"):
            os.chmod(os.path.join(self.d, sub), 0o777)

    def start(self, ns, *cmd, **kw):
        return start_in(self, ns, *cmd, **kw)

    def write(self, rel, data):
        with open(os.path.join(self.d, rel), "wb") as f:
            f.write(data)

    def test_streams_and_bodies_are_byte_exact(self):
        files = {"small.txt": b"uinet passive says hello\n", "medium.bin": os.urandom(1_000_000),
                 "big.bin": os.urandom(50_000_000)}
        for name, data in files.items():
            self.write(f"www/{name}", data)
        upload = os.urandom(2_000_000)
        self.write("upload.bin", upload)
        conf = os.path.join(self.d, "nginx.conf")
        with open(conf, "w") as f:
            f.write(nginx_conf(self.d, f"{SERVER_IP}:80"))
        nginx = self.start(self.a, "nginx", "-c", conf, "-e", os.path.join(self.d, "error.log"), "-p", self.d)
        end = time.monotonic() + 20
        while not self.a.listening(80):
            self.assertIsNone(nginx.poll(), "nginx exited")
            self.assertLess(time.monotonic(), end, "nginx does not listen")
            time.sleep(0.02)

        cap = os.path.join(self.d, "cap.pcap")
        tcpdump = self.start(self.a, "tcpdump", "-i", self.va, "-s", "0", "-B", "131072", "-U", "-w", cap, "tcp",
                             stderr=subprocess.PIPE, text=True)
        r, _, _ = select.select([tcpdump.stderr], [], [], 20)
        self.assertTrue(r, "tcpdump did not start")
        self.assertIn("listening on", tcpdump.stderr.readline())

        # One keep-alive connection, four requests; then an upload.
        paths = ["small.txt", "medium.bin", "big.bin", "chunked/medium.bin"]
        args = []
        for i, p in enumerate(paths):
            args += ["-o", os.path.join(self.d, "out", str(i)), f"http://{SERVER_IP}/{p}"]
        self.b.exec("curl", "-sSf", "--http1.1", *args, timeout=120)
        self.b.exec("curl", "-sSf", "--http1.1", "-T", os.path.join(self.d, "upload.bin"),
                    f"http://{SERVER_IP}/up/u.bin", timeout=120)
        for i, p in enumerate(paths):
            self.assertEqual(read(os.path.join(self.d, "out", str(i))), files[p.split("/")[-1]])

        # tcpdump drops what it has not yet written when it stops. A marker
        # sent after all the traffic (a SYN to closed port 9, answered by a
        # RST) is written after everything before it: once the capture file
        # holds that RST, every earlier packet is in, and tcpdump can stop.
        self.b.exec("curl", "-sS", "--max-time", "5", f"http://{SERVER_IP}:9/", check=False)
        end = time.monotonic() + 60
        while True:
            seen = run("tcpdump", "-nn", "-r", cap, "tcp port 9 and tcp[tcpflags] & tcp-rst != 0", check=False)
            if seen.stdout.strip():
                break
            self.assertLess(time.monotonic(), end, "the marker never reached the capture file")
            time.sleep(0.05)
        tcpdump.send_signal(signal.SIGINT)
        err = tcpdump.communicate(timeout=20)[1]
        m = re.search(r"(\d+) packets? dropped by kernel", err)
        self.assertIsNotNone(m, err)
        self.assertEqual(int(m.group(1)), 0, f"tcpdump lost packets: {err}")
        m2 = re.search(r"(\d+) packets? captured\s+(\d+) packets? received by filter", err)
        self.assertIsNotNone(m2, err)
        self.assertEqual(m2.group(1), m2.group(2), f"tcpdump did not write every packet: {err}")

        flows = os.path.join(self.d, "flows")
        os.mkdir(flows)
        r = run(UINET, "passive", "--file", cap, "--outdir", os.path.join(self.d, "streams"), "--http-bodies",
                os.path.join(self.d, "bodies"), "--summary", "--pcap-dir", flows, "--pcap-port", "80", timeout=120)
        print("\n" + r.stdout, file=sys.stderr)
        lines = [ln for ln in r.stdout.splitlines() if re.match(r"^\d{6} ", ln)]
        # The marker: a refused connection to port 9, seen as reset.
        markers = [ln for ln in lines if ":9 " in ln]
        self.assertEqual(len(markers), 1, r.stdout)
        self.assertIn(" end=reset", markers[0])
        conns = [ln for ln in lines if ":80 " in ln]
        self.assertEqual(len(conns), 2, r.stdout)
        self.assertEqual(len(lines), 3, r.stdout)
        for ln in conns:
            self.assertIn(" end=fin", ln)
            self.assertIn(" holes=0/0B", ln)
            self.assertIn(" inconsistent=0", ln)

        all_streams = sorted(os.listdir(os.path.join(self.d, "streams")))
        streams = [n for n in all_streams if ".80." in n]
        self.assertEqual(len(streams), 4, all_streams)
        # The marker's two streams exist and are empty.
        for n in all_streams:
            if ".9." in n:
                self.assertEqual(os.path.getsize(os.path.join(self.d, "streams", n)), 0, n)
        s = {name: read(os.path.join(self.d, "streams", name)) for name in streams}
        get_c2s, get_s2c, put_c2s, put_s2c = (s[n] for n in streams)

        # Connection 1: exactly the four GETs, and exactly the four responses.
        reqs = parse_messages(get_c2s, False)
        self.assertEqual([q[0] for q in reqs], [f"GET /{p} HTTP/1.1" for p in paths])
        resps = parse_messages(get_s2c, True)
        self.assertEqual([x[0].split(" ")[1] for x in resps], ["200"] * 4)
        for (line, headers, body), p in zip(resps, paths):
            self.assertEqual(sha(body), sha(files[p.split("/")[-1]]), p)
        self.assertEqual(resps[3][1].get("transfer-encoding"), "chunked")
        # Connection 2: the upload's request body is the file.
        (put,) = parse_messages(put_c2s, False)
        self.assertEqual(put[0], "PUT /up/u.bin HTTP/1.1")
        self.assertEqual(sha(put[2]), sha(upload))
        self.assertEqual(parse_messages(put_s2c, True)[-1][0].split(" ")[1], "201")

        # --http-bodies: one file per body, decoded.
        bodies = os.path.join(self.d, "bodies")
        got = {n: read(os.path.join(bodies, n)) for n in os.listdir(bodies)}
        conn1 = streams[0][:-4]
        conn2 = streams[2][:-4]
        for k, p in enumerate(paths, start=1):
            self.assertEqual(sha(got[f"{conn1}.s2c.{k}.body"]), sha(files[p.split("/")[-1]]), p)
        self.assertEqual(sha(got[f"{conn2}.c2s.1.body"]), sha(upload))
        self.assertIn("0 incomplete", r.stdout)

        # --pcap-dir with --pcap-port 80: one capture per connection to port
        # 80 (the marker to port 9 is not selected), together holding every
        # port-80 packet of the capture, each readable on its own: the
        # streams rebuilt from the first one's file are the same.
        per_flow = sorted(os.listdir(flows))
        self.assertEqual(len(per_flow), 2, per_flow)
        self.assertTrue(all(n.startswith("tcp-") and n.endswith(f"-{SERVER_IP}.80.pcap") for n in per_flow), per_flow)
        self.assertIn("pcap-dir: 2 flows written", r.stdout)

        def count(path, filt=""):
            out = run("tcpdump", "-nn", "-r", path, *([filt] if filt else []), check=False).stdout
            return len(out.splitlines())
        self.assertEqual(sum(count(os.path.join(flows, n)) for n in per_flow), count(cap, "tcp port 80"))
        again = os.path.join(self.d, "again")
        os.mkdir(again)
        conn1_client = streams[0].split("-")[1]
        (first,) = [n for n in per_flow if n.startswith(f"tcp-{conn1_client}-")]
        run(UINET, "passive", "--file", os.path.join(flows, first), "--outdir", again, timeout=120)
        redo = sorted(os.listdir(again))
        self.assertEqual(len(redo), 2, redo)
        self.assertEqual(sha(read(os.path.join(again, redo[0]))), sha(get_c2s))
        self.assertEqual(sha(read(os.path.join(again, redo[1]))), sha(get_s2c))


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
