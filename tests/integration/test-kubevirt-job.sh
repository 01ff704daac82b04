#!/bin/sh
# transfer: job into KubeVirt (issue 7 scale-out): each disk is copied by a
# Kubernetes Job in the destination cluster running `ferry copy-disk`.
# The kube peer's apiserver is real (objects validated, RBAC enforced, the
# worker authenticates with its ServiceAccount's token); the Job
# controller and kubelet are played by tests/peers/kube/job-sim.py, which
# runs this build's ferry for the image's.  No CDI object is used.
#
# 1. An OVA VM migrated with settings transfer: job into a namespace that
#    does not exist yet (settings.createNamespace): the namespace, a plain
#    PVC per disk (Filesystem, size with CDI's overhead), the Secret gone
#    after the Job, ServiceAccount/Role/RoleBinding (the Role lets the
#    worker get and patch its own Job only: checked with its token), the
#    Job's spec, the progress annotation the worker wrote, Job Complete,
#    the VirtualMachine referencing the PVCs, bytes identical to the source.
# 2. The OVA's second VM with a StorageMap asking for Block: volumeDevices.
# 3. A worker that fails (its OVA cut short after inventory): the VM fails
#    with the Job's condition and the worker's last words, and cleanup
#    leaves nothing labelled with the plan.
# 4. Cancel while the Job is held before its worker starts: the Job is
#    deleted and nothing labelled is left.
# 5. The engine killed while following the Jobs, then resumed: the Jobs
#    are taken up, not run twice.
# 6. Settings errors: transfer: bogus.
# 7. A Job and a Secret of the same name from another plan are refused and
#    left alone;
#    a Failed one of this plan and VM is replaced, and its PVC, deleted
#    but held by a finalizer, is waited for and made again.
# 8. CDI removed from the cluster: transfer: job still validates and
#    migrates; transfer: upload is not Ready and says to set transfer: job.
. "$abs_top_srcdir/tests/functions.sh"
. "$abs_top_srcdir/tests/peers/kube/kube-test.sh"
command -v qemu-img >/dev/null 2>&1 || { echo "SKIP: qemu-img not installed"; exit 77; }
command -v qemu-nbd >/dev/null 2>&1 || { echo "SKIP: qemu-nbd not installed"; exit 77; }
# The image's ferry, as job-sim.py runs it (inherited through kube-env.sh).
# Opt-in, the image itself: build it (packaging/README.md), `podman tag
# ferry:VERSION registry.example/ferry:job-test`, and run this test with
# FERRY_JOB_RUNNER=podman: job-sim.py then runs each Job's container with
# podman (its user, mounts and command line), the test's directory
# mounted read-only where the OVA source is.
FERRY_JOB_BINARY="${FERRY_VALGRIND:-} $abs_top_builddir/cli/ferry"
FERRY_JOB_SOURCE_DIRS="$FERRY_STATE_DIR/work/source"   # $w/source below
export FERRY_JOB_BINARY FERRY_JOB_SOURCE_DIRS
kube_start
ns=ferry-jobs
IMAGE=registry.example/ferry:job-test
VMS=/apis/kubevirt.io/v1/namespaces/$ns/virtualmachines
API=/api/v1/namespaces/$ns
JOBS=/apis/batch/v1/namespaces/$ns/jobs
RBAC=/apis/rbac.authorization.k8s.io/v1/namespaces/$ns

w="$FERRY_STATE_DIR/work"
mkdir -p "$w/source" "$w/gone"
MAKE_OVA_TWO_VMS=1 sh "$abs_top_srcdir/tests/make-ova.sh" "$w/build" pair >/dev/null
mv "$w/build/pair.ova" "$w/source/"
sh "$abs_top_srcdir/tests/make-ova.sh" "$w/build2" lost >/dev/null
mv "$w/build2/lost.ova" "$w/gone/"

