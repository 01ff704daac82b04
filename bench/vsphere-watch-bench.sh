#!/bin/sh
# vSphere incremental inventory: with ferry's store synced from govmomi's
# vCenter simulator (N VMs over 8 hosts, default 200: see bench/README.md
# for why not 2000) and
# `ferry inventory refresh --watch --interval 1` running, a vSphere user
# (the peer's client mode, through the SOAP API, BENCH_JOBS clients at a
# time, default 4) makes C property changes (default 100): the first half
# of the chosen VMs renamed, the other half powered off.  The store (the
# sqlite database, read-only) is polled every 50 ms until it shows every
# change.  Prints the time from the first change to a store showing them
# all, changes/s over that time, the time the clients took to make the
# changes, the lag from the last change acknowledged to the store showing
# it, and the watch's update sets (time after the first change, entities).
# Run from the build directory:
#   bench/vsphere-watch-bench.sh [N [C]]
# BENCH_KEEP=DIR copies the run's work files (watch output, logs, status) there.
set -eu
n="${1:-200}"
changes="${2:-100}"
jobs="${BENCH_JOBS:-4}"
: "${abs_top_builddir:=$(pwd)}"
: "${abs_top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
export abs_top_builddir abs_top_srcdir
. "$abs_top_srcdir/tests/functions.sh"
. "$abs_top_srcdir/tests/peers/vcsim/start.sh"
command -v sqlite3 >/dev/null 2>&1 || { echo "SKIP: sqlite3 is not installed"; exit 77; }

vcsim_start -dc 1 -cluster 1 -host 8 -standalone-host 0 -vm "$n" -ds 1 -pg 1
w="$FERRY_STATE_DIR/work"
mkdir -p "$w"
vcsim_manifests vc > "$w/vc.yaml"
"$abs_top_builddir/run" "$abs_top_builddir/cli/ferry" apply -f "$w/vc.yaml" >/dev/null

