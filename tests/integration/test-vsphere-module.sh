#!/bin/sh
# The vSphere provider module driven directly (tests/unit/test-vsphere-module)
# against govmomi's vCenter simulator, built here from Debian's packages:
# login failure, TLS without the CA, insecureSkipVerify, inventory against
# the simulator's truth, describe/spec, power off/on through tasks, the
# cold-copy refusals, a datastore HTTP read compared byte for byte, a
# re-login after the simulator expired the session, and warm migration's
# callbacks (snapshots, change ids, changed areas between snapshots with
# guest writes through the peer's test-only endpoint, full copy + deltas
# byte for byte, a session terminated mid-copy, a second connection).
. "$abs_top_srcdir/tests/functions.sh"
. "$abs_top_srcdir/tests/peers/vcsim/start.sh"

driver="$abs_top_builddir/tests/unit/test-vsphere-module"
[ -x "$driver" ] || { echo "SKIP: $driver not built (cmocka missing?)"; exit 77; }

vcsim_start -dc 1 -cluster 1 -host 2 -standalone-host 1 -vm 2 -ds 1 -pg 1 -cbt -test-control -disk-size 4194304 \
  -flat 1048576 -session-idle 2s

VSPHERE_TEST_URL="$VCSIM_URL" VSPHERE_TEST_CACERT="$VCSIM_CA" \
VSPHERE_TEST_TRUTH="$VCSIM_TRUTH" VSPHERE_TEST_USER=admin \
VSPHERE_TEST_PASSWORD=vcsim-pass VSPHERE_TEST_SESSION_IDLE=2 VSPHERE_TEST_PEER="$VCSIM_BIN" \
  ${FERRY_VALGRIND:-} "$driver"
