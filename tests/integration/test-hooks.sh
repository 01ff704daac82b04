#!/bin/sh
# PreHook and PostHook through `ferry start --wait` with the null provider
# and the null destination: a hook whose image is a local executable gets
# the private directory (plan.yml, workload.yml, playbook.yml) as argument
# and working directory; a failing PreHook fails the VM before anything is
# copied, after its retries; a hook past its deadline is killed; a PostHook
# runs after the VM is created; an Ansible playbook hook runs when
# ansible-playbook is installed.
. "$abs_top_srcdir/tests/functions.sh"

w="$FERRY_STATE_DIR/work"
rec="$w/rec"
mkdir -p "$rec"
export FERRY_HOOK_RETRIES=2

# The hooks are scripts that record what they see in $rec (their
# environment is minimal, so the paths are written into them).
cat > "$w/record.sh" <<EOF
#!/bin/sh
echo "\$#" "\$1" > "$rec/args"
pwd > "$rec/cwd"
stat -c %a "\$1" > "$rec/mode"
cp plan.yml workload.yml playbook.yml "$rec/"
env | sort > "$rec/env"
echo "hello from the pre hook"
echo "a line on stderr" >&2
EOF
cat > "$w/fail.sh" <<EOF
#!/bin/sh
echo attempt >> "$rec/fail-attempts"
echo "boom: the source is not ready"
exit 3
EOF
cat > "$w/slow.sh" <<EOF
#!/bin/sh
echo "going to sleep"
sleep 60
echo "woke up" > "$rec/slow-woke"
EOF
cat > "$w/post.sh" <<EOF
#!/bin/sh
ls "$FERRY_STATE_DIR"/providers/*/vms/*/ > "$rec/post-vms" 2>&1
echo "post hook saw the VM"
EOF
chmod 0755 "$w"/*.sh
playbook_b64="$(printf -- '- hosts: localhost\n  gather_facts: false\n  tasks:\n    - debug: {msg: hello}\n' | base64 -w0)"

cat > "$w/manifests.yaml" <<YAML
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: hk}
type: Opaque
stringData: {user: u}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Provider
metadata: {name: src, namespace: hk}
spec:
  type: "null"
  url: "null://?vms=5&disks=1&size=1048576"
  secret: {name: creds, namespace: hk}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Provider
metadata: {name: dst, namespace: hk}
spec: {type: "null", secret: {name: creds, namespace: hk}}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: NetworkMap
metadata: {name: net, namespace: hk}
spec:
  provider: {source: {name: src, namespace: hk}, destination: {name: dst, namespace: hk}}
  map:
    - source: {id: network-1}
      destination: {type: pod}
    - source: {id: network-2}
      destination: {type: ignored}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: StorageMap
metadata: {name: storage, namespace: hk}
spec:
  provider: {source: {name: src, namespace: hk}, destination: {name: dst, namespace: hk}}
  map:
    - source: {id: datastore-1}
      destination: {storageClass: standard}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Hook
metadata: {name: record, namespace: hk}
spec:
  image: $w/record.sh
  playbook: $playbook_b64
  serviceAccount: hook-sa
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Hook
metadata: {name: fail, namespace: hk}
spec: {image: $w/fail.sh}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Hook
metadata: {name: slow, namespace: hk}
spec: {image: $w/slow.sh, deadline: 2}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Hook
metadata: {name: post, namespace: hk}
spec: {image: $w/post.sh}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Hook
metadata: {name: ansible, namespace: hk}
spec: {image: quay.io/kubev2v/hook-runner, playbook: $playbook_b64, deadline: 120}
YAML
plan () {   # plan NAME VM HOOKS-YAML
  cat <<YAML
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Plan
metadata: {name: $1, namespace: hk}
spec:
  provider: {source: {name: src, namespace: hk}, destination: {name: dst, namespace: hk}}
  map: {network: {name: net, namespace: hk}, storage: {name: storage, namespace: hk}}
  targetNamespace: $1
  skipGuestConversion: true
  vms:
    - id: $2
      hooks: $3
YAML
}
{
  plan good vm-1 "[{hook: {name: record, namespace: hk}, step: PreHook}, {hook: {name: post, namespace: hk}, step: PostHook}]"
  plan bad vm-2 "[{hook: {name: fail, namespace: hk}, step: PreHook}]"
  plan slow vm-3 "[{hook: {name: slow, namespace: hk}, step: PreHook}]"
  plan post vm-4 "[{hook: {name: post, namespace: hk}, step: PostHook}]"
  plan ans vm-5 "[{hook: {name: ansible, namespace: hk}, step: PreHook}]"
} >> "$w/manifests.yaml"
ferry apply -f "$w/manifests.yaml" >/dev/null
vols () { ls "$FERRY_STATE_DIR"/providers/*/volumes/"$1" 2>/dev/null || true; }

