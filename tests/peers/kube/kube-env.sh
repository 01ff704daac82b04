#!/bin/sh
# kube-env.sh start DIR | stop DIR: the KubeVirt destination's test peer.
#
# start: a real kube-apiserver + etcd on loopback (../shared/peers/kube-up.sh,
# found as $FERRY_SHARED_DIR/peers or TOP_SRCDIR/../shared/peers), the
# KubeVirt/CDI/Multus CRDs generated from the published OpenAPI definitions
# (gen-crds.py), StorageClasses "standard" (default; StorageProfile
# ReadWriteOnce Filesystem) and "fast" (ReadWriteMany Block), the namespace
# "ferry-test", cdi-sim.py (the CDI controller's part, the
# UploadTokenRequest stand-in and the upload proxy, with their own CA) and
# job-sim.py (the Job controller and kubelet for transfer: job's Jobs,
# running $FERRY_JOB_BINARY as the image's ferry; DIR/job-sim.log).
# Writes DIR/env (sourceable, mode 0600):
#   KUBE_URL KUBE_TOKEN KUBE_CA       the apiserver, its admin token and CA
#   KUBE_CA_BUNDLE                    apiserver CA + the peer's CA (PEM)
#   KUBECONFIG_FILE                   a kubeconfig for the admin
#   UPLOAD_PROXY_URL UPLOAD_API_URL   the upload proxy; the base URL of the
#                                     upload.cdi.kubevirt.io stand-in
#   UPLOAD_DIR                        where uploads land: NS/PVC.img
#   PEER_CTL                          http URL: POST /faults, GET /stats
#   KUBE_NS                           ferry-test
# Exits 77 (skip) when kube-up.sh, etcd, python3 or openssl is missing.
# stop: stops what start started (safe to call twice).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${abs_top_srcdir:-$(cd "$here/../../.." && pwd)}
shared=${FERRY_SHARED_DIR:-$top_srcdir/../shared}
kube_up=$shared/peers/kube-up.sh
cmd=${1:-}
dir=${2:?usage: kube-env.sh start|stop DIR}

stop () {
  for sim in job-sim cdi-sim; do
    [ -f "$dir/$sim.pid" ] || continue
    pid=$(cat "$dir/$sim.pid")
    kill "$pid" 2>/dev/null || true
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/$sim.pid"
  done
  if [ -f "$dir/api/pids" ] && [ -x "$kube_up" ]; then
    "$kube_up" --down "$dir/api" || true
  fi
}

case $cmd in
  stop) stop; exit 0 ;;
  start) ;;
  *) echo "usage: kube-env.sh start|stop DIR" >&2; exit 2 ;;
esac

[ -x "$kube_up" ] || { echo "kube-env: $kube_up not found (set FERRY_SHARED_DIR)" >&2; exit 77; }
for tool in etcd python3 openssl; do
  command -v $tool >/dev/null 2>&1 || { echo "kube-env: $tool not found" >&2; exit 77; }
done
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
trap 'rc=$?; [ $rc -eq 0 ] || stop; exit $rc' EXIT

# The apiserver binary: unpacked (and its checksum verified) once per build
# tree rather than once per test.
if [ -z "${KUBE_APISERVER:-}" ] && [ -n "${abs_top_builddir:-}" ]; then
  cache=$abs_top_builddir/tests/peers/kube/kube-apiserver
  if [ ! -x "$cache" ]; then
    mkdir -p "$(dirname "$cache")"
    tmp=$(mktemp -d "$(dirname "$cache")/unpack.XXXXXX")
    xz -dc "$shared/peers/kube-apiserver.xz" > "$tmp/kube-apiserver"
    (cd "$tmp" && sha256sum -c --quiet "$shared/peers/kube-apiserver.sha256") ||
      { rm -rf "$tmp"; echo "kube-env: kube-apiserver checksum mismatch" >&2; exit 1; }
    chmod 755 "$tmp/kube-apiserver"
    mv -f "$tmp/kube-apiserver" "$cache"
    rm -rf "$tmp"
  fi
  KUBE_APISERVER=$cache
  export KUBE_APISERVER
fi

set +e
"$kube_up" "$dir/api" > "$dir/kube-up.log" 2>&1
rc=$?
set -e
if [ $rc -ne 0 ]; then
  cat "$dir/kube-up.log" >&2
  exit $rc
