/* ferry vSphere provider: inventory documents in Forklift's shape.
 *
 * Each managed object type is read once (collect.c) and turned into the
 * JSON document Forklift's vSphere inventory keeps for it: the same field
 * names (cpuCount, coresPerSocket, memoryMB, disks[]{key, file, datastore,
 * capacity, shared, rdm, bus, mode, serial}, nics[]{mac, network}, ...),
 * references as {kind, id}.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ferry/error.h>
#include <ferry/provider.h>

#include "vsphere.h"

/* The properties every document is built from. */
const char *const vsphere_vm_paths[] = {
  "name", "parent",
  "config.uuid", "config.instanceUuid", "config.firmware",
  "config.bootOptions", "config.template",
  "config.hardware.numCPU", "config.hardware.numCoresPerSocket",
  "config.hardware.memoryMB", "config.hardware.device",
  "config.guestId", "config.guestFullName", "config.changeTrackingEnabled",
  "config.cpuHotAddEnabled", "config.cpuHotRemoveEnabled",
  "config.memoryHotAddEnabled", "config.cpuAffinity",
  "config.files.vmPathName",
  "runtime.powerState", "runtime.connectionState", "runtime.host",
  "runtime.consolidationNeeded", "runtime.faultToleranceState",
  "snapshot", "guest.hostName", "guest.ipAddress", "guest.toolsRunningStatus",
  "summary.quickStats.balloonedMemory", "summary.storage.committed",
  NULL,
};

static const char *const dc_paths[] = { "name", "parent", NULL };
static const char *const folder_paths[] = { "name", "parent", NULL };
static const char *const cluster_paths[] = {
  "name", "parent", "host", "datastore", "network", "configurationEx", NULL,
};
static const char *const host_paths[] = {
  "name", "parent", "runtime.inMaintenanceMode", "runtime.connectionState",
  "config.product", "summary.hardware", "datastore", "network",
  "config.network", NULL,
};
static const char *const ds_paths[] = {
  "name", "parent", "summary", NULL,
};
static const char *const net_paths[] = { "name", "parent", NULL };
static const char *const dvpg_paths[] = {
  "name", "parent", "config.distributedVirtualSwitch", "config.key", NULL,
};

/* obj[key] = v, skipping a NULL v. */
static void
set (json_t *obj, const char *key, json_t *v)
{
  if (v)
    json_object_set_new (obj, key, v);
}

/* An array of {kind, id} from an ArrayOfManagedObjectReference. */
static json_t *
ref_array (xmlNodePtr val)
{
  json_t *a = json_array ();

  for (xmlNodePtr c = vsphere_xml_child (val, NULL); a && c;
       c = vsphere_xml_next (c, NULL)) {
    json_t *r = vsphere_ref_json (c);
    if (r)
      json_array_append_new (a, r);
  }
  return a;
}

static json_t *
base_doc (const struct vsphere_object *obj)
{
  json_t *doc = json_pack ("{s:s}", "id", obj->id);

  if (!doc)
    return NULL;
  set (doc, "name", vsphere_xml_str (vsphere_prop (obj, "name"), NULL));
  set (doc, "parent", vsphere_ref_json (vsphere_prop (obj, "parent")));
  return doc;
}

/* ---- Devices ---------------------------------------------------------- */

static const char *
controller_bus (const char *type)
{
  if (!type)
    return NULL;
  if (strstr (type, "SCSI") || strstr (type, "LsiLogic")
      || strstr (type, "BusLogic"))
    return "scsi";
  if (strstr (type, "IDE"))
    return "ide";
  if (strstr (type, "AHCI") || strstr (type, "SATA"))
    return "sata";
  if (strstr (type, "NVME"))
    return "nvme";
  return NULL;
}

static bool
is_nic (const char *type)
{
  static const char *const nics[] = {
    "VirtualVmxnet3", "VirtualVmxnet3Vrdma", "VirtualVmxnet2",
    "VirtualVmxnet", "VirtualE1000", "VirtualE1000e", "VirtualPCNet32",
    "VirtualSriovEthernetCard",
  };
  for (size_t i = 0; i < sizeof nics / sizeof nics[0]; i++)
    if (strcmp (type, nics[i]) == 0)
      return true;
  return false;
}

