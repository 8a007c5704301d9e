"""`uinet fetch` against scripted HTTP servers (socat running a shell
script): a body delimited by the end of the connection is read whole; a
Content-Length body cut short fails; a server that keeps the connection
open after the last response does not fail a finished fetch."""
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import KERNEL_IP, InteropCase, main  # noqa: E402


class FetchFraming(InteropCase):
    tag = "frm"

    def server(self, port, script, *socat_opts):
        """socat answers one connection with `script`'s output (after
        reading the request head)."""
        path = os.path.join(self.tmp.name, f"srv{port}.sh")
        with open(path, "w") as f:
            f.write("#!/bin/sh\nwhile IFS= read -r line; do [ \"$line\" = \"$(printf '\\r')\" ] && break; done\n")
            f.write(script)
        os.chmod(path, 0o755)
        proc = self.start("socat", "-T", "30", *socat_opts, f"TCP-LISTEN:{port},reuseaddr", f"EXEC:{path}")
        self.wait_listening(port, proc)
        return proc

    def test_close_delimited_body(self):
        body = "x" * 100_000
        self.server(8081, "printf 'HTTP/1.1 200 OK\\r\\nConnection: close\\r\\n\\r\\n'\n"
                          "yes x | tr -d '\\n' | head -c 100000\n")
        rc, j, err = self.client("fetch", f"http://{KERNEL_IP}:8081/")
        self.assertEqual(rc, 0, err)
        self.assertEqual(j["bytes"], len(body))
        self.assertEqual(j["sha256"], hashlib.sha256(body.encode()).hexdigest())
        self.check_counters(j, "close-delimited body")

    def test_truncated_body_fails(self):
        self.server(8082, "printf 'HTTP/1.1 200 OK\\r\\nContent-Length: 1000\\r\\n\\r\\nonly this'\n")
        rc, j, err = self.client("fetch", f"http://{KERNEL_IP}:8082/")
        self.assertEqual(rc, 1)
        self.assertIn("closed inside response", err)
        self.assertFalse(j["ok"])
        self.check_counters(j, "truncated body")

    def test_server_keeping_the_connection_open(self):
        # -t 20: socat keeps the connection for 20 s after uinet's FIN.
        self.server(8083, "printf 'HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nhi'\nsleep 20\n", "-t", "20")
        rc, j, err = self.client("fetch", f"http://{KERNEL_IP}:8083/", "--timeout", "15")
        self.assertEqual(rc, 0, err)
        self.assertEqual(j["bytes"], 2)
        self.assertLess(j["seconds"], 15)  # ended by the 2 s linger, not by --timeout
        # uinet's side is left in FIN-WAIT-2 when the tool exits: no counter check here.


if __name__ == "__main__":
    main()
