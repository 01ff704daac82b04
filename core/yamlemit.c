/* ferry core: yamlemit.c (being written). */
#include <config.h>