/* Fills disks, nics, networks and devices from config.hardware.device. */
static void
vm_devices (json_t *doc, xmlNodePtr devices, const char *vm_id)
{
  json_t *disks = json_array (), *nics = json_array ();
  json_t *networks = json_array (), *others = json_array ();
  json_t *buses = json_object ();
  bool tpm = false;

  /* First pass: controllers by key. */
  for (xmlNodePtr d = vsphere_xml_child (devices, NULL); d;
       d = vsphere_xml_next (d, NULL)) {
    VSPHERE_CLEANUP_FREE char *type = vsphere_xml_type (d);
    VSPHERE_CLEANUP_FREE char *key = vsphere_xml_text (d, "key");
    const char *bus = controller_bus (type);
    if (bus && key)
      json_object_set_new (buses, key, json_string (bus));
  }

  for (xmlNodePtr d = vsphere_xml_child (devices, NULL); d;
       d = vsphere_xml_next (d, NULL)) {
    VSPHERE_CLEANUP_FREE char *type = vsphere_xml_type (d);
    if (!type)
      continue;
    if (strcmp (type, "VirtualDisk") == 0) {
      xmlNodePtr b = vsphere_xml_child (d, "backing");
      VSPHERE_CLEANUP_FREE char *btype = vsphere_xml_type (b);
      VSPHERE_CLEANUP_FREE char *ctl = vsphere_xml_text (d, "controllerKey");
      VSPHERE_CLEANUP_FREE char *sharing = vsphere_xml_text (b, "sharing");
      json_t *cap = vsphere_xml_int (d, "capacityInBytes");
      json_t *key = vsphere_xml_int (d, "key");
      json_t *disk;
      char id[128];

      if (!cap || json_integer_value (cap) == 0) {
        json_t *kb = vsphere_xml_int (d, "capacityInKB");
        json_decref (cap);
        cap = json_integer (kb ? json_integer_value (kb) * 1024 : 0);
        json_decref (kb);
      }
      disk = json_object ();
      if (!disk) {
        json_decref (cap);
        json_decref (key);
        continue;
      }
      snprintf (id, sizeof id, "%s-%" JSON_INTEGER_FORMAT, vm_id,
                key ? json_integer_value (key) : (json_int_t) 0);
      set (disk, "id", json_string (id));
      set (disk, "key", key);
      set (disk, "file", vsphere_xml_str (b, "fileName"));
      set (disk, "datastore", vsphere_ref_json (vsphere_xml_child (b, "datastore")));
      set (disk, "capacity", cap);
      set (disk, "shared", json_boolean (sharing
                                         && strcmp (sharing, "sharingNone") != 0));
      set (disk, "rdm", json_boolean (btype && strstr (btype, "RawDiskMapping")));
      set (disk, "bus", json_incref (json_object_get (buses, ctl ? ctl : "")));
      set (disk, "mode", vsphere_xml_str (b, "diskMode"));
      set (disk, "serial", vsphere_xml_str (b, "uuid"));
      set (disk, "thinProvisioned", vsphere_xml_bool (b, "thinProvisioned"));
      set (disk, "changeId", vsphere_xml_str (b, "changeId"));
      json_array_append_new (disks, disk);
    }
    else if (is_nic (type)) {
      xmlNodePtr b = vsphere_xml_child (d, "backing");
      VSPHERE_CLEANUP_FREE char *btype = vsphere_xml_type (b);
      json_t *net = NULL, *nic;

      if (btype && strstr (btype, "DistributedVirtualPort")) {
        VSPHERE_CLEANUP_FREE char *pg = vsphere_xml_text (b, "port/portgroupKey");
        if (pg)
          net = json_pack ("{s:s, s:s}", "kind", "Network", "id", pg);
      }
      else if (btype && strstr (btype, "Opaque")) {
        VSPHERE_CLEANUP_FREE char *on = vsphere_xml_text (b, "opaqueNetworkId");
        if (on)
          net = json_pack ("{s:s, s:s}", "kind", "Network", "id", on);
      }
      else {
        net = vsphere_ref_json (vsphere_xml_child (b, "network"));
        if (net)
          json_object_set_new (net, "kind", json_string ("Network"));
      }
      nic = json_object ();
      if (!nic) {
        json_decref (net);
        continue;
      }
      set (nic, "mac", vsphere_xml_str (d, "macAddress"));
      set (nic, "model", json_string (type + (strncmp (type, "Virtual", 7) == 0 ? 7 : 0)));
      set (nic, "key", vsphere_xml_int (d, "key"));
      set (nic, "index", json_integer ((json_int_t) json_array_size (nics)));
      if (net) {
        set (nic, "network", json_deep_copy (net));
        /* networks[] lists each network once. */
        bool seen = false;
        size_t i;
        json_t *n;
        json_array_foreach (networks, i, n)
          if (json_equal (n, net))
            seen = true;
        if (!seen)
          json_array_append (networks, net);
        json_decref (net);
      }
      json_array_append_new (nics, nic);
    }
    else if (strcmp (type, "VirtualTPM") == 0)
      tpm = true;
    else if (strstr (type, "USB") || strstr (type, "PCIPassthrough")
             || strstr (type, "SerialPort") || strstr (type, "ParallelPort"))
      json_array_append_new (others, json_pack ("{s:s}", "kind", type));
  }
  json_object_set_new (doc, "disks", disks);
  json_object_set_new (doc, "nics", nics);
  json_object_set_new (doc, "networks", networks);
  json_object_set_new (doc, "devices", others);
  json_object_set_new (doc, "tpmEnabled", json_boolean (tpm));
  json_decref (buses);
}

