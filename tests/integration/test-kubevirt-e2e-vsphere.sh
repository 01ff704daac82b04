#!/bin/sh
# End to end into KubeVirt from vSphere: a vCenter-simulator VM whose
# datastore holds a real flat extent (data, a hole, data) is migrated cold
# with `ferry start --wait` (skipGuestConversion) into the kube peer (a real
# kube-apiserver; CDI played by cdi-sim.py).  This time the upload proxy
# URL comes from the Provider's settings and the upload is the async kind
# (followed by watching the DataVolume), and the DataVolume is slow to
# become UploadReady.  The bytes uploaded must be the
# simulator's flat file; the DataVolume, its PVC and the VirtualMachine
# (read back from the apiserver, which validated it against the schema)
# carry the plan's labels, the StorageMap's class and access mode, and
# the NetworkMap's networks.
. "$abs_top_srcdir/tests/functions.sh"
. "$abs_top_srcdir/tests/peers/vcsim/start.sh"
. "$abs_top_srcdir/tests/peers/kube/kube-test.sh"

vcsim_start -dc 1 -cluster 0 -host 0 -standalone-host 1 -vm 1 -ds 1 -pg 1 -cbt -disk-size 16777216 \
  -flat 4194304 -power-off
kube_start
ns=$KUBE_NS
w="$FERRY_STATE_DIR/work"
mkdir -p "$w"

printf '{"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
  "metadata": {"name": "vlan30", "namespace": "%s"}, "spec": {"config": "{}"}}' "$ns" |
  kc create "/apis/k8s.cni.cncf.io/v1/namespaces/$ns/network-attachment-definitions" - > /dev/null

{ vcsim_manifests vc
  echo ---
  kube_provider cluster "" "    uploadProxyURL: $UPLOAD_PROXY_URL
    uploadAsync: \"true\""
vcsim_maps vc cluster "{type: multus, name: vlan30, namespace: $ns}" "{name: LocalDS_0}" \
  "{storageClass: fast, accessMode: ReadWriteMany, volumeMode: Block}"
vcsim_plan cluster "$ns"
} > "$w/manifests.yaml"
ferry apply -f "$w/manifests.yaml" >/dev/null
ferry inventory refresh --provider vc >/dev/null
ferry inventory vm DC0_H0_VM0 --provider vc -o json > "$w/vm-src.json"

# The DataVolume stays UploadScheduled for 2 s: an upload before
# UploadReady would be the proxy's 503.
peer_ctl /faults '{"ready_delay": 2}' > /dev/null
out="$(ferry start from-vc --wait 2>&1)" || fail "migration failed: $out"
expect_in "$out" "Succeeded"

flat="$(sed -n 's/.*"flatPath": "\(.*\)",*$/\1/p' "$VCSIM_TRUTH" | head -n1)"
[ -f "$flat" ] || fail "the simulator wrote no flat extent ($flat)"
cmp "$flat" "$UPLOAD_DIR/$ns/vm0-d0.img" || fail "the bytes uploaded into vm0-d0 differ from $flat"
peer_ctl /stats > "$w/stats.json"
python3 - "$w/stats.json" <<'EOF' || fail "the upload was not one async stream after a delay: $(cat "$w/stats.json")"
import json, sys
ups = [u for u in json.load(open(sys.argv[1]))["uploads"] if u["outcome"] == "ok"]
assert len(ups) == 1 and ups[0]["async"] and ups[0]["pvc"] == "vm0-d0", ups
assert [d["dv"] for d in json.load(open(sys.argv[1]))["delays"]] == ["vm0-d0"]
EOF

plan_uid="$(ferry get plan from-vc -o json | python3 -c 'import json, sys; print(json.load(sys.stdin)["metadata"]["uid"])')"
kc get "/apis/cdi.kubevirt.io/v1beta1/namespaces/$ns/datavolumes/vm0-d0" > "$w/dv.json" || fail "no DataVolume vm0-d0"
kc get "/api/v1/namespaces/$ns/persistentvolumeclaims/vm0-d0" > "$w/pvc.json" || fail "no PVC vm0-d0"
kc get "/apis/kubevirt.io/v1/namespaces/$ns/virtualmachines/vm0" > "$w/vm.json" || fail "no VirtualMachine vm0"
python3 - "$w" "$plan_uid" <<'EOF' || fail "the objects of vm0 are wrong"
import json, sys
w, plan = sys.argv[1], sys.argv[2]
load = lambda n: json.load(open("%s/%s.json" % (w, n)))
dv, pvc, vm, src = load("dv"), load("pvc"), load("vm"), load("vm-src")
vmid = src["id"]
st = dv["spec"].get("storage") or dv["spec"].get("pvc")
assert st["storageClassName"] == "fast", st
assert st.get("accessModes") == ["ReadWriteMany"] and st.get("volumeMode") == "Block", st
assert dv["status"]["phase"] == "Succeeded", dv["status"]
assert pvc["metadata"]["ownerReferences"][0]["uid"] == dv["metadata"]["uid"]
assert pvc["spec"]["volumeMode"] == "Block" and pvc["spec"]["accessModes"] == ["ReadWriteMany"], pvc["spec"]
tpl = vm["spec"]["template"]["spec"]
refs = [(v.get("dataVolume") or {}).get("name") or (v.get("persistentVolumeClaim") or {}).get("claimName")
        for v in tpl["volumes"]]
assert "vm0-d0" in refs, tpl["volumes"]
# every source NIC became an interface with its MAC, on the mapped network
macs = sorted(n["mac"] for n in src["nics"])
ifaces = tpl["domain"]["devices"]["interfaces"]
assert sorted(i["macAddress"] for i in ifaces) == macs, (ifaces, macs)
nets = {n["name"]: n for n in tpl["networks"]}
for i in ifaces:
    n = nets[i["name"]]
    assert "pod" in n or n["multus"]["networkName"] in ("ferry-test/vlan30", "vlan30"), n
# last: Forklift's labels (the plan's uid, as the contract says) and annotations
problems = []
for obj in (dv, pvc, vm):
    lab = obj["metadata"]["labels"]
    if lab.get("plan") != plan or lab.get("vmID") != vmid:
        problems.append("%s labels %s, want plan=%s vmID=%s" % (obj["kind"], lab, plan, vmid))
ann = vm["metadata"].get("annotations") or {}
if ann.get("original-ID") != vmid or ann.get("original-name") != "DC0_H0_VM0":
    problems.append("VirtualMachine annotations %s, want original-ID=%s original-name=DC0_H0_VM0" % (ann, vmid))
assert not problems, "; ".join(problems)
EOF
echo "DC0_H0_VM0 migrated into KubeVirt: async upload byte-identical, objects as the schema wants"
