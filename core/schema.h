/* ferry core: validation of objects against Forklift's CRD schemas
 * (data/schemas, compiled in by gen-schemas.sh).
 */
#ifndef FERRY_CORE_SCHEMA_H
#define FERRY_CORE_SCHEMA_H

#include <jansson.h>

/* The compiled-in CRD documents: lower-case kind ("plan") and JSON text. */
struct ferry_schema_source {
  const char *name;
  const char *json;
};
extern const struct ferry_schema_source ferry_internal_schema_sources[];

#endif /* FERRY_CORE_SCHEMA_H */
