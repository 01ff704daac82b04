#!/bin/sh
# Opt-in: guest conversion of a real Linux guest, end to end, with a crash.
# Set FERRY_TEST_GUEST_IMAGE to a raw disk image of a Linux guest whose
# /etc/fstab names /dev/sda1 (tests/make-guest-image.sh builds a Debian 12
# one offline from Debian packages).  Without it the test is skipped: one
# conversion takes minutes under TCG (about 4 with that image).
#
# The image goes into an OVA (streamOptimized VMDK, as VMware exports), the
# plan converts it into the local destination, and the engine is killed
# with SIGKILL right after the first converted overlay was committed into
# its volume.  The resumed run commits again from the intact overlay and
# creates the VM: the volume now holds the converted guest (/etc/fstab says
# /dev/vda1, the initramfs has virtio_blk), the domain XML uses virtio
# (no compatibility devices), no overlay or conversion process is left and
# the OVA's disk is untouched.
. "$abs_top_srcdir/tests/functions.sh"
. "$abs_top_srcdir/tests/integration/engine-null-manifests.sh"
. "$abs_top_srcdir/tests/ova-manifests.sh"
img="${FERRY_TEST_GUEST_IMAGE:-}"
[ -n "$img" ] || {
  echo "SKIP: set FERRY_TEST_GUEST_IMAGE to a Linux guest's raw image (tests/make-guest-image.sh OUT.img makes one)"
  exit 77
}
[ -f "$img" ] || fail "FERRY_TEST_GUEST_IMAGE=$img does not exist"
for p in qemu-img qemu-nbd python3 pgrep virt-v2v-in-place guestfish tar; do
  command -v $p >/dev/null 2>&1 || { echo "SKIP: $p not installed"; exit 77; }
done
if [ -n "${FERRY_VALGRIND:-}" ]; then
  echo "SKIP: a process killed with SIGKILL cannot be checked by valgrind"; exit 77
fi
export LIBGUESTFS_BACKEND="${LIBGUESTFS_BACKEND:-direct}"
export LIBGUESTFS_BACKEND_SETTINGS="${LIBGUESTFS_BACKEND_SETTINGS-force_tcg}"
unset FERRY_VIRT_V2V_IN_PLACE

w="$FERRY_STATE_DIR/work"
mkdir -p "$w/source" "$w/ova"
qemu-img convert -q -f raw -O vmdk -o subformat=streamOptimized "$img" "$w/ova/guest-disk1.vmdk"
cap=$(qemu-img info --output=json -f raw "$img" | python3 -c 'import json,sys; print(json.load(sys.stdin)["virtual-size"])')
cat > "$w/ova/guest.ovf" <<OVF
<?xml version="1.0" encoding="UTF-8"?>
<Envelope vmw:buildId="build-0" xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vmw="http://www.vmware.com/schema/ovf" xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData">
  <References>
    <File ovf:href="guest-disk1.vmdk" ovf:id="file1" ovf:size="$(stat -c %s "$w/ova/guest-disk1.vmdk")"/>
  </References>
  <DiskSection>
    <Info>Virtual disk information</Info>
    <Disk ovf:capacity="$cap" ovf:capacityAllocationUnits="byte" ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>
  </DiskSection>
  <NetworkSection>
    <Info>The list of logical networks</Info>
    <Network ovf:name="VM Network"><Description>The VM Network network</Description></Network>
  </NetworkSection>
  <VirtualSystem ovf:id="guest">
    <Info>A virtual machine</Info>
    <Name>guest</Name>
    <OperatingSystemSection ovf:id="96" vmw:osType="debian11_64Guest">
      <Info>The kind of installed guest operating system</Info>
    </OperatingSystemSection>
    <VirtualHardwareSection>
      <Info>Virtual hardware requirements</Info>
      <System><vssd:ElementName>Virtual Hardware Family</vssd:ElementName><vssd:InstanceID>0</vssd:InstanceID><vssd:VirtualSystemType>vmx-19</vssd:VirtualSystemType></System>
      <Item><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>1</rasd:VirtualQuantity></Item>
      <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>1024</rasd:VirtualQuantity></Item>
      <Item><rasd:Address>0</rasd:Address><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceSubType>lsilogic</rasd:ResourceSubType><rasd:ResourceType>6</rasd:ResourceType></Item>
      <Item><rasd:AddressOnParent>0</rasd:AddressOnParent><rasd:ElementName>Hard disk 1</rasd:ElementName><rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource><rasd:InstanceID>4</rasd:InstanceID><rasd:Parent>3</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item>
      <Item><rasd:Address>00:50:56:00:00:3a</rasd:Address><rasd:Connection>VM Network</rasd:Connection><rasd:ElementName>Network adapter 1</rasd:ElementName><rasd:InstanceID>5</rasd:InstanceID><rasd:ResourceSubType>VmxNet3</rasd:ResourceSubType><rasd:ResourceType>10</rasd:ResourceType></Item>
      <vmw:Config ovf:required="false" vmw:key="firmware" vmw:value="bios"/>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
