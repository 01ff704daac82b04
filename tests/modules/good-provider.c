/* Loader test: a complete provider named "good" with two capabilities. */
#include "common.h"

static struct ferry_provider p = {
  T_PROVIDER ("good"),
  .can_warm = t_yes,
  .can_extents = t_yes,
  .power_state = t_vm_int,
};

FERRY_REGISTER_PROVIDER (p)
