/* Loader test modules: trivial callbacks shared by the test modules.
 * Every module here is built from one .c file that includes this header;
 * the functions are static, so each module carries its own copy.
 */
#ifndef FERRY_TEST_MODULES_COMMON_H
#define FERRY_TEST_MODULES_COMMON_H

#include <stddef.h>

#include <ferry/provider.h>
#include <ferry/destination.h>

/* Each module uses only some of these. */
#pragma GCC diagnostic ignored "-Wunused-function"

static int
t_open (const struct ferry_open_args *args, void **handle)
{
  static int h;
  (void) args;
  *handle = &h;
  return FERRY_OPEN_OK;
}

static void t_close (void *handle) { (void) handle; }
static int t_int (void *handle) { (void) handle; return 0; }
static int t_inventory (void *handle, struct ferry_inventory_sink *sink)
{ (void) handle; (void) sink; return 0; }
static json_t *t_vm (void *handle, const char *vm_id)
{ (void) handle; (void) vm_id; return json_object (); }
static struct ferry_disk_source *
t_disk_open (void *handle, const char *vm, const char *disk, const char *snap)
{ (void) handle; (void) vm; (void) disk; (void) snap; return NULL; }
static int t_yes (void *handle) { (void) handle; return 1; }
static int t_vm_int (void *handle, const char *vm_id)
{ (void) handle; (void) vm_id; return 0; }

static struct ferry_volume_sink *
t_volume_create (void *handle, const json_t *volume)
{ (void) handle; (void) volume; return NULL; }
static int t_vm_create (void *handle, const json_t *spec, const json_t *vols)
{ (void) handle; (void) spec; (void) vols; return 0; }
static int t_vm_named (void *handle, const char *ns, const char *name)
{ (void) handle; (void) ns; (void) name; return 0; }
static int t_cleanup (void *handle, const char *plan, const char *vm)
{ (void) handle; (void) plan; (void) vm; return 0; }

/* A complete provider descriptor body with name N. */
#define T_PROVIDER(n)                                                   \
  .name = (n),                                                          \
  .description = "loader test module",                                  \
  .version = "0",                                                       \
  .thread_model = FERRY_THREAD_MODEL_SERIALIZE_HANDLE,                  \
  .open = t_open,                                                       \
  .close = t_close,                                                     \
  .test_connection = t_int,                                             \
  .inventory = t_inventory,                                             \
  .vm_describe = t_vm,                                                  \
  .vm_spec = t_vm,                                                      \
  .disk_open = t_disk_open

#define T_DESTINATION(n)                                                \
  .name = (n),                                                          \
  .description = "loader test module",                                  \
  .version = "0",                                                       \
  .thread_model = FERRY_THREAD_MODEL_PARALLEL,                          \
  .open = t_open,                                                       \
  .close = t_close,                                                     \
  .test_connection = t_int,                                             \
  .volume_create = t_volume_create,                                     \
  .vm_create = t_vm_create,                                             \
  .vm_exists = t_vm_named,                                              \
  .cleanup = t_cleanup

#endif
