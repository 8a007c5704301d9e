"""Interop harness: network namespaces, TAP devices, `uinet serve` and the
uinet clients (`uinet fetch`, `uinet tcp`) against Linux programs.

Everything a test creates is named with the test's PID and removed in
cleanup(), which runs even when the test fails. Traffic stays inside the
namespace: the kernel side gets 198.18.0.1/24 on the TAP device and uinet
198.18.0.2/24; the namespace has no other interface and no route out.
"""
import hashlib
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
import unittest

UINET = os.environ.get("UINET_BIN", "uinet")
KERNEL_IP = "198.18.0.1"
UINET_IP = "198.18.0.2"


def run(*cmd, check=True, text=True, **kw):
    return subprocess.run(list(cmd), check=check, capture_output=True, text=text, **kw)


NGINX_CONF = """
daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections {conns}; }}
http {{
    {access_log}
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    default_type application/octet-stream;
    keepalive_requests 1000;
    server {{
        listen {listen};
        root {d}/www;
        # Uploads (ngx_http_dav_module, in nginx-light).
        location /up/ {{ dav_methods PUT; client_max_body_size 0; }}
        # sub_filter drops Content-Length: responses here are chunked
        # (the marker never occurs in the files, so bodies are unchanged).
        location /chunked/ {{
            alias {d}/www/;
            sub_filter 'uinet-marker-that-never-occurs' '';
            sub_filter_types *;
        }}
    }}
}}
"""


def nginx_conf(d, listen="80", log_format=None, conns=64):
    """An nginx.conf for a test server in directory d: files under d/www,
    PUT under /up/, chunked answers under /chunked/, and, with log_format,
    an access log d/access.log in that format."""
    access = (f"log_format uinet '{log_format}';\n    access_log {d}/access.log uinet;" if log_format
              else "access_log off;")
    return NGINX_CONF.format(d=d, listen=listen, access_log=access, conns=conns)


class Namespace:
    def __init__(self, tag):
        self.name = f"uinet-{tag}-{os.getpid()}"
        self.tap = f"ut{os.getpid() % 100000}{tag[:3]}"
        run("ip", "netns", "add", self.name)
        self.exec("ip", "link", "set", "lo", "up")

    def exec(self, *cmd, check=True, timeout=60, **kw):
        return run("ip", "netns", "exec", self.name, *cmd, check=check, timeout=timeout, **kw)

    def popen(self, *cmd, **kw):
        return subprocess.Popen(["ip", "netns", "exec", self.name, *cmd], **kw)

    def add_tap(self, kernel_cidr=f"{KERNEL_IP}/24"):
        self.exec("ip", "tuntap", "add", "dev", self.tap, "mode", "tap")
        self.exec("ip", "addr", "add", kernel_cidr, "dev", self.tap)
        self.exec("ip", "link", "set", self.tap, "up")
        # No offloads: frames on the wire are what a capture shows.
        self.exec("ethtool", "-K", self.tap, "tx", "off", "tso", "off", "gso", "off", "gro", "off", check=False)

    def listening(self, port):
        """Whether a TCP socket in this namespace listens on `port`."""
        r = self.exec("ss", "-ltnH", f"sport = :{port}", check=False, timeout=10)
        return r.returncode == 0 and r.stdout.strip() != ""

    def delete(self):
        run("ip", "netns", "del", self.name, check=False)


