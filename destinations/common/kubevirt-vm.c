/* ferry destinations: neutral VM spec -> kubevirt.io/v1 VirtualMachine,
 * shared by the local module (a manifest on disk) and the kubevirt module
 * (created in a cluster; opts->cluster adds what a cluster VM carries).
 *
 * Keys are emitted in a fixed order (jansson keeps insertion order), so the
 * output is byte-for-byte stable and the golden files mean something.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>
#include <jansson.h>

#include "ferry/error.h"
#include "common.h"

/* json_object_set_new that remembers failure instead of returning it at
 * every call; allocation failures surface once at the end.
 */
struct builder {
  const char *who;                      /* error prefix */
  int failed;
};

static void
put (struct builder *b, json_t *obj, const char *key, json_t *value)
{
  if (value == NULL || obj == NULL || json_object_set_new (obj, key, value) == -1)
    b->failed = 1;
}

static void
append (struct builder *b, json_t *arr, json_t *value)
{
  if (value == NULL || arr == NULL || json_array_append_new (arr, value) == -1)
    b->failed = 1;
}

/* A copy of a string -> string map (labels, annotations, nodeSelector);
 * NULL if absent or empty.  Non-string values are refused.
 */
static int
copy_string_map (const char *who, const json_t *spec, const char *key,
                 json_t **out)
{
  const json_t *m = json_object_get (spec, key);
  const char *k;
  const json_t *v;

  *out = NULL;
  if (m == NULL || json_is_null (m))
    return 0;
  if (!json_is_object (m)) {
    ferry_error ("%s: %s: not an object of strings", who, key);
    return -1;
  }
  json_object_foreach ((json_t *) m, k, v) {
    if (!json_is_string (v)) {
      ferry_error ("%s: %s.%s: not a string", who, key, k);
      return -1;
    }
  }
  if (json_object_size (m) > 0)
    *out = json_deep_copy (m);
  return 0;
}

static const char *
run_strategy (const json_t *spec)
{
  const char *rs = json_string_value (json_object_get (spec, "runStrategy"));
  const char *ps = json_string_value (json_object_get (spec, "powerState"));

  if (rs != NULL && rs[0] != '\0')
    return rs;
  if (ps != NULL && strcmp (ps, "on") == 0)
    return "Always";
  return "Halted";
}

static int
check_run_strategy (const char *who, const char *rs)
{
  static const char *const known[] = {
    "Always", "Halted", "Manual", "RerunOnFailure", "Once", "WaitAsReceiver",
  };
  size_t i;

  for (i = 0; i < sizeof known / sizeof known[0]; ++i)
    if (strcmp (rs, known[i]) == 0)
      return 0;
  ferry_error ("%s: runStrategy \"%s\": unknown (Always, Halted, Manual, RerunOnFailure, Once)",
               who, rs);
  return -1;
}

static json_t *
firmware (struct builder *b, const json_t *spec, int cluster)
{
  const char *serial = json_string_value (json_object_get (spec, "serial"));
  const char *fw = json_string_value (json_object_get (spec, "firmware"));
  const char *uuid = json_string_value (json_object_get (spec, "uuid"));
  json_t *firmware = json_object ();
  json_t *bootloader = json_object ();

  if (fw != NULL && strcmp (fw, "efi") == 0) {
    json_t *efi = json_object ();
    put (b, efi, "secureBoot",
         json_boolean (json_is_true (json_object_get (spec, "secureBoot"))));
    put (b, bootloader, "efi", efi);
  }
  else
    put (b, bootloader, "bios", json_object ());
  put (b, firmware, "bootloader", bootloader);
  if (uuid != NULL && uuid[0] != '\0')
    put (b, firmware, "uuid", json_string (uuid));
  /* Forklift keeps the source BIOS serial (vSphere: the VM's UUID). */
  if (cluster && serial != NULL && serial[0] != '\0')
    put (b, firmware, "serial", json_string (serial));
  return firmware;
}