fi
# shellcheck disable=SC1091
. "$dir/api/env"
export KUBE_URL KUBE_TOKEN KUBE_CA
kc () { python3 "$here/kubeclient.py" "$@"; }

# The schema: KubeVirt, CDI and Multus CRDs.
python3 "$here/gen-crds.py" "$shared/apis/kubevirt-swagger.json" "$shared/apis/cdi-swagger.json" \
  > "$dir/crds.json"
kc apply "$dir/crds.json"
kc wait-crds "$dir/crds.json"

# Storage, the test namespace.
cat > "$dir/cluster.json" <<'EOF'
{"apiVersion": "v1", "kind": "List", "items": [
 {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ferry-test"}},
 {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
  "metadata": {"name": "standard",
               "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
  "provisioner": "kube-peer.ferry.test/standard", "volumeBindingMode": "Immediate"},
 {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": "fast"},
  "provisioner": "kube-peer.ferry.test/fast", "volumeBindingMode": "Immediate"},
 {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "StorageProfile", "metadata": {"name": "standard"},
  "spec": {}},
 {"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "StorageProfile", "metadata": {"name": "fast"},
  "spec": {}}
]}
EOF
kc apply "$dir/cluster.json"
printf '%s' '{"status": {"storageClass": "standard", "provisioner": "kube-peer.ferry.test/standard",
  "claimPropertySets": [{"accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem"}]}}' |
  kc request PATCH /apis/cdi.kubevirt.io/v1beta1/storageprofiles/standard/status - > /dev/null
printf '%s' '{"status": {"storageClass": "fast", "provisioner": "kube-peer.ferry.test/fast",
  "claimPropertySets": [{"accessModes": ["ReadWriteMany"], "volumeMode": "Block"}]}}' |
  kc request PATCH /apis/cdi.kubevirt.io/v1beta1/storageprofiles/fast/status - > /dev/null

# The peer's own CA and the certificate of its two HTTPS endpoints.
(
  umask 077
  cd "$dir"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=ferry kube peer CA" -keyout peer-ca.key -out peer-ca.crt 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/CN=cdi-uploadproxy" -keyout peer.key -out peer.csr 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > peer.ext
  openssl x509 -req -in peer.csr -CA peer-ca.crt -CAkey peer-ca.key -CAcreateserial \
    -days 2 -extfile peer.ext -out peer.crt 2>/dev/null
  cat "$KUBE_CA" peer-ca.crt > ca-bundle.crt
  chmod 644 peer-ca.crt ca-bundle.crt
)

rm -f "$dir/sim.json"
python3 "$here/cdi-sim.py" "$dir" > "$dir/cdi-sim.log" 2>&1 &
echo $! > "$dir/cdi-sim.pid"
i=0
while [ ! -s "$dir/sim.json" ]; do
  kill -0 "$(cat "$dir/cdi-sim.pid")" 2>/dev/null ||
    { echo "kube-env: cdi-sim.py exited:" >&2; cat "$dir/cdi-sim.log" >&2; exit 1; }
  i=$((i + 1))
  [ $i -lt 300 ] || { echo "kube-env: cdi-sim.py did not start" >&2; exit 1; }
  sleep 0.1
done
# The Job controller + kubelet stand-in for transfer: job (runs
# $FERRY_JOB_BINARY for the image's ferry).
python3 "$here/job-sim.py" "$dir" > "$dir/job-sim.log" 2>&1 &
echo $! > "$dir/job-sim.pid"
sim_url () { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$dir/sim.json" "$1"; }

umask 077
cat > "$dir/env" <<EOF
KUBE_URL=$KUBE_URL
KUBE_TOKEN=$KUBE_TOKEN
KUBE_CA=$KUBE_CA
KUBE_CA_BUNDLE=$dir/ca-bundle.crt
KUBECONFIG_FILE=$dir/api/kubeconfig
UPLOAD_PROXY_URL=$(sim_url upload_proxy_url)
UPLOAD_API_URL=$(sim_url upload_api_url)
UPLOAD_DIR=$dir/uploads
PEER_CTL=$(sim_url ctl_url)
KUBE_NS=ferry-test
KUBE_PEER_DIR=$dir
EOF
