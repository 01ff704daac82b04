#!/bin/sh
# The kubevirt destination module driven callback by callback
# (tests/kubevirt-driver) against the kube peer: a real kube-apiserver with
# the KubeVirt/CDI CRDs (schemas from the published OpenAPI), and
# tests/peers/kube/cdi-sim.py playing CDI's controller, the
# UploadTokenRequest API (a stand-in: aggregation cannot reach it) and the
# upload proxy.  Checks: discovery and authentication, the kubeconfig path,
# a disk uploaded byte for byte, a name clash, a missing StorageClass, a
# 403 with the verb and resource, a 422 with its field, a dropped upload,
# the VirtualMachine as the apiserver stored it, a missing NAD, power on,
# and cleanup removing exactly the plan's labelled objects, twice.
. "$abs_top_srcdir/tests/functions.sh"
. "$abs_top_srcdir/tests/peers/kube/kube-test.sh"

driver="$abs_top_builddir/tests/kubevirt-driver"
client_test="$abs_top_builddir/tests/unit/test-kubevirt-client"
[ -x "$driver" ] && [ -x "$client_test" ] || { echo "SKIP: $driver or $client_test not built"; exit 77; }
kube_start

# The API client alone: TLS, pagination, the 409 retry, real Status errors.
${FERRY_VALGRIND:-} "$client_test"

t="$FERRY_STATE_DIR/kv"
mkdir -p "$t"
# The Provider spec and Secret the core would hand to open().
python3 - "$t" <<'EOF'
import json, os, sys
t = sys.argv[1]
env = os.environ
settings = {"uploadProxyURL": env["UPLOAD_PROXY_URL"], "cdiUploadAPIURL": env["UPLOAD_API_URL"],
            "uploadReadyTimeout": "20", "uploadDoneTimeout": "20"}
json.dump({"url": env["KUBE_URL"], "settings": settings}, open(t + "/prov.json", "w"))
json.dump({"url": "", "settings": settings}, open(t + "/prov-kubeconfig.json", "w"))
json.dump({"url": env["KUBE_URL"], "settings": dict(settings, uploadAsync="true")},
          open(t + "/prov-async.json", "w"))
bundle = open(env["KUBE_CA_BUNDLE"]).read()
json.dump({"token": env["KUBE_TOKEN"], "cacert": bundle}, open(t + "/secret.json", "w"))
json.dump({"token": "wrong", "cacert": bundle}, open(t + "/bad-secret.json", "w"))
json.dump({"token": env["KUBE_TOKEN"], "cacert": open(t + "/../kube/peer-ca.crt").read()},
          open(t + "/wrong-ca.json", "w"))
def vol(name, vm="vm-7", sc="standard", size=17 * 1048576 + 512):
    return {"name": name, "namespace": env["KUBE_NS"], "capacity": size, "format": "raw",
            "storageClass": sc, "volumeMode": "Filesystem", "accessMode": "ReadWriteOnce",
            "labels": {"plan": "p1", "migration": "p1-run1", "vmID": vm}}
json.dump(vol("web-disk-0"), open(t + "/vol.json", "w"))
json.dump(vol("web-disk-0", vm="vm-8"), open(t + "/vol-clash.json", "w"))
json.dump(vol("web-disk-1", sc="nope"), open(t + "/vol-nosc.json", "w"))
json.dump(vol("web-disk-2"), open(t + "/vol-drop.json", "w"))
json.dump(vol("web-disk-3", vm="vm 7"), open(t + "/vol-invalid.json", "w"))
json.dump(vol("web-disk-4"), open(t + "/vol-403.json", "w"))
json.dump(vol("web-disk-5"), open(t + "/vol-async.json", "w"))
ns = env["KUBE_NS"]
json.dump({"namespace": ns, "storageClasses": ["standard", "nope"],
           "networks": [{"type": "pod"}, {"type": "multus", "name": "vlan20"},
                        {"type": "multus", "name": "absent", "namespace": "other"}]},
          open(t + "/targets-bad.json", "w"))
json.dump({"namespace": "nowhere"}, open(t + "/targets-nons.json", "w"))
json.dump({"namespace": ns, "storageClasses": ["standard", "fast"], "networks": [{"type": "pod"}]},
          open(t + "/targets-ok.json", "w"))
spec = json.load(open(env["abs_top_srcdir"] + "/tests/data/vmspec/vmware-efi-secureboot.json"))
spec.update({"name": "web", "namespace": env["KUBE_NS"], "sourceId": "vm-7", "sourceName": "Web Server",
             "serial": "4213a6c9-7e1f", "powerState": "off", "runStrategy": "",
             "labels": {"plan": "p1", "migration": "p1-run1", "vmID": "vm-7", "team": "a"}})
