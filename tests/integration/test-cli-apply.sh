#!/bin/sh
# ferry apply / get / describe / delete, end to end through the command,
# as kubectl users expect them to behave.
. "$abs_top_srcdir/tests/functions.sh"

ex="$abs_top_srcdir/examples"

# A directory of manifests: everything created, in order.
out="$(ferry apply -f "$ex")"
expect_in "$out" "secret/vsphere-credentials created"
expect_in "$out" "provider.forklift.konveyor.io/vsphere created"
expect_in "$out" "networkmap.forklift.konveyor.io/vsphere-network-map created"
expect_in "$out" "storagemap.forklift.konveyor.io/vsphere-storage-map created"
expect_in "$out" "plan.forklift.konveyor.io/wave-1 created"
expect_in "$out" "migration.forklift.konveyor.io/wave-1-run-1 created"

# Applying the same manifests again changes nothing.
out="$(ferry apply -f "$ex")"
expect_in "$out" "plan.forklift.konveyor.io/wave-1 unchanged"
expect_in "$out" "secret/vsphere-credentials unchanged"
gen="$(ferry get plan wave-1 -n openshift-mtv -o json | grep '"generation"')"
expect_in "$gen" '"generation": 1'

# A changed spec is "configured" and bumps the generation.
sed -e 's/targetNamespace: migrated/targetNamespace: migrated-2/' "$ex/03-plan.yaml" > "$FERRY_STATE_DIR/plan2.yaml"
out="$(ferry apply -f "$FERRY_STATE_DIR/plan2.yaml")"
expect_in "$out" "plan.forklift.konveyor.io/wave-1 configured"
expect_in "$out" "migration.forklift.konveyor.io/wave-1-run-1 unchanged"
y="$(ferry get plan wave-1 -n openshift-mtv -o yaml)"
expect_in "$y" "generation: 2"
expect_in "$y" "targetNamespace: migrated-2"
expect_in "$y" "apiVersion: forklift.konveyor.io/v1beta1"
expect_in "$y" "kind: Plan"

# The yaml ferry prints applies back unchanged (round trip).
ferry get plan wave-1 -n openshift-mtv -o yaml > "$FERRY_STATE_DIR/roundtrip.yaml"
out="$(ferry apply -f "$FERRY_STATE_DIR/roundtrip.yaml")"
expect_in "$out" "plan.forklift.konveyor.io/wave-1 unchanged"

# Tables show the CRD's printer columns.
t="$(ferry get providers -n openshift-mtv)"
expect_in "$t" "NAME"
expect_in "$t" "TYPE"
expect_in "$t" "vsphere"
expect_in "$t" "https://vcenter.example.com/sdk"
t="$(ferry get plans -A)"
expect_in "$t" "NAMESPACE"
expect_in "$t" "openshift-mtv"
expect_in "$t" "wave-1"
# Kinds by plural, short and qualified names.
ferry get plan.forklift.konveyor.io wave-1 -n openshift-mtv -o name | grep -qx "plan.forklift.konveyor.io/wave-1" \
  || fail "get -o name by qualified kind"
n="$(ferry get Plans -n openshift-mtv -o name)"
expect_in "$n" "plan.forklift.konveyor.io/wave-1"
# JSON list is a v1 List.
j="$(ferry get networkmaps -n openshift-mtv -o json)"
expect_in "$j" '"kind": "List"'
expect_in "$j" '"vsphere-network-map"'

# describe
d="$(ferry describe plan wave-1 -n openshift-mtv)"
expect_in "$d" "Name:        wave-1"
expect_in "$d" "Namespace:   openshift-mtv"
expect_in "$d" "Spec:"
expect_in "$d" "targetNamespace: migrated-2"
d="$(ferry describe secret vsphere-credentials -n openshift-mtv)"
expect_in "$d" "password:  9 bytes"
case "$d" in *Ch4ngeMe*) fail "describe secret shows the password" ;; esac

# stdin, the default namespace and -n
printf 'apiVersion: forklift.konveyor.io/v1beta1\nkind: Hook\nmetadata:\n  name: h1\nspec:\n  image: quay.io/konveyor/hook-runner\n  playbook: ""\n' \
  | ferry apply -f - >/dev/null
ferry get hook h1 -o name | grep -qx "hook.forklift.konveyor.io/h1" || fail "stdin apply into default namespace"
printf '{"apiVersion":"forklift.konveyor.io/v1beta1","kind":"Hook","metadata":{"name":"h2"},"spec":{"image":"x"}}' \
  | ferry apply -n other -f - >/dev/null
ferry get hook h2 -n other -o name | grep -qx "hook.forklift.konveyor.io/h2" || fail "JSON apply with -n"

# dry run stores nothing
printf 'apiVersion: forklift.konveyor.io/v1beta1\nkind: Hook\nmetadata:\n  name: h3\nspec:\n  image: x\n' > "$FERRY_STATE_DIR/h3.yaml"
out="$(ferry apply --dry-run -f "$FERRY_STATE_DIR/h3.yaml")"
expect_in "$out" "hook.forklift.konveyor.io/h3 created (dry run)"
expect_fail ferry get hook h3
expect_in "$err" "not found"

# delete
out="$(ferry delete hook h1)"
expect_in "$out" 'hook.forklift.konveyor.io "h1" deleted'
expect_fail ferry get hook h1
[ "$rc" = 1 ] || fail "get of a deleted object: exit $rc, want 1"
expect_fail ferry delete hook h1
expect_in "$err" "not found"

# An empty list is not an error.
out="$(ferry get hosts 2>&1)"
expect_in "$out" "No resources found in default namespace."
echo "apply/get/describe/delete behave"
