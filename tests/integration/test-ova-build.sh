#!/bin/sh
# The OVA provider through the ferry command: a real OVA built by
# tests/make-ova.sh (qemu-img, tar) and a truncated copy of it, a Provider
# of type ova applied, the inventory refreshed twice (ids stable), the VMs,
# disks, networks and the one dummy storage listed, the damage reported as
# a concern naming the file.
. "$abs_top_srcdir/tests/functions.sh"

command -v qemu-img >/dev/null 2>&1 || { echo "SKIP: qemu-img not installed"; exit 77; }

w="$(mktemp -d "${TMPDIR:-/tmp}/ferry-test-ova.XXXXXX")"
cleanup_dirs="$cleanup_dirs $w"
sh "$abs_top_srcdir/tests/make-ova.sh" "$w/src" web01 >/dev/null
mkdir -p "$w/share/team-a" "$w/share/broken"
cp "$w/src/web01.ova" "$w/share/team-a/"
head -c 500000 "$w/src/web01.ova" > "$w/share/broken/cut.ova"

cat > "$w/provider.yaml" <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: ova-secret
  namespace: default
type: Opaque
stringData:
  url: $w/share
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Provider
metadata:
  name: appliances
  namespace: default
spec:
  type: ova
  url: $w/share
  secret:
    name: ova-secret
    namespace: default
YAML
ferry apply -f "$w/provider.yaml" >/dev/null

out="$(ferry inventory refresh --provider appliances)"
expect_in "$out" "appliances"
vms1="$(ferry inventory vms --provider appliances -o json)"
expect_in "$vms1" "web01"
expect_in "$vms1" "team-a/web01.ova"
expect_in "$vms1" "broken/cut.ova"
expect_in "$vms1" "truncated"
expect_in "$vms1" "Critical"
expect_in "$vms1" "Off"

ferry inventory refresh --provider appliances >/dev/null
vms2="$(ferry inventory vms --provider appliances -o json)"
[ "$vms1" = "$vms2" ] || fail "the inventory changed across a rescan of unchanged files"

out="$(ferry inventory storages --provider appliances)"
expect_in "$out" "Dummy storage for source provider appliances"
out="$(ferry inventory networks --provider appliances)"
expect_in "$out" "VM Network"
out="$(ferry inventory disks --provider appliances)"
expect_in "$out" "web01-disk1.vmdk"
expect_in "$out" "16777216"

# An NFS url that is not mounted: a clear refusal naming the url.
sed -e "s|url: $w/share|url: nfs.invalid:/exports/ova|" \
    -e "s|name: appliances|name: nfs-appliances|" "$w/provider.yaml" > "$w/nfs.yaml"
ferry apply -f "$w/nfs.yaml" >/dev/null
expect_fail ferry inventory refresh --provider nfs-appliances
expect_in "$err" "nfs.invalid:/exports/ova"
expect_in "$err" "not mounted"
