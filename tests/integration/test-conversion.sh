#!/bin/sh
# Guest conversion (ImageConversion) with the real virt-v2v-in-place, on an
# OVA whose disks hold no operating system (tests/make-ova.sh):
#  - without the tool (an override pointing nowhere, or a PATH without it)
#    and with a destination whose volumes are not local files, the plan is
#    not Ready: GuestConversionNotAvailable says what to do; a raw copy
#    plan is Ready all the same;
#  - a raw copy gets compatibility devices unless useCompatibilityMode is
#    false;
#  - the engine is killed with SIGKILL while virt-v2v-in-place inspects the
#    guest: no conversion process is left, the volumes are untouched (the
#    tool only ever writes to disposable overlays);
#  - the resumed run converts again from fresh overlays and fails as it
#    must on a blank disk: the VM is Failed at ImageConversion with the
#    tool's own message and the log named in the error, the full output is
#    in the VM's log, the overlays are gone and the volumes are either
#    removed (the engine cleans up a failed VM) or still the source disks.
# libguestfs runs with the direct backend and TCG unless the environment
# says otherwise (qemu under KVM aborts on some CI machines).
. "$abs_top_srcdir/tests/functions.sh"
. "$abs_top_srcdir/tests/integration/engine-null-manifests.sh"
. "$abs_top_srcdir/tests/ova-manifests.sh"
for p in qemu-img qemu-nbd python3 pgrep; do
  command -v $p >/dev/null 2>&1 || { echo "SKIP: $p not installed"; exit 77; }
done
if [ -n "${FERRY_VALGRIND:-}" ]; then
  echo "SKIP: a process killed with SIGKILL cannot be checked by valgrind"; exit 77
fi
export LIBGUESTFS_BACKEND="${LIBGUESTFS_BACKEND:-direct}"
export LIBGUESTFS_BACKEND_SETTINGS="${LIBGUESTFS_BACKEND_SETTINGS-force_tcg}"
unset FERRY_VIRT_V2V_IN_PLACE

w="$FERRY_STATE_DIR/work"
mkdir -p "$w/source"
sh "$abs_top_srcdir/tests/make-ova.sh" "$w/build" solo >/dev/null
mv "$w/build/solo.ova" "$w/source/"

{ ova_manifests t "$w/source" host
cat <<YAML
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Provider
metadata: {name: nofiles, namespace: t}
spec: {type: "null", secret: {name: ova, namespace: t}}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Plan
metadata: {name: conv, namespace: t}
spec:
  provider: {source: {name: ova, namespace: t}, destination: {name: host, namespace: t}}
  map: {network: {name: net, namespace: t}, storage: {name: storage, namespace: t}}
  targetNamespace: out
  pvcNameTemplate: "{{.TargetVmName}}-d{{.DiskIndex}}"
  vms: [{name: solo}]
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Plan
metadata: {name: raw, namespace: t}
spec:
  provider: {source: {name: ova, namespace: t}, destination: {name: host, namespace: t}}
  map: {network: {name: net, namespace: t}, storage: {name: storage, namespace: t}}
  targetNamespace: rawout
  skipGuestConversion: true
  vms: [{name: solo}]
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Plan
metadata: {name: rawvirtio, namespace: t}
spec:
  provider: {source: {name: ova, namespace: t}, destination: {name: host, namespace: t}}
  map: {network: {name: net, namespace: t}, storage: {name: storage, namespace: t}}
  targetNamespace: rawvirtio
  skipGuestConversion: true
  useCompatibilityMode: false
  vms: [{name: solo}]
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Plan
metadata: {name: tonull, namespace: t}
spec:
  provider: {source: {name: ova, namespace: t}, destination: {name: nofiles, namespace: t}}
  map: {network: {name: net, namespace: t}, storage: {name: storage, namespace: t}}
  targetNamespace: out
  vms: [{name: solo}]
YAML
} > "$w/m.yaml"
ferry apply -f "$w/m.yaml" >/dev/null
ferry inventory refresh --provider ova -n t >/dev/null

