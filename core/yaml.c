/* ferry core: yaml.c (being written). */
#include <config.h>