json_t *
vsphere_vm_doc (const struct vsphere_object *obj)
{
  json_t *doc = base_doc (obj);

  if (!doc)
    return NULL;
  set (doc, "uuid", vsphere_xml_str (vsphere_prop (obj, "config.uuid"), NULL));
  set (doc, "instanceUuid",
       vsphere_xml_str (vsphere_prop (obj, "config.instanceUuid"), NULL));
  set (doc, "firmware",
       vsphere_xml_str (vsphere_prop (obj, "config.firmware"), NULL));
  {
    json_t *sb = vsphere_xml_bool (vsphere_prop (obj, "config.bootOptions"),
                                   "efiSecureBootEnabled");
    json_object_set_new (doc, "secureBoot", sb ? sb : json_false ());
  }
  set (doc, "isTemplate",
       vsphere_xml_bool (vsphere_prop (obj, "config.template"), NULL));
  set (doc, "powerState",
       vsphere_xml_str (vsphere_prop (obj, "runtime.powerState"), NULL));
  set (doc, "connectionState",
       vsphere_xml_str (vsphere_prop (obj, "runtime.connectionState"), NULL));
  set (doc, "snapshot",
       vsphere_ref_json (vsphere_xml_child (vsphere_prop (obj, "snapshot"),
                                            "currentSnapshot")));
  {
    json_t *cbt = vsphere_xml_bool (vsphere_prop (obj, "config.changeTrackingEnabled"), NULL);
    json_object_set_new (doc, "changeTrackingEnabled", cbt ? cbt : json_false ());
  }
  {
    json_t *aff = json_array ();
    xmlNodePtr a = vsphere_prop (obj, "config.cpuAffinity");
    for (xmlNodePtr c = vsphere_xml_child (a, "affinitySet"); aff && c;
         c = vsphere_xml_next (c, "affinitySet"))
      json_array_append_new (aff, vsphere_xml_int (c, NULL));
    json_object_set_new (doc, "cpuAffinity", aff);
  }
  set (doc, "cpuHotAddEnabled",
       vsphere_xml_bool (vsphere_prop (obj, "config.cpuHotAddEnabled"), NULL));
  set (doc, "cpuHotRemoveEnabled",
       vsphere_xml_bool (vsphere_prop (obj, "config.cpuHotRemoveEnabled"), NULL));
  set (doc, "memoryHotAddEnabled",
       vsphere_xml_bool (vsphere_prop (obj, "config.memoryHotAddEnabled"), NULL));
  {
    VSPHERE_CLEANUP_FREE char *ft =
      vsphere_xml_text (vsphere_prop (obj, "runtime.faultToleranceState"), NULL);
    json_object_set_new (doc, "faultToleranceEnabled",
                         json_boolean (ft && strcmp (ft, "notConfigured") != 0));
  }
  set (doc, "cpuCount",
       vsphere_xml_int (vsphere_prop (obj, "config.hardware.numCPU"), NULL));
  {
    json_t *cps = vsphere_xml_int (vsphere_prop (obj, "config.hardware.numCoresPerSocket"), NULL);
    json_object_set_new (doc, "coresPerSocket", cps ? cps : json_integer (1));
  }
  set (doc, "memoryMB",
       vsphere_xml_int (vsphere_prop (obj, "config.hardware.memoryMB"), NULL));
  set (doc, "guestId", vsphere_xml_str (vsphere_prop (obj, "config.guestId"), NULL));
  set (doc, "guestName",
       vsphere_xml_str (vsphere_prop (obj, "config.guestFullName"), NULL));
  set (doc, "hostName", vsphere_xml_str (vsphere_prop (obj, "guest.hostName"), NULL));
  set (doc, "ipAddress", vsphere_xml_str (vsphere_prop (obj, "guest.ipAddress"), NULL));
  set (doc, "toolsRunningStatus",
       vsphere_xml_str (vsphere_prop (obj, "guest.toolsRunningStatus"), NULL));
  set (doc, "balloonedMemory",
       vsphere_xml_int (vsphere_prop (obj, "summary.quickStats.balloonedMemory"), NULL));
  set (doc, "storageUsed",
       vsphere_xml_int (vsphere_prop (obj, "summary.storage.committed"), NULL));
  {
    json_t *cn = vsphere_xml_bool (vsphere_prop (obj, "runtime.consolidationNeeded"), NULL);
    json_object_set_new (doc, "consolidationNeeded", cn ? cn : json_false ());
  }
  {
    VSPHERE_CLEANUP_FREE char *host =
      vsphere_xml_text (vsphere_prop (obj, "runtime.host"), NULL);
    set (doc, "host", host ? json_string (host) : NULL);
  }
  set (doc, "path",
       vsphere_xml_str (vsphere_prop (obj, "config.files.vmPathName"), NULL));
  vm_devices (doc, vsphere_prop (obj, "config.hardware.device"), obj->id);
  return doc;
}

