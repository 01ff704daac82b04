/* ferry core: Plan validation, as Forklift validates a Plan.
 *
 * Condition types (category; reason):
 *   SourceProviderNotValid, DestinationProviderNotValid   Critical; NotSet,
 *       NotFound (no Provider object), NotValid (no module for its type,
 *       its Secret missing, the module refused to open it, inventory failed)
 *   NamespaceNotValid        Critical; targetNamespace not a DNS-1123 label
 *   MigrationTypeNotValid    Critical; type not cold/warm/live, or warm: true
 *                            with another type
 *   WarmMigrationNotReady    Critical; warm asked, provider cannot (can_warm)
 *   VMMissingChangedBlockTracking  Critical; warm, a VM's changeTrackingEnabled is false
 *   GuestConversionNotAvailable  Critical; the plan converts (source type
 *                            vsphere, ova or null, no skipGuestConversion)
 *                            and the destination has no local volume files
 *                            or virt-v2v-in-place is missing (conversion.h)
 *   NetworkMapRefNotValid, StorageRefNotValid   Critical; map not named or
 *                            not stored
 *   NetworkMapNotReady, StorageMapNotReady      Critical; a map entry's
 *                            source is not in the source inventory
 *   HookNotValid, HookStepNotValid              Critical
 *   VMRefNotValid (neither id nor name), VMNotFound, DuplicateVM,
 *   VMAlreadyExists (the destination has the target name),
 *   VMNetworksNotMapped, VMStorageNotMapped, VMCriticalConcerns,
 *   MacConflicts (a MAC used by two VMs of the plan: Critical for a
 *   KubeVirt destination, whose kubemacpool refuses it, Warn for others),
 *   InvalidDiskSizes
 *   (capacity 0 or missing), PVCNameTemplateNotValid, TemplateNotValid
 *   (volumeNameTemplate, networkNameTemplate)                   Critical
 *   VMPowerStateUnsupported  Critical: the VM is powered on and the provider
 *                            has no power control.  Forklift's cold
 *                            migration shuts the source VM down before the
 *                            copy; ferry cannot, and copying a running VM's
 *                            disks gives a crash-inconsistent copy while the
 *                            source keeps running, so it refuses until the
 *                            VM is shut down at the source.
 *   SharedDisks              Warn (migrateSharedDisks false: not migrated;
 *                            true and cold: migrated with this VM, once per
 *                            plan), Critical (true with warm or live, or a
 *                            shared boot disk), as Forklift's docs say
 *   TargetNameNotValid       Warn; the name is not a DNS-1123 subdomain and
 *                            the VM will be renamed (the item says to what)
 *   Ready                    Required; only with no Critical or Error
 *
 * Destination MACs are not known through the destination ABI, so
 * MacConflicts only looks within the plan.
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "conversion.h"
#include "ferry-template.h"
#include "instance.h"
#include "mapping.h"
#include "naming.h"
#include "validation.h"

struct validation {
  struct ferry *f;
  const char *ns, *name;                /* the Plan */
  json_t *plan;                         /* {metadata {name, namespace}, spec} */
  const json_t *spec;                   /* borrowed from plan */
  json_t *conds;                        /* conditions being built */
  const char *target_ns;
  bool warm, live;
  const char *src_ns, *src_name;        /* the source Provider */
  struct ferry_instance *source, *destination;
  bool inventory_ok;                    /* source inventory readable */
  json_t *networks, *storages;          /* source inventory, or NULL */
  json_t *nmap, *smap;                  /* map specs, or NULL */
  json_t *macs;                         /* mac -> "VM item" */
  json_t *shared;                       /* shared disk key -> VM name */
};

static const char *
str (const json_t *o, const char *k)
{
  return json_string_value (json_object_get (o, k));
}

static bool
nonempty (const char *s)
{
  return s && *s;
}

static int
severity (const char *category)
{
  static const char *const order[] = { "Advisory", "Warn", "Error", "Critical" };
  for (int i = 0; i < 4; i++)
    if (category && strcmp (category, order[i]) == 0)
      return i + 1;
  return 0;
}

/* The condition of type (created with this category, reason, suggestion
 * and message when absent; taking them over when category is more
 * severe than the stored one).  NULL when out of memory.
 */
static json_t *cond (struct validation *v, const char *type,
                     const char *category, const char *reason,
                     const char *suggestion, const char *fs, ...)
  __attribute__((format (printf, 6, 7)));

static json_t *
cond (struct validation *v, const char *type, const char *category,
      const char *reason, const char *suggestion, const char *fs, ...)
{
  json_t *c = NULL, *e;
  size_t i;
  va_list args;
  char *msg = NULL;

  json_array_foreach (v->conds, i, e)
    if (strcmp (str (e, "type"), type) == 0)
      c = e;
  if (c && severity (category) <= severity (str (c, "category")))
    return c;
  va_start (args, fs);
  if (vasprintf (&msg, fs, args) == -1)
    msg = NULL;
  va_end (args);
  if (!c) {
    c = json_pack ("{s:s, s:s, s:s, s:s, s:s?, s:s?, s:[]}",
                   "type", type, "status", "True", "category", category,
                   "reason", reason, "message", msg, "suggestion", suggestion,
                   "items");
    if (c)
      json_array_append_new (v->conds, c);
  }
  else {
    json_object_set_new (c, "category", json_string (category));
    json_object_set_new (c, "reason", json_string (reason));
    if (msg)
      json_object_set_new (c, "message", json_string (msg));
    if (suggestion)
      json_object_set_new (c, "suggestion", json_string (suggestion));
  }
  free (msg);
  return c;
}

