#!/usr/bin/env python3
"""Runs one benchmark program once, quickly, and checks that its JSON output
parses and holds what bench/report.py needs. Never judges a figure: the
only checks are on structure, completeness and byte counts (DESIGN.md:
benchmarks are programs that print figures, never timed tests).

  check_json.py gbench <bench binary> <json out file>
  check_json.py perf <uinet binary> [mem|tap]
  check_json.py simloss <sim_loss binary>
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


PERF_WORKLOADS = ("bulk_1", "bulk_1_efficiency", "bulk_8", "bulk_8_efficiency",
                   "rr", "rr_p50_us", "rr_p99_us", "rr_cpu_us",
                   "crr", "crr_p50_us", "crr_p99_us", "crr_cpu_us")


def leftover_namespaces(pid):
    """Namespaces of the perf process `pid` still present (it must remove
    every one it made, even when it fails)."""
    r = subprocess.run(["ip", "netns", "list"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    if r.returncode != 0:
        return []
    return [l.split()[0] for l in r.stdout.splitlines() if l.startswith("uinet-perf-%d-" % pid)]


def check_perf(binary, uinet="mem"):
    """`uinet perf --quick --json`: JSON Lines, one object per figure; every
    uinet figure beside its kernel figure with the ratio, byte and
    transaction counts exact on both sides."""
    cmd = [binary, "perf", "--quick", "--json", "--timeout", "120", "--uinet", uinet]
    print("running: " + " ".join(cmd), flush=True)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        out, _ = proc.communicate(timeout=540)
    except subprocess.TimeoutExpired:
        proc.terminate()  # it removes its namespaces on SIGTERM
        proc.communicate(timeout=30)
        fail("uinet perf did not finish within 540 s")
    print(out)
    left = leftover_namespaces(proc.pid)
    if left:
        fail("namespaces left behind: %s" % left)
    lines = [l for l in out.splitlines() if l.strip()]
    if not lines:
        fail("no output")
    seen = {}
    for n, line in enumerate(lines, 1):
        try:
            o = json.loads(line)
        except ValueError as e:
            fail("line %d is not JSON: %s" % (n, e))
        if not isinstance(o, dict):
            fail("line %d is not an object" % n)
        w = o.get("workload")
        if w in seen:
            fail("%s reported twice" % w)
        seen[w] = o
        if not o.get("ok"):
            fail("%s failed: %s" % (w, o.get("error")))
        if o.get("backend") != "uinet-" + uinet:
            fail("%s: backend %r, expected uinet-%s" % (w, o.get("backend"), uinet))
        if o.get("kernel_backend") not in ("kernel-veth", "kernel-loopback"):
            fail("%s: kernel_backend %r" % (w, o.get("kernel_backend")))
        if uinet == "tap" and o.get("kernel_backend") != "kernel-veth":
            fail("%s: a TAP run compares with kernel-veth, not %r" % (w, o.get("kernel_backend")))
        for k in ("value", "kernel_value", "ratio"):
            if not isinstance(o.get(k), (int, float)) or isinstance(o.get(k), bool):
                fail("%s: %s is not a number: %r" % (w, k, o.get(k)))
        if not isinstance(o.get("unit"), str) or not o["unit"]:
            fail("%s: no unit" % w)
        if o["kernel_value"] > 0 and abs(o["ratio"] - o["value"] / o["kernel_value"]) > 1e-4 * max(1.0, o["ratio"]):
            fail("%s: ratio %s is not value/kernel_value" % (w, o["ratio"]))
        if "expected_bytes" in o:
            for k in ("bytes", "kernel_bytes"):
                if o.get(k) != o["expected_bytes"]:
                    fail("%s: %s = %s, expected %s" % (w, k, o.get(k), o["expected_bytes"]))
        elif "expected_transactions" in o:
            for k in ("transactions", "kernel_transactions"):
                if o.get(k) != o["expected_transactions"]:
                    fail("%s: %s = %s, expected %s" % (w, k, o.get(k), o["expected_transactions"]))
        else:
            fail("%s: no byte or transaction count" % w)
    expected = PERF_WORKLOADS + (("bulk_rx_1", "bulk_rx_1_efficiency") if uinet == "tap" else ())
    missing = [w for w in expected if w not in seen]
    if missing:
        fail("missing workloads: %s" % missing)
    if proc.returncode != 0:
        fail("uinet perf exited with %d" % proc.returncode)
    print("check_json: ok, %d figures, uinet-%s beside %s" % (len(seen), uinet, seen["bulk_1"]["kernel_backend"]))


SIMLOSS_CONFIGS = ("NewReno", "NewReno+SACK", "CUBIC+SACK")


def check_simloss(binary):
    """`sim_loss --quick --json`: JSON Lines, one goodput figure per (loss
    model, configuration) beside its Mathis bound, and one tail-loss
    recovery time per (configuration, segments dropped); every run ok."""
    cmd = [binary, "--quick", "--json"]
    print("running: " + " ".join(cmd), flush=True)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, timeout=540)
    print(r.stdout)
    goodput, tail = {}, {}
    for n, line in enumerate([l for l in r.stdout.splitlines() if l.strip()], 1):
        try:
            o = json.loads(line)
        except ValueError as e:
            fail("line %d is not JSON: %s" % (n, e))
        if not o.get("ok"):
            fail("line %d: a run failed: %s" % (n, line))
        if o.get("kind") == "goodput":
            for k in ("goodput_mbit_s", "mathis_mbit_s", "loss_rate", "retransmits", "rtos"):
                if not isinstance(o.get(k), (int, float)):
                    fail("line %d: %s is not a number" % (n, k))
            if o["goodput_mbit_s"] <= 0:
                fail("line %d: nothing delivered" % n)
            goodput.setdefault(o["loss"], set()).add(o["config"])
        elif o.get("kind") == "tail":
            if not isinstance(o.get("recovery_ms"), (int, float)) or o["recovery_ms"] <= 0:  # > 0 even for k = 0
                fail("line %d: no recovery time" % n)
            tail.setdefault(o["config"], set()).add(o.get("dropped_segments"))
        else:
            fail("line %d: unknown kind %r" % (n, o.get("kind")))
    if len(goodput) < 4:
        fail("goodput for %d loss models, expected 4" % len(goodput))
    for loss, configs in goodput.items():
        missing = [c for c in SIMLOSS_CONFIGS if c not in configs]
        if missing:
            fail("%s: no figure for %s" % (loss, missing))
    for c in SIMLOSS_CONFIGS:
        if tail.get(c) != {0, 1, 2, 3}:
            fail("tail loss of %s: segments %s, expected 0 to 3" % (c, sorted(tail.get(c, ()))))
    if r.returncode != 0:
        fail("sim_loss exited with %d" % r.returncode)
    print("check_json: ok, %d loss models, %d configurations" % (len(goodput), len(tail)))


def main(argv):
    if len(argv) == 4 and argv[1] == "gbench":
        check_gbench(argv[2], argv[3])
    elif len(argv) in (3, 4) and argv[1] == "perf":
        check_perf(argv[2], argv[3] if len(argv) == 4 else "mem")
    elif len(argv) == 3 and argv[1] == "simloss":
        check_simloss(argv[2])
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv)
