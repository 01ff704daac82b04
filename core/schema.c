/* ferry core: schema.c (being written). */
#include <config.h>
