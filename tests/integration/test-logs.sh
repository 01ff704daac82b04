#!/bin/sh
# ferry logs and ferry must-gather after a migration with a PreHook (null
# provider and destination): the VM's hook output is in its log and in
# `ferry logs`; the must-gather archive is laid out like Forklift's, holds
# the plan as YAML and the logs, and no Secret value.
. "$abs_top_srcdir/tests/functions.sh"
command -v tar >/dev/null 2>&1 || { echo "SKIP: tar not installed"; exit 77; }

w="$FERRY_STATE_DIR/work"
mkdir -p "$w"
password="pw-$$-n0t-in-any-archive"
cat > "$w/hook.sh" <<'EOF'
#!/bin/sh
echo "pre hook of $(sed -n 's/^name: //p' workload.yml)"
EOF
chmod 0755 "$w/hook.sh"
cat > "$w/m.yaml" <<YAML
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: lg}
type: Opaque
stringData: {user: admin, password: $password}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Provider
metadata: {name: src, namespace: lg}
spec: {type: "null", url: "null://?vms=2", secret: {name: creds, namespace: lg}}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Provider
metadata: {name: dst, namespace: lg}
spec: {type: "null", secret: {name: creds, namespace: lg}}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: NetworkMap
metadata: {name: net, namespace: lg}
spec:
  provider: {source: {name: src}, destination: {name: dst}}
  map: [{source: {id: network-1}, destination: {type: pod}}, {source: {id: network-2}, destination: {type: ignored}}]
---
apiVersion: forklift.konveyor.io/v1beta1
kind: StorageMap
metadata: {name: st, namespace: lg}
spec:
  provider: {source: {name: src}, destination: {name: dst}}
  map: [{source: {id: datastore-1}, destination: {storageClass: standard}}]
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Hook
metadata: {name: pre, namespace: lg}
spec: {image: $w/hook.sh, deadline: 60}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Plan
metadata: {name: mig, namespace: lg}
spec:
  provider: {source: {name: src}, destination: {name: dst}}
  map: {network: {name: net}, storage: {name: st}}
  targetNamespace: target
  skipGuestConversion: true
  vms:
    - id: vm-1
      hooks: [{hook: {name: pre}, step: PreHook}]
    - name: null-vm-2
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Plan
metadata: {name: other, namespace: lg}
spec:
  provider: {source: {name: src}, destination: {name: dst}}
  map: {network: {name: net}, storage: {name: st}}
  targetNamespace: other
  skipGuestConversion: true
  vms: [{id: vm-2}]
YAML
ferry apply -f "$w/m.yaml" >/dev/null
out="$(ferry start mig -n lg --wait)" || fail "migration failed: $out"

# --- ferry logs
out="$(ferry logs mig -n lg)"
expect_in "$out" "==> plan <=="
expect_in "$out" "==> migration mig-"
expect_in "$out" "==> vm null-vm-1 (vm-1) <=="
expect_in "$out" "PreHook: pre hook of null-vm-1"
expect_in "$out" "migration mig-"
out="$(ferry logs mig -n lg --vm null-vm-1)"
expect_in "$out" "PreHook: pre hook of null-vm-1"
expect_in "$out" "vm null-vm-1: disk"
case "$out" in *"vm null-vm-2:"*) fail "--vm null-vm-1 shows lines of null-vm-2: $out" ;; esac
out="$(ferry logs mig -n lg --vm vm-1 --follow)"     # the migration has ended: returns
expect_in "$out" "pre hook of null-vm-1"
expect_fail ferry logs mig -n lg --vm vm-9
expect_in "$err" "VM vm-9 is not among the VMs of plan lg/mig"
expect_fail ferry logs nosuch -n lg
expect_in "$err" "not found"

# --- --follow while a migration runs: it ends when the migration does.
cat > "$w/slow.sh" <<'EOF'
#!/bin/sh
echo "before sleep"
sleep 2
echo "after sleep"
EOF
chmod 0755 "$w/slow.sh"
cat <<YAML | ferry apply -f - >/dev/null
apiVersion: forklift.konveyor.io/v1beta1
kind: Hook
metadata: {name: slow, namespace: lg}
spec: {image: $w/slow.sh, deadline: 60}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Plan
metadata: {name: follow, namespace: lg}
spec:
  provider: {source: {name: src}, destination: {name: dst}}
  map: {network: {name: net}, storage: {name: st}}
  targetNamespace: follow
  skipGuestConversion: true
  vms: [{id: vm-2, hooks: [{hook: {name: slow}, step: PostHook}]}]
