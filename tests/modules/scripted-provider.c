/* Validation test provider "scripted": its inventory is whatever the
 * Provider's settings say, so tests can describe VMs the null provider
 * never has (concerns, shared disks, duplicate MACs, odd names, powered-on
 * VMs without power control).
 *
 * Settings (strings):
 *   inventory  JSON text {"vms": [doc...], "networks": [doc...],
 *              "storages": [doc...]}; every doc has "id" and "name"
 *   canWarm    "true": can_warm says yes (otherwise it says no)
 * It has no power control and serves no disks.
 */
#include <stdlib.h>
#include <string.h>

#include <ferry/provider.h>
#include <ferry/log.h>

struct scripted {
  json_t *inventory;                    /* owned */
  int can_warm;
};

static int
scripted_open (const struct ferry_open_args *args, void **handle)
{
  const json_t *settings = json_object_get (args->spec, "settings");
  const char *text = json_string_value (json_object_get (settings, "inventory"));
  const char *warm = json_string_value (json_object_get (settings, "canWarm"));
  json_error_t jerr;
  struct scripted *h;

  if (!args->type || strcmp (args->type, "scripted") != 0)
    return FERRY_OPEN_DECLINED;
  h = calloc (1, sizeof *h);
  if (!h) {
    ferry_error ("scripted: open: out of memory");
    return FERRY_OPEN_ERROR;
  }
  h->inventory = json_loads (text ? text : "{}", 0, &jerr);
  if (!h->inventory) {
    ferry_error ("scripted: settings.inventory: %s", jerr.text);
    free (h);
    return FERRY_OPEN_ERROR;
  }
  h->can_warm = warm && strcmp (warm, "true") == 0;
  *handle = h;
  return FERRY_OPEN_OK;
}

static void
scripted_close (void *handle)
{
  struct scripted *h = handle;
  if (h)
    json_decref (h->inventory);
  free (h);
}

static int
scripted_test_connection (void *handle)
{
  (void) handle;
  return 0;
}

static int
scripted_put_all (struct ferry_inventory_sink *sink, const json_t *inv,
                  const char *key, const char *kind)
{
  const json_t *doc;
  size_t i;

  json_array_foreach (json_object_get (inv, key), i, doc) {
    const char *id = json_string_value (json_object_get (doc, "id"));
    const char *name = json_string_value (json_object_get (doc, "name"));
    if (sink->put (sink, kind, id ? id : "", name ? name : "", NULL, doc) == -1)
      return -1;
  }
  return 0;
}

static int
scripted_inventory (void *handle, struct ferry_inventory_sink *sink)
{
  struct scripted *h = handle;

  if (scripted_put_all (sink, h->inventory, "vms", FERRY_INV_VM) == -1
      || scripted_put_all (sink, h->inventory, "networks", FERRY_INV_NETWORK) == -1
      || scripted_put_all (sink, h->inventory, "storages", FERRY_INV_STORAGE) == -1)
    return -1;
  return sink->prune (sink);
}

static json_t *
scripted_vm (void *handle, const char *vm_id)
{
  struct scripted *h = handle;
  const json_t *doc;
  size_t i;

  json_array_foreach (json_object_get (h->inventory, "vms"), i, doc) {
    const char *id = json_string_value (json_object_get (doc, "id"));
    if (id && vm_id && strcmp (id, vm_id) == 0)
      return json_deep_copy (doc);
  }
  ferry_error ("scripted: VM %s not found", vm_id ? vm_id : "(null)");
  return NULL;
}

static struct ferry_disk_source *
scripted_disk_open (void *handle, const char *vm_id, const char *disk_id,
                    const char *snapshot)
{
  (void) handle;
  (void) snapshot;
  ferry_error ("scripted: VM %s disk %s: this provider serves no disks",
               vm_id, disk_id);
  return NULL;
}

static int
scripted_can_warm (void *handle)
{
  struct scripted *h = handle;
  return h->can_warm;
}

static struct ferry_provider scripted_provider = {
  .name = "scripted",
  .description = "validation test provider: inventory from its settings",
  .version = "0",
  .thread_model = FERRY_THREAD_MODEL_SERIALIZE_HANDLE,
  .open = scripted_open,
  .close = scripted_close,
  .test_connection = scripted_test_connection,
  .inventory = scripted_inventory,
  .vm_describe = scripted_vm,
  .vm_spec = scripted_vm,
  .disk_open = scripted_disk_open,
  .can_warm = scripted_can_warm,
};

FERRY_REGISTER_PROVIDER (scripted_provider)