# left SELECTOR: "resource/name" of each DataVolume, PVC, VirtualMachine,
# Secret, Job, ServiceAccount, Role, RoleBinding and Pod in $ns with the label
# selector that is not being deleted (without a controller-manager the
# pvc-protection finalizer keeps a deleted PVC listed as Terminating for a
# while, where a real cluster drops it once no pod uses it).
left () {
  for res in "/apis/cdi.kubevirt.io/v1beta1/namespaces/$ns/datavolumes" \
             "$API/persistentvolumeclaims" "$VMS" "$API/secrets" "$JOBS" \
             "$API/serviceaccounts" "$RBAC/roles" "$RBAC/rolebindings" "$API/pods"; do
    kc get "$res?labelSelector=$1" | python3 -c '
import json, sys
for i in json.load(sys.stdin)["items"]:
    if not i["metadata"].get("deletionTimestamp"):
        print(sys.argv[1].rsplit("/", 1)[-1] + "/" + i["metadata"]["name"])' "$res"
  done
}

# nothing_left SELECTOR WHAT: left is empty, once the peer's garbage
# collector (job-sim.py) has removed the Pods of deleted Jobs.
nothing_left () {
  i=0
  while [ -n "$(left "$1")" ]; do
    i=$((i + 1)); [ $i -lt 300 ] || fail "$2 left: $(left "$1" | tr '\n' ' ')"
    sleep 0.1
  done
}

# plan NAME STORAGE-DEST VM [PROVIDER]: a StorageMap and Plan into $ns.
plan () {
  cat <<YAML
---
apiVersion: forklift.konveyor.io/v1beta1
kind: StorageMap
metadata: {name: $1, namespace: default}
spec:
  provider: {source: {name: ${4:-ova}, namespace: default}, destination: {name: cluster, namespace: default}}
  map:
    - source: {name: Dummy storage for source provider ${4:-ova}}
      destination: $2
---
apiVersion: forklift.konveyor.io/v1beta1
kind: NetworkMap
metadata: {name: $1, namespace: default}
spec:
  provider: {source: {name: ${4:-ova}, namespace: default}, destination: {name: cluster, namespace: default}}
  map:
    - source: {name: VM Network}
      destination: {type: pod}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Plan
metadata: {name: $1, namespace: default}
spec:
  provider: {source: {name: ${4:-ova}, namespace: default}, destination: {name: cluster, namespace: default}}
  map: {network: {name: $1, namespace: default}, storage: {name: $1, namespace: default}}
  targetNamespace: $ns
  skipGuestConversion: true
  pvcNameTemplate: "{{.TargetVmName}}-d{{.DiskIndex}}"
  vms:
    - name: $3
YAML
}

{ kube_provider cluster "$KUBE_TOKEN" "    transfer: job
    transferImage: $IMAGE
    createNamespace: \"true\""
cat <<YAML
---
apiVersion: v1
kind: Secret
metadata: {name: ova, namespace: default}
stringData: {url: $w/source}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Provider
metadata: {name: ova, namespace: default}
spec: {type: ova, url: $w/source, secret: {name: ova, namespace: default}}
---
apiVersion: v1
kind: Secret
metadata: {name: gone, namespace: default}
stringData: {url: $w/gone}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Provider
metadata: {name: gone, namespace: default}
spec: {type: ova, url: $w/gone, secret: {name: gone, namespace: default}}
YAML
plan fs '{storageClass: standard}' pair
plan block '{storageClass: fast, volumeMode: Block, accessMode: ReadWriteMany}' pair-b
plan broken '{storageClass: standard}' lost gone
plan held '{storageClass: standard}' pair-b
plan again '{storageClass: standard}' pair
} > "$w/manifests.yaml"
# The held plan's VM lands under another name than the block plan's.
sed -i '/name: held, namespace: default}$/,$ s/    - name: pair-b$/    - name: pair-b\n      targetName: held-vm/' "$w/manifests.yaml"
sed -i '/name: again, namespace: default}$/,$ s/    - name: pair$/    - name: pair\n      targetName: again/' "$w/manifests.yaml"
ferry apply -f "$w/manifests.yaml" >/dev/null
ferry inventory refresh --provider ova >/dev/null
ferry inventory refresh --provider gone >/dev/null
ferry inventory vms --provider ova -o json > "$w/vms.json"
kc get "/api/v1/namespaces/$ns" >/dev/null 2>&1 && fail "namespace $ns exists before the migration"

