#!/bin/sh
# --help and the man page tell the same story: every command ferry --help
# lists has a section in ferry(1), every long option a command's --help
# lists appears in that section, and every section is a real command.
. "$abs_top_srcdir/tests/functions.sh"

man="$abs_top_srcdir/docs/ferry.1"
# The man page source with roff's \- turned back into -.
sed -e 's/\\-/-/g' "$man" > "$FERRY_STATE_DIR/man.txt"

help="$(ferry --help)"
cmds="$(printf '%s\n' "$help" | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 && $1 != "Commands:" { print $1 }')"
[ -n "$cmds" ] || fail "ferry --help lists no commands"

for opt in $(printf '%s\n' "$help" | grep -o -- '--[a-z][a-z-]*' | sort -u); do
  grep -q -- "$opt" "$FERRY_STATE_DIR/man.txt" || fail "global option $opt is not in ferry(1)"
done

for c in $cmds; do
  # The section of this command: from its .SS line to the next .SS or .SH.
  awk -v c="$c" '
    /^\.S[SH]/ { on = ($0 == ".SS \"ferry " c "\"") ; next }
    on { print }' "$FERRY_STATE_DIR/man.txt" > "$FERRY_STATE_DIR/section.txt"
  [ -s "$FERRY_STATE_DIR/section.txt" ] || fail "command $c has no section in ferry(1)"
  ch="$(ferry "$c" --help)" || fail "ferry $c --help failed"
  for opt in $(printf '%s\n' "$ch" | grep -o -- '--[a-z][a-z-]*' | grep -v -- '--help' | sort -u); do
    grep -q -- "$opt" "$FERRY_STATE_DIR/section.txt" || fail "ferry $c: option $opt is not in ferry(1)"
  done
done

# No man page section for a command that does not exist.
for c in $(sed -n 's/^\.SS "ferry \([a-z]*\)"$/\1/p' "$man"); do
  printf '%s\n' "$cmds" | grep -qx "$c" || fail "ferry(1) documents '$c', which ferry --help does not list"
done

# Exit codes as documented.
ferry --help >/dev/null || fail "--help must exit 0"
expect_fail ferry no-such-command
[ "$rc" = 2 ] || fail "unknown command: exit $rc, want 2"
expect_in "$err" "unknown command 'no-such-command'"
expect_fail ferry get
[ "$rc" = 2 ] || fail "get without kind: exit $rc, want 2"
expect_fail ferry get plans -o xml
[ "$rc" = 2 ] || fail "bad -o: exit $rc, want 2"
expect_in "$err" "unknown output format 'xml'"
v="$(ferry version)"
expect_in "$v" "ferry "
expect_in "$v" "module ABI 1"
echo "help and man page agree for: $(echo $cmds)"