/* Append an item (once) to condition c. */
static void item (json_t *c, const char *fs, ...)
  __attribute__((format (printf, 2, 3)));

static void
item (json_t *c, const char *fs, ...)
{
  va_list args;
  char *s;
  json_t *items = json_object_get (c, "items"), *e;
  size_t i;

  if (!items)
    return;
  va_start (args, fs);
  if (vasprintf (&s, fs, args) == -1)
    s = NULL;
  va_end (args);
  if (!s)
    return;
  json_array_foreach (items, i, e)
    if (strcmp (json_string_value (e), s) == 0) {
      free (s);
      return;
    }
  json_array_append_new (items, json_string (s));
  free (s);
}

/* "id:vm-1 name:'web'", Forklift's way of naming a VM in items. */
static char *
vm_item (const json_t *plan_vm, const json_t *inv)
{
  const char *id = str (inv, "id"), *name = str (inv, "name");
  char *s = NULL;

  if (!id)
    id = str (plan_vm, "id");
  if (!name)
    name = str (plan_vm, "name");
  int r;
  if (nonempty (id) && nonempty (name))
    r = asprintf (&s, "id:%s name:'%s'", id, name);
  else if (nonempty (id))
    r = asprintf (&s, "id:%s", id);
  else
    r = asprintf (&s, "name:'%s'", name ? name : "");
  if (r == -1)
    s = NULL;
  return s;
}

/* ---- Providers -------------------------------------------------------- */

static struct ferry_instance *
check_provider (struct validation *v, bool destination)
{
  const char *which = destination ? "destination" : "source";
  const char *type = destination ? "DestinationProviderNotValid" : "SourceProviderNotValid";
  const json_t *ref = json_object_get (json_object_get (v->spec, "provider"), which);
  const char *name = str (ref, "name"), *ns = str (ref, "namespace");
  struct ferry_store_row row = { 0 };
  struct ferry_instance *inst;
  json_t *c;

  if (!nonempty (ns))
    ns = v->ns;
  if (!destination) {
    v->src_ns = ns;
    v->src_name = name;
  }
  if (!nonempty (name)) {
    c = cond (v, type, "Critical", "NotSet",
              "set spec.provider.source/destination.name to a Provider",
              "The %s provider is not set.", which);
    item (c, "spec.provider.%s", which);
    return NULL;
  }
  int r = ferry_internal_store_get (v->f->store, "Provider", ns, name, &row);
  ferry_internal_store_row_clear (&row);
  if (r == -1)
    return NULL;
  if (r == 0 && !(destination && strcmp (name, "host") == 0)) {
    c = cond (v, type, "Critical", "NotFound",
              "apply the Provider manifest, or fix the reference in the plan",
              "The %s provider %s/%s is not found.", which, ns, name);
    item (c, "%s/%s", ns, name);
    return NULL;
  }
  ferry_clear_error ();
  inst = destination ? ferry_internal_destination_open (v->f, ns, name)
                     : ferry_internal_source_open (v->f, ns, name);
  if (!inst) {
    c = cond (v, type, "Critical", "NotValid",
              "see 'ferry modules' for the provider types served, and check "
              "the Provider's url, settings and Secret",
              "The %s provider %s/%s is not valid: %s", which, ns, name,
              *ferry_get_error () ? ferry_get_error () : "it cannot be opened");
    item (c, "%s/%s", ns, name);
  }
  return inst;
}

/* Fill the source inventory lists, syncing it first when it is empty. */
static void
load_inventory (struct validation *v)
{
  struct ferry_store *st = v->f->store;
  const char *uid = v->source->uid;
  CLEANUP_JSON_DECREF json_t *vms = ferry_internal_store_inv_list (st, uid, FERRY_INV_VM);
  CLEANUP_JSON_DECREF json_t *nets = ferry_internal_store_inv_list (st, uid, FERRY_INV_NETWORK);

  if (vms && nets && json_array_size (vms) == 0 && json_array_size (nets) == 0) {
    ferry_clear_error ();
    if (ferry_inventory_refresh (v->f, v->src_ns, v->src_name) == -1) {
      json_t *c = cond (v, "SourceProviderNotValid", "Critical", "NotValid",
                        "check the provider with 'ferry inventory refresh'",
                        "The inventory of source provider %s/%s cannot be read: %s",
                        v->src_ns, v->src_name, ferry_get_error ());
      item (c, "%s/%s", v->src_ns, v->src_name);
      return;
    }
  }
  else if (!vms || !nets)
    return;
  v->networks = ferry_internal_store_inv_list (st, uid, FERRY_INV_NETWORK);
  v->storages = ferry_internal_store_inv_list (st, uid, FERRY_INV_STORAGE);
  v->inventory_ok = v->networks && v->storages;
}

/* An inventory entity of list with this id or name, borrowed. */
static const json_t *
find_entity (const json_t *list, const char *id, const char *name)
{
  const json_t *e;
  size_t i;

  json_array_foreach (list, i, e) {
    const char *eid = str (e, "id"), *ename = str (e, "name");
    if ((id && eid && strcmp (id, eid) == 0)
        || (name && ename && strcmp (name, ename) == 0))
      return e;
  }
  return NULL;
}

/* ---- Maps ------------------------------------------------------------- */

