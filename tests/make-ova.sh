#!/bin/sh
# make-ova.sh OUTDIR NAME: build a real OVA the way VMware exports one.
#
# Creates, in OUTDIR:
#   NAME-disk1.raw, NAME-disk2.raw   the source images (known content)
#   NAME/                            the unpacked OVF directory:
#                                    NAME.ovf, NAME.mf (SHA256), and
#                                    NAME-disk1.vmdk (streamOptimized),
#                                    NAME-disk2.vmdk (monolithicSparse)
#   NAME.ova                         a ustar archive of the same files,
#                                    the OVF first as the OVF spec requires
# With MAKE_OVA_TWO_VMS=1 the OVF holds a VirtualSystemCollection of two
# VMs: NAME (disks 1 and 2, as above) and NAME-b with NAME-disk3.raw (8 MiB,
# dense: random data throughout) and NAME-disk4.raw (2 MiB, sparse), whose
# VMDKs are streamOptimized.
# Needs qemu-img, sha256sum and tar.  Exits 77 (skip) without qemu-img.
set -eu
out=${1:?usage: make-ova.sh OUTDIR NAME}
name=${2:?usage: make-ova.sh OUTDIR NAME}
command -v qemu-img >/dev/null 2>&1 || { echo "make-ova.sh: qemu-img not found" >&2; exit 77; }

mkdir -p "$out/$name"
d1="$out/$name-disk1.raw"
d2="$out/$name-disk2.raw"

# disk1: 16 MiB, data at a few places, holes between (so extents matter).
qemu-img create -q -f raw "$d1" 16M
printf 'ferry-ova disk1 sector 0 boot' | dd of="$d1" conv=notrunc bs=1 seek=0 status=none
head -c 1048576 /dev/urandom | dd of="$d1" conv=notrunc bs=1M seek=3 status=none
printf 'ferry-ova disk1 last sector' | dd of="$d1" conv=notrunc bs=1 seek=16776704 status=none
# disk2: 4 MiB (+ 3 sectors: a size that is not a multiple of a cluster).
qemu-img create -q -f raw "$d2" 4196352
head -c 65536 /dev/urandom | dd of="$d2" conv=notrunc bs=64K seek=10 status=none

qemu-img convert -q -f raw -O vmdk -o subformat=streamOptimized "$d1" "$out/$name/$name-disk1.vmdk"
qemu-img convert -q -f raw -O vmdk -o subformat=monolithicSparse "$d2" "$out/$name/$name-disk2.vmdk"
files="$name-disk1.vmdk $name-disk2.vmdk"
if [ "${MAKE_OVA_TWO_VMS:-0}" = 1 ]; then
  d3="$out/$name-disk3.raw"
  d4="$out/$name-disk4.raw"
  head -c 8388608 /dev/urandom > "$d3"
  qemu-img create -q -f raw "$d4" 2M
  printf 'ferry-ova disk4' | dd of="$d4" conv=notrunc bs=1 seek=1048576 status=none
  qemu-img convert -q -f raw -O vmdk -o subformat=streamOptimized "$d3" "$out/$name/$name-disk3.vmdk"
  qemu-img convert -q -f raw -O vmdk -o subformat=streamOptimized "$d4" "$out/$name/$name-disk4.vmdk"
  files="$files $name-disk3.vmdk $name-disk4.vmdk"
fi
c1=$(stat -c %s "$d1")

