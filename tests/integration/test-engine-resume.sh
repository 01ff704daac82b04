#!/bin/sh
# Crash safety: `ferry start --wait` is killed with SIGKILL in the middle of
# a disk copy, then `ferry run` is killed right after a VM was written at
# the destination but before that was stored, then `ferry run` resumes and
# finishes.  Finished VMs are not redone (their times and files are
# unchanged), the migration succeeds, and every volume holds its source disk
# (the SHA-256 ferry recorded per disk is that of the volume file).
# The kill points are the engine's test hook FERRY_TEST_CRASH_AT (see
# core/pipeline.h); FERRY_MAX_VM_INFLIGHT=2 with 2 disks per VM makes the
# VMs run one after the other, in plan order.
. "$abs_top_srcdir/tests/functions.sh"
. "$abs_top_srcdir/tests/integration/engine-null-manifests.sh"
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not installed"; exit 77; }
command -v sha256sum >/dev/null 2>&1 || { echo "SKIP: sha256sum not installed"; exit 77; }
if [ -n "${FERRY_VALGRIND:-}" ]; then
  echo "SKIP: a process killed with SIGKILL cannot be checked by valgrind"; exit 77
fi

w="$FERRY_STATE_DIR/work"
out_dir="$FERRY_STATE_DIR/local/out"
mkdir -p "$w"
engine_manifests "$w/m.yaml" 3 2 4194304 10 r=null-vm-1,null-vm-2,null-vm-3
ferry apply -f "$w/m.yaml" >/dev/null
export FERRY_MAX_VM_INFLIGHT=2

# vm_field MIGRATION VM FIELD
vm_field () {
  migration_json "$1" | python3 -c '
import json, sys
m = json.load(sys.stdin)
for vm in m["status"]["vms"]:
    if vm["name"] == sys.argv[1]:
        print(vm.get(sys.argv[2], ""))
' "$2" "$3"
}

# 1. Killed mid-copy of null-vm-2's first disk.
set +e
FERRY_TEST_CRASH_AT=DiskTransfer:mid FERRY_TEST_CRASH_VM=null-vm-2 \
  ferry start r -n t --wait > "$w/run1.out" 2>&1
rc=$?
set -e
[ $rc -eq 137 ] || fail "expected SIGKILL (137) mid-copy, got $rc: $(cat "$w/run1.out")"
m="$(plan_migrations r)"
[ "$(migration_phase "$m")" = Running ] || fail "after the kill: $(migration_phase "$m")"
[ "$(vm_phases "$m")" = "null-vm-1=Completed null-vm-2=DiskTransfer null-vm-3=Pending" ] \
  || fail "after the kill mid-copy: $(vm_phases "$m")"
[ -f "$out_dir/null-vm-2/r-null-vm-2-disk-0.img" ] || fail "no partial volume of null-vm-2"
vm1_started="$(vm_field "$m" null-vm-1 started)"
vm1_completed="$(vm_field "$m" null-vm-1 completed)"
find "$out_dir/null-vm-1" -type f -exec touch -d '2000-01-01 00:00' {} +

# 2. Killed after null-vm-3's VM files are written, before that is stored.
set +e
FERRY_TEST_CRASH_AT=VirtualMachineCreation:done FERRY_TEST_CRASH_VM=null-vm-3 \
  ferry run "$m" -n t > "$w/run2.out" 2>&1
rc=$?
set -e
[ $rc -eq 137 ] || fail "expected SIGKILL (137) in VM creation, got $rc: $(cat "$w/run2.out")"
[ "$(vm_phases "$m")" = "null-vm-1=Completed null-vm-2=Completed null-vm-3=VirtualMachineCreation" ] \
  || fail "after the kill in VM creation: $(vm_phases "$m")"
[ -f "$out_dir/null-vm-3/null-vm-3.vm.yaml" ] || fail "null-vm-3's VM was not written before the kill"
case "$(cat "$w/run2.out")" in *"null-vm-1: Initialize"*) fail "null-vm-1 was redone" ;; esac

