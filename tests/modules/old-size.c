/* Loader test: a provider built against an older, shorter descriptor that
 * ended after disk_open.  Its stamped struct_size says so; the fields after
 * it hold garbage here to prove the loader never reads past struct_size:
 * in the loader's copy they must all be NULL.
 */
#include <stdint.h>

#include "common.h"

#define GARBAGE(type) ((type) (uintptr_t) 0xdeadbeef)

static struct ferry_provider p = {
  T_PROVIDER ("old-size"),
  .can_warm = GARBAGE (int (*) (void *)),
  .can_extents = GARBAGE (int (*) (void *)),
  .can_power = GARBAGE (int (*) (void *)),
  .can_multi_conn = GARBAGE (int (*) (void *)),
  .snapshot_create = GARBAGE (int (*) (void *, const char *, char **)),
  .pre_transfer = GARBAGE (int (*) (void *, const char *)),
  .finalize = GARBAGE (int (*) (void *, const char *)),
};

/* What FERRY_REGISTER_PROVIDER did in the older header. */
FERRY_EXTERN_C FERRY_MODULE_EXPORT
const struct ferry_module_header *ferry_module_entry (void);

const struct ferry_module_header *
ferry_module_entry (void)
{
  p.hdr.struct_size = offsetof (struct ferry_provider, can_warm);
  p.hdr.abi_version = FERRY_MODULE_ABI_VERSION;
  p.hdr.kind = FERRY_MODULE_PROVIDER;
  return &p.hdr;
}
