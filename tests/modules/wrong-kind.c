/* Loader test: a destination, which the test puts in a providers/ dir. */
#include "common.h"

static struct ferry_destination d = {
  T_DESTINATION ("wrong-kind"),
};

FERRY_REGISTER_DESTINATION (d)
