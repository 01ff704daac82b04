/* Loader test: a module from an incompatible ABI (version 999).  The entry
 * is written by hand because the registration macro always stamps the
 * current version.
 */
#include "common.h"

static struct ferry_provider p = {
  T_PROVIDER ("bad-abi"),
};

FERRY_EXTERN_C FERRY_MODULE_EXPORT
const struct ferry_module_header *ferry_module_entry (void);

const struct ferry_module_header *
ferry_module_entry (void)
{
  p.hdr.struct_size = sizeof p;
  p.hdr.abi_version = 999;
  p.hdr.kind = FERRY_MODULE_PROVIDER;
  return &p.hdr;
}
