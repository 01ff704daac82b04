#!/usr/bin/env python3
"""Regenerate data/schemas/*.json from Forklift's CRDs.

Usage: data/schemas/update-schemas.py ../shared/apis/forklift-crds

Keeps, per kind, only what ferry validates against: the group, version,
names, printer columns and the openAPIV3Schema.  The schemas are Forklift's
API definition (Apache-2.0, see README.md here); ferry reads them as data.
"""
import json
import os
import sys

import yaml

src = sys.argv[1]
out = os.path.dirname(os.path.abspath(__file__))
for fn in sorted(os.listdir(src)):
    if not fn.endswith(".yaml"):
        continue
    with open(os.path.join(src, fn)) as f:
        crd = yaml.safe_load(f)
    spec = crd["spec"]
    ver = [v for v in spec["versions"] if v.get("served")][0]
    doc = {
        "group": spec["group"],
        "version": ver["name"],
        "kind": spec["names"]["kind"],
        "plural": spec["names"]["plural"],
        "singular": spec["names"]["singular"],
        "shortNames": spec["names"].get("shortNames", []),
        "printerColumns": ver.get("additionalPrinterColumns", []),
        "schema": ver["schema"]["openAPIV3Schema"],
    }
    name = spec["names"]["kind"].lower() + ".json"
    with open(os.path.join(out, name), "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")
    print(name)
