#!/bin/sh
# ferry's embedded default, end to end: build a small OVA the way vSphere
# exports one (qemu-img, a real OVF, tar), then migrate it with Forklift's
# manifests into local disk images plus a KubeVirt VirtualMachine manifest
# and a libvirt domain XML.  Run from a built tree: ./examples/demo.sh
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
work=${FERRY_DEMO_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/ferry-demo.XXXXXX")}
export FERRY_STATE_DIR="$work/state"
build=${FERRY_BUILDDIR:-$top}   # where ./configure ran (the source tree for the README)
ferry () { "$build/run" ferry "$@"; }

echo "== building an OVA in $work/source"
"$top/tests/make-ova.sh" "$work/build" demo-vm >/dev/null
mkdir -p "$work/source"
mv "$work/build/demo-vm.ova" "$work/source/"

echo "== applying the manifests"
# Only the mktemp path is substituted into the YAML.
ferry apply -f - <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: ova-demo
  namespace: demo
  labels:
    createdForProviderType: ova
    createdForResourceType: providers
type: Opaque
stringData:
  url: $work/source
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Provider
metadata:
  name: ova-demo
  namespace: demo
spec:
  type: ova
  url: $work/source
  secret: {name: ova-demo, namespace: demo}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: NetworkMap
metadata:
  name: ova-demo-net
  namespace: demo
spec:
  provider:
    source: {name: ova-demo, namespace: demo}
    destination: {name: host, namespace: demo}
  map:
    - source: {name: VM Network}
      destination: {type: pod}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: StorageMap
metadata:
  name: ova-demo-storage
  namespace: demo
spec:
  provider:
    source: {name: ova-demo, namespace: demo}
    destination: {name: host, namespace: demo}
  map:
    - source: {name: Dummy storage for source provider ova-demo}
      destination: {storageClass: local}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Plan
metadata:
  name: demo
  namespace: demo
spec:
  provider:
    source: {name: ova-demo, namespace: demo}
    destination: {name: host, namespace: demo}
  map:
    network: {name: ova-demo-net, namespace: demo}
    storage: {name: ova-demo-storage, namespace: demo}
  targetNamespace: demo
  skipGuestConversion: true
  vms:
    - name: demo-vm
YAML

echo "== the source inventory"
ferry inventory refresh --provider ova-demo -n demo
ferry inventory vms --provider ova-demo -n demo

echo "== migrating"
ferry start demo -n demo --wait

out="$FERRY_STATE_DIR/local/demo/demo-vm"
echo "== the result in $out"
ls -l "$out"
for i in 1 2; do
  img=$(ls "$out"/*-disk-$((i - 1)).img)
  qemu-img compare -q -f raw -F raw "$work/build/demo-vm-disk$i.raw" "$img"
  echo "disk $i: identical to the source ($img)"
done
echo "== done; remove $work when finished"
