#!/usr/bin/env python3
"""Plays CDI's part beside the real kube-apiserver of the kube peer (stdlib).

  cdi-sim.py DIR        (KUBE_URL, KUBE_TOKEN (admin), KUBE_CA in the environment)

Three parts in one process; all talk to the real apiserver with the admin
token, as CDI's controller does with its service account:

controller   watches DataVolumes in every namespace.  For a DataVolume with
             spec.source.upload (or blank) it creates the PVC of the same
             name (labels copied, ownerReference to the DataVolume, size,
             access and volume mode from spec.pvc or spec.storage plus the
             StorageProfile), PATCHes the PVC status to Bound and moves the
             DataVolume through Pending -> UploadScheduled -> UploadReady
             with CDI's conditions (Bound, Running, Ready) and Events.  After
             an upload it sets phase Succeeded and the PVC annotation
             cdi.kubevirt.io/storage.pod.phase=Succeeded.  It sets CDIConfig
             "config" status.uploadProxyURL at start.  As the garbage
             collector of a real cluster would, it deletes PVCs whose owning
             DataVolume is gone (and their upload files); as the
             pvc-protection controller would (no pod uses a PVC here), it
             removes that finalizer from deleted PVCs.
token API    the stand-in of CDI's aggregated upload.cdi.kubevirt.io/v1beta1
             (HTTPS): POST .../namespaces/NS/uploadtokenrequests.  The
             caller's bearer token is checked the way an aggregated API
             server delegates: a TokenReview, then a SubjectAccessReview for
             create uploadtokenrequests.upload.cdi.kubevirt.io in NS, both
             answered by the real apiserver (RBAC).  The PVC must exist.  It
             answers 201 with status.token: an HS256-signed token bound to
             NS/PVC, valid 5 minutes.
upload proxy (HTTPS) POST /v1beta1/upload and /v1beta1/upload-async with
             "Authorization: Bearer <upload token>"; body by Content-Length
             or chunked.  The DataVolume must be UploadReady; the image must
             fit the PVC.  Bytes go to DIR/uploads/NS/PVC.img (zero blocks
             left as holes); 200 only after the last byte is on disk.  Sync:
             the DataVolume is Succeeded before the 200; async: after it.

Fault injection and statistics (plain HTTP on loopback, PEER_CTL):
  POST /faults {"upload_drop_after": N, "upload_status": 500,
                "token_status": 500, "ready_delay": SECONDS, "count": K}
        the next K (default 1) uploads / token requests / DataVolumes get
        the fault; a dropped upload closes the connection after N bytes.
  GET /stats    uploads (ns, pvc, bytes, outcome, chunked, async), token
                requests (ns, pvc, code), delayed DataVolumes (ns, dv, seconds)
  POST /reset   clears faults and statistics
Writes DIR/sim.json (the three URLs) once it listens; logs to stdout.
"""
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import socket
import ssl
import sys
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kubeclient import Kube, KubeError  # noqa: E402

CDI = "/apis/cdi.kubevirt.io/v1beta1"
TOKEN_KEY = secrets.token_bytes(32)
BLOCK = 1 << 20
DONE = ("UploadReady", "Succeeded", "Failed")   # phases the controller leaves alone
PVC_PROTECTION = "kubernetes.io/pvc-protection"
FS_OVERHEAD = 0.055          # CDI's default global filesystem overhead


def log(fmt, *args):
    sys.stdout.write(time.strftime("%H:%M:%S ") + (fmt % args) + "\n")
    sys.stdout.flush()


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def quantity(q):
    """Bytes of a Kubernetes quantity (integers and the usual suffixes)."""
    if isinstance(q, int):
        return q
    m = re.fullmatch(r"([0-9.]+)([KMGTPE]i?|k|m)?", str(q))
    if not m:
        raise ValueError("bad quantity %r" % q)
    mult = {None: 1, "k": 1000, "K": 1000, "M": 1000**2, "G": 1000**3, "T": 1000**4,
            "P": 1000**5, "E": 1000**6, "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3,
            "Ti": 1024**4, "Pi": 1024**5, "Ei": 1024**6, "m": 0.001}[m.group(2)]
    return int(float(m.group(1)) * mult)


