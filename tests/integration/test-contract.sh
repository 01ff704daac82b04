#!/bin/sh
# The contract with third parties: install ferry (DESTDIR), build a
# provider OUT OF TREE with nothing but `pkg-config ferry` and the installed
# headers, drop it into a providers/ directory on FERRY_MODULE_PATH, and see
# ferry load it, dump it, and call it through a program that also builds
# out of tree.
. "$abs_top_srcdir/tests/functions.sh"

: "${CC:=cc}"
command -v pkg-config >/dev/null || { echo "SKIP: no pkg-config"; exit 77; }

# Install what a third party builds against: the headers, the libraries,
# ferry.pc and the null modules (not the whole tree: quick, and independent
# of unrelated modules).
dest="$FERRY_STATE_DIR/destdir"
for d in include templates core providers/null destinations/null; do
  make -s -C "$abs_top_builddir/$d" install DESTDIR="$dest" >>"$FERRY_STATE_DIR/install.log" 2>&1 \
    || { cat "$FERRY_STATE_DIR/install.log" >&2; fail "make -C $d install DESTDIR=$dest failed"; }
done

pc="$(find "$dest" -name ferry.pc | head -1)"
[ -n "$pc" ] || fail "ferry.pc was not installed"
PKG_CONFIG_PATH="$(dirname "$pc")"
PKG_CONFIG_SYSROOT_DIR="$dest"        # -I and -L point into DESTDIR
export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
unset PKG_CONFIG_LIBDIR

# ferry.pc names the module directories, and the installed null modules
# are in them.
providerdir="$(pkg-config --variable=providerdir ferry)"
destinationdir="$(pkg-config --variable=destinationdir ferry)"
case "$providerdir" in
  /*/ferry/providers) ;;
  *) fail "pkg-config --variable=providerdir ferry: '$providerdir'" ;;
esac
case "$destinationdir" in
  /*/ferry/destinations) ;;
  *) fail "pkg-config --variable=destinationdir ferry: '$destinationdir'" ;;
esac
# pkgconf prefixes variables with the sysroot, pkg-config does not.
case "$providerdir" in "$dest"/*) ;; *) providerdir="$dest$providerdir" ;; esac
[ -f "$providerdir/ferry-provider-null.so" ] || fail "null provider not installed in $providerdir"
for h in ferry.h module.h provider.h destination.h transfer.h inventory.h vmspec.h error.h log.h; do
  find "$dest" -path "*/include/ferry/$h" | grep -q . || fail "ferry/$h not installed"
done
cflags="$(pkg-config --cflags ferry)"
libs="$(pkg-config --libs ferry)"
expect_in "$cflags" "$dest"
expect_in "$libs" "-lferry"

# The third-party module: strict C99, warnings are errors, no build-tree paths.
ext="$FERRY_STATE_DIR/ext/providers"
mkdir -p "$ext"
# shellcheck disable=SC2086
$CC -std=c99 -Wall -Wextra -Werror -shared -fPIC \
  -o "$ext/my-provider.so" "$abs_top_srcdir/tests/contract/my-provider.c" $cflags $libs \
  || fail "the out-of-tree provider does not build"
# A program must come first with the ASan runtime when libferry was built
# with --enable-sanitizers (modules need not).
san=""
lib="$(find "$dest" -name 'libferry.so' | head -1)"
if (readelf -d "$lib" 2>/dev/null || ldd "$lib" 2>/dev/null) | grep -q 'libasan'; then
  san="-fsanitize=address,undefined"
fi
# shellcheck disable=SC2086
$CC -std=c99 -Wall -Wextra -Werror $san \
  -o "$FERRY_STATE_DIR/driver" "$abs_top_srcdir/tests/contract/driver.c" $cflags $libs \
  || fail "the out-of-tree driver does not build"

# Use the installed libraries (same soname as the build tree's).
libdir="$(dirname "$lib")"
LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
FERRY_MODULE_PATH="$ext:$FERRY_MODULE_PATH"
export LD_LIBRARY_PATH FERRY_MODULE_PATH

out="$(ferry modules)"
printf '%s\n' "$out"
printf '%s\n' "$out" | grep -q "^my-provider  *provider  *1  *-  *$ext/my-provider.so  *loaded\$" \
  || fail "my-provider not loaded: $out"
dump="$(ferry modules --dump my-provider -o json)"
printf '%s\n' "$dump"
expect_in "$dump" '"name": "my-provider"'
expect_in "$dump" '"abiVersion": 1'
expect_in "$dump" '"version": "0.1"'
expect_in "$dump" '"disk_open": true'
expect_in "$dump" '"can_warm": false'

drv="$(${FERRY_VALGRIND:-} "$FERRY_STATE_DIR/driver" "$FERRY_STATE_DIR/state" my-provider)" \
  || fail "the out-of-tree driver failed: $drv"
printf '%s\n' "$drv"
expect_in "$drv" "open other type: declined"
expect_in "$drv" "open failing url: error: my-provider: open my://fail: refused by the url"
expect_in "$drv" "open: ok"
expect_in "$drv" "test_connection: ok"
expect_in "$drv" "vm_spec: my-vm"
expect_in "$drv" "disk size: 1048576"
expect_in "$drv" "can_warm: not supported"
