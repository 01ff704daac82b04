#!/bin/sh
# Name templates: a compiled PVC template executed for N disks (default
# 1,000,000) by ferry (bench/template-bench) and by Go text/template + Sprig
# (tests/peers/gotemplate bench), side by side, on the same data.
#
#   make -C bench template-bench && bench/template-bench.sh [N]
#
# Run from the build directory (or set abs_top_builddir/abs_top_srcdir).
set -eu
n="${1:-1000000}"
b="${abs_top_builddir:-$(pwd)}"
s="${abs_top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}"
bench="$b/bench/template-bench"
[ -x "$bench" ] || { echo "build it first: make -C bench template-bench" >&2; exit 1; }
command -v go >/dev/null 2>&1 || { echo "go is not installed" >&2; exit 77; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src"
cp -R "$s/tests/peers/gotemplate" "$tmp/src/gotemplate"
GO111MODULE=off GOPATH="$tmp:/usr/share/gocode" GOCACHE="$tmp/cache" GOFLAGS= \
  go build -o "$tmp/gotemplate" gotemplate

run () {   # run NAME TEMPLATE
  f="$("$bench" "$n" "$2")"
  g="$("$tmp/gotemplate" bench "$n" "$2")"
  set -- "$1" $f $g
  # ferry: $4 secs, $5 ops/s, $6 bytes; go: $9 secs, ${10} ops/s, ${11} bytes
  [ "$6" = "${11}" ] || { echo "$1: output sizes differ: ferry $6, go ${11}" >&2; exit 1; }
  awk -v name="$1" -v fo="$5" -v go="${10}" -v fs="$4" -v gs="$9" 'BEGIN {
    printf "%-10s ferry %10.0f ops/s (%6.3f s)   go %10.0f ops/s (%6.3f s)   ferry/go %.2fx\n",
           name, fo, fs, go, gs, fo / go }'
}
echo "templates: $n executions of one compiled template ($(nproc) CPUs, $(uname -m))"
run default '{{trunc 15 .PlanName}}-{{trunc 15 .TargetVmName}}-disk-{{.DiskIndex}}'
run printf '{{printf "%s-%03d" .TargetVmName .DiskIndex}}'
run pipeline '{{.VmName | lower | replace "_" "-" | replace "." "-" | replace " " "-" | trunc 40}}-{{.DiskIndex}}'
run cond '{{if eq .DiskIndex .RootDiskIndex}}root{{else}}data{{end}}-{{.DiskIndex}}'
run regex '{{regexReplaceAll "[^a-z0-9-]" (lower .VmName) "-"}}-{{.DiskIndex}}'
