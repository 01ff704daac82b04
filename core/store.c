/* ferry core: store.c (being written). */
#include <config.h>
