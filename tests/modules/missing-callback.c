/* Loader test: a provider without its mandatory disk_open. */
#include "common.h"

static struct ferry_provider p = {
  .name = "missing-callback",
  .open = t_open,
  .close = t_close,
  .test_connection = t_int,
  .inventory = t_inventory,
  .vm_describe = t_vm,
  .vm_spec = t_vm,
};

FERRY_REGISTER_PROVIDER (p)
