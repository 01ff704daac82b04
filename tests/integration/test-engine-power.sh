#!/bin/sh
# Cold migration's power steps and parallel disks, null provider (odd VMs
# start powered on; its power state lives in its state directory, so this
# test reads it back through `ferry inventory`):
#  1. a powered-on and a powered-off VM of three disks each: the sources
#     end powered off, restorePowerState records what they were, the
#     targets run (runStrategy) as the sources did, and each VM's three
#     disk transfers were under way together (the engine's count);
#  2. cancel mid-copy: the source, powered off for the copy, is on again;
#  3. a failed copy: the source is on again;
#  4. a source that cannot be powered off: the VM fails with the reason
#     and the source keeps running;
#  5. a destination with vm_power_on (null): it is called for a VM whose
#     source was on;
#  6. SIGKILL mid-copy after the power-off, then `ferry run`: the source's
#     state before the migration is still "On" (not the "Off" it found),
#     and the target runs.
. "$abs_top_srcdir/tests/functions.sh"
. "$abs_top_srcdir/tests/integration/engine-null-manifests.sh"
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not installed"; exit 77; }

w="$FERRY_STATE_DIR/work"
out_dir="$FERRY_STATE_DIR/local/out"
mkdir -p "$w"
engine_manifests "$w/m.yaml" 11 3 1048576 20 \
  p1=null-vm-1,null-vm-2 p2=null-vm-3 p3=null-vm-5 p4=null-vm-7 p6=null-vm-11
ferry apply -f "$w/m.yaml" >/dev/null

# power VM-NUMBER: the source's power state, as the provider reports it.
power () {
  ferry inventory refresh --provider src -n t >/dev/null
  ferry inventory vm "vm-$1" --provider src -n t -o json \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["powerState"])'
}

# vm_get MIGRATION VM EXPR: a Python expression over the VM's status "vm".
vm_get () {
  migration_json "$1" | python3 -c '
import json, sys
for vm in json.load(sys.stdin)["status"]["vms"]:
    if vm["name"] == sys.argv[1]:
        print(eval(sys.argv[2]))
' "$2" "$3"
}

[ "$(power 1)" = poweredOn ] && [ "$(power 2)" = poweredOff ] \
  || fail "the null provider's VMs do not start as documented"

# 1. Power off, record, target power, parallel disks.
out="$(ferry start p1 -n t --wait)" || fail "p1: $out"
m="$(plan_migrations p1)"
[ "$(power 1)" = poweredOff ] || fail "null-vm-1 was not powered off: $(power 1)"
[ "$(power 2)" = poweredOff ] || fail "null-vm-2 was powered on: $(power 2)"
[ "$(vm_get "$m" null-vm-1 'vm["restorePowerState"]')" = On ] || fail "null-vm-1: restorePowerState"
[ "$(vm_get "$m" null-vm-2 'vm["restorePowerState"]')" = Off ] || fail "null-vm-2: restorePowerState"
[ "$(vm_get "$m" null-vm-1 '"requested" in vm["sourcePowerOff"]')" = True ] \
  || fail "null-vm-1: the power-off was not recorded"
[ "$(vm_get "$m" null-vm-2 '"requested" in vm["sourcePowerOff"]')" = False ] \
  || fail "null-vm-2 was off: no power-off is asked"
grep -q "runStrategy: Always" "$out_dir/null-vm-1/null-vm-1.vm.yaml" || fail "null-vm-1's target does not run"
grep -q "runStrategy: Halted" "$out_dir/null-vm-2/null-vm-2.vm.yaml" || fail "null-vm-2's target runs"
for vm in null-vm-1 null-vm-2; do
  migration_json "$m" | python3 -c '
import json, sys
for vm in json.load(sys.stdin)["status"]["vms"]:
    if vm["name"] != sys.argv[1]:
        continue
    step = [s for s in vm["pipeline"] if s["name"] == "DiskTransfer"][0]
    tasks = step["tasks"]
    assert len(tasks) == 3 and all(x["done"] for x in tasks), tasks
    # the three transfers were under way together
    assert step["annotations"]["disksInParallel"] == "3", step["annotations"]
' "$vm" || fail "$vm: its disks were not copied at once"
done

# 2. Cancel mid-copy: the source comes back on.
# Under valgrind every ferry command the loop below runs takes seconds: a
# longer copy keeps the cancel inside it.
slow_size=16777216
[ -z "${FERRY_VALGRIND:-}" ] || slow_size=268435456
sed -e 's/readDelayMs: "20"}/readDelayMs: "300"}/' -e "s/diskSize: \"1048576\"/diskSize: \"$slow_size\"/" "$w/m.yaml" > "$w/slow.yaml"
ferry apply -f "$w/slow.yaml" >/dev/null
ferry start p2 -n t --wait > "$w/p2.out" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || :; rm -rf $cleanup_dirs' EXIT
i=0
while :; do
  m="$(plan_migrations p2)"
  if [ -n "$m" ] && [ "$(vm_get "$m" null-vm-3 '"completed" in vm.get("sourcePowerOff", {})' 2>/dev/null)" = True ]; then
    break
  fi
  i=$((i + 1))
  [ $i -lt 600 ] || fail "p2: the source was never powered off: $(cat "$w/p2.out")"
  sleep 0.1
