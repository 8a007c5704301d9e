#!/usr/bin/env python3
"""Writes the seed corpus of the pcap_passive fuzz target
(tests/fuzz/corpus/pcap_passive/): small captures of observed TCP
connections — a clean exchange with FIN, reordering with an inconsistent
overlap and a RST, a VLAN-tagged connection picked up mid-stream, and a
raw-IP (LINKTYPE_RAW) capture."""
import os
import struct

C, S = bytes([198, 18, 1, 1]), bytes([198, 18, 2, 2])
CMAC, SMAC = bytes.fromhex("02000000000c"), bytes.fromhex("020000000005")


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def tcp(src, dst, sp, dp, seq, ack, flags, data=b"", opts=b""):
    hl = 20 + len(opts)
    h = struct.pack("!HHIIBBHHH", sp, dp, seq & 0xffffffff, ack & 0xffffffff, (hl // 4) << 4, flags, 65535, 0, 0)
    seg = h + opts + data
    ph = src + dst + struct.pack("!BBH", 0, 6, len(seg))
    c = csum(ph + seg)
    seg = seg[:16] + struct.pack("!H", c) + seg[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(seg), 1, 0, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + seg


def eth(smac, dmac, ip, vlans=()):
    tags = b"".join(struct.pack("!HH", 0x8100, v) for v in vlans)
    return dmac + smac + tags + b"\x08\x00" + ip


def pcap(frames, linktype=1):
    out = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, linktype)
    for i, f in enumerate(frames):
        out += struct.pack("<IIII", 1000 + i // 10, (i % 10) * 1000, len(f), len(f)) + f
    return out


SYN, ACK, FIN, RST, PSH = 2, 16, 1, 4, 8
WS = b"\x02\x04\x05\xb4\x03\x03\x07\x00"  # MSS 1460, window scale 7, padding


def conn(vlans=(), raw=False, cisn=1000, sisn=0xfffff000):
    def c2s(seq, ack, fl, d=b"", o=b""):
        ip = tcp(C, S, 40000, 80, cisn + seq, sisn + ack, fl, d, o)
        return ip if raw else eth(CMAC, SMAC, ip, vlans)

    def s2c(seq, ack, fl, d=b"", o=b""):
        ip = tcp(S, C, 80, 40000, sisn + seq, cisn + ack, fl, d, o)
        return ip if raw else eth(SMAC, CMAC, ip, vlans)
    return c2s, s2c


def main():
    d = os.path.join(os.path.dirname(__file__), "corpus", "pcap_passive")
    os.makedirs(d, exist_ok=True)
    c2s, s2c = conn()
    req, resp = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
    clean = [c2s(0, 0, SYN, o=WS), s2c(0, 1, SYN | ACK, o=WS), c2s(1, 1, ACK), c2s(1, 1, ACK | PSH, req),
             s2c(1, 1 + len(req), ACK | PSH, resp), c2s(1 + len(req), 1 + len(resp), ACK | FIN),
             s2c(1 + len(resp), 2 + len(req), ACK | FIN), c2s(2 + len(req), 2 + len(resp), ACK)]
    messy = [c2s(0, 0, SYN, o=WS), s2c(0, 1, SYN | ACK, o=WS), c2s(11, 1, ACK, b"world!"),
             c2s(11, 1, ACK, b"WORLD!"), c2s(1, 1, ACK, b"hello, the"), s2c(100, 17, ACK, b"gap"),
             c2s(17, 1, ACK, b"", ), s2c(1, 17, RST)]
    c2v, s2v = conn(vlans=(100, 200))
    mid = [s2v(5000, 700, ACK, b"midstream response"), c2v(700, 5018, ACK, b"more request"),
           s2v(5018, 712, ACK | FIN), c2v(712, 5019, ACK | FIN)]
    c2r, s2r = conn(raw=True)
    raw = [c2r(0, 0, SYN, o=WS), s2r(0, 1, SYN | ACK, o=WS), c2r(1, 1, ACK, b"raw ip capture"), c2r(15, 1, RST)]
    for name, frames, lt in (("clean.pcap", clean, 1), ("messy.pcap", messy, 1), ("midstream_vlan.pcap", mid, 1),
                             ("raw_ip.pcap", raw, 101)):
        with open(os.path.join(d, name), "wb") as f:
            f.write(pcap(frames, lt))


if __name__ == "__main__":
    main()
