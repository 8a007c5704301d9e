"""Linux pings uinet (small and fragmented), echoes UDP through it, and
tcpdump reads the capture uinet wrote."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import InteropCase, KERNEL_IP, UINET_IP, main, run  # noqa: E402


class ServePingUdp(InteropCase):
    tag = "png"

    def test_ping_udp_and_capture(self):
        pcap = os.path.join(self.tmp.name, "serve.pcap")
        s = self.serve("--pcap", pcap)

        small = self.ns.exec("ping", "-c", "3", "-i", "0.2", "-W", "5", UINET_IP)
        self.assertIn("3 received", small.stdout)
        # 4000-byte payloads: the kernel fragments, uinet reassembles and
        # its reply is fragmented in turn.
        big = self.ns.exec("ping", "-c", "2", "-i", "0.2", "-W", "5", "-s", "4000", UINET_IP)
        self.assertIn("2 received", big.stdout)
        self.assertRegex(big.stdout, r"4008 bytes from 198\.18\.0\.2")

        payloads = [b"hello uinet\n", bytes(range(256)) * 4]
        for data in payloads:
            r = self.ns.exec("socat", "-t", "2", "-T", "5", "-", f"UDP:{UINET_IP}:7", input=data, text=False)
            self.assertEqual(r.stdout, data)

        c = s.stop()
        net, udp = c["net"], c["udp"]
        # uinet's own counters: the answers came from uinet, not the kernel.
        self.assertGreaterEqual(net["icmp_echo_replies_sent"], 5)
        self.assertGreaterEqual(net["ip_reassembled"], 2)
        self.assertGreaterEqual(net["ip_tx_fragments"], 4)
        self.assertGreaterEqual(net["arp_replies_sent"], 1)
        self.assertEqual(udp["rx_datagrams"], len(payloads))
        self.assertEqual(udp["tx_datagrams"], len(payloads))
        self.assertEqual(net["ip_bad_checksum"], 0)

        dump = run("tcpdump", "-nn", "-r", pcap)
        replies = len(re.findall(rf"IP {re.escape(UINET_IP)} > {re.escape(KERNEL_IP)}: ICMP echo reply", dump.stdout))
        self.assertGreaterEqual(replies, 5, dump.stdout)
        self.assertIn(f"{UINET_IP}.7 > {KERNEL_IP}", dump.stdout)
        self.assertRegex(dump.stdout, r"ARP, Reply 198\.18\.0\.2 is-at")


if __name__ == "__main__":
    main()
