#!/bin/sh
# The vSphere inventory kept current: `ferry inventory refresh --watch`
# against govmomi's vCenter simulator, while a vSphere user (the peer's
# client mode, through the SOAP API) renames a VM, powers one off, creates
# one and destroys one.  Each change must reach ferry's store: the store is
# polled until it shows them all, with a deadline that only bounds a
# failure (no timing is measured).
. "$abs_top_srcdir/tests/functions.sh"
. "$abs_top_srcdir/tests/peers/vcsim/start.sh"

vcsim_start -dc 1 -cluster 1 -host 2 -standalone-host 1 -vm 2 -ds 1 -pg 1
w="$FERRY_STATE_DIR/work"
mkdir -p "$w"
vcsim_manifests vc > "$w/vc.yaml"
ferry apply -f "$w/vc.yaml" >/dev/null

# A provider without incremental updates is refused with a clear error.
expect_fail ferry inventory refresh --provider nosuch --watch
expect_in "$err" "provider default/nosuch does not exist"
expect_fail ferry inventory vms --provider vc --watch
expect_in "$err" "--watch goes with refresh"

change () {
  "$VCSIM_BIN" -change "$VCSIM_URL" -user admin -pass vcsim-pass \
    -cacert "$VCSIM_CA" "$@" || fail "simulator change $* failed"
}

# Not through the ferry function: $! must be ferry's own process.
${FERRY_VALGRIND:-} "$abs_top_builddir/cli/ferry" inventory refresh --provider vc \
  --watch --interval 1 > "$w/watch.out" 2>&1 &
watch_pid=$!
trap 'kill $watch_pid 2>/dev/null || :; wait $watch_pid 2>/dev/null || :; kill $VCSIM_PID 2>/dev/null; wait $VCSIM_PID 2>/dev/null; rm -rf $cleanup_dirs' EXIT
i=0
until grep -q "watching for changes" "$w/watch.out"; do
  kill -0 $watch_pid 2>/dev/null || fail "the watch exited: $(cat "$w/watch.out")"
  i=$((i + 1)); [ $i -lt 600 ] || fail "no full sync: $(cat "$w/watch.out")"
  sleep 0.1
done

# The VMs of the simulator's truth: rename the first, power off the
# second (on in the model), destroy the third, create one.
ids=$(sed -n 's/^      "id": "\(vm-[0-9]*\)",$/\1/p' "$VCSIM_TRUTH")
set -- $ids
[ $# -ge 3 ] || fail "the simulator has fewer than 3 VMs: $ids"
renamed=$1 off=$2 gone=$3
vm_json () { ferry inventory vm "$1" --provider vc -o json 2>/dev/null; }
expect_in "$(vm_json "$off")" '"powerState": "poweredOn"'
change rename "$renamed" ferry-renamed-vm
change power-off "$off"
change destroy "$gone"
new=$(change create ferry-new-vm)
case "$new" in vm-*) ;; *) fail "create printed '$new'";; esac

i=0
while :; do
  ok=1
  vm_json "$renamed" | grep -q '"name": "ferry-renamed-vm"' || ok=0
  vm_json "$off" | grep -q '"powerState": "poweredOff"' || ok=0
  vm_json "$new" | grep -q '"name": "ferry-new-vm"' || ok=0
  if vm_json "$gone" >/dev/null; then ok=0; fi
  [ $ok = 1 ] && break
  kill -0 $watch_pid 2>/dev/null || fail "the watch exited: $(cat "$w/watch.out")"
  i=$((i + 1))
  [ $i -lt 300 ] || fail "the store did not follow the simulator: $(cat "$w/watch.out"); renamed: $(vm_json "$renamed" | grep '"name"'); off: $(vm_json "$off" | grep powerState); new: $(vm_json "$new" | grep '"name"'); gone: $(vm_json "$gone" | grep '"name"')"
  sleep 0.2
done
expect_in "$(cat "$w/watch.out")" "entities changed"
# The renamed VM is found by its new name, and its disk entity stays.
expect_in "$(ferry inventory vm ferry-renamed-vm --provider vc -o json)" "\"id\": \"$renamed\""

kill -TERM $watch_pid
wait $watch_pid || fail "the watch did not stop cleanly on SIGTERM: $(cat "$w/watch.out")"
