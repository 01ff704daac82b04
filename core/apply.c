/* ferry core: apply.c (being written). */
#include <config.h>