# 1. The tool missing: an override that points nowhere ...
export FERRY_VIRT_V2V_IN_PLACE=/nonexistent/virt-v2v-in-place
expect_fail ferry validate plan conv -n t
for want in GuestConversionNotAvailable "FERRY_VIRT_V2V_IN_PLACE=/nonexistent/virt-v2v-in-place" \
            "set spec.skipGuestConversion: true for a raw copy" "What to do:"; do
  expect_in "$out" "$want"
done
expect_fail ferry start conv -n t
expect_in "$err" "not ready"
expect_in "$err" "virt-v2v-in-place"
# A raw copy does not need it.
out="$(ferry validate plan raw -n t)" || fail "a raw copy plan needs no conversion tool: $out"
expect_in "$out" "Ready"
unset FERRY_VIRT_V2V_IN_PLACE
# ... or a PATH without it (only what the ferry wrapper script needs).
mkdir -p "$w/bin"
for p in sh sed cat rm mkdir dirname basename expr uname ln env; do
  q="$(command -v $p 2>/dev/null)" && ln -sf "$q" "$w/bin/$p"
done
set +e
out="$(PATH="$w/bin" "$abs_top_builddir/cli/ferry" validate plan conv -n t 2>&1)"
rc=$?
set -e
[ $rc -eq 1 ] || fail "validate without virt-v2v-in-place in PATH: exit $rc: $out"
expect_in "$out" "virt-v2v-in-place was not found in PATH ($w/bin)"
expect_in "$out" "apt-get install virt-v2v"
# A destination without local volume files cannot convert.
expect_fail ferry validate plan tonull -n t
expect_in "$out" "GuestConversionNotAvailable"
expect_in "$out" "destination provider t/nofiles (type null) does not have"
expect_in "$out" "use a destination with local volumes"

# 2. Raw copy: compatibility devices (SATA, e1000e) unless
# useCompatibilityMode is false; no conversion, no tool needed.
export FERRY_VIRT_V2V_IN_PLACE=/nonexistent/virt-v2v-in-place
out="$(ferry start raw -n t --wait)" || fail "raw copy failed: $out"
case "$out" in *"ImageConversion Running: "*) fail "a raw copy ran the conversion: $out" ;; esac
xml="$(cat "$FERRY_STATE_DIR/local/rawout/solo/solo.domain.xml")"
echo "$xml" | grep -Eq "bus=[\"']sata" || fail "raw copy without SATA disks: $xml"
echo "$xml" | grep -Eq "model type=[\"']e1000e" || fail "raw copy without an e1000e NIC: $xml"
out="$(ferry start rawvirtio -n t --wait)" || fail "raw copy (useCompatibilityMode: false) failed: $out"
xml="$(cat "$FERRY_STATE_DIR/local/rawvirtio/solo/solo.domain.xml")"
echo "$xml" | grep -Eq "bus=[\"']virtio" || fail "useCompatibilityMode: false without virtio disks: $xml"
if echo "$xml" | grep -Eq "bus=[\"']sata|e1000e"; then fail "useCompatibilityMode: false with compatibility devices: $xml"; fi
unset FERRY_VIRT_V2V_IN_PLACE

command -v virt-v2v-in-place >/dev/null 2>&1 \
  || { echo "SKIP: the conversion runs need virt-v2v-in-place (Debian: virt-v2v)"; exit 77; }
out="$(ferry validate plan conv -n t)" || fail "with the tool installed the plan is Ready: $out"