uid_of () {     # uid_of PLAN
  ferry get plan "$1" -o json | python3 -c 'import json, sys; print(json.load(sys.stdin)["metadata"]["uid"])'
}
vm_id () {      # the inventory id of source VM $1
  python3 - "$w/vms.json" "$1" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
items = d["items"] if isinstance(d, dict) and "items" in d else d
print([v["id"] for v in items if v["name"] == sys.argv[2]][0])
EOF
}

# ---- 1. Filesystem PVCs, one VM of two disks.
out="$(ferry start fs --wait 2>&1)" || fail "migration failed: $out; job-sim: $(tail -n 20 "$KUBE_DIR/job-sim.log")"
expect_in "$out" "Succeeded"
[ "$(kjson "/api/v1/namespaces/$ns" 'o["metadata"]["labels"].get("app.kubernetes.io/created-by")')" = ferry ] ||
  fail "namespace $ns was not created labelled by ferry"
[ -z "$(kc names "" "/apis/cdi.kubevirt.io/v1beta1/namespaces/$ns/datavolumes")" ] ||
  fail "transfer: job made DataVolumes"
fs_uid=$(uid_of fs)

# check_disk PVC SOURCE-RAW SOURCE-VM DISK-INDEX MODE: the objects of one disk's copy.
check_disk () {
  pvc=$1 raw=$2 vmid=$(vm_id "$3")
  kc get "$API/persistentvolumeclaims/$pvc" > "$w/pvc.json" || fail "no PVC $pvc: $(left "")"
  kc get "$JOBS/$pvc-copy" > "$w/job.json" || fail "no Job $pvc-copy: $(left "")"
  kc get "$API/serviceaccounts/$pvc-worker" > "$w/sa.json" || fail "no ServiceAccount $pvc-worker"
  kc get "$RBAC/roles/$pvc-worker" > "$w/role.json" || fail "no Role $pvc-worker"
  kc get "$RBAC/rolebindings/$pvc-worker" > "$w/rb.json" || fail "no RoleBinding $pvc-worker"
  ! kc get "$API/secrets/$pvc-source" > /dev/null 2>&1 || fail "Secret $pvc-source still there after its Job ended"
  ferry inventory vms --provider ova -o json > "$w/vms-full.json"
  python3 - "$w" "$pvc" "$vmid" "$(stat -c %s "$raw")" "$4" "$5" "$ns" "$IMAGE" <<'EOF' || fail "the objects of $pvc are wrong"
import json, sys
w, pvc_name, vmid, size, index, mode, ns, image = sys.argv[1:]
size, index = int(size), int(index)
load = lambda n: json.load(open("%s/%s.json" % (w, n)))
pvc, job, sa, role, rb = load("pvc"), load("job"), load("sa"), load("role"), load("rb")
for o in (pvc, job, sa, role, rb):
    lab = o["metadata"]["labels"]
    assert lab.get("vmID") == vmid and lab.get("app.kubernetes.io/created-by") == "ferry" \
        and lab.get("plan") and lab.get("migration"), (o["kind"], lab)
assert "ownerReferences" not in pvc["metadata"], pvc["metadata"]
spec = pvc["spec"]
assert spec["volumeMode"] == mode, spec
assert spec["storageClassName"] == ("standard" if mode == "Filesystem" else "fast"), spec
assert spec["accessModes"] == (["ReadWriteOnce"] if mode == "Filesystem" else ["ReadWriteMany"]), spec
req = int(spec["resources"]["requests"]["storage"])
if mode == "Filesystem":     # the disk fits in (1 - 5.5%) of the claim (cdi-sim's CDIConfig)
    assert req * (1 - 0.055) >= size and req < size / (1 - 0.055) + (1 << 20), (req, size)
else:
    assert req == size, (req, size)
assert pvc["status"]["phase"] == "Bound"
vms = json.load(open(w + "/vms-full.json"))
vms = vms["items"] if isinstance(vms, dict) and "items" in vms else vms
disk = [v for v in vms if v["id"] == vmid][0]["disks"][index]
disk_id = disk.get("id") or disk.get("key") or disk.get("file")
tpl = job["spec"]["template"]["spec"]
assert job["spec"]["backoffLimit"] == 2, job["spec"]
assert tpl["serviceAccountName"] == pvc_name + "-worker" and tpl["restartPolicy"] == "Never", tpl
assert tpl["securityContext"] == {"runAsUser": 107, "runAsGroup": 107, "fsGroup": 107,
                                  "runAsNonRoot": True}, tpl["securityContext"]
(c,) = tpl["containers"]
assert c["name"] == "copy" and c["image"] == image, c
out = "/dev/ferry-disk" if mode == "Block" else "/ferry-disk/disk.img"
want = ["ferry", "copy-disk", "--manifests", "/etc/ferry/source/source.yaml", "--provider", "default/ova",
        "--vm", vmid, "--disk", str(disk_id), "--output", out,
        "--report", "%s/%s-copy" % (ns, pvc_name), "-o", "json"]
assert c["command"] == want, (c["command"], want)
mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
assert mounts["/etc/ferry/source"]["readOnly"] is True, mounts
vols = {v["name"]: v for v in tpl["volumes"]}
src = vols[mounts["/etc/ferry/source"]["name"]]["secret"]
assert src["secretName"] == pvc_name + "-source" and src["defaultMode"] == 0o400, src
if mode == "Block":
    (dev,) = c["volumeDevices"]
    assert dev["devicePath"] == "/dev/ferry-disk", dev
    claim = vols[dev["name"]]
    assert "/ferry-disk" not in mounts
else:
    claim = vols[mounts["/ferry-disk"]["name"]]
    assert "volumeDevices" not in c
assert claim["persistentVolumeClaim"]["claimName"] == pvc_name, claim
conds = {x["type"]: x["status"] for x in job["status"].get("conditions", [])}
assert conds.get("Complete") == "True" and job["status"].get("succeeded") == 1, job["status"]
prog = json.loads(job["metadata"]["annotations"]["ferry.konveyor.io/progress"])
assert prog["done"] == prog["total"] == size, prog
(rule,) = role["rules"]
assert rule == {"apiGroups": ["batch"], "resources": ["jobs"], "resourceNames": [pvc_name + "-copy"],
                "verbs": ["get", "patch"]}, rule
assert rb["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": pvc_name + "-worker"}, rb
assert rb["subjects"] == [{"kind": "ServiceAccount", "name": pvc_name + "-worker", "namespace": ns}], rb
EOF
  cmp "$raw" "$UPLOAD_DIR/$ns/$pvc.img" || fail "the bytes the Job wrote into $pvc differ from $raw"
}
check_disk pair-d0 "$w/build/pair-disk1.raw" pair 0 Filesystem
check_disk pair-d1 "$w/build/pair-disk2.raw" pair 1 Filesystem
kc get "$VMS/pair" > "$w/vm.json" || fail "no VirtualMachine pair"
python3 - "$w/vm.json" <<'EOF' || fail "VirtualMachine pair does not reference its PVCs: $(cat "$w/vm.json")"
import json, sys
vols = json.load(open(sys.argv[1]))["spec"]["template"]["spec"]["volumes"]
assert sorted(v["persistentVolumeClaim"]["claimName"] for v in vols) == ["pair-d0", "pair-d1"], vols
assert not any("dataVolume" in v for v in vols), vols
EOF

