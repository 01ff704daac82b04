#!/bin/sh
# The KubeVirt destination's test peer, checked on its own with curl (what
# the module's tests rely on): the real apiserver validates VirtualMachines
# against the schema generated from KubeVirt's OpenAPI (422 with the field),
# the CDI stand-in turns a DataVolume into a bound PVC it owns and an
# UploadReady phase, the UploadTokenRequest stand-in asks the apiserver's RBAC
# (403 for a service account without the right), the upload proxy writes
# exactly the bytes it was sent (Content-Length and chunked, sync and async)
# and refuses bad tokens, oversized images and injected faults; deleting a
# DataVolume collects its PVC.
. "$abs_top_srcdir/tests/functions.sh"
. "$abs_top_srcdir/tests/peers/kube/kube-test.sh"
command -v curl >/dev/null 2>&1 || { echo "SKIP: curl not installed"; exit 77; }
kube_start
w="$FERRY_STATE_DIR/work"
mkdir -p "$w"
ns=$KUBE_NS
CDI=/apis/cdi.kubevirt.io/v1beta1/namespaces/$ns

# wait_for WHAT CMD...: poll CMD until it succeeds (bounded, not timed).
wait_for () {
  what=$1; shift
  i=0
  until "$@" >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -lt 600 ] || fail "gave up waiting for $what"
    sleep 0.1
  done
}
dv_phase_is () { [ "$(kjson "$CDI/datavolumes/$1" 'o.get("status", {}).get("phase")')" = "$2" ]; }

# --- the schema bites: a wrong type is the apiserver's 422, naming the field
cat > "$w/vm-bad.json" <<EOF
{"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": "bad", "namespace": "$ns"},
 "spec": {"running": false, "template": {"spec": {"domain": {"devices": {}, "cpu": {"cores": "two"}}}}}}
EOF
out="$(kc request POST "/apis/kubevirt.io/v1/namespaces/$ns/virtualmachines" "$w/vm-bad.json")"
expect_in "$out" "422"
expect_in "$out" "spec.template.spec.domain.cpu.cores in body must be of type integer"
# domain.devices is required by KubeVirt's schema
sed 's/"devices": {}, "cpu": {"cores": "two"}/"cpu": {"cores": 2}/' "$w/vm-bad.json" > "$w/vm-nodev.json"
out="$(kc request POST "/apis/kubevirt.io/v1/namespaces/$ns/virtualmachines" "$w/vm-nodev.json")"
expect_in "$out" "422"
expect_in "$out" "spec.template.spec.domain.devices"
# a right one is stored, with unknown fields pruned and Quantities kept
cat > "$w/vm-good.json" <<EOF
{"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": "good", "namespace": "$ns"},
 "spec": {"runStrategy": "Halted", "template": {"spec": {"noSuchField": 1, "domain": {
   "cpu": {"cores": 2}, "memory": {"guest": "1Gi"}, "resources": {"requests": {"memory": 1073741824}},
   "devices": {"disks": [{"name": "d0", "disk": {"bus": "virtio"}}]}},
   "volumes": [{"name": "d0", "dataVolume": {"name": "d0"}}]}}}}
EOF
kc create "/apis/kubevirt.io/v1/namespaces/$ns/virtualmachines" "$w/vm-good.json" > "$w/vm-good.out" ||
  fail "a valid VirtualMachine was refused: $(cat "$w/vm-good.out")"
[ "$(kjson "/apis/kubevirt.io/v1/namespaces/$ns/virtualmachines/good" '"noSuchField" in o["spec"]["template"]["spec"]')" = False ] ||
  fail "an unknown field was not pruned"
[ "$(kjson "/apis/kubevirt.io/v1/namespaces/$ns/virtualmachines/good" 'o["spec"]["template"]["spec"]["domain"]["memory"]["guest"]')" = 1Gi ] ||
  fail "a Quantity was not kept"
kc request DELETE "/apis/kubevirt.io/v1/namespaces/$ns/virtualmachines/good" > /dev/null

