#!/usr/bin/env python3
"""Plays the Job controller and the kubelet for ferry's copy Jobs (stdlib).

  job-sim.py DIR     (KUBE_URL, KUBE_TOKEN (admin), KUBE_CA in the environment;
                      FERRY_JOB_BINARY: the command that stands for the image's
                      `ferry`, e.g. the build tree's cli/ferry)

No kube-controller-manager, scheduler or kubelet runs in the kube peer, so
nothing would ever run a Job.  This process does, for Jobs labelled
app.kubernetes.io/created-by=ferry, talking to the real apiserver:

provisioner  a PVC labelled created-by=ferry that no DataVolume owns (the
             PVCs of transfer: job) and that is Pending is PATCHed Bound
             (status subresource), as a CSI provisioner would.
Job          for each Job without a Complete/Failed condition: startTime and
controller   active=1 through the status subresource; a Pod object per
             attempt made from the Job's pod template (name JOB-xxxxx,
             labels job-name and controller-uid, ownerReference to the Job),
             so the real apiserver validates the template as a Pod; up to
             spec.backoffLimit + 1 attempts; then conditions Complete
             (succeeded=1) or Failed (reason BackoffLimitExceeded, "Job has
             reached the specified backoff limit"), as kube's Job controller
             words them.
kubelet      waits until the PVC is Bound and the Secret exists (Warning
             event FailedMount meanwhile), then "mounts": the Secret volume
             is written from the API into a private temp dir (defaultMode),
             the PVC is UPLOAD_DIR/NS/PVC.img (volumeDevices, Block) or the
             directory UPLOAD_DIR/NS/PVC.fs (volumeMounts, Filesystem; its
             disk.img is also linked as UPLOAD_DIR/NS/PVC.img, so tests
             compare one path); a volumeDevices on a Filesystem PVC or a
             volumeMounts on a Block PVC fails as a kubelet would refuse it.
             It runs the container's command with `ferry` replaced by
             $FERRY_JOB_BINARY and the mount paths by the local ones, with
             KUBECONFIG pointing at a kubeconfig that holds a token of the
             pod's ServiceAccount from the TokenRequest API (so the real
             apiserver's RBAC limits the worker as in a cluster) and without
             the admin's credentials in its environment.  Its output (stdout
             and stderr) goes to DIR/jobs/NS/POD.log; on failure the last 80
             lines (at most 2 KiB) become the container's termination
             message (terminationMessagePolicy FallbackToLogsOnError).  The
             Pod's status (phase, containerStatuses[].state.terminated) is
             PATCHed.  A Job deleted while its worker runs: the worker is
             killed (SIGTERM, then SIGKILL after 5 s) and its Pod deleted.

garbage     Pods (labelled created-by=ferry) whose owning Job is gone are
collector   deleted, as kube-controller-manager's garbage collector does for
            a Job deleted with propagationPolicy Background.

FERRY_JOB_RUNNER=podman (opt-in, instead of FERRY_JOB_BINARY): the kubelet
part runs the container itself from the Job's image with that engine
(see JobRunner.container), so the image, its command line, user and
mounts are what is tested; FERRY_JOB_SOURCE_DIRS names the host
directories the source needs inside it (an OVA directory).

Holding Jobs (for tests of a copy in progress): while the file DIR/jobs-hold
exists, no worker starts (Pods stay Pending).
Logs to stdout.
"""
import base64
import json
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kubeclient import Kube  # noqa: E402

BATCH = "/apis/batch/v1"
SELECTOR = urllib.parse.quote("app.kubernetes.io/created-by=ferry")
LOG_LINES, LOG_BYTES = 80, 2048        # FallbackToLogsOnError's tail
WORKERS = set()                        # Popen of the workers running now
WORKERS_LOCK = threading.Lock()


def stop_worker(proc):
    """SIGTERM to the worker's process group, SIGKILL after 5 s."""
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            pass


def log(fmt, *args):
    sys.stdout.write(time.strftime("%H:%M:%S ") + (fmt % args) + "\n")
    sys.stdout.flush()


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def tree(path):
    """path and, for a directory, everything below it."""
    if not os.path.isdir(path):
        return [path]
    found = []
    for root, _dirs, files in os.walk(path):
        found.append(root)
        found += [os.path.join(root, f) for f in files]
    return found


class Stop(Exception):
    """The Job went away while we worked on it."""


