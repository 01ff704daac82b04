#!/bin/bash
# sched-bench.sh: the engine's scheduling simulation (issue 5's Proof).
#
#   bench/sched-bench.sh [BUILDDIR]
#
# The null provider serves BENCH_VMS VMs (default 5000) spread over
# BENCH_HOSTS hosts (8), each with 1 to 3 disks; each disk's copy takes a
# time drawn from [BENCH_DISK_MS_MIN, BENCH_DISK_MS_MAX] ms (default
# 400-1600) with seed BENCH_SEED (1), slept in the provider's read at
# offset 0 of a tiny disk (BENCH_DISK_SIZE, 16 KiB) written to the local
# destination.  FERRY_MAX_VM_INFLIGHT is BENCH_LIMIT (20).  The same VMs
# are migrated twice, each time in a fresh state directory: as one plan,
# and split over BENCH_PLANS plans (10) run together by one `ferry serve`.
# (BENCH_MODES="one split" chooses.)  BENCH_WRAP is a command put in
# front of `ferry serve` (a profiler: BENCH_WRAP="perf record -g -o
# /tmp/perf.data"); its CPU is then counted too.  BENCH_DEST=local (the
# default: the local destination writes volume files and VM manifests,
# with fsyncs) or null (the null destination: volumes are counted, not
# written; each VM and volume leaves a small JSON record), to tell the
# engine's own CPU from the destination's.
#
# For each run it prints: the makespan (first VM started to last VM
# completed, from the stored Migration status), the wall time of `ferry
# serve --once`, the engine's CPU (user+sys of the ferry process, from
# getrusage of the child) in total and per VM, and the peak disks in
# flight per host.  The bounds come from the same draws (each inventory
# disk carries its copyTimeMs):
#   - per-host work bound: max over hosts of (sum of the host's disk copy
#     times / BENCH_LIMIT) -- the "total work / total slots" of the issue,
#     taken per host because a VM only runs on its own host's slots;
#   - the critical path: the longest single disk;
#   - the slot-holding bound: what the bound would be if a VM held its
#     cost (disks) until its last disk is copied (disks x longest disk;
#     per host, the sum of that / BENCH_LIMIT).  Since a disk's slot is
#     given back when that disk's copy ends, the work bound is the one to
#     compare with; this one is kept for comparison with older figures.
# The peak disks in flight per host counts the disks' copy intervals
# (copyStarted/copyEnded of the DiskTransfer tasks).
# Everything in this process tree is real (store, engine, scheduler, local
# destination writing files); only the source's transfer time is simulated.
set -euo pipefail

builddir=${1:-$(cd "$(dirname "$0")/.." && pwd)}
# null_maps: the null provider's maps, as the engine tests write them.
. "$(cd "$(dirname "$0")/.." && pwd)/tests/integration/engine-null-manifests.sh"
# The build tree's library and modules (its run wrapper), without malloc
# perturbation (it would be counted as engine CPU).
if [ -z "${FERRY_BUILDDIR:-}" ]; then
  MALLOC_PERTURB_=0 exec "$builddir/run" "$0" "$builddir"
fi
ferry="$builddir/cli/.libs/ferry"
[ -x "$ferry" ] || ferry="$builddir/cli/ferry"
[ -x "$ferry" ] || { echo "$0: $ferry not built" >&2; exit 77; }
command -v python3 >/dev/null || { echo "$0: python3 is missing" >&2; exit 77; }

vms=${BENCH_VMS:-5000}
hosts=${BENCH_HOSTS:-8}
limit=${BENCH_LIMIT:-20}
plans=${BENCH_PLANS:-10}
dmin=${BENCH_DISK_MS_MIN:-400}
dmax=${BENCH_DISK_MS_MAX:-1600}
seed=${BENCH_SEED:-1}
size=${BENCH_DISK_SIZE:-16384}
modes=${BENCH_MODES:-one split}
export BENCH_WRAP=${BENCH_WRAP:-}
dest=${BENCH_DEST:-local}
case $dest in
  local) dest_name=host ;;
  null) dest_name=dst ;;
  *) echo "$0: BENCH_DEST is local or null, not '$dest'" >&2; exit 1 ;;
esac
export FERRY_MAX_VM_INFLIGHT=$limit

