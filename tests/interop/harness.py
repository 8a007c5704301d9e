"""Interop harness: network namespaces, TAP devices and `uinet serve`.

Everything a test creates is named with the test's PID and removed in
cleanup(), which runs even when the test fails. Traffic stays inside the
namespace: the kernel side gets 198.18.0.1/24 on the TAP device and uinet
198.18.0.2/24; the namespace has no other interface and no route out.
"""
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import unittest

UINET = os.environ.get("UINET_BIN", "uinet")
KERNEL_IP = "198.18.0.1"
UINET_IP = "198.18.0.2"


def run(*cmd, check=True, text=True, **kw):
    return subprocess.run(list(cmd), check=check, capture_output=True, text=text, **kw)


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

    def serve(self, *extra):
        s = Serve(self.ns, *extra)
        self.addCleanup(s.kill)
        s.wait_ready()
        return s


def main():
    unittest.main(argv=[sys.argv[0], "-v"])