static json_t *
check_map (struct validation *v, bool network)
{
  const char *which = network ? "network" : "storage";
  const char *kind = network ? "NetworkMap" : "StorageMap";
  const char *ref_type = network ? "NetworkMapRefNotValid" : "StorageRefNotValid";
  const char *ready_type = network ? "NetworkMapNotReady" : "StorageMapNotReady";
  const json_t *ref = json_object_get (json_object_get (v->spec, "map"), which);
  const char *name = str (ref, "name"), *ns = str (ref, "namespace");
  struct ferry_store_row row = { 0 };
  json_t *c, *spec;

  if (!nonempty (ns))
    ns = v->ns;
  if (!nonempty (name)) {
    c = cond (v, ref_type, "Critical", "NotSet",
              network ? "set spec.map.network to a NetworkMap"
                      : "set spec.map.storage to a StorageMap",
              "The %s map is not set.", which);
    item (c, "spec.map.%s", which);
    return NULL;
  }
  int r = ferry_internal_store_get (v->f->store, kind, ns, name, &row);
  if (r != 1) {
    ferry_internal_store_row_clear (&row);
    if (r == 0) {
      c = cond (v, ref_type, "Critical", "NotFound",
                "apply the map's manifest, or fix the reference in the plan",
                "The %s %s/%s is not found.", kind, ns, name);
      item (c, "%s/%s", ns, name);
    }
    return NULL;
  }
  spec = json_incref (row.spec);
  ferry_internal_store_row_clear (&row);
  if (!v->inventory_ok)
    return spec;

  const json_t *list = network ? v->networks : v->storages;
  const json_t *entry;
  size_t i;
  json_array_foreach (json_object_get (spec, "map"), i, entry) {
    const json_t *src = json_object_get (entry, "source");
    const char *sid = str (src, "id"), *sname = str (src, "name");
    if (!nonempty (sid) && !nonempty (sname))
      continue;                         /* by type ("pod"): nothing to find */
    if (find_entity (list, sid, sname))
      continue;
    c = cond (v, ready_type, "Critical", "NotValid",
              "fix the map entry, or refresh the inventory with 'ferry inventory refresh'",
              "The %s %s/%s maps source %s '%s', which is not in the inventory "
              "of provider %s/%s.", kind, ns, name, which,
              nonempty (sid) ? sid : sname, v->src_ns, v->src_name);
    item (c, "%s/%s map[%zu] %s", ns, name, i, nonempty (sid) ? sid : sname);
  }
  return spec;
}

/* ---- The destination's side ------------------------------------------ */

/* What the maps point at in the destination ({namespace, storageClasses,
 * networks}), asked of a destination that can check it (validate_targets):
 * a missing StorageClass or NetworkAttachmentDefinition blocks the plan
 * here rather than after every disk was copied.
 */
static void
check_targets (struct validation *v)
{
  const struct ferry_destination *d;
  const json_t *e;
  size_t i;

  if (!v->destination)
    return;
  d = v->destination->destination;
  if (!d->validate_targets)
    return;

  json_t *targets = json_pack ("{s:s, s:[], s:[]}", "namespace", v->target_ns,
                               "storageClasses", "networks");
  if (!targets)
    return;
  json_t *classes = json_object_get (targets, "storageClasses");
  json_t *networks = json_object_get (targets, "networks");
  json_array_foreach (json_object_get (v->smap, "map"), i, e) {
    const char *sc = str (json_object_get (e, "destination"), "storageClass");
    const json_t *x;
    size_t j;
    bool seen = false;
    if (!nonempty (sc))
      continue;
    json_array_foreach (classes, j, x)
      seen = seen || strcmp (json_string_value (x), sc) == 0;
    if (!seen)
      json_array_append_new (classes, json_string (sc));
  }
  json_array_foreach (json_object_get (v->nmap, "map"), i, e) {
    const json_t *dst = json_object_get (e, "destination");
    if (json_is_object (dst))
      json_array_append (networks, (json_t *) dst);
  }

  json_t *found = d->validate_targets (v->destination->handle, targets);
  json_decref (targets);
  if (!found) {
    json_t *c = cond (v, "DestinationProviderNotValid", "Critical", "NotValid",
                      "check that the destination is reachable and the credentials may read it",
                      "The destination %s/%s could not be checked: %s",
                      v->destination->ns, v->destination->name, ferry_get_error ());
    item (c, "%s/%s", v->destination->ns, v->destination->name);
    return;
  }
  json_array_foreach (found, i, e) {
    const char *type = str (e, "type"), *category = str (e, "category");
    if (!nonempty (type))
      continue;
    json_t *c = cond (v, type, nonempty (category) ? category : "Critical",
                      nonempty (str (e, "reason")) ? str (e, "reason") : "NotValid",
                      str (e, "suggestion"), "%s",
                      nonempty (str (e, "message")) ? str (e, "message") : type);
    const json_t *it;
    size_t j;
    json_array_foreach (json_object_get (e, "items"), j, it)
      if (json_is_string (it))
        item (c, "%s", json_string_value (it));
  }
  json_decref (found);
}

/* ---- Templates -------------------------------------------------------- */

/* Evaluate a volume or network name template; NULL and *err (the
 * caller's) when it does not parse, execute, or give a DNS-1123 label.
 */
static char *
eval_template (const char *field, const char *text,
               struct ferry_template_data *d, char **err)
{
  char *e = NULL, *out = NULL;
  const char *reason = NULL;
  struct ferry_template *t = ferry_template_parse (field, text, &e);

  if (t)
    out = ferry_template_execute (t, d, &e);
  ferry_template_free (t);
  if (out && !ferry_template_is_dns1123_label (out, &reason)) {
    if (asprintf (&e, "gives '%s', which is not a valid DNS-1123 label: %s",
                  out, reason ? reason : "") == -1)
      e = NULL;
    free (out);
    out = NULL;
  }
  if (!out)
    *err = e ? e : strdup ("failed");
  else
    free (e);
  return out;
}