# vs ID CPUS MAC DISK-A DISK-B: one VirtualSystem with two disks on one
# SCSI controller and one NIC on "VM Network".
vs () {
  cat <<VS
  <VirtualSystem ovf:id="$1">
    <Info>A virtual machine</Info>
    <Name>$1</Name>
    <OperatingSystemSection ovf:id="101" vmw:osType="otherLinux64Guest">
      <Info>The kind of installed guest operating system</Info>
    </OperatingSystemSection>
    <VirtualHardwareSection>
      <Info>Virtual hardware requirements</Info>
      <System><vssd:ElementName>Virtual Hardware Family</vssd:ElementName><vssd:InstanceID>0</vssd:InstanceID><vssd:VirtualSystemType>vmx-19</vssd:VirtualSystemType></System>
      <Item><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>$2</rasd:VirtualQuantity><vmw:CoresPerSocket ovf:required="false">$2</vmw:CoresPerSocket></Item>
      <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>1024</rasd:VirtualQuantity></Item>
      <Item><rasd:Address>0</rasd:Address><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceSubType>lsilogic</rasd:ResourceSubType><rasd:ResourceType>6</rasd:ResourceType></Item>
      <Item><rasd:AddressOnParent>0</rasd:AddressOnParent><rasd:ElementName>Hard disk 1</rasd:ElementName><rasd:HostResource>ovf:/disk/$4</rasd:HostResource><rasd:InstanceID>4</rasd:InstanceID><rasd:Parent>3</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item>
      <Item><rasd:AddressOnParent>1</rasd:AddressOnParent><rasd:ElementName>Hard disk 2</rasd:ElementName><rasd:HostResource>ovf:/disk/$5</rasd:HostResource><rasd:InstanceID>5</rasd:InstanceID><rasd:Parent>3</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item>
      <Item><rasd:Address>$3</rasd:Address><rasd:Connection>VM Network</rasd:Connection><rasd:ElementName>Network adapter 1</rasd:ElementName><rasd:InstanceID>6</rasd:InstanceID><rasd:ResourceSubType>VmxNet3</rasd:ResourceSubType><rasd:ResourceType>10</rasd:ResourceType></Item>
      <vmw:Config ovf:required="false" vmw:key="firmware" vmw:value="bios"/>
    </VirtualHardwareSection>
  </VirtualSystem>
VS
}

# file N FORMAT: the References and DiskSection lines of disk N.
file_ref () {
  printf '    <File ovf:href="%s-disk%s.vmdk" ovf:id="file%s" ovf:size="%s"/>\n' \
    "$name" "$1" "$1" "$(stat -c %s "$out/$name/$name-disk$1.vmdk")"
}
disk_ref () {
  printf '    <Disk ovf:capacity="%s" ovf:capacityAllocationUnits="byte" ovf:diskId="vmdisk%s" ovf:fileRef="file%s" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#%s"/>\n' \
    "$(stat -c %s "$out/$name-disk$1.raw")" "$1" "$1" "$2"
}

{
  cat <<HEAD
<?xml version="1.0" encoding="UTF-8"?>
<Envelope vmw:buildId="build-0" xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vmw="http://www.vmware.com/schema/ovf" xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData">
  <References>
HEAD
  file_ref 1; file_ref 2
  [ "${MAKE_OVA_TWO_VMS:-0}" = 1 ] && { file_ref 3; file_ref 4; }
  cat <<MID
  </References>
  <DiskSection>
    <Info>Virtual disk information</Info>
    <Disk ovf:capacity="$c1" ovf:capacityAllocationUnits="byte" ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized" ovf:populatedSize="1048576"/>
MID
  disk_ref 2 sparse
  [ "${MAKE_OVA_TWO_VMS:-0}" = 1 ] && { disk_ref 3 streamOptimized; disk_ref 4 streamOptimized; }
  cat <<NET
  </DiskSection>
  <NetworkSection>
    <Info>The list of logical networks</Info>
    <Network ovf:name="VM Network"><Description>The VM Network network</Description></Network>
  </NetworkSection>
NET
  if [ "${MAKE_OVA_TWO_VMS:-0}" = 1 ]; then
    printf '  <VirtualSystemCollection ovf:id="%s-collection">\n    <Info>A collection of virtual machines</Info>\n' "$name"
    vs "$name" 2 00:50:56:00:00:2a vmdisk1 vmdisk2
    vs "$name-b" 1 00:50:56:00:00:2b vmdisk3 vmdisk4
    printf '  </VirtualSystemCollection>\n'
  else
    vs "$name" 2 00:50:56:00:00:2a vmdisk1 vmdisk2
  fi
  echo '</Envelope>'
} > "$out/$name/$name.ovf"

(
  cd "$out/$name"
  # shellcheck disable=SC2086
  for f in "$name.ovf" $files; do
    printf 'SHA256(%s)= %s\n' "$f" "$(sha256sum "$f" | cut -d' ' -f1)"
  done > "$name.mf"
  # shellcheck disable=SC2086
  tar --format=ustar -cf "../$name.ova" "$name.ovf" "$name.mf" $files
)
