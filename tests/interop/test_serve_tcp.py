"""Linux talks TCP to `uinet serve`: echo, discard, chargen and HTTP/1.1
(downloads and uploads, keep-alive, 100-continue, chunked), every byte
checked by SHA-256; `ss -ti` on the Linux side shows window scaling and
the timestamp-reduced MSS."""
import hashlib
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import UINET_IP, InteropCase, main  # noqa: E402


def body(n):
    return bytes(i % 251 for i in range(n))


class ServeTcp(InteropCase):
    tag = "tcp"

    def test_echo_discard_chargen(self):
        s = self.serve()
        data = os.urandom(300_000)
        r = self.ns.exec("socat", "-t", "5", "-T", "20", "-", f"TCP:{UINET_IP}:7", input=data, text=False)
        self.assertEqual(hashlib.sha256(r.stdout).hexdigest(), hashlib.sha256(data).hexdigest())
        r = self.ns.exec("socat", "-t", "2", "-T", "20", "-", f"TCP:{UINET_IP}:9", input=data, text=False)
        self.assertEqual(r.stdout, b"")
        r = self.ns.exec("sh", "-c", f"socat -T 10 -u TCP:{UINET_IP}:19 - | head -c 740", text=False, check=False)
        lines = r.stdout.split(b"\r\n")
        self.assertEqual(len(lines[0]), 72)
        self.assertEqual(lines[1][:71], lines[0][1:72])  # each line starts one character later
        c = s.stop()
        tcp = c["tcp"]
        self.assertGreaterEqual(tcp["passive_opens"], 3)
        self.assertGreaterEqual(tcp["bytes_in"], 2 * len(data))
        self.assertEqual(tcp["bad_checksum"], 0)

    def test_http_download_upload(self):
        s = self.serve()
        url = f"http://{UINET_IP}"
        # Downloads on one keep-alive connection, including 100 MB.
        sizes = [0, 1, 251, 100_000, 100_000_000]
        out = os.path.join(self.tmp.name, "dl")
        args = []
        for n in sizes:
            args += [f"{url}/bytes/{n}", "-o", f"{out}.{n}"]
        r = self.ns.exec("curl", "-sS", "--fail", "-w", "%{num_connects} ", *args, timeout=240)
        self.assertEqual(r.stdout.split()[0], "1")  # one connection
        self.assertTrue(all(x == "0" for x in r.stdout.split()[1:]), r.stdout)
        for n in sizes:
            with open(f"{out}.{n}", "rb") as f:
                got = f.read()
            self.assertEqual(len(got), n)
            self.assertEqual(hashlib.sha256(got).hexdigest(), hashlib.sha256(body(n)).hexdigest())
        # Uploads: 100 MB with Content-Length and 100-continue, then 20 MB chunked.
        up = os.path.join(self.tmp.name, "up")
        data = os.urandom(100_000_000)
        with open(up, "wb") as f:
            f.write(data)
        r = self.ns.exec("curl", "-sS", "--fail", "-H", "Expect: 100-continue", "-T", up, f"{url}/up", timeout=240)
        self.assertEqual(r.stdout, hashlib.sha256(data).hexdigest() + "\n")
        up2 = os.path.join(self.tmp.name, "up2")
        with open(up2, "wb") as f:
            f.write(data[:20_000_000])
        r = self.ns.exec("curl", "-sS", "--fail", "-H", "Transfer-Encoding: chunked", "-T", up2, f"{url}/up2",
                         timeout=240)
        self.assertEqual(r.stdout, hashlib.sha256(data[:20_000_000]).hexdigest() + "\n")
        c = s.stop()
        self.assertGreaterEqual(c["tcp"]["bytes_out"], 100_000_000)
        self.assertGreaterEqual(c["tcp"]["bytes_in"], 120_000_000)

    def test_linux_sees_options_negotiated(self):
        self.serve()
        # A connection that has echoed a byte is established: look at it
        # from the Linux side while it is still open.
        script = (
            "import socket, subprocess\n"
            f"s = socket.create_connection(('{UINET_IP}', 7), timeout=10)\n"
            "s.sendall(b'x')\n"
            "assert s.recv(1) == b'x'\n"
            f"print(subprocess.run(['ss', '-tin', 'dst', '{UINET_IP}'], capture_output=True, text=True).stdout)\n"
            "s.close()\n")
        info = self.ns.exec("/usr/bin/python3", "-c", script).stdout
        self.assertIn("ESTAB", info)
        # This machine's ss prints no "ts"/"sack" flags even between two
        # Linux sockets; it shows window scaling, and an MSS of 1448 is
        # 1460 less the 12 bytes of the timestamp option Linux now carries.
        self.assertRegex(info, r"wscale:\d+,\d+")
        self.assertIn("mss:1448", info)


if __name__ == "__main__":
    main()
