#!/bin/sh
# End to end from vSphere: a simulator VM whose datastore holds a real flat
# extent (written by the Go peer: data at the start and in the middle, a
# hole between) is migrated cold with Forklift manifests through
# `ferry start --wait` into the local destination (skipGuestConversion).
# The copied disk must be byte-identical to the simulator's file, and the
# SHA-256 ferry records must be the file's.  The disk bytes travel over the
# datastore HTTP interface (/folder, Range GETs, the session cookie, the
# simulator's CA); CBT is on, so the extents come from QueryChangedDiskAreas
# (added by the peer; test-vsphere-module checks the extents themselves).
. "$abs_top_srcdir/tests/functions.sh"
. "$abs_top_srcdir/tests/peers/vcsim/start.sh"

vcsim_start -dc 1 -cluster 0 -host 0 -standalone-host 1 -vm 1 -ds 1 -pg 1 -cbt -disk-size 16777216 \
  -flat 4194304 -power-off
w="$FERRY_STATE_DIR/work"
mkdir -p "$w"

{ vcsim_manifests vc
cat <<YAML
---
apiVersion: forklift.konveyor.io/v1beta1
kind: NetworkMap
metadata: {name: net, namespace: default}
spec:
  provider: {source: {name: vc, namespace: default}, destination: {name: host, namespace: default}}
  map:
    - source: {name: VM Network}
      destination: {type: pod}
    - source: {name: DC0_DVPG0}
      destination: {type: pod}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: StorageMap
metadata: {name: storage, namespace: default}
spec:
  provider: {source: {name: vc, namespace: default}, destination: {name: host, namespace: default}}
  map:
    - source: {name: LocalDS_0}
      destination: {storageClass: local}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Plan
metadata: {name: from-vc, namespace: default}
spec:
  provider: {source: {name: vc, namespace: default}, destination: {name: host, namespace: default}}
  map: {network: {name: net, namespace: default}, storage: {name: storage, namespace: default}}
  targetNamespace: migrated
  skipGuestConversion: true
  pvcNameTemplate: "{{.TargetVmName}}-d{{.DiskIndex}}"
  vms:
    - name: DC0_H0_VM0
      targetName: vm0
YAML
} > "$w/manifests.yaml"
ferry apply -f "$w/manifests.yaml" >/dev/null
ferry inventory refresh --provider vc >/dev/null
out="$(ferry inventory vms --provider vc)"
expect_in "$out" "DC0_H0_VM0"
expect_in "$out" "poweredOff"

out="$(ferry start from-vc --wait 2>&1)" || fail "migration failed: $out"
expect_in "$out" "Succeeded"

flat="$(sed -n 's/.*"flatPath": "\(.*\)",*$/\1/p' "$VCSIM_TRUTH" | head -n1)"
[ -f "$flat" ] || fail "the simulator wrote no flat extent ($flat)"
img="$FERRY_STATE_DIR/local/migrated/vm0/vm0-d0.img"
[ -f "$img" ] || fail "no volume $img: $(ls -R "$FERRY_STATE_DIR/local" 2>&1)"
cmp "$flat" "$img" || fail "$img differs from the simulator's $flat"
[ -f "$FERRY_STATE_DIR/local/migrated/vm0/vm0.vm.yaml" ] || fail "no VirtualMachine manifest"

# Of 16 MiB, about 6 MiB are data: the rest is accounted as zeroes.
mig="$(ferry get migrations -o name | head -n1)"
st="$(ferry get "$mig" -o json 2>/dev/null || ferry get migration "${mig#*/}" -o json)"
zeroed="$(printf '%s\n' "$st" | sed -n 's/.*"bytesZeroed": \([0-9]*\).*/\1/p' | head -n1)"
[ -n "$zeroed" ] || fail "no bytesZeroed in the migration status"
[ "$zeroed" -ge 8388608 ] || fail "only $zeroed bytes were skipped as holes"
want="$(sha256sum "$flat" | cut -d' ' -f1)"
expect_in "$st" "$want"
echo "disk of DC0_H0_VM0 copied byte-identical over the datastore HTTP interface"
