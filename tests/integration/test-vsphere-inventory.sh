#!/bin/sh
# The vSphere provider through the ferry command against govmomi's vCenter
# simulator: a Secret (user, password, cacert) and a Provider of type
# vsphere applied, the inventory refreshed (twice: ids stable), every kind
# listed and compared with what the simulator holds (its truth, written by
# the Go peer through govmomi); then a wrong password and a missing CA give
# clear errors, and insecureSkipVerify works with a warning.  The peer
# answers in pages of 2 objects, so ContinueRetrievePropertiesEx is used.
. "$abs_top_srcdir/tests/functions.sh"
. "$abs_top_srcdir/tests/peers/vcsim/start.sh"

vcsim_start -dc 2 -cluster 1 -host 2 -standalone-host 1 -vm 3 -ds 2 -pg 2 -max-objects 2
w="$FERRY_STATE_DIR/work"
mkdir -p "$w"

vcsim_manifests vc > "$w/vc.yaml"
ferry apply -f "$w/vc.yaml" >/dev/null
out="$(ferry inventory refresh --provider vc)"
expect_in "$out" "provider default/vc:"

# Counts against the simulator's truth.
count () { ferry inventory "$1" --provider vc -o json | grep -c '"id": "' || true; }
want_vms=$(grep -c '"uuid"' "$VCSIM_TRUTH")
vms_json="$(ferry inventory vms --provider vc -o json)"
n=$(printf '%s\n' "$vms_json" | grep -c '"uuid":' || true)
[ "$n" = "$want_vms" ] || fail "ferry lists $n VMs, the simulator holds $want_vms"
for field in '"hosts"' '"datastores"' '"clusters"' '"datacenters"'; do :; done
hosts=$(sed -n 's/.*"hosts": \([0-9]*\).*/\1/p' "$VCSIM_TRUTH")
out="$(ferry inventory hosts --provider vc)"
[ "$(printf '%s\n' "$out" | tail -n +2 | wc -l)" = "$hosts" ] || fail "hosts: $out (want $hosts)"
dss=$(sed -n 's/.*"datastores": \([0-9]*\).*/\1/p' "$VCSIM_TRUTH")
out="$(ferry inventory storages --provider vc)"
[ "$(printf '%s\n' "$out" | tail -n +2 | wc -l)" = "$dss" ] || fail "datastores: $out (want $dss)"
expect_in "$out" "LocalDS_1"
out="$(ferry inventory networks --provider vc)"
expect_in "$out" "VM Network"
expect_in "$out" "DC1_DVPG1"
out="$(ferry inventory clusters --provider vc)"
expect_in "$out" "DC0_C0"
expect_in "$out" "DC1_C0"

# Every VM of the simulator, by name, with Forklift's field names.
for name in $(sed -n 's/^      "name": "\(.*\)",$/\1/p' "$VCSIM_TRUTH"); do
  expect_in "$vms_json" "\"$name\""
done
for f in uuid instanceUuid firmware cpuCount coresPerSocket memoryMB powerState \
         guestId changeTrackingEnabled disks nics key file datastore capacity \
         shared rdm bus mode mac network host connectionState; do
  expect_in "$vms_json" "\"$f\":"
done
vm1="$(sed -n 's/^      "id": "\(vm-[0-9]*\)",$/\1/p' "$VCSIM_TRUTH" | head -n1)"
out="$(ferry inventory vm "$vm1" --provider vc)"
expect_in "$out" "\"id\": \"$vm1\""

ferry inventory refresh --provider vc >/dev/null
vms2="$(ferry inventory vms --provider vc -o json)"
[ "$vms_json" = "$vms2" ] || fail "the inventory changed across two refreshes of an unchanged simulator"

# A wrong password: the fault type, not the password.
sed 's/password: vcsim-pass/password: not-the-password/; s/name: vc,/name: vc-bad,/g; s/{name: vc,/{name: vc-bad,/' \
  "$w/vc.yaml" > "$w/bad.yaml"
ferry apply -f "$w/bad.yaml" >/dev/null
expect_fail ferry inventory refresh --provider vc-bad
expect_in "$err" "InvalidLogin"
expect_in "$err" "Login"
case "$err" in *not-the-password*) fail "the password appears in: $err" ;; esac

# No CA: verification fails and the message says what to set.
vcsim_manifests vc-noca '  insecureSkipVerify: "false"' > "$w/noca.yaml"
ferry apply -f "$w/noca.yaml" >/dev/null
expect_fail ferry inventory refresh --provider vc-noca
expect_in "$err" "TLS"
expect_in "$err" "cacert"
expect_in "$err" "insecureSkipVerify"

# insecureSkipVerify: works, with a warning.
vcsim_manifests vc-insecure '  insecureSkipVerify: "true"' > "$w/insecure.yaml"
ferry apply -f "$w/insecure.yaml" >/dev/null
ferry inventory refresh --provider vc-insecure > "$w/out" 2> "$w/err"
grep -q "insecureSkipVerify" "$w/err" || fail "no warning for insecureSkipVerify: $(cat "$w/err")"
echo "inventory of $want_vms VMs matches the simulator"
