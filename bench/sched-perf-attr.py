#!/usr/bin/env python3
# sched-perf-attr.py PERF.DATA: who spent the CPU of a profiled `ferry
# serve` (sched-bench.sh with BENCH_WRAP="perf record -F 999 --call-graph
# dwarf,8192 -o PERF.DATA").  A sample is charged to a module when a frame
# of the module's shared object (destinations/..., providers/...) is on
# its call chain, kernel time under it included; to the CLI's progress
# output when a cli_* function is; to the engine otherwise (core, store,
# sqlite, jansson, libc and the kernel under them).  Prints the shares.
import collections
import subprocess
import sys

if len(sys.argv) != 2:
    sys.exit("usage: sched-perf-attr.py PERF.DATA")
out = subprocess.run(["perf", "script", "-i", sys.argv[1],
                      "-F", "comm,tid,period,ip,sym,dso"],
                     capture_output=True, text=True, check=True).stdout


def owner(frames):
    for sym, dso in frames:
        if "/destinations/" in dso or "ferry-destination-" in dso:
            return "destination module"
        if "/providers/" in dso or "ferry-provider-" in dso:
            return "source module"
    if any(sym.startswith("cli_") for sym, _ in frames):
        return "cli progress output"
    return "engine (core, store, sqlite, jansson, libc, kernel)"


shares = collections.Counter()
for block in out.split("\n\n"):
    lines = [l for l in block.splitlines() if l.strip()]
    if not lines:
        continue
    head = lines[0].split()
    period = int(head[2]) if len(head) > 2 and head[2].isdigit() else 1
    frames = []
    for l in lines[1:]:
        parts = l.strip().split(None, 1)
        if len(parts) == 2:
            rest = parts[1]
            sym = rest.split(" (")[0]
            dso = rest[rest.rfind("(") + 1:-1] if "(" in rest else ""
            frames.append((sym, dso))
    shares[owner(frames)] += period
total = sum(shares.values()) or 1
for who, n in shares.most_common():
    print("%-55s %5.1f%%" % (who, 100.0 * n / total))
