#!/bin/sh
# ferry copy-disk --report NS/JOB against the kube peer (a real
# kube-apiserver with RBAC): the worker, holding only a ServiceAccount token
# whose Role allows get/patch on one Job (as transfer: job's Jobs get),
# publishes its progress in that Job's annotation ferry.konveyor.io/progress
# through the kubevirt module's report_progress: partial progress while a
# slow disk copies, then {done = total = the disk's size}.  A report the
# apiserver refuses (another Job: 403 Forbidden) or a Job that does not exist is a
# warning: the copy still succeeds, byte for byte.
. "$abs_top_srcdir/tests/functions.sh"
. "$abs_top_srcdir/tests/peers/kube/kube-test.sh"
. "$abs_top_srcdir/tests/integration/engine-null-manifests.sh"
kube_start

w="$FERRY_STATE_DIR/w"
mkdir -p "$w"
size=8388608
{ printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: src}\nstringData: {user: u}\n'
  null_source src slow "null://?vms=1&disks=1&size=$size" s '{readDelayMs: "700"}'
  null_source src fast "null://?vms=1&disks=1&size=$size" s
} > "$w/source.yaml"
python3 "$abs_top_srcdir/tests/integration/null-disk.py" 1 0 $size 0 "$w/ref.img"

# Two Jobs (not labelled as ferry's, so the peer's Job stand-in leaves them
# alone), a ServiceAccount and a Role on the first only.
for j in report-target other-job; do
  printf '{"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "%s"},
    "spec": {"template": {"spec": {"restartPolicy": "Never",
      "containers": [{"name": "copy", "image": "ferry:test"}]}}}}' "$j" |
    kc create "/apis/batch/v1/namespaces/$KUBE_NS/jobs" - > /dev/null
done
token="$(kube_sa_token copy-worker)"
printf '{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
  "metadata": {"name": "copy-worker"},
  "rules": [{"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["get", "patch"],
             "resourceNames": ["report-target"]}]}' |
  kc create "/apis/rbac.authorization.k8s.io/v1/namespaces/$KUBE_NS/roles" - > /dev/null
printf '{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
  "metadata": {"name": "copy-worker"},
  "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "copy-worker"},
  "subjects": [{"kind": "ServiceAccount", "name": "copy-worker", "namespace": "%s"}]}' "$KUBE_NS" |
  kc create "/apis/rbac.authorization.k8s.io/v1/namespaces/$KUBE_NS/rolebindings" - > /dev/null
# The worker's kubeconfig: that token only.
(
  umask 077
  cat > "$w/kubeconfig" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: peer
  cluster: {server: "$KUBE_URL", certificate-authority: "$KUBE_CA"}
users:
- name: worker
  user: {token: "$token"}
contexts:
- name: worker
  context: {cluster: peer, user: worker, namespace: $KUBE_NS}
current-context: worker
YAML
)

progress () {   # progress JOB: the annotation's JSON, or "" while there is none
  kjson "/apis/batch/v1/namespaces/$KUBE_NS/jobs/$1" \
    '(o["metadata"].get("annotations") or {}).get("ferry.konveyor.io/progress", "")'
}

# A slow copy: watch the annotation while it runs.
KUBECONFIG="$w/kubeconfig" ferry copy-disk --manifests "$w/source.yaml" --provider src/slow \
  --vm vm-1 --disk disk-0 --output "$w/slow.img" --report "$KUBE_NS/report-target" \
  > "$w/slow.out" 2> "$w/slow.err" &
pid=$!
partial=
while kill -0 $pid 2>/dev/null; do
  p="$(progress report-target)"
  if [ -n "$p" ] && python3 -c 'import json, sys; p = json.loads(sys.argv[1]); sys.exit(0 if p["done"] < p["total"] else 1)' "$p"; then
    partial="$p"
  fi
  sleep 0.3
done
wait $pid || fail "the slow copy failed: $(cat "$w/slow.err")"
cmp "$w/ref.img" "$w/slow.img" || fail "the slow copy differs from the source"
[ -n "$partial" ] || fail "no progress below the total was published while the copy ran: $(cat "$w/slow.err")"
python3 - "$partial" $size <<'PY' || fail "bad partial progress: $partial"
import json, sys
p = json.loads(sys.argv[1])
assert p["total"] == int(sys.argv[2]) and 0 <= p["done"] < p["total"] and p["rate"] >= 0, p
PY
final="$(progress report-target)"
python3 - "$final" $size <<'PY' || fail "bad final progress: $final"
import json, sys
p = json.loads(sys.argv[1])
assert p["done"] == p["total"] == int(sys.argv[2]) and p["rate"] > 0, p
PY
if grep -q 'warn' "$w/slow.err"; then fail "warnings on an allowed report: $(cat "$w/slow.err")"; fi

# Refused (403: the Role names another Job) and absent Jobs: warnings only.
for j in other-job no-such-job; do
  out="$(KUBECONFIG="$w/kubeconfig" ferry copy-disk --manifests "$w/source.yaml" \
           --provider src/fast --vm vm-1 --disk disk-0 --output "$w/$j.img" \
           --report "$KUBE_NS/$j" 2> "$w/$j.err")" \
    || fail "a refused report failed the copy: $(cat "$w/$j.err")"
  cmp "$w/ref.img" "$w/$j.img" || fail "the copy reporting to $j differs from the source"
  err="$(cat "$w/$j.err")"
  expect_in "$err" "reporting progress on job $KUBE_NS/$j"
  expect_in "$err" "(the copy goes on)"
done
expect_in "$(cat "$w/other-job.err")" "forbidden: cannot patch jobs.batch other-job"
[ -z "$(progress other-job)" ] || fail "the worker's token could annotate a Job its Role does not name"
echo "ok: partial $partial, final $final"
