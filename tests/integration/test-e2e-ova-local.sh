#!/bin/sh
# End to end, the embedded default path: OVAs built with qemu-img (sparse and
# dense disks, two disks per VM, two VMs in one OVA, plus a single-VM OVA)
# are migrated with Forklift manifests through `ferry start --wait` into the
# local destination.  Every output disk must be byte-identical to its source
# (qemu-img compare) and the SHA-256 ferry records must be that of the source.
. "$abs_top_srcdir/tests/functions.sh"
. "$abs_top_srcdir/tests/ova-manifests.sh"
command -v qemu-img >/dev/null 2>&1 || { echo "SKIP: qemu-img not installed"; exit 77; }
command -v qemu-nbd >/dev/null 2>&1 || { echo "SKIP: qemu-nbd not installed"; exit 77; }

w="$FERRY_STATE_DIR/work"
mkdir -p "$w/source"
MAKE_OVA_TWO_VMS=1 sh "$abs_top_srcdir/tests/make-ova.sh" "$w/build" pair >/dev/null
sh "$abs_top_srcdir/tests/make-ova.sh" "$w/build" solo >/dev/null
mv "$w/build/pair.ova" "$w/build/solo.ova" "$w/source/"

{ ova_manifests e2e "$w/source" host
cat <<YAML
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Plan
metadata: {name: e2e, namespace: e2e}
spec:
  provider: {source: {name: ova, namespace: e2e}, destination: {name: host, namespace: e2e}}
  map: {network: {name: net, namespace: e2e}, storage: {name: storage, namespace: e2e}}
  targetNamespace: migrated
  skipGuestConversion: true
  pvcNameTemplate: "{{.TargetVmName}}-d{{.DiskIndex}}"
  vms:
    - name: pair
    - name: pair-b
    - name: solo
      targetName: solo-renamed
YAML
} > "$w/manifests.yaml"
ferry apply -f "$w/manifests.yaml" >/dev/null
ferry inventory refresh --provider ova -n e2e >/dev/null
vms="$(ferry inventory vms --provider ova -n e2e)"
expect_in "$vms" "pair-b"
expect_in "$vms" "solo"

out="$(ferry start e2e -n e2e --wait)" || fail "migration failed: $out"
expect_in "$out" "pair-b: VirtualMachineCreation Completed"
expect_in "$out" "Succeeded"

mig="$(ferry get migrations -n e2e -o name | head -n1)"
ferry get "$mig" -n e2e -o json > "$w/status.json" 2>/dev/null \
  || ferry get migration "${mig#*/}" -n e2e -o json > "$w/status.json"

dest="$FERRY_STATE_DIR/local/migrated"
check_disk () {     # check_disk VM INDEX SOURCE-RAW
  img="$dest/$1/$1-d$2.img"
  [ -f "$img" ] || fail "no volume $img"
  qemu-img compare -q -f raw -F raw "$3" "$img" || fail "$img differs from $3"
  want="$(sha256sum "$3" | cut -d' ' -f1)"
  grep -q "\"sha256\": \"$want\"" "$w/status.json" \
    || fail "the sha256 of $3 ($want) is not among those ferry recorded"
}
check_disk pair 0 "$w/build/pair-disk1.raw"
check_disk pair 1 "$w/build/pair-disk2.raw"
check_disk pair-b 0 "$w/build/pair-disk3.raw"
check_disk pair-b 1 "$w/build/pair-disk4.raw"
check_disk solo-renamed 0 "$w/build/solo-disk1.raw"
check_disk solo-renamed 1 "$w/build/solo-disk2.raw"

# Sparse output: the 16 MiB disk with 1 MiB of data must not be allocated.
blocks=$(stat -c %b "$dest/pair/pair-d0.img")
[ "$blocks" -lt 8192 ] || fail "pair-d0.img is not sparse ($blocks blocks of 512 bytes)"
# The VM definitions exist and the domain XML validates.
[ -f "$dest/pair-b/pair-b.vm.yaml" ] || fail "no VirtualMachine manifest for pair-b"
grep -q "name: solo-renamed" "$dest/solo-renamed/solo-renamed.vm.yaml" || fail "targetName not honoured"
if command -v virt-xml-validate >/dev/null 2>&1; then
  virt-xml-validate "$dest/pair/pair.domain.xml" domain >/dev/null || fail "domain XML does not validate"
fi

# Starting the plan again migrates only what earlier migrations did not
# (as Forklift does): here nothing, so no disk is copied again.
before="$(stat -c %Y "$dest/pair/pair-d0.img")"
out="$(ferry start e2e -n e2e --wait)" || fail "a second start of a finished plan failed: $out"
case "$out" in *"DiskTransfer Running"*) fail "a finished VM was copied again: $out" ;; esac
[ "$(stat -c %Y "$dest/pair/pair-d0.img")" = "$before" ] || fail "a finished VM's volume was rewritten"
echo "6 disks of 3 VMs migrated byte-identical with matching SHA-256"
