#!/bin/sh
# Warm migration end to end from vSphere: a running simulator VM (CBT on,
# a real flat extent written by the Go peer) is migrated warm with Forklift
# manifests into the local destination.  While the precopies run, the guest
# writes into its disk (the peer's test-only /ferry-test/write, which goes
# into the running delta disk and is recorded for changed block tracking);
# then `ferry cutover`.  The copied disk must be byte-identical to the disk
# the test computes itself (the initial extent plus its writes) and to the
# simulator's disk once every snapshot is consolidated; the precopies must
# be in the VM status, the snapshots removed and the source powered off.
# Before that, with CBT off the plan is not Ready, with the reason.
. "$abs_top_srcdir/tests/functions.sh"
. "$abs_top_srcdir/tests/peers/vcsim/start.sh"
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not installed"; exit 77; }
command -v curl >/dev/null 2>&1 || { echo "SKIP: curl not installed"; exit 77; }

vcsim_start -dc 1 -cluster 0 -host 0 -standalone-host 1 -vm 1 -ds 1 -pg 1 -cbt -test-control \
  -disk-size 8388608 -flat 2097152
w="$FERRY_STATE_DIR/work"
mkdir -p "$w"
vm="$(sed -n 's/^      "id": "\(vm-[0-9]*\)",$/\1/p' "$VCSIM_TRUTH" | head -n1)"
key="$(sed -n 's/^          "key": \([0-9]*\),$/\1/p' "$VCSIM_TRUTH" | head -n1)"
flat="$(sed -n 's/.*"flatPath": "\(.*\)",*$/\1/p' "$VCSIM_TRUTH" | head -n1)"
[ -n "$vm" ] && [ -n "$key" ] && [ -f "$flat" ] || fail "truth: vm '$vm' key '$key' flat '$flat'"
cp "$flat" "$w/model.img"

# guest_write OFFSET BYTES: random bytes written by the guest, in the
# simulator and in the test's model of the disk.
guest_write () {
  head -c "$2" /dev/urandom > "$w/data"
  curl -sS -f --cacert "$VCSIM_CA" --data-binary "@$w/data" \
    "${VCSIM_URL%/sdk}/ferry-test/write?vm=$vm&disk=$key&offset=$1" \
    || fail "guest write at $1 failed"
  dd if="$w/data" of="$w/model.img" bs=1 seek="$1" conv=notrunc status=none
}

{ vcsim_manifests vc
vcsim_host_maps vc
cat <<YAML
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Plan
metadata: {name: warm-vc, namespace: default}
spec:
  provider: {source: {name: vc, namespace: default}, destination: {name: host, namespace: default}}
  map: {network: {name: net, namespace: default}, storage: {name: storage, namespace: default}}
  targetNamespace: migrated
  type: warm
  skipGuestConversion: true
  pvcNameTemplate: "{{.TargetVmName}}-d{{.DiskIndex}}"
  vms:
    - id: $vm
      targetName: vmw
YAML
} > "$w/manifests.yaml"
ferry apply -f "$w/manifests.yaml" >/dev/null

# Changed block tracking off: the warm plan is not Ready (Forklift's
# VMMissingChangedBlockTracking), and is once CBT is back on.
curl -sS -f --cacert "$VCSIM_CA" -X POST \
  "${VCSIM_URL%/sdk}/ferry-test/cbt?vm=$vm&enabled=false" || fail "cbt off"
ferry inventory refresh --provider vc >/dev/null
expect_fail ferry validate plan warm-vc
expect_in "$out" "VMMissingChangedBlockTracking"
expect_in "$out" "$vm"
curl -sS -f --cacert "$VCSIM_CA" -X POST \
  "${VCSIM_URL%/sdk}/ferry-test/cbt?vm=$vm&enabled=true" || fail "cbt on"
ferry inventory refresh --provider vc >/dev/null
out="$(ferry validate plan warm-vc)" || fail "with CBT on the warm plan is Ready: $out"
expect_in "$out" "Ready"
expect_in "$(ferry inventory vm "$vm" --provider vc -o json)" '"powerState": "poweredOn"'

export FERRY_PRECOPY_INTERVAL=1s
ferry start warm-vc --cutover 2099-01-01T00:00:00Z --wait > "$w/start.out" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || :; kill $VCSIM_PID 2>/dev/null || :; wait $VCSIM_PID 2>/dev/null || :; rm -rf $cleanup_dirs' EXIT

# successes: the precopies done so far for the VM.
successes () {
  ferry get migrations -o json 2>/dev/null | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
    items = d.get("items", [d]) if isinstance(d, dict) else d
    print(max(v.get("warm", {}).get("successes", 0)
              for m in items for v in m.get("status", {}).get("vms", [])))
except Exception:
    print(0)'
}
wait_precopies () {
  i=0
  until [ "$(successes)" -ge "$1" ]; do
    kill -0 $pid 2>/dev/null || fail "the migration ended early: $(cat "$w/start.out")"
    i=$((i + 1)); [ $i -lt 600 ] || fail "no $1 precopies: $(cat "$w/start.out")"
    sleep 0.2
  done
}

wait_precopies 1
guest_write 1048699 5000          # inside the initial data
guest_write 5242880 70000         # into a hole, across 64 KiB
wait_precopies 3
guest_write 8388000 192           # the disk's last bytes
out="$(ferry cutover warm-vc)" || fail "cutover: $out"
set +e; wait $pid; rc=$?; set -e
[ $rc -eq 0 ] || fail "the warm migration exited $rc: $(cat "$w/start.out")"
expect_in "$(cat "$w/start.out")" "Succeeded"

img="$FERRY_STATE_DIR/local/migrated/vmw/vmw-d0.img"
[ -f "$img" ] || fail "no volume $img: $(ls -R "$FERRY_STATE_DIR/local" 2>&1)"
cmp "$w/model.img" "$img" || fail "$img differs from the disk with the guest's writes"
# Every snapshot removed and consolidated: the simulator's disk is the same.
cmp "$flat" "$img" || fail "$img differs from the simulator's consolidated $flat"

ferry get migrations -o json > "$w/m.json"
python3 - "$w/m.json" <<'PY' || fail "warm status: $(cat "$w/m.json")"
import json, sys
d = json.load(open(sys.argv[1]))
items = d.get("items", [d]) if isinstance(d, dict) else d
vm = [v for m in items for v in m["status"]["vms"]][0]
assert vm["phase"] == "Completed", vm["phase"]
pcs = [p for p in vm["warm"]["precopies"] if "end" in p]
assert len(pcs) >= 4, len(pcs)           # 3 before the cutover, the final one
assert pcs[-1].get("final") is True
for p in pcs:
    assert p["snapshot"].startswith("snapshot-"), p
    assert p["deltas"] and "/" in p["deltas"][0]["deltaId"], p
assert pcs[0]["bytes"] > pcs[-1]["bytes"], (pcs[0]["bytes"], pcs[-1]["bytes"])
PY
ferry inventory refresh --provider vc >/dev/null
inv="$(ferry inventory vm "$vm" --provider vc -o json)"
expect_in "$inv" '"powerState": "poweredOff"'
case "$inv" in *'"snapshot": {'*) fail "snapshots left at the source: $inv";; esac
echo "warm migration of $vm: byte-identical to the guest's disk"
