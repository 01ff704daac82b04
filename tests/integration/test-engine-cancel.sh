#!/bin/sh
# Cancel, restart, archive, duplicate, delete of a running plan: with the
# null provider (slow disk reads) and the local destination.
#  - cancel every VM of a running migration: the Migration ends Canceled,
#    each VM Canceled, no volume is left at the destination;
#  - cancel one VM mid-copy: it is Canceled and its partial volume removed,
#    the other VMs succeed;
#  - delete and archive are refused while a migration runs;
#  - restart migrates only the canceled VM, and leaves the others' files alone;
#  - archive stops the plan from starting; duplicate copies it.
. "$abs_top_srcdir/tests/functions.sh"
. "$abs_top_srcdir/tests/integration/engine-null-manifests.sh"
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not installed"; exit 77; }

w="$FERRY_STATE_DIR/work"
out_dir="$FERRY_STATE_DIR/local/out"
mkdir -p "$w"
# 3 VMs of 1 disk of 32 MiB, 300 ms per read: a copy lasts seconds (more
# under valgrind, where each command takes seconds too).
size=33554432
[ -z "${FERRY_VALGRIND:-}" ] || size=134217728
engine_manifests "$w/m.yaml" 3 1 $size 300 \
  all=null-vm-1,null-vm-2,null-vm-3 c=null-vm-1,null-vm-2,null-vm-3
ferry apply -f "$w/m.yaml" >/dev/null

# --- cancel everything
ferry start all -n t --wait > "$w/all.out" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || :; rm -rf $cleanup_dirs' EXIT
wait_vm_phase all null-vm-1 DiskTransfer
m="$(plan_migrations all)"
expect_fail ferry delete plan all -n t
expect_in "$err" "is running"
expect_fail ferry archive all -n t
expect_in "$err" "is running"
out="$(ferry cancel all -n t)"
expect_in "$out" "cancel requested"
set +e; wait $pid; rc=$?; set -e
[ $rc -ne 0 ] || fail "a canceled migration reported success: $(cat "$w/all.out")"
[ "$(migration_phase "$m")" = Canceled ] || fail "migration $m: $(migration_phase "$m")"
[ "$(vm_phases "$m")" = "null-vm-1=Canceled null-vm-2=Canceled null-vm-3=Canceled" ] \
  || fail "after cancel all: $(vm_phases "$m")"
if [ -d "$out_dir" ] && [ -n "$(find "$out_dir" -name '*.img')" ]; then
  fail "volumes left after cancel: $(find "$out_dir" -name '*.img')"
fi
expect_fail ferry cancel all -n t
expect_in "$err" "no running migration"

# --- cancel one VM mid-copy; the others go on
ferry start c -n t --wait > "$w/c.out" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || :; rm -rf $cleanup_dirs' EXIT
wait_vm_phase c null-vm-2 DiskTransfer
m1="$(plan_migrations c)"
ferry cancel c -n t --vm null-vm-2 >/dev/null
set +e; wait $pid; rc=$?; set -e
[ $rc -ne 0 ] || fail "a migration with a canceled VM reported success"
[ "$(vm_phases "$m1")" = "null-vm-1=Completed null-vm-2=Canceled null-vm-3=Completed" ] \
  || fail "after cancel of null-vm-2: $(vm_phases "$m1")"
[ -f "$out_dir/null-vm-1/null-vm-1.vm.yaml" ] || fail "null-vm-1 was not created"
[ -f "$out_dir/null-vm-3/null-vm-3.vm.yaml" ] || fail "null-vm-3 was not created"
[ -z "$(find "$out_dir" -path '*null-vm-2*' -name '*.img')" ] \
  || fail "null-vm-2's partial volume was not removed"
expect_fail ferry cancel c -n t --vm null-vm-9
expect_in "$err" "no running migration"

# --- restart: only what did not succeed
touch -d '2000-01-01 00:00' "$out_dir/null-vm-1/null-vm-1.vm.yaml"
out="$(ferry restart c -n t --wait)" || fail "restart failed: $out"
m2="$(plan_migrations c | grep -v "^$m1\$")"
[ "$(vm_phases "$m2")" = "null-vm-2=Completed" ] || fail "restart ran: $(vm_phases "$m2")"
[ -f "$out_dir/null-vm-2/null-vm-2.vm.yaml" ] || fail "null-vm-2 was not created by restart"
[ -z "$(find "$out_dir/null-vm-1/null-vm-1.vm.yaml" -newermt '2001-01-01')" ] \
  || fail "restart rewrote null-vm-1"

# --- archive and duplicate
ferry archive c -n t >/dev/null
expect_fail ferry start c -n t
expect_in "$err" "archived"
expect_fail ferry restart c -n t
expect_in "$err" "archived"
ferry get plan c -n t -o json > "$w/c.json"
expect_in "$(cat "$w/c.json")" '"archived": true'
expect_in "$(cat "$w/c.json")" '"Archived"'
ferry duplicate c c2 -n t >/dev/null
ferry get plan c2 -n t -o json > "$w/c2.json"
case "$(cat "$w/c2.json")" in *'"archived"'*) fail "the duplicate is archived" ;; esac
expect_in "$(cat "$w/c2.json")" "null-vm-3"
expect_fail ferry duplicate c c2 -n t
expect_in "$err" "already exists"
ferry delete plan all -n t >/dev/null
echo ok