/* The VM's template of field, else the plan's, or NULL. */
static const char *
template_of (const struct validation *v, const json_t *plan_vm, const char *field)
{
  const char *t = str (plan_vm, field);
  if (!nonempty (t))
    t = str (v->spec, field);
  return nonempty (t) ? t : NULL;
}

/* ---- VMs -------------------------------------------------------------- */

static bool
powered_on (const json_t *inv)
{
  const char *p = str (inv, "powerState");
  char low[32];
  size_t i;

  if (!p)
    return false;
  for (i = 0; p[i] && i < sizeof low - 1; i++)
    low[i] = (char) tolower ((unsigned char) p[i]);
  low[i] = '\0';
  return strcmp (low, "poweredon") == 0 || strcmp (low, "on") == 0
    || strcmp (low, "running") == 0 || strcmp (low, "up") == 0;
}

/* A NIC's network as (id, name), from {network: {id, name}} (vSphere),
 * or {network: "name", networkId} (OVA), or {network: "id"}.
 */
static void
nic_network (const struct validation *v, const json_t *nic,
             const char **id, const char **name)
{
  const json_t *n = json_object_get (nic, "network");

  *id = *name = NULL;
  if (json_is_object (n)) {
    *id = str (n, "id");
    *name = str (n, "name");
  }
  else if (json_is_string (n)) {
    *name = json_string_value (n);
    *id = str (nic, "networkId");
    if (!*id)
      *id = *name;
  }
  const json_t *e = find_entity (v->networks, *id, *name);
  if (e) {
    *id = str (e, "id");
    *name = str (e, "name");
  }
}

/* Same for a disk's datastore. */
static void
disk_storage (const struct validation *v, const json_t *disk,
              const char **id, const char **name)
{
  const json_t *s = json_object_get (disk, "datastore");

  *id = *name = NULL;
  if (json_is_object (s)) {
    *id = str (s, "id");
    *name = str (s, "name");
  }
  else if (json_is_string (s))
    *id = *name = json_string_value (s);
  const json_t *e = find_entity (v->storages, *id, *name);
  if (e) {
    *id = str (e, "id");
    *name = str (e, "name");
  }
}

static void
check_hooks (struct validation *v, const json_t *plan_vm, const char *vmi)
{
  const json_t *h;
  size_t i;

  json_array_foreach (json_object_get (plan_vm, "hooks"), i, h) {
    const json_t *ref = json_object_get (h, "hook");
    const char *name = str (ref, "name"), *ns = str (ref, "namespace");
    const char *step = str (h, "step");
    json_t *c;

    if (!nonempty (ns))
      ns = v->ns;
    if (!nonempty (name)) {
      c = cond (v, "HookNotValid", "Critical", "NotSet",
                "name a Hook in hooks[].hook.name",
                "A hook of VM %s names no Hook.", vmi);
      item (c, "%s hooks[%zu]", vmi, i);
    }
    else {
      struct ferry_store_row row = { 0 };
      int r = ferry_internal_store_get (v->f->store, "Hook", ns, name, &row);
      ferry_internal_store_row_clear (&row);
      if (r == 0) {
        c = cond (v, "HookNotValid", "Critical", "NotFound",
                  "apply the Hook manifest, or fix the reference",
                  "Hook %s/%s of VM %s is not found.", ns, name, vmi);
        item (c, "%s hook:%s/%s", vmi, ns, name);
      }
    }
    if (!step || (strcmp (step, "PreHook") != 0 && strcmp (step, "PostHook") != 0)) {
      c = cond (v, "HookStepNotValid", "Critical", "NotValid",
                "set the hook's step to PreHook or PostHook",
                "Hook step '%s' of VM %s is not valid: use PreHook or PostHook.",
                step ? step : "", vmi);
      item (c, "%s hooks[%zu] step:'%s'", vmi, i, step ? step : "");
    }
  }
}

