/* ferry core: NetworkMap and StorageMap lookups. */
#include <config.h>

#include <string.h>

#include "mapping.h"

const json_t *
ferry_internal_map_lookup (const json_t *map_spec, const char *id,
                           const char *name)
{
  const json_t *entry;
  size_t i;

  json_array_foreach (json_object_get (map_spec, "map"), i, entry) {
    const json_t *src = json_object_get (entry, "source");
    const char *sid = json_string_value (json_object_get (src, "id"));
    const char *sname = json_string_value (json_object_get (src, "name"));
    if ((id && sid && strcmp (id, sid) == 0)
        || (name && sname && strcmp (name, sname) == 0))
      return json_object_get (entry, "destination");
  }
  return NULL;
}
