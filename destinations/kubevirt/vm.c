/* ferry kubevirt destination: the VirtualMachine (kubevirt.io/v1), built
 * by the translation shared with the local module (destinations/common),
 * in its cluster form: volumes are the DataVolumes (the PVCs with
 * transfer: job), Forklift's labels and annotations.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "ferry/ferry.h"
#include "kubevirt.h"

static char *
vm_path (const char *ns, const char *name)
{
  DEST_CLEANUP_FREE char *en = kube_escape (ns), *ename = name ? kube_escape (name) : NULL;
  char *path = NULL;

  if (en == NULL || (name != NULL && ename == NULL) ||
      asprintf (&path, "/apis/kubevirt.io/v1/namespaces/%s/virtualmachines%s%s",
                en, name ? "/" : "", name ? ename : "") == -1) {
    ferry_error ("kubevirt: out of memory");
    return NULL;
  }
  return path;
}

/* Every multus network the VM uses must exist before the VM does. */
static int
check_networks (struct kv_handle *h, const json_t *spec, const char *vm_ns)
{
  const json_t *nic;
  size_t i;

  json_array_foreach (json_object_get (spec, "nics"), i, nic) {
    const json_t *t = json_object_get (nic, "target");
    const char *type = json_string_value (json_object_get (t, "type"));
    const char *name = json_string_value (json_object_get (t, "name"));
    const char *ns = json_string_value (json_object_get (t, "namespace"));

    if (type == NULL || strcmp (type, "multus") != 0 || name == NULL)
      continue;
    if (kv_check_nad (h, ns && ns[0] ? ns : vm_ns, name) == -1)
      return -1;
  }
  return 0;
}

/* transfer: job makes plain PVCs, no DataVolumes: each volume's
 * dataVolume {name} becomes persistentVolumeClaim {claimName}.
 */
static int
claims_not_datavolumes (json_t *vm)
{
  json_t *vols = json_object_get (json_object_get (json_object_get (json_object_get (vm, "spec"), "template"), "spec"), "volumes");
  json_t *v;
  size_t i;

  json_array_foreach (vols, i, v) {
    const char *name = json_string_value (json_object_get (json_object_get (v, "dataVolume"), "name"));
    if (name == NULL)
      continue;
    if (json_object_set_new (v, "persistentVolumeClaim",
                             json_pack ("{s:s}", "claimName", name)) == -1 ||
        json_object_del (v, "dataVolume") == -1) {
      ferry_error ("kubevirt: VirtualMachine volumes: out of memory");
      return -1;
    }
  }
  return 0;
}

int
kv_vm_create (void *handle, const json_t *spec, const json_t *volumes)
{
  struct kv_handle *h = handle;
  const struct kubevirt_vm_options opts = { .who = "kubevirt", .cluster = 1 };
  DEST_CLEANUP_JSON json_t *vm = kubevirt_vm_build (&opts, spec, volumes);
  DEST_CLEANUP_FREE char *path = NULL;
  const json_t *meta;
  const char *ns, *name;

  if (vm == NULL)
    return -1;
  if (h->transfer_job && claims_not_datavolumes (vm) == -1)
    return -1;
  meta = json_object_get (vm, "metadata");
  ns = json_string_value (json_object_get (meta, "namespace"));
  name = json_string_value (json_object_get (meta, "name"));
  if (check_networks (h, spec, ns) == -1)
    return -1;
  path = vm_path (ns, NULL);
  if (path == NULL)
    return -1;
  kv_note_namespace (h, ns);
  if (kube_call (&h->k, "POST", path, vm, NULL) == -1)
    return -1;
  ferry_info ("kubevirt: VirtualMachine %s/%s created", ns, name);
  return 0;
}

int
kv_vm_exists (void *handle, const char *ns, const char *name)
{
  struct kv_handle *h = handle;
  DEST_CLEANUP_FREE char *path = vm_path (ns, name);
  long http;

  if (path == NULL)
    return -1;
  http = kube_request (&h->k, "GET", NULL, path, NULL, NULL, NULL);
  if (http >= 200 && http < 300)
    return 1;
  if (http == 404) {
    ferry_clear_error ();
    return 0;
  }
  return -1;
}

static int
set_always (json_t *vm, void *opaque)
{
  json_t *spec = json_object_get (vm, "spec");

  (void) opaque;
  if (!json_is_object (spec)) {
    ferry_error ("kubevirt: VirtualMachine without a spec");
    return -1;
  }
  /* runStrategy and running are exclusive; we create with runStrategy. */
  json_object_del (spec, "running");
  json_object_set_new (spec, "runStrategy", json_string ("Always"));
  return 0;
}

int
kv_vm_power_on (void *handle, const char *ns, const char *name)
{
  struct kv_handle *h = handle;
  DEST_CLEANUP_FREE char *path = vm_path (ns, name);

  if (path == NULL)
    return -1;
  return kube_update (&h->k, path, set_always, NULL);
}
