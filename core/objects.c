/* ferry core: objects.c (being written). */
#include <config.h>
