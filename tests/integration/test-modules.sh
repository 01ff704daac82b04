#!/bin/sh
# ferry modules: the build tree's null provider and destination are listed
# with name, kind, ABI, capabilities and file; --dump prints a descriptor
# and its callbacks; bad modules on FERRY_MODULE_PATH are listed as refused
# with their reasons while the good ones still load, and the command still
# succeeds.
. "$abs_top_srcdir/tests/functions.sh"

mods="$abs_top_builddir/tests/modules/.libs"
pnull="$abs_top_builddir/providers/null/.libs/ferry-provider-null.so"
dnull="$abs_top_builddir/destinations/null/.libs/ferry-destination-null.so"
[ -f "$pnull" ] && [ -f "$dnull" ] || fail "null modules not built: $pnull $dnull"

# The table.
out="$(ferry modules)"
printf '%s\n' "$out"
printf '%s\n' "$out" | head -1 | grep -q '^NAME *KIND *ABI *CAPABILITIES *FILE *STATUS$' \
  || fail "unexpected table header: $out"
printf '%s\n' "$out" | grep -q "^null  *provider  *1  *warm,extents,power,multi_conn  *$pnull  *loaded\$" \
  || fail "null provider not listed: $out"
printf '%s\n' "$out" | grep -q "^null  *destination  *1  *-  *$dnull  *loaded\$" \
  || fail "null destination not listed: $out"

# JSON: every field of ferry_modules().
json="$(ferry modules -o json)"
expect_in "$json" '"name": "null"'
expect_in "$json" '"kind": "provider"'
expect_in "$json" '"kind": "destination"'
expect_in "$json" '"abiVersion": 1'
expect_in "$json" '"threadModel": "parallel"'
expect_in "$json" "\"file\": \"$pnull\""
names="$(ferry modules -o name)"
printf '%s\n' "$names" | grep -qx 'provider/null' || fail "ferry modules -o name: $names"
printf '%s\n' "$names" | grep -qx 'destination/null' || fail "ferry modules -o name: $names"

# --dump: the descriptor and which callbacks exist.
dump="$(ferry modules --dump provider/null -o json)"
expect_in "$dump" '"structSize": '
expect_in "$dump" '"callbacks": {'
expect_in "$dump" '"disk_open": true'
expect_in "$dump" '"changed_extents": true'
expect_in "$dump" '"watch": false'
expect_in "$dump" '"pre_transfer": false'
dump="$(ferry modules --dump null)"
printf '%s\n' "$dump"
expect_in "$dump" 'kind: provider'
expect_in "$dump" 'kind: destination'
expect_in "$dump" 'disk_open: true'
expect_in "$dump" 'volume_create: true'
expect_in "$dump" 'vm_power_on: true'          # the null destination records power-on (warm/power steps)
expect_in "$dump" 'abiVersion: 1'
expect_fail ferry modules --dump nosuch
expect_in "$err" "nosuch"
expect_fail ferry modules --dump widget/null
expect_fail ferry modules --bogus
[ "$rc" = 2 ] || fail "unknown option: exit $rc, expected 2"
expect_fail ferry modules -o xml
[ "$rc" = 2 ] || fail "bad -o: exit $rc, expected 2"

# Bad modules next to good ones: refused with reasons, the rest load, and
# the command succeeds.
if [ ! -f "$mods/bad-abi.so" ]; then
  echo "SKIP: test modules not built (make check builds them)"
  exit 77
fi
bad="$FERRY_STATE_DIR/bad/providers"
mkdir -p "$bad"
for m in bad-abi no-entry missing-callback old-size wrong-kind good-provider; do
  ln -s "$mods/$m.so" "$bad/$m.so"
done
FERRY_MODULE_PATH="$FERRY_MODULE_PATH:$bad"
export FERRY_MODULE_PATH
out="$(ferry modules 2>"$FERRY_STATE_DIR/stderr")" || fail "ferry modules failed with bad modules around"
printf '%s\n' "$out"
warnings="$(cat "$FERRY_STATE_DIR/stderr")"
printf '%s\n' "$out" | grep -q "^null  *provider .* loaded\$" || fail "null provider lost: $out"
printf '%s\n' "$out" | grep -q "^null  *destination .* loaded\$" || fail "null destination lost: $out"
printf '%s\n' "$out" | grep -q "^good  *provider .*$bad/good-provider.so  *loaded\$" || fail "good module lost: $out"
printf '%s\n' "$out" | grep -q "^old-size  *provider  *1  *-  *$bad/old-size.so  *loaded\$" || fail "old-size: $out"
printf '%s\n' "$out" | grep -q "$bad/bad-abi.so  *refused: unsupported ABI version 999 (this ferry supports 1)\$" \
  || fail "bad-abi not refused: $out"
printf '%s\n' "$out" | grep -q "$bad/no-entry.so  *refused: no entry symbol ferry_module_entry" \
  || fail "no-entry not refused: $out"
printf '%s\n' "$out" | grep -q "^-  *provider .*$bad/missing-callback.so  *refused: missing mandatory callback: disk_open\$" \
  || fail "missing-callback not refused: $out"
printf '%s\n' "$out" | grep -q "^-  *destination .*$bad/wrong-kind.so  *refused: a destination module in a providers directory\$" \
  || fail "wrong-kind not refused: $out"
# Each refusal is also a warning naming the file.
expect_in "$warnings" "$bad/bad-abi.so: unsupported ABI version 999"
json="$(ferry modules -o json 2>/dev/null)"
expect_in "$json" "\"error\": \"$bad/missing-callback.so: missing mandatory callback: disk_open\""
dump="$(ferry modules --dump old-size -o json 2>/dev/null)"
expect_in "$dump" '"can_warm": false'
expect_in "$dump" '"capabilities": []'