/* ---- Other kinds -------------------------------------------------------- */

static json_t *
cluster_doc (const struct vsphere_object *obj)
{
  json_t *doc = base_doc (obj);
  xmlNodePtr cfg = vsphere_prop (obj, "configurationEx");
  json_t *das, *drs;

  if (!doc)
    return NULL;
  das = vsphere_xml_bool (cfg, "dasConfig/enabled");
  drs = vsphere_xml_bool (cfg, "drsConfig/enabled");
  json_object_set_new (doc, "dasEnabled", das ? das : json_false ());
  json_object_set_new (doc, "drsEnabled", drs ? drs : json_false ());
  set (doc, "drsBehavior", vsphere_xml_str (cfg, "drsConfig/defaultVmBehavior"));
  json_object_set_new (doc, "hosts", ref_array (vsphere_prop (obj, "host")));
  json_object_set_new (doc, "datastores", ref_array (vsphere_prop (obj, "datastore")));
  json_object_set_new (doc, "networks", ref_array (vsphere_prop (obj, "network")));
  return doc;
}

static json_t *
host_networking (xmlNodePtr net)
{
  json_t *pnics = json_array (), *vnics = json_array ();
  json_t *pgs = json_array (), *sws = json_array ();

  for (xmlNodePtr c = vsphere_xml_child (net, "pnic"); c;
       c = vsphere_xml_next (c, "pnic")) {
    json_t *p = json_object ();
    set (p, "key", vsphere_xml_str (c, "key"));
    set (p, "linkSpeed", vsphere_xml_int (c, "linkSpeed/speedMb"));
    json_array_append_new (pnics, p);
  }
  for (xmlNodePtr c = vsphere_xml_child (net, "vnic"); c;
       c = vsphere_xml_next (c, "vnic")) {
    json_t *v = json_object ();
    json_t *pg = vsphere_xml_str (c, "portgroup");
    set (v, "key", vsphere_xml_str (c, "key"));
    json_object_set_new (v, "portGroup", pg ? pg : json_string (""));
    set (v, "dPortGroup", vsphere_xml_str (c, "spec/distributedVirtualPort/portgroupKey"));
    if (!json_object_get (v, "dPortGroup"))
      json_object_set_new (v, "dPortGroup", json_string (""));
    set (v, "ipAddress", vsphere_xml_str (c, "spec/ip/ipAddress"));
    set (v, "subnetMask", vsphere_xml_str (c, "spec/ip/subnetMask"));
    set (v, "mtu", vsphere_xml_int (c, "spec/mtu"));
    json_array_append_new (vnics, v);
  }
  for (xmlNodePtr c = vsphere_xml_child (net, "portgroup"); c;
       c = vsphere_xml_next (c, "portgroup")) {
    json_t *p = json_object ();
    set (p, "key", vsphere_xml_str (c, "key"));
    set (p, "name", vsphere_xml_str (c, "spec/name"));
    set (p, "vSwitch", vsphere_xml_str (c, "vswitch"));
    json_array_append_new (pgs, p);
  }
  for (xmlNodePtr c = vsphere_xml_child (net, "vswitch"); c;
       c = vsphere_xml_next (c, "vswitch")) {
    json_t *s = json_object (), *a = json_array (), *b = json_array ();
    set (s, "key", vsphere_xml_str (c, "key"));
    set (s, "name", vsphere_xml_str (c, "name"));
    for (xmlNodePtr p = vsphere_xml_child (c, "portgroup"); p;
         p = vsphere_xml_next (p, "portgroup"))
      json_array_append_new (a, vsphere_xml_str (p, NULL));
    for (xmlNodePtr p = vsphere_xml_child (c, "pnic"); p;
         p = vsphere_xml_next (p, "pnic"))
      json_array_append_new (b, vsphere_xml_str (p, NULL));
    json_object_set_new (s, "portGroups", a);
    json_object_set_new (s, "pNICs", b);
    json_array_append_new (sws, s);
  }
  return json_pack ("{s:o, s:o, s:o, s:o}", "pNICs", pnics, "vNICs", vnics,
                    "portGroups", pgs, "switches", sws);
}

