#!/bin/sh
# ferry copy-disk, the worker of `transfer: job` (issue 7 scale-out):
# disks of a real OVA (built with qemu-img by make-ova.sh) and of the null
# provider are copied into files and compared byte for byte with their
# sources; the SHA-256 it reports is the source's; it never touches a state
# directory and leaves no temporary one behind, also when it fails; bad
# manifests, an unknown provider, VM or disk, an unusable output and a
# source that fails mid-copy each give a message naming what is wrong and
# exit 1 (a partial output file it created is removed).
. "$abs_top_srcdir/tests/functions.sh"
. "$abs_top_srcdir/tests/ova-manifests.sh"
. "$abs_top_srcdir/tests/integration/engine-null-manifests.sh"

w="$(mktemp -d "${TMPDIR:-/tmp}/ferry-copy-disk-test.XXXXXX")"
cleanup_dirs="$cleanup_dirs $w"
# copy-disk must not use a state directory: $FERRY_STATE_DIR (empty, but
# for expect_fail's .stderr) must stay so, and its private one under
# $TMPDIR must be gone after each run.
mkdir "$w/tmp"
export TMPDIR="$w/tmp"

no_leftovers () {   # no_leftovers WHEN
  left="$(ls -A "$FERRY_STATE_DIR" | grep -vx '.stderr' || :)"
  [ -z "$left" ] || fail "$1: copy-disk wrote into the state directory: $left"
  [ -z "$(ls -A "$w/tmp")" ] || fail "$1: copy-disk left $(ls -A "$w/tmp") in \$TMPDIR"
}

# ---- null provider ------------------------------------------------------
size=3145728
{ printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: synthetic, namespace: src}\n'
  printf 'stringData: {user: nobody, password: not-a-real-one}\n'
  null_source src synthetic "null://?vms=2&disks=2&size=$size" synthetic
  null_source src flaky "null://?vms=1&disks=1&size=$size" synthetic '{failReadAt: "2097152"}'
} > "$w/null.yaml"
chmod 0600 "$w/null.yaml"

out="$(ferry copy-disk --manifests "$w/null.yaml" --provider src/synthetic \
         --vm vm-2 --disk disk-1 --output "$w/null.img")" || fail "null copy failed: $out"
python3 "$abs_top_srcdir/tests/integration/null-disk.py" 2 1 $size 0 "$w/null.ref"
cmp "$w/null.ref" "$w/null.img" || fail "null disk vm-2/disk-1 differs from the provider's content"
want="$(sha256sum "$w/null.ref" | cut -d' ' -f1)"
expect_in "$out" "sha256 $want (verified)"
expect_in "$out" "vm-2/disk-1: done: $size bytes"
mode="$(stat -c %a "$w/null.img")"
[ "$mode" = 660 ] || fail "a created output has mode $mode, not 660"
# Sparse: the null disk's hole (a quarter of it) is not written.
alloc=$(( $(stat -c %b "$w/null.img") * $(stat -c %B "$w/null.img") ))
[ "$alloc" -lt "$size" ] || fail "the output is not sparse ($alloc bytes allocated of $size)"
no_leftovers "null copy"

# An existing, larger file keeps its mode and is truncated to the disk.
head -c $((size * 2)) /dev/urandom > "$w/existing.img"
chmod 0604 "$w/existing.img"
ferry copy-disk --manifests "$w/null.yaml" --provider src/synthetic --vm vm-1 \
  --disk disk-0 --output "$w/existing.img" -o json > "$w/events.json" \
  || fail "copy into an existing file failed: $(cat "$w/events.json")"
python3 "$abs_top_srcdir/tests/integration/null-disk.py" 1 0 $size 0 "$w/null1.ref"
cmp "$w/null1.ref" "$w/existing.img" || fail "existing.img differs from vm-1/disk-0"
[ "$(stat -c %a "$w/existing.img")" = 604 ] || fail "an existing output's mode was changed"
# -o json: one object per line; the last says Completed with the sha256.
python3 - "$w/events.json" "$(sha256sum "$w/null1.ref" | cut -d' ' -f1)" $size <<'PY' || fail "bad JSON events: $(cat "$w/events.json")"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
ev = [json.loads(l) for l in lines]
assert len(ev) >= 2, ev
for e in ev:
    assert e["provider"] == "src/synthetic" and e["vm"] == "vm-1" and e["disk"] == "disk-0", e
    assert e["step"] == "DiskTransfer", e
