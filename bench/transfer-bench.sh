#!/bin/bash
# transfer-bench.sh: ferry_transfer (via ferry-copy) against its anchors,
# nbdcopy and qemu-img convert, on the same disks in one run.
#
#   bench/transfer-bench.sh [BUILDDIR]
#
# Disks (made in $BENCH_DIR, default /tmp/ferry-bench, deleted after):
#   (a) sparse: 8 GiB raw with 2 GiB of random data in 64 MiB runs
#   (b) dense:  4 GiB raw, all random data
#   (c) the VMDK inside an OVA, read in place (BENCH_OVA=1, or BENCH_ONLY_OVA=1
#       for this one alone): a 4 GiB disk with 1 GiB of random data, as a
#       streamOptimized VMDK in a tar, read at its offset with image-opts by
#       ferry (through qemu-nbd, as the OVA provider does), nbdcopy and
#       qemu-img convert
#   (d) optional: any NBD server argv as the source, e.g.
#       BENCH_NBD_ARGV="qemu-nbd -r -e 4 -f vmdk disk.vmdk", compared with
#       nbdcopy on the same argv (BENCH_ONLY_NBD=1 skips (a) and (b))
# Each disk is copied to a raw file: from the file directly, and through a
# spawned qemu-nbd (-r -e 4, so multi-conn is offered to both tools).
# Every tool makes its copy durable (ferry flushes, nbdcopy --flush,
# qemu-img -t writeback) and every copy is checked with cmp.
# Prints: wall time, throughput (logical disk bytes / wall), peak RSS
# (/usr/bin/time -v), and ferry's time as a ratio of the anchor's.
set -euo pipefail

builddir=${1:-$(cd "$(dirname "$0")/.." && pwd)}
copy="$builddir/bench/ferry-copy"
dir=${BENCH_DIR:-/tmp/ferry-bench}
[ -x "$copy" ] || { echo "$0: $copy not built (make -C bench)" >&2; exit 77; }
for p in nbdcopy qemu-img qemu-nbd /usr/bin/time; do
  command -v "$p" >/dev/null || { echo "$0: $p is missing" >&2; exit 77; }
done

mkdir -p "$dir"
avail=$(df -k --output=avail "$dir" | tail -1)
if [ "$avail" -lt $((16 * 1024 * 1024)) ]; then
  echo "$0: need 16 GiB free in $dir, have $((avail / 1024)) MiB" >&2
  exit 77
fi
trap 'rm -f "$dir"/*.img "$dir"/chunk "$dir"/time.out "$dir"/vm.ova "$dir"/disk1.vmdk "$dir"/vm.ovf' EXIT

declare -A wall rss
if [ -z "${BENCH_ONLY_NBD:-}" ] && [ -z "${BENCH_ONLY_OVA:-}" ]; then
# The same random 64 MiB chunk, placed where it is needed.
head -c $((64 << 20)) /dev/urandom > "$dir/chunk"
rm -f "$dir/sparse.img" "$dir/dense.img"
truncate -s 8G "$dir/sparse.img"
for i in $(seq 0 31); do
  dd if="$dir/chunk" of="$dir/sparse.img" bs=64M seek=$((i * 4)) conv=notrunc,fsync status=none
done
for i in $(seq 0 63); do cat "$dir/chunk"; done > "$dir/dense.img"
sync

fi

# run LABEL SIZE SRCFILE DST CMD...: time one copy, check it, print a row.
run () {
  local label=$1 size=$2 srcfile=$3 dst=$4; shift 4
  rm -f "$dst"
  cat "$srcfile" > /dev/null                   # same page-cache state for all
  /usr/bin/time -v -o "$dir/time.out" "$@" > /dev/null 2>"$dir/err.out" || {
    echo "$label failed:"; cat "$dir/err.out"; exit 1; }
  cmp "$srcfile" "$dst" || { echo "$label: copy differs"; exit 1; }
  local e m s
  e=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$dir/time.out")
  s=$(awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }' <<<"$e")
  m=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$dir/time.out")
  wall[$label]=$s
  rss[$label]=$m
  printf '%-24s %8.2f s %9.0f MiB/s %8.1f MiB RSS\n' "$label" "$s" \
    "$(echo "$size / 1048576 / $s" | bc -l)" "$(echo "$m / 1024" | bc -l)"
  rm -f "$dst" "$dir/err.out"
}

ratio () {
  printf '  ferry/%-18s %.2f\n' "$2" "$(echo "${wall[$1]} / ${wall[$2]}" | bc -l)"
}