static json_t *
host_doc (const struct vsphere_object *obj)
{
  json_t *doc = base_doc (obj);
  xmlNodePtr hw = vsphere_prop (obj, "summary.hardware");
  xmlNodePtr prod = vsphere_prop (obj, "config.product");
  json_t *m;

  if (!doc)
    return NULL;
  m = vsphere_xml_bool (vsphere_prop (obj, "runtime.inMaintenanceMode"), NULL);
  json_object_set_new (doc, "inMaintenance", m ? m : json_false ());
  set (doc, "connectionState",
       vsphere_xml_str (vsphere_prop (obj, "runtime.connectionState"), NULL));
  set (doc, "productName", vsphere_xml_str (prod, "name"));
  set (doc, "productVersion", vsphere_xml_str (prod, "version"));
  set (doc, "cpuSockets", vsphere_xml_int (hw, "numCpuPkgs"));
  set (doc, "cpuCores", vsphere_xml_int (hw, "numCpuCores"));
  set (doc, "networking", host_networking (vsphere_prop (obj, "config.network")));
  json_object_set_new (doc, "datastores", ref_array (vsphere_prop (obj, "datastore")));
  json_object_set_new (doc, "networks", ref_array (vsphere_prop (obj, "network")));
  return doc;
}

static json_t *
datastore_doc (const struct vsphere_object *obj)
{
  json_t *doc = base_doc (obj);
  xmlNodePtr s = vsphere_prop (obj, "summary");

  if (!doc)
    return NULL;
  set (doc, "type", vsphere_xml_str (s, "type"));
  set (doc, "capacity", vsphere_xml_int (s, "capacity"));
  set (doc, "free", vsphere_xml_int (s, "freeSpace"));
  set (doc, "maintenance", vsphere_xml_str (s, "maintenanceMode"));
  set (doc, "url", vsphere_xml_str (s, "url"));
  return doc;
}

static json_t *
network_doc (const struct vsphere_object *obj)
{
  json_t *doc = base_doc (obj);

  if (!doc)
    return NULL;
  if (strcmp (obj->type, "DistributedVirtualPortgroup") == 0) {
    json_object_set_new (doc, "variant", json_string ("DvPortGroup"));
    set (doc, "dvSwitch",
         vsphere_ref_json (vsphere_prop (obj, "config.distributedVirtualSwitch")));
    set (doc, "key", vsphere_xml_str (vsphere_prop (obj, "config.key"), NULL));
  }
  else if (strcmp (obj->type, "OpaqueNetwork") == 0)
    json_object_set_new (doc, "variant", json_string ("OpaqueNetwork"));
  else
    json_object_set_new (doc, "variant", json_string ("Standard"));
  return doc;
}

/* ---- The full sync ------------------------------------------------------ */

struct sync {
  struct ferry_inventory_sink *sink;
  const char *only;                     /* the type being read: a view of
                                           Network also holds its subtypes */
  int count;
};

static int
put (struct sync *s, const char *kind, json_t *doc, const char *parent_id)
{
  int r;

  if (!doc) {
    ferry_error ("vsphere: inventory: %s document: out of memory", kind);
    return -1;
  }
  r = s->sink->put (s->sink, kind,
                    json_string_value (json_object_get (doc, "id")),
                    json_string_value (json_object_get (doc, "name")),
                    parent_id, doc);
  json_decref (doc);
  if (r == 0)
    s->count++;
  return r;
}

