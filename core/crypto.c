/* ferry core: crypto.c (being written). */
#include <config.h>
