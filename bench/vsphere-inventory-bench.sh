#!/bin/sh
# vSphere inventory: a full read of govmomi's vCenter simulator holding N VMs
# (default 2000) over 8 hosts, timed for `ferry inventory refresh` (the
# vsphere module: ContainerView + RetrievePropertiesEx pages, documents
# into the store) and for a Go program using govmomi's property collector on
# the same kinds and properties into govmomi's typed objects (Forklift's
# technique; `vcsim-ferry -collect`), in one run, against one simulator.
# Prints both times and the ratio Go/ferry.  Run from the build directory:
#   bench/vsphere-inventory-bench.sh [N]
set -eu
n="${1:-2000}"
: "${abs_top_builddir:=$(pwd)}"
: "${abs_top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
export abs_top_builddir abs_top_srcdir
. "$abs_top_srcdir/tests/functions.sh"
. "$abs_top_srcdir/tests/peers/vcsim/start.sh"

# 8 hosts in one cluster; the cluster's pool holds all N VMs.
vcsim_start -dc 1 -cluster 1 -host 8 -standalone-host 0 -vm "$n" -ds 1 -pg 1
w="$FERRY_STATE_DIR/work"
mkdir -p "$w"
vcsim_manifests vc > "$w/vc.yaml"
"$abs_top_builddir/run" "$abs_top_builddir/cli/ferry" apply -f "$w/vc.yaml" >/dev/null

# Timed without the test suite's malloc perturbation (the run wrapper
# enables it unless told 0).
t0=$(date +%s.%N)
MALLOC_PERTURB_=0 "$abs_top_builddir/run" "$abs_top_builddir/cli/ferry" inventory refresh --provider vc
t1=$(date +%s.%N)
ferry_s=$(echo "$t1 - $t0" | bc)
go_out="$("$VCSIM_BIN" -collect "$VCSIM_URL" -user admin -pass vcsim-pass -cacert "$VCSIM_CA")"
go_s=${go_out% *}
echo "VMs: ${go_out#* } (govmomi) / $n asked"
echo "ferry inventory refresh: ${ferry_s} s (includes process start, login, store commit)"
echo "govmomi property collector: ${go_s} s (login and retrieve only)"
echo "ratio govmomi/ferry: $(echo "scale=2; $go_s / $ferry_s" | bc)"
