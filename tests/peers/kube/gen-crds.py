#!/usr/bin/env python3
"""Generate the CustomResourceDefinitions the kube peer installs.

  gen-crds.py KUBEVIRT-SWAGGER CDI-SWAGGER > crds.json

Prints a v1 List of apiextensions.k8s.io/v1 CustomResourceDefinitions whose
structural schemas come from the published OpenAPI 2 definitions of KubeVirt
and CDI, so the real apiserver validates (and prunes) objects as a cluster
with KubeVirt and CDI installed does:

  kubevirt.io/v1          VirtualMachine, VirtualMachineInstance
  cdi.kubevirt.io/v1beta1 DataVolume, CDIConfig (cluster-scoped),
                          StorageProfile (cluster-scoped; not in the swagger,
                          hand-written below)
  k8s.cni.cncf.io/v1      NetworkAttachmentDefinition (not in the swagger,
                          hand-written from its public definition)

OpenAPI 2 -> structural schema: $refs are resolved and inlined; what a
structural schema forbids is dropped (descriptions to keep the objects small,
defaults, patch strategies, list/map types, additionalProperties beside
properties); type lists become nullable ("null") or int-or-string (Quantity,
IntOrString, ports); RawExtension and nested ObjectMeta keep unknown fields;
the root metadata stays {type: object} as the apiserver requires; a
recursive reference, or one deeper than MAX_DEPTH, becomes an object that
keeps unknown fields.  Every CRD has the status subresource.
"""
import json
import sys

MAX_DEPTH = 40
INT_OR_STRING = {
    "x-kubernetes-int-or-string": True,
    "anyOf": [{"type": "integer"}, {"type": "string"}],
}
FREE_OBJECT = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
KEPT = ("type", "format", "enum", "nullable", "pattern", "minimum", "maximum",
        "minLength", "maxLength", "minItems", "maxItems")


class Converter:
    def __init__(self, definitions):
        self.defs = definitions

    def special(self, name):
        """The schema of a definition that cannot be converted generically."""
        short = name.rsplit(".", 1)[-1]
        if name.endswith("api.resource.Quantity") or name == "resource.Quantity":
            return dict(INT_OR_STRING)
        if name.endswith("util.intstr.IntOrString"):
            return dict(INT_OR_STRING)
        if short == "RawExtension":
            return dict(FREE_OBJECT)
        if short == "ObjectMeta":   # nested (templates): kept whole
            return dict(FREE_OBJECT)
        return None

    def convert(self, schema, stack):
        if "$ref" in schema:
            name = schema["$ref"].split("/")[-1]
            out = self.special(name)
            if out is not None:
                return out
            if name in stack or len(stack) >= MAX_DEPTH:
                return dict(FREE_OBJECT)
            if name not in self.defs:
                raise SystemExit("gen-crds: unresolved $ref %s" % name)
            return self.convert(self.defs[name], stack + (name,))
        out = {}
        for key in KEPT:
            if key in schema:
                out[key] = schema[key]
        kind = schema.get("type")
        if isinstance(kind, list):
            kinds = [k for k in kind if k != "null"]
            if "null" in kind:
                out["nullable"] = True
            if "string" in kinds and ("integer" in kinds or "number" in kinds):
                out.pop("type")
                out.pop("format", None)
                out.update(INT_OR_STRING)
                return out
            out["type"] = kinds[0]
        if out.get("format") == "int-or-string":
            out.pop("type", None)
            out.pop("format")
            out.update(INT_OR_STRING)
            return out
        if "properties" in schema:
            out["type"] = "object"
            out["properties"] = {k: self.convert(v, stack)
                                 for k, v in schema["properties"].items()}
            required = [r for r in schema.get("required", []) if r in out["properties"]]
            if required:
                out["required"] = required
        elif "additionalProperties" in schema:
            extra = schema["additionalProperties"]
            out["type"] = "object"
            if isinstance(extra, dict):
                out["additionalProperties"] = self.convert(extra, stack)
            elif extra:
                out["x-kubernetes-preserve-unknown-fields"] = True
        if "items" in schema:
            out["type"] = "array"
            out["items"] = self.convert(schema["items"], stack)
        if "type" not in out and "x-kubernetes-int-or-string" not in out:
            # An untyped schema accepts anything: say so structurally.
            out.update(FREE_OBJECT)
        return out

    def root(self, name):
        schema = self.convert(self.defs[name], (name,))
        schema["properties"]["metadata"] = {"type": "object"}
        return schema


