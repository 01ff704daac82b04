#!/bin/sh
# End to end into KubeVirt from an OVA: a real OVA of two VMs (four disks:
# sparse, dense, odd-sized) is migrated with Forklift manifests through
# `ferry start --wait` into the kube peer (a real kube-apiserver with the
# KubeVirt/CDI CRDs generated from their OpenAPI; CDI played by cdi-sim.py).
# The upload proxy URL is discovered from CDIConfig.  Checks, reading the
# objects back from the apiserver (which validated them against the
# schema): a DataVolume per disk with the StorageMap's class, the plan's
# PVC names and Forklift's labels; its PVC owned by it; uploaded bytes
# identical to the source disk; a VirtualMachine per VM with the same
# labels, Forklift's annotations, CPU, memory, MAC, the NAD of the
# NetworkMap, and its volumes referencing the DataVolumes.
. "$abs_top_srcdir/tests/functions.sh"
. "$abs_top_srcdir/tests/ova-manifests.sh"
. "$abs_top_srcdir/tests/peers/kube/kube-test.sh"
command -v qemu-img >/dev/null 2>&1 || { echo "SKIP: qemu-img not installed"; exit 77; }
command -v qemu-nbd >/dev/null 2>&1 || { echo "SKIP: qemu-nbd not installed"; exit 77; }
kube_start
ns=$KUBE_NS
# later MESSAGE: a failure reported at the end, so the other checks still run.
problems=""
later () { problems="$problems
$*"; }
CDI=/apis/cdi.kubevirt.io/v1beta1/namespaces/$ns
VMS=/apis/kubevirt.io/v1/namespaces/$ns/virtualmachines

w="$FERRY_STATE_DIR/work"
mkdir -p "$w/source"
MAKE_OVA_TWO_VMS=1 sh "$abs_top_srcdir/tests/make-ova.sh" "$w/build" pair >/dev/null
mv "$w/build/pair.ova" "$w/source/"

printf '{"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
  "metadata": {"name": "vlan20", "namespace": "%s"},
  "spec": {"config": "{\\"cniVersion\\": \\"0.3.1\\", \\"type\\": \\"bridge\\", \\"bridge\\": \\"br20\\"}"}}' "$ns" |
  kc create "/apis/k8s.cni.cncf.io/v1/namespaces/$ns/network-attachment-definitions" - > /dev/null

{ kube_provider cluster
  echo ---
  ova_manifests default "$w/source" cluster "{type: multus, name: vlan20, namespace: $ns}" "{storageClass: standard}"
cat <<YAML
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Plan
metadata: {name: to-kubevirt, namespace: default}
spec:
  provider: {source: {name: ova, namespace: default}, destination: {name: cluster, namespace: default}}
  map: {network: {name: net, namespace: default}, storage: {name: storage, namespace: default}}
  targetNamespace: $ns
  skipGuestConversion: true
  pvcNameTemplate: "{{.TargetVmName}}-d{{.DiskIndex}}"
  vms:
    - name: pair
    - name: pair-b
      targetName: second
YAML
} > "$w/manifests.yaml"
ferry apply -f "$w/manifests.yaml" >/dev/null
ferry inventory refresh --provider ova >/dev/null
ferry inventory vms --provider ova -o json > "$w/vms.json"

out="$(ferry start to-kubevirt --wait 2>&1)" || fail "migration failed: $out"
expect_in "$out" "Succeeded"

plan_uid="$(ferry get plan to-kubevirt -o json | python3 -c 'import json, sys; print(json.load(sys.stdin)["metadata"]["uid"])')"
mig_uid="$(ferry get migrations -o json | python3 -c '
import json, sys
d = json.load(sys.stdin)
items = d["items"] if "items" in d else (d if isinstance(d, list) else [d])
print(items[0]["metadata"]["uid"])')"
vm_id () {      # the inventory id of source VM $1
  python3 - "$w/vms.json" "$1" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
items = d["items"] if isinstance(d, dict) and "items" in d else d
print([v["id"] for v in items if v["name"] == sys.argv[2]][0])
EOF
}