static const char *
parent_id (json_t *doc)
{
  return json_string_value (json_object_get (json_object_get (doc, "parent"), "id"));
}

static int
on_vm (struct vsphere_handle *h, const struct vsphere_object *obj, void *opaque)
{
  struct sync *s = opaque;
  VSPHERE_CLEANUP_JSON json_t *doc = vsphere_vm_doc (obj);
  size_t i;
  json_t *d;

  if (!doc) {
    ferry_error ("vsphere: inventory: VM %s: out of memory", obj->id);
    return -1;
  }
  json_array_foreach (json_object_get (doc, "disks"), i, d) {
    json_t *dd = json_deep_copy (d);
    if (!dd)
      return put (s, FERRY_INV_DISK, NULL, NULL);
    json_object_set_new (dd, "vm", json_pack ("{s:s, s:s}", "kind", "VM",
                                              "id", obj->id));
    if (!json_object_get (dd, "name"))
      json_object_set (dd, "name", json_object_get (dd, "file"));
    if (put (s, FERRY_INV_DISK, dd, obj->id) == -1)
      return -1;
  }
  return put (s, FERRY_INV_VM, json_incref (doc), parent_id (doc));
}

static int
on_other (struct vsphere_handle *h, const struct vsphere_object *obj,
          void *opaque)
{
  struct sync *s = opaque;
  const char *t = obj->type;
  json_t *doc;
  const char *kind;

  if (s->only && strcmp (t, s->only) != 0)
    return 0;
  if (strcmp (t, "Datacenter") == 0)
    doc = base_doc (obj), kind = FERRY_INV_DATACENTER;
  else if (strcmp (t, "Folder") == 0)
    doc = base_doc (obj), kind = FERRY_INV_FOLDER;
  else if (strcmp (t, "ClusterComputeResource") == 0)
    doc = cluster_doc (obj), kind = FERRY_INV_CLUSTER;
  else if (strcmp (t, "HostSystem") == 0)
    doc = host_doc (obj), kind = FERRY_INV_HOST;
  else if (strcmp (t, "Datastore") == 0)
    doc = datastore_doc (obj), kind = FERRY_INV_STORAGE;
  else if (strcmp (t, "Network") == 0 || strcmp (t, "OpaqueNetwork") == 0
           || strcmp (t, "DistributedVirtualPortgroup") == 0)
    doc = network_doc (obj), kind = FERRY_INV_NETWORK;
  else
    return 0;                           /* e.g. a plain ComputeResource */
  return put (s, kind, doc, doc ? parent_id (doc) : NULL);
}

/* Every kind the inventory reads, VMs last. */
static const struct kind {
  const char *type;
  const char *const *paths;
  vsphere_object_fn fn;
} kinds[] = {
  { "Datacenter", dc_paths, on_other },
  { "Folder", folder_paths, on_other },
  { "ClusterComputeResource", cluster_paths, on_other },
  { "HostSystem", host_paths, on_other },
  { "Datastore", ds_paths, on_other },
  { "DistributedVirtualPortgroup", dvpg_paths, on_other },
  { "Network", net_paths, on_other },
  { "OpaqueNetwork", net_paths, on_other },
  { "VirtualMachine", vsphere_vm_paths, on_vm },
};
#define NR_KINDS (sizeof kinds / sizeof kinds[0])

static const struct kind *
kind_of_type (const char *type)
{
  for (size_t i = 0; i < NR_KINDS; i++)
    if (strcmp (kinds[i].type, type) == 0)
      return &kinds[i];
  return NULL;
}

static const char *
inv_kind (const char *type)
{
  if (strcmp (type, "VirtualMachine") == 0) return FERRY_INV_VM;
  if (strcmp (type, "Datacenter") == 0) return FERRY_INV_DATACENTER;
  if (strcmp (type, "Folder") == 0) return FERRY_INV_FOLDER;
  if (strcmp (type, "ClusterComputeResource") == 0) return FERRY_INV_CLUSTER;
  if (strcmp (type, "HostSystem") == 0) return FERRY_INV_HOST;
  if (strcmp (type, "Datastore") == 0) return FERRY_INV_STORAGE;
  return FERRY_INV_NETWORK;
}

int
vsphere_inventory_sync (struct vsphere_handle *h,
                        struct ferry_inventory_sink *sink)
{
  struct sync s = { .sink = sink };