# The VMs to change: every VM of the truth is powered on in the model.
ids=$(sed -n 's/^      "id": "\(vm-[0-9]*\)",$/\1/p' "$VCSIM_TRUTH" | head -n "$changes")
set -- $ids
[ $# -eq "$changes" ] || fail "the simulator has $# VMs, $changes changes asked"
half=$((changes / 2))
: > "$w/jobs"
renamed='' off='' i=0
for id in $ids; do
  i=$((i + 1))
  if [ $i -le $half ]; then
    echo "rename $id ferry-bench-$id" >> "$w/jobs"; renamed="$renamed${renamed:+,}'$id'"
  else
    echo "power-off $id" >> "$w/jobs"; off="$off${off:+,}'$id'"
  fi
done
[ -n "$renamed" ] || renamed="''"
[ -n "$off" ] || off="''"
# One query counts the changes the store shows.
query="SELECT count(*) FROM inventory
  WHERE (id IN ($renamed) AND name = 'ferry-bench-' || id)
     OR (id IN ($off) AND json_extract(doc, '\$.powerState') = 'poweredOff');"
db="$FERRY_STATE_DIR/ferry.db"
shown () { sqlite3 -readonly "$db" "$query" 2>/dev/null || echo 0; }

now () { date +%s.%N; }
# The watch's output, each line stamped with the time it arrived.
mkfifo "$w/watch.fifo"
: > "$w/watch.out"
while IFS= read -r line; do printf '%s %s\n' "$(now)" "$line"; done \
  < "$w/watch.fifo" > "$w/watch.out" &
stamp_pid=$!
MALLOC_PERTURB_=0 "$abs_top_builddir/run" "$abs_top_builddir/cli/ferry" inventory \
  refresh --provider vc --watch --interval 1 > "$w/watch.fifo" 2>&1 &
watch_pid=$!
trap 'kill $watch_pid 2>/dev/null || :; wait $watch_pid 2>/dev/null || :; wait $stamp_pid 2>/dev/null || :; kill $VCSIM_PID 2>/dev/null; wait $VCSIM_PID 2>/dev/null; rm -rf $cleanup_dirs' EXIT
# Synced: the full listing is stored, and the first watch (which, on a new
# PropertyCollector, lists everything again: update 1) is done, or 5 s
# passed without one.
i=0 j=0
until grep -q ": update 1: " "$w/watch.out"; do
  kill -0 $watch_pid 2>/dev/null || fail "the watch exited: $(cat "$w/watch.out")"
  i=$((i + 1)); [ $i -lt 3000 ] || fail "no full sync in 300 s: $(cat "$w/watch.out")"
  if grep -q "watching for changes" "$w/watch.out"; then
    j=$((j + 1)); [ $j -lt 50 ] || break
  fi
  sleep 0.1
done
[ "$(shown)" -eq 0 ] || fail "the store shows changes before any was made"

# CPU seconds (user + system) a process has used so far.
tck=$(getconf CLK_TCK)
cpu () { awk -v t="$tck" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat"; }

# The changes, BENCH_JOBS clients at a time; the store polled meanwhile.
ferry_cpu0=$(cpu $watch_pid) sim_cpu0=$(cpu $VCSIM_PID)
t0=$(now)
( xargs -P "$jobs" -L 1 "$VCSIM_BIN" -change "$VCSIM_URL" -user admin \
    -pass vcsim-pass -cacert "$VCSIM_CA" < "$w/jobs" > "$w/change.out" 2>&1 \
  && now > "$w/made" || echo failed > "$w/made" ) &
change_pid=$!
i=0
while :; do
  got=$(shown)
  [ "$got" -eq "$changes" ] && break
  kill -0 $watch_pid 2>/dev/null || fail "the watch exited: $(cat "$w/watch.out")"
  i=$((i + 1))
  [ $i -lt 6000 ] || fail "the store shows $got of $changes changes after 300 s"
  sleep 0.05
done
t1=$(now)
ferry_cpu=$(echo "$(cpu $watch_pid) - $ferry_cpu0" | bc)
sim_cpu=$(echo "$(cpu $VCSIM_PID) - $sim_cpu0" | bc)
wait $change_pid
t_made=$(cat "$w/made")
[ "$t_made" != failed ] || fail "a change failed: $(cat "$w/change.out")"

# Through ferry's own reader too (not timed).
vms_json="$("$abs_top_builddir/run" "$abs_top_builddir/cli/ferry" inventory vms --provider vc -o json)"
got_names=$(printf '%s\n' "$vms_json" | grep -c '"name": "ferry-bench-vm-' || :)
[ "$got_names" -eq "$half" ] || fail "ferry inventory vms shows $got_names renamed VMs, $half made"

total=$(echo "$t1 - $t0" | bc)
made=$(echo "$t_made - $t0" | bc)
lag=$(echo "$t1 - $t_made" | bc)
echo "VMs: $n, changes: $changes ($half renames, $((changes - half)) power-offs), $jobs change clients, watch interval 1 s"
echo "first change to store showing all: ${total} s ($(echo "scale=1; $changes / $total" | bc) changes/s)"
echo "changes made (client side, login + task each): ${made} s"
echo "last change acknowledged to store showing it: ${lag} s"
echo "CPU during that time: ferry watch ${ferry_cpu} s, simulator ${sim_cpu} s"
echo "update sets (s after the first change: entities changed):"
sed -n 's/^\([0-9.]*\) provider .*: update [0-9]*: \([0-9]*\) entities changed$/\1 \2/p' "$w/watch.out" |
  while read -r t e; do printf '  %s: %s\n' "$(echo "$t - $t0" | bc)" "$e"; done
[ -z "${BENCH_KEEP:-}" ] || cp "$w/watch.out" "$w/jobs" "$w/change.out" "$VCSIM_DIR/log" "$BENCH_KEEP/"
kill -TERM $watch_pid
wait $watch_pid || fail "the watch did not stop cleanly: $(cat "$w/watch.out")"
