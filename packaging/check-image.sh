#!/bin/sh
# check-image.sh IMAGE: run the transfer: job worker inside the built image
# the way a Job runs it, and compare the result with the source.
#
#   podman build -f packaging/Containerfile -t ferry:0.1.0 .
#   sh packaging/check-image.sh ferry:0.1.0        # ENGINE=docker for docker
#
# An OVA built by tests/make-ova.sh is mounted read-only as the source, its
# manifests as the Secret volume at /etc/ferry/source, and an empty
# directory owned by uid 107 as the PVC at /ferry-disk; the container (user
# 107, the image's default) runs `ferry copy-disk ... --output
# /ferry-disk/disk.img` for each disk, which must exit 0 and leave a file
# identical to the disk's raw image, mode 0660.  Needs qemu-img on the host
# (make-ova.sh) and a container engine that can run the image.
set -eu
image=${1:?usage: check-image.sh IMAGE}
engine=${ENGINE:-podman}
src=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/ferry-check-image.XXXXXX")
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/source" "$dir/etc" "$dir/disk"
sh "$src/tests/make-ova.sh" "$dir/build" solo > /dev/null
mv "$dir/build/solo.ova" "$dir/source/"
. "$src/tests/ova-manifests.sh"
ova_manifests default /source > "$dir/etc/source.yaml"
chmod 0755 "$dir" "$dir/source" "$dir/etc"
chmod 0644 "$dir/etc/source.yaml" "$dir/source/solo.ova"

run () {
  "$engine" run --rm -v "$dir/source:/source:ro" \
    -v "$dir/etc:/etc/ferry/source:ro" -v "$dir/disk:/ferry-disk" \
    -e FERRY_STATE_DIR=/tmp/state "$image" "$@"
}
# The VM's and disks' ids, as the engine would hand them to the Job.
run sh -c 'ferry apply -f /etc/ferry/source/source.yaml >/dev/null &&
           ferry inventory refresh --provider ova >/dev/null &&
           ferry inventory vms --provider ova -o json' > "$dir/vms.json"
ids=$(python3 -c '
import json, sys
vm = json.load(open(sys.argv[1]))[0]
print(vm["id"], *[d["id"] for d in sorted(vm["disks"], key=lambda d: d["file"])])' "$dir/vms.json")
set -- $ids
vm=$1; shift
n=0
for disk in "$@"; do
  n=$((n + 1))
  raw="$dir/build/solo-disk$n.raw"
  rm -f "$dir/disk/disk.img"
  chown 107:107 "$dir/disk" 2>/dev/null || chmod 0777 "$dir/disk"
  run ferry copy-disk --manifests /etc/ferry/source/source.yaml \
    --provider default/ova --vm "$vm" --disk "$disk" \
    --output /ferry-disk/disk.img -o json | tail -n 1
  cmp "$dir/disk/disk.img" "$raw"
  mode=$(stat -c %a "$dir/disk/disk.img")
  [ "$mode" = 660 ] || { echo "disk.img mode $mode, not 660" >&2; exit 1; }
  echo "disk $n ($disk): identical to the source, mode $mode"
done
echo "check-image: $image copied $n disks correctly"