YAML
ferry start follow -n lg --wait > "$w/follow-start.out" 2>&1 &
bg=$!
out="$(timeout 120 "$abs_top_builddir/cli/ferry" logs follow -n lg --follow)" \
  || fail "ferry logs --follow failed or did not end"
wait $bg || fail "plan follow failed: $(cat "$w/follow-start.out")"
expect_in "$out" "PostHook: after sleep"
expect_in "$out" "PostHook: hook lg/slow succeeded"

# --- ferry must-gather of one plan
out="$(ferry must-gather --plan mig -n lg -o "$w/mg.tar.gz")" || fail "must-gather failed: $out"
[ "$(stat -c %a "$w/mg.tar.gz")" = 600 ] || fail "archive mode $(stat -c %a "$w/mg.tar.gz")"
mkdir "$w/x"
tar -xzf "$w/mg.tar.gz" -C "$w/x"
list="$(cd "$w/x" && find . -type f | sort)"
mig="$(ferry get migrations -n lg -o name | grep /mig- | head -n1)"; mig="${mig#*/}"
for p in must-gather/version \
         must-gather/namespaces/lg/crs/plan/mig.yaml \
         must-gather/namespaces/lg/crs/migration/$mig.yaml \
         must-gather/namespaces/lg/crs/provider/src.yaml \
         must-gather/namespaces/lg/crs/provider/dst.yaml \
         must-gather/namespaces/lg/crs/networkmap/net.yaml \
         must-gather/namespaces/lg/crs/storagemap/st.yaml \
         must-gather/namespaces/lg/crs/hook/pre.yaml \
         must-gather/namespaces/lg/crs/secret/creds.yaml \
         must-gather/namespaces/lg/logs/migration-$mig/current.log \
         must-gather/namespaces/lg/logs/plan-mig/current.log \
         must-gather/namespaces/lg/logs/vm-mig.vm-1/current.log; do
  expect_in "$list" "./$p"
done
case "$list" in *other*) fail "must-gather --plan mig includes plan other: $list" ;; esac
mode="$(tar -tvzf "$w/mg.tar.gz" | awk '{print $1}' | sort -u)"
[ "$mode" = "-rw-------" ] || fail "archive entries are not 0600: $mode"
y="$w/x/must-gather/namespaces/lg/crs/plan/mig.yaml"
grep -q "^kind: Plan" "$y" || fail "plan YAML: $(cat "$y")"
grep -q "targetNamespace: target" "$y" || fail "plan YAML has no spec"
grep -q "pre hook of null-vm-1" "$w/x/must-gather/namespaces/lg/logs/vm-mig.vm-1/current.log" \
  || fail "VM log not in the archive"
s="$w/x/must-gather/namespaces/lg/crs/secret/creds.yaml"
grep -q "password: (redacted)" "$s" || fail "Secret keys not listed: $(cat "$s")"
if grep -r -q -e "$password" -e "$(printf %s "$password" | base64)" "$w/x"; then
  fail "a Secret value is in the must-gather archive"
fi
zcat "$w/mg.tar.gz" | grep -a -q -e "$password" && fail "a Secret value is in the raw archive"

# --- narrowed to a VM, and everything
ferry must-gather --vm vm-2 -n lg -o "$w/vm.tar.gz" >/dev/null
list="$(tar -tzf "$w/vm.tar.gz")"
expect_in "$list" "crs/plan/other.yaml"
expect_in "$list" "crs/plan/mig.yaml"        # null-vm-2 is in mig by name
case "$list" in *vm-mig.vm-1*) fail "--vm vm-2 includes vm-1's log: $list" ;; esac
ferry must-gather -o "$w/all.tar.gz" >/dev/null
list="$(tar -tzf "$w/all.tar.gz")"
expect_in "$list" "must-gather/namespaces/lg/crs/plan/other.yaml"
expect_in "$list" "must-gather/namespaces/lg/logs/vm-mig.vm-1/current.log"
tar -xzOf "$w/all.tar.gz" | grep -a -q -e "$password" && fail "a Secret value is in the full archive"
expect_fail ferry must-gather --plan nosuch -n lg -o "$w/none.tar.gz"
expect_in "$err" "no plan nosuch"
[ ! -e "$w/none.tar.gz" ] || fail "a failed must-gather left its file"
echo "logs and must-gather checked"