# The worker's identity is limited by the real RBAC: its own Job only.
printf '{"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 600}}' |
  kc create "$API/serviceaccounts/pair-d0-worker/token" - |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["status"]["token"])' > "$w/sa-token"
# as_worker METHOD PATH [FILE|-]: the HTTP status of the request.
as_worker () {
  KUBE_TOKEN=$(cat "$w/sa-token") kc request "$@" > "$w/answer"
  head -n 1 "$w/answer"
}
[ "$(as_worker GET "$JOBS/pair-d0-copy")" = 200 ] || fail "the worker cannot read its Job"
[ "$(printf '{"metadata": {"annotations": {"x": "y"}}}' | as_worker PATCH "$JOBS/pair-d0-copy" -)" = 200 ] ||
  fail "the worker cannot annotate its Job"
[ "$(as_worker GET "$JOBS/pair-d1-copy")" = 403 ] || fail "the worker can read another Job"
[ "$(as_worker GET "$API/secrets")" = 403 ] || fail "the worker can list Secrets"
# The worker's progress reached the engine.
ferry get migrations -o json > "$w/migs.json"
python3 - "$w/migs.json" <<'EOF' || fail "DiskTransfer of pair not complete: $(cat "$w/migs.json")"
import json, sys
d = json.load(open(sys.argv[1]))
items = d["items"] if isinstance(d, dict) and "items" in d else d
(vm,) = [v for m in items for v in m["status"]["vms"] if v["name"] == "pair"]
(st,) = [s for s in vm["pipeline"] if s["name"] == "DiskTransfer"]
assert st["phase"] == "Completed" and st["progress"]["completed"] == st["progress"]["total"] == 20, st
EOF

