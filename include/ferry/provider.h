/* ferry: the provider (source) module ABI.
 *
 * A provider module fills one static struct ferry_provider and passes it
 * to FERRY_REGISTER_PROVIDER.  Mandatory callbacks: open, close,
 * test_connection, inventory, vm_describe, vm_spec, disk_open.  Every other
 * callback is optional: NULL means "not supported", and the core says so
 * instead of crashing.  Capabilities are asked through the can_* callbacks.
 *
 * Fields are only ever appended (see module.h).
 *
 * Ownership: returned json_t* and strings are the caller's; arguments are
 * borrowed.  Errors: report with ferry_error(), return -1 or NULL.
 */
#ifndef FERRY_PROVIDER_H
#define FERRY_PROVIDER_H

#include <stdint.h>
#include <jansson.h>

#include "ferry/module.h"
#include "ferry/inventory.h"
#include "ferry/transfer.h"
#include "ferry/vmspec.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ferry_provider {
  struct ferry_module_header hdr;       /* stamped by FERRY_REGISTER_PROVIDER */

  const char *name;                     /* the Provider spec.type it serves */
  const char *description;              /* one line */
  const char *version;                  /* the module's own version */
  int thread_model;                     /* enum ferry_thread_model */

  /* Returns FERRY_OPEN_OK with *handle set, FERRY_OPEN_DECLINED ("not
   * mine", no error), or FERRY_OPEN_ERROR after ferry_error().
   */
  int (*open) (const struct ferry_open_args *args, void **handle);
  void (*close) (void *handle);
  int (*test_connection) (void *handle);

  /* A full sync: put every entity, then prune. */
  int (*inventory) (void *handle, struct ferry_inventory_sink *sink);
  /* Optional incremental sync: *version is the opaque version string the
   * previous call returned (NULL the first time); replaced on return.
   */
  int (*watch) (void *handle, struct ferry_inventory_sink *sink,
                char **version);

  json_t *(*vm_describe) (void *handle, const char *vm_id);
  json_t *(*vm_spec) (void *handle, const char *vm_id);

  /* Optional power control.  power_state returns enum ferry_power_state
   * or -1.
   */
  int (*power_state) (void *handle, const char *vm_id);
  int (*power_off) (void *handle, const char *vm_id);
  int (*power_on) (void *handle, const char *vm_id);

  /* snapshot may be NULL (the current state). */
  struct ferry_disk_source *(*disk_open) (void *handle, const char *vm_id,
                                          const char *disk_id,
                                          const char *snapshot);

  /* Capabilities; absent means 0. */
  int (*can_warm) (void *handle);
  int (*can_extents) (void *handle);
  int (*can_power) (void *handle);
  int (*can_multi_conn) (void *handle);

  /* Optional, for warm migration.  *snapshot_id and *change_id are the
   * caller's to free.
   */
  int (*snapshot_create) (void *handle, const char *vm_id,
                          char **snapshot_id);
  int (*snapshot_remove) (void *handle, const char *vm_id,
                          const char *snapshot_id);
  /* Extents of disk_id changed in snapshot_id since change_id (NULL: all
   * allocated extents); fn is called in ascending order.
   */
  int (*changed_extents) (void *handle, const char *vm_id,
                          const char *disk_id, const char *snapshot_id,
                          const char *change_id, ferry_extent_fn fn,
                          void *opaque, char **new_change_id);

  /* Optional provider-specific steps around the copy. */
  int (*pre_transfer) (void *handle, const char *vm_id);
  int (*finalize) (void *handle, const char *vm_id);
};

#define FERRY_REGISTER_PROVIDER(p) FERRY_INTERNAL_REGISTER (p, FERRY_MODULE_PROVIDER)

#ifdef __cplusplus
}
#endif

#endif /* FERRY_PROVIDER_H */
