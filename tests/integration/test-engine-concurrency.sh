#!/bin/sh
# The engine's scheduler: two plans on one source host (the null provider's
# host-1), run together by one `ferry serve --once` with
# FERRY_MAX_VM_INFLIGHT=2, never have more than 2 disks in flight.  Checked
# from each disk's copy times (copyStarted/copyEnded of its DiskTransfer
# task, microseconds) in the Migrations' status: a disk's slot is taken
# when its VM is admitted and given back when that disk's copy ends (not
# when its VM ends), so the copy intervals never overlap more than 2 deep.
. "$abs_top_srcdir/tests/functions.sh"
. "$abs_top_srcdir/tests/integration/engine-null-manifests.sh"
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not installed"; exit 77; }

w="$FERRY_STATE_DIR/work"
mkdir -p "$w"
# 8 VMs of 1 disk (1 MiB, 5 ms per read), two plans of 4.
engine_manifests "$w/m.yaml" 8 1 1048576 5 \
  a=null-vm-1,null-vm-2,null-vm-3,null-vm-4 b=null-vm-5,null-vm-6,null-vm-7,null-vm-8
ferry apply -f "$w/m.yaml" >/dev/null
ferry start a -n t >/dev/null
ferry start b -n t >/dev/null

out="$(FERRY_MAX_VM_INFLIGHT=2 ferry serve --once)" || fail "serve failed: $out"
expect_in "$out" "null-vm-1: VirtualMachineCreation Completed"
expect_in "$out" "null-vm-8: VirtualMachineCreation Completed"

for p in a b; do
  m="$(plan_migrations $p)"
  [ -n "$m" ] || fail "plan $p has no migration"
  migration_json "$m" > "$w/$p.json"
done

python3 - "$w/a.json" "$w/b.json" <<'PY' || fail "scheduling check failed"
import json, sys
from datetime import datetime
def t(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")
ev = []
for f in sys.argv[1:]:
    m = json.load(open(f))
    assert m["status"]["phase"] == "Succeeded", (f, m["status"]["phase"])
    assert len(m["status"]["vms"]) == 4
    for vm in m["status"]["vms"]:
        assert vm["phase"] == "Completed", vm["name"]
        tasks = [task for step in vm["pipeline"] if step["name"] == "DiskTransfer"
                 for task in step["tasks"]]
        assert len(tasks) == len(vm["volumes"]), vm["name"]
        for task in tasks:
            ev.append((t(task["copyStarted"]), 1, 1, vm["name"]))
            ev.append((t(task["copyEnded"]), 0, -1, vm["name"]))
ev.sort()                # at equal times a completion (0) comes before a start (1)
inflight = peak = 0
for when, kind, d, name in ev:
    inflight += d
    peak = max(peak, inflight)
    if inflight > 2:
        sys.exit("%d disks in flight at %s (%s started)" % (inflight, when, name))
print("peak disks in flight:", peak)
# Both plans had work at once and the limit was reached: 2 ran together.
if peak != 2:
    sys.exit("peak %d: the two plans never ran 2 VMs together" % peak)
PY

