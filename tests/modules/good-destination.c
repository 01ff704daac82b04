/* Loader test: a complete destination named "good". */
#include "common.h"

static struct ferry_destination d = {
  T_DESTINATION ("good"),
};

FERRY_REGISTER_DESTINATION (d)