# check_disk DV SOURCE-RAW SOURCE-VM: the DataVolume, its PVC and its bytes.
check_disk () {
  kc get "$CDI/datavolumes/$1" > "$w/dv.json" || fail "no DataVolume $1: $(kube_left "")"
  python3 - "$w/dv.json" "$plan_uid" "$mig_uid" "$(vm_id "$3")" "$(stat -c %s "$2")" <<'EOF' || fail "DataVolume $1 is wrong"
import json, re, sys
dv, plan, mig, vm, size = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
lab, spec = dv["metadata"]["labels"], dv["spec"]
# (plan and migration: checked last, with label selectors)
want = {"vmID": vm, "app.kubernetes.io/created-by": "ferry"}
for k, v in want.items():
    assert lab.get(k) == v, "label %s=%r, want %r" % (k, lab.get(k), v)
assert "upload" in spec["source"], spec["source"]
st = spec.get("storage") or spec.get("pvc")
assert st["storageClassName"] == "standard", st
q = str(st["resources"]["requests"]["storage"])
m = re.fullmatch(r"(\d+)(Ki|Mi|Gi)?", q)
n = int(m.group(1)) * {None: 1, "Ki": 1024, "Mi": 1 << 20, "Gi": 1 << 30}[m.group(2)]
assert n >= size, "requests %s < the disk's %d bytes" % (q, size)
assert dv["status"]["phase"] == "Succeeded", dv["status"]
EOF
  kc get "/api/v1/namespaces/$ns/persistentvolumeclaims/$1" > "$w/pvc.json" || fail "no PVC $1"
  python3 - "$w/pvc.json" "$w/dv.json" <<'EOF' || fail "PVC $1 is wrong"
import json, sys
pvc, dv = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
own = pvc["metadata"]["ownerReferences"][0]
assert (own["kind"], own["name"], own["uid"]) == ("DataVolume", dv["metadata"]["name"], dv["metadata"]["uid"]), own
for k in ("plan", "migration", "vmID"):
    assert pvc["metadata"]["labels"][k] == dv["metadata"]["labels"][k], k
assert pvc["status"]["phase"] == "Bound"
EOF
  cmp "$2" "$UPLOAD_DIR/$ns/$1.img" || fail "the bytes uploaded into $1 differ from $2"
}
check_disk pair-d0 "$w/build/pair-disk1.raw" pair
check_disk pair-d1 "$w/build/pair-disk2.raw" pair
check_disk second-d0 "$w/build/pair-disk3.raw" pair-b
check_disk second-d1 "$w/build/pair-disk4.raw" pair-b

# check_vm NAME SOURCE-VM CORES MAC: the VirtualMachine as the apiserver stored it.
check_vm () {
  kc get "$VMS/$1" > "$w/vm.json" || fail "no VirtualMachine $1"
  python3 - "$w/vm.json" "$plan_uid" "$(vm_id "$2")" "$2" "$3" "$4" "$1" <<'EOF' || fail "VirtualMachine $1 is wrong: $(cat "$w/vm.json")"
import json, re, sys
vm, plan, vmid, src, cores, mac, name = json.load(open(sys.argv[1])), *sys.argv[2:]
md, tpl = vm["metadata"], vm["spec"]["template"]["spec"]
assert md["labels"]["vmID"] == vmid, md["labels"]
dom = tpl["domain"]
cpu = dom.get("cpu") or {}
assert cpu.get("sockets", 1) * cpu.get("cores", 1) * cpu.get("threads", 1) == int(cores), cpu
mem = (dom.get("memory") or {}).get("guest") or dom["resources"]["requests"]["memory"]
assert mem in ("1Gi", "1024Mi", 1073741824, "1073741824"), mem
ifaces = dom["devices"]["interfaces"]
assert [i.get("macAddress") for i in ifaces] == [mac], ifaces
nets = tpl["networks"]
assert len(nets) == 1 and nets[0]["name"] == ifaces[0]["name"], nets
assert nets[0]["multus"]["networkName"] in ("ferry-test/vlan20", "vlan20"), nets
disks = [d["name"] for d in dom["devices"]["disks"]]
claims = {}
for v in tpl["volumes"]:
    ref = (v.get("dataVolume") or {}).get("name") or (v.get("persistentVolumeClaim") or {}).get("claimName")
    claims[v["name"]] = ref
assert sorted(claims.get(d) for d in disks) == [name + "-d0", name + "-d1"], (disks, claims)
EOF
  # Forklift's annotations name the VM as the source knew it.
  [ "$(kjson "$VMS/$1" '(o["metadata"].get("annotations") or {}).get("original-name")')" = "$2" ] ||
    later "VirtualMachine $1: annotation original-name is not the source name $2: $(kjson "$VMS/$1" 'o["metadata"].get("annotations")')"
}
check_vm pair pair 2 00:50:56:00:00:2a
check_vm second pair-b 1 00:50:56:00:00:2b

# Each upload was one stream.
ok="$(peer_ctl /stats | python3 -c 'import json, sys; print(sum(u["outcome"] == "ok" for u in json.load(sys.stdin)["uploads"]))')"
[ "$ok" = 4 ] || fail "$ok successful uploads for 4 disks: $(peer_ctl /stats)"
# Exactly what the plan made, found by Forklift's labels: plan=<plan uid>,
# migration=<migration uid> (the contract; cleanup selects on plan + vmID).
all="datavolumes/pair-d0 datavolumes/pair-d1 datavolumes/second-d0 datavolumes/second-d1 persistentvolumeclaims/pair-d0 persistentvolumeclaims/pair-d1 persistentvolumeclaims/second-d0 persistentvolumeclaims/second-d1 virtualmachines/pair virtualmachines/second "
[ "$(kube_left "plan=$plan_uid" | sort | tr '\n' ' ')" = "$all" ] ||
  later "objects labelled plan=$plan_uid (the plan's uid): $(kube_left "plan=$plan_uid"); labels found: $(kjson "$CDI/datavolumes/pair-d0" 'o["metadata"]["labels"]')"
[ "$(kube_left "migration=$mig_uid" | sort | tr '\n' ' ')" = "$all" ] ||
  later "objects labelled migration=$mig_uid (the migration's uid): $(kube_left "migration=$mig_uid")"
[ -z "$problems" ] || fail "$problems"
echo "2 VMs (4 disks) of an OVA migrated into KubeVirt: objects as the schema wants, bytes identical"