spec["disks"] = [{"id": "2000", "capacity": 17 * 1048576 + 512, "bus": "scsi", "volume": "web-disk-0"}]
spec["nics"][1]["target"] = {"type": "multus", "name": "vlan20", "namespace": env["KUBE_NS"]}
json.dump(spec, open(t + "/spec.json", "w"))
json.dump([vol("web-disk-0")], open(t + "/vols.json", "w"))
EOF
# Objects of a selector not being deleted: without a controller-manager,
# the apiserver's pvc-protection finalizer keeps a deleted PVC listed as
# Terminating (deletionTimestamp set) where a real cluster would drop it.
kube_live () {
  for res in /apis/cdi.kubevirt.io/v1beta1/namespaces/$KUBE_NS/datavolumes \
             /api/v1/namespaces/$KUBE_NS/persistentvolumeclaims \
             /apis/kubevirt.io/v1/namespaces/$KUBE_NS/virtualmachines \
             /api/v1/namespaces/$KUBE_NS/secrets \
             /apis/batch/v1/namespaces/$KUBE_NS/jobs; do
    kc get "$res?labelSelector=$1" | python3 -c '
import json, sys
for i in json.load(sys.stdin)["items"]:
    if not i["metadata"].get("deletionTimestamp"):
        print(sys.argv[1].rsplit("/", 1)[-1] + "/" + i["metadata"]["name"])' "$res"
  done
}
kv () { "$driver" "$t/$1" "$2" "$3" ${4+"$4"} ${5+"$5"}; }

# --- connection: discovery and authentication, TLS, the kubeconfig path.
kv prov.json "$t/secret.json" test
expect_fail kv prov.json "$t/bad-secret.json" test
expect_in "$err" "unauthorized"
expect_fail kv prov.json "$t/wrong-ca.json" test
expect_in "$err" "GET $KUBE_URL/apis"
KUBECONFIG="$KUBECONFIG_FILE" kv prov-kubeconfig.json - test

# --- plan validation's questions (validate_targets).
out=$(kv prov.json "$t/secret.json" validate "$t/targets-bad.json")
expect_in "$out" '{"type":"DestinationStorageNotValid","category":"Critical","reason":"NotFound","message":"Destination storage class not found: nope.","items":["nope"]}'
expect_in "$out" '"message":"Destination network not found: '"$KUBE_NS"'/vlan20, other/absent.","items":["'"$KUBE_NS"'/vlan20","other/absent"]}'
out=$(kv prov.json "$t/secret.json" validate "$t/targets-nons.json")
expect_in "$out" '"type":"NamespaceNotValid"'
expect_in "$out" '"items":["nowhere"]'
[ "$(kv prov.json "$t/secret.json" validate "$t/targets-ok.json")" = "[]" ] || fail "clean targets have conditions"

# --- a disk uploaded, identical at the proxy; the DataVolume as stored.
# 17 MiB: the module's 8 MiB ring buffer wraps round twice.
head -c 17826304 /dev/urandom > "$t/disk.img"
kv prov.json "$t/secret.json" upload "$t/vol.json" "$t/disk.img" > "$t/upload.out" 2> "$t/upload.err"
cmp "$t/disk.img" "$UPLOAD_DIR/$KUBE_NS/web-disk-0.img" || fail "uploaded bytes differ"
dv=/apis/cdi.kubevirt.io/v1beta1/namespaces/$KUBE_NS/datavolumes/web-disk-0
[ "$(kjson "$dv" 'o["status"]["phase"]')" = Succeeded ] || fail "DataVolume not Succeeded"
[ "$(kjson "$dv" 'o["metadata"]["labels"]["vmID"] + "," + o["metadata"]["labels"]["app.kubernetes.io/created-by"]')" = "vm-7,ferry" ] ||
  fail "DataVolume labels"
[ "$(kjson "$dv" 'o["spec"]["storage"]["resources"]["requests"]["storage"] + "," + o["spec"]["storage"]["storageClassName"]')" = "17826304,standard" ] ||
  fail "DataVolume storage"

# The async endpoint: the module still waits for Succeeded.
kv prov-async.json "$t/secret.json" upload "$t/vol-async.json" "$t/disk.img" > /dev/null 2>&1
cmp "$t/disk.img" "$UPLOAD_DIR/$KUBE_NS/web-disk-5.img" || fail "async upload differs"
[ "$(kjson /apis/cdi.kubevirt.io/v1beta1/namespaces/$KUBE_NS/datavolumes/web-disk-5 'o["status"]["phase"]')" = Succeeded ] ||
  fail "async DataVolume not Succeeded"
expect_in "$(peer_ctl /stats)" '"async": true'

# --- refusals, each leaving nothing behind.
expect_fail kv prov.json "$t/secret.json" upload "$t/vol-clash.json" "$t/disk.img"
expect_in "$err" "DataVolume $KUBE_NS/web-disk-0 already exists and was not created by this plan for this VM"
expect_fail kv prov.json "$t/secret.json" upload "$t/vol-nosc.json" "$t/disk.img"
expect_in "$err" "StorageClass nope not found"
expect_fail kv prov.json "$t/secret.json" upload "$t/vol-invalid.json" "$t/disk.img"
expect_in "$err" "kubevirt: create datavolumes.cdi.kubevirt.io in namespace $KUBE_NS: invalid: metadata.labels: Invalid value: \"vm 7\""