bench_disk () {
  local name=$1 img=$2 size
  size=$(stat -c %s "$img")
  echo "== $name: $(( size >> 20 )) MiB, $(( $(stat -c %b "$img") * 512 >> 20 )) MiB allocated"
  run "$name ferry file" "$size" "$img" "$dir/out.img" "$copy" "$img" "$dir/out.img"
  run "$name nbdcopy file" "$size" "$img" "$dir/out.img" nbdcopy --flush "$img" "$dir/out.img"
  run "$name qemu-img file" "$size" "$img" "$dir/out.img" \
    qemu-img convert -t writeback -f raw -O raw "$img" "$dir/out.img"
  run "$name ferry nbd" "$size" "$img" "$dir/out.img" \
    "$copy" [ qemu-nbd -r -e 4 -f raw "$img" ] "$dir/out.img"
  run "$name nbdcopy nbd" "$size" "$img" "$dir/out.img" \
    nbdcopy --flush -- [ qemu-nbd -r -e 4 -f raw "$img" ] "$dir/out.img"
  ratio "$name ferry file" "$name nbdcopy file"
  ratio "$name ferry file" "$name qemu-img file"
  ratio "$name ferry nbd" "$name nbdcopy nbd"
}

echo "ferry transfer bench, $(nproc) CPUs, $(date -u +%FT%TZ)"
if [ -z "${BENCH_ONLY_NBD:-}" ] && [ -z "${BENCH_ONLY_OVA:-}" ]; then
  bench_disk "(a) sparse" "$dir/sparse.img"
  rm -f "$dir/sparse.img"
  bench_disk "(b) dense" "$dir/dense.img"
  rm -f "$dir/dense.img"
fi

if [ -n "${BENCH_OVA:-}${BENCH_ONLY_OVA:-}" ]; then
  # (c) the VMDK inside an OVA, never extracted.
  head -c $((64 << 20)) /dev/urandom > "$dir/chunk"
  truncate -s 4G "$dir/ova-src.img"
  for i in $(seq 0 15); do
    dd if="$dir/chunk" of="$dir/ova-src.img" bs=64M seek=$((i * 4)) conv=notrunc status=none
  done
  qemu-img convert -f raw -O vmdk -o subformat=streamOptimized "$dir/ova-src.img" "$dir/disk1.vmdk"
  printf '<?xml version="1.0"?><Envelope/>\n' > "$dir/vm.ovf"
  (cd "$dir" && tar --format=ustar -cf vm.ova vm.ovf disk1.vmdk)
  # The member's data starts one 512-byte header after its header block.
  block=$(cd "$dir" && tar -tvRf vm.ova | awk '/disk1.vmdk/ { sub(":", "", $2); print $2 }')
  off=$(( (block + 1) * 512 ))
  len=$(stat -c %s "$dir/disk1.vmdk")
  rm -f "$dir/disk1.vmdk" "$dir/vm.ovf" "$dir/chunk"
  opts="driver=vmdk,file.driver=raw,file.offset=$off,file.size=$len,file.file.driver=file,file.file.filename=$dir/vm.ova"
  size=$(stat -c %s "$dir/ova-src.img")
  echo "== (c) ova: 4096 MiB disk, 1024 MiB data, streamOptimized VMDK at offset $off of vm.ova"
  run "(c) ova ferry" "$size" "$dir/ova-src.img" "$dir/out.img" \
    "$copy" [ qemu-nbd -r -e 4 --image-opts "$opts" ] "$dir/out.img"
  run "(c) ova nbdcopy" "$size" "$dir/ova-src.img" "$dir/out.img" \
    nbdcopy --flush -- [ qemu-nbd -r -e 4 --image-opts "$opts" ] "$dir/out.img"
  run "(c) ova qemu-img" "$size" "$dir/ova-src.img" "$dir/out.img" \
    qemu-img convert -t writeback --image-opts "$opts" -O raw "$dir/out.img"
  ratio "(c) ova ferry" "(c) ova qemu-img"
  ratio "(c) ova ferry" "(c) ova nbdcopy"
  rm -f "$dir/vm.ova" "$dir/ova-src.img"
fi

if [ -n "${BENCH_NBD_ARGV:-}" ]; then
  # (d) any NBD server as the source; compared through nbdcopy only, the
  # output checked against qemu-img's reading of BENCH_NBD_FILE if given.
  read -r -a argv <<<"$BENCH_NBD_ARGV"
  echo "== (c) [ $BENCH_NBD_ARGV ]"
  /usr/bin/time -v -o "$dir/time.out" "$copy" [ "${argv[@]}" ] "$dir/c-ferry.img" 2>/dev/null
  grep -E 'Elapsed|Maximum resident' "$dir/time.out"
  /usr/bin/time -v -o "$dir/time.out" nbdcopy --flush -- [ "${argv[@]}" ] "$dir/c-nbdcopy.img"
  grep -E 'Elapsed|Maximum resident' "$dir/time.out"
  cmp "$dir/c-ferry.img" "$dir/c-nbdcopy.img"
  rm -f "$dir/c-ferry.img" "$dir/c-nbdcopy.img"
fi
