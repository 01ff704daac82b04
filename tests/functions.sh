# Sourced by the shell tests.  Strict mode, a private state directory, and
# `ferry` that runs the build tree's binary (under valgrind for
# make check-valgrind).
set -eu
: "${abs_top_builddir:?run through make check or ./run}"
: "${abs_top_srcdir:?}"

FERRY_STATE_DIR="$(mktemp -d "${TMPDIR:-/tmp}/ferry-test.XXXXXX")"
export FERRY_STATE_DIR
cleanup_dirs="$FERRY_STATE_DIR"
trap 'rm -rf $cleanup_dirs' EXIT

ferry () {
  ${FERRY_VALGRIND:-} "$abs_top_builddir/cli/ferry" "$@"
}

# fail MESSAGE: print and exit 1.
fail () {
  echo "FAIL: $*" >&2
  exit 1
}

# expect_fail CMD...: run CMD, which must exit non-zero (and not crash or
# report a valgrind error); its stderr is left in $err, stdout in $out.
expect_fail () {
  set +e
  out="$("$@" 2>"$FERRY_STATE_DIR/.stderr")"
  rc=$?
  set -e
  err="$(cat "$FERRY_STATE_DIR/.stderr")"
  case $rc in
    0) fail "expected failure, got success: $*" ;;
    119) fail "valgrind error in: $*: $err" ;;
    1[2-9][0-9]) fail "crash ($rc) in: $*: $err" ;;
  esac
}

# expect_in HAYSTACK NEEDLE
expect_in () {
  case "$1" in
    *"$2"*) ;;
    *) fail "expected to find '$2' in: $1" ;;
  esac
}