  for (size_t i = 0; i < NR_KINDS; i++) {
    s.only = kinds[i].type;
    if (vsphere_retrieve_all (h, kinds[i].type, kinds[i].paths, kinds[i].fn,
                              &s) == -1)
      return -1;
  }
  return s.count;
}

/* ---- Incremental: WaitForUpdatesEx -------------------------------------- */

/* A private PropertyCollector with one filter per kind (each over a
 * ContainerView of the root folder), made on the first watch of a handle.
 */
static int
watch_setup (struct vsphere_handle *h)
{
  VSPHERE_CLEANUP_XML xmlDocPtr doc = NULL;
  xmlNodePtr rv;

  if (vsphere_call (h, "CreatePropertyCollector", "PropertyCollector",
                    h->property_collector, NULL, NULL, &doc, &rv) == -1)
    return -1;
  h->watch_collector = vsphere_xml_text (rv, NULL);
  h->watch_logins = h->logins;
  if (!h->watch_collector || !*h->watch_collector) {
    ferry_error ("vsphere: CreatePropertyCollector: no collector in the answer");
    return -1;
  }
  for (size_t i = 0; i < NR_KINDS; i++) {
    VSPHERE_CLEANUP_XML xmlDocPtr vdoc = NULL, fdoc = NULL;
    VSPHERE_CLEANUP_FREE char *args = NULL, *fargs = NULL, *props = NULL;
    char *view;
    size_t len = strlen (kinds[i].type) + 64;

    for (size_t p = 0; kinds[i].paths[p]; p++)
      len += strlen (kinds[i].paths[p]) + 22;
    props = malloc (len);
    if (!props
        || asprintf (&args, "<container type=\"Folder\">%s</container>"
                     "<type>%s</type><recursive>true</recursive>",
                     h->root, kinds[i].type) == -1) {
      args = NULL;
      ferry_error ("vsphere: watch: out of memory");
      return -1;
    }
    {
      char *p = props;
      p += sprintf (p, "<propSet><type>%s</type>", kinds[i].type);
      for (size_t k = 0; kinds[i].paths[k]; k++)
        p += sprintf (p, "<pathSet>%s</pathSet>", kinds[i].paths[k]);
      strcpy (p, "</propSet>");
    }
    if (vsphere_call (h, "CreateContainerView", "ViewManager", h->view_manager,
                      args, kinds[i].type, &vdoc, &rv) == -1)
      return -1;
    view = vsphere_xml_text (rv, NULL);
    if (!view) {
      ferry_error ("vsphere: CreateContainerView of %s: no view", kinds[i].type);
      return -1;
    }
    h->watch_views[h->nr_watch_views++] = view;
    if (asprintf (&fargs,
                  "<spec>%s<objectSet><obj type=\"ContainerView\">%s</obj>"
                  "<skip>true</skip>"
                  "<selectSet xsi:type=\"TraversalSpec\"><name>view</name>"
                  "<type>ContainerView</type><path>view</path>"
                  "<skip>false</skip></selectSet></objectSet></spec>"
                  "<partialUpdates>false</partialUpdates>",
                  props, view) == -1) {
      fargs = NULL;
      ferry_error ("vsphere: watch: out of memory");
      return -1;
    }
    if (vsphere_call (h, "CreateFilter", "PropertyCollector",
                      h->watch_collector, fargs, kinds[i].type, &fdoc,
                      &rv) == -1)
      return -1;
  }
  return 0;
}

void
vsphere_watch_close (struct vsphere_handle *h)
{
  for (size_t i = 0; i < h->nr_watch_views; i++) {
    VSPHERE_CLEANUP_XML xmlDocPtr doc = NULL;
    xmlNodePtr rv;
    if (h->logged_in)
      (void) vsphere_call (h, "DestroyView", "ContainerView",
                           h->watch_views[i], NULL, NULL, &doc, &rv);
    free (h->watch_views[i]);
  }
  h->nr_watch_views = 0;
  if (h->watch_collector && h->logged_in) {
    VSPHERE_CLEANUP_XML xmlDocPtr doc = NULL;
    xmlNodePtr rv;
    (void) vsphere_call (h, "DestroyPropertyCollector", "PropertyCollector",
                         h->watch_collector, NULL, NULL, &doc, &rv);
  }
  free (h->watch_collector);
  h->watch_collector = NULL;
}

/* One object of an update set: entered or modified objects are read again
 * whole (so documents never mix revisions), departed ones removed.
 */
