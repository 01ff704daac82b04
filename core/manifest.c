/* ferry core: manifest.c (being written). */
#include <config.h>