assert ev[0]["phase"] == "Running", ev[0]
last = ev[-1]
assert last["phase"] == "Completed", last
assert last["sha256"] == sys.argv[2], last
assert last["done"] == last["total"] == int(sys.argv[3]), last
PY
no_leftovers "json copy"

# ---- OVA ------------------------------------------------------------------
if command -v qemu-img >/dev/null 2>&1 && command -v qemu-nbd >/dev/null 2>&1; then
  mkdir -p "$w/ova"
  sh "$abs_top_srcdir/tests/make-ova.sh" "$w/build" solo >/dev/null
  mv "$w/build/solo.ova" "$w/ova/"
  ova_manifests ova "$w/ova" > "$w/ova.yaml"
  # The ids, from an inventory in a state directory of the test's own.
  inv="$(FERRY_STATE_DIR="$w/inventory" sh -c '
    "$0/cli/ferry" apply -f "$1" >/dev/null &&
    "$0/cli/ferry" inventory refresh --provider ova -n ova >/dev/null &&
    "$0/cli/ferry" inventory vms --provider ova -n ova -o json' "$abs_top_builddir" "$w/ova.yaml")"
  ids="$(printf '%s' "$inv" | python3 -c '
import json, sys
for vm in json.load(sys.stdin):
    for d in vm["disks"]:
        print(vm["id"], d["id"], d["capacity"])')"
  [ "$(printf '%s\n' "$ids" | wc -l)" = 2 ] || fail "expected 2 OVA disks: $ids"
  n=0
  printf '%s\n' "$ids" > "$w/ids"
  while read -r vm disk cap; do
    n=$((n + 1))
    ferry copy-disk --manifests "$w/ova.yaml" --provider ova/ova --vm "$vm" \
      --disk "$disk" --output "$w/ova-$n.img" > "$w/ova-$n.out" \
      || fail "OVA copy of $vm/$disk failed: $(cat "$w/ova-$n.out")"
    # Which raw image it is, by size (disk1 16 MiB, disk2 4196352 bytes).
    case $cap in
      16777216) ref="$w/build/solo-disk1.raw" ;;
      4196352) ref="$w/build/solo-disk2.raw" ;;
      *) fail "unexpected OVA disk capacity $cap" ;;
    esac
    cmp "$ref" "$w/ova-$n.img" || fail "OVA disk $disk differs from $ref"
    expect_in "$(cat "$w/ova-$n.out")" "sha256 $(sha256sum "$ref" | cut -d' ' -f1) (verified)"
  done < "$w/ids"
  no_leftovers "OVA copies"
  ovavm="$(head -n1 "$w/ids" | cut -d' ' -f1)"
  expect_fail ferry copy-disk --manifests "$w/ova.yaml" --provider ova/ova \
    --vm no-such-vm --disk x --output "$w/x.img"
  expect_in "$err" "provider ova/ova: VM no-such-vm"
  expect_in "$err" "not found"
  expect_fail ferry copy-disk --manifests "$w/ova.yaml" --provider ova/ova \
    --vm "$ovavm" --disk no-such-disk --output "$w/x.img"
  expect_in "$err" "disk no-such-disk not found"
  [ ! -e "$w/x.img" ] || fail "a failed copy created its output"
else
  echo "note: qemu-img/qemu-nbd missing: the OVA part is skipped"
fi

# ---- errors ---------------------------------------------------------------
expect_fail ferry copy-disk --manifests "$w/missing.yaml" --provider src/synthetic \
  --vm vm-1 --disk disk-0 --output "$w/x.img"
