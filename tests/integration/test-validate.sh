#!/bin/sh
# ferry validate plan, ferry describe plan and ferry start on plans that are
# and are not Ready (null provider and destination).
. "$abs_top_srcdir/tests/functions.sh"

[ -x "$abs_top_builddir/cli/ferry" ] || { echo "SKIP: cli/ferry is not built"; exit 77; }

m="$FERRY_STATE_DIR/m.yaml"
cat > "$m" <<'YAML'
apiVersion: v1
kind: Secret
metadata: {name: creds}
type: Opaque
stringData: {user: u}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Provider
metadata: {name: src}
spec: {type: "null", url: "null://", secret: {name: creds}, settings: {vms: "3"}}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Provider
metadata: {name: dst}
spec: {type: "null", secret: {name: creds}}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: NetworkMap
metadata: {name: net}
spec:
  provider: {source: {name: src}, destination: {name: dst}}
  map: [{source: {name: VM Network}, destination: {type: pod}}]
---
apiVersion: forklift.konveyor.io/v1beta1
kind: StorageMap
metadata: {name: st}
spec:
  provider: {source: {name: src}, destination: {name: dst}}
  map: [{source: {id: datastore-1}, destination: {storageClass: standard}}]
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Plan
metadata: {name: good}
spec:
  provider: {source: {name: src}, destination: {name: dst}}
  map: {network: {name: net}, storage: {name: st}}
  targetNamespace: target
  skipGuestConversion: true
  vms: [{id: vm-2}]
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Plan
metadata: {name: bad}
spec:
  provider: {source: {name: src}, destination: {name: dst}}
  map: {network: {name: net}, storage: {name: nost}}
  targetNamespace: Bad_NS
  pvcNameTemplate: '{{.VmName}}_x'
  vms: [{id: vm-1}, {id: vm-1}, {name: ghost}]
YAML
ferry apply -f "$m" >/dev/null

# A Ready plan: exit 0, one Ready condition.
out="$(ferry validate plan good)"
expect_in "$out" "Ready"
expect_in "$out" "The migration plan is ready."
json="$(ferry validate plan good -o json)"
expect_in "$json" '"category": "Required"'

# A plan that is not: exit 1, every condition with its items and what to do.
expect_fail ferry validate plan bad
[ "$rc" = 1 ] || fail "validate bad: exit $rc, want 1"
expect_in "$err" "plan default/bad is not ready"
for want in NamespaceNotValid StorageRefNotValid DuplicateVM VMNotFound \
            GuestConversionNotAvailable PVCNameTemplateNotValid \
            "name:'ghost'" "'null-vm-1_x'" "What to do:" \
            "set spec.skipGuestConversion: true for a raw copy"; do
  expect_in "$out" "$want"
done
case "$out" in *"Ready "*) fail "a bad plan must not be Ready: $out" ;; esac
expect_fail ferry validate plan bad -o yaml
expect_in "$out" "type: DuplicateVM"
expect_in "$out" "category: Critical"
expect_in "$out" "- id:vm-1 name:'null-vm-1'"

# The conditions are stored in the plan's status.
out="$(ferry get plan bad -o yaml)"
expect_in "$out" "type: VMNotFound"

# describe validates first and lists the conditions.
out="$(ferry describe plan bad)"
expect_in "$out" "Conditions:"
expect_in "$out" "DuplicateVM (Critical): VM id:vm-1 name:'null-vm-1' is listed more than once."
expect_in "$out" "To fix: list each VM once in spec.vms"
out="$(ferry describe plan good)"
expect_in "$out" "Ready (Required): The migration plan is ready."

# start refuses a plan that is not Ready, with the reasons.
expect_fail ferry start bad
[ "$rc" = 1 ] || fail "start bad: exit $rc, want 1"
expect_in "$err" "plan default/bad is not ready"
expect_in "$err" "listed more than once"
out="$(ferry start good)"
expect_in "$out" "created"

# A source whose disks have no size, and a migration type ferry lacks.
cat > "$FERRY_STATE_DIR/zero.yaml" <<'YAML'
apiVersion: forklift.konveyor.io/v1beta1
kind: Provider
metadata: {name: zero}
spec: {type: "null", url: "null://", secret: {name: creds}, settings: {vms: "1", diskSize: "0"}}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Plan
metadata: {name: zero}
spec:
  provider: {source: {name: zero}, destination: {name: dst}}
  map: {network: {name: net}, storage: {name: st}}
  targetNamespace: target
  skipGuestConversion: true
  type: conversion
  vms: [{id: vm-1}]
YAML
ferry apply -f "$FERRY_STATE_DIR/zero.yaml" >/dev/null
expect_fail ferry validate plan zero -o json
expect_in "$out" '"type": "InvalidDiskSizes"'
expect_in "$out" "id:vm-1 name:'null-vm-1' disk:disk-0"
expect_in "$out" '"type": "MigrationTypeNotValid"'
expect_in "$out" "Migration type 'conversion' is not supported"

# Usage errors.
expect_fail ferry validate plan
[ "$rc" = 2 ] || fail "validate without a name: exit $rc, want 2"
expect_fail ferry validate provider src
[ "$rc" = 2 ] || fail "validate provider: exit $rc, want 2"
expect_fail ferry validate plan nope
[ "$rc" = 1 ] || fail "validate a missing plan: exit $rc, want 1"
expect_in "$err" "plan default/nope not found"
echo "validate: ok"