def crd(group, version, kind, plural, schema, scope="Namespaced", short=()):
    names = {"kind": kind, "listKind": kind + "List", "plural": plural,
             "singular": kind.lower()}
    if short:
        names["shortNames"] = list(short)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "%s.%s" % (plural, group),
                     "labels": {"app.kubernetes.io/created-by": "ferry-kube-peer"}},
        "spec": {
            "group": group,
            "names": names,
            "scope": scope,
            "versions": [{
                "name": version, "served": True, "storage": True,
                "schema": {"openAPIV3Schema": schema},
                "subresources": {"status": {}},
            }],
        },
    }


def string_map():
    return {"type": "object", "additionalProperties": {"type": "string"}}


def claim_property_sets():
    return {"type": "array", "items": {"type": "object", "properties": {
        "accessModes": {"type": "array", "items": {"type": "string"}},
        "volumeMode": {"type": "string"},
    }}}


def storage_profile_schema():
    # CDI's StorageProfile (cdi.kubevirt.io/v1beta1), from its public Go types;
    # the swagger in ../shared/apis does not carry it.
    return {"type": "object", "properties": {
        "apiVersion": {"type": "string"}, "kind": {"type": "string"},
        "metadata": {"type": "object"},
        "spec": {"type": "object", "properties": {
            "claimPropertySets": claim_property_sets(),
            "cloneStrategy": {"type": "string"},
            "dataImportCronSourceFormat": {"type": "string"},
            "snapshotClass": {"type": "string"},
        }},
        "status": {"type": "object", "properties": {
            "storageClass": {"type": "string"},
            "provisioner": {"type": "string"},
            "claimPropertySets": claim_property_sets(),
            "cloneStrategy": {"type": "string"},
            "dataImportCronSourceFormat": {"type": "string"},
            "snapshotClass": {"type": "string"},
        }},
    }}


def nad_schema():
    # Multus NetworkAttachmentDefinition (k8s.cni.cncf.io/v1), as published
    # by the Network Plumbing Working Group: spec.config is a CNI JSON string.
    return {"type": "object", "properties": {
        "apiVersion": {"type": "string"}, "kind": {"type": "string"},
        "metadata": {"type": "object"},
        "spec": {"type": "object", "properties": {"config": {"type": "string"}}},
    }}


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: gen-crds.py KUBEVIRT-SWAGGER CDI-SWAGGER")
    with open(sys.argv[1]) as f:
        kubevirt = Converter(json.load(f)["definitions"])
    with open(sys.argv[2]) as f:
        cdi = Converter(json.load(f)["definitions"])
    items = [
        crd("kubevirt.io", "v1", "VirtualMachine", "virtualmachines",
            kubevirt.root("v1.VirtualMachine"), short=("vm", "vms")),
        crd("kubevirt.io", "v1", "VirtualMachineInstance", "virtualmachineinstances",
            kubevirt.root("v1.VirtualMachineInstance"), short=("vmi", "vmis")),
        crd("cdi.kubevirt.io", "v1beta1", "DataVolume", "datavolumes",
            cdi.root("v1beta1.DataVolume"), short=("dv", "dvs")),
        crd("cdi.kubevirt.io", "v1beta1", "CDIConfig", "cdiconfigs",
            cdi.root("v1beta1.CDIConfig"), scope="Cluster"),
        crd("cdi.kubevirt.io", "v1beta1", "StorageProfile", "storageprofiles",
            storage_profile_schema(), scope="Cluster"),
        crd("k8s.cni.cncf.io", "v1", "NetworkAttachmentDefinition",
            "network-attachment-definitions", nad_schema(), short=("net-attach-def",)),
    ]
    json.dump({"apiVersion": "v1", "kind": "List", "items": items}, sys.stdout,
              separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
