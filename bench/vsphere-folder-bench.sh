#!/bin/sh
# vSphere datastore HTTP copy throughput: one powered-off simulator VM
# (govmomi's vCenter simulator, tests/peers/vcsim) whose flat disk file
# holds SIZE_MIB (default 1024) of random data, served over the datastore
# HTTP interface (/folder, the session cookie checked by the peer).
#   ferry: a cold migration of the VM to the local destination
#     (`ferry start --wait`, skipGuestConversion); the module reads the
#     flat file with Range GETs of 256 KiB over 4 connections, the engine
#     writes a raw volume (fdatasync) and computes its SHA-256.  Its time
#     is reported whole and as the DiskTransfer step's own duration.
#   curl, against the same URL with a session cookie of its own (a SOAP
#     Login made with curl):
#     (1) one plain GET of the whole file;
#     (4x1) 4 curls in parallel, one Range each (a quarter of the file);
#     (4xR) 4 curls in parallel, each its quarter in ferry's ranges
#       (256 KiB Range GETs in order, one connection per curl);
#     each writes the same file (4x: through `dd seek=`) and makes it
#     durable (`sync -d`), inside the timing.
# Every copy is compared with the simulator's file (cmp, untimed).  Prints
# the times, MiB/s and the ratios ferry/curl of throughput.  Needs about
# 3 x SIZE_MIB free in $TMPDIR.  Run from the build directory:
#   bench/vsphere-folder-bench.sh [SIZE_MIB]
# BENCH_KEEP=DIR copies the run's work files (watch output, logs, status) there.
set -eu
mib="${1:-1024}"
conns=4
req=262144
: "${abs_top_builddir:=$(pwd)}"
: "${abs_top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
export abs_top_builddir abs_top_srcdir
. "$abs_top_srcdir/tests/functions.sh"
. "$abs_top_srcdir/tests/peers/vcsim/start.sh"
for t in curl python3; do
  command -v $t >/dev/null 2>&1 || { echo "SKIP: $t is not installed"; exit 77; }
done
size=$((mib * 1048576))
[ "$mib" -ge 1 ] || fail "SIZE_MIB must be at least 1"

vcsim_start -dc 1 -cluster 0 -host 0 -standalone-host 1 -vm 1 -ds 1 -pg 1 \
  -disk-size "$size" -flat 1048576 -power-off
w="$FERRY_STATE_DIR/work"
mkdir -p "$w"
ferry_run () { MALLOC_PERTURB_=0 "$abs_top_builddir/run" "$abs_top_builddir/cli/ferry" "$@"; }
now () { date +%s.%N; }

# The disk: the peer wrote a sparse flat file; fill it with random bytes.
flat="$(sed -n 's/.*"flatPath": "\(.*\)",*$/\1/p' "$VCSIM_TRUTH" | head -n1)"
file="$(sed -n 's/.*"file": "\(.*\)",*$/\1/p' "$VCSIM_TRUTH" | head -n1)"
{ [ -f "$flat" ] && [ -n "$file" ]; } || fail "no flat extent in the truth: $(cat "$VCSIM_TRUTH")"
head -c "$size" /dev/urandom > "$flat.new"
mv -f "$flat.new" "$flat"
sync -d "$flat"
# "[LocalDS_0] DC0_H0_VM0/disk1.vmdk" -> /folder/DC0_H0_VM0/disk1-flat.vmdk
ds="${file#\[}"; ds="${ds%%\]*}"
rel="${file#*\] }"; rel="${rel%.vmdk}-flat.vmdk"
base="${VCSIM_URL%/sdk}"
url="$base/folder/$rel?dcPath=DC0&dsName=$ds"

{ vcsim_manifests vc
vcsim_host_maps vc "$ds"
vcsim_plan host migrated
} > "$w/manifests.yaml"
ferry_run apply -f "$w/manifests.yaml" >/dev/null
ferry_run inventory refresh --provider vc >/dev/null