static int
watch_object (struct vsphere_handle *h, struct sync *s, xmlNodePtr os)
{
  xmlNodePtr ref = vsphere_xml_child (os, "obj");
  VSPHERE_CLEANUP_FREE char *kind = vsphere_xml_text (os, "kind");
  VSPHERE_CLEANUP_FREE char *id = vsphere_xml_text (ref, NULL);
  xmlChar *type = ref ? xmlGetNoNsProp (ref, (const xmlChar *) "type") : NULL;
  const struct kind *k;
  int r = 0;

  if (!kind || !id || !type) {
    xmlFree (type);
    ferry_error ("vsphere: WaitForUpdatesEx: an object update without kind, "
                 "obj or type");
    return -1;
  }
  k = kind_of_type ((const char *) type);
  if (k && strcmp (kind, "leave") == 0) {
    r = s->sink->remove ? s->sink->remove (s->sink, inv_kind (k->type), id) : 0;
    if (r == 0)
      s->count++;
  }
  else if (k) {
    s->only = k->type;
    r = vsphere_retrieve_one (h, k->type, id, k->paths, k->fn, s);
    /* Changed, then deleted before we read it (its "leave" follows in
     * this update set or the next): it is gone.
     */
    if (r == -1 && strstr (ferry_get_error (), "ManagedObjectNotFound")) {
      r = s->sink->remove ? s->sink->remove (s->sink, inv_kind (k->type), id) : 0;
      if (r == 0)
        s->count++;
    }
  }
  xmlFree (type);
  return r;
}

static int
watch_once (struct vsphere_handle *h, struct ferry_inventory_sink *sink,
            char **version)
{
  struct sync s = { .sink = sink };
  VSPHERE_CLEANUP_FREE char *v = NULL;

  if (h->watch_collector && h->watch_logins != h->logins) {
    /* A new session: the old collector and views are gone with the old
     * one; forget them and start from a full listing.
     */
    for (size_t i = 0; i < h->nr_watch_views; i++)
      free (h->watch_views[i]);
    h->nr_watch_views = 0;
    free (h->watch_collector);
    h->watch_collector = NULL;
  }
  if (!h->watch_collector) {
    /* A fresh collector knows no version: start from its full listing. */
    if (watch_setup (h) == -1) {
      vsphere_watch_close (h);
      return -1;
    }
    v = strdup ("");
  }
  else
    v = strdup (*version ? *version : "");
  if (!v) {
    ferry_error ("vsphere: watch: out of memory");
    return -1;
  }
  for (;;) {
    VSPHERE_CLEANUP_XML xmlDocPtr doc = NULL;
    VSPHERE_CLEANUP_FREE char *esc = vsphere_xml_escape (v);
    VSPHERE_CLEANUP_FREE char *args = NULL;
    VSPHERE_CLEANUP_FREE char *truncated = NULL;
    xmlNodePtr rv;

    if (!esc
        || asprintf (&args, "<version>%s</version><options>"
                     "<maxWaitSeconds>0</maxWaitSeconds></options>", esc) == -1) {
      args = NULL;
      ferry_error ("vsphere: watch: out of memory");
      return -1;
    }
    if (vsphere_call (h, "WaitForUpdatesEx", "PropertyCollector",
                      h->watch_collector, args, NULL, &doc, &rv) == -1)
      return -1;
    if (!rv)                            /* nothing changed */
      break;
    for (xmlNodePtr fs = vsphere_xml_child (rv, "filterSet"); fs;
         fs = vsphere_xml_next (fs, "filterSet"))
      for (xmlNodePtr os = vsphere_xml_child (fs, "objectSet"); os;
           os = vsphere_xml_next (os, "objectSet"))
        if (watch_object (h, &s, os) == -1)
          return -1;
    free (v);
    v = vsphere_xml_text (rv, "version");
    if (!v) {
      ferry_error ("vsphere: WaitForUpdatesEx: an update set without version");
      return -1;
    }
    truncated = vsphere_xml_text (rv, "truncated");
    if (!truncated || strcmp (truncated, "true") != 0)
      break;
  }
  free (*version);
  *version = v;
  v = NULL;
  return s.count;
}

int
vsphere_watch (struct vsphere_handle *h, struct ferry_inventory_sink *sink,
               char **version)
{
  unsigned logins = h->logins;
  int r = watch_once (h, sink, version);

  /* The session expired and the module logged in again: the collector
   * died with the old session.  Start over once with a new one.
   */
  if (r == -1 && h->logins != logins)
    r = watch_once (h, sink, version);
  return r;
}
