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
# A Forklift Host object sends the transfer to its address with its Secret.
. "$abs_top_srcdir/tests/functions.sh"
. "$abs_top_srcdir/tests/peers/vcsim/start.sh"

vcsim_start -dc 1 -cluster 0 -host 0 -standalone-host 1 -vm 1 -ds 1 -pg 1 -cbt -disk-size 16777216 \
  -flat 4194304 -power-off
w="$FERRY_STATE_DIR/work"
mkdir -p "$w"

{ vcsim_manifests vc
vcsim_host_maps vc
vcsim_plan host migrated
} > "$w/manifests.yaml"
ferry apply -f "$w/manifests.yaml" >/dev/null
ferry inventory refresh --provider vc >/dev/null
out="$(ferry inventory vms --provider vc)"
expect_in "$out" "DC0_H0_VM0"
expect_in "$out" "poweredOff"

# Forklift's Host object: the disks of VMs on that ESXi host are read from
# its address with its own Secret.  The simulator serves /folder itself, so
# the "host" is the simulator reached as localhost.  First an address
# nobody listens on: the migration fails, naming it (so the Host object is
# used); then the right one.
host_id="$(ferry inventory vm DC0_H0_VM0 --provider vc -o json | sed -n 's/^  "host": "\(.*\)",$/\1/p')"
[ -n "$host_id" ] || fail "no host in the VM's inventory"
port="${VCSIM_URL##*:}"; port="${port%%/*}"
host_manifest () {
  printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: esxi, namespace: default}\nstringData:\n'
  printf '  user: admin\n  password: vcsim-pass\n  cacert: |\n'; sed 's/^/    /' "$VCSIM_CA"
  printf -- '---\napiVersion: forklift.konveyor.io/v1beta1\nkind: Host\n'
  printf 'metadata: {name: esxi, namespace: default}\nspec:\n  id: %s\n  ipAddress: "%s"\n' "$host_id" "$1"
  printf '  provider: {name: vc, namespace: default}\n  secret: {name: esxi, namespace: default}\n'
}
host_manifest 127.0.0.1:1 > "$w/host.yaml"
ferry apply -f "$w/host.yaml" >/dev/null
expect_fail ferry start from-vc --wait
expect_in "$out$err" "127.0.0.1:1"
host_manifest "localhost:$port" > "$w/host.yaml"
ferry apply -f "$w/host.yaml" >/dev/null

out="$(ferry start from-vc --wait 2>&1)" || fail "migration failed: $out"
expect_in "$out" "Succeeded"

flat="$(sed -n 's/.*"flatPath": "\(.*\)",*$/\1/p' "$VCSIM_TRUTH" | head -n1)"
[ -f "$flat" ] || fail "the simulator wrote no flat extent ($flat)"
img="$FERRY_STATE_DIR/local/migrated/vm0/vm0-d0.img"
[ -f "$img" ] || fail "no volume $img: $(ls -R "$FERRY_STATE_DIR/local" 2>&1)"
cmp "$flat" "$img" || fail "$img differs from the simulator's $flat"
[ -f "$FERRY_STATE_DIR/local/migrated/vm0/vm0.vm.yaml" ] || fail "no VirtualMachine manifest"

# Of 16 MiB, about 6 MiB are data: the rest is accounted as zeroes.
# The Migration that succeeded (the first one failed on the Host address).
st=
for mig in $(ferry get migrations -o name); do
  j="$(ferry get "$mig" -o json 2>/dev/null || ferry get migration "${mig#*/}" -o json)"
  case "$j" in *'"bytesZeroed"'*) st="$j";; esac
done
[ -n "$st" ] || fail "no migration copied the disk"
zeroed="$(printf '%s\n' "$st" | sed -n 's/.*"bytesZeroed": \([0-9]*\).*/\1/p' | head -n1)"
[ -n "$zeroed" ] || fail "no bytesZeroed in the migration status"
[ "$zeroed" -ge 8388608 ] || fail "only $zeroed bytes were skipped as holes"
want="$(sha256sum "$flat" | cut -d' ' -f1)"
expect_in "$st" "$want"
echo "disk of DC0_H0_VM0 copied byte-identical over the datastore HTTP interface"
