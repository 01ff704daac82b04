/* ferry: the destination module ABI.
 *
 * A destination module fills one static struct ferry_destination and passes
 * it to FERRY_REGISTER_DESTINATION.  Mandatory callbacks: open, close,
 * test_connection, volume_create, vm_create, vm_exists, cleanup.  Others are
 * optional (NULL = not supported).  Fields are only ever appended.
 *
 * Ownership: arguments are borrowed; returned objects are the caller's.
 */
#ifndef FERRY_DESTINATION_H
#define FERRY_DESTINATION_H

#include <stdint.h>
#include <jansson.h>

#include "ferry/module.h"
#include "ferry/transfer.h"
#include "ferry/vmspec.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ferry_destination {
  struct ferry_module_header hdr;       /* stamped by FERRY_REGISTER_DESTINATION */

  const char *name;                     /* the Provider spec.type it serves */
  const char *description;
  const char *version;
  int thread_model;                     /* enum ferry_thread_model */

  int (*open) (const struct ferry_open_args *args, void **handle);
  void (*close) (void *handle);
  int (*test_connection) (void *handle);

  /* volume: {name, namespace, capacity (bytes), format ("raw"|"qcow2"),
   * storageClass, accessMode, volumeMode, labels}.
   */
  struct ferry_volume_sink *(*volume_create) (void *handle,
                                              const json_t *volume);
  /* spec: the neutral VM spec (vmspec.h); volumes: array of the volume
   * objects created for it, in disk order.
   */
  int (*vm_create) (void *handle, const json_t *spec, const json_t *volumes);
  /* 1 exists, 0 does not, -1 error. */
  int (*vm_exists) (void *handle, const char *ns, const char *name);
  int (*vm_power_on) (void *handle, const char *ns, const char *name);
  /* Remove exactly what ferry created for this VM of this plan. */
  int (*cleanup) (void *handle, const char *plan, const char *vm_id);

  /* Optional (kubevirt): what stands in the way of a plan at this
   * destination, asked by plan validation.  targets: {namespace,
   * storageClasses: [name], networks: [{type, name, namespace}]}.
   * Returns the conditions (caller's): an array of {type, category,
   * reason, message, items[]} as plan validation words them (empty:
   * nothing in the way), or NULL with an error when the destination
   * cannot be asked.
   */
  json_t *(*validate_targets) (void *handle, const json_t *targets);

  /* --- warm migration (issue 5) */
  /* Optional: open the existing volume (the object given to volume_create
   * earlier, same name) for random-access writes, keeping its content:
   * the sink accepts out-of-order writes.  Warm migration writes each
   * precopy's changed extents through it, and a run after a crash
   * re-opens rather than re-creates.  NULL: the destination cannot (a CDI
   * upload stream), so its plans cannot be warm.
   */
  struct ferry_volume_sink *(*volume_open) (void *handle,
                                            const json_t *volume);

  /* --- guest conversion (issue 5, ImageConversion) */
  /* Optional: the absolute path of the local file that holds a volume
   * made by volume_create (the same object), for tools that work on
   * files in place (virt-v2v-in-place).  Caller frees; NULL with an
   * error.  NULL callback: the volumes are not local files (KubeVirt
   * PVCs), so guests cannot be converted at this destination.
   */
  char *(*volume_path) (void *handle, const json_t *volume);

  /* --- scale-out (issue 7): the destination copies a disk itself */
  /* Optional: asked per disk before volume_create, for full (cold or
   * first) copies only.  volume: the object volume_create would get.
   * source: {manifests: YAML text of the source Provider, its Secret
   * (stringData, decrypted) and its Host objects with their Secrets, as
   * `ferry apply` reads it (credentials: never log it); provider:
   * "ns/name"; vm: VM id; vmName; disk: disk id; snapshot: id or null;
   * size: bytes}.  Returns 1 when the destination copied the disk into a
   * volume it made (done and verified by its own worker), 0 when it does
   * not copy this disk itself (the engine streams as usual:
   * volume_create + ferry_transfer), -1 with an error on failure (the
   * disk fails as for a failed transfer).  progress(opaque, &p) at most a
   * few times a second; *cancel non-zero: stop within seconds, return -1.
   * source NULL is a question, asked first: 1 when the destination would
   * copy this disk itself, 0 when not; nothing is done (so the engine
   * builds the credentials-bearing source only for a destination that
   * takes it).
   */
  int (*disk_copy) (void *handle, const json_t *volume, const json_t *source,
                    ferry_progress_fn progress, void *opaque,
                    volatile int *cancel);
  /* Optional (the worker inside the cluster, `ferry copy-disk --report`):
   * publish a worker's progress on its Job.  job: "ns/name"; progress:
   * {done: bytes, total: bytes, rate: bytes/s}.  0, or -1 with an error.
   */
  int (*report_progress) (void *handle, const char *job,
                          const json_t *progress);
};

#define FERRY_REGISTER_DESTINATION(d) \
  FERRY_INTERNAL_REGISTER (d, FERRY_MODULE_DESTINATION)

#ifdef __cplusplus
}
#endif

#endif /* FERRY_DESTINATION_H */