# --- A PreHook that records what it gets, and a PostHook.
out="$(ferry start good -n hk --wait)" || fail "plan good failed: $out"
expect_in "$out" "null-vm-1: PreHook Completed"
expect_in "$out" "null-vm-1: PostHook Completed"
[ "$(cat "$rec/args")" = "1 $(cat "$rec/cwd")" ] || fail "hook arguments: $(cat "$rec/args"), cwd $(cat "$rec/cwd")"
[ "$(cat "$rec/mode")" = 700 ] || fail "hook directory mode $(cat "$rec/mode")"
[ ! -e "$(cat "$rec/cwd")" ] || fail "the hook directory was not removed"
grep -q "^kind: Plan" "$rec/plan.yml" || fail "plan.yml: $(cat "$rec/plan.yml")"
grep -q "name: good" "$rec/plan.yml" || fail "plan.yml has no plan name"
grep -q "targetNamespace: good" "$rec/plan.yml" || fail "plan.yml has no spec"
grep -q "name: null-vm-1" "$rec/workload.yml" || fail "workload.yml: $(cat "$rec/workload.yml")"
grep -q "productName: ferry null provider" "$rec/workload.yml" || fail "workload.yml has no host"
grep -q "name: null-cluster" "$rec/workload.yml" || fail "workload.yml has no cluster"
grep -q "debug: {msg: hello}" "$rec/playbook.yml" || grep -q "msg: hello" "$rec/playbook.yml" \
  || fail "playbook.yml: $(cat "$rec/playbook.yml")"
grep -q "^FERRY_HOOK_STEP=PreHook$" "$rec/env" || fail "no FERRY_HOOK_STEP in the hook's environment"
grep -q "FERRY_STATE_DIR\|FERRY_HOOK_RETRIES" "$rec/env" && fail "the hook's environment is not minimal"
grep -q "null-vm-1.json" "$rec/post-vms" || fail "the PostHook ran before the VM existed: $(cat "$rec/post-vms")"
log="$(ls "$FERRY_STATE_DIR"/logs/vm/hk/good.vm-1.log)"
grep -q "PreHook: hello from the pre hook" "$log" || fail "hook output not in the VM log: $(cat "$log")"
grep -q "PreHook: a line on stderr" "$log" || fail "hook stderr not in the VM log"
grep -q "PostHook: post hook saw the VM" "$log" || fail "PostHook output not in the VM log"
# Pipeline order as Forklift's.
mig="$(ferry get migrations -n hk -o name | grep good | head -n1)"
steps="$(ferry get migration "${mig#*/}" -n hk -o json | sed -n 's/^ *"name": "\([A-Za-z]*\)",$/\1/p' | tr '\n' ' ')"
expect_in "$steps" "Initialize PreHook DiskAllocation DiskTransfer ImageConversion VirtualMachineCreation PostHook"


# --- A failing PreHook: retried, then the VM fails at PreHook; nothing copied.
expect_fail ferry start bad -n hk --wait
expect_in "$out$err" "null-vm-2: PreHook Failed"
expect_in "$out$err" "PreHook hook hk/fail of VM null-vm-2 failed: it exited with status 3, after 3 attempts"
expect_in "$out$err" "logs/vm/hk/bad.vm-2.log"
[ "$(wc -l < "$rec/fail-attempts")" -eq 3 ] || fail "expected 3 attempts, got $(wc -l < "$rec/fail-attempts")"
[ -z "$(vols bad)" ] || fail "a volume was created for a VM whose PreHook failed: $(vols bad)"
grep -q "PreHook: boom: the source is not ready" "$FERRY_STATE_DIR/logs/vm/hk/bad.vm-2.log" \
  || fail "failing hook output not in the VM log"
mig="$(ferry get migrations -n hk -o name | grep /bad | head -n1)"
st="$(ferry get migration "${mig#*/}" -n hk -o yaml)"
expect_in "$st" "phase: PreHook"
expect_in "$st" "exited with status 3"

# --- A hook past its deadline is killed, with a clear error.
expect_fail ferry start slow -n hk --wait
expect_in "$out$err" "null-vm-3: PreHook Failed"
expect_in "$out$err" "PreHook hook hk/slow of VM null-vm-3 exceeded its deadline of 2 s and was killed"
[ -z "$(vols slow)" ] || fail "a volume was created for a VM whose PreHook timed out"
[ ! -e "$rec/slow-woke" ] || fail "the timed-out hook was not killed"

# --- Only a PostHook: no PreHook step; it runs after the VM is created.
out="$(ferry start post -n hk --wait)" || fail "plan post failed: $out"
case "$out" in *"PreHook"*) fail "a VM without a PreHook shows a PreHook step: $out" ;; esac
expect_in "$out" "null-vm-4: PostHook Completed"
grep -q "null-vm-4.json" "$rec/post-vms" || fail "PostHook did not see null-vm-4: $(cat "$rec/post-vms")"

# --- An Ansible playbook (the image is not local, so ansible-playbook runs it).
if command -v ansible-playbook >/dev/null 2>&1; then
  out="$(ferry start ans -n hk --wait)" || fail "plan ans failed: $out"
  expect_in "$out" "null-vm-5: PreHook Completed"
  grep -q '"msg": "hello"' "$FERRY_STATE_DIR/logs/vm/hk/ans.vm-5.log" \
    || fail "ansible output not in the VM log: $(cat "$FERRY_STATE_DIR/logs/vm/hk/ans.vm-5.log")"
  echo "ansible-playbook hook ran"
else
  echo "ansible-playbook not installed: the playbook case is skipped"
fi
echo "hooks: record, fail (3 attempts), deadline, PostHook checked"
