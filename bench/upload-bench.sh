#!/bin/sh
# upload-bench.sh [SIZE_MIB]: a whole migration into KubeVirt against curl.
#
# One OVA VM with one SIZE_MIB (default 1024) disk, sparse but full of data
# (4 MiB of random bytes in every 16 MiB, a monolithicSparse VMDK), is
# migrated with `ferry start --wait` (skipGuestConversion) into the kube
# peer (tests/peers/kube: a real kube-apiserver, CDI's controller, token API
# and upload proxy played in Python).  ferry's time covers everything: plan
# start, DataVolume, UploadReady, token, reading the VMDK through qemu-nbd,
# the SIZE_MIB upload stream (a CDI upload carries the zeroes too), Succeeded
# and the VirtualMachine.  Then `curl -T RAW -X POST` sends the same disk's
# raw bytes to the same proxy (DataVolume and token made beforehand: curl
# times only the bytes).  Both uploads are compared with the raw disk.
# Run from the build directory after `make`.  Needs qemu-img, qemu-nbd, curl
# and what the kube peer needs.  (bench/kubevirt-upload-bench.sh times the
# module alone, through tests/kubevirt-driver.)
set -eu
size=${1:-1024}
build=$(pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
[ -x "$build/cli/ferry" ] || { echo "run from a build directory after make" >&2; exit 1; }
for tool in qemu-img qemu-nbd curl; do
  command -v $tool >/dev/null || { echo "$tool not found" >&2; exit 1; }
done
export abs_top_srcdir="$src" abs_top_builddir="$build"
dir=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/ferry-upload-bench.XXXXXX")
FERRY_STATE_DIR=$dir/state
export FERRY_STATE_DIR
trap 'sh "$src/tests/peers/kube/kube-env.sh" stop "$dir/kube"; rm -rf "$dir"' EXIT
ferry () { "$build/run" "$build/cli/ferry" "$@"; }
. "$src/tests/ova-manifests.sh"
kc () { python3 "$src/tests/peers/kube/kubeclient.py" "$@"; }
now () { date +%s.%N; }

# The disk: SIZE_MIB, 4 MiB of random data at the start of every 16 MiB.
raw=$dir/disk.raw
qemu-img create -q -f raw "$raw" "${size}M"
i=0
while [ $i -lt "$size" ]; do
  head -c 4194304 /dev/urandom | dd of="$raw" conv=notrunc bs=1M seek=$i status=none
  i=$((i + 16))
done
mkdir -p "$dir/ova/bench" "$dir/source"
qemu-img convert -q -f raw -O vmdk -o subformat=monolithicSparse "$raw" "$dir/ova/bench/bench-disk1.vmdk"
cap=$(stat -c %s "$raw")
vmdk_size=$(stat -c %s "$dir/ova/bench/bench-disk1.vmdk")
cat > "$dir/ova/bench/bench.ovf" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vmw="http://www.vmware.com/schema/ovf" xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData">
  <References><File ovf:href="bench-disk1.vmdk" ovf:id="file1" ovf:size="$vmdk_size"/></References>
  <DiskSection><Info>Disks</Info>
    <Disk ovf:capacity="$cap" ovf:capacityAllocationUnits="byte" ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#sparse"/>
  </DiskSection>
  <NetworkSection><Info>Networks</Info><Network ovf:name="VM Network"><Description>net</Description></Network></NetworkSection>
  <VirtualSystem ovf:id="bench"><Info>A VM</Info><Name>bench</Name>
    <OperatingSystemSection ovf:id="101" vmw:osType="otherLinux64Guest"><Info>OS</Info></OperatingSystemSection>
    <VirtualHardwareSection><Info>Hardware</Info>
      <System><vssd:ElementName>Virtual Hardware Family</vssd:ElementName><vssd:InstanceID>0</vssd:InstanceID><vssd:VirtualSystemType>vmx-19</vssd:VirtualSystemType></System>
      <Item><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>1</rasd:VirtualQuantity></Item>
      <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>512</rasd:VirtualQuantity></Item>
      <Item><rasd:Address>0</rasd:Address><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceSubType>lsilogic</rasd:ResourceSubType><rasd:ResourceType>6</rasd:ResourceType></Item>
      <Item><rasd:AddressOnParent>0</rasd:AddressOnParent><rasd:ElementName>Hard disk 1</rasd:ElementName><rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource><rasd:InstanceID>4</rasd:InstanceID><rasd:Parent>3</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item>
      <Item><rasd:Address>00:50:56:00:00:5a</rasd:Address><rasd:Connection>VM Network</rasd:Connection><rasd:ElementName>Network adapter 1</rasd:ElementName><rasd:InstanceID>5</rasd:InstanceID><rasd:ResourceSubType>VmxNet3</rasd:ResourceSubType><rasd:ResourceType>10</rasd:ResourceType></Item>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
EOF
(cd "$dir/ova/bench" && tar --format=ustar -cf "$dir/source/bench.ova" bench.ovf bench-disk1.vmdk)
rm -rf "$dir/ova"

sh "$src/tests/peers/kube/kube-env.sh" start "$dir/kube" > "$dir/kube-env.log" 2>&1 ||
  { cat "$dir/kube-env.log" >&2; exit 1; }
set -a; . "$dir/kube/env"; set +a
ns=$KUBE_NS
{
  printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: cluster, namespace: default}\nstringData:\n'
  printf '  token: %s\n  cacert: |\n' "$KUBE_TOKEN"
  sed 's/^/    /' "$KUBE_CA_BUNDLE"
  cat <<YAML
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Provider
metadata: {name: cluster, namespace: default}
spec:
  type: openshift
  url: $KUBE_URL
  secret: {name: cluster, namespace: default}
  settings: {cdiUploadAPIURL: "$UPLOAD_API_URL"}
YAML
  echo ---
  ova_manifests default "$dir/source" cluster "{type: pod}" "{storageClass: standard}"
  cat <<YAML
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Plan
metadata: {name: bench, namespace: default}
spec:
  provider: {source: {name: ova, namespace: default}, destination: {name: cluster, namespace: default}}
  map: {network: {name: net, namespace: default}, storage: {name: storage, namespace: default}}
  targetNamespace: $ns
  skipGuestConversion: true
  pvcNameTemplate: "{{.TargetVmName}}-d{{.DiskIndex}}"
  vms: [{name: bench}]
YAML
} > "$dir/manifests.yaml"
ferry apply -f "$dir/manifests.yaml" > /dev/null
ferry inventory refresh --provider ova > /dev/null
cat "$raw" > /dev/null                  # both sides start from a warm page cache

