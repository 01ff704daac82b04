/* ferry core: target names through the name-template library. */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ferry-template.h"
#include "instance.h"
#include "internal.h"
#include "naming.h"

char *
ferry_internal_target_vm_name (const char *name)
{
  if (ferry_template_is_dns1123_subdomain (name, NULL)) {
    char *r = strdup (name);
    if (!r)
      ferry_error_errno (errno, "target name of VM %s", name);
    return r;
  }
  char *r = ferry_template_vm_name (name, NULL, NULL, NULL, NULL);
  if (!r)
    ferry_error_errno (errno, "rename VM %s to a valid Kubernetes name", name);
  else
    ferry_info ("VM %s will be named %s (not a valid Kubernetes name)", name, r);
  return r;
}

static const char *
str (const json_t *o, const char *k)
{
  const char *s = json_string_value (json_object_get (o, k));
  return s ? s : "";
}

char *
ferry_internal_pvc_name (const json_t *plan, const json_t *plan_vm,
                         const json_t *vm_status, const json_t *disk,
                         size_t index)
{
  const json_t *pspec = json_object_get (plan, "spec");
  const char *text =
    ferry_template_get0_pvc_template (json_string_value (json_object_get (plan_vm, "pvcNameTemplate")),
                                      json_string_value (json_object_get (pspec, "pvcNameTemplate")),
                                      NULL);
  const char *vm = str (vm_status, "name");
  const char *target = *str (vm_status, "newName") ? str (vm_status, "newName") : vm;
  CLEANUP_FREE char *err = NULL, *out = NULL;

  struct ferry_template *t = ferry_template_parse ("pvc", text, &err);
  if (!t) {
    ferry_error ("pvcNameTemplate '%s' of VM %s: %s", text, vm, err);
    return NULL;
  }
  struct ferry_template_data *d = ferry_template_data_new (FERRY_TEMPLATE_KIND_PVC);
  if (!d
      || ferry_template_data_set_string (d, "VmName", vm) == -1
      || ferry_template_data_set_string (d, "TargetVmName", target) == -1
      || ferry_template_data_set_string (d, "PlanName", str (json_object_get (plan, "metadata"), "name")) == -1
      || ferry_template_data_set_string (d, "VmId", str (vm_status, "id")) == -1
      || ferry_template_data_set_int (d, "DiskIndex", (int64_t) index) == -1
      || ferry_template_data_set_int (d, "RootDiskIndex", 0) == -1
      || ferry_template_data_set_bool (d, "Shared", json_is_true (json_object_get (disk, "shared"))) == -1
      || ferry_template_data_set_string (d, "FileName", str (disk, "file")) == -1
      || ferry_template_data_set_string (d, "DiskId", str (disk, "id")) == -1) {
    ferry_error_errno (errno, "pvcNameTemplate of VM %s", vm);
    ferry_template_data_free (d);
    ferry_template_free (t);
    return NULL;
  }
  out = ferry_template_execute (t, d, &err);
  ferry_template_data_free (d);
  ferry_template_free (t);
  if (!out) {
    ferry_error ("pvcNameTemplate '%s' of VM %s, disk %zu: %s", text, vm, index, err);
    return NULL;
  }
  const char *reason = NULL;
  if (!ferry_template_is_dns1123_label (out, &reason)) {
    ferry_error ("pvcNameTemplate '%s' of VM %s, disk %zu gives '%s', which is not a "
                 "valid volume name: %s", text, vm, index, out, reason ? reason : "");
    return NULL;
  }
  if (json_is_true (json_object_get (pspec, "pvcNameTemplateUseGenerateName"))) {
    char *g = ferry_template_generate_name (out, NULL, NULL);
    if (!g)
      ferry_error_errno (errno, "generate a volume name from %s", out);
    return g;
  }
  return ferry_steal (&out);
}

/* The source provider's uid of a plan spec, or NULL after an error. */
static char *
plan_source_uid (struct ferry *f, const char *ns, const json_t *spec)
{
  const json_t *src = json_object_get (json_object_get (spec, "provider"), "source");
  const char *name = json_string_value (json_object_get (src, "name"));
  const char *sns = json_string_value (json_object_get (src, "namespace"));

  if (!name) {
    ferry_error ("plan in %s names no source provider", ns);
    return NULL;
  }
  return ferry_internal_provider_uid (f, sns ? sns : ns, name);
}

json_t *
ferry_plan_names (struct ferry *f, const char *ns, const char *plan)
{
  struct ferry_store_row row = { 0 };
  int r = ferry_internal_store_get (f->store, "Plan", ns, plan, &row);
  if (r != 1) {
    if (r == 0)
      ferry_error ("plan %s/%s does not exist", ns, plan);
    ferry_internal_store_row_clear (&row);
    return NULL;
  }
  CLEANUP_JSON_DECREF json_t *planobj =
    json_pack ("{s:{s:s, s:s}, s:O}", "metadata", "name", plan, "namespace", ns,
               "spec", row.spec);
  ferry_internal_store_row_clear (&row);
  const json_t *spec = json_object_get (planobj, "spec");
  CLEANUP_FREE char *uid = plan_source_uid (f, ns, spec);
  if (!uid)
    return NULL;

  json_t *rows = json_array ();
  const json_t *pvm;
  size_t i;
  json_array_foreach (json_object_get (spec, "vms"), i, pvm) {
    const char *key = json_string_value (json_object_get (pvm, "id"));
    if (!key)
      key = json_string_value (json_object_get (pvm, "name"));
    CLEANUP_JSON_DECREF json_t *doc =
      key ? ferry_internal_store_inv_get (f->store, uid, FERRY_INV_VM, key) : NULL;
    if (!doc) {
      json_array_append_new (rows, json_pack ("{s:s, s:s}", "vm", key ? key : "",
                                              "error", "not in the source inventory "
                                              "(ferry inventory refresh --provider ...)"));
      continue;
    }
    const char *name = str (doc, "name");
    const char *given = json_string_value (json_object_get (pvm, "targetName"));
    CLEANUP_FREE char *target = ferry_internal_target_vm_name (given && *given ? given : name);
    if (!target) {
      json_array_append_new (rows, json_pack ("{s:s, s:s}", "vm", name,
                                              "error", ferry_get_error ()));
      continue;
    }
    CLEANUP_JSON_DECREF json_t *vm_status =
      json_pack ("{s:s, s:s, s:s}", "id", str (doc, "id"), "name", name,
                 "newName", strcmp (target, name) ? target : "");
    const json_t *disk;
    size_t d;
    json_array_foreach (json_object_get (doc, "disks"), d, disk) {
      char *pvc = ferry_internal_pvc_name (planobj, pvm, vm_status, disk, d);
      json_array_append_new (rows, pvc
                             ? json_pack ("{s:s, s:s, s:I, s:s}", "vm", name, "targetName", target,
                                          "disk", (json_int_t) d, "pvcName", pvc)
                             : json_pack ("{s:s, s:s, s:I, s:s}", "vm", name, "targetName", target,
                                          "disk", (json_int_t) d, "error", ferry_get_error ()));
      free (pvc);
    }
  }
  return rows;
}