# ---- 2. Block PVCs (the StorageMap says so).
out="$(ferry start block --wait 2>&1)" || fail "block migration failed: $out; job-sim: $(tail -n 20 "$KUBE_DIR/job-sim.log")"
check_disk pair-b-d0 "$w/build/pair-disk3.raw" pair-b 0 Block
check_disk pair-b-d1 "$w/build/pair-disk4.raw" pair-b 1 Block

# ---- 3. A worker that fails: the OVA is cut short after inventory, in
# the middle of its first disk (the OVF still reads: only the worker, which
# reads the disk, can notice).
python3 - "$w/gone/lost.ova" <<'EOF'
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    first = [m for m in t.getmembers() if m.name.endswith(".vmdk")][0]
with open(sys.argv[1], "r+b") as f:
    f.truncate(first.offset_data + first.size // 2)
EOF
expect_fail ferry start broken --wait
msg="$out $err $(ferry get plan broken -o json)"
echo "the failed VM: $err"
# Both disks fail; the first to fail is the VM's error (the other copy is
# then stopped, its Job deleted).
job=$(printf '%s' "$err" | grep -o "Job $ns/lost-d[01]-copy copying disk" | head -n 1 | sed 's|^Job [^/]*/||; s| .*||')
[ -n "$job" ] || fail "the VM's error does not name its Job: $err"
expect_in "$msg" "BackoffLimitExceeded: Job has reached the specified backoff limit"
expect_in "$msg" "kubectl logs job/$job -n $ns"
expect_in "$msg" "the worker said: ferry: copy-disk: provider default/gone"
broken_uid=$(uid_of broken)
nothing_left "plan=$broken_uid" "a failed VM"
# Three pods ran (backoffLimit 2), as the Job controller would start them.
[ "$(ls "$KUBE_DIR/jobs/$ns" | grep -c "^$job-")" = 3 ] ||
  fail "not 3 attempts of the failing Job: $(ls "$KUBE_DIR/jobs/$ns")"

# ---- 4. Cancel while the Job waits for its pod to start.
touch "$KUBE_DIR/jobs-hold"
ferry start held --wait > "$w/held.out" 2>&1 &
pid=$!
i=0
until kc get "$JOBS/held-vm-d0-copy" > /dev/null 2>&1; do
  kill -0 $pid 2>/dev/null || fail "the held migration ended before its Job existed: $(cat "$w/held.out")"
  i=$((i + 1)); [ $i -lt 600 ] || fail "no Job held-vm-d0-copy"
  sleep 0.1
done
ferry cancel held >/dev/null
set +e; wait $pid; set -e
rm -f "$KUBE_DIR/jobs-hold"
held_uid=$(uid_of held)
! kc get "$JOBS/held-vm-d0-copy" > /dev/null 2>&1 || fail "the cancelled Job is still there"
nothing_left "plan=$held_uid" "a cancelled VM"
[ ! -e "$UPLOAD_DIR/$ns/held-vm-d0.fs/disk.img" ] || fail "a held Job's worker wrote data"

# ---- 5. The engine killed while it follows the Jobs (SIGKILL: not under
# valgrind), then resumed: the Jobs of the first run are taken up (running
# ones followed), nothing is duplicated and no Secret is left.
if [ -z "${FERRY_VALGRIND:-}" ]; then
m="$(ferry start again)"
m="${m#migration.forklift.konveyor.io/}"
m="${m% created}"
# The Jobs are held; the test writes half the disk as the first Job's
# progress, as its worker would: the engine hands it on as DiskTransfer
# progress, past a quarter, where the crash hook kills it.  (So this also
# proves the annotation reaches the engine before the Job ends.)
touch "$KUBE_DIR/jobs-hold"
FERRY_TEST_CRASH_AT=DiskTransfer:mid ferry run "$m" > "$w/run1.out" 2>&1 &
pid=$!
i=0
until kc get "$JOBS/again-d0-copy" > /dev/null 2>&1; do
  kill -0 $pid 2>/dev/null || fail "the run ended before its Job existed: $(cat "$w/run1.out")"
  i=$((i + 1)); [ $i -lt 600 ] || fail "no Job again-d0-copy"
  sleep 0.1
done
printf '{"metadata": {"annotations": {"ferry.konveyor.io/progress": "{\\"done\\": 8388608, \\"total\\": 16777216, \\"rate\\": 1048576}"}}}' |
  kc request PATCH "$JOBS/again-d0-copy" - > /dev/null
# (A bound, not a timing: the engine polls a Job at least every 2 s; a run
# that never sees the progress would wait for the held Job for ever.)
i=0
while kill -0 $pid 2>/dev/null; do
  i=$((i + 1))
  [ $i -lt 1200 ] || { kill $pid; fail "the engine did not act on the Job's progress annotation: $(cat "$w/run1.out")"; }
  sleep 0.1
done
set +e
wait $pid
rc=$?
set -e
[ $rc -eq 137 ] || fail "expected SIGKILL (137) on the Job's progress, got $rc: $(cat "$w/run1.out")"
rm -f "$KUBE_DIR/jobs-hold"
ferry run "$m" > "$w/run2.out" 2>&1 || fail "resume failed: $(cat "$w/run2.out")"
for d in 0 1; do
  [ "$(ls "$KUBE_DIR/jobs/$ns" | grep -c "^again-d$d-copy-")" = 1 ] ||
    fail "Job again-d$d-copy ran more than one pod: $(ls "$KUBE_DIR/jobs/$ns")"
  [ "$(kjson "$JOBS/again-d$d-copy" 'o["status"].get("succeeded")')" = 1 ] || fail "Job again-d$d-copy not Complete"
done
cmp "$w/build/pair-disk1.raw" "$UPLOAD_DIR/$ns/again-d0.img" || fail "resumed copy of disk 1 differs"
cmp "$w/build/pair-disk2.raw" "$UPLOAD_DIR/$ns/again-d1.img" || fail "resumed copy of disk 2 differs"
[ -z "$(left "plan=$(uid_of again)" | grep '^secrets/')" ] || fail "a Secret is left after the resume"
[ "$(kjson "$VMS/again" 'o["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"]')" = again-d0 ] ||
  fail "the resumed VM does not reference its PVC"
fi

# ---- 6. A wrong setting names the Provider and the setting.
{ kube_provider bad "$KUBE_TOKEN" "    transfer: bogus"
  plan badplan '{storageClass: standard}' pair | sed 's/name: cluster, namespace: default/name: bad, namespace: default/'
} > "$w/bad.yaml"
ferry apply -f "$w/bad.yaml" >/dev/null
expect_fail ferry validate plan badplan
expect_in "$out$err" 'provider default/bad: settings.transfer "bogus": must be "upload"'

# ---- 7. Objects of that name already there: another plan's are refused
# and left alone; a Failed one of this plan and VM (an earlier attempt) is
# replaced by a new one.
# job_of NAME PLAN-UID: a minimal Job with the plan's and pair's labels
# (without created-by=ferry, so job-sim.py does not run it).
job_of () {
  printf '{"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "%s",
    "labels": {"plan": "%s", "vmID": "%s"}}, "spec": {"backoffLimit": 0, "template": {"spec": {
    "restartPolicy": "Never", "containers": [{"name": "x", "image": "x"}]}}}}' "$1" "$2" "$(vm_id pair)" |
    kc create "$JOBS" - > /dev/null || fail "cannot create Job $1"
}
{ plan retry '{storageClass: standard}' pair; } > "$w/retry.yaml"
sed -i '/name: retry, namespace: default}$/,$ s/    - name: pair$/    - name: pair\n      targetName: retry/' "$w/retry.yaml"
ferry apply -f "$w/retry.yaml" >/dev/null
retry_uid=$(uid_of retry)
job_of retry-d1-copy another-plan
printf '{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "retry-d0-source",
  "labels": {"plan": "another-plan"}}, "stringData": {"x": "theirs"}}' |
  kc create "$API/secrets" - > /dev/null