# curl's session: a SOAP Login of its own (the password from a file).
umask 077
printf '%s' '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><Login xmlns="urn:vim25"><_this type="SessionManager">SessionManager</_this><userName>admin</userName><password>vcsim-pass</password></Login></soapenv:Body></soapenv:Envelope>' > "$w/login.xml"
curl -sS --fail --cacert "$VCSIM_CA" -c "$w/jar" -H 'Content-Type: text/xml; charset=utf-8' \
  -H 'SOAPAction: "urn:vim25/7.0"' --data-binary @"$w/login.xml" "$VCSIM_URL" > "$w/login.out" \
  || fail "curl's SOAP login failed: $(cat "$w/login.out")"
grep -q vmware_soap_session "$w/jar" || fail "no session cookie from the login"
# Without the cookie the peer refuses, as vCenter does.
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$VCSIM_CA" -r 0-0 "$url")
[ "$code" = 401 ] || fail "/folder without a cookie answered $code, not 401"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$VCSIM_CA" -b "$w/jar" -r 0-0 "$url")
[ "$code" = 206 ] || fail "/folder with the cookie answered $code to a Range GET, not 206"

# Config for curl #k of the 4xR run: its quarter in 256 KiB ranges.
quarter=$((size / conns))
for k in $(seq 0 $((conns - 1))); do
  off=$((k * quarter)) end=$(((k + 1) * quarter))
  : > "$w/ranges.$k"
  while [ $off -lt $end ]; do
    [ $off -eq $((k * quarter)) ] || echo next >> "$w/ranges.$k"
    printf 'url = "%s"\nrange = "%d-%d"\ncacert = "%s"\ncookie = "%s"\n' \
      "$url" $off $((off + req - 1)) "$VCSIM_CA" "$w/jar" >> "$w/ranges.$k"
    # New connections made by each request, on stderr (summed below).
    printf 'fail\nsilent\nshow-error\nwrite-out = "%%{stderr}%%{num_connects}\\n"\n' >> "$w/ranges.$k"
    off=$((off + req))
  done
done

# Each copy starts from the same page-cache state: the source read once.
cat "$flat" > /dev/null
out="$w/copy.raw"
check () {
  cmp "$flat" "$out" || fail "$1: the copy differs from the simulator's file"
  rm -f "$out"
}

curl_one () {
  curl -sS --fail --cacert "$VCSIM_CA" -b "$w/jar" -o "$out" "$url"
  sync -d "$out"
}
curl_quarters () {                      # $1: "one" (1 range) or "ranges"
  pids=
  for k in $(seq 0 $((conns - 1))); do
    { if [ "$1" = one ]; then
        curl -sS --fail --cacert "$VCSIM_CA" -b "$w/jar" \
          -r "$((k * quarter))-$(((k + 1) * quarter - 1))" "$url"
      else
        curl -K "$w/ranges.$k" 2> "$w/connects.$k"
      fi; echo $? > "$w/rc.$k"; } | dd of="$out" bs=1M seek=$((k * quarter)) oflag=seek_bytes conv=notrunc \
            iflag=fullblock status=none &
    pids="$pids $!"
  done
  for p in $pids; do wait $p || return 1; done
  sync -d "$out"
  for k in $(seq 0 $((conns - 1))); do [ "$(cat "$w/rc.$k")" = 0 ] || return 1; done
}
# The 4xR curls each made one connection and kept it for all their ranges.
check_connects () {
  for k in $(seq 0 $((conns - 1))); do
    c=$(awk '/^[0-9]+$/ { s += $1; n++ } END { print s "/" n }' "$w/connects.$k")
    [ "$c" = "1/$((quarter / req))" ] || fail "curl $k of 4xR: connections/requests $c: $(head -3 "$w/connects.$k")"
  done
}
# CPU seconds (user + system) the simulator has used so far.
tck=$(getconf CLK_TCK)
sim_cpu () { awk -v t="$tck" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$VCSIM_PID/stat"; }
# CPU seconds (user + system) of this shell's reaped children so far, in
# $kcpu (`times` must run in this shell, not in a command substitution).
kids_cpu () {
  times > "$w/times"
  kcpu=$(awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/)
                        printf "%.2f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$w/times")
}
timed () {         # CMD...: seconds in $secs, CPU of the simulator in $scpu, of the client in $ccpu
  s0=$(sim_cpu); kids_cpu; k0=$kcpu
  t0=$(now)
  "$@" || fail "$1 failed"
  secs=$(echo "$(now) - $t0" | bc)
  scpu=$(echo "$(sim_cpu) - $s0" | bc)
  kids_cpu; ccpu=$(echo "$kcpu - $k0" | bc)
}

