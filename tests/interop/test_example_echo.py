"""The README's 20-line echo server (examples/echo_server.cpp) works against
Linux: bytes sent through socat come back unchanged."""
import hashlib
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import UINET_IP, InteropCase, main, run  # noqa: E402

EXAMPLE = os.environ.get("UINET_EXAMPLE_ECHO", "")


class ExampleEcho(InteropCase):
    tag = "exm"

    def setUp(self):
        super().setUp()
        # The example opens "tap0": this namespace's tap gets that name.
        self.ns.exec("ip", "link", "del", self.ns.tap)
        self.ns.tap = "tap0"
        self.ns.add_tap()

    def test_echo(self):
        proc = self.ns.popen(EXAMPLE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.addCleanup(lambda: (proc.kill(), proc.wait(timeout=10)))
        data = os.urandom(200_000)
        # socat retries the connection until the server is up (bounded).
        r = self.ns.exec("socat", "-t", "5", "-T", "20", "-", f"TCP:{UINET_IP}:7,retry=50,interval=0.1",
                         input=data, text=False)
        self.assertEqual(hashlib.sha256(r.stdout).hexdigest(), hashlib.sha256(data).hexdigest())


if __name__ == "__main__":
    main()