expect_fail ferry start retry --wait
# (which disk fails first is a race: either refusal is the VM's error)
expect_in "$out$err" "already exists and was not created by this plan for this VM: remove it or rename the target"
[ "$(kjson "$JOBS/retry-d1-copy" 'o["metadata"]["labels"]["plan"]')" = another-plan ] || fail "another plan's Job was touched"
[ "$(kjson "$API/secrets/retry-d0-source" 'o["data"]["x"]')" = "$(printf theirs | base64)" ] ||
  fail "another plan's Secret was touched"
kc request DELETE "$API/secrets/retry-d0-source" > /dev/null
nothing_left "plan=$retry_uid" "the refused VM"
# (Background: the default for Jobs, orphan, waits for a garbage collector.)
kc request DELETE "$JOBS/retry-d1-copy?propagationPolicy=Background" > /dev/null
job_of retry-d0-copy "$retry_uid"
old_uid=$(kjson "$JOBS/retry-d0-copy" 'o["metadata"]["uid"]')
printf '{"status": {"failed": 1, "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "earlier"}]}}' |
  kc request PATCH "$JOBS/retry-d0-copy/status" - > /dev/null
# The PVC of an earlier attempt, deleted but held by a finalizer (as
# pvc-protection holds it while a pod still uses it): waited for, then
# made again.
i=0
while kc get "$API/persistentvolumeclaims/retry-d0" > /dev/null 2>&1; do   # the refused attempt's
  i=$((i + 1)); [ $i -lt 600 ] || fail "PVC retry-d0 of the refused attempt never went"
  sleep 0.1