static void
check_nics (struct validation *v, const json_t *plan_vm, const json_t *inv,
            const char *vmi)
{
  const char *net_tmpl = template_of (v, plan_vm, "networkNameTemplate");
  const json_t *nic;
  size_t i;
  json_t *c;

  json_array_foreach (json_object_get (inv, "nics"), i, nic) {
    const char *mac = str (nic, "mac");
    if (nonempty (mac)) {
      char low[64];
      size_t k;
      for (k = 0; mac[k] && k < sizeof low - 1; k++)
        low[k] = (char) tolower ((unsigned char) mac[k]);
      low[k] = '\0';
      const char *other = str (v->macs, low);
      if (other && strcmp (other, vmi) != 0) {
        /* KubeVirt (kubemacpool) refuses a second VM with a MAC in use;
         * files and libvirt domains do not, so there it is a warning.
         */
        const char *dtype = v->destination ? v->destination->type : "";
        bool kubevirt = strcmp (dtype, "openshift") == 0 || strcmp (dtype, "kubevirt") == 0;
        c = cond (v, "MacConflicts", kubevirt ? "Critical" : "Warn", "NotUnique",
                  kubevirt ? "give the VMs distinct MAC addresses at the source, or migrate them separately"
                           : "do not attach both VMs to the same network, or change one MAC after migration",
                  "VMs %s and %s have the same MAC address %s%s.", other, vmi, mac,
                  kubevirt ? "" : " (the destination accepts it; they must not share a network)");
        item (c, "%s mac:%s", other, mac);
        item (c, "%s mac:%s", vmi, mac);
      }
      else if (!other)
        json_object_set_new (v->macs, low, json_string (vmi));
    }

    const char *nid, *nname;
    nic_network (v, nic, &nid, &nname);
    const json_t *dst = NULL;
    if (v->nmap) {
      dst = ferry_internal_map_lookup (v->nmap, nid, nname);
      if (!dst) {
        c = cond (v, "VMNetworksNotMapped", "Critical", "NotValid",
                  "add the network to the plan's NetworkMap (destination pod, multus or ignored)",
                  "VM %s has a NIC on network '%s', which the NetworkMap does not map.",
                  vmi, nname ? nname : nid ? nid : "(none)");
        item (c, "%s network:'%s'", vmi, nname ? nname : nid ? nid : "");
      }
    }
    if (net_tmpl) {
      struct ferry_template_data *d = ferry_template_data_new (FERRY_TEMPLATE_KIND_NETWORK);
      CLEANUP_FREE char *out = NULL, *err = NULL;
      if (!d
          || ferry_template_data_set_string (d, "NetworkName", str (dst, "name") ?: "") == -1
          || ferry_template_data_set_string (d, "NetworkNamespace", str (dst, "namespace") ?: "") == -1
          || ferry_template_data_set_string (d, "NetworkType", str (dst, "type") ?: "") == -1
          || ferry_template_data_set_int (d, "NetworkIndex", (int64_t) i) == -1) {
        ferry_template_data_free (d);
        continue;
      }
      out = eval_template ("networkNameTemplate", net_tmpl, d, &err);
      ferry_template_data_free (d);
      if (!out) {
        c = cond (v, "TemplateNotValid", "Critical", "NotValid",
                  "fix networkNameTemplate (see 'ferry template eval')",
                  "networkNameTemplate '%s' of VM %s, NIC %zu: %s",
                  net_tmpl, vmi, i, err);
        item (c, "%s nic:%zu networkNameTemplate: %s", vmi, i, err);
      }
    }
  }
}

static void
check_disks (struct validation *v, const json_t *plan_vm, const json_t *inv,
             const char *vmi, const char *target)
{
  const char *vol_tmpl = template_of (v, plan_vm, "volumeNameTemplate");
  bool migrate_shared = !json_is_false (json_object_get (v->spec, "migrateSharedDisks"));
  const json_t *disk;
  size_t i;
  json_t *c;
  CLEANUP_JSON_DECREF json_t *vm_status =
    json_pack ("{s:s, s:s, s:s}", "id", str (inv, "id") ?: "",
               "name", str (inv, "name") ?: "", "newName", target);

  json_array_foreach (json_object_get (inv, "disks"), i, disk) {
    const char *did = str (disk, "id");
    char dname[64];
    if (nonempty (did))
      snprintf (dname, sizeof dname, "%s", did);
    else
      snprintf (dname, sizeof dname, "disk %zu", i);

    json_t *cap = json_object_get (disk, "capacity");
    if (!json_is_integer (cap) || json_integer_value (cap) <= 0) {
      c = cond (v, "InvalidDiskSizes", "Critical", "NotValid",
                "fix the disk's size at the source and refresh the inventory",
                "Disk %s of VM %s has no size (capacity is 0 or missing).", dname, vmi);
      item (c, "%s disk:%s", vmi, dname);
    }

    const char *sid, *sname;
    disk_storage (v, disk, &sid, &sname);
    if (v->smap && !ferry_internal_map_lookup (v->smap, sid, sname)) {
      c = cond (v, "VMStorageNotMapped", "Critical", "NotValid",
                "add the datastore to the plan's StorageMap",
                "Disk %s of VM %s is on storage '%s', which the StorageMap does not map.",
                dname, vmi, sname ? sname : sid ? sid : "(none)");
      item (c, "%s storage:'%s'", vmi, sname ? sname : sid ? sid : "");
    }

    if (json_is_true (json_object_get (disk, "shared"))) {
      json_int_t boot = json_integer_value (json_object_get (disk, "bootOrder"));
      bool is_boot = boot == 1 || (i == 0 && !json_object_get (disk, "bootOrder"));
      const char *key = str (disk, "file");
      if (!nonempty (key))
        key = dname;
      if (!migrate_shared)
        c = cond (v, "SharedDisks", "Warn", "NotSupported",
                  "migrate the shared disks with migrateSharedDisks: true in another plan",
                  "VM %s has shared disks; spec.migrateSharedDisks is false, so shared "
                  "disks will not be migrated: this VM is attached to them after they "
                  "are migrated by another plan.", vmi);
      else if (v->warm || v->live)
        c = cond (v, "SharedDisks", "Critical", "NotSupported",
                  "migrate VMs with shared disks cold, or set migrateSharedDisks: false "
                  "here and migrate the shared disks in a cold plan",
                  "VM %s has shared disks, which can only be migrated cold.", vmi);
      else if (is_boot)
        c = cond (v, "SharedDisks", "Critical", "NotSupported",
                  "make the boot disk unshared at the source",
                  "VM %s has a shared boot disk, which cannot be migrated.", vmi);
      else {
        const char *other = str (v->shared, key);
        if (other && strcmp (other, vmi) != 0)
          c = cond (v, "SharedDisks", "Warn", "NotUnique",
                    "keep one VM per shared disk in this plan, and move the others to a "
                    "plan with migrateSharedDisks: false",
                    "Shared disk %s is attached to VMs %s and %s of this plan: it will "
                    "be migrated once for each.", key, other, vmi);
        else
          c = cond (v, "SharedDisks", "Warn", "NotSupported",
                    "make sure each shared disk is migrated by one plan only "
                    "(migrateSharedDisks: false in the others)",
                    "VM %s has shared disks: they are migrated with it (cold only); "
                    "ferry does not check whether another plan migrated them already.", vmi);
        if (!other)
          json_object_set_new (v->shared, key, json_string (vmi));
      }
      item (c, "%s disk:%s", vmi, dname);
    }

    ferry_clear_error ();
    CLEANUP_FREE char *pvc = ferry_internal_pvc_name (v->plan, plan_vm, vm_status, disk, i);
    if (!pvc) {
      c = cond (v, "PVCNameTemplateNotValid", "Critical", "NotValid",
                "fix pvcNameTemplate (see 'ferry template eval')",
                "%s", ferry_get_error ());
      item (c, "%s disk:%zu %s", vmi, i, ferry_get_error ());
    }
    if (vol_tmpl) {
      struct ferry_template_data *d = ferry_template_data_new (FERRY_TEMPLATE_KIND_VOLUME);
      CLEANUP_FREE char *out = NULL, *err = NULL;
      if (!d
          || ferry_template_data_set_string (d, "PVCName", pvc ? pvc : "") == -1
          || ferry_template_data_set_int (d, "VolumeIndex", (int64_t) i) == -1) {
        ferry_template_data_free (d);
        continue;
      }
      out = eval_template ("volumeNameTemplate", vol_tmpl, d, &err);
      ferry_template_data_free (d);
      if (!out) {
        c = cond (v, "TemplateNotValid", "Critical", "NotValid",
                  "fix volumeNameTemplate (see 'ferry template eval')",
                  "volumeNameTemplate '%s' of VM %s, disk %zu: %s",
                  vol_tmpl, vmi, i, err);
        item (c, "%s disk:%zu volumeNameTemplate: %s", vmi, i, err);
      }
    }
  }
}

