# Sourced by tests and benchmarks that migrate from an OVA directory.
#
# ova_manifests NS DIR [DESTINATION [NET_DEST [STORAGE_DEST]]]
#   prints the Secret and Provider "ova" (type ova, url DIR) in namespace
#   NS and, when DESTINATION (a Provider's name in NS) is given, the
#   NetworkMap "net" (the OVAs' "VM Network" -> NET_DEST, default
#   {type: pod}) and StorageMap "storage" (the OVA provider's one storage
#   -> STORAGE_DEST, default {storageClass: local}).  No side effects.
ova_manifests () {
  _ns=$1 _dir=$2 _dest=${3:-}
  _net=${4:-'{type: pod}'} _sto=${5:-'{storageClass: local}'}
  cat <<YAML
apiVersion: v1
kind: Secret
metadata: {name: ova, namespace: $_ns}
stringData: {url: $_dir}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Provider
metadata: {name: ova, namespace: $_ns}
spec: {type: ova, url: $_dir, secret: {name: ova, namespace: $_ns}}
YAML
  [ -n "$_dest" ] || return 0
  cat <<YAML
---
apiVersion: forklift.konveyor.io/v1beta1
kind: NetworkMap
metadata: {name: net, namespace: $_ns}
spec:
  provider: {source: {name: ova, namespace: $_ns}, destination: {name: $_dest, namespace: $_ns}}
  map: [{source: {name: VM Network}, destination: $_net}]
---
apiVersion: forklift.konveyor.io/v1beta1
kind: StorageMap
metadata: {name: storage, namespace: $_ns}
spec:
  provider: {source: {name: ova, namespace: $_ns}, destination: {name: $_dest, namespace: $_ns}}
  map: [{source: {name: Dummy storage for source provider ova}, destination: $_sto}]
YAML
}