done
printf '{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "retry-d0",
  "labels": {"plan": "%s", "vmID": "%s"}, "finalizers": ["ferry.test/hold"]},
  "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Mi"}}}}' \
  "$retry_uid" "$(vm_id pair)" | kc create "$API/persistentvolumeclaims" - > /dev/null
kc request DELETE "$API/persistentvolumeclaims/retry-d0" > /dev/null
ferry --log-level info restart retry --wait > "$w/retry.out" 2>&1 &
pid=$!
i=0
until grep -q "PersistentVolumeClaim $ns/retry-d0 of an earlier attempt is being deleted: waiting" "$w/retry.out"; do
  kill -0 $pid 2>/dev/null || fail "the restart did not wait for the deleted PVC: $(cat "$w/retry.out")"
  i=$((i + 1)); [ $i -lt 1200 ] || fail "the restart never waited for the PVC: $(cat "$w/retry.out")"
  sleep 0.1
done
printf '{"metadata": {"finalizers": null}}' | kc request PATCH "$API/persistentvolumeclaims/retry-d0" - > /dev/null
wait $pid || fail "restart over a Failed Job and a Terminating PVC failed: $(cat "$w/retry.out")"
[ "$(kjson "$API/persistentvolumeclaims/retry-d0" 'o["metadata"]["labels"].get("app.kubernetes.io/created-by")')" = ferry ] ||
  fail "PVC retry-d0 was not made again"
