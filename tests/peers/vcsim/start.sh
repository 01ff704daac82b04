# Sourced by the vSphere shell tests (after tests/functions.sh):
#   vcsim_start [FLAGS...]   builds the peer once (cached in the build tree
#                            as tests/peers/vcsim/vcsim-ferry), starts it on
#                            127.0.0.1 with TLS and user admin / password
#                            vcsim-pass, and sets VCSIM_URL, VCSIM_CA (PEM
#                            file), VCSIM_TRUTH (JSON) and VCSIM_DIR.
# The peer is stopped when the test exits.  Skips (77) when go or
# govmomi's sources (golang-github-vmware-govmomi-dev) are missing.

command -v go >/dev/null 2>&1 || { echo "SKIP: go is not installed"; exit 77; }
[ -d /usr/share/gocode/src/github.com/vmware/govmomi/simulator ] || {
  echo "SKIP: govmomi sources missing (apt-get install golang-github-vmware-govmomi-dev)"
  exit 77
}

VCSIM_BIN="$abs_top_builddir/tests/peers/vcsim/vcsim-ferry"
VCSIM_SRCDIR="$abs_top_srcdir/tests/peers/vcsim"

vcsim_build () {
  if [ -x "$VCSIM_BIN" ] && [ ! "$VCSIM_SRCDIR/main.go" -nt "$VCSIM_BIN" ] \
     && [ ! "$VCSIM_SRCDIR/warm.go" -nt "$VCSIM_BIN" ]; then
    return 0
  fi
  mkdir -p "$(dirname "$VCSIM_BIN")"
  gotmp="$(mktemp -d "${TMPDIR:-/tmp}/ferry-vcsim-build.XXXXXX")"
  mkdir -p "$gotmp/src/vcsim-ferry"
  cp "$VCSIM_SRCDIR/main.go" "$VCSIM_SRCDIR/warm.go" "$gotmp/src/vcsim-ferry/"
  # GOPATH mode from Debian's packages: no network, no module cache.
  if ! GO111MODULE=off GOPATH="$gotmp:/usr/share/gocode" GOCACHE="$gotmp/cache" \
       GOFLAGS= go build -o "$gotmp/vcsim-ferry" vcsim-ferry; then
    rm -rf "$gotmp"
    fail "cannot build the vCenter simulator peer"
  fi
  # Atomic: tests running in parallel may build at the same time.
  mv -f "$gotmp/vcsim-ferry" "$VCSIM_BIN.$$" && mv -f "$VCSIM_BIN.$$" "$VCSIM_BIN"
  rm -rf "$gotmp"
}

vcsim_start () {
  vcsim_build
  VCSIM_DIR="$FERRY_STATE_DIR/vcsim"
  mkdir -p "$VCSIM_DIR"
  VCSIM_CA="$VCSIM_DIR/ca.pem"
  VCSIM_TRUTH="$VCSIM_DIR/truth.json"
  "$VCSIM_BIN" -user admin -pass vcsim-pass -cacert "$VCSIM_CA" \
    -url-file "$VCSIM_DIR/url" -truth "$VCSIM_TRUTH" "$@" \
    > "$VCSIM_DIR/log" 2>&1 &
  VCSIM_PID=$!
  trap 'kill $VCSIM_PID 2>/dev/null; wait $VCSIM_PID 2>/dev/null; rm -rf $cleanup_dirs' EXIT
  i=0
  while [ ! -s "$VCSIM_DIR/url" ]; do
    kill -0 $VCSIM_PID 2>/dev/null || fail "the simulator exited: $(cat "$VCSIM_DIR/log")"
    i=$((i + 1))
    [ $i -lt 300 ] || fail "the simulator did not start within 30 s"
    sleep 0.1
  done
  VCSIM_URL="$(cat "$VCSIM_DIR/url")"
}

# vcsim_manifests NAME [EXTRA-SECRET-LINES]: a Secret and a vsphere
# Provider named NAME (namespace default) trusting the simulator's CA.
vcsim_manifests () {
  printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: default}\nstringData:\n' "$1"
  printf '  user: admin\n  password: vcsim-pass\n'
  if [ "${2:-}" != "" ]; then printf '%s\n' "$2"; else
    printf '  cacert: |\n'; sed 's/^/    /' "$VCSIM_CA"; fi
  printf -- '---\napiVersion: forklift.konveyor.io/v1beta1\nkind: Provider\n'
  printf 'metadata: {name: %s, namespace: default}\n' "$1"
  printf 'spec:\n  type: vsphere\n  url: %s\n  secret: {name: %s, namespace: default}\n' "$VCSIM_URL" "$1"
}

# vcsim_host_maps PROVIDER [DATASTORE]: NetworkMap "net" (both simulator
# networks to the pod network) and StorageMap "storage" (DATASTORE,
# default LocalDS_0) from PROVIDER to the local "host" destination, each
# document after a "---".
vcsim_host_maps () {
  vcsim_maps "$1" host '{type: pod}' "{name: ${2:-LocalDS_0}}" '{storageClass: local}'
}

# vcsim_maps SRC DEST NET2 DS STORAGE: the NetworkMap "net" (VM Network ->
# pod, DC0_DVPG0 -> NET2) and the StorageMap "storage" (DS -> STORAGE) from
# provider SRC to DEST, in namespace default.
vcsim_maps () {
  cat <<YAML
---
apiVersion: forklift.konveyor.io/v1beta1
kind: NetworkMap
metadata: {name: net, namespace: default}
spec:
  provider: {source: {name: $1, namespace: default}, destination: {name: $2, namespace: default}}
  map:
    - source: {name: VM Network}
      destination: {type: pod}
    - source: {name: DC0_DVPG0}
      destination: $3
---
apiVersion: forklift.konveyor.io/v1beta1
kind: StorageMap
metadata: {name: storage, namespace: default}
spec:
  provider: {source: {name: $1, namespace: default}, destination: {name: $2, namespace: default}}
  map:
    - source: $4
      destination: $5
YAML
}

# vcsim_plan DEST TARGET_NAMESPACE: the Plan "from-vc" (cold, no guest
# conversion) moving the simulator's DC0_H0_VM0 as vm0 from provider vc to
# DEST with the maps above, after a "---".
vcsim_plan () {
  cat <<YAML
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Plan
metadata: {name: from-vc, namespace: default}
spec:
  provider: {source: {name: vc, namespace: default}, destination: {name: $1, namespace: default}}
  map: {network: {name: net, namespace: default}, storage: {name: storage, namespace: default}}
  targetNamespace: $2
  skipGuestConversion: true
  pvcNameTemplate: "{{.TargetVmName}}-d{{.DiskIndex}}"
  vms:
    - name: DC0_H0_VM0
      targetName: vm0
YAML
}