# --- a DataVolume becomes a bound PVC it owns, then UploadReady
dv_json () {    # dv_json NAME CLASS SIZE
  printf '{"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume",
    "metadata": {"name": "%s", "namespace": "%s", "labels": {"plan": "p1", "vmID": "vm-%s"}},
    "spec": {"source": {"upload": {}}, "storage": {"storageClassName": "%s",
      "resources": {"requests": {"storage": "%s"}}}}}' "$1" "$ns" "$1" "$2" "$3"
}
dv_json d1 standard 16Mi | kc create "$CDI/datavolumes" - > /dev/null
wait_for "d1 UploadReady" dv_phase_is d1 UploadReady
pvc=/api/v1/namespaces/$ns/persistentvolumeclaims/d1
[ "$(kjson "$pvc" 'o["metadata"]["ownerReferences"][0]["uid"]')" = \
  "$(kjson "$CDI/datavolumes/d1" 'o["metadata"]["uid"]')" ] || fail "PVC d1 is not owned by DataVolume d1"
[ "$(kjson "$pvc" 'o["metadata"]["labels"]["vmID"] + " " + o["status"]["phase"] + " " + o["spec"]["volumeMode"]')" = \
  "vm-d1 Bound Filesystem" ] || fail "PVC d1: labels, phase or volume mode wrong: $(kc get "$pvc")"

# --- the token stand-in asks the apiserver who may create upload tokens
utr () { printf '{"apiVersion": "upload.cdi.kubevirt.io/v1beta1", "kind": "UploadTokenRequest",
  "metadata": {"name": "%s", "namespace": "%s"}, "spec": {"pvcName": "%s"}}' "$1" "$ns" "$1"; }
token_request () {   # token_request PVC TOKEN: the HTTP code; the body in $w/utr.out
  printf 'Authorization: Bearer %s\n' "$2" > "$w/auth"
  utr "$1" | curl -s -o "$w/utr.out" -w '%{http_code}' --cacert "$KUBE_CA_BUNDLE" -H @"$w/auth" \
    -H 'Content-Type: application/json' --data-binary @- \
    "$UPLOAD_API_URL/apis/upload.cdi.kubevirt.io/v1beta1/namespaces/$ns/uploadtokenrequests"
}
[ "$(token_request d1 not-a-token)" = 401 ] || fail "a bad bearer token was not refused"
sa="$(kube_sa_token nobody)"
[ "$(token_request d1 "$sa")" = 403 ] || fail "a service account without RBAC got a token: $(cat "$w/utr.out")"
expect_in "$(cat "$w/utr.out")" 'User \"system:serviceaccount:ferry-test:nobody\" cannot create resource \"uploadtokenrequests\"'
[ "$(token_request nosuch "$KUBE_TOKEN")" = 404 ] || fail "a token for a missing PVC was issued"
[ "$(token_request d1 "$KUBE_TOKEN")" = 201 ] || fail "token request: $(cat "$w/utr.out")"
tok="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["status"]["token"])' "$w/utr.out")"

# --- uploads: exactly the bytes sent, holes kept
head -c 1048576 /dev/urandom > "$w/src.img"
truncate -s 12M "$w/src.img"
printf 'tail' >> "$w/src.img"
upload () {     # upload TOKEN PATH FILE [CURL-ARGS]: the HTTP code
  printf 'Authorization: Bearer %s\n' "$1" > "$w/auth"
  f=$3; p=$2; shift 3
  curl -s -o "$w/upload.out" -w '%{http_code}' --cacert "$KUBE_CA_BUNDLE" -H @"$w/auth" \
    -H 'Content-Type: application/octet-stream' "$@" -X POST -T "$f" "$UPLOAD_PROXY_URL$p" || true
}
[ "$(upload not-a-token /v1beta1/upload "$w/src.img")" = 401 ] || fail "a bad upload token was accepted"
peer_ctl /faults '{"upload_status": 500}' > /dev/null
[ "$(upload "$tok" /v1beta1/upload "$w/src.img")" = 500 ] || fail "the injected 500 was not answered"
peer_ctl /faults '{"upload_drop_after": 1048576}' > /dev/null
code="$(upload "$tok" /v1beta1/upload "$w/src.img")"
[ "$code" != 200 ] || fail "a dropped upload was answered 200"
[ ! -e "$UPLOAD_DIR/$ns/d1.img" ] || fail "a dropped upload left an image"
dv_phase_is d1 UploadReady || fail "a dropped upload changed the DataVolume's phase"
expect_in "$(peer_ctl /stats)" "dropped (injected) after 1048576 bytes"
[ "$(upload "$tok" /v1beta1/upload "$w/src.img")" = 200 ] || fail "upload: $(cat "$w/upload.out")"
cmp "$w/src.img" "$UPLOAD_DIR/$ns/d1.img" || fail "the uploaded image differs from the source"
[ "$(stat -c %b "$UPLOAD_DIR/$ns/d1.img")" -lt 8192 ] || fail "the zero blocks were written out"
dv_phase_is d1 Succeeded || fail "d1 is not Succeeded after a sync upload"
[ "$(kjson "$pvc" 'o["metadata"]["annotations"]["cdi.kubevirt.io/storage.pod.phase"]')" = Succeeded ] ||
  fail "PVC d1 lacks the upload pod phase annotation"
