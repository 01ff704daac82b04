#!/bin/sh
# ferry template eval: output, errors (exit 1), usage errors (exit 2),
# validation of the result, --kind vm renaming.
. "$abs_top_srcdir/tests/functions.sh"

[ -x "$abs_top_builddir/cli/ferry" ] || { echo "SKIP: cli/ferry not built"; exit 77; }

out="$(ferry template eval --set VmName=web --set DiskIndex=3 '{{.VmName}}-disk-{{.DiskIndex}}')"
[ "$out" = "web-disk-3" ] || fail "pvc template: got '$out'"

out="$(ferry template eval --set Shared=true --set VmName=db '{{if .Shared}}shared-{{end}}{{.VmName}}')"
[ "$out" = "shared-db" ] || fail "Shared: got '$out'"

out="$(ferry template eval --kind volume --set VolumeIndex=2 'disk-{{.VolumeIndex}}')"
[ "$out" = "disk-2" ] || fail "volume template: got '$out'"

out="$(ferry template eval --kind network --set NetworkType=multus --set NetworkIndex=1 \
       '{{if eq .NetworkType "pod"}}pod{{else}}multus-{{.NetworkIndex}}{{end}}')"
[ "$out" = "multus-1" ] || fail "network template: got '$out'"

out="$(ferry template eval --set PlanName=migration-plan-production --set TargetVmName=database-server-01 \
       --set DiskIndex=0 '{{trunc 15 .PlanName}}-{{trunc 15 .TargetVmName}}-disk-{{.DiskIndex}}')"
[ "$out" = "migration-plan--database-server-disk-0" ] || fail "default template: got '$out'"

out="$(ferry template eval --kind vm 'My.VM_01')"
[ "$out" = "my.vm-01" ] || fail "vm rename: got '$out'"
out="$(ferry template eval --kind vm '___')"
case "$out" in vm-????) ;; *) fail "vm rename of an all-invalid name: got '$out'" ;; esac

expect_fail ferry template eval '{{trimm .VmName}}'
[ "$rc" = 1 ] || fail "undefined function: exit $rc"
expect_in "$err" 'template: pvc:1:2: function "trimm" not defined'

expect_fail ferry template eval '{{div 1 0}}'
[ "$rc" = 1 ] || fail "exec error: exit $rc"
expect_in "$err" 'error calling div: runtime error: integer divide by zero'

expect_fail ferry template eval --set VmName=Web '{{.VmName}}'
[ "$rc" = 1 ] || fail "invalid label: exit $rc"
expect_in "$err" 'not a valid name'
[ "$out" = "Web" ] || fail "invalid label: the output is still printed, got '$out'"

for bad in "--kind foo x" "--set DiskIndex=x x" "--set Shared=maybe x" "--set novalue x" "" "a b" "--bogus x"; do
  # shellcheck disable=SC2086
  expect_fail ferry template eval $bad
  [ "$rc" = 2 ] || fail "usage error '$bad': exit $rc"
done
expect_fail ferry template frobnicate
[ "$rc" = 2 ] || fail "unknown subcommand: exit $rc"
ferry template --help | grep -q 'ferry template eval' || fail "--help"

# --plan: a stored plan's PVC names for every VM and disk of its inventory.
m="$FERRY_STATE_DIR/plan.yaml"
cat > "$m" <<'YAML'
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {user: u}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Provider
metadata: {name: src}
spec: {type: "null", url: "null://", secret: {name: creds}, settings: {vms: "2"}}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Plan
metadata: {name: names}
spec:
  provider: {source: {name: src}, destination: {name: host}}
  map: {network: {name: net}, storage: {name: st}}
  targetNamespace: target
  pvcNameTemplate: '{{.PlanName}}-{{.VmId}}-{{.DiskIndex}}'
  vms:
    - id: vm-1
    - id: vm-2
      targetName: renamed
      pvcNameTemplate: '{{.VmName}}_{{.DiskIndex}}'
    - name: ghost
YAML
ferry apply -f "$m" >/dev/null
ferry inventory refresh --provider src >/dev/null
expect_fail ferry template eval --plan names
[ "$rc" = 1 ] || fail "--plan with problems: exit $rc, want 1"
expect_in "$out" "names-vm-1-0"
expect_in "$out" "renamed"
expect_in "$out" "not a valid volume name"
expect_in "$out" "ghost"
expect_in "$out" "not in the source inventory"
j="$(ferry template eval --plan names -o json || true)"
expect_in "$j" '"pvcName": "names-vm-1-0"'
expect_in "$j" '"targetName": "renamed"'
expect_fail ferry template eval --plan nosuchplan
expect_in "$err" "nosuchplan"
expect_fail ferry template eval --plan names '{{.VmName}}'
[ "$rc" = 2 ] || fail "--plan with a TEMPLATE: exit $rc, want 2"
