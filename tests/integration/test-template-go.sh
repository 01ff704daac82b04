#!/bin/sh
# Differential conformance of the name templates: every template of
# tests/data/templates/corpus.txt is evaluated by ferry (tests/template-eval)
# and by Go's text/template + Sprig (tests/peers/gotemplate, built here in
# GOPATH mode from Debian's golang-*-dev packages, offline), on the same
# fixed data.  Outputs must be identical; where Go fails, ferry must fail
# too, at the same place (template:NAME:LINE[:COL]) and with the same
# message, except for the documented differences (regexp syntax error
# wording from PCRE2, {{define}}/{{template}}/{{block}}).
# Skips (77) only when go is not installed.
. "$abs_top_srcdir/tests/functions.sh"

command -v go >/dev/null 2>&1 || { echo "SKIP: go is not installed"; exit 77; }
driver="$abs_top_builddir/tests/template-eval"
[ -x "$driver" ] || fail "$driver not built (cmocka missing?)"
corpus="$abs_top_srcdir/tests/data/templates/corpus.txt"
tmp="$FERRY_STATE_DIR/go"
mkdir -p "$tmp/src"
cp -R "$abs_top_srcdir/tests/peers/gotemplate" "$tmp/src/gotemplate"
chmod -R u+w "$tmp/src"
# Debian installs Go sources under /usr/share/gocode; GOPATH mode needs no
# network and no module cache.
GO111MODULE=off GOPATH="$tmp:/usr/share/gocode" GOCACHE="$tmp/cache" GOFLAGS= \
  go build -o "$tmp/gotemplate" gotemplate ||
  fail "cannot build the Go peer (needs golang-github-masterminds-sprig-dev)"

"$tmp/gotemplate" corpus "$corpus" > "$tmp/go.out"
${FERRY_VALGRIND:-} "$driver" corpus "$corpus" > "$tmp/ferry.out"

n_go=$(wc -l < "$tmp/go.out")
n_fe=$(wc -l < "$tmp/ferry.out")
[ "$n_go" -ge 300 ] || fail "corpus too small: $n_go templates"
[ "$n_go" = "$n_fe" ] || fail "go evaluated $n_go templates, ferry $n_fe"

# Compare line by line.  ferry's parse errors carry a column Go's lack;
# drop it before comparing.
paste -d '\t' "$tmp/go.out" "$tmp/ferry.out" | awk -F '\t' -v corpus="$corpus" '
function strip_col(s,   p, head, rest) {
  # "N err:template: kind:L:C: msg" (parse error) -> "N err:template: kind:L: msg"
  if (s ~ /: executing "/) return s
  if (match(s, /^[0-9]+ err:template: [a-z]+:[0-9]+:[0-9]+: /)) {
    head = substr(s, 1, RLENGTH)
    rest = substr(s, RLENGTH + 1)
    sub(/:[0-9]+: $/, ": ", head)
    return head rest
  }
  return s
}
function where(s) {
  if (match(s, /err:template: [a-z]+:[0-9]+(:[0-9]+)?/)) return substr(s, RSTART, RLENGTH)
  return ""
}
BEGIN { while ((getline l < corpus) > 0) { ln++; text[ln] = l } }
{
  total++
  g = $1; f = strip_col($2)
  split(g, a, " "); line = a[1]
  if (g == f) { same++; next }
  gerr = (g ~ /^[0-9]+ err:/); ferr = (f ~ /^[0-9]+ err:/)
  if (gerr && ferr) {
    if (f ~ /is not supported in name templates/) {
      known++
    } else if (where(g) != where(f)) {
      bad++; printf "POSITION %s\n  template: %s\n  go:    %s\n  ferry: %s\n", line, text[line], g, f
    } else if (g ~ /error parsing regexp/) {
      known++
    } else {
      bad++; printf "MESSAGE %s\n  template: %s\n  go:    %s\n  ferry: %s\n", line, text[line], g, f
    }
    next
  }
  bad++
  printf "DIFF %s\n  template: %s\n  go:    %s\n  ferry: %s\n", line, text[line], g, f
}
END {
  printf "templates: %d, identical: %d, known message differences: %d, failures: %d\n", total, same, known, bad
  exit bad > 0
}' || fail "ferry and Go disagree (see above)"
