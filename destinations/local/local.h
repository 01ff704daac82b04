/* ferry local destination: what its files share (module-private).
 *
 * The translation functions (../common/kubevirt-vm.c, libvirt-xml.c) are pure: they
 * read the neutral VM spec (include/ferry/vmspec.h) and the volume objects
 * and touch no file, so the golden-file tests compile them straight in.
 * Every function reports its own error through ferry_error() and returns
 * -1 / NULL.
 */
#ifndef FERRY_LOCAL_H
#define FERRY_LOCAL_H

#include <stdlib.h>
#include <unistd.h>
#include <jansson.h>

#include "../common/common.h"

/* The module may use only libferry's public API, so it keeps its own
 * cleanup helpers instead of core/cleanup.h.
 */
static inline void
local_cleanup_free (void *ptr)
{
  free (*(void **) ptr);
}

static inline void
local_cleanup_json (json_t **ptr)
{
  json_decref (*ptr);
}

static inline void
local_cleanup_close (int *fd)
{
  if (*fd >= 0)
    close (*fd);
}

#define LOCAL_CLEANUP_FREE __attribute__((cleanup (local_cleanup_free)))
#define LOCAL_CLEANUP_JSON __attribute__((cleanup (local_cleanup_json)))
#define LOCAL_CLEANUP_CLOSE __attribute__((cleanup (local_cleanup_close)))

/* ---- names.c ---------------------------------------------------------- */

/* "raw" or "qcow2" from volume.format (absent: "raw"); NULL with an error
 * for anything else.  Static strings.
 */
const char *local_volume_format (const json_t *volume);

/* File name extension for a format: "img" for raw, "qcow2" for qcow2. */
const char *local_format_extension (const char *format);

/* ---- destinations/common: spec readers and the VirtualMachine ---------- */
/* The readers are shared with the kubevirt module; these wrappers give
 * them the "local: " error prefix.  See ../common/common.h for contracts.
 * local_check_name is what keeps every path the module builds inside its
 * directory: a DNS-1123 label never holds '/' or "..".
 */
static inline int
local_check_name (const char *what, const char *name)
{
  return vmspec_check_name ("local", what, name);
}

static inline const json_t *
local_disk_volume (const json_t *spec, const json_t *volumes, size_t index)
{
  return vmspec_disk_volume ("local", spec, volumes, index);
}

static inline const char *
local_vm_namespace (const json_t *spec, const json_t *volumes)
{
  return vmspec_namespace (spec, volumes);
}

static inline const char *
local_vm_name (const json_t *spec)
{
  return vmspec_name ("local", spec);
}

static inline int
local_compatibility_mode (const json_t *spec)
{
  return vmspec_compatibility_mode (spec);
}

static inline int
local_check_mac (const char *vm, const char *mac)
{
  return vmspec_check_mac ("local", vm, mac);
}

static inline int
local_cpu_topology (const json_t *spec, json_int_t *sockets,
                    json_int_t *cores, json_int_t *threads)
{
  return vmspec_cpu_topology ("local", spec, sockets, cores, threads);
}

static inline int
local_memory_mib (const json_t *spec, json_int_t *mib)
{
  return vmspec_memory_mib ("local", spec, mib);
}

/* The kubevirt.io/v1 VirtualMachine for spec.  Caller owns the result. */
static inline json_t *
local_kubevirt_vm (const json_t *spec, const json_t *volumes)
{
  const struct kubevirt_vm_options opts = { .who = "local" };
  return kubevirt_vm_build (&opts, spec, volumes);
}

/* ---- libvirt-xml.c ---------------------------------------------------- */

/* The libvirt domain XML for spec; disks are the files
 * VM_DIR/<volume name>.<img|qcow2>.  Caller frees the result.
 */
char *local_domain_xml (const json_t *spec, const json_t *volumes,
                        const char *vm_dir);

/* ---- local.c, volumes.c, ledger.c: the module ----------------------- */

/* One open destination: a directory.  Holds no lock of its own; the
 * ledger is guarded by flock() on its VM directory, which also covers
 * other handles and processes using the same directory.
 */
struct local_handle {
  char *dir;                            /* absolute, no trailing '/' */
};

#define LOCAL_LEDGER ".ferry-created.json"

/* mkdir -p DIR, each missing level 0700. */
int local_mkdir_root (const char *dir);

/* mkdir DIR/NS/VM (each missing level 0700) and return an O_DIRECTORY fd
 * of DIR/NS/VM, or -1 with an error.
 */
int local_open_vm_dir (struct local_handle *h, const char *ns, const char *vm,
                       int create);

/* Who a created file belongs to, from a volume object or a VM spec:
 * plan = .plan, else .labels.plan; vm_id = .vmId, else .labels.vmID,
 * else .sourceId.  Borrowed; "" when absent.
 */
void local_owner (const json_t *obj, const char **plan, const char **vm_id);

/* Record FILE (a name inside the VM directory) as created for (plan,
 * vm_id) before it is created.  Refuses (-1, error) when FILE already
 * exists and the ledger does not list it for the same owner: the module
 * never overwrites what it did not create.
 */
int local_ledger_claim (int vm_dir_fd, const char *vm_dir, const char *file,
                        const char *plan, const char *vm_id);

/* Remove every file the ledgers under h->dir list for (plan, vm_id),
 * then each emptied ledger and VM directory.
 */
int local_ledger_cleanup (struct local_handle *h, const char *plan,
                          const char *vm_id);

struct ferry_volume_sink *local_volume_create (void *handle,
                                               const json_t *volume);
/* Warm migration (issue 5): the existing volume, for random-access writes. */
struct ferry_volume_sink *local_volume_open (void *handle,
                                             const json_t *volume);
/* Guest conversion (issue 5): the absolute path of the volume's file
 * (caller frees), only for a file the ledger lists for its plan and VM.
 */
char *local_volume_path (void *handle, const json_t *volume);

#endif /* FERRY_LOCAL_H */