t0=$(now)
ferry start bench --wait > "$dir/ferry.out" 2>&1 || { cat "$dir/ferry.out" >&2; exit 1; }
t1=$(now)
cmp "$raw" "$UPLOAD_DIR/$ns/bench-d0.img"
rm -f "$UPLOAD_DIR/$ns/bench-d0.img"

# curl: the DataVolume and the token first (not timed), then the bytes.
kc create "/apis/cdi.kubevirt.io/v1beta1/namespaces/$ns/datavolumes" - > /dev/null <<EOF
{"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume", "metadata": {"name": "curl-disk"},
 "spec": {"source": {"upload": {}}, "storage": {"storageClassName": "standard",
          "resources": {"requests": {"storage": "$cap"}}}}}
EOF
until [ "$(kc get "/apis/cdi.kubevirt.io/v1beta1/namespaces/$ns/datavolumes/curl-disk" |
          python3 -c 'import json, sys; print(json.load(sys.stdin).get("status", {}).get("phase", ""))')" = UploadReady ]; do
  sleep 0.2
done
printf 'header = "Authorization: Bearer %s"\n' "$KUBE_TOKEN" > "$dir/api.conf"
chmod 600 "$dir/api.conf"
printf '{"apiVersion": "upload.cdi.kubevirt.io/v1beta1", "kind": "UploadTokenRequest", "metadata": {"name": "curl-disk", "namespace": "%s"}, "spec": {"pvcName": "curl-disk"}}' "$ns" |
  curl -sf --cacert "$KUBE_CA_BUNDLE" -K "$dir/api.conf" -H 'Content-Type: application/json' --data-binary @- \
    "$UPLOAD_API_URL/apis/upload.cdi.kubevirt.io/v1beta1/namespaces/$ns/uploadtokenrequests" |
  python3 -c 'import json, sys; print("header = \"Authorization: Bearer %s\"" % json.load(sys.stdin)["status"]["token"])' \
    > "$dir/upload.conf"
t2=$(now)
curl -sf --cacert "$KUBE_CA_BUNDLE" -K "$dir/upload.conf" -H 'Content-Type: application/octet-stream' \
  -X POST -T "$raw" "$UPLOAD_PROXY_URL/v1beta1/upload" > /dev/null
t3=$(now)
cmp "$raw" "$UPLOAD_DIR/$ns/curl-disk.img"

curl -sf "$PEER_CTL/stats" > "$dir/stats.json"
python3 - "$size" "$t0" "$t1" "$t2" "$t3" "$dir/stats.json" <<'EOF'
import json, sys
size = int(sys.argv[1]); t0, t1, t2, t3 = map(float, sys.argv[2:6])
f, c = t1 - t0, t3 - t2
print("%d MiB disk (1/4 data): ferry migration (OVA -> KubeVirt, everything) %.2f s = %.0f MiB/s; "
      "curl -T (bytes only) %.2f s = %.0f MiB/s; ferry/curl throughput %.2f"
      % (size, f, size / f, c, size / c, c / f))
# The proxy's own view: from the request's first body byte to the last.
for u in json.load(open(sys.argv[6]))["uploads"]:
    if u["outcome"] == "ok":
        print("  proxy: %s %s, %.2f s in the body = %.0f MiB/s"
              % (u["pvc"], "chunked" if u["chunked"] else "Content-Length",
                 u["seconds"], u["bytes"] / 1048576 / u["seconds"]))
EOF
