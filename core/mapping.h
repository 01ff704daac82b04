/* ferry core: NetworkMap and StorageMap lookups. */
#ifndef FERRY_CORE_MAPPING_H
#define FERRY_CORE_MAPPING_H

#include <jansson.h>

/* The destination of the map entry whose source matches the entity (by id,
 * by name, or by type for "pod" sources), borrowed from map_spec; NULL when
 * unmapped (no error recorded).
 */
const json_t *ferry_internal_map_lookup (const json_t *map_spec,
                                         const char *id, const char *name);

#endif /* FERRY_CORE_MAPPING_H */