dest="$FERRY_STATE_DIR/local/out/solo"
same_as_source () {     # the volumes hold the source disks, byte for byte
  qemu-img compare -q -f raw -F raw "$w/build/solo-disk1.raw" "$dest/solo-d0.img" \
    || fail "$1: volume solo-d0 is not the source disk"
  qemu-img compare -q -f raw -F raw "$w/build/solo-disk2.raw" "$dest/solo-d1.img" \
    || fail "$1: volume solo-d1 is not the source disk"
}
# conv_field FIELD: status.vms[0].conversion.FIELD, or the ImageConversion
# step's error reasons for "error".
conv_field () {
  migration_json "$m" | python3 -c '
import json, sys
vm = json.load(sys.stdin)["status"]["vms"][0]
if sys.argv[1] == "error":
    for s in vm["pipeline"]:
        if s["name"] == "ImageConversion":
            print(" ".join(s.get("error", {}).get("reasons", [])))
elif sys.argv[1] == "id":
    print(vm["id"])
else:
    print(vm.get("conversion", {}).get(sys.argv[1], ""))
' "$1"
}

# 3. Killed while virt-v2v-in-place inspects the guest.
set +e
FERRY_TEST_CRASH_AT=ImageConversion:mid ferry start conv -n t --wait > "$w/run1.out" 2>&1
rc=$?
set -e
[ $rc -eq 137 ] || fail "expected SIGKILL (137) mid-conversion, got $rc: $(cat "$w/run1.out")"
m="$(plan_migrations conv)"
[ "$(vm_phases "$m")" = "solo=ImageConversion" ] || fail "after the kill: $(vm_phases "$m")"
[ "$(conv_field phase)" = Converting ] || fail "conversion phase after the kill: $(conv_field phase)"
ls "$FERRY_STATE_DIR"/conversion/t/*/disk-0.qcow2 >/dev/null 2>&1 \
  || fail "no overlay while the conversion was under way"
# no_tool_left WHEN: no process of the conversion (virt-v2v-in-place,
# its qemu-nbd servers, the appliance) is left, within seconds.
no_tool_left () {
  i=0
  while pgrep -f "$FERRY_STATE_DIR/conversion" >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -lt 100 ] || fail "$1: conversion processes left: $(pgrep -af "$FERRY_STATE_DIR/conversion")"
    sleep 0.1
  done
}
no_tool_left "after the engine was killed"
same_as_source "after the kill"

# 4. Resumed: converted again from fresh overlays, failing on a blank disk.
expect_fail ferry run "$m" -n t
[ "$(vm_phases "$m")" = "solo=Failed" ] || fail "after the resumed run: $(vm_phases "$m")"
[ "$(migration_phase "$m")" = Failed ] || fail "migration: $(migration_phase "$m")"
why="$(conv_field error)"
expect_in "$why" "ImageConversion of VM solo: virt-v2v-in-place exited with status 1"
expect_in "$why" "inspection could not detect the source guest"
expect_in "$why" "No root device found in this operating system image."
vm_id="$(conv_field id)"
log="$FERRY_STATE_DIR/logs/vm/t/conv.$vm_id.log"
expect_in "$why" "full output in $log"
[ "$(conv_field phase)" = Failed ] || fail "conversion phase: $(conv_field phase)"
[ -f "$log" ] || fail "no VM log $log"
[ "$(grep -c 'Setting up the source' "$log")" -ge 2 ] || fail "the resumed run did not convert again: $(cat "$log")"
grep -q '"type": "error"' "$log" || fail "the tool's error is not in the VM log"
grep -q 'Inspecting the source' "$log" || fail "the tool's progress is not in the VM log"
out="$(ferry logs conv -n t --vm "$vm_id")" || fail "ferry logs --vm: $out"
expect_in "$out" "No root device found"
[ -z "$(find "$FERRY_STATE_DIR/conversion" -type f)" ] \
  || fail "overlays left behind: $(find "$FERRY_STATE_DIR/conversion" -type f)"
no_tool_left "after the failed conversion"
# The engine removes a failed VM's volumes; any still there are the
# source disks, unconverted.
[ ! -f "$dest/solo-d0.img" ] || same_as_source "after the failed conversion"
[ ! -f "$dest/solo.vm.yaml" ] || fail "a VM was created from an unconverted guest"
echo "conversion: not Ready without the tool or local volumes; killed and resumed; failed cleanly on a blank disk"