class State:
    """Faults and statistics; one lock guards both."""

    def __init__(self):
        self.lock = threading.Lock()
        self.faults = {}
        self.stats = {"uploads": [], "tokens": [], "delays": []}

    def take(self, name):
        """The value of fault NAME if it applies to this request (and use it up)."""
        with self.lock:
            f = self.faults.get(name)
            if not f:
                return None
            f["count"] -= 1
            if f["count"] <= 0:
                del self.faults[name]
            return f["value"]

    def set_faults(self, body):
        count = int(body.pop("count", 1))
        with self.lock:
            for k, v in body.items():
                self.faults[k] = {"value": v, "count": count}

    def record(self, kind, entry):
        with self.lock:
            self.stats[kind].append(entry)


class Controller:
    def __init__(self, kube, upload_dir, proxy_url, proxy_ca):
        self.kube = kube
        self.upload_dir = upload_dir
        self.proxy_url = proxy_url
        self.proxy_ca = proxy_ca
        self.lock = threading.Lock()      # serialises reconciles
        self.not_before = {}              # DataVolume uid -> time it may go UploadReady
        self.state = None

    # --- helpers
    def event(self, obj, kind, etype, reason, message):
        md = obj["metadata"]
        ev = {
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"generateName": md["name"] + ".", "namespace": md["namespace"]},
            "involvedObject": {"apiVersion": obj["apiVersion"], "kind": kind,
                               "name": md["name"], "namespace": md["namespace"],
                               "uid": md["uid"]},
            "type": etype, "reason": reason, "message": message,
            "firstTimestamp": now(), "lastTimestamp": now(), "count": 1,
            "source": {"component": "cdi-sim"},
        }
        status, _ = self.kube.request("POST", "/api/v1/namespaces/%s/events" % md["namespace"], ev)
        if status // 100 != 2:
            log("event %s on %s/%s: HTTP %d", reason, md["namespace"], md["name"], status)

    def dv_status(self, ns, name, phase, conds, progress="N/A", extra=None):
        def cond(t, s, reason, msg=""):
            # Empty reason/message are left out, as CDI's omitempty does (the
            # peer's apiserver build also refuses "" in a CR's string field).
            c = {"type": t, "status": s, "reason": reason, "message": msg,
                 "lastTransitionTime": now(), "lastHeartbeatTime": now()}
            return {k: v for k, v in c.items() if v != ""}
        body = {"status": {"phase": phase, "progress": progress,
                           "conditions": [cond(*c) for c in conds]}}
        if extra:
            body["status"].update(extra)
        self.kube.merge_patch("%s/namespaces/%s/datavolumes/%s/status" % (CDI, ns, name), body)
        log("datavolume %s/%s: %s", ns, name, phase)

    def storage_class(self, name):
        if name:
            status, sc = self.kube.request("GET", "/apis/storage.k8s.io/v1/storageclasses/" + name)
            return sc if status == 200 else None
        for sc in self.kube.get("/apis/storage.k8s.io/v1/storageclasses")["items"]:
            ann = sc["metadata"].get("annotations") or {}
            if ann.get("storageclass.kubernetes.io/is-default-class") == "true":
                return sc
        return None

    def pvc_spec(self, dv, sc):
        """The PVC spec CDI derives from spec.pvc, or spec.storage + StorageProfile."""
        spec = dv["spec"]
        if "pvc" in spec:
            out = json.loads(json.dumps(spec["pvc"]))
            out["storageClassName"] = sc["metadata"]["name"]
            return out
        st = spec.get("storage") or {}
        status, prof = self.kube.request("GET", "%s/storageprofiles/%s" % (CDI, sc["metadata"]["name"]))
        sets = ((prof or {}).get("status") or {}).get("claimPropertySets") or [{}] if status == 200 else [{}]
        access = st.get("accessModes") or sets[0].get("accessModes") or ["ReadWriteOnce"]
        mode = st.get("volumeMode") or sets[0].get("volumeMode") or "Filesystem"
        size = quantity(((st.get("resources") or {}).get("requests") or {}).get("storage", 0))
        if mode == "Filesystem":
            size = int(size / (1 - FS_OVERHEAD)) + 1
            size = (size + 1023) // 1024 * 1024
        return {"accessModes": access, "volumeMode": mode,
                "storageClassName": sc["metadata"]["name"],
                "resources": {"requests": {"storage": str(size)}}}

    # --- reconcile one DataVolume
    def reconcile(self, dv):
        with self.lock:
            try:
                self._reconcile(dv)
            except KubeError as e:
                if e.status not in (404, 409):   # gone or changed meanwhile: the next event says
                    log("reconcile %s/%s: %s", dv["metadata"].get("namespace"),
                        dv["metadata"].get("name"), e)
            except Exception:
                log("reconcile: %s", traceback.format_exc())

    def _reconcile(self, dv):
        # Events can be older than our own last status write: act on the
        # object as it is now.
        dv = self.kube.get("%s/namespaces/%s/datavolumes/%s" % (
            CDI, dv["metadata"]["namespace"], dv["metadata"]["name"]))
        md, spec = dv["metadata"], dv.get("spec") or {}
        ns, name = md["namespace"], md["name"]
        phase = (dv.get("status") or {}).get("phase", "")
        if md.get("deletionTimestamp") or phase in DONE:
            return
        source = spec.get("source") or {}
        if "upload" not in source and "blank" not in source:
            if phase != "Pending":
                self.dv_status(ns, name, "Pending", [("Bound", "False", "Unsupported",
                               "kube peer: only upload and blank sources are simulated")])
            return
        class_name = (spec.get("pvc") or spec.get("storage") or {}).get("storageClassName")
        sc = self.storage_class(class_name)
        if sc is None:
            what = 'storageclass.storage.k8s.io "%s" not found' % class_name if class_name \
                else "no default StorageClass"
            if phase != "Pending":
                self.dv_status(ns, name, "Pending", [("Bound", "False", "Pending", what),
                                                    ("Ready", "False", "", ""),
                                                    ("Running", "False", "", "")])
                self.event(dv, "DataVolume", "Warning", "ErrClaimNotValid", what)
            return
        pvc_path = "/api/v1/namespaces/%s/persistentvolumeclaims/%s" % (ns, name)
        status, pvc = self.kube.request("GET", pvc_path)
        if status == 404:
            pvc_body = {
                "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {
                    "name": name, "namespace": ns, "labels": md.get("labels") or {},
                    "annotations": {"cdi.kubevirt.io/storage.contentType":
                                    spec.get("contentType") or "kubevirt",
                                    "cdi.kubevirt.io/storage.upload.target": ""
                                    if "upload" in source else None},
                    "ownerReferences": [{"apiVersion": "cdi.kubevirt.io/v1beta1",
                                         "kind": "DataVolume", "name": name,
                                         "uid": md["uid"], "controller": True,
                                         "blockOwnerDeletion": True}],
                },
                "spec": self.pvc_spec(dv, sc),
            }
            pvc_body["metadata"]["annotations"] = {
                k: v for k, v in pvc_body["metadata"]["annotations"].items() if v is not None}
            status, pvc = self.kube.request("POST", "/api/v1/namespaces/%s/persistentvolumeclaims" % ns,
                                            pvc_body)
            if status == 409:
                return      # a PVC of that name appeared meanwhile: the next event says
            if status // 100 != 2:
                msg = (pvc or {}).get("message", "HTTP %d" % status)
                self.dv_status(ns, name, "Pending", [("Bound", "False", "ErrClaimNotValid", msg)])
                self.event(dv, "DataVolume", "Warning", "ErrClaimNotValid", msg)
                return
            self.dv_status(ns, name, "Pending", [("Bound", "False", "Pending", "PVC %s Pending" % name),
                                                ("Ready", "False", "", ""),
                                                ("Running", "False", "", "")],
                           extra={"claimName": name})
            self.event(dv, "DataVolume", "Normal", "Pending", "PVC %s Pending" % name)
        owners = [o.get("uid") for o in pvc["metadata"].get("ownerReferences") or []]
        if md["uid"] not in owners:
            msg = "Resource %s already exists and is not managed by DataVolume" % name
            self.dv_status(ns, name, "Pending", [("Bound", "False", "ErrResourceExists", msg)])
            self.event(dv, "DataVolume", "Warning", "ErrResourceExists", msg)
            return
        if (pvc.get("status") or {}).get("phase") != "Bound":
            req = pvc["spec"]["resources"]["requests"]["storage"]
            self.kube.merge_patch(pvc_path + "/status", {"status": {
                "phase": "Bound", "accessModes": pvc["spec"].get("accessModes"),
                "capacity": {"storage": req}}})
            log("pvc %s/%s: Bound", ns, name)
        if "blank" in source:
            self.dv_status(ns, name, "Succeeded", [("Bound", "True", "Bound", ""),
                                                  ("Ready", "True", "", ""),
                                                  ("Running", "False", "Completed", "")], "100.0%")
            return
        key = md["uid"]
        if key not in self.not_before:
            delay = self.state.take("ready_delay")
            self.not_before[key] = time.time() + float(delay or 0)
            if delay:
                self.state.record("delays", {"ns": ns, "dv": name, "seconds": float(delay)})
        if time.time() < self.not_before[key]:
            if phase != "UploadScheduled":
                self.dv_status(ns, name, "UploadScheduled", [("Bound", "True", "Bound", "PVC %s Bound" % name),
                                                             ("Ready", "False", "", ""),
                                                             ("Running", "False", "Pending", "")])
            return
        self.dv_status(ns, name, "UploadReady", [("Bound", "True", "Bound", "PVC %s Bound" % name),
                                                 ("Ready", "False", "", ""),
                                                 ("Running", "True", "Pod is running", "")])
        self.event(dv, "DataVolume", "Normal", "UploadReady", "Upload into %s ready" % name)

    def upload_done(self, ns, name):
        with self.lock:
            try:
                self.kube.merge_patch("/api/v1/namespaces/%s/persistentvolumeclaims/%s" % (ns, name),
                                      {"metadata": {"annotations": {
                                          "cdi.kubevirt.io/storage.pod.phase": "Succeeded"}}})
                self.dv_status(ns, name, "Succeeded", [("Bound", "True", "Bound", "PVC %s Bound" % name),
                                                       ("Ready", "True", "", ""),
                                                       ("Running", "False", "Completed", "")], "100.0%")
                status, dv = self.kube.request("GET", "%s/namespaces/%s/datavolumes/%s" % (CDI, ns, name))
                if status == 200:
                    self.event(dv, "DataVolume", "Normal", "UploadSucceeded",
                               "Successfully uploaded into %s" % name)
            except KubeError as e:
                log("upload done %s/%s: %s", ns, name, e)

    # --- garbage collection (a real cluster's kube-controller-manager does it)
    def collect(self, dv_uids):
        pvcs = self.kube.get("/api/v1/persistentvolumeclaims")["items"]
        alive = set()
        for pvc in pvcs:
            md = pvc["metadata"]
            alive.add((md["namespace"], md["name"]))
            fin = md.get("finalizers") or []
            if md.get("deletionTimestamp") and PVC_PROTECTION in fin:
                # No pod ever uses a PVC here: release it as the
                # pvc-protection controller would.
                self.kube.request("PATCH", "/api/v1/namespaces/%s/persistentvolumeclaims/%s"
                                  % (md["namespace"], md["name"]),
                                  {"metadata": {"finalizers": [f for f in fin if f != PVC_PROTECTION],
                                                "resourceVersion": md["resourceVersion"]}},
                                  "application/merge-patch+json")
                continue
            owners = [o for o in md.get("ownerReferences") or [] if o.get("kind") == "DataVolume"]
            if owners and not any(o["uid"] in dv_uids for o in owners) and not md.get("deletionTimestamp"):
                self.kube.request("DELETE", "/api/v1/namespaces/%s/persistentvolumeclaims/%s"
                                  % (md["namespace"], md["name"]))
                alive.discard((md["namespace"], md["name"]))
                log("pvc %s/%s: deleted (its DataVolume is gone)", md["namespace"], md["name"])
        for ns in os.listdir(self.upload_dir):
            for f in os.listdir(os.path.join(self.upload_dir, ns)):
                if f.endswith(".img") and (ns, f[:-4]) not in alive:
                    os.unlink(os.path.join(self.upload_dir, ns, f))

    def set_cdi_config(self):
        path = CDI + "/cdiconfigs/config"
        status, _ = self.kube.request("GET", path)
        if status == 404:
            self.kube.ok("POST", CDI + "/cdiconfigs", {
                "apiVersion": "cdi.kubevirt.io/v1beta1", "kind": "CDIConfig",
                "metadata": {"name": "config"}, "spec": {}})
        self.kube.merge_patch(path + "/status", {"status": {
            "uploadProxyURL": self.proxy_url, "uploadProxyCA": self.proxy_ca,
            "filesystemOverhead": {"global": str(FS_OVERHEAD)}}})

    def run(self):
        self.set_cdi_config()
        while True:
            try:
                lst = self.kube.get(CDI + "/datavolumes")
                for dv in lst["items"]:
                    if (dv.get("status") or {}).get("phase") not in DONE:
                        self.reconcile(dv)
                self.collect({dv["metadata"]["uid"] for dv in lst["items"]})
                rv = lst["metadata"]["resourceVersion"]
                for ev in self.kube.watch(CDI + "/datavolumes?watch=1&timeoutSeconds=1&resourceVersion=" + rv, 1):
                    phase = (ev["object"].get("status") or {}).get("phase")
                    if ev["type"] in ("ADDED", "MODIFIED") and phase not in DONE:
                        self.reconcile(ev["object"])
            except Exception as e:      # the apiserver went away or a watch broke: retry
                log("controller: %s", e)
                time.sleep(0.5)