# 3. Resumed to the end.
out="$(ferry run "$m" -n t)" || fail "resume failed: $out"
expect_in "$out" "Succeeded"
case "$out" in *"null-vm-1: "*|*"null-vm-2: "*) fail "a finished VM was redone: $out" ;; esac
expect_in "$out" "null-vm-3: VirtualMachineCreation Completed"
[ "$(migration_phase "$m")" = Succeeded ] || fail "migration: $(migration_phase "$m")"
[ "$(vm_field "$m" null-vm-1 started)" = "$vm1_started" ] || fail "null-vm-1 restarted"
[ "$(vm_field "$m" null-vm-1 completed)" = "$vm1_completed" ] || fail "null-vm-1 completed again"
newer="$(find "$out_dir/null-vm-1" -type f -newermt '2001-01-01')"
[ -z "$newer" ] || fail "null-vm-1's files were rewritten: $newer"

# Every volume is its source disk, every VM is written.
migration_json "$m" > "$w/m.json"
python3 - "$w/m.json" > "$w/sums" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
for vm in m["status"]["vms"]:
    for step in vm["pipeline"]:
        if step["name"] == "DiskTransfer":
            for task in step["tasks"]:
                print(task["sha256"], vm["name"], task["name"])
PY
[ "$(wc -l < "$w/sums")" -eq 6 ] || fail "expected 6 disk records: $(cat "$w/sums")"
while read -r sum vm vol; do
  f="$out_dir/$vm/$vol.img"
  [ -f "$f" ] || fail "missing volume $f"
  [ "$(sha256sum < "$f" | cut -d' ' -f1)" = "$sum" ] || fail "volume $f differs from its source"
done < "$w/sums"
for vm in null-vm-1 null-vm-2 null-vm-3; do
  [ -f "$out_dir/$vm/$vm.vm.yaml" ] && [ -f "$out_dir/$vm/$vm.domain.xml" ] \
    || fail "VM $vm not written"
done

# 4. `ferry serve` stopped by SIGTERM mid-migration exits 0 and leaves the
# Migration Running; `ferry serve --once` finishes it.
engine_manifests "$w/s.yaml" 3 2 4194304 300 s=null-vm-1,null-vm-2,null-vm-3
sed -i 's/targetNamespace: out/targetNamespace: out2/' "$w/s.yaml"
ferry apply -f "$w/s.yaml" >/dev/null
ferry start s -n t >/dev/null
ms="$(plan_migrations s)"
# Not the ferry function: $! must be the process itself (the libtool
# wrapper execs the binary).
"$abs_top_builddir/cli/ferry" serve > "$w/serve.out" 2>&1 &
spid=$!
trap 'kill $spid 2>/dev/null || :; rm -rf $cleanup_dirs' EXIT
wait_vm_phase s null-vm-1 DiskTransfer
kill -TERM $spid
set +e; wait $spid; rc=$?; set -e
[ $rc -eq 0 ] || fail "serve stopped by SIGTERM exited $rc: $(cat "$w/serve.out")"
expect_in "$(cat "$w/serve.out")" "stopped"
[ "$(migration_phase "$ms")" = Running ] || fail "after SIGTERM: $(migration_phase "$ms")"
case "$(vm_phases "$ms")" in
  *null-vm-3=Completed*) fail "serve went on after SIGTERM: $(vm_phases "$ms")" ;;
esac
out="$(ferry serve --once)" || fail "serve --once failed: $out"
[ "$(migration_phase "$ms")" = Succeeded ] || fail "after serve --once: $(migration_phase "$ms")"
[ "$(vm_phases "$ms")" = "null-vm-1=Completed null-vm-2=Completed null-vm-3=Completed" ] \
  || fail "after serve --once: $(vm_phases "$ms")"
echo ok
