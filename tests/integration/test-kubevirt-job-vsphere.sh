#!/bin/sh
# transfer: job from vSphere (issue 7 scale-out): a vCenter-simulator VM
# whose datastore holds a real flat extent (data, a hole, data) is
# migrated cold into the kube peer with each disk copied by a Job: the
# worker (`ferry copy-disk`, run by tests/peers/kube/job-sim.py with its
# ServiceAccount's token) gets the vCenter Provider, its Secret and Hosts
# only from the Job's Secret, and reaches the simulator itself.  Checks:
# a Block PVC (StorageMap), the Job Complete with the worker's progress,
# the Secret gone, the VM referencing the PVC, bytes identical to the
# simulator's flat file.
. "$abs_top_srcdir/tests/functions.sh"
. "$abs_top_srcdir/tests/peers/vcsim/start.sh"
. "$abs_top_srcdir/tests/peers/kube/kube-test.sh"

FERRY_JOB_BINARY="${FERRY_VALGRIND:-} $abs_top_builddir/cli/ferry"
export FERRY_JOB_BINARY
vcsim_start -dc 1 -cluster 0 -host 0 -standalone-host 1 -vm 1 -ds 1 -pg 1 -cbt -disk-size 16777216 \
  -flat 4194304 -power-off
kube_start
ns=$KUBE_NS
w="$FERRY_STATE_DIR/work"
mkdir -p "$w"

{ vcsim_manifests vc
  echo ---
  kube_provider cluster "" "    transfer: job"
vcsim_maps vc cluster "{type: pod}" "{name: LocalDS_0}" \
  "{storageClass: fast, accessMode: ReadWriteMany, volumeMode: Block}"
vcsim_plan cluster "$ns"
} > "$w/manifests.yaml"
ferry apply -f "$w/manifests.yaml" >/dev/null
ferry inventory refresh --provider vc >/dev/null
ferry inventory vm DC0_H0_VM0 --provider vc -o json > "$w/vm-src.json"

out="$(ferry start from-vc --wait 2>&1)" ||
  fail "migration failed: $out; job-sim: $(tail -n 20 "$KUBE_DIR/job-sim.log"); worker: $(cat "$KUBE_DIR"/jobs/"$ns"/*.log 2>/dev/null | tail -n 20)"
expect_in "$out" "Succeeded"

flat="$(sed -n 's/.*"flatPath": "\(.*\)",*$/\1/p' "$VCSIM_TRUTH" | head -n1)"
[ -f "$flat" ] || fail "the simulator wrote no flat extent ($flat)"
cmp "$flat" "$UPLOAD_DIR/$ns/vm0-d0.img" || fail "the bytes the Job wrote into vm0-d0 differ from $flat"
[ -z "$(kc names "" "/apis/cdi.kubevirt.io/v1beta1/namespaces/$ns/datavolumes")" ] || fail "transfer: job made DataVolumes"
! kc get "/api/v1/namespaces/$ns/secrets/vm0-d0-source" > /dev/null 2>&1 || fail "the Job's Secret is still there"
kc get "/api/v1/namespaces/$ns/persistentvolumeclaims/vm0-d0" > "$w/pvc.json" || fail "no PVC vm0-d0"
kc get "/apis/batch/v1/namespaces/$ns/jobs/vm0-d0-copy" > "$w/job.json" || fail "no Job vm0-d0-copy"
kc get "/apis/kubevirt.io/v1/namespaces/$ns/virtualmachines/vm0" > "$w/vm.json" || fail "no VirtualMachine vm0"
python3 - "$w" "$(stat -c %s "$flat")" <<'EOF' || fail "the objects of vm0 are wrong"
import json, sys
w, size = sys.argv[1], int(sys.argv[2])
load = lambda n: json.load(open("%s/%s.json" % (w, n)))
pvc, job, vm, src = load("pvc"), load("job"), load("vm"), load("vm-src")
assert pvc["spec"]["volumeMode"] == "Block" and pvc["spec"]["accessModes"] == ["ReadWriteMany"], pvc["spec"]
assert int(pvc["spec"]["resources"]["requests"]["storage"]) == size, pvc["spec"]
cmd = job["spec"]["template"]["spec"]["containers"][0]["command"]
assert cmd[cmd.index("--provider") + 1] == "default/vc" and cmd[cmd.index("--vm") + 1] == src["id"], cmd
assert cmd[cmd.index("--output") + 1] == "/dev/ferry-disk", cmd
assert {c["type"]: c["status"] for c in job["status"]["conditions"]}.get("Complete") == "True", job["status"]
prog = json.loads(job["metadata"]["annotations"]["ferry.konveyor.io/progress"])
assert prog["done"] == prog["total"] == size, prog
for o in (pvc, job, vm):
    assert o["metadata"]["labels"]["vmID"] == src["id"], o["metadata"]["labels"]
vols = vm["spec"]["template"]["spec"]["volumes"]
assert [v["persistentVolumeClaim"]["claimName"] for v in vols] == ["vm0-d0"], vols
EOF
echo "DC0_H0_VM0 copied by a Job into a Block PVC: byte-identical, objects as expected"
