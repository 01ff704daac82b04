/* ferry core: validation of objects against Forklift's CRD schemas
 * (data/schemas, compiled in by gen-schemas.sh).
 */
#ifndef FERRY_CORE_SCHEMA_H
#define FERRY_CORE_SCHEMA_H

#include <stdbool.h>
#include <jansson.h>

/* The compiled-in CRD documents: lower-case kind ("plan") and JSON text. */
struct ferry_schema_source {
  const char *name;
  const char *json;
};
extern const struct ferry_schema_source ferry_internal_schema_sources[];

/* The CRD document for kind ("Plan"): {group, version, kind, plural,
 * singular, shortNames, printerColumns, schema}.  Borrowed, parsed once
 * (thread-safe), NULL if ferry has no schema for kind (no error set).
 */
const json_t *ferry_internal_schema_get0 (const char *kind);

/* Called for every finding.  path is kubectl's ("spec.vms[1].name"),
 * message says what is wrong and, where it helps, what is allowed.
 */
typedef void (*ferry_schema_report_fn) (void *opaque, bool is_error,
                                        const char *path,
                                        const char *message);

/* Validate value (at path) against an openAPIV3Schema node: type
 * (integer vs number; an integral number passes as integer and is stored
 * as one), nullable, required, enum, properties, additionalProperties,
 * items, format (date-time, int32, int64, byte), pattern (PCRE2),
 * minimum/maximum (+exclusive), minLength/maxLength (characters),
 * minItems/maxItems, minProperties/maxProperties,
 * x-kubernetes-int-or-string, x-kubernetes-preserve-unknown-fields.
 *
 * As the Kubernetes API server does, fields the schema does not know are
 * pruned (removed from value), nulls in non-nullable fields are dropped
 * (ferry reports both as warnings, not errors), and absent fields of a
 * present object get the schema's default.  value may be
 * modified; *value may be replaced (a member is replaced in its parent).
 * what names the schema in messages ("Plan": "not in the Plan schema"),
 * or NULL.  Returns the number of errors reported.
 */
int ferry_internal_schema_validate (const json_t *schema, json_t *value,
                                    const char *path, const char *what,
                                    ferry_schema_report_fn fn, void *opaque);

/* RFC 3339 date-time ("2024-04-04T01:23:45.678+09:00", "...Z"), with the
 * offset required, as Kubernetes' format "date-time" accepts it.
 */
bool ferry_internal_is_rfc3339 (const char *s);
/* The same, but the offset may be missing (local time), as format
 * "date-time" in a CRD schema accepts it.
 */
bool ferry_internal_is_date_time (const char *s);

#endif /* FERRY_CORE_SCHEMA_H */