static int
disks_and_volumes (struct builder *b, const json_t *spec, const json_t *volumes,
                   int data_volumes, json_t *disks, json_t *vols)
{
  const json_t *spec_disks = json_object_get (spec, "disks");
  const char *bus = vmspec_compatibility_mode (spec) ? "sata" : "virtio";
  int any_boot_order = 0;
  const json_t *d;
  size_t i;

  json_array_foreach (spec_disks, i, d)
    if (json_is_integer (json_object_get (d, "bootOrder")))
      any_boot_order = 1;

  json_array_foreach (spec_disks, i, d) {
    const json_t *vol = vmspec_disk_volume (b->who, spec, volumes, i);
    const char *vname, *serial;
    const json_t *bo;
    json_t *disk, *target, *volume, *pvc;

    if (vol == NULL)
      return -1;
    vname = json_string_value (json_object_get (vol, "name"));
    if (vmspec_check_name (b->who, "volume name", vname) == -1)
      return -1;

    disk = json_object ();
    target = json_object ();
    put (b, disk, "name", json_string (vname));
    put (b, target, "bus", json_string (bus));
    put (b, disk, "disk", target);
    bo = json_object_get (d, "bootOrder");
    if (json_is_integer (bo)) {
      if (json_integer_value (bo) < 1) {
        ferry_error ("%s: disk %zu: bootOrder must be 1 or more", b->who, i);
        json_decref (disk);
        return -1;
      }
      put (b, disk, "bootOrder", json_integer (json_integer_value (bo)));
    }
    else if (!any_boot_order && i == 0)
      put (b, disk, "bootOrder", json_integer (1));
    serial = json_string_value (json_object_get (d, "serial"));
    if (serial != NULL && serial[0] != '\0')
      put (b, disk, "serial", json_string (serial));
    if (json_is_true (json_object_get (d, "shared")))
      put (b, disk, "shareable", json_true ());
    append (b, disks, disk);

    volume = json_object ();
    pvc = json_object ();
    put (b, volume, "name", json_string (vname));
    if (data_volumes) {
      put (b, pvc, "name", json_string (vname));
      put (b, volume, "dataVolume", pvc);
    }
    else {
      put (b, pvc, "claimName", json_string (vname));
      put (b, volume, "persistentVolumeClaim", pvc);
    }
    append (b, vols, volume);
  }
  return 0;
}

static int
interfaces_and_networks (struct builder *b, const json_t *spec,
                         const char *vm, json_t *ifaces, json_t *networks)
{
  const char *model = vmspec_compatibility_mode (spec) ? "e1000e" : "virtio";
  const json_t *nic;
  size_t i, n = 0;
  int have_pod = 0;

  json_array_foreach (json_object_get (spec, "nics"), i, nic) {
    const json_t *target = json_object_get (nic, "target");
    const char *type = json_string_value (json_object_get (target, "type"));
    const char *mac = json_string_value (json_object_get (nic, "mac"));
    json_t *iface, *net;
    char name[32];

    if (type == NULL) {
      ferry_error ("%s: VM %s: NIC %zu: target.type missing (pod, multus or ignored)",
                   b->who, vm, i);
      return -1;
    }
    if (strcmp (type, "ignored") == 0)
      continue;
    if (mac != NULL && vmspec_check_mac (b->who, vm, mac) == -1)
      return -1;
    snprintf (name, sizeof name, "net-%zu", n++);
    iface = json_object ();
    net = json_object ();
    put (b, iface, "name", json_string (name));
    put (b, net, "name", json_string (name));
    if (strcmp (type, "pod") == 0) {
      if (have_pod) {
        ferry_error ("%s: VM %s: NIC %zu: a second NIC mapped to the pod network (KubeVirt allows one)",
                     b->who, vm, i);
        json_decref (iface);
        json_decref (net);
        return -1;
      }
      have_pod = 1;
      put (b, iface, "masquerade", json_object ());
      put (b, net, "pod", json_object ());
    }
    else if (strcmp (type, "multus") == 0) {
      const char *tname = json_string_value (json_object_get (target, "name"));
      const char *tns = json_string_value (json_object_get (target, "namespace"));
      json_t *multus = json_object ();
      char *network_name = NULL;

      if (tname == NULL || tname[0] == '\0') {
        ferry_error ("%s: VM %s: NIC %zu: multus target without a name",
                     b->who, vm, i);
        json_decref (iface);
        json_decref (net);
        json_decref (multus);
        return -1;
      }
      if (tns != NULL && tns[0] != '\0') {
        if (asprintf (&network_name, "%s/%s", tns, tname) == -1)
          network_name = NULL, b->failed = 1;
      }
      else
        network_name = strdup (tname);
      put (b, iface, "bridge", json_object ());
      put (b, multus, "networkName",
           network_name ? json_string (network_name) : NULL);
      put (b, net, "multus", multus);
      free (network_name);
    }
    else {
      ferry_error ("%s: VM %s: NIC %zu: target.type \"%s\": unknown (pod, multus or ignored)",
                   b->who, vm, i, type);
      json_decref (iface);
      json_decref (net);
      return -1;
    }
    if (mac != NULL)
      put (b, iface, "macAddress", json_string (mac));
    put (b, iface, "model", json_string (model));
    append (b, ifaces, iface);
    append (b, networks, net);
  }
  return 0;
}