# --- upload tokens (HS256, JWT-shaped)
def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def make_token(ns, pvc):
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps({"namespace": ns, "pvcName": pvc, "iat": int(time.time()),
                           "exp": int(time.time()) + 300}).encode())
    sig = b64(hmac.new(TOKEN_KEY, ("%s.%s" % (head, body)).encode(), hashlib.sha256).digest())
    return "%s.%s.%s" % (head, body, sig)


def check_token(token):
    """(ns, pvc) the token is valid for, or None."""
    try:
        head, body, sig = token.split(".")
        want = b64(hmac.new(TOKEN_KEY, ("%s.%s" % (head, body)).encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(sig, want):
            return None
        claims = json.loads(unb64(body))
        if claims["exp"] < time.time():
            return None
        return claims["namespace"], claims["pvcName"]
    except (ValueError, KeyError):
        return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cdi-sim"

    def log_message(self, fmt, *args):
        log("%s %s", self.server.name, fmt % args)

    def reply(self, code, obj, close=False):
        data = json.dumps(obj).encode() if not isinstance(obj, bytes) else obj
        self.send_response(code)
        self.send_header("Content-Type", "application/json" if not isinstance(obj, bytes) else "text/plain")
        self.send_header("Content-Length", str(len(data)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data)

    def status(self, code, reason, message, close=False):
        self.reply(code, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                          "status": "Failure", "message": message, "reason": reason,
                          "code": code}, close)

    def bearer(self):
        auth = self.headers.get("Authorization", "")
        return auth[7:].strip() if auth.startswith("Bearer ") else None

    def drain(self):
        n = int(self.headers.get("Content-Length") or 0)
        while n > 0:
            got = self.rfile.read(min(n, BLOCK))
            if not got:
                break
            n -= len(got)


class TokenHandler(Handler):
    PATH = re.compile(r"^/apis/upload\.cdi\.kubevirt\.io/v1beta1/namespaces/([^/]+)/uploadtokenrequests/?$")

    def do_GET(self):
        if self.path.rstrip("/") in ("/apis/upload.cdi.kubevirt.io/v1beta1",):
            return self.reply(200, {"kind": "APIResourceList", "apiVersion": "v1",
                                    "groupVersion": "upload.cdi.kubevirt.io/v1beta1",
                                    "resources": [{"name": "uploadtokenrequests", "namespaced": True,
                                                   "kind": "UploadTokenRequest", "verbs": ["create"]}]})
        self.status(404, "NotFound", "the server could not find the requested resource")

    def do_POST(self):
        kube, st = self.server.kube, self.server.state
        m = self.PATH.match(urllib.parse.urlsplit(self.path).path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not m:
            return self.status(404, "NotFound", "the server could not find the requested resource")
        ns = m.group(1)
        token = self.bearer()
        try:
            body = json.loads(raw)
            pvc = body["spec"]["pvcName"]
            if body.get("kind") != "UploadTokenRequest" or not pvc:
                raise ValueError
        except (ValueError, KeyError, TypeError):
            return self.status(400, "BadRequest", "body must be an UploadTokenRequest with spec.pvcName")
        try:
            code = self.answer(kube, st, ns, pvc, token, body)
        except KubeError as e:
            code = 500
            self.status(500, "InternalError", "kube peer: asking the apiserver: %s" % e)
        st.record("tokens", {"ns": ns, "pvc": pvc, "code": code})

    def answer(self, kube, st, ns, pvc, token, body):
        if not token:
            self.status(401, "Unauthorized", "Unauthorized")
            return 401
        # Delegated authentication and authorization, as an aggregated API server does.
        review = kube.ok("POST", "/apis/authentication.k8s.io/v1/tokenreviews",
                         {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
                          "spec": {"token": token}})
        rs = review.get("status") or {}
        if not rs.get("authenticated"):
            self.status(401, "Unauthorized", "Unauthorized")
            return 401
        user = rs["user"]
        sar = kube.ok("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
            "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
            "spec": {"user": user.get("username"), "groups": user.get("groups"),
                     "uid": user.get("uid"), "extra": user.get("extra"),
                     "resourceAttributes": {"namespace": ns, "verb": "create",
                                            "group": "upload.cdi.kubevirt.io",
                                            "resource": "uploadtokenrequests"}}})
        if not (sar.get("status") or {}).get("allowed"):
            self.status(403, "Forbidden",
                        'uploadtokenrequests.upload.cdi.kubevirt.io is forbidden: User "%s" cannot '
                        'create resource "uploadtokenrequests" in API group "upload.cdi.kubevirt.io" '
                        'in the namespace "%s"' % (user.get("username"), ns))
            return 403
        fault = st.take("token_status")
        if fault:
            self.status(int(fault), "InternalError", "kube peer: injected token request failure")
            return int(fault)
        status, _ = kube.request("GET", "/api/v1/namespaces/%s/persistentvolumeclaims/%s" % (ns, pvc))
        if status != 200:
            self.status(404, "NotFound", 'persistentvolumeclaims "%s" not found' % pvc)
            return 404
        out = dict(body)
        out.setdefault("apiVersion", "upload.cdi.kubevirt.io/v1beta1")
        out["metadata"] = dict(body.get("metadata") or {}, namespace=ns,
                               creationTimestamp=None)
        out["status"] = {"token": make_token(ns, pvc)}
        self.reply(201, out)
        return 201


class UploadHandler(Handler):
    PATHS = {"/v1beta1/upload": False, "/v1beta1/upload-async": True,
             "/v1alpha1/upload": False, "/v1alpha1/upload-async": True}

    def do_GET(self):
        if self.path == "/healthz":
            return self.reply(200, b"OK")
        self.status(404, "NotFound", "not found")

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        if path not in self.PATHS:
            self.drain()
            return self.status(404, "NotFound", "not found")
        is_async = self.PATHS[path]
        entry = {"async": is_async, "chunked": False, "bytes": 0, "outcome": ""}
        try:
            self.upload(is_async, entry)
        finally:
            self.server.state.record("uploads", entry)
            log("upload %s", json.dumps(entry))

    def fail(self, entry, code, message):
        entry["outcome"] = "HTTP %d: %s" % (code, message)
        self.reply(code, message.encode() + b"\n", close=True)

    def upload(self, is_async, entry):
        kube, st, ctl = self.server.kube, self.server.state, self.server.controller
        target = check_token(self.bearer() or "")
        if not target:
            return self.fail(entry, 401, "invalid or expired upload token")
        ns, pvc_name = target
        entry.update(ns=ns, pvc=pvc_name)
        status, dv = kube.request("GET", "%s/namespaces/%s/datavolumes/%s" % (CDI, ns, pvc_name))
        phase = ((dv or {}).get("status") or {}).get("phase") if status == 200 else None
        if phase != "UploadReady":
            return self.fail(entry, 503, "upload server for %s/%s is not ready (DataVolume phase %s)"
                             % (ns, pvc_name, phase or "missing"))
        status, pvc = kube.request("GET", "/api/v1/namespaces/%s/persistentvolumeclaims/%s" % (ns, pvc_name))
        if status != 200:
            return self.fail(entry, 404, "persistentvolumeclaim %s/%s not found" % (ns, pvc_name))
        capacity = quantity(pvc["spec"]["resources"]["requests"]["storage"])
        fault = st.take("upload_status")
        if fault:
            return self.fail(entry, int(fault), "kube peer: injected upload failure")
        chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
        length = None if chunked else self.headers.get("Content-Length")
        entry["chunked"] = chunked
        if length is None and not chunked:
            return self.fail(entry, 411, "Content-Length or chunked encoding required")
        if length is not None:
            length = int(length)
            entry["content_length"] = length
            if length > capacity:
                return self.fail(entry, 400, "image of %d bytes is larger than the PVC (%d bytes)"
                                 % (length, capacity))
        drop_after = st.take("upload_drop_after")
        d = os.path.join(self.server.upload_dir, ns)
        os.makedirs(d, mode=0o700, exist_ok=True)
        final = os.path.join(d, pvc_name + ".img")
        part = final + ".part"
        started = time.time()
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            got = self.receive(fd, chunked, length, capacity, drop_after, entry)
            if got is None:
                os.unlink(part)
                return
            os.ftruncate(fd, got)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(part, final)
        entry["seconds"] = round(time.time() - started, 3)
        entry["outcome"] = "ok"
        if not is_async:
            ctl.upload_done(ns, pvc_name)
        self.reply(200, b"")
        if is_async:
            threading.Thread(target=ctl.upload_done, args=(ns, pvc_name), daemon=True).start()

    def receive(self, fd, chunked, length, capacity, drop_after, entry):
        """Writes the body to FD (holes for zero blocks); bytes, or None after answering."""
        zero = bytes(BLOCK)
        pos = 0

        def put(data):
            nonlocal pos
            if data == (zero if len(data) == BLOCK else bytes(len(data))):
                os.lseek(fd, len(data), os.SEEK_CUR)
            else:
                os.write(fd, data)
            pos += len(data)

        def pieces():
            if not chunked:
                left = length
                while left > 0:
                    data = self.rfile.read(min(left, BLOCK))
                    if not data:
                        raise EOFError("stream ended after %d of %d bytes" % (length - left, length))
                    left -= len(data)
                    yield data
                return
            while True:
                line = self.rfile.readline(1024)
                if not line:
                    raise EOFError("chunked stream ended without its last chunk")
                size = int(line.split(b";")[0].strip() or b"x", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return
                while size > 0:
                    data = self.rfile.read(min(size, BLOCK))
                    if not data:
                        raise EOFError("chunked stream ended inside a chunk")
                    size -= len(data)
                    yield data
                self.rfile.readline(1024)

        try:
            for data in pieces():
                if drop_after is not None and pos + len(data) >= int(drop_after):
                    put(data[:int(drop_after) - pos])
                    entry["bytes"] = pos
                    entry["outcome"] = "dropped (injected) after %d bytes" % pos
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return None
                if pos + len(data) > capacity:
                    entry["bytes"] = pos
                    self.fail(entry, 400, "image is larger than the PVC (%d bytes)" % capacity)
                    return None
                put(data)
        except (EOFError, ValueError, OSError) as e:
            entry["bytes"] = pos
            entry["outcome"] = "client stream broken: %s" % e
            self.close_connection = True
            return None
        entry["bytes"] = pos
        return pos


class CtlHandler(Handler):
    def do_GET(self):
        if self.path == "/stats":
            with self.server.state.lock:
                return self.reply(200, dict(self.server.state.stats, faults=self.server.state.faults))
        self.status(404, "NotFound", "not found")

    def do_POST(self):
        st = self.server.state
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/faults":
            try:
                st.set_faults(json.loads(raw or b"{}"))
            except (ValueError, TypeError) as e:
                return self.status(400, "BadRequest", str(e))
            return self.reply(200, {"faults": st.faults})
        if self.path == "/reset":
            with st.lock:
                st.faults.clear()
                st.stats = {"uploads": [], "tokens": [], "delays": []}
            return self.reply(200, {})
        self.status(404, "NotFound", "not found")


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A connection the proxy cut on purpose, or a client that went away.
        log("%s: connection from %s:%d ended: %s", self.name, client_address[0],
            client_address[1], sys.exc_info()[1])


def serve(name, handler, tls, shared):
    srv = Server(("127.0.0.1", 0), handler)
    srv.name = name
    for k, v in shared.items():
        setattr(srv, k, v)
    scheme = "http"
    if tls:
        srv.socket = tls.wrap_socket(srv.socket, server_side=True)
        scheme = "https"
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return "%s://127.0.0.1:%d" % (scheme, srv.server_address[1])


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: cdi-sim.py DIR")
    d = os.path.abspath(sys.argv[1])
    kube = Kube(os.environ["KUBE_URL"], os.environ["KUBE_TOKEN"], os.environ["KUBE_CA"])
    upload_dir = os.path.join(d, "uploads")
    os.makedirs(upload_dir, mode=0o700, exist_ok=True)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(os.path.join(d, "peer.crt"), os.path.join(d, "peer.key"))
    with open(os.path.join(d, "peer-ca.crt")) as f:
        peer_ca = f.read()
    state = State()
    ctl = Controller(kube, upload_dir, None, peer_ca)
    ctl.state = state
    shared = {"kube": kube, "state": state, "controller": ctl, "upload_dir": upload_dir}
    urls = {
        "upload_api_url": serve("token-api", TokenHandler, tls, shared),
        "upload_proxy_url": serve("upload-proxy", UploadHandler, tls, shared),
        "ctl_url": serve("ctl", CtlHandler, None, shared),
    }
    ctl.proxy_url = urls["upload_proxy_url"]
    ctl.set_cdi_config()
    tmp = os.path.join(d, "sim.json.tmp")
    with open(tmp, "w") as f:
        json.dump(urls, f)
    os.rename(tmp, os.path.join(d, "sim.json"))
    log("listening: %s", json.dumps(urls))
    ctl.run()


if __name__ == "__main__":
    main()