[ "$(kjson "$JOBS/retry-d0-copy" 'o["metadata"]["uid"]')" != "$old_uid" ] || fail "the Failed Job was not replaced"
[ "$(kjson "$JOBS/retry-d0-copy" 'o["status"].get("succeeded")')" = 1 ] || fail "the new Job is not Complete"
cmp "$w/build/pair-disk1.raw" "$UPLOAD_DIR/$ns/retry-d0.img" || fail "the replaced Job's copy differs"

# ---- 8. A cluster without CDI (last: cdi-sim.py no longer plays the
# pvc-protection controller then): its CRDs deleted (cdi-sim.py then only
# logs errors).  transfer: job neither asks for CDI nor uses it (PVC modes
# and overhead from the defaults); transfer: upload is not Ready and says
# how to do without CDI.
for crd in datavolumes cdiconfigs storageprofiles; do
  kc request DELETE "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/$crd.cdi.kubevirt.io" > /dev/null
done
i=0
while kc get /apis | grep -q '"cdi.kubevirt.io"'; do
  i=$((i + 1)); [ $i -lt 600 ] || fail "the cdi.kubevirt.io group is still served"
  sleep 0.1
done
{ plan nocdi '{storageClass: standard}' pair
  echo ---
  kube_provider upload "$KUBE_TOKEN"
  plan viaupload '{storageClass: standard}' pair | sed 's/name: cluster, namespace: default/name: upload, namespace: default/'
} > "$w/nocdi.yaml"
sed -i '/name: nocdi, namespace: default}$/,$ s/    - name: pair$/    - name: pair\n      targetName: nocdi/' "$w/nocdi.yaml"
ferry apply -f "$w/nocdi.yaml" >/dev/null
ferry validate plan nocdi > "$w/nocdi.out" 2>&1 || fail "transfer: job is not Ready without CDI: $(cat "$w/nocdi.out")"
expect_fail ferry validate plan viaupload
expect_in "$out$err" "CDI (Containerized Data Importer) is not installed (install it, or set the destination Provider's settings.transfer: job)"
out="$(ferry start nocdi --wait 2>&1)" || fail "migration without CDI failed: $out"
cmp "$w/build/pair-disk1.raw" "$UPLOAD_DIR/$ns/nocdi-d0.img" || fail "copy without CDI differs (disk 1)"
cmp "$w/build/pair-disk2.raw" "$UPLOAD_DIR/$ns/nocdi-d1.img" || fail "copy without CDI differs (disk 2)"
kc get "$API/persistentvolumeclaims/nocdi-d0" > "$w/pvc.json"
python3 - "$w/pvc.json" "$(stat -c %s "$w/build/pair-disk1.raw")" <<'EOF' || fail "PVC nocdi-d0 without CDI: $(cat "$w/pvc.json")"
import json, sys
spec, size = json.load(open(sys.argv[1]))["spec"], int(sys.argv[2])
assert spec["volumeMode"] == "Filesystem" and spec["accessModes"] == ["ReadWriteOnce"], spec
req = int(spec["resources"]["requests"]["storage"])
assert req * (1 - 0.055) >= size and req < size / (1 - 0.055) + (1 << 20), (req, size)
EOF

echo "transfer: job: 8 disks copied by Jobs (Filesystem and Block, with and without CDI), failure, cancel and crash leave nothing behind"
