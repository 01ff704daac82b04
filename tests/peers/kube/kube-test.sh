# Sourced by the KubeVirt shell tests (after tests/functions.sh, and after
# tests/peers/vcsim/start.sh's vcsim_start when both peers are used):
#   kube_start            start the peer (kube-env.sh) in $FERRY_STATE_DIR/kube,
#                         source its env (exported), stop it at exit; skip (77)
#                         when it cannot run
#   kc ARGS...            tests/peers/kube/kubeclient.py as the admin
#   kjson PATH EXPR       GET PATH and print the Python expression EXPR of
#                         the object o (e.g. 'o["status"]["phase"]')
#   kube_provider NAME [TOKEN] [SETTINGS-LINES]
#                         a Secret and an openshift Provider NAME (namespace
#                         default) for the peer: TOKEN (default the admin's),
#                         the CA bundle, settings.cdiUploadAPIURL and any
#                         further settings lines ("    key: value")
#   kube_left SELECTOR    "resource/name" of every DataVolume, PVC,
#                         VirtualMachine, Secret and Job in $KUBE_NS with the
#                         label selector (empty output: nothing left)
#   kube_delete SELECTOR  delete what kube_left lists (but Secrets and Jobs)
#   kube_sa_token SA      a token of ServiceAccount SA in $KUBE_NS (created
#                         if missing) from the TokenRequest API
#   peer_ctl PATH [JSON]  GET (or POST JSON to) the peer's control endpoint

KUBE_PEER_SRC="$abs_top_srcdir/tests/peers/kube"

kube_on_exit () {
  rc=$?
  if [ $rc -ne 0 ] && [ -f "$KUBE_DIR/cdi-sim.log" ]; then
    echo "--- last lines of the kube peer's cdi-sim.log:" >&2
    tail -n 25 "$KUBE_DIR/cdi-sim.log" >&2
  fi
  sh "$KUBE_PEER_SRC/kube-env.sh" stop "$KUBE_DIR" || true
  if [ -n "${VCSIM_PID:-}" ]; then
    kill "$VCSIM_PID" 2>/dev/null
    wait "$VCSIM_PID" 2>/dev/null
  fi
  rm -rf $cleanup_dirs
  exit $rc
}

kube_start () {
  KUBE_DIR="$FERRY_STATE_DIR/kube"
  trap kube_on_exit EXIT
  set +e
  sh "$KUBE_PEER_SRC/kube-env.sh" start "$KUBE_DIR" > "$FERRY_STATE_DIR/kube-env.log" 2>&1
  rc=$?
  set -e
  if [ $rc -eq 77 ]; then
    echo "SKIP: $(cat "$FERRY_STATE_DIR/kube-env.log")"
    exit 77
  fi
  [ $rc -eq 0 ] || fail "the kube peer did not start: $(cat "$FERRY_STATE_DIR/kube-env.log")"
  set -a
  # shellcheck disable=SC1091
  . "$KUBE_DIR/env"
  set +a
}

kc () {
  python3 "$KUBE_PEER_SRC/kubeclient.py" "$@"
}

kjson () {
  kc get "$1" | python3 -c 'import json, sys; o = json.load(sys.stdin); print(eval(sys.argv[1]))' "$2"
}

kube_provider () {
  printf 'apiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: default}\nstringData:\n' "$1"
  printf '  token: %s\n  insecureSkipVerify: "false"\n  cacert: |\n' "${2:-$KUBE_TOKEN}"
  sed 's/^/    /' "$KUBE_CA_BUNDLE"
  printf -- '---\napiVersion: forklift.konveyor.io/v1beta1\nkind: Provider\n'
  printf 'metadata: {name: %s, namespace: default}\n' "$1"
  printf 'spec:\n  type: openshift\n  url: %s\n  secret: {name: %s, namespace: default}\n' "$KUBE_URL" "$1"
  printf '  settings:\n    cdiUploadAPIURL: %s\n' "$UPLOAD_API_URL"
  if [ -n "${3:-}" ]; then printf '%s\n' "$3"; fi
}

kube_left () {
  kc names "$1" "/apis/cdi.kubevirt.io/v1beta1/namespaces/$KUBE_NS/datavolumes" \
    "/api/v1/namespaces/$KUBE_NS/persistentvolumeclaims" \
    "/apis/kubevirt.io/v1/namespaces/$KUBE_NS/virtualmachines" \
    "/api/v1/namespaces/$KUBE_NS/secrets" \
    "/apis/batch/v1/namespaces/$KUBE_NS/jobs"
}

# kube_delete SELECTOR: delete the DataVolumes, PVCs and VirtualMachines of
# $KUBE_NS with the label selector (a test's own cleanup).
kube_delete () {
  for res in "/apis/cdi.kubevirt.io/v1beta1/namespaces/$KUBE_NS/datavolumes" \
             "/api/v1/namespaces/$KUBE_NS/persistentvolumeclaims" \
             "/apis/kubevirt.io/v1/namespaces/$KUBE_NS/virtualmachines"; do
    kc request DELETE "$res?labelSelector=$1" > /dev/null
  done
}

kube_sa_token () {
  printf '{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "%s"}}' "$1" |
    kc request POST "/api/v1/namespaces/$KUBE_NS/serviceaccounts" - > /dev/null
  printf '{"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 3600}}' |
    kc create "/api/v1/namespaces/$KUBE_NS/serviceaccounts/$1/token" - |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["status"]["token"])'
}

peer_ctl () {
  if [ $# -eq 2 ]; then
    curl -sf -X POST -H 'Content-Type: application/json' --data-binary "$2" "$PEER_CTL$1"
  else
    curl -sf "$PEER_CTL$1"
  fi
}
