# Sourced by the engine tests: engine_manifests FILE VMS DISKS SIZE DELAY PLAN...
# writes a null source provider "src" (VMS VMs of DISKS disks of SIZE bytes,
# every disk read slowed by DELAY ms), its maps to the local destination
# "host", and one plan per PLAN argument "NAME=vm,vm,..." (namespace t).
# null_source NS NAME URL SECRET [SETTINGS]: a null Provider NAME in NS
# (url URL, Secret SECRET of NS, spec.settings SETTINGS as flow YAML),
# after a "---".
null_source () {
  printf -- '---\napiVersion: forklift.konveyor.io/v1beta1\nkind: Provider\n'
  printf 'metadata: {name: %s, namespace: %s}\nspec:\n  type: "null"\n' "$2" "$1"
  printf '  url: %s\n  secret: {name: %s, namespace: %s}\n' "$3" "$4" "$1"
  [ -z "${5:-}" ] || printf '  settings: %s\n' "$5"
}

# null_maps NS DEST: the NetworkMap "net" and StorageMap "storage" from the
# null provider "src" (its "VM Network" to the pod network, "Storage
# Network" ignored, "datastore1" to storageClass local) to DEST, in NS,
# each after a "---".
null_maps () {
  cat <<YAML
---
apiVersion: forklift.konveyor.io/v1beta1
kind: NetworkMap
metadata: {name: net, namespace: $1}
spec:
  provider: {source: {name: src, namespace: $1}, destination: {name: $2, namespace: $1}}
  map:
    - source: {name: VM Network}
      destination: {type: pod}
    - source: {name: Storage Network}
      destination: {type: ignored}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: StorageMap
metadata: {name: storage, namespace: $1}
spec:
  provider: {source: {name: src, namespace: $1}, destination: {name: $2, namespace: $1}}
  map:
    - source: {name: datastore1}
      destination: {storageClass: local}
YAML
}

engine_manifests () {
  file=$1 vms=$2 disks=$3 size=$4 delay=$5
  shift 5
  cat > "$file" <<YAML
apiVersion: v1
kind: Secret
metadata: {name: src, namespace: t}
stringData: {user: none}
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Provider
metadata: {name: src, namespace: t}
spec:
  type: "null"
  url: "null://"
  secret: {name: src, namespace: t}
  settings: {vms: "$vms", disksPerVm: "$disks", diskSize: "$size", readDelayMs: "$delay"}
YAML
  null_maps t host >> "$file"
  for p in "$@"; do
    cat >> "$file" <<YAML
---
apiVersion: forklift.konveyor.io/v1beta1
kind: Plan
metadata: {name: ${p%%=*}, namespace: t}
spec:
  provider: {source: {name: src, namespace: t}, destination: {name: host, namespace: t}}
  map: {network: {name: net, namespace: t}, storage: {name: storage, namespace: t}}
  targetNamespace: out
  skipGuestConversion: true
  vms:
YAML
    for vm in $(echo "${p#*=}" | tr , ' '); do
      echo "    - name: $vm" >> "$file"
    done
  done
}

# migration_json NAME: the Migration t/NAME as JSON on stdout.
migration_json () {
  ferry get migration "$1" -n t -o json
}

# only_migration PLAN: the name of PLAN's one Migration.
plan_migrations () {
  ferry get migrations -n t -o json | python3 -c '
import json, sys
d = json.load(sys.stdin)
items = d.get("items", [d]) if isinstance(d, dict) else d
for m in items:
    if m["spec"]["plan"]["name"] == sys.argv[1]:
        print(m["metadata"]["name"])
' "$1"
}

# wait_vm_phase PLAN VM PHASE: wait (at most 60 s) until VM of PLAN's
# newest Migration is in PHASE (the VM's phase, e.g. DiskTransfer).
wait_vm_phase () {
  i=0
  while [ $i -lt 600 ]; do
    m="$(plan_migrations "$1" | tail -n1)"
    if [ -n "$m" ] && migration_json "$m" | python3 -c '
import json, sys
m = json.load(sys.stdin)
for vm in m.get("status", {}).get("vms", []):
    if vm.get("name") == sys.argv[1] and vm.get("phase") == sys.argv[2]:
        sys.exit(0)
sys.exit(1)
' "$2" "$3"; then
      return 0
    fi
    sleep 0.1
    i=$((i + 1))
  done
  fail "VM $2 of plan $1 never reached $3"
}

# vm_phases MIGRATION: "name=phase" per VM, sorted, one line.
vm_phases () {
  migration_json "$1" | python3 -c '
import json, sys
m = json.load(sys.stdin)
print(" ".join(sorted("%s=%s" % (v["name"], v["phase"]) for v in m["status"].get("vms", []))))
'
}

# migration_phase MIGRATION
migration_phase () {
  migration_json "$1" | python3 -c '
import json, sys
print(json.load(sys.stdin)["status"]["phase"])
'
}
