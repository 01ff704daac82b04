#!/usr/bin/env python3
"""A small Kubernetes API client for the kube peer and its tests (stdlib).

As a module: Kube(url, token, ca).request(method, path, body) -> (status, obj).
As a command (KUBE_URL, KUBE_TOKEN, KUBE_CA from the environment, so the
token never appears on a command line):

  kubeclient.py get PATH                 print the object; exit 1 unless 2xx
  kubeclient.py create PATH FILE|-       POST the JSON in FILE
  kubeclient.py request METHOD PATH [FILE|-]
                                         print "CODE" then the body; exit 0
  kubeclient.py apply FILE|-             create every object of a List (or
                                         one object), path from discovery;
                                         an existing object is left alone
  kubeclient.py wait-crds FILE           wait until the CRDs in FILE are
                                         Established
  kubeclient.py names SELECTOR PATH...  print "resource/name" of each item of
                                         the lists (SELECTOR: a label selector,
                                         or "" for all)
"""
import json
import os
import ssl
import sys
import time
import http.client
import urllib.parse


class KubeError(Exception):
    def __init__(self, status, obj):
        self.status = status
        self.obj = obj
        msg = obj.get("message") if isinstance(obj, dict) else None
        super().__init__("HTTP %d: %s" % (status, msg or obj))


class Kube:
    def __init__(self, url, token, ca):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port or 443
        self.token = token
        self.ctx = ssl.create_default_context(cafile=ca)

    def connect(self, timeout=60):
        return http.client.HTTPSConnection(self.host, self.port, context=self.ctx,
                                           timeout=timeout)

    def headers(self, content_type="application/json", token=None):
        return {"Authorization": "Bearer " + (token or self.token),
                "Accept": "application/json", "Content-Type": content_type}

    def request(self, method, path, body=None, content_type="application/json",
                token=None):
        """Returns (status, decoded JSON body or None)."""
        data = None if body is None else (body if isinstance(body, bytes)
                                          else json.dumps(body).encode())
        conn = self.connect()
        try:
            conn.request(method, path, body=data,
                         headers=self.headers(content_type, token))
            resp = conn.getresponse()
            raw = resp.read()
        finally:
            conn.close()
        try:
            obj = json.loads(raw) if raw else None
        except ValueError:
            obj = {"message": raw.decode(errors="replace")}
        return resp.status, obj

    def ok(self, method, path, body=None, content_type="application/json"):
        status, obj = self.request(method, path, body, content_type)
        if status // 100 != 2:
            raise KubeError(status, obj)
        return obj

    def get(self, path):
        return self.ok("GET", path)

    def merge_patch(self, path, body):
        return self.ok("PATCH", path, body, "application/merge-patch+json")

    def watch(self, path, timeout):
        """Yields watch events of PATH (a list URL with ?watch=1...) until the
        server ends the stream (timeoutSeconds) or it breaks."""
        conn = self.connect(timeout=timeout + 30)
        try:
            conn.request("GET", path, headers=self.headers())
            resp = conn.getresponse()
            if resp.status != 200:
                raise KubeError(resp.status, resp.read().decode(errors="replace"))
            while True:
                line = resp.readline()
                if not line:
                    return
                if line.strip():
                    yield json.loads(line)
        finally:
            conn.close()

    def resource_path(self, obj):
        """The collection URL of OBJ from discovery (cached per group/version)."""
        api_version, kind = obj["apiVersion"], obj["kind"]
        cache = self.__dict__.setdefault("_discovery", {})
        if api_version not in cache:
            base = "/api/v1" if api_version == "v1" else "/apis/" + api_version
            cache[api_version] = (base, self.get(base)["resources"])
        base, resources = cache[api_version]
        for r in resources:
            if r["kind"] == kind and "/" not in r["name"]:
                ns = obj.get("metadata", {}).get("namespace")
                if r["namespaced"]:
                    return "%s/namespaces/%s/%s" % (base, ns or "default", r["name"])
                return "%s/%s" % (base, r["name"])
        raise SystemExit("kubeclient: no resource for kind %s in %s" % (kind, api_version))


def from_env():
    try:
        return Kube(os.environ["KUBE_URL"], os.environ["KUBE_TOKEN"], os.environ["KUBE_CA"])
    except KeyError as e:
        raise SystemExit("kubeclient: %s is not set (source the peer's env file)" % e)


def read_json(name):
    if name == "-":
        return json.load(sys.stdin)
    with open(name) as f:
        return json.load(f)


def items_of(doc):
    return doc["items"] if doc.get("kind") == "List" else [doc]


def main(argv):
    if not argv:
        raise SystemExit(__doc__)
    kube, cmd = from_env(), argv[0]
    if cmd == "get" and len(argv) == 2:
        status, obj = kube.request("GET", argv[1])
        print(json.dumps(obj, indent=1))
        return 0 if status // 100 == 2 else 1
    if cmd == "create" and len(argv) == 3:
        status, obj = kube.request("POST", argv[1], read_json(argv[2]))
        print(json.dumps(obj, indent=1))
        return 0 if status // 100 == 2 else 1
    if cmd == "request" and len(argv) in (3, 4):
        body = read_json(argv[3]) if len(argv) == 4 else None
        ctype = "application/merge-patch+json" if argv[1] == "PATCH" else "application/json"
        status, obj = kube.request(argv[1], argv[2], body, ctype)
        print(status)
        print(json.dumps(obj, indent=1))
        return 0
    if cmd == "apply" and len(argv) == 2:
        for obj in items_of(read_json(argv[1])):
            status, res = kube.request("POST", kube.resource_path(obj), obj)
            if status == 409:
                continue
            if status // 100 != 2:
                sys.stderr.write("kubeclient: create %s %s: HTTP %d: %s\n" % (
                    obj["kind"], obj["metadata"].get("name"), status,
                    (res or {}).get("message")))
                return 1
        return 0
    if cmd == "wait-crds" and len(argv) == 2:
        for obj in items_of(read_json(argv[1])):
            path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/" + obj["metadata"]["name"]
            for _ in range(300):
                conds = (kube.get(path).get("status") or {}).get("conditions") or []
                if any(c["type"] == "Established" and c["status"] == "True" for c in conds):
                    break
                time.sleep(0.1)
            else:
                sys.stderr.write("kubeclient: CRD %s not Established\n" % obj["metadata"]["name"])
                return 1
        return 0
    if cmd == "names" and len(argv) >= 3:
        for path in argv[2:]:
            resource = path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
            if argv[1]:
                path += ("&" if "?" in path else "?") + "labelSelector=" + urllib.parse.quote(argv[1])
            for item in kube.get(path)["items"]:
                print("%s/%s" % (resource, item["metadata"]["name"]))
        return 0
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
