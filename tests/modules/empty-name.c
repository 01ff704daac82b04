/* Loader test: a provider with an empty name. */
#include "common.h"

static struct ferry_provider p = {
  T_PROVIDER (""),
};

FERRY_REGISTER_PROVIDER (p)
