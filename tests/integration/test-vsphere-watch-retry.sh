#!/bin/sh
# A watch outlives a network outage: `ferry inventory refresh --watch`
# reaches govmomi's vCenter simulator through a TCP relay (tests/peers/
# tcp-relay.py) that the test cuts.  The watch must warn and retry rather
# than exit; when the link is back, a VM destroyed during the outage
# leaves the store and a later change still arrives.  (ferry syncs in full
# with prune after a failure; the simulator's property collector also
# survives the outage and reports the destroyed VM's "leave", so this test
# does not tell those two paths apart.)  Deadlines only bound a failure;
# nothing is timed.
. "$abs_top_srcdir/tests/functions.sh"
. "$abs_top_srcdir/tests/peers/vcsim/start.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 is missing"; exit 77; }

vcsim_start -dc 1 -cluster 1 -host 1 -vm 3 -ds 1 -pg 1
w="$FERRY_STATE_DIR/work"
mkdir -p "$w"

# The relay in front of the simulator.
sim_port=${VCSIM_URL#https://127.0.0.1:}
sim_port=${sim_port%%/*}
python3 "$abs_top_srcdir/tests/peers/tcp-relay.py" 127.0.0.1 "$sim_port" \
  "$w/relay.port" > "$w/relay.log" 2>&1 &
relay_pid=$!
i=0
until [ -s "$w/relay.port" ]; do
  i=$((i + 1)); [ $i -lt 300 ] || fail "the relay did not start: $(cat "$w/relay.log")"
  sleep 0.1
done
relay_url="https://127.0.0.1:$(cat "$w/relay.port")/sdk"
vcsim_manifests vc | sed "s|url: $VCSIM_URL|url: $relay_url|" > "$w/vc.yaml"
expect_in "$(cat "$w/vc.yaml")" "url: $relay_url"
ferry apply -f "$w/vc.yaml" >/dev/null

${FERRY_VALGRIND:-} "$abs_top_builddir/cli/ferry" inventory refresh --provider vc \
  --watch --interval 1 > "$w/watch.out" 2>&1 &
watch_pid=$!
trap 'kill $watch_pid $relay_pid 2>/dev/null || :; wait $watch_pid $relay_pid 2>/dev/null || :; kill $VCSIM_PID 2>/dev/null; wait $VCSIM_PID 2>/dev/null; rm -rf $cleanup_dirs' EXIT

# wait_for WHAT CMD...: until CMD succeeds, while the watch lives.
wait_for () {
  what=$1; shift
  i=0
  until "$@"; do
    kill -0 $watch_pid 2>/dev/null || fail "the watch exited while waiting for $what: $(cat "$w/watch.out")"
    i=$((i + 1)); [ $i -lt 600 ] || fail "no $what: $(cat "$w/watch.out")"
    sleep 0.2
  done
}
wait_for "full sync" grep -q "watching for changes" "$w/watch.out"

change () {
  "$VCSIM_BIN" -change "$VCSIM_URL" -user admin -pass vcsim-pass \
    -cacert "$VCSIM_CA" "$@" || fail "simulator change $* failed"
}
vm_json () { ferry inventory vm "$1" --provider vc -o json 2>/dev/null; }
ids=$(sed -n 's/^      "id": "\(vm-[0-9]*\)",$/\1/p' "$VCSIM_TRUTH")
set -- $ids
[ $# -ge 2 ] || fail "the simulator has fewer than 2 VMs: $ids"
gone=$1 renamed=$2
vm_json "$gone" >/dev/null || fail "VM $gone is not in the store after the full sync"

# The outage: the watch warns and keeps retrying.
kill -USR1 $relay_pid
wait_for "retry warning" grep -q "retrying in" "$w/watch.out"
expect_in "$(cat "$w/watch.out")" "inventory watch of provider default/vc"
# Meanwhile, at the source (directly, not through the relay).
change destroy "$gone"
sleep 1
kill -0 $watch_pid 2>/dev/null || fail "the watch gave up during a short outage: $(cat "$w/watch.out")"

# The link is back: the VM destroyed meanwhile leaves the store.
kill -USR2 $relay_pid
gone_from_store () { ! vm_json "$gone" >/dev/null; }
wait_for "prune of $gone after the outage" gone_from_store
# And incremental updates flow again.
change rename "$renamed" ferry-after-outage
renamed_in_store () { vm_json "$renamed" | grep -q '"name": "ferry-after-outage"'; }
wait_for "rename after the outage" renamed_in_store

kill -TERM $watch_pid
wait $watch_pid || fail "the watch did not stop cleanly on SIGTERM: $(cat "$w/watch.out")"
