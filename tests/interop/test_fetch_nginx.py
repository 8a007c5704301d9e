"""`uinet fetch` against nginx in the namespace: a 100 MB download (SHA-256
of the body and of the file written), small requests on one keep-alive
connection (nginx's log shows one connection), a chunked response, an
upload with PUT, and a 404 that fails cleanly. uinet's own counters must
show the bytes and no connection left but TIME-WAIT."""
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import KERNEL_IP, InteropCase, file_sha, main, nginx_conf  # noqa: E402



def sha(data):
    return hashlib.sha256(data).hexdigest()


class FetchNginx(InteropCase):
    tag = "ngx"

    def setUp(self):
        super().setUp()
        d = self.tmp.name
        for sub in ("www", "www/up", "tmp"):
            os.makedirs(os.path.join(d, sub))
        self.small = b"uinet fetch says hello to nginx\n"
        self.write("www/small.txt", self.small)
        self.medium = os.urandom(1_000_000)
        self.write("www/medium.bin", self.medium)
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write(nginx_conf(d, f"{KERNEL_IP}:80", "$connection $connection_requests $request_method $uri $status $body_bytes_sent"))
        # nginx runs as its worker user (www-data) when started as root:
        # it must be able to read the files and write the upload folder.
        os.chmod(d, 0o755)
        os.chmod(os.path.join(d, "www", "up"), 0o777)
        os.chmod(os.path.join(d, "tmp"), 0o777)
        self.nginx = self.start("nginx", "-c", conf, "-e", os.path.join(d, "error.log"), "-p", d)
        self.wait_listening(80, self.nginx)
        self.url = f"http://{KERNEL_IP}"

    def tearDown(self):
        # Stopped by its PID (SIGQUIT: graceful shutdown).
        if self.nginx.poll() is None:
            self.nginx.send_signal(3)
            self.nginx.wait(timeout=20)

    def write(self, rel, data):
        with open(os.path.join(self.tmp.name, rel), "wb") as f:
            f.write(data)

    def access_log(self):
        with open(os.path.join(self.tmp.name, "access.log")) as f:
            return [line.split() for line in f if line.strip()]

    def test_download_100mb(self):
        data = os.urandom(100_000_000)
        self.write("www/big.bin", data)
        out = os.path.join(self.tmp.name, "got.bin")
        rc, j, err = self.client("fetch", f"{self.url}/big.bin", "--output", out)
        self.assertEqual(rc, 0, err)
        self.assertTrue(j["ok"])
        self.assertEqual(j["status"], 200)
        self.assertEqual(j["bytes"], len(data))
        self.assertEqual(j["sha256"], sha(data))
        self.assertEqual(file_sha(out), sha(data))
        tcp = self.check_counters(j, "100 MB from nginx")
        self.assertEqual(tcp["active_opens"], 1)
        self.assertGreaterEqual(tcp["bytes_in"], len(data))

    def test_keepalive_requests_on_one_connection(self):
        n = 20
        rc, j, err = self.client("fetch", f"{self.url}/small.txt", "--count", str(n))
        self.assertEqual(rc, 0, err)
        self.assertEqual(j["responses"], n)
        self.assertEqual([r["status"] for r in j["results"]], [200] * n)
        self.assertEqual({r["sha256"] for r in j["results"]}, {sha(self.small)})
        self.assertEqual(j["bytes"], n * len(self.small))
        tcp = self.check_counters(j, f"{n} keep-alive requests")
        self.assertEqual(tcp["active_opens"], 1)
        # nginx saw one connection carrying requests 1..n.
        log = self.access_log()
        self.assertEqual(len({line[0] for line in log}), 1, log)
        self.assertEqual([int(line[1]) for line in log], list(range(1, n + 1)))

    def test_chunked_response(self):
        rc, j, err = self.client("fetch", f"{self.url}/chunked/medium.bin", "--count", "2")
        self.assertEqual(rc, 0, err)
        for r in j["results"]:
            self.assertTrue(r["chunked"], r)
            self.assertEqual(r["bytes"], len(self.medium))
            self.assertEqual(r["sha256"], sha(self.medium))
        self.check_counters(j, "chunked 1 MB x 2")

    def test_put_file_then_get_it_back(self):
        data = os.urandom(20_000_000)
        self.write("upload.bin", data)
        src = os.path.join(self.tmp.name, "upload.bin")
        rc, j, err = self.client("fetch", f"{self.url}/up/u.bin", "--put-file", src)
        self.assertEqual(rc, 0, err)
        self.assertEqual(j["status"], 201)
        self.assertEqual(j["sent_bytes"], len(data))
        self.assertEqual(j["sent_sha256"], sha(data))
        self.assertEqual(file_sha(os.path.join(self.tmp.name, "www", "up", "u.bin")), sha(data))
        tcp = self.check_counters(j, "PUT 20 MB to nginx")
        self.assertGreaterEqual(tcp["bytes_out"], len(data))
        rc, j, err = self.client("fetch", f"{self.url}/up/u.bin")
        self.assertEqual(rc, 0, err)
        self.assertEqual(j["sha256"], sha(data))

    def test_not_found_fails_cleanly(self):
        rc, j, err = self.client("fetch", f"{self.url}/no-such-file")
        self.assertEqual(rc, 1)
        self.assertIn("404", err)
        self.assertFalse(j["ok"])
        self.assertEqual(j["status"], 404)
        self.assertEqual(j["responses"], 1)
        self.check_counters(j, "404")
        self.assertEqual(self.access_log()[-1][4], "404")


if __name__ == "__main__":
    main()
