#!/bin/sh
# Every public header compiles on its own, included first in its own
# translation unit, as strict C99 and as C++11: third parties include them
# in any order, from either language.
. "$abs_top_srcdir/tests/functions.sh"

: "${CC:=cc}" "${CXX:=c++}"
inc="$abs_top_srcdir/include"
jansson="$(pkg-config --cflags jansson 2>/dev/null || true)"
tu="$FERRY_STATE_DIR/tu"
# The installed headers: include/ferry/*.h and the template library's.
headers="$(cd "$inc" && ls ferry/*.h) ferry-template.h"
[ -n "$headers" ] || fail "no public headers in $inc/ferry"
incs="-I$inc -I$abs_top_srcdir/templates"

# Only the compilers: no CFLAGS, so sanitizer builds test the same thing.
n=0
for h in $headers; do
  printf '#include <%s>\nint ferry_header_test_%s;\n' "$h" "$(basename "$h" .h | tr - _)" > "$tu.c"
  cp "$tu.c" "$tu.cc"
  # shellcheck disable=SC2086
  $CC -std=c99 -pedantic -Werror -Wall -Wextra -fsyntax-only $incs $jansson "$tu.c" \
    || fail "$h does not compile alone as C99"
  # shellcheck disable=SC2086
  $CXX -std=c++11 -pedantic -Werror -Wall -Wextra -fsyntax-only $incs $jansson "$tu.cc" \
    || fail "$h does not compile alone as C++11"
  n=$((n + 1))
done

# A module written in C++ registers with the same macro.
cat > "$tu.cc" <<'EOC'
#include <ferry/provider.h>
static int o (const struct ferry_open_args *, void **) { return FERRY_OPEN_DECLINED; }
static struct ferry_provider p = ferry_provider ();
static int init = (p.name = "cxx", p.open = o, 0);
FERRY_REGISTER_PROVIDER (p)
EOC
# shellcheck disable=SC2086
$CXX -std=c++11 -Werror -Wall -fsyntax-only $incs $jansson "$tu.cc" \
  || fail "FERRY_REGISTER_PROVIDER does not compile as C++11"
echo "$n headers compile alone as C99 and C++11"