static void
check_vms (struct validation *v)
{
  const json_t *pvm;
  size_t i;
  json_t *c;
  CLEANUP_JSON_DECREF json_t *seen = json_object ();
  const struct ferry_provider *p = v->source ? v->source->provider : NULL;
  bool can_power = p && p->power_off
    && (!p->can_power || p->can_power (v->source->handle) > 0);

  json_array_foreach (json_object_get (v->spec, "vms"), i, pvm) {
    const char *id = str (pvm, "id"), *name = str (pvm, "name");
    char ref[32];
    snprintf (ref, sizeof ref, "vms[%zu]", i);

    if (!nonempty (id) && !nonempty (name)) {
      check_hooks (v, pvm, ref);
      c = cond (v, "VMRefNotValid", "Critical", "NotValid",
                "give each VM of spec.vms an id or a name",
                "VM reference %s has neither an id nor a name.", ref);
      item (c, "%s", ref);
      continue;
    }
    if (!v->inventory_ok) {
      CLEANUP_FREE char *vmi = vm_item (pvm, NULL);
      if (vmi)
        check_hooks (v, pvm, vmi);
      continue;
    }

    ferry_clear_error ();
    CLEANUP_JSON_DECREF json_t *inv = NULL;
    if (nonempty (id))
      inv = ferry_internal_store_inv_get (v->f->store, v->source->uid, FERRY_INV_VM, id);
    if (!inv && nonempty (name))
      inv = ferry_internal_store_inv_get (v->f->store, v->source->uid, FERRY_INV_VM, name);
    CLEANUP_FREE char *vmi = vm_item (pvm, inv);
    if (!vmi)
      continue;
    check_hooks (v, pvm, vmi);
    if (!inv) {
      c = cond (v, "VMNotFound", "Critical", "NotFound",
                "fix the VM's id or name, or refresh the inventory with 'ferry inventory refresh'",
                "VM %s is not found in the inventory of provider %s/%s.",
                vmi, v->src_ns, v->src_name);
      item (c, "%s", vmi);
      continue;
    }
    const char *inv_id = str (inv, "id") ?: "";
    if (json_object_get (seen, inv_id)) {
      c = cond (v, "DuplicateVM", "Critical", "NotUnique",
                "list each VM once in spec.vms",
                "VM %s is listed more than once.", vmi);
      item (c, "%s", vmi);
      continue;
    }
    json_object_set_new (seen, inv_id, json_true ());

    /* The target name, as the pipeline will choose it. */
    const char *given = str (pvm, "targetName");
    const char *base = nonempty (given) ? given : str (inv, "name") ?: inv_id;
    const char *reason = NULL;
    CLEANUP_FREE char *target = NULL;
    if (!ferry_template_is_dns1123_subdomain (base, &reason)) {
      target = ferry_internal_target_vm_name (base);
      if (target) {
        c = cond (v, "TargetNameNotValid", "Warn", "NotValid",
                  "set spec.vms[].targetName to choose another name",
                  "The target name '%s' of VM %s is not a valid DNS-1123 subdomain (%s); "
                  "the VM will be renamed to '%s'.", base, vmi,
                  reason ? reason : "invalid", target);
        item (c, "%s -> '%s'", vmi, target);
      }
    }
    else
      target = strdup (base);
    if (!target)
      continue;

    /* --- engine (issue 5): a VM an earlier Migration of this plan
     * migrated is not migrated again, so its target existing is expected.
     */
    if (v->destination && ferry_internal_plan_vm_migrated (v->f, v->ns, v->name, inv_id))
      ;
    /* --- end engine */
    else if (v->destination) {
      const struct ferry_destination *d = v->destination->destination;
      int ex = d->vm_exists (v->destination->handle, v->target_ns, target);
      if (ex == 1) {
        c = cond (v, "VMAlreadyExists", "Critical", "NotUnique",
                  "delete or rename the existing VM, or set spec.vms[].targetName",
                  "A VM named %s already exists in namespace %s at the destination.",
                  target, v->target_ns);
        item (c, "%s target:%s/%s", vmi, v->target_ns, target);
      }
    }

    /* vSphere area: warm needs changed block tracking on each VM
     * (Forklift's VMMissingChangedBlockTracking); providers whose
     * inventory has no changeTrackingEnabled are not asked.
     */
    if (v->warm && json_is_false (json_object_get (inv, "changeTrackingEnabled"))) {
      c = cond (v, "VMMissingChangedBlockTracking", "Critical", "NotSupported",
                "enable changed block tracking on the VM and its disks at the source, "
                "refresh the inventory, or use a cold migration",
                "Changed Block Tracking (CBT) has not been enabled on some VM. This "
                "feature is a prerequisite for VM warm migration.");
      item (c, "%s", vmi);
    }

    if (powered_on (inv) && !can_power) {
      c = cond (v, "VMPowerStateUnsupported", "Critical", "NotSupported",
                "shut the VM down at the source, refresh the inventory, and validate again",
                "VM %s is powered on, and provider %s/%s cannot power it off: "
                "ferry would copy the disks of a running VM.", vmi, v->src_ns, v->src_name);
      item (c, "%s powerState:%s", vmi, str (inv, "powerState"));
    }

    const json_t *concern;
    size_t k;
    json_array_foreach (json_object_get (inv, "concerns"), k, concern) {
      if (!str (concern, "category") || strcmp (str (concern, "category"), "Critical") != 0)
        continue;
      c = cond (v, "VMCriticalConcerns", "Critical", "NotValid",
                "resolve the concern at the source and refresh the inventory",
                "VM %s has critical concerns: %s.", vmi,
                str (concern, "label") ?: str (concern, "assessment") ?: "(no label)");
      item (c, "%s concern:'%s'", vmi,
            str (concern, "assessment") ?: str (concern, "label") ?: "");
    }

    check_nics (v, pvm, inv, vmi);
    check_disks (v, pvm, inv, vmi, target);
  }
}

