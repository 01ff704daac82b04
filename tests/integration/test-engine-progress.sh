#!/bin/sh
# Progress output of `ferry start --wait`, `ferry run` and `ferry serve`:
#  - plain (not a terminal): one line per state change, progress lines
#    throttled to one per VM every 5 s (checked against the copy's own
#    recorded duration), no terminal control codes;
#  - -o json: every line is one JSON object with the documented fields,
#    the last one the plan's end;
#  - on a terminal (util-linux `script`): lines redrawn in place (cursor
#    up, erase) and the last frame is the plan summary.
. "$abs_top_srcdir/tests/functions.sh"
. "$abs_top_srcdir/tests/integration/engine-null-manifests.sh"
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not installed"; exit 77; }

w="$FERRY_STATE_DIR/work"
mkdir -p "$w"
# 6 VMs of 2 disks of 8 MiB, 50 ms per read: copies last about a second.
engine_manifests "$w/m.yaml" 6 2 8388608 50 \
  a=null-vm-1,null-vm-2 b=null-vm-3 c=null-vm-4 d=null-vm-5,null-vm-6
ferry apply -f "$w/m.yaml" >/dev/null

# --- plain
ferry start a -n t --wait > "$w/a.out" 2>&1 || fail "plan a: $(cat "$w/a.out")"
m="$(plan_migrations a)"
migration_json "$m" > "$w/a.json"
python3 - "$w/a.out" "$w/a.json" <<'PY' || fail "plain output check failed: $(cat "$w/a.out")"
import json, re, sys
from datetime import datetime
text = open(sys.argv[1]).read()
if "\033" in text or "\r" in text:
    sys.exit("terminal control codes in plain output")
lines = text.splitlines()
assert lines[0].startswith("migration.forklift.konveyor.io/"), lines[0]
assert re.match(r"migration t/\S+ of plan a: Running, 2 VMs$", lines[1]), lines[1]
assert re.match(r"migration t/\S+ of plan a: Succeeded, 2 of 2 VMs succeeded$", lines[-1]), lines[-1]
m = json.load(open(sys.argv[2]))
def t(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")
for vm in m["status"]["vms"]:
    name = vm["name"]
    for step in ("Initialize", "DiskTransfer", "VirtualMachineCreation"):
        for ph in ("Running", "Completed"):
            assert "%s: %s %s" % (name, step, ph) in lines, (name, step, ph)
    assert "%s: Succeeded" % name in lines, name
    prog = [l for l in lines if l.startswith(name + ": DiskTransfer ") and "%" in l]
    assert prog, "no progress line for " + name
    for l in prog:
        assert re.match(r"\S+: DiskTransfer \d+\.\d% [\d.]+ \S+ of 16\.0 MiB, [\d.]+ \S+/s, ETA \S+$", l), l
    step = [s for s in vm["pipeline"] if s["name"] == "DiskTransfer"][0]
    secs = (t(step["completed"]) - t(step["started"])).total_seconds()
    # at most one progress line per 5 s of copying, plus the first
    if len(prog) > 1 + int(secs / 5):
        sys.exit("%s: %d progress lines in %.1f s" % (name, len(prog), secs))
print("plain ok")
PY

# --- json, from ferry start --wait and from ferry serve
ferry start b -n t --wait -o json > "$w/b.out" 2>"$w/b.err" || fail "plan b: $(cat "$w/b.err")"
ferry start c -n t >/dev/null
ferry serve --once --output json > "$w/c.out" 2>"$w/c.err" || fail "serve: $(cat "$w/c.err")"
for p in b c; do
  python3 - "$w/$p.out" "$p" <<'PY' || fail "json output of plan $p: $(cat "$w/$p.out")"
import json, sys
keys = {"time", "namespace", "plan", "migration", "vm", "step", "phase",
        "done", "total", "rate", "message"}
lines = open(sys.argv[1]).read().splitlines()
evs = [json.loads(l) for l in lines]          # every line parses
assert evs, "no output"
for e in evs:
    assert set(e) == keys, sorted(e)
    assert e["plan"] == sys.argv[2] and e["namespace"] == "t", e
    assert isinstance(e["done"], int) and isinstance(e["total"], int), e
vm = "null-vm-3" if sys.argv[2] == "b" else "null-vm-4"
assert evs[0]["vm"] is None and evs[0]["phase"] == "Running" and evs[0]["total"] == 1, evs[0]
assert evs[-1]["vm"] is None and evs[-1]["phase"] == "Succeeded" and evs[-1]["done"] == 1, evs[-1]
prog = [e for e in evs if e["step"] == "DiskTransfer" and e["total"]]
assert prog and prog[-1]["total"] == 16777216, prog[-1:]
assert any(e["vm"] == vm and e["step"] is None and e["phase"] == "Succeeded" for e in evs)
assert len({e["migration"] for e in evs}) == 1
print(sys.argv[2], "json ok:", len(evs), "events")
PY
done

# --- terminal
if command -v script >/dev/null 2>&1; then
  m="$(ferry start d -n t)"
  m="${m#migration.forklift.konveyor.io/}"
  m="${m% created}"
  script -q -e -c "$abs_top_builddir/cli/ferry run $m -n t" /dev/null > "$w/tty.out" 2>&1 \
    || fail "ferry run on a terminal: $(cat -v "$w/tty.out")"
  python3 - "$w/tty.out" <<'PY' || fail "terminal output: $(cat -v "$w/tty.out")"
import re, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
if not re.search(r"\033\[\d+A", text) or "\033[J" not in text:
    sys.exit("no redraw (cursor up / erase) in the terminal output")
if not re.search(r"null-vm-\d +DiskTransfer +\d+\.\d%", text):
    sys.exit("no live VM line")
plain = re.sub(r"\033\[[0-9;]*[A-Za-z]", "", text)
frames = [l for l in re.split(r"[\r\n]+", plain) if l.strip()]
last = frames[-1]
if not re.match(r"plan t/d \(\S+\) Succeeded: 2 of 2 VMs done, 0 failed, 0 canceled, 0 running; 32\.0 MiB of 32\.0 MiB copied$", last):
    sys.exit("last line is not the summary: " + last)
print("terminal ok")
PY
else
  echo "script (util-linux) not installed: terminal form not tested"
fi
