/* ferry core: stored rows <-> Kubernetes-shaped objects, and Secret sealing.
 * Implemented in objects.c, which also implements ferry_get, ferry_list,
 * ferry_delete and ferry_set_status.
 */
#ifndef FERRY_CORE_OBJECTS_H
#define FERRY_CORE_OBJECTS_H

#include <stddef.h>
#include <jansson.h>

#include "internal.h"

/* The object as `ferry get -o yaml` shows it: apiVersion, kind, metadata
 * {name, namespace, uid, generation, resourceVersion, creationTimestamp,
 * labels, annotations}, spec, status.  For a Secret: type and data (values
 * base64 when flags has FERRY_GET_SECRET_VALUES, else "(hidden: N bytes)",
 * which is deliberately not valid base64 so it cannot be re-applied).
 */
json_t *ferry_internal_row_to_object (struct ferry *f,
                                      const struct ferry_store_row *row,
                                      unsigned flags);

/* data: object of key -> plaintext value (strings; may hold any bytes
 * but NUL).  Sealed for Secret/<ns>/<name>.  *out is the caller's.
 */
int ferry_internal_secret_seal (struct ferry *f, const char *ns,
                                const char *name, const json_t *data,
                                unsigned char **out, size_t *out_len);

/* The plaintext data object (new reference), or NULL. */
json_t *ferry_internal_secret_unseal (struct ferry *f, const char *ns,
                                      const char *name,
                                      const unsigned char *sealed,
                                      size_t len);

#endif /* FERRY_CORE_OBJECTS_H */