: > "$out"; timed curl_one;  check "curl (1)";   c1=$secs c1cpu=$scpu c1kids=$ccpu
: > "$out"; timed curl_quarters one; check "curl (4x1)"; c4=$secs c4cpu=$scpu c4kids=$ccpu
: > "$out"; timed curl_quarters ranges; check "curl (4xR)"; cr=$secs crcpu=$scpu crkids=$ccpu
check_connects

migrate () {
  ferry_run start from-vc --wait > "$w/start.out" 2>&1 || fail "migration failed: $(cat "$w/start.out")"
}
timed migrate; fs=$secs fcpu=$scpu fkids=$ccpu
img="$FERRY_STATE_DIR/local/migrated/vm0/vm0-d0.img"
out="$img"; check ferry
st="$(ferry_run get migrations -o json)"
printf '%s\n' "$st" > "$w/status.json"
[ -z "${BENCH_KEEP:-}" ] || cp "$w/status.json" "$w/start.out" "$BENCH_KEEP/"

# The DiskTransfer step of the disk (its own start and end in the status).
ds_s=$(python3 - "$w/status.json" <<'PY'
import datetime, json, sys
def walk(o):
    if isinstance(o, dict):
        if o.get("name") == "vm0-d0" and "started" in o and "completed" in o:
            yield o
        for v in o.values():
            yield from walk(v)
    elif isinstance(o, list):
        for v in o:
            yield from walk(v)
t = next(walk(json.load(open(sys.argv[1]))))
p = lambda s: datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")
print("%.3f" % (p(t["completed"]) - p(t["started"])).total_seconds())
PY
) || fail "no DiskTransfer times in the status"
rate () { echo "scale=1; $mib / $1" | bc; }
echo "disk: $mib MiB of random data, /folder over TLS (127.0.0.1), $conns connections, $req-byte ranges"
echo "ferry cold migration (start --wait, whole): ${fs} s, $(rate "$fs") MiB/s, CPU: simulator ${fcpu} s, ferry ${fkids} s"
echo "ferry DiskTransfer step (status started..completed): ${ds_s} s, $(rate "$ds_s") MiB/s"
echo "curl (1) one GET: ${c1} s, $(rate "$c1") MiB/s, CPU: simulator ${c1cpu} s, curl ${c1kids} s"
echo "curl (4x1) 4 parallel, 1 range each: ${c4} s, $(rate "$c4") MiB/s, CPU: simulator ${c4cpu} s, curl+dd ${c4kids} s"
echo "curl (4xR) 4 parallel, 256 KiB ranges: ${cr} s, $(rate "$cr") MiB/s, CPU: simulator ${crcpu} s, curl+dd ${crkids} s"
ratio () { echo "scale=2; $1 / $2" | bc; }
echo "throughput ferry/curl, whole migration: (1) $(ratio "$c1" "$fs"), (4x1) $(ratio "$c4" "$fs"), (4xR) $(ratio "$cr" "$fs")"
echo "throughput ferry/curl, DiskTransfer step: (1) $(ratio "$c1" "$ds_s"), (4x1) $(ratio "$c4" "$ds_s"), (4xR) $(ratio "$cr" "$ds_s")"