class Serve:
    """`uinet serve` in a namespace; its stdout is read line by line."""

    def __init__(self, ns, *extra):
        self.proc = ns.popen(UINET, "serve", "--tap", ns.tap, "--addr", f"{UINET_IP}/24", *extra,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.counters = None

    def readline(self, timeout=20):
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not r:
            raise AssertionError(f"uinet serve printed nothing within {timeout}s")
        return self.proc.stdout.readline().rstrip("\n")

    def wait_ready(self):
        line = self.readline()
        if line != "ready":
            err = self.proc.stderr.read() if self.proc.poll() is not None else ""
            raise AssertionError(f"expected 'ready', got {line!r} {err}")

    def stop(self):
        """SIGTERM by PID; returns the counters JSON it prints."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        out, err = self.proc.communicate(timeout=20)
        if self.proc.returncode != 0:
            raise AssertionError(f"uinet serve exited {self.proc.returncode}: {err}")
        lines = [l for l in out.splitlines() if l.startswith("{")]
        if not lines:
            raise AssertionError(f"no counters JSON in output: {out!r} {err!r}")
        self.counters = json.loads(lines[-1])
        return self.counters

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def file_sha(path):
    """SHA-256 of a file, read in 1 MiB pieces."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def start_in(case, ns, *cmd, **kw):
    """A Linux program in namespace `ns` (`ip netns exec` execs it, so the
    PID is the program's); `case` kills it by that PID at cleanup if the
    test does not stop it. stdout is discarded and stderr piped unless kw
    says otherwise."""
    kw.setdefault("stdout", subprocess.DEVNULL)
    kw.setdefault("stderr", subprocess.PIPE)
    proc = ns.popen(*cmd, **kw)

    def kill():
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        for f in (proc.stdout, proc.stderr):
            if f:
                f.close()
    case.addCleanup(kill)
    return proc


class InteropCase(unittest.TestCase):
    """Base class: a namespace with a TAP device, removed after each test."""

    tag = "t"

    def setUp(self):
        if os.geteuid() != 0:
            self.fail("interop tests need root (CAP_NET_ADMIN) to create namespaces and TAP devices")
        self.tmp = tempfile.TemporaryDirectory(prefix="uinet-interop-")
        self.ns = Namespace(self.tag)
        self.addCleanup(self.ns.delete)
        self.addCleanup(self.tmp.cleanup)
        self.ns.add_tap()

    def path(self, name):
        """A file in the test's temporary directory."""
        return os.path.join(self.tmp.name, name)

    def serve(self, *extra):
        s = Serve(self.ns, *extra)
        self.addCleanup(s.kill)
        s.wait_ready()
        return s

    def start(self, *cmd, **kw):
        """A Linux program in the namespace (`ip netns exec` execs it, so the
        PID is the program's); killed by that PID if the test does not stop it."""
        return start_in(self, self.ns, *cmd, **kw)

    def wait_listening(self, port, proc, timeout=20):
        """Polls `ss -ltn` in the namespace until something listens on port;
        fails early if `proc` (the would-be listener) has exited."""
        end = time.monotonic() + timeout
        while not self.ns.listening(port):
            if proc.poll() is not None:
                err = proc.stderr.read() if proc.stderr else ""
                self.fail(f"{proc.args[3:]} exited {proc.returncode} before listening on {port}: {err}")
            if time.monotonic() > end:
                self.fail(f"nothing listens on port {port} after {timeout}s")
            time.sleep(0.02)

    def client(self, command, *args, timeout=120):
        """Runs `uinet <command> --tap .. --addr ..` (fetch, tcp) in the
        namespace; returns (exit code, its JSON line or None, stderr)."""
        r = self.ns.exec(UINET, command, "--tap", self.ns.tap, "--addr", f"{UINET_IP}/24", *args, check=False,
                         timeout=timeout)
        lines = [line for line in r.stdout.splitlines() if line.startswith("{")]
        return r.returncode, (json.loads(lines[-1]) if lines else None), r.stderr

    def check_counters(self, out, label):
        """uinet's own counters after a client run: prints the transfer and
        the retransmission figures (no thresholds), and checks that no
        connection is left but TIME-WAIT and that no checksum was bad."""
        tcp = out["counters"]["tcp"]
        seconds = out.get("seconds", 0)
        figures = {k: tcp[k] for k in ("segs_in", "segs_out", "retransmits", "fast_retransmits", "rto_expired",
                                       "dup_acks", "ooo_segments", "unacceptable", "connections", "time_wait_now")}
        if "mbit_s" in out:
            rate = f"{out['mbit_s']} Mbit/s"
        else:
            rate = f"{out['send_mbit_s']} Mbit/s out, {out['recv_mbit_s']} Mbit/s in"
        print(f"\n  {label}: {seconds:.3f} s, {rate}; {figures}", file=sys.stderr)
        self.assertEqual(tcp["connections"], tcp["time_wait_now"], f"{label}: a connection left open: {figures}")
        self.assertEqual(tcp["bad_checksum"], 0)
        return tcp


def main():
    unittest.main(argv=[sys.argv[0], "-v"])
