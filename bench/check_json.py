#!/usr/bin/env python3
"""Runs one benchmark program once, quickly, and checks that its JSON output
parses and holds what bench/report.py needs. Never judges a figure: the
only checks are on structure, completeness and byte counts (DESIGN.md:
benchmarks are programs that print figures, never timed tests).

  check_json.py gbench <bench binary> <json out file>
  check_json.py perf <uinet binary>
"""
import json
import subprocess
import sys


def fail(msg):
    print("check_json: FAIL: " + msg)
    sys.exit(1)


def check_gbench(binary, out):
    cmd = [binary, "--benchmark_min_time=0.01", "--benchmark_out=" + out,
           "--benchmark_out_format=json"]
    print("running: " + " ".join(cmd), flush=True)
    r = subprocess.run(cmd, timeout=540)
    if r.returncode != 0:
        fail("%s exited with %d" % (binary, r.returncode))
    with open(out) as f:
        doc = json.load(f)
    entries = [b for b in doc.get("benchmarks", []) if b.get("run_type", "iteration") == "iteration"]
    if not entries:
        fail("no benchmark entries in " + out)
    pairs = {}
    for b in entries:
        name = b.get("name", "")
        if b.get("error_occurred"):
            fail("%s: %s" % (name, b.get("error_message", "error")))
        for k in ("real_time", "cpu_time", "iterations", "time_unit"):
            if k not in b:
                fail("%s: no %s" % (name, k))
        parts = name.split("/")
        if len(parts) < 2:
            fail("%s: not named <family>/<impl>[/<args>]" % name)
        key = (parts[0], "/".join(parts[2:]))
        pairs.setdefault(key, set()).add(parts[1])
    for (family, args), impls in sorted(pairs.items()):
        if "uinet" not in impls or len(impls) < 2:
            fail("%s/%s: needs a uinet entry and a reference, has %s" % (family, args, sorted(impls)))
    print("check_json: ok, %d entries in %d uinet/reference pairs" % (len(entries), len(pairs)))


def check_perf(binary):
    cmd = [binary, "perf", "--quick", "--json", "--timeout", "120"]
    print("running: " + " ".join(cmd), flush=True)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, timeout=540, text=True)
    print(r.stdout)
    try:
        doc = json.loads(r.stdout)
    except ValueError as e:
        fail("output is not JSON: %s" % e)
    cfg = doc.get("config", {})
    for side in ("uinet", "kernel"):
        s = doc.get(side)
        if not isinstance(s, dict):
            fail("no %s entry" % side)
        bulk, rr = s.get("bulk"), s.get("rr")
        if not bulk or not rr:
            fail("%s: missing bulk or rr" % side)
        if not bulk.get("ok") or not rr.get("ok"):
            fail("%s: a test failed: %s %s" % (side, bulk.get("error"), rr.get("error")))
        if bulk.get("bytes") != cfg.get("bytes"):
            fail("%s: bulk moved %s bytes, not %s" % (side, bulk.get("bytes"), cfg.get("bytes")))
        if rr.get("transactions") != cfg.get("rr_count"):
            fail("%s: %s transactions, not %s" % (side, rr.get("transactions"), cfg.get("rr_count")))
        for k in ("gbit_per_s", "seconds", "cpu_user_s", "cpu_sys_s", "bytes_per_cpu_s"):
            if not isinstance(bulk.get(k), (int, float)):
                fail("%s bulk: %s is not a number" % (side, k))
        for k in ("per_s", "mean_us", "p99_us", "cpu_us_per_transaction"):
            if not isinstance(rr.get(k), (int, float)):
                fail("%s rr: %s is not a number" % (side, k))
    ratios = doc.get("ratio_uinet_over_kernel", {})
    for k in ("bulk_gbit_per_s", "bulk_bytes_per_cpu_s", "rr_per_s", "rr_mean_us"):
        if not isinstance(ratios.get(k), (int, float)):
            fail("ratio %s missing" % k)
    if r.returncode != 0 or doc.get("ok") is not True:
        fail("uinet perf reported failure (exit %d)" % r.returncode)
    print("check_json: ok")


def main(argv):
    if len(argv) == 4 and argv[1] == "gbench":
        check_gbench(argv[2], argv[3])
    elif len(argv) == 3 and argv[1] == "perf":
        check_perf(argv[2])
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv)