/* What Forklift puts on a VM it creates: the labels it already has
 * (migration, plan, vmID: the core sets them) plus who created it, and
 * annotations with the source name and id, kept when the VM is renamed.
 */
static int
cluster_metadata (struct builder *b, const json_t *spec, json_t **labels,
                  json_t **annotations)
{
  const char *id = json_string_value (json_object_get (spec, "sourceId"));
  const char *src = json_string_value (json_object_get (spec, "sourceName"));
  const char *name = json_string_value (json_object_get (spec, "name"));

  if (*labels == NULL)
    *labels = json_object ();
  if (*annotations == NULL)
    *annotations = json_object ();
  if (*labels == NULL || *annotations == NULL) {
    b->failed = 1;
    return 0;
  }
  put (b, *labels, "app.kubernetes.io/created-by", json_string ("ferry"));
  if (src == NULL || src[0] == '\0')
    src = name;
  put (b, *annotations, "openshift.io/display-name", json_string (src));
  put (b, *annotations, "original-name", json_string (src));
  if (id != NULL && id[0] != '\0')
    put (b, *annotations, "original-ID", json_string (id));
  return 0;
}

json_t *
kubevirt_vm_build (const struct kubevirt_vm_options *opts,
                   const json_t *spec, const json_t *volumes)
{
  const char *who = opts->who;
  struct builder b = { .who = who };
  const char *vm, *ns, *rs, *fw, *machine;
  json_int_t sockets, cores, threads, mib;
  DEST_CLEANUP_JSON json_t *root = NULL;
  json_t *metadata, *vmspec, *template, *tmeta, *tspec, *domain, *cpu;
  json_t *memory, *devices, *disks, *ifaces, *networks, *vols;
  json_t *labels, *annotations, *node_selector;
  const json_t *clock, *affinity;
  char guest[64];

  if (!json_is_object (spec)) {
    ferry_error ("%s: VM spec: not an object", who);
    return NULL;
  }
  vm = vmspec_name (who, spec);
  if (vm == NULL)
    return NULL;
  ns = vmspec_namespace (spec, volumes);
  if (vmspec_check_name (who, "namespace", ns) == -1)
    return NULL;
  if (vmspec_cpu_topology (who, spec, &sockets, &cores, &threads) == -1 ||
      vmspec_memory_mib (who, spec, &mib) == -1)
    return NULL;
  rs = run_strategy (spec);
  if (check_run_strategy (who, rs) == -1)
    return NULL;
  fw = json_string_value (json_object_get (spec, "firmware"));
  if (fw != NULL && strcmp (fw, "efi") != 0 && strcmp (fw, "bios") != 0) {
    ferry_error ("%s: VM %s: firmware \"%s\": unknown (bios or efi)",
                 who, vm, fw);
    return NULL;
  }
  if (copy_string_map (who, spec, "labels", &labels) == -1)
    return NULL;
  if (copy_string_map (who, spec, "annotations", &annotations) == -1) {
    json_decref (labels);
    return NULL;
  }
  if (copy_string_map (who, spec, "nodeSelector", &node_selector) == -1) {
    json_decref (labels);
    json_decref (annotations);
    return NULL;
  }

  if (opts->cluster && cluster_metadata (&b, spec, &labels, &annotations) == -1) {
    json_decref (labels);
    json_decref (annotations);
    json_decref (node_selector);
    return NULL;
  }

  root = json_object ();
  put (&b, root, "apiVersion", json_string ("kubevirt.io/v1"));
  put (&b, root, "kind", json_string ("VirtualMachine"));
  metadata = json_object ();
  put (&b, metadata, "name", json_string (vm));
  put (&b, metadata, "namespace", json_string (ns));
  if (labels)
    put (&b, metadata, "labels", labels);
  if (annotations)
    put (&b, metadata, "annotations", annotations);
  put (&b, root, "metadata", metadata);

  vmspec = json_object ();
  put (&b, vmspec, "runStrategy", json_string (rs));
  template = json_object ();
  tmeta = json_object ();
  if (labels)
    put (&b, tmeta, "labels", json_deep_copy (labels));
  put (&b, template, "metadata", tmeta);
  tspec = json_object ();
  domain = json_object ();

  cpu = json_object ();
  put (&b, cpu, "sockets", json_integer (sockets));
  put (&b, cpu, "cores", json_integer (cores));
  put (&b, cpu, "threads", json_integer (threads));
  put (&b, domain, "cpu", cpu);

  memory = json_object ();
  snprintf (guest, sizeof guest, "%" JSON_INTEGER_FORMAT "Mi", mib);
  put (&b, memory, "guest", json_string (guest));
  put (&b, domain, "memory", memory);

  machine = json_string_value (json_object_get (spec, "machineType"));
  if (machine != NULL && machine[0] != '\0') {
    json_t *m = json_object ();
    put (&b, m, "type", json_string (machine));
    put (&b, domain, "machine", m);
  }

  put (&b, domain, "firmware", firmware (&b, spec, opts->cluster));
  if (fw != NULL && strcmp (fw, "efi") == 0 &&
      json_is_true (json_object_get (spec, "secureBoot"))) {
    /* KubeVirt refuses secure boot without SMM. */
    json_t *features = json_object (), *smm = json_object ();
    put (&b, smm, "enabled", json_true ());
    put (&b, features, "smm", smm);
    put (&b, domain, "features", features);
  }

  clock = json_object_get (spec, "clock");
  if (json_is_object (clock)) {
    const char *tz = json_string_value (json_object_get (clock, "timezone"));
    json_t *c = json_object ();
    if (tz != NULL && tz[0] != '\0')
      put (&b, c, "timezone", json_string (tz));
    else
      put (&b, c, "utc", json_object ());
    put (&b, domain, "clock", c);
  }

  devices = json_object ();
  disks = json_array ();
  ifaces = json_array ();
  networks = json_array ();
  vols = json_array ();
  put (&b, devices, "disks", disks);
  put (&b, devices, "interfaces", ifaces);
  if (json_is_true (json_object_get (spec, "tpm")))
    put (&b, devices, "tpm", json_object ());
  put (&b, domain, "devices", devices);
  put (&b, tspec, "domain", domain);
  put (&b, tspec, "networks", networks);
  put (&b, tspec, "volumes", vols);
  if (node_selector)
    put (&b, tspec, "nodeSelector", node_selector);
  affinity = json_object_get (spec, "affinity");
  if (json_is_object (affinity) && json_object_size (affinity) > 0)
    put (&b, tspec, "affinity", json_deep_copy (affinity));
  put (&b, template, "spec", tspec);
  put (&b, vmspec, "template", template);
  put (&b, root, "spec", vmspec);

  if (disks_and_volumes (&b, spec, volumes, opts->cluster, disks, vols) == -1 ||
      interfaces_and_networks (&b, spec, vm, ifaces, networks) == -1)
    return NULL;
  /* No NIC mapped: say so, or KubeVirt would attach a pod interface. */
  if (json_array_size (ifaces) == 0) {
    json_object_del (devices, "interfaces");
    json_object_del (tspec, "networks");
    put (&b, devices, "autoattachPodInterface", json_false ());
  }
  if (json_array_size (disks) == 0) {
    json_object_del (devices, "disks");
    json_object_del (tspec, "volumes");
  }
  if (b.failed) {
    ferry_error ("%s: VM %s: building the VirtualMachine: out of memory",
                 who, vm);
    return NULL;
  }
  {
    json_t *ret = root;
    root = NULL;
    return ret;
  }
}