OVF
( cd "$w/ova" && tar --format=ustar -cf "$w/source/guest.ova" guest.ovf guest-disk1.vmdk )
ova_sum="$(sha256sum < "$w/source/guest.ova")"

{ ova_manifests t "$w/source" host
cat <<YAML
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Plan
metadata: {name: guest, namespace: t}
spec:
  provider: {source: {name: ova, namespace: t}, destination: {name: host, namespace: t}}
  map: {network: {name: net, namespace: t}, storage: {name: storage, namespace: t}}
  targetNamespace: out
  pvcNameTemplate: "{{.TargetVmName}}-d{{.DiskIndex}}"
  vms: [{name: guest}]
YAML
} > "$w/m.yaml"
ferry apply -f "$w/m.yaml" >/dev/null
ferry inventory refresh --provider ova -n t >/dev/null
dest="$FERRY_STATE_DIR/local/out/guest"
vol="$dest/guest-d0.img"

conv_phase () {
  migration_json "$m" | python3 -c '
import json, sys
print(json.load(sys.stdin)["status"]["vms"][0].get("conversion", {}).get("phase", ""))'
}

# 1. Converted, then killed after the first commit.
t0=$(date +%s)
set +e
FERRY_TEST_CRASH_AT=ImageConversion:commit ferry start guest -n t --wait > "$w/run1.out" 2>&1
rc=$?
set -e
t1=$(date +%s)
[ $rc -eq 137 ] || fail "expected SIGKILL (137) while committing, got $rc: $(tail -20 "$w/run1.out")"
m="$(plan_migrations guest)"
[ "$(vm_phases "$m")" = "guest=ImageConversion" ] || fail "after the kill: $(vm_phases "$m")"
[ "$(conv_phase)" = Committing ] || fail "conversion phase after the kill: $(conv_phase)"
ls "$FERRY_STATE_DIR"/conversion/t/*/disk-0.qcow2 >/dev/null || fail "the overlay is gone before the commit was recorded"
i=0
while pgrep -f "$FERRY_STATE_DIR/conversion" >/dev/null 2>&1; do
  i=$((i + 1)); [ $i -lt 100 ] || fail "conversion processes left: $(pgrep -af "$FERRY_STATE_DIR/conversion")"
  sleep 0.1
done

# 2. Resumed: the commit is redone, the VM created.
out="$(ferry run "$m" -n t)" || fail "resume failed: $out"
expect_in "$out" "Succeeded"
case "$out" in *"ImageConversion Running: Inspecting"*) fail "the resumed run converted again: $out" ;; esac
[ "$(vm_phases "$m")" = "guest=Completed" ] || fail "after the resume: $(vm_phases "$m")"
[ "$(conv_phase)" = Committed ] || fail "conversion phase: $(conv_phase)"
[ -z "$(find "$FERRY_STATE_DIR/conversion" -type f)" ] || fail "overlays left: $(find "$FERRY_STATE_DIR/conversion" -type f)"

# The volume holds the converted guest; the source is untouched.
fstab="$(guestfish --ro -a "$vol" -i cat /etc/fstab)"
expect_in "$fstab" "/dev/vda1"
case "$fstab" in *"/dev/sda1"*) fail "fstab not converted: $fstab" ;; esac
initrd="$(guestfish --ro -a "$vol" -i sh 'lsinitramfs /boot/initrd.img-* | grep virtio_blk' 2>/dev/null || :)"
expect_in "$initrd" "virtio_blk.ko"
[ "$(sha256sum < "$w/source/guest.ova")" = "$ova_sum" ] || fail "the OVA changed"
grep -Eq "bus=[\"']virtio" "$dest/guest.domain.xml" || fail "the converted VM does not use virtio: $(cat "$dest/guest.domain.xml")"
if grep -Eq "bus=[\"']sata" "$dest/guest.domain.xml"; then fail "compatibility devices on a converted VM"; fi
log="$(ls "$FERRY_STATE_DIR"/logs/vm/t/guest.*.log)"
grep -q "Converting" "$log" || fail "no conversion output in the VM log"
echo "converted a real guest in $((t1 - t0)) s (copy + conversion), resumed after a kill mid-commit"