expect_in "$err" "missing.yaml"
printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: [unclosed\n' > "$w/broken.yaml"
expect_fail ferry copy-disk --manifests "$w/broken.yaml" --provider src/synthetic \
  --vm vm-1 --disk disk-0 --output "$w/x.img"
expect_in "$err" "manifests $w/broken.yaml"
expect_fail ferry copy-disk --manifests "$w/null.yaml" --provider src/absent \
  --vm vm-1 --disk disk-0 --output "$w/x.img"
expect_in "$err" "provider src/absent does not exist"
expect_fail ferry copy-disk --manifests "$w/null.yaml" --provider no-slash \
  --vm vm-1 --disk disk-0 --output "$w/x.img"
expect_in "$err" "provider 'no-slash' is not NAMESPACE/NAME"
expect_fail ferry copy-disk --manifests "$w/null.yaml" --provider src/synthetic \
  --vm vm-9 --disk disk-0 --output "$w/x.img"
expect_in "$err" "provider src/synthetic: VM vm-9"
expect_fail ferry copy-disk --manifests "$w/null.yaml" --provider src/synthetic \
  --vm vm-1 --disk disk-7 --output "$w/x.img"
expect_in "$err" "disk disk-7"
[ ! -e "$w/x.img" ] || fail "a failed copy created its output"
# Outputs it cannot use.
expect_fail ferry copy-disk --manifests "$w/null.yaml" --provider src/synthetic \
  --vm vm-1 --disk disk-0 --output "$w/no-such-dir/x.img"
expect_in "$err" "output $w/no-such-dir/x.img"
expect_in "$err" "No such file or directory"
mkdir "$w/a-directory"
expect_fail ferry copy-disk --manifests "$w/null.yaml" --provider src/synthetic \
  --vm vm-1 --disk disk-0 --output "$w/a-directory"
expect_in "$err" "output $w/a-directory is neither a regular file nor a block device"
if [ "$(id -u)" != 0 ]; then
  mkdir "$w/read-only"
  chmod 0500 "$w/read-only"
  expect_fail ferry copy-disk --manifests "$w/null.yaml" --provider src/synthetic \
    --vm vm-1 --disk disk-0 --output "$w/read-only/x.img"
  expect_in "$err" "Permission denied"
  chmod 0700 "$w/read-only"
fi
# A source that fails mid-copy (the null provider's injected read error at
# 2 MiB): exit 1, the reason and the disk named, the partial file removed.
expect_fail ferry copy-disk --manifests "$w/null.yaml" --provider src/flaky \
  --vm vm-1 --disk disk-0 --output "$w/flaky.img" -o json
expect_in "$err" "copying disk disk-0 of VM vm-1 (provider src/flaky) to $w/flaky.img"
expect_in "$err" "failReadAt"
expect_in "$out" '"phase":"Failed"'
[ ! -e "$w/flaky.img" ] || fail "the partial output of a failed copy was left"
# SIGTERM (a deleted Job's pod) stops the copy: exit 1, the partial file
# and the private state directory removed.
{ printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: src}\nstringData: {user: u}\n'
  null_source src slow "null://?vms=1&disks=1&size=67108864" s '{readDelayMs: "500"}'
} > "$w/slow.yaml"
# (not through the ferry function: $! must be ferry itself)
${FERRY_VALGRIND:-} "$abs_top_builddir/cli/ferry" copy-disk --manifests "$w/slow.yaml" \
  --provider src/slow --vm vm-1 --disk disk-0 \
  --output "$w/stopped.img" > "$w/stopped.out" 2> "$w/stopped.err" &
pid=$!
# Its first line is printed once the signal handlers are in place.
while [ ! -s "$w/stopped.out" ]; do
  kill -0 $pid 2>/dev/null || fail "the slow copy ended early: $(cat "$w/stopped.err")"
  sleep 0.1
done
kill -TERM $pid
set +e
wait $pid
rc=$?
set -e
[ $rc = 1 ] || fail "a copy stopped by SIGTERM exited $rc, not 1: $(cat "$w/stopped.err")"
expect_in "$(cat "$w/stopped.err")" "copy-disk (stopped by a signal)"
[ ! -e "$w/stopped.img" ] || fail "the output of a stopped copy was left"
no_leftovers "a stopped copy"
# Bad command lines.
expect_fail ferry copy-disk --manifests "$w/null.yaml" --provider src/synthetic --vm vm-1 --disk disk-0
[ "$rc" = 2 ] || fail "a missing --output should exit 2, not $rc"
expect_in "$err" "--output is required"
expect_fail ferry copy-disk --manifests "$w/null.yaml" --provider src/synthetic \
  --vm vm-1 --disk disk-0 --output "$w/x.img" -o yaml
[ "$rc" = 2 ] || fail "-o yaml should exit 2, not $rc"
no_leftovers "failed copies"
echo "ok"
