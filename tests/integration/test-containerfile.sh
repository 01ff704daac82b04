#!/bin/sh
# packaging/Containerfile, checked offline (no container engine is needed or
# used; the image itself is not built here, see packaging/README.md):
#  - every file it COPYs from the build context and every script it runs
#    exists in the source tree (and the shell scripts parse);
#  - every package of install-deps.sh's build list (FERRY_DEPS=build, what
#    the build stage installs) exists in this system's Debian archive;
#  - on a `make install DESTDIR=` tree of this build (what the build stage
#    makes), packaging/runtime-deps.sh resolves every library to a package
#    that exists, and lists the ones the image cannot work without;
#  - the installed tree alone (its own libferry and modules) loads every
#    module and copies a null-provider disk with `ferry copy-disk`, as the
#    image's Job runs it.
. "$abs_top_srcdir/tests/functions.sh"
command -v apt-cache >/dev/null 2>&1 || { echo "SKIP: apt-cache missing (not Debian)"; exit 77; }
command -v dpkg >/dev/null 2>&1 || { echo "SKIP: dpkg missing (not Debian)"; exit 77; }

cf="$abs_top_srcdir/packaging/Containerfile"
[ -f "$cf" ] || fail "no packaging/Containerfile"

# COPY sources from the build context (not --from=): each must exist.
copies="$(sed -n 's/^COPY \([^-][^ ]*\) .*/\1/p' "$cf")"
[ -n "$copies" ] || fail "the Containerfile copies nothing from the build context"
for c in $copies; do
  [ -e "$abs_top_srcdir/$c" ] || fail "Containerfile: COPY $c: no such path in the source tree"
done
# Scripts its RUN lines start from the source tree.
for s in install-deps.sh packaging/runtime-deps.sh; do
  grep -q "$s" "$cf" || fail "the Containerfile no longer runs $s (update this test)"
  sh -n "$abs_top_srcdir/$s" || fail "$s does not parse"
done
[ -x "$abs_top_srcdir/install-deps.sh" ] || fail "install-deps.sh is not executable (the build stage runs ./install-deps.sh)"
grep -q '^ENTRYPOINT' "$cf" && fail "an ENTRYPOINT would prefix the Job's command (it starts with ferry)"
grep -q '^USER 107' "$cf" || fail "the image must run as uid 107 (documented fsGroup)"

# The build stage's packages.
build_pkgs="$(sed -n '/^build_pkgs="/,/^"/p' "$abs_top_srcdir/install-deps.sh" | grep -v '"')"
[ -n "$build_pkgs" ] || fail "install-deps.sh has no build_pkgs list"
for p in $build_pkgs; do
  apt-cache show "$p" >/dev/null 2>&1 || fail "install-deps.sh build package $p is not in the Debian archive"
done

# The install tree, as the build stage makes it.
dest="$(mktemp -d "${TMPDIR:-/tmp}/ferry-containerfile.XXXXXX")"
cleanup_dirs="$cleanup_dirs $dest"
make -s -C "$abs_top_builddir" install DESTDIR="$dest" > "$dest.log" 2>&1 \
  || { cat "$dest.log" >&2; rm -f "$dest.log"; fail "make install DESTDIR failed"; }
rm -f "$dest.log"
bin="$(find "$dest" -path '*/bin/ferry' -type f)"
[ -n "$bin" ] || fail "make install put no bin/ferry"
lib="$(dirname "$(find "$dest" -name 'libferry.so.*' -type f | head -n1)")"
provdir="$(find "$dest" -type d -path '*/ferry/providers')"
destdir="$(find "$dest" -type d -path '*/ferry/destinations')"
[ -d "$provdir" ] && [ -d "$destdir" ] || fail "make install put no module directories"

pkgs="$(sh "$abs_top_srcdir/packaging/runtime-deps.sh" "$dest")" || fail "runtime-deps.sh failed"
for want in 'libjansson' 'libyaml-' 'libsqlite3-' 'libnbd0' 'libltdl' 'libcurl' \
            'libssl' 'libxml2' 'libarchive' 'qemu-utils' 'nbdkit' 'ca-certificates'; do
  printf '%s\n' "$pkgs" | grep -q "^$want" || fail "runtime-deps.sh does not list $want*: $pkgs"
done
for p in $pkgs; do
  apt-cache show "$p" >/dev/null 2>&1 || fail "runtime package $p is not in the Debian archive"
done

# The installed tree on its own.
installed () {
  env -u FERRY_MODULE_PATH LD_LIBRARY_PATH="$lib" FERRY_MODULE_PATH="$provdir:$destdir" \
    FERRY_MODULE_PATH_ONLY=1 "$bin" "$@"
}
mods="$(FERRY_STATE_DIR="$dest/state" installed modules)" || fail "installed ferry modules failed"
for m in null ova vsphere kubevirt local; do
  printf '%s\n' "$mods" | grep -q "^$m .*$dest.*loaded" \
    || fail "the installed module $m did not load from $dest: $mods"
done
printf '%s\n' "$mods" | awk 'NR > 1 && $NF != "loaded" { exit 1 }' \
  || fail "a module was refused: $mods"
cat > "$dest/source.yaml" <<'YAML'
apiVersion: v1
kind: Secret
metadata: {name: s, namespace: ns}
stringData: {user: u}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Provider
metadata: {name: p, namespace: ns}
spec: {type: "null", url: "null://?vms=1&disks=1&size=1048576", secret: {name: s, namespace: ns}}
YAML
out="$(installed copy-disk --manifests "$dest/source.yaml" --provider ns/p --vm vm-1 \
         --disk disk-0 --output "$dest/disk.img" -o json)" || fail "installed copy-disk failed: $out"
python3 "$abs_top_srcdir/tests/integration/null-disk.py" 1 0 1048576 0 "$dest/ref.img"
cmp "$dest/ref.img" "$dest/disk.img" || fail "the installed copy-disk wrote a wrong disk"
expect_in "$out" '"phase":"Completed"'
echo "ok: $(printf '%s\n' "$pkgs" | wc -l) runtime packages"
