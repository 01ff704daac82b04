/* Loader test: a second provider named "good"; the first loaded wins. */
#include "common.h"

static struct ferry_provider p = {
  T_PROVIDER ("good"),
};

FERRY_REGISTER_PROVIDER (p)