done
[ "$(power 3)" = poweredOff ] || fail "null-vm-3 is not off during its copy"
ferry cancel p2 -n t >/dev/null
set +e; wait $pid; rc=$?; set -e
[ $rc -ne 0 ] || fail "p2 succeeded though canceled"
[ "$(vm_get "$m" null-vm-3 'vm["phase"]')" = Canceled ] || fail "p2: $(vm_get "$m" null-vm-3 'vm["phase"]')"
[ "$(power 3)" = poweredOn ] || fail "null-vm-3 was not powered on again after the cancel"
[ "$(vm_get "$m" null-vm-3 '"sourcePowerRestored" in vm')" = True ] || fail "p2: restore not recorded"

# 3. A failed copy: the source comes back on.
sed 's/readDelayMs: "20"}/readDelayMs: "0", failReadAt: "4096"}/' "$w/m.yaml" > "$w/fail.yaml"
ferry apply -f "$w/fail.yaml" >/dev/null
expect_fail ferry start p3 -n t --wait
m="$(plan_migrations p3)"
[ "$(vm_get "$m" null-vm-5 'vm["phase"]')" = Failed ] || fail "p3 did not fail"
expect_in "$(vm_get "$m" null-vm-5 'vm["error"]["reasons"]')" "failReadAt"
[ "$(power 5)" = poweredOn ] || fail "null-vm-5 was not powered on again after the failure"

# 4. The source cannot be powered off: the VM fails, the source still runs.
sed 's/readDelayMs: "20"}/readDelayMs: "0", failPowerOff: "true"}/' "$w/m.yaml" > "$w/nopower.yaml"
ferry apply -f "$w/nopower.yaml" >/dev/null
expect_fail ferry start p4 -n t --wait
m="$(plan_migrations p4)"
[ "$(vm_get "$m" null-vm-7 'vm["error"]["phase"]')" = DiskTransfer ] || fail "p4: error phase"
expect_in "$(vm_get "$m" null-vm-7 'vm["error"]["reasons"]')" "failPowerOff"
[ "$(power 7)" = poweredOn ] || fail "null-vm-7: $(power 7)"
[ "$(vm_get "$m" null-vm-7 'vm["restorePowerState"]')" = On ] || fail "p4: restorePowerState"
[ "$(vm_get "$m" null-vm-7 '"tasks" in [s for s in vm["pipeline"] if s["name"]=="DiskTransfer"][0]')" = False ] \
  || fail "p4 began copying the disks of a running VM"

# 5. A destination with vm_power_on: called when the source was on.
ferry apply -f "$w/m.yaml" >/dev/null
cat > "$w/nd.yaml" <<'YAML'
apiVersion: forklift.konveyor.io/v1beta1
kind: Provider
metadata: {name: nd, namespace: t}
spec: {type: "null", url: "", secret: {name: src, namespace: t}}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: NetworkMap
metadata: {name: net-nd, namespace: t}
spec:
  provider: {source: {name: src, namespace: t}, destination: {name: nd, namespace: t}}
  map:
    - source: {name: VM Network}
      destination: {type: pod}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: StorageMap
metadata: {name: storage-nd, namespace: t}
spec:
  provider: {source: {name: src, namespace: t}, destination: {name: nd, namespace: t}}
  map:
    - source: {name: datastore1}
      destination: {storageClass: local}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Plan
metadata: {name: p5, namespace: t}
spec:
  provider: {source: {name: src, namespace: t}, destination: {name: nd, namespace: t}}
  map: {network: {name: net-nd, namespace: t}, storage: {name: storage-nd, namespace: t}}
  targetNamespace: out
  skipGuestConversion: true
  vms:
    - name: null-vm-9
    - name: null-vm-8
YAML
ferry apply -f "$w/nd.yaml" >/dev/null
out="$(ferry start p5 -n t --wait)" || fail "p5: $out"
f9="$(ls "$FERRY_STATE_DIR"/providers/*/vms/out/null-vm-9.json)"
f8="$(ls "$FERRY_STATE_DIR"/providers/*/vms/out/null-vm-8.json)"
python3 - "$f9" "$f8" <<'PY' || fail "p5: vm_power_on: $(cat "$f9" "$f8")"
import json, sys
on = json.load(open(sys.argv[1]))
off = json.load(open(sys.argv[2]))
assert on.get("running") is True and on["spec"]["powerState"] == "on", on
assert "running" not in off and off["spec"]["powerState"] == "off", off
PY

# 6. Killed after the power-off, mid-copy; resumed.
if [ -z "${FERRY_VALGRIND:-}" ]; then
  set +e
  FERRY_TEST_CRASH_AT=DiskTransfer:mid ferry start p6 -n t --wait > "$w/p6.out" 2>&1
  rc=$?
  set -e
  [ $rc -eq 137 ] || fail "expected SIGKILL (137) mid-copy, got $rc: $(cat "$w/p6.out")"
  m="$(plan_migrations p6)"
  [ "$(power 11)" = poweredOff ] || fail "null-vm-11 is not off after the kill"
  out="$(ferry run "$m" -n t)" || fail "p6 resume: $out"
  [ "$(vm_get "$m" null-vm-11 'vm["restorePowerState"]')" = On ] \
    || fail "null-vm-11: the resumed run forgot the source was on"
  grep -q "runStrategy: Always" "$out_dir/null-vm-11/null-vm-11.vm.yaml" \
    || fail "null-vm-11's target does not run after the resume"
  [ "$(power 11)" = poweredOff ] || fail "null-vm-11: $(power 11)"
fi
echo ok
