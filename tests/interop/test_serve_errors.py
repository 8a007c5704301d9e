"""`uinet serve` refuses bad arguments with clear errors: a bad address, a
TAP device already in use, and missing privileges."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import UINET, UINET_IP, InteropCase, main  # noqa: E402


class ServeErrors(InteropCase):
    tag = "err"

    def test_bad_address(self):
        for bad in ["198.18.0.300/24", "198.18.0.2", "198.18.0.2/33", "banana", "0.0.0.0/24"]:
            r = self.ns.exec(UINET, "serve", "--tap", self.ns.tap, "--addr", bad, check=False, timeout=10)
            self.assertNotEqual(r.returncode, 0, bad)
            self.assertIn("bad address", r.stderr, bad)
        r = self.ns.exec(UINET, "serve", "--tap", self.ns.tap, "--addr", f"{UINET_IP}/24", "--gateway", "10.1.1.1",
                         check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("bad gateway", r.stderr)

    def test_missing_arguments_show_help(self):
        r = self.ns.exec(UINET, "serve", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--tap", r.stderr + r.stdout)

    def test_device_busy(self):
        first = self.serve()
        r = self.ns.exec(UINET, "serve", "--tap", self.ns.tap, "--addr", f"{UINET_IP}/24", check=False, timeout=20)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("busy", r.stderr)
        first.stop()

    def test_missing_privileges(self):
        # Drop to an unprivileged user inside the namespace.
        r = self.ns.exec("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", UINET, "serve", "--tap",
                         self.ns.tap, "--addr", f"{UINET_IP}/24", check=False, timeout=20)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("permission denied", r.stderr)


if __name__ == "__main__":
    main()
