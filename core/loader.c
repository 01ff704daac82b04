/* ferry core: loader.c (being written). */
#include <config.h>
