/* ferry vSphere provider: the neutral VM spec (include/ferry/vmspec.h)
 * from a VM document in Forklift's shape.  Pure: no server involved, so
 * tests/unit/test-vsphere-spec.c checks it against golden files.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include <ferry/error.h>
#include <ferry/vmspec.h>

#include "vsphere.h"

json_t *
vsphere_spec_from_doc (const json_t *doc, const char *vm_id)
{
  json_t *spec, *disks, *nics, *d, *n;
  json_int_t cpus, cps;
  const char *fw, *power, *guest;
  size_t i;

  cpus = json_integer_value (json_object_get (doc, "cpuCount"));
  cps = json_integer_value (json_object_get (doc, "coresPerSocket"));
  if (cpus <= 0)
    cpus = 1;
  if (cps <= 0 || cpus % cps != 0)
    cps = 1;
  fw = json_string_value (json_object_get (doc, "firmware"));
  power = json_string_value (json_object_get (doc, "powerState"));
  guest = json_string_value (json_object_get (doc, "guestId"));

  disks = json_array ();
  nics = json_array ();
  json_array_foreach (json_object_get (doc, "disks"), i, d) {
    char key[32];
    snprintf (key, sizeof key, "%" JSON_INTEGER_FORMAT,
              json_integer_value (json_object_get (d, "key")));
    json_t *disk = json_pack ("{s:s, s:O, s:s, s:O?, s:O, s:O?, s:O?, s:O?}",
                              "id", key,
                              "capacity", json_object_get (d, "capacity"),
                              "bus", "virtio",
                              "sourceBus", json_object_get (d, "bus"),
                              "shared", json_is_true (json_object_get (d, "shared"))
                                ? json_true () : json_false (),
                              "serial", json_object_get (d, "serial"),
                              "file", json_object_get (d, "file"),
                              "datastore",
                              json_object_get (json_object_get (d, "datastore"), "id"));
    if (disk)
      json_array_append_new (disks, disk);
  }
  /* The first disk boots (vSphere lists devices by controller and unit,
   * which puts the boot disk first on the usual layouts).
   */
  if (json_array_size (disks) > 0)
    json_object_set_new (json_array_get (disks, 0), "bootOrder",
                         json_integer (1));
  json_array_foreach (json_object_get (doc, "nics"), i, n) {
    json_t *nic = json_pack ("{s:O?, s:s, s:O?, s:O?}",
                             "mac", json_object_get (n, "mac"),
                             "model", "virtio",
                             "sourceModel", json_object_get (n, "model"),
                             "network",
                             json_object_get (json_object_get (n, "network"), "id"));
    if (nic)
      json_array_append_new (nics, nic);
  }
  spec = json_pack ("{s:O, s:s, s:{s:I, s:I, s:i}, s:O, s:s, s:b, s:b,"
                    " s:{s:s?, s:O?}, s:o, s:o, s:s, s:s, s:O?}",
                    FERRY_VMSPEC_NAME, json_object_get (doc, "name"),
                    FERRY_VMSPEC_SOURCE_ID, vm_id,
                    FERRY_VMSPEC_CPU, "sockets", cpus / cps, "cores", cps,
                    "threads", 1,
                    FERRY_VMSPEC_MEMORY_MB, json_object_get (doc, "memoryMB"),
                    FERRY_VMSPEC_FIRMWARE, fw && strcmp (fw, "efi") == 0 ? "efi" : "bios",
                    FERRY_VMSPEC_SECURE_BOOT,
                    json_is_true (json_object_get (doc, "secureBoot")),
                    FERRY_VMSPEC_TPM, json_is_true (json_object_get (doc, "tpmEnabled")),
                    "guest", "os", guest, "name", json_object_get (doc, "guestName"),
                    FERRY_VMSPEC_DISKS, disks,
                    FERRY_VMSPEC_NICS, nics,
                    FERRY_VMSPEC_POWER_STATE,
                    power && strcmp (power, "poweredOn") == 0 ? "on" : "off",
                    "runStrategy",
                    power && strcmp (power, "poweredOn") == 0 ? "Always" : "Halted",
                    "serial", json_object_get (doc, "uuid"));
  if (!spec)
    ferry_error ("vsphere: VM %s: building the spec: out of memory", vm_id);
  return spec;
}