# manifests FILE NPLANS: the provider, maps and NPLANS plans over the VMs
# (plan k takes a contiguous range, so every plan spans every host).
manifests () {
  local file=$1 np=$2
  cat > "$file" <<YAML
apiVersion: v1
kind: Secret
metadata: {name: src, namespace: b}
stringData: {user: none}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Provider
metadata: {name: src, namespace: b}
spec:
  type: "null"
  url: "null://"
  secret: {name: src, namespace: b}
  settings: {vms: "$vms", disksPerVm: "1", disksPerVmMax: "3", diskSize: "$size",
             hosts: "$hosts", diskTimeMsMin: "$dmin", diskTimeMsMax: "$dmax",
             seed: "$seed"}
$([ "$dest" = null ] && printf '%s\n' "---" \
  "apiVersion: forklift.konveyor.io/v1beta1" "kind: Provider" \
  "metadata: {name: dst, namespace: b}" \
  "spec: {type: \"null\", url: \"null://\", secret: {name: src, namespace: b}}")
YAML
  null_maps b "$dest_name" >> "$file"
  python3 - "$np" "$vms" "$dest_name" >> "$file" <<'PY'
import sys
np, n, dest = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
per = (n + np - 1) // np
for k in range(np):
    print("---")
    print("apiVersion: forklift.konveyor.io/v1beta1\nkind: Plan")
    print("metadata: {name: p%d, namespace: b}" % k)
    print("spec:")
    print("  provider: {source: {name: src, namespace: b}, destination: {name: %s, namespace: b}}" % dest)
    print("  map: {network: {name: net, namespace: b}, storage: {name: storage, namespace: b}}")
    print("  targetNamespace: out\n  skipGuestConversion: true\n  vms:")
    for i in range(k * per + 1, min(n, (k + 1) * per) + 1):
        print("    - name: null-vm-%d" % i)
PY
}

results=()
for mode in $modes; do
  np=1
  [ "$mode" = split ] && np=$plans
  state=$(mktemp -d "${TMPDIR:-/tmp}/ferry-sched-bench.XXXXXX")
  export FERRY_STATE_DIR="$state"
  manifests "$state/m.yaml" "$np"
  t0=$(date +%s.%N)
  "$ferry" apply -f "$state/m.yaml" >/dev/null
  "$ferry" inventory refresh --provider src -n b >/dev/null
  for k in $(seq 0 $((np - 1))); do
    "$ferry" start "p$k" -n b >/dev/null
  done
  t1=$(date +%s.%N)
  "$ferry" inventory vms --provider src -n b -o json > "$state/vms.json"
  # The run: ferry serve --once executes every Migration; its CPU time is
  # the child's rusage.
  python3 - "$ferry" "$state" <<'PY'
import json, os, resource, shlex, subprocess, sys, time
ferry, state = sys.argv[1], sys.argv[2]
wrap = shlex.split(os.environ.get("BENCH_WRAP", ""))
before = resource.getrusage(resource.RUSAGE_CHILDREN)
load0 = float(open("/proc/loadavg").read().split()[0])
t = time.monotonic()
with open(state + "/events.json", "w") as out:
    r = subprocess.run(wrap + [ferry, "serve", "--once", "-o", "json"], stdout=out,
                       stderr=open(state + "/serve.err", "w"))
wall = time.monotonic() - t
after = resource.getrusage(resource.RUSAGE_CHILDREN)
load1 = float(open("/proc/loadavg").read().split()[0])
json.dump({"rc": r.returncode, "wall": wall, "load": [load0, load1],
           "user": after.ru_utime - before.ru_utime,
           "sys": after.ru_stime - before.ru_stime,
           "maxrss_kb": after.ru_maxrss}, open(state + "/run.json", "w"))
PY
  "$ferry" get migrations -n b -o json > "$state/migrations.json"
  python3 - "$state" "$mode" "$np" "$limit" "$(python3 -c "print($t1 - $t0)")" <<'PY'
import json, os, sys
from collections import defaultdict
from datetime import datetime
state, mode, np, limit, setup = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
run = json.load(open(state + "/run.json"))
def items(f):
    d = json.load(open(f))
    return d.get("items", d) if isinstance(d, dict) else d
