#!/bin/sh
# What goes wrong on the way into KubeVirt, through `ferry start --wait`
# against the kube peer (a real kube-apiserver with RBAC and the
# KubeVirt/CDI schemas; CDI played by cdi-sim.py).  One OVA VM (two disks),
# one plan per failure:
#   403        a ServiceAccount token (TokenRequest API) that may only read
#   storage    a StorageMap naming a StorageClass the cluster lacks
#   network    a NetworkMap naming a NetworkAttachmentDefinition that is absent
#   clash      a VirtualMachine of the target name already exists
#   drop       every upload stream is cut after 1 MiB by the upload proxy
#   conflict   a DataVolume (not ferry's) already has the disk's PVC name
# Each must fail with an error that names the object, and leave nothing of
# ferry's in the namespace (DataVolumes, PVCs, VirtualMachines, Secrets,
# Jobs by label), while the objects ferry did not create stay.
. "$abs_top_srcdir/tests/functions.sh"
. "$abs_top_srcdir/tests/ova-manifests.sh"
. "$abs_top_srcdir/tests/peers/kube/kube-test.sh"
command -v qemu-img >/dev/null 2>&1 || { echo "SKIP: qemu-img not installed"; exit 77; }
command -v qemu-nbd >/dev/null 2>&1 || { echo "SKIP: qemu-nbd not installed"; exit 77; }
kube_start
ns=$KUBE_NS
CDI=/apis/cdi.kubevirt.io/v1beta1/namespaces/$ns
VMS=/apis/kubevirt.io/v1/namespaces/$ns/virtualmachines
w="$FERRY_STATE_DIR/work"
mkdir -p "$w/source"
sh "$abs_top_srcdir/tests/make-ova.sh" "$w/build" solo >/dev/null
mv "$w/build/solo.ova" "$w/source/"

# A ServiceAccount that may read everything and write nothing.
sa_token="$(kube_sa_token limited)"
cat > "$w/rbac.json" <<EOF
{"apiVersion": "v1", "kind": "List", "items": [
 {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "ferry-read-only"},
  "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list", "watch"]}]},
 {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "ferry-read-only"},
  "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "ferry-read-only"},
  "subjects": [{"kind": "ServiceAccount", "name": "limited", "namespace": "$ns"}]}]}
EOF
kc apply "$w/rbac.json"

# Objects ferry did not create: a NAD, a VirtualMachine and a DataVolume
# that later plans collide with.
cat > "$w/foreign.json" <<EOF
{"apiVersion": "v1", "kind": "List", "items": [
 {"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
  "metadata": {"name": "vlan20", "namespace": "$ns"}, "spec": {"config": "{}"}},
 {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": "taken", "namespace": "$ns"},
  "spec": {"running": false, "template": {"spec": {"domain": {"devices": {}}}}}},
 {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume", "metadata": {"name": "tconflict-d0", "namespace": "$ns"},
  "spec": {"source": {"blank": {}}, "storage": {"resources": {"requests": {"storage": "1Mi"}}}}}]}
EOF
kc apply "$w/foreign.json"
foreign="datavolumes/tconflict-d0 persistentvolumeclaims/tconflict-d0 virtualmachines/taken "