[ "$(upload "$tok" /v1beta1/upload "$w/src.img")" = 503 ] || fail "a finished DataVolume took a second upload"

# async and chunked, on the "fast" class (Block volumes from its StorageProfile)
peer_ctl /faults '{"ready_delay": 1}' > /dev/null
dv_json d2 fast 16Mi | kc create "$CDI/datavolumes" - > /dev/null
wait_for "d2 UploadReady" dv_phase_is d2 UploadReady
expect_in "$(peer_ctl /stats)" '"delays": [{"ns": "ferry-test", "dv": "d2", "seconds": 1.0}]'

[ "$(kjson "/api/v1/namespaces/$ns/persistentvolumeclaims/d2" 'o["spec"]["volumeMode"] + " " + o["spec"]["accessModes"][0]')" = \
  "Block ReadWriteMany" ] || fail "PVC d2 did not take the fast StorageProfile's modes"
[ "$(token_request d2 "$KUBE_TOKEN")" = 201 ] || fail "token request d2: $(cat "$w/utr.out")"
tok2="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["status"]["token"])' "$w/utr.out")"
head -c 4096 "$w/src.img" > "$w/small.img"
truncate -s 17M "$w/small.img"
[ "$(upload "$tok2" /v1beta1/upload-async "$w/small.img")" = 400 ] || fail "an image larger than its PVC was accepted"
[ "$(upload "$tok2" /v1beta1/upload-async "$w/src.img" -H 'Transfer-Encoding: chunked')" = 200 ] ||
  fail "async chunked upload: $(cat "$w/upload.out")"
expect_in "$(peer_ctl /stats)" '"async": true, "chunked": true, "bytes": 12582916, "outcome": "ok"'
wait_for "d2 Succeeded" dv_phase_is d2 Succeeded
cmp "$w/src.img" "$UPLOAD_DIR/$ns/d2.img" || fail "the async upload differs from the source"

# --- a missing StorageClass: no PVC, the DataVolume says why
dv_json d3 nosuch 1Mi | kc create "$CDI/datavolumes" - > /dev/null
wait_for "d3 Pending" dv_phase_is d3 Pending
expect_in "$(kc get "$CDI/datavolumes/d3")" 'storageclass.storage.k8s.io \"nosuch\" not found'
kc get "/api/v1/namespaces/$ns/persistentvolumeclaims/d3" > /dev/null 2>&1 && fail "a PVC was made without its StorageClass"

# --- deleting a DataVolume collects its PVC (and the image)
kc request DELETE "$CDI/datavolumes/d1" > /dev/null
pvc_gone () { ! kc get "$pvc" > /dev/null 2>&1; }
wait_for "PVC d1 collected" pvc_gone
wait_for "d1.img removed" test ! -e "$UPLOAD_DIR/$ns/d1.img"
[ "$(kube_left plan=p1)" = "$(printf 'datavolumes/d2\ndatavolumes/d3\npersistentvolumeclaims/d2')" ] ||
  fail "left in the namespace: $(kube_left plan=p1)"
echo "peer: schema, DataVolume phases, token RBAC, uploads and faults behave"