# 403: a service account that may only read DataVolumes.
kc create /apis/rbac.authorization.k8s.io/v1/namespaces/$KUBE_NS/roles - > /dev/null <<EOF
{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "dv-reader"},
 "rules": [{"apiGroups": ["cdi.kubevirt.io"], "resources": ["datavolumes"], "verbs": ["get", "list"]}]}
EOF
kc create /apis/rbac.authorization.k8s.io/v1/namespaces/$KUBE_NS/rolebindings - > /dev/null <<EOF
{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "dv-reader"},
 "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "dv-reader"},
 "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": "$KUBE_NS"}]}
EOF
sa_token=$(kube_sa_token reader)
SA_TOKEN="$sa_token" python3 -c '
import json, os, sys
s = json.load(open(sys.argv[1])); s["token"] = os.environ["SA_TOKEN"]
json.dump(s, open(sys.argv[2], "w"))' "$t/secret.json" "$t/sa-secret.json"
expect_fail kv prov.json "$t/sa-secret.json" upload "$t/vol-403.json" "$t/disk.img"
expect_in "$err" "kubevirt: forbidden: cannot create datavolumes.cdi.kubevirt.io in namespace $KUBE_NS"
case "$err" in *"$sa_token"*) fail "the token appears in an error" ;; esac

# An upload the proxy drops half way: the error, and cleanup removes it.
peer_ctl /faults '{"upload_drop_after": 1048576}' > /dev/null
expect_fail kv prov.json "$t/secret.json" upload "$t/vol-drop.json" "$t/disk.img"
expect_in "$err" "kubevirt: upload to PVC $KUBE_NS/web-disk-2"

# --- the VirtualMachine: a missing NAD first, then as the apiserver stored it.
expect_fail kv prov.json "$t/secret.json" vm-create "$t/spec.json" "$t/vols.json"
expect_in "$err" "Destination network not found: NetworkAttachmentDefinition $KUBE_NS/vlan20"
kc apply - > /dev/null <<EOF
{"apiVersion": "k8s.cni.cncf.io/v1", "kind": "NetworkAttachmentDefinition",
 "metadata": {"name": "vlan20", "namespace": "$KUBE_NS"}, "spec": {"config": "{}"}}
EOF
[ "$(kv prov.json "$t/secret.json" vm-exists "$KUBE_NS" web)" = 0 ] || fail "vm_exists before create"
kv prov.json "$t/secret.json" vm-create "$t/spec.json" "$t/vols.json"
[ "$(kv prov.json "$t/secret.json" vm-exists "$KUBE_NS" web)" = 1 ] || fail "vm_exists after create"
vm=/apis/kubevirt.io/v1/namespaces/$KUBE_NS/virtualmachines/web
got=$(kjson "$vm" '",".join([o["spec"]["runStrategy"], o["metadata"]["labels"]["plan"], o["metadata"]["labels"]["team"],
  o["metadata"]["annotations"]["original-ID"], o["metadata"]["annotations"]["openshift.io/display-name"],
  o["spec"]["template"]["spec"]["volumes"][0]["dataVolume"]["name"],
  o["spec"]["template"]["spec"]["domain"]["firmware"]["serial"],
  o["spec"]["template"]["spec"]["networks"][1]["multus"]["networkName"],
  o["spec"]["template"]["spec"]["nodeSelector"]["kubernetes.io/arch"]])')
[ "$got" = "Halted,p1,a,vm-7,Web Server,web-disk-0,4213a6c9-7e1f,$KUBE_NS/vlan20,amd64" ] ||
  fail "VirtualMachine as stored: $got"
expect_fail kv prov.json "$t/secret.json" vm-create "$t/spec.json" "$t/vols.json"
expect_in "$err" "kubevirt: create virtualmachines.kubevirt.io in namespace $KUBE_NS: already exists"
kv prov.json "$t/secret.json" power-on "$KUBE_NS" web
[ "$(kjson "$vm" 'o["spec"]["runStrategy"]')" = Always ] || fail "power on"

# --- cleanup: exactly plan p1 / vm-7, idempotent; others' objects stay.
kc create "/api/v1/namespaces/$KUBE_NS/secrets" - > /dev/null <<EOF
{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "other-vm", "labels": {"plan": "p1", "vmID": "vm-8"}}}
EOF
kc create "/api/v1/namespaces/$KUBE_NS/secrets" - > /dev/null <<EOF
{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "ours", "labels": {"plan": "p1", "vmID": "vm-7"}}}
EOF
[ -n "$(kube_live plan%3Dp1,vmID%3Dvm-7)" ] || fail "nothing labelled before cleanup"
kv prov.json "$t/secret.json" cleanup p1 vm-7
left=$(kube_live plan%3Dp1,vmID%3Dvm-7)
[ -z "$left" ] || fail "left after cleanup: $left"
others=$(kube_live plan%3Dp1,vmID%3Dvm-8)
expect_in "$others" "other-vm"
[ "$(printf '%s\n' "$others" | wc -l)" -eq 1 ] || fail "unexpected objects of vm-8: $others"
kv prov.json "$t/secret.json" cleanup p1 vm-7
expect_fail kv prov.json "$t/secret.json" cleanup "" vm-7
expect_in "$err" "cleanup needs a plan and a VM id"
echo "PASS"
