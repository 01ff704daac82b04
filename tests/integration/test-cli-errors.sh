#!/bin/sh
# Bad manifests: a clear error naming file, line:column and field, exit 1,
# and nothing from that invocation stored.
. "$abs_top_srcdir/tests/functions.sh"

d="$FERRY_STATE_DIR/in"
mkdir -p "$d"

good='apiVersion: forklift.konveyor.io/v1beta1
kind: Hook
metadata:
  name: good-hook
spec:
  image: quay.io/konveyor/hook-runner
'

# nothing_stored: the good object that came with the bad one is absent.
nothing_stored () {
  set +e
  ferry get hook good-hook >/dev/null 2>&1
  r=$?
  set -e
  [ "$r" = 1 ] || fail "$1: the good document was stored although the apply failed"
}

check () {            # check NAME EXPECTED-TEXT...
  name="$1"; shift
  expect_fail ferry apply -f "$d/$name"
  [ "$rc" = 1 ] || fail "$name: exit $rc, want 1"
  for want in "$@"; do
    expect_in "$err" "$want"
  done
  nothing_stored "$name"
}

# Malformed YAML (after a good document).
printf '%s---\napiVersion: forklift.konveyor.io/v1beta1\nkind: Hook\nmetadata:\n  name: [x\n' "$good" > "$d/malformed.yaml"
check malformed.yaml "malformed.yaml:12:1:" "started at line 11"

# Wrong apiVersion / kind.
printf '%s---\napiVersion: forklift.konveyor.io/v1\nkind: Plan\nmetadata:\n  name: p\nspec: {}\n' "$good" > "$d/apiversion.yaml"
check apiversion.yaml "apiversion.yaml:" "forklift.konveyor.io/v1beta1"
printf '%s---\napiVersion: forklift.konveyor.io/v1beta1\nkind: Plane\nmetadata:\n  name: p\n' "$good" > "$d/kind.yaml"
check kind.yaml "kind.yaml:" "Plane"

# Missing required field (Provider needs spec.type? the CRD says which; a
# Migration's plan reference, a Plan's provider) and a VM without id or name.
cat > "$d/vms.yaml" <<EOF2
$good---
apiVersion: forklift.konveyor.io/v1beta1
kind: Plan
metadata:
  name: p
spec:
  provider:
    source: {name: vsphere}
    destination: {name: host}
  map:
    network: {name: n}
    storage: {name: s}
  vms:
    - id: vm-1
    - targetName: nameless
EOF2
check vms.yaml "vms.yaml:" "spec.vms[1]" "needs id or name"

# Wrong type.
printf '%s---\napiVersion: forklift.konveyor.io/v1beta1\nkind: Plan\nmetadata:\n  name: p\nspec:\n  warm: "yes please"\n  provider: {source: {name: a}, destination: {name: b}}\n  map: {network: {name: n}, storage: {name: s}}\n  vms: []\n' "$good" > "$d/type.yaml"
check type.yaml "type.yaml:" "spec.warm" "boolean"

# Duplicate names in one file.
printf '%s---\n%s' "$good" "$good" > "$d/dup.yaml"
check dup.yaml "dup.yaml:" "good-hook"

# An empty file, a binary file, a 50 MB document.
: > "$d/empty.yaml"
check empty.yaml "empty.yaml" "no documents"
head -c 4096 /dev/urandom > "$d/binary.yaml"
printf '\000' >> "$d/binary.yaml"
check binary.yaml "binary.yaml"
{ printf '%s---\napiVersion: forklift.konveyor.io/v1beta1\nkind: Hook\nmetadata:\n  name: big\nspec:\n  image: x\n  playbook: "' "$good"
  head -c 52428800 /dev/zero | tr '\000' 'A'
  printf '"\n'; } > "$d/big.yaml"
check big.yaml "big.yaml" "limit"
rm -f "$d/big.yaml"

# A missing file.
expect_fail ferry apply -f "$d/no-such-file.yaml"
expect_in "$err" "no-such-file.yaml"

# Unknown fields are a warning naming them, not an error.
printf 'apiVersion: forklift.konveyor.io/v1beta1\nkind: Hook\nmetadata:\n  name: warned\nspec:\n  image: x\n  colour: blue\n' > "$d/unknown.yaml"
ferry apply -f "$d/unknown.yaml" > "$d/out" 2> "$d/err" || fail "unknown field must not fail the apply"
expect_in "$(cat "$d/err")" "spec.colour"
expect_in "$(cat "$d/err")" "unknown.yaml:7:"
echo "bad input is refused clearly and atomically"
