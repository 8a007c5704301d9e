#!/usr/bin/env python3
"""Prints the microbenchmark figures of one or more Google Benchmark JSON
files as uinet beside its in-run reference (naming rule in bench/common.hpp):
time per operation of each, and the ratio uinet time / reference time
(below 1: uinet is faster than the reference; above 1: slower).

  report.py <bench_*.json>...
"""
import json
import sys

SCALE = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def main(files):
    rows = {}
    order = []
    for path in files:
        with open(path) as f:
            doc = json.load(f)
        for b in doc.get("benchmarks", []):
            if b.get("run_type", "iteration") != "iteration" or b.get("error_occurred"):
                continue
            parts = b["name"].split("/")
            if len(parts) < 2:
                continue
            key = (parts[0], "/".join(parts[2:]))
            if key not in rows:
                rows[key] = {}
                order.append(key)
            ns = b["real_time"] * SCALE.get(b.get("time_unit", "ns"), 1.0)
            rows[key][parts[1]] = (ns, b.get("bytes_per_second"))
    print("%-22s %-22s %12s %11s  %-18s %12s %8s" %
          ("family", "case", "uinet ns", "uinet GB/s", "reference", "ref ns", "ratio"))
    for key in order:
        impls = rows[key]
        if "uinet" not in impls:
            continue
        u_ns, u_bps = impls["uinet"]
        for ref, (r_ns, _) in impls.items():
            if ref == "uinet":
                continue
            gbs = "%.2f" % (u_bps / 1e9) if u_bps else "-"
            print("%-22s %-22s %12.1f %11s  %-18s %12.1f %8.2f" %
                  (key[0], key[1] or "-", u_ns, gbs, ref, r_ns, u_ns / r_ns if r_ns else 0))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    main(sys.argv[1:])