/* ---- The whole plan --------------------------------------------------- */

static void
check_plan (struct validation *v)
{
  json_t *c;
  const char *type = str (v->spec, "type");
  json_t *warm = json_object_get (v->spec, "warm");

  v->source = check_provider (v, false);
  v->destination = check_provider (v, true);

  const char *tns = str (v->spec, "targetNamespace");
  v->target_ns = nonempty (tns) ? tns : v->ns;
  const char *reason = NULL;
  if (!ferry_template_is_dns1123_label (v->target_ns, &reason)) {
    c = cond (v, "NamespaceNotValid", "Critical", "NotValid",
              "set spec.targetNamespace to a valid namespace name",
              "Target namespace '%s' is not a valid DNS-1123 label: %s",
              v->target_ns, reason ? reason : "");
    item (c, "%s", v->target_ns);
  }

  if (type && strcmp (type, "cold") != 0 && strcmp (type, "warm") != 0
      && strcmp (type, "live") != 0) {
    c = cond (v, "MigrationTypeNotValid", "Critical", "NotSupported",
              "set spec.type to cold, warm or live",
              "Migration type '%s' is not supported: use cold, warm or live.", type);
    item (c, "type:%s", type);
  }
  else if (type && json_is_true (warm) && strcmp (type, "warm") != 0) {
    c = cond (v, "MigrationTypeNotValid", "Critical", "NotValid",
              "remove spec.warm (deprecated) or make spec.type warm",
              "spec.warm is true but spec.type is '%s'.", type);
    item (c, "type:%s warm:true", type);
  }
  v->warm = type ? strcmp (type, "warm") == 0 : json_is_true (warm);
  v->live = type && strcmp (type, "live") == 0;

  if (v->warm && v->source) {
    const struct ferry_provider *p = v->source->provider;
    if (!p->can_warm || p->can_warm (v->source->handle) <= 0) {
      c = cond (v, "WarmMigrationNotReady", "Critical", "NotSupported",
                "use a cold migration (spec.type: cold)",
                "Warm migration is not supported by provider %s/%s (type %s).",
                v->src_ns, v->src_name, v->source->type);
      item (c, "%s/%s", v->src_ns, v->src_name);
    }
  }
  /* warm: the precopies write into existing volumes (volume_open) */
  if (v->warm && v->destination && !v->destination->destination->volume_open) {
    c = cond (v, "WarmMigrationNotReady", "Critical", "NotSupported",
              "use a cold migration (spec.type: cold), or a destination that can reopen volumes",
              "Warm migration is not supported by destination %s/%s (type %s): it cannot "
              "reopen a volume for the precopies' changed blocks (an upload stream).",
              v->destination->ns, v->destination->name, v->destination->type);
    item (c, "%s/%s", v->destination->ns, v->destination->name);
  }

  /* conversion (conversion.h): the tool and local volume files */
  CLEANUP_FREE char *no_conversion =
    ferry_internal_conversion_unavailable (v->spec, v->source, v->destination);
  if (no_conversion) {
    c = cond (v, "GuestConversionNotAvailable", "Critical", "NotSupported",
              "install virt-v2v (virt-v2v-in-place) and use a destination with local "
              "volumes, or set spec.skipGuestConversion: true for a raw copy",
              "%s", no_conversion);
    item (c, "spec.skipGuestConversion");
  }

  if (v->source)
    load_inventory (v);
  v->nmap = check_map (v, true);
  v->smap = check_map (v, false);
  check_targets (v);
  check_vms (v);

  bool blocked = false;
  size_t i;
  json_array_foreach (v->conds, i, c)
    if (severity (str (c, "category")) >= severity ("Error"))
      blocked = true;
  if (!blocked)
    json_array_append_new (v->conds,
                           json_pack ("{s:s, s:s, s:s, s:s, s:[]}", "type", "Ready",
                                      "status", "True", "category", "Required",
                                      "message", "The migration plan is ready.",
                                      "items"));
}