vms = {v["name"]: v for v in items(state + "/vms.json")}
def t(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
work = defaultdict(float); hold = defaultdict(float); longest = 0.0; ndisks = 0
for v in vms.values():
    times = [d["copyTimeMs"] / 1000.0 for d in v["disks"]]
    work[v["host"]] += sum(times)
    hold[v["host"]] += len(times) * max(times)
    longest = max(longest, max(times))
    ndisks += len(times)
lb_work = max(w / limit for w in work.values())
lb_hold = max(h / limit for h in hold.values())
migs = items(state + "/migrations.json")
starts, ends, ev = [], [], defaultdict(list)
phases = defaultdict(int)
for m in migs:
    for v in m["status"].get("vms", []):
        phases[v["phase"]] += 1
        if "started" in v and "completed" in v:
            s, e = t(v["started"]), t(v["completed"])
            starts.append(s); ends.append(e)
            host = vms[v["name"]]["host"]
            # A disk holds its slot until its own copy ends: count copies.
            for step in v.get("pipeline", []):
                if step["name"] == "DiskTransfer":
                    for task in step.get("tasks", []):
                        if "copyStarted" in task and "copyEnded" in task:
                            ev[host].append((t(task["copyStarted"]), 1, 1))
                            ev[host].append((t(task["copyEnded"]), 0, -1))
peak = 0
for host, l in ev.items():
    l.sort(); cur = 0
    for _, _, d in l:
        cur += d; peak = max(peak, cur)
# The group commit's batches, from the engine's last log line about them.
import glob, re
rows = commits = 0
for f in glob.glob(state + "/logs/migration/*/*.log"):
    for l in open(f):
        m = re.search(r"VM status rows committed by this process so far: (\d+) in (\d+) transactions", l)
        if m and int(m.group(1)) > rows:
            rows, commits = int(m.group(1)), int(m.group(2))
makespan = max(ends) - min(starts)
cpu = run["user"] + run["sys"]
n = len(vms)
res = {"mode": mode, "plans": np, "vms": n, "disks": ndisks, "rc": run["rc"],
       "dest": os.environ.get("BENCH_DEST") or "local", "load": run["load"],
       "phases": dict(phases), "makespan_s": round(makespan, 2),
       "serve_wall_s": round(run["wall"], 2), "setup_s": round(setup, 2),
       "lb_work_s": round(lb_work, 2), "lb_hold_s": round(lb_hold, 2),
       "critical_path_s": round(longest, 2),
       "makespan_over_lb_work": round(makespan / lb_work, 3),
       "makespan_over_lb_hold": round(makespan / lb_hold, 3),
       "cpu_user_s": round(run["user"], 2), "cpu_sys_s": round(run["sys"], 2),
       "cpu_ms_per_vm": round(1000 * cpu / n, 2), "maxrss_mb": run["maxrss_kb"] // 1024,
       "peak_disks_in_flight_per_host": peak,
       "vm_rows": rows, "vm_row_commits": commits,
       "rows_per_commit": round(rows / commits, 1) if commits else None}
print(json.dumps(res))
json.dump(res, open(state + "/result.json", "w"))
PY
  results+=("$state/result.json")
done

python3 - "${results[@]}" <<'PY'
import json, sys
rs = [json.load(open(f)) for f in sys.argv[1:]]
print()
print("%-6s %5s %6s %10s %10s %10s %9s %9s %8s %10s %7s %9s" % ("mode", "plans", "VMs", "makespan", "lb(work)", "lb(hold)", "mk/lbw", "mk/lbh", "crit", "CPU ms/VM", "RSS MB", "rows/txn"))
for r in rs:
    print("%-6s %5d %6d %9.1fs %9.1fs %9.1fs %9.3f %9.3f %7.2fs %10.2f %7d %9s" % (
        r["mode"], r["plans"], r["vms"], r["makespan_s"], r["lb_work_s"], r["lb_hold_s"],
        r["makespan_over_lb_work"], r["makespan_over_lb_hold"], r["critical_path_s"], r["cpu_ms_per_vm"],
        r["maxrss_mb"], r["rows_per_commit"]))
by = {r["mode"]: r for r in rs}
if "one" in by and "split" in by:
    print("one plan / split plans makespan: %.3f" % (by["one"]["makespan_s"] / by["split"]["makespan_s"]))
PY
echo "state directories kept for inspection: ${results[*]%/result.json}"