class JobRunner:
    def __init__(self, kube, d, job):
        self.kube, self.dir = kube, d
        md = job["metadata"]
        self.ns, self.name, self.uid = md["namespace"], md["name"], md["uid"]
        self.path = "%s/namespaces/%s/jobs/%s" % (BATCH, self.ns, self.name)
        self.upload_dir = os.path.join(d, "uploads")

    # --- API helpers
    def job(self):
        status, job = self.kube.request("GET", self.path)
        if status == 404 or (status == 200 and (job["metadata"]["uid"] != self.uid or
                                                job["metadata"].get("deletionTimestamp"))):
            raise Stop()
        if status != 200:
            raise RuntimeError("GET job: HTTP %d" % status)
        return job

    def job_status(self, body):
        status, obj = self.kube.request("PATCH", self.path + "/status", {"status": body},
                                        "application/merge-patch+json")
        if status == 404:
            raise Stop()
        if status // 100 != 2:
            log("job %s/%s: status: HTTP %d: %s", self.ns, self.name, status, obj)

    def event(self, kind, name, uid, etype, reason, message):
        ev = {"apiVersion": "v1", "kind": "Event",
              "metadata": {"generateName": name + ".", "namespace": self.ns},
              "involvedObject": {"kind": kind, "name": name, "namespace": self.ns, "uid": uid},
              "type": etype, "reason": reason, "message": message,
              "firstTimestamp": now(), "lastTimestamp": now(), "count": 1,
              "source": {"component": "job-sim"}}
        self.kube.request("POST", "/api/v1/namespaces/%s/events" % self.ns, ev)

    def pod_status(self, pod, body):
        self.kube.request("PATCH", "/api/v1/namespaces/%s/pods/%s/status" % (self.ns, pod),
                          {"status": body}, "application/merge-patch+json")

    # --- the controller's part
    def run(self):
        try:
            self._run()
        except Stop:
            log("job %s/%s: gone", self.ns, self.name)
        except Exception:
            log("job %s/%s: %s", self.ns, self.name, traceback.format_exc())

    def _run(self):
        job = self.job()
        limit = job["spec"].get("backoffLimit", 6)
        self.job_status({"startTime": now(), "active": 1})
        failed = 0
        while True:
            ok = self.attempt(job)
            if ok:
                self.job_status({"active": None, "succeeded": 1, "completionTime": now(),
                                 "conditions": [{"type": "Complete", "status": "True",
                                                 "lastProbeTime": now(),
                                                 "lastTransitionTime": now()}]})
                log("job %s/%s: Complete", self.ns, self.name)
                return
            failed += 1
            self.job_status({"failed": failed})
            if failed > limit:
                self.job_status({"active": None, "conditions": [{
                    "type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                    "message": "Job has reached the specified backoff limit",
                    "lastProbeTime": now(), "lastTransitionTime": now()}]})
                self.event("Job", self.name, self.uid, "Warning", "BackoffLimitExceeded",
                           "Job has reached the specified backoff limit")
                log("job %s/%s: Failed after %d attempts", self.ns, self.name, failed)
                return
            job = self.job()

    def attempt(self, job):
        """One pod: True when its container exited 0."""
        tpl = job["spec"]["template"]
        pod_name = "%s-%s" % (self.name, secrets.token_hex(3)[:5])
        labels = dict(tpl.get("metadata", {}).get("labels") or {})
        labels.update({"job-name": self.name, "controller-uid": self.uid})
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": pod_name, "namespace": self.ns, "labels": labels,
                            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job",
                                                 "name": self.name, "uid": self.uid,
                                                 "controller": True,
                                                 "blockOwnerDeletion": True}]},
               "spec": tpl["spec"]}
        status, obj = self.kube.request("POST", "/api/v1/namespaces/%s/pods" % self.ns, pod)
        if status // 100 != 2:
            # kube's Job controller would retry for ever; a test wants an answer.
            msg = "Error creating: %s" % (obj or {}).get("message", "HTTP %d" % status)
            self.event("Job", self.name, self.uid, "Warning", "FailedCreate", msg)
            self.job_status({"active": None, "conditions": [{
                "type": "Failed", "status": "True", "reason": "FailedCreate",
                "message": "job-sim: " + msg, "lastTransitionTime": now()}]})
            raise Stop()
        pod_uid = obj["metadata"]["uid"]
        log("job %s/%s: pod %s", self.ns, self.name, pod_name)
        try:
            code, message = self.kubelet(job, pod_name, pod_uid, tpl["spec"])
        except Stop:
            self.kube.request("DELETE", "/api/v1/namespaces/%s/pods/%s" % (self.ns, pod_name))
            raise
        term = {"exitCode": code, "reason": "Completed" if code == 0 else "Error",
                "startedAt": now(), "finishedAt": now()}
        if message:
            term["message"] = message
        c = tpl["spec"]["containers"][0]
        self.pod_status(pod_name, {"phase": "Succeeded" if code == 0 else "Failed",
                                   "containerStatuses": [{
                                       "name": c["name"], "image": c["image"], "imageID": "",
                                       "ready": False, "restartCount": 0,
                                       "state": {"terminated": term}}]})
        return code == 0

    # --- the kubelet's part
    def wait_volumes(self, spec, pod_name, pod_uid):
        """The PVCs (Bound) and Secrets of the pod: {volume name: object}."""
        warned = False
        while True:
            self.job()
            got, missing = {}, None
            for v in spec.get("volumes") or []:
                if "persistentVolumeClaim" in v:
                    claim = v["persistentVolumeClaim"]["claimName"]
                    st, pvc = self.kube.request("GET", "/api/v1/namespaces/%s/persistentvolumeclaims/%s"
                                                % (self.ns, claim))
                    if st != 200 or (pvc.get("status") or {}).get("phase") != "Bound":
                        missing = 'persistentvolumeclaim "%s" not found or not bound' % claim
                        break
                    got[v["name"]] = pvc
                elif "secret" in v:
                    sname = v["secret"]["secretName"]
                    st, sec = self.kube.request("GET", "/api/v1/namespaces/%s/secrets/%s" % (self.ns, sname))
                    if st != 200:
                        missing = 'secret "%s" not found' % sname
                        break
                    got[v["name"]] = sec
                else:
                    missing = "volume %s: only persistentVolumeClaim and secret volumes are simulated" % v["name"]
                    break
            if missing is None and not os.path.exists(os.path.join(self.dir, "jobs-hold")):
                return got
            if missing and not warned:
                self.event("Pod", pod_name, pod_uid, "Warning", "FailedMount",
                           "MountVolume.SetUp failed: " + missing)
                log("job %s/%s: waiting: %s", self.ns, self.name, missing)
                warned = True
            time.sleep(0.2)

    def kubelet(self, job, pod_name, pod_uid, spec):
        containers = spec.get("containers") or []
        if len(containers) != 1:
            return 1, "job-sim: one container expected, got %d" % len(containers)
        c = containers[0]
        vols = self.wait_volumes(spec, pod_name, pod_uid)
        tmp = tempfile.mkdtemp(prefix="job-", dir=os.path.join(self.dir, "jobs"))
        try:
            return self.start(job, pod_name, pod_uid, spec, c, vols, tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def container(self, runner, c, spec, cmd, paths, kc):
        """The argv that runs the container itself, from its image, with a
        container engine (FERRY_JOB_RUNNER, e.g. podman), as a kubelet would:
        the pod's runAsUser/runAsGroup/fsGroup, the Secret at its mountPath
        (group fsGroup, mode 0440: what fsGroup does to a read-only volume), the
        PVC's directory (group fsGroup, g+rwx) or its image file as the device
        path, the kubeconfig with the ServiceAccount token, the host network
        (the apiserver listens on loopback), and FERRY_JOB_SOURCE_DIRS
        (colon-separated) read-only at their own paths: where the source
        Provider's files are (an OVA directory), as an NFS mount would be."""
        sc = spec.get("securityContext") or {}
        uid, gid = sc.get("runAsUser", 0), sc.get("runAsGroup", 0)
        fsgroup = sc.get("fsGroup")
        argv = [runner, "run", "--rm", "--network", "host", "--user", "%d:%d" % (uid, gid)]
        if fsgroup is not None:
            argv += ["--group-add", str(fsgroup)]
        mounts = {m["mountPath"]: m for m in c.get("volumeMounts") or []}
        for cpath, lpath in paths.items():
            ro = ":ro" if mounts.get(cpath, {}).get("readOnly") else ""
            if cpath not in mounts and not os.path.exists(lpath):
                open(lpath, "ab").close()    # a Block PVC: its "device"
            if fsgroup is not None:
                for n in tree(lpath):
                    os.chown(n, -1, fsgroup)
                    if ro:
                        os.chmod(n, 0o750 if os.path.isdir(n) else 0o440)
                    else:
                        os.chmod(n, os.stat(n).st_mode | (0o070 if os.path.isdir(n) else 0o060))
            argv += ["-v", "%s:%s%s" % (lpath, cpath, ro)]
        os.chown(kc, uid, gid)
        ca = os.environ["KUBE_CA"]
        ca_copy = os.path.join(os.path.dirname(kc), "ca.pem")
        shutil.copyfile(ca, ca_copy)
        os.chown(ca_copy, uid, gid)
        argv += ["-v", "%s:/var/run/ferry-job/kubeconfig:ro" % kc,
                 "-v", "%s:%s:ro" % (ca_copy, ca),
                 "-e", "KUBECONFIG=/var/run/ferry-job/kubeconfig"]
        for d in filter(None, os.environ.get("FERRY_JOB_SOURCE_DIRS", "").split(":")):
            argv += ["-v", "%s:%s:ro" % (d, d)]
        return argv + [c["image"]] + cmd

    def start(self, job, pod_name, pod_uid, spec, c, vols, tmp):
        paths = {}                       # container path -> local path
        nsdir = os.path.join(self.upload_dir, self.ns)
        os.makedirs(nsdir, mode=0o700, exist_ok=True)
        for m in c.get("volumeMounts") or []:
            obj = vols.get(m["name"])
            if obj is None:
                return 1, "job-sim: volumeMount %s: no such volume" % m["name"]
            if obj["kind"] == "Secret":
                vol = [v for v in spec["volumes"] if v["name"] == m["name"]][0]
                mode = vol["secret"].get("defaultMode", 0o644)
                local = os.path.join(tmp, "secret-" + m["name"])
                os.mkdir(local, 0o700)
                for k, b64 in (obj.get("data") or {}).items():
                    fd = os.open(os.path.join(local, k), os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
                    with os.fdopen(fd, "wb") as f:
                        f.write(base64.b64decode(b64))
                paths[m["mountPath"]] = local
            else:
                if obj["spec"].get("volumeMode", "Filesystem") != "Filesystem":
                    return 1, ("job-sim: volumeMounts of PVC %s whose volumeMode is Block "
                               "(a kubelet refuses it)" % obj["metadata"]["name"])
                local = os.path.join(nsdir, obj["metadata"]["name"] + ".fs")
                os.makedirs(local, mode=0o700, exist_ok=True)
                link = os.path.join(nsdir, obj["metadata"]["name"] + ".img")
                if not os.path.lexists(link):
                    os.symlink(os.path.join(obj["metadata"]["name"] + ".fs", "disk.img"), link)
                paths[m["mountPath"]] = local
        for d in c.get("volumeDevices") or []:
            obj = vols.get(d["name"])
            if obj is None or obj["kind"] != "PersistentVolumeClaim":
                return 1, "job-sim: volumeDevice %s: not a PVC volume" % d["name"]
            if obj["spec"].get("volumeMode") != "Block":
                return 1, ("job-sim: volumeDevices of PVC %s whose volumeMode is Filesystem "
                           "(a kubelet refuses it)" % obj["metadata"]["name"])
            paths[d["devicePath"]] = os.path.join(nsdir, obj["metadata"]["name"] + ".img")

        def local(arg):
            for cpath, lpath in paths.items():
                if arg == cpath:
                    return lpath
                if arg.startswith(cpath + "/"):
                    return lpath + arg[len(cpath):]
            return arg

        cmd = list(c.get("command") or []) + list(c.get("args") or [])
        binary = os.environ.get("FERRY_JOB_BINARY")
        runner = os.environ.get("FERRY_JOB_RUNNER")
        if not cmd or cmd[0] != "ferry":
            return 1, "job-sim: the command must start with ferry: %s" % cmd
        if not binary and not runner:
            return 1, "job-sim: FERRY_JOB_BINARY is not set: cannot run the image's ferry"
        if not runner:
            argv = shlex.split(binary) + [local(a) for a in cmd[1:]]

        sa = spec.get("serviceAccountName") or "default"
        st, tr = self.kube.request("POST", "/api/v1/namespaces/%s/serviceaccounts/%s/token" % (self.ns, sa),
                                   {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                                    "spec": {"expirationSeconds": 3600}})
        if st // 100 != 2:
            return 1, "job-sim: token of ServiceAccount %s: HTTP %d: %s" % (sa, st, (tr or {}).get("message"))
        kubeconfig = {
            "apiVersion": "v1", "kind": "Config", "current-context": "pod",
            "clusters": [{"name": "c", "cluster": {"server": os.environ["KUBE_URL"],
                                                   "certificate-authority": os.environ["KUBE_CA"]}}],
            "users": [{"name": sa, "user": {"token": tr["status"]["token"]}}],
            "contexts": [{"name": "pod", "context": {"cluster": "c", "user": sa,
                                                      "namespace": self.ns}}],
        }
        kc = os.path.join(tmp, "kubeconfig")
        fd = os.open(kc, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(kubeconfig, f)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("KUBE_") and k not in ("KUBECONFIG", "FERRY_JOB_BINARY")}
        home = os.path.join(tmp, "home")
        os.mkdir(home, 0o700)
        env.update({"KUBECONFIG": kc, "HOME": home, "FERRY_STATE_DIR": os.path.join(tmp, "state")})
        if runner:
            argv = self.container(runner, c, spec, cmd, paths, kc)
        logdir = os.path.join(self.dir, "jobs", self.ns)
        os.makedirs(logdir, exist_ok=True)
        logpath = os.path.join(logdir, pod_name + ".log")
        self.pod_status(pod_name, {"phase": "Running", "startTime": now(),
                                   "containerStatuses": [{"name": c["name"], "image": c["image"],
                                                          "imageID": "", "ready": True,
                                                          "restartCount": 0,
                                                          "state": {"running": {"startedAt": now()}}}]})
        log("job %s/%s: running %s", self.ns, self.name, " ".join(shlex.quote(a) for a in argv))
        with open(logpath, "wb") as out:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, env=env, cwd=tmp,
                                    start_new_session=True)
            with WORKERS_LOCK:
                WORKERS.add(proc)
            try:
                while proc.poll() is None:
                    try:
                        self.job()
                    except Stop:
                        log("job %s/%s: deleted while running: killing the worker", self.ns, self.name)
                        raise
                    time.sleep(0.2)
            finally:
                if proc.poll() is None:
                    stop_worker(proc)
                with WORKERS_LOCK:
                    WORKERS.discard(proc)
        code = proc.returncode
        log("job %s/%s: pod %s exited %d", self.ns, self.name, pod_name, code)
        message = None
        if code != 0:
            with open(logpath, "rb") as f:
                tail = b"".join(f.read().splitlines(True)[-LOG_LINES:])[-LOG_BYTES:]
            message = tail.decode(errors="replace")
        return code, message


def bind_pvcs(kube):
    """A CSI provisioner's part for the PVCs of transfer: job."""
    for pvc in kube.get("/api/v1/persistentvolumeclaims?labelSelector=" + SELECTOR)["items"]:
        md = pvc["metadata"]
        if (pvc.get("status") or {}).get("phase") == "Bound" or md.get("deletionTimestamp"):
            continue
        if any(o.get("kind") == "DataVolume" for o in md.get("ownerReferences") or []):
            continue                     # cdi-sim's
        kube.merge_patch("/api/v1/namespaces/%s/persistentvolumeclaims/%s/status"
                         % (md["namespace"], md["name"]),
                         {"status": {"phase": "Bound", "accessModes": pvc["spec"]["accessModes"],
                                     "capacity": {"storage": pvc["spec"]["resources"]["requests"]["storage"]}}})
        log("pvc %s/%s: Bound", md["namespace"], md["name"])


def collect_pods(kube, job_uids):
    """The garbage collector's part: Pods whose Job is gone are deleted."""
    for pod in kube.get("/api/v1/pods?labelSelector=" + SELECTOR)["items"]:
        md = pod["metadata"]
        owners = [o["uid"] for o in md.get("ownerReferences") or [] if o.get("kind") == "Job"]
        if owners and not any(u in job_uids for u in owners) and not md.get("deletionTimestamp"):
            kube.request("DELETE", "/api/v1/namespaces/%s/pods/%s" % (md["namespace"], md["name"]))
            log("pod %s/%s: deleted (its Job is gone)", md["namespace"], md["name"])


def finished(job):
    return any(c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
               for c in (job.get("status") or {}).get("conditions") or [])


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: job-sim.py DIR")
    d = os.path.abspath(sys.argv[1])
    os.makedirs(os.path.join(d, "jobs"), mode=0o700, exist_ok=True)
    kube = Kube(os.environ["KUBE_URL"], os.environ["KUBE_TOKEN"], os.environ["KUBE_CA"])
    def on_term(*_):
        with WORKERS_LOCK:
            for proc in list(WORKERS):
                stop_worker(proc)
        os._exit(0)
    signal.signal(signal.SIGTERM, on_term)
    running = {}                         # Job uid -> thread
    log("watching Jobs labelled app.kubernetes.io/created-by=ferry")
    while True:
        try:
            bind_pvcs(kube)
            jobs = kube.get(BATCH + "/jobs?labelSelector=" + SELECTOR)["items"]
            collect_pods(kube, {j["metadata"]["uid"] for j in jobs})
            for job in jobs:
                uid = job["metadata"]["uid"]
                if uid in running or finished(job) or job["metadata"].get("deletionTimestamp"):
                    continue
                t = threading.Thread(target=JobRunner(kube, d, job).run, daemon=True)
                running[uid] = t
                t.start()
        except Exception as e:          # the apiserver went away: retry
            log("job-sim: %s", e)
        time.sleep(0.2)


if __name__ == "__main__":
    main()
