/* ferry core: an opened provider or destination — a stored Provider object
 * bound to the module that serves its spec.type, with its decrypted Secret.
 */
#ifndef FERRY_CORE_INSTANCE_H
#define FERRY_CORE_INSTANCE_H

#include <stdbool.h>

#include "internal.h"

struct ferry_instance {
  char *ns, *name, *uid, *type;         /* of the Provider object */
  const struct ferry_provider *provider;        /* set for a source */
  const struct ferry_destination *destination;  /* set for a destination */
  void *handle;                         /* the module's */
};

/* Open Provider ns/name as a source.  NULL after an error that names the
 * Provider and what is wrong (not found, no module for its type, the
 * Secret missing, the module's own open error).
 */
struct ferry_instance *ferry_internal_source_open (struct ferry *f,
                                                   const char *ns,
                                                   const char *name);

/* Open Provider ns/name as a destination.  A Provider named "host" that
 * was never defined is the local destination in <state>/local, as Forklift
 * manifests assume a "host" provider exists.
 */
struct ferry_instance *ferry_internal_destination_open (struct ferry *f,
                                                        const char *ns,
                                                        const char *name);

void ferry_internal_instance_close (struct ferry_instance *inst);

/* The Secret an object's spec names (spec.secret {name, namespace}; the
 * namespace defaults to obj_ns): true and *ns, *name (borrowed from spec
 * or obj_ns), false when the spec names none.
 */
bool ferry_internal_secret_ref (const json_t *spec, const char *obj_ns,
                                const char **ns, const char **name);

/* vSphere area: true when the stored Host row belongs to Provider ns/name
 * (spec.provider, its namespace defaulting to the Host's own).
 */
bool ferry_internal_host_of (const struct ferry_store_row *row,
                             const char *ns, const char *name);

/* The stored uid of Provider ns/name (caller frees), or NULL after an
 * error ("provider ns/name does not exist").  Implemented in inventory.c.
 */
char *ferry_internal_provider_uid (struct ferry *f, const char *ns,
                                   const char *name);

#endif /* FERRY_CORE_INSTANCE_H */
