#!/bin/sh
# kubevirt-upload-bench.sh [SIZE_MIB]: the kubevirt destination's upload
# path (volume_create + ferry_transfer through tests/kubevirt-driver: the
# DataVolume, the token request and the streaming POST) against
# `curl -T FILE -X POST` of the same file to the same upload proxy (with a
# DataVolume and a token made beforehand, so curl times only the bytes),
# on the kube peer (tests/peers/kube).  Both uploads are compared with cmp.
# Run from the build directory after `make -C tests kubevirt-driver`.
set -eu
size=${1:-512}
build=$(pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
driver=$build/tests/kubevirt-driver
[ -x "$driver" ] || { echo "build tests/kubevirt-driver first (make -C tests kubevirt-driver)" >&2; exit 1; }
export abs_top_srcdir="$src" abs_top_builddir="$build"
dir=$(mktemp -d "${TMPDIR:-/tmp}/ferry-kvbench.XXXXXX")
trap 'sh "$src/tests/peers/kube/kube-env.sh" stop "$dir/kube"; rm -rf "$dir"' EXIT
sh "$src/tests/peers/kube/kube-env.sh" start "$dir/kube" > "$dir/kube-env.log" 2>&1 ||
  { cat "$dir/kube-env.log" >&2; exit 1; }
set -a; . "$dir/kube/env"; set +a
kc () { python3 "$src/tests/peers/kube/kubeclient.py" "$@"; }

head -c $((size * 1048576)) /dev/urandom > "$dir/disk.img"
python3 - "$dir" "$size" <<'EOF'
import json, os, sys
d, size = sys.argv[1], int(sys.argv[2])
env = os.environ
json.dump({"url": env["KUBE_URL"], "settings": {"uploadProxyURL": env["UPLOAD_PROXY_URL"],
           "cdiUploadAPIURL": env["UPLOAD_API_URL"]}}, open(d + "/prov.json", "w"))
json.dump({"token": env["KUBE_TOKEN"], "cacert": open(env["KUBE_CA_BUNDLE"]).read()},
          open(d + "/secret.json", "w"))
for name in ("ferry-disk", "curl-disk"):
    json.dump({"name": name, "namespace": env["KUBE_NS"], "capacity": size * 1048576,
               "storageClass": "standard", "labels": {"plan": "bench", "vmID": "bench"}},
              open(d + "/" + name + ".json", "w"))
EOF

# ferry: everything the module does for one disk.
t0=$(date +%s.%N)
"$build/run" "$driver" "$dir/prov.json" "$dir/secret.json" upload "$dir/ferry-disk.json" "$dir/disk.img" > /dev/null 2> "$dir/ferry.err" || { cat "$dir/ferry.err" >&2; exit 1; }
t1=$(date +%s.%N)
cmp "$dir/disk.img" "$UPLOAD_DIR/$KUBE_NS/ferry-disk.img"

# curl: the DataVolume and the token first (not timed), then the bytes.
kc create "/apis/cdi.kubevirt.io/v1beta1/namespaces/$KUBE_NS/datavolumes" - > /dev/null <<EOF
{"apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "DataVolume", "metadata": {"name": "curl-disk"},
 "spec": {"source": {"upload": {}}, "storage": {"storageClassName": "standard",
          "resources": {"requests": {"storage": "$((size * 1048576))"}}}}}
EOF
until [ "$(kc get "/apis/cdi.kubevirt.io/v1beta1/namespaces/$KUBE_NS/datavolumes/curl-disk" |
          python3 -c 'import json,sys; print(json.load(sys.stdin).get("status",{}).get("phase",""))')" = UploadReady ]; do
  sleep 0.2
done
token=$(printf '{"apiVersion":"upload.cdi.kubevirt.io/v1beta1","kind":"UploadTokenRequest","metadata":{"name":"curl-disk","namespace":"%s"},"spec":{"pvcName":"curl-disk"}}' "$KUBE_NS" |
  curl -sf --cacert "$KUBE_CA_BUNDLE" -H "Authorization: Bearer $KUBE_TOKEN" -H 'Content-Type: application/json' \
    --data-binary @- "$UPLOAD_API_URL/apis/upload.cdi.kubevirt.io/v1beta1/namespaces/$KUBE_NS/uploadtokenrequests" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["status"]["token"])')
printf 'header = "Authorization: Bearer %s"\n' "$token" > "$dir/curl.conf"
chmod 600 "$dir/curl.conf"
t2=$(date +%s.%N)
curl -sf --cacert "$KUBE_CA_BUNDLE" -K "$dir/curl.conf" -H 'Content-Type: application/octet-stream' \
  -X POST -T "$dir/disk.img" "$UPLOAD_PROXY_URL/v1beta1/upload" > /dev/null
t3=$(date +%s.%N)
cmp "$dir/disk.img" "$UPLOAD_DIR/$KUBE_NS/curl-disk.img"

python3 - "$size" "$t0" "$t1" "$t2" "$t3" <<'EOF'
import sys
size = int(sys.argv[1]); t0, t1, t2, t3 = map(float, sys.argv[2:])
f, c = t1 - t0, t3 - t2
print("upload of %d MiB: ferry (DataVolume + token + bytes + Succeeded) %.2f s = %.0f MiB/s; "
      "curl -T (bytes only) %.2f s = %.0f MiB/s; ferry/curl throughput %.2f"
      % (size, f, size / f, c, size / c, c / f))
EOF