# plan NAME TARGET PROVIDER STORAGE-DEST NETWORK-DEST: a plan of its own maps.
plan () {
  cat <<YAML
---
apiVersion: forklift.konveyor.io/v1beta1
kind: NetworkMap
metadata: {name: $1, namespace: default}
spec:
  provider: {source: {name: ova, namespace: default}, destination: {name: $3, namespace: default}}
  map:
    - source: {name: VM Network}
      destination: $5
---
apiVersion: forklift.konveyor.io/v1beta1
kind: StorageMap
metadata: {name: $1, namespace: default}
spec:
  provider: {source: {name: ova, namespace: default}, destination: {name: $3, namespace: default}}
  map:
    - source: {name: Dummy storage for source provider ova}
      destination: $4
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Plan
metadata: {name: $1, namespace: default}
spec:
  provider: {source: {name: ova, namespace: default}, destination: {name: $3, namespace: default}}
  map: {network: {name: $1, namespace: default}, storage: {name: $1, namespace: default}}
  targetNamespace: $ns
  skipGuestConversion: true
  pvcNameTemplate: "{{.TargetVmName}}-d{{.DiskIndex}}"
  vms:
    - name: solo
      targetName: $2
YAML
}
good_sc="{storageClass: standard}"
pod="{type: pod}"
{ kube_provider cluster
  echo ---
  kube_provider limited "$sa_token"
  echo ---
  ova_manifests default "$w/source"
  plan p403 t403 limited "$good_sc" "$pod"
  plan nosc tnosc cluster "{storageClass: nosuch}" "$pod"
  plan nonad tnonad cluster "$good_sc" "{type: multus, name: absent, namespace: $ns}"
  plan clash taken cluster "$good_sc" "$pod"
  plan drop tdrop cluster "$good_sc" "{type: multus, name: vlan20, namespace: $ns}"
  plan conflict tconflict cluster "$good_sc" "$pod"
} > "$w/manifests.yaml"
ferry apply -f "$w/manifests.yaml" >/dev/null
ferry inventory refresh --provider ova >/dev/null

# nothing_left PLAN: poll (bounded) until no object of ferry's remains (the
# peer's garbage collector removes a deleted DataVolume's PVC a moment
# later); the foreign ones must stay.  What remains is reported at the end
# (so every case runs) and removed, so the next case starts clean.
nothing_left () {
  i=0
  while [ -n "$(kube_left app.kubernetes.io/created-by=ferry)" ]; do
    i=$((i + 1))
    if [ $i -ge 30 ]; then
      later "$1 left behind: $(kube_left app.kubernetes.io/created-by=ferry | tr '\n' ' ')
  (ferry said: $(printf '%s\n' "$out$err" | grep -E 'Failed|error' | head -n 3))"
      kube_delete app.kubernetes.io/created-by=ferry
      i=0
      while [ -n "$(kube_left app.kubernetes.io/created-by=ferry)" ] && [ $i -lt 30 ]; do
        i=$((i + 1)); sleep 0.3
      done
      break
    fi
    sleep 0.3
  done
  [ "$(kube_left "" | grep -E 'tconflict-d0|virtualmachines/taken$' | sort | tr '\n' ' ')" = "$foreign" ] ||
    fail "$1 touched objects ferry did not create: $(kube_left "")"
}
problems=""
later () { problems="$problems
$*"; }
solo_id="$(ferry inventory vms --provider ova -o json | python3 -c '
import json, sys
d = json.load(sys.stdin)
items = d["items"] if isinstance(d, dict) and "items" in d else d
print([v["id"] for v in items if v["name"] == "solo"][0])')"

# check PLAN NEEDLE...: the migration (or its start) fails, the error holds
# every NEEDLE, and nothing is left.
check () {
  p=$1; shift
  expect_fail ferry start "$p" --wait
  for needle in "$@"; do
    expect_in "$out$err" "$needle"
  done
  nothing_left "$p"
  echo "$p: failed as it should"
}

check p403 "403" "create" "datavolumes" "system:serviceaccount:$ns:limited"
# Plan validation asks the cluster (validate_targets): refused before any copy.
check nosc "is not ready" "storage class not found" "nosuch"
check nonad "is not ready" "Destination network not found" "absent"
check clash "taken" "already exists"
peer_ctl /faults '{"upload_drop_after": 1048576, "count": 1000}' > /dev/null
check drop "tdrop-d"
peer_ctl /stats | grep -q 'dropped (injected) after 1048576 bytes' || fail "no upload of plan drop was cut"
peer_ctl /reset '{}' > /dev/null
check conflict "tconflict-d0" "already exists"

# The foreign objects are as they were.
[ "$(kjson "$VMS/taken" '"labels" in o["metadata"]')" = False ] || fail "VirtualMachine taken was relabelled"
[ "$(kjson "$CDI/datavolumes/tconflict-d0" 'o["status"]["phase"]')" = Succeeded ] ||
  fail "DataVolume tconflict-d0 was changed"
[ -z "$problems" ] || fail "$problems"
echo "6 failures reported with the object named, nothing left behind"
