#!/bin/sh
# runtime-deps.sh ROOT: the Debian packages an installed ferry needs at run
# time, one per line, sorted: those that hold the shared libraries its ELF
# files under ROOT (a `make install DESTDIR=ROOT` tree: the command, libferry
# and the modules) link to, found with ldd and dpkg -S on this (the build)
# system, plus what the modules run or need beside libraries:
#   qemu-utils       qemu-nbd and qemu-img (OVA disks, NBD sinks)
#   nbdkit           the vSphere provider's VDDK and datastore paths
#   ca-certificates  TLS verification (vCenter, the Kubernetes API)
# The Containerfile's build stage writes this list and its runtime stage
# installs exactly it, so no library package name (which changes between
# Debian releases, e.g. libcurl4 -> libcurl4t64) is written down anywhere.
# Exits non-zero when a library is not found or no package holds it.
set -eu
root=${1:?usage: runtime-deps.sh ROOT}
root=$(cd "$root" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ferry-runtime-deps.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# The directories of ROOT's own shared libraries, so ldd finds libferry there.
libpath=$(find "$root" -name 'lib*.so*' -type f -exec dirname {} \; | sort -u | tr '\n' ':')

# Every ELF executable or shared object under ROOT (magic \177ELF, e_type
# 2 or 3; not object files).
find "$root" -type f | while IFS= read -r f; do
  [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
  case $(od -An -tu1 -j16 -N1 "$f" | tr -d ' ') in 2|3) printf '%s\n' "$f" ;; esac
done > "$tmp/elf"
[ -s "$tmp/elf" ] || { echo "runtime-deps.sh: no ELF file under $root" >&2; exit 1; }

: > "$tmp/libs"
while IFS= read -r f; do
  out=$(LD_LIBRARY_PATH="$libpath${LD_LIBRARY_PATH:-}" ldd "$f") \
    || { echo "runtime-deps.sh: ldd $f failed" >&2; exit 1; }
  if printf '%s\n' "$out" | grep -q 'not found'; then
    echo "runtime-deps.sh: $f: $(printf '%s\n' "$out" | grep 'not found' | tr -s ' \t' ' ')" >&2
    exit 1
  fi
  # "name => /path (addr)" and "/lib64/ld-linux... (addr)"
  printf '%s\n' "$out" | sed -n 's/.*=> \(\/[^ ]*\) (.*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p' >> "$tmp/libs"
done < "$tmp/elf"

: > "$tmp/pkgs"
sort -u "$tmp/libs" | while IFS= read -r lib; do
  case $lib in "$root"/*) continue ;; esac
  # usrmerge: ldd may say /lib/... where dpkg knows /usr/lib/..., or the
  # reverse; the symlink's target is owned too.
  found=
  for p in "$lib" "/usr$lib" "${lib#/usr}" "$(readlink -f "$lib")"; do
    if s=$(dpkg -S "$p" 2>/dev/null); then
      printf '%s\n' "$s" | sed 's/: .*//' | tr ',' '\n' | sed 's/^ *//; s/:.*//' >> "$tmp/pkgs"
      found=1
      break
    fi
  done
  [ -n "$found" ] || { echo "runtime-deps.sh: no Debian package holds $lib" >&2; exit 1; }
done
printf '%s\n' qemu-utils nbdkit ca-certificates >> "$tmp/pkgs"
sort -u "$tmp/pkgs"
