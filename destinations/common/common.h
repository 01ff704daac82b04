/* ferry destinations: what the local and kubevirt modules share
 * (a noinst convenience library linked into both, never installed).
 *
 * The functions are pure: they read the neutral VM spec
 * (include/ferry/vmspec.h) and volume objects.  Each reports its own error
 * through ferry_error(), prefixed with the module's name (who: "local",
 * "kubevirt"), and returns -1 / NULL.
 */
#ifndef FERRY_DEST_COMMON_H
#define FERRY_DEST_COMMON_H

#include <stdlib.h>
#include <unistd.h>
#include <jansson.h>

/* Modules may use only libferry's public API, so they keep their own
 * cleanup helpers instead of core/cleanup.h.
 */
static inline void
dest_cleanup_free (void *ptr)
{
  free (*(void **) ptr);
}

static inline void
dest_cleanup_json (json_t **ptr)
{
  json_decref (*ptr);
}

/* Hand a cleanup-owned value on: returns it and leaves NULL behind. */
static inline json_t *
dest_steal_json (json_t **ptr)
{
  json_t *v = *ptr;
  *ptr = NULL;
  return v;
}

#define DEST_CLEANUP_FREE __attribute__((cleanup (dest_cleanup_free)))
#define DEST_CLEANUP_JSON __attribute__((cleanup (dest_cleanup_json)))

/* ---- vmspec-read.c: the spec fields every translation reads alike ---- */

/* 0 if name is a DNS-1123 label (lowercase letters, digits, '-', starts
 * and ends with a letter or digit, 1..63 characters); otherwise -1 with
 * "WHO: WHAT "NAME": REASON".  A label never holds '/' or "..".
 */
int vmspec_check_name (const char *who, const char *what, const char *name);

/* The volume object that backs spec.disks[index]: the volume named by
 * disk.volume, else volumes[index].  Borrowed; NULL with an error.
 */
const json_t *vmspec_disk_volume (const char *who, const json_t *spec,
                                  const json_t *volumes, size_t index);

/* spec.namespace, else the first volume's namespace, else "default". */
const char *vmspec_namespace (const json_t *spec, const json_t *volumes);

/* spec.name, checked as a DNS-1123 label.  Borrowed. */
const char *vmspec_name (const char *who, const json_t *spec);

/* spec.compatibilityMode: raw copy without guest conversion, so the guest
 * keeps its old drivers: SATA disks and e1000e NICs.
 */
int vmspec_compatibility_mode (const json_t *spec);

/* 0 if mac looks like "xx:xx:xx:xx:xx:xx" (hex digits). */
int vmspec_check_mac (const char *who, const char *vm, const char *mac);

/* spec.cpu.{sockets,cores,threads}, each 1..4096 (default 1). */
int vmspec_cpu_topology (const char *who, const json_t *spec,
                         json_int_t *sockets, json_int_t *cores,
                         json_int_t *threads);

/* spec.memoryMB (> 0), in MiB. */
int vmspec_memory_mib (const char *who, const json_t *spec, json_int_t *mib);

/* ---- kubevirt-vm.c: neutral VM spec -> kubevirt.io/v1 VirtualMachine ---- */

struct kubevirt_vm_options {
  const char *who;                      /* error prefix: "local", "kubevirt" */
  /* Non-zero for a VM created in a cluster: volumes reference DataVolumes
   * (spec.template.spec.volumes[].dataVolume), Forklift's annotations
   * (openshift.io/display-name, original-ID, original-name) and
   * app.kubernetes.io/created-by are added, spec.serial becomes
   * firmware.serial.
   */
  int cluster;
};

/* The VirtualMachine for spec and its volumes.  Keys come in a fixed
 * order, so the output is byte-for-byte stable.  Caller owns the result.
 */
json_t *kubevirt_vm_build (const struct kubevirt_vm_options *opts,
                           const json_t *spec, const json_t *volumes);

#endif /* FERRY_DEST_COMMON_H */