/* Timestamps: a condition that did not change keeps its time. */
static void
stamp (json_t *conds, const json_t *old)
{
  char *now = ferry_internal_now_rfc3339 ();
  json_t *c;
  size_t i, j;

  json_array_foreach (conds, i, c) {
    const json_t *o;
    const char *t = NULL;
    json_array_foreach (old, j, o)
      if (json_equal (json_object_get (o, "type"), json_object_get (c, "type"))
          && json_equal (json_object_get (o, "category"), json_object_get (c, "category"))
          && json_equal (json_object_get (o, "message"), json_object_get (c, "message")))
        t = str (o, "lastTransitionTime");
    if (t || now)
      json_object_set_new (c, "lastTransitionTime", json_string (t ? t : now));
  }
  free (now);
}

int
ferry_internal_plan_validate (struct ferry *f, const char *ns,
                              const char *name, json_t **conditions)
{
  struct ferry_store_row row = { 0 };
  struct validation v = { .f = f, .ns = ns, .name = name };
  int r, ret = -1;

  *conditions = NULL;
  r = ferry_internal_store_get (f->store, "Plan", ns, name, &row);
  if (r == 0)
    ferry_internal_not_found_error ("Plan", ns, name);
  if (r != 1) {
    ferry_internal_store_row_clear (&row);
    return -1;
  }
  v.plan = json_pack ("{s:{s:s, s:s}, s:O?}", "metadata", "name", name,
                      "namespace", ns, "spec", row.spec);
  v.conds = json_array ();
  v.macs = json_object ();
  v.shared = json_object ();
  if (!v.plan || !v.conds || !v.macs || !v.shared) {
    ferry_error ("validate plan %s/%s: out of memory", ns, name);
    goto out;
  }
  if (!json_object_get (v.plan, "spec"))
    json_object_set_new (v.plan, "spec", json_object ());
  v.spec = json_object_get (v.plan, "spec");

  check_plan (&v);

  json_t *status = json_deep_copy (row.status);
  if (!json_is_object (status)) {
    json_decref (status);
    status = json_object ();
  }
  stamp (v.conds, json_object_get (status, "conditions"));
  /* engine (issue 5): the execution conditions are the engine's
   * (migration.c) and archive's; validation keeps them.
   */
  {
    json_t *stored = json_deep_copy (v.conds);
    const json_t *old;
    size_t k;
    json_array_foreach (json_object_get (status, "conditions"), k, old) {
      const char *t = str (old, "type");
      if (t && (strcmp (t, "Executing") == 0 || strcmp (t, "Succeeded") == 0
                || strcmp (t, "Failed") == 0 || strcmp (t, "Canceled") == 0
                || strcmp (t, "Archived") == 0))
        json_array_append (stored, (json_t *) old);
    }
    json_object_set_new (status, "conditions", stored);
  }
  json_object_set_new (status, "observedGeneration", json_integer (row.generation));
  ferry_clear_error ();
  r = ferry_internal_store_set_status (f->store, "Plan", ns, name, status);
  json_decref (status);
  if (r == -1) {
    ferry_error_prefix ("validate plan %s/%s", ns, name);
    goto out;
  }
  ferry_log_object (FERRY_LOG_DEBUG, "plan", ns, name, "validated: %s",
                    ferry_internal_conditions_ready (v.conds) ? "ready" : "not ready");
  *conditions = json_incref (v.conds);
  ret = 0;

 out:
  ferry_internal_instance_close (v.source);
  ferry_internal_instance_close (v.destination);
  ferry_internal_store_row_clear (&row);
  json_decref (v.plan);
  json_decref (v.conds);
  json_decref (v.macs);
  json_decref (v.shared);
  json_decref (v.networks);
  json_decref (v.storages);
  json_decref (v.nmap);
  json_decref (v.smap);
  return ret;
}

bool
ferry_internal_conditions_ready (const json_t *conditions)
{
  const json_t *c;
  size_t i;

  json_array_foreach (conditions, i, c)
    if (str (c, "type") && strcmp (str (c, "type"), "Ready") == 0)
      return true;
  return false;
}

char *
ferry_internal_conditions_blocking (const json_t *conditions)
{
  const json_t *c;
  size_t i, len = 0;
  char *s = NULL;

  json_array_foreach (conditions, i, c) {
    const char *m = str (c, "message");
    if (severity (str (c, "category")) < severity ("Error") || !m)
      continue;
    size_t ml = strlen (m);
    char *n = realloc (s, len + ml + 3);
    if (!n) {
      free (s);
      return NULL;
    }
    s = n;
    if (len) {
      memcpy (s + len, "; ", 2);
      len += 2;
    }
    memcpy (s + len, m, ml + 1);
    len += ml;
  }
  return s;
}

json_t *
ferry_plan_validate (struct ferry *f, const char *ns, const char *name)
{
  json_t *conditions = NULL;

  if (ferry_internal_plan_validate (f, ns, name, &conditions) == -1)
    return NULL;
  return conditions;
}
