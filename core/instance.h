/* ferry core: an opened provider or destination — a stored Provider object
 * bound to the module that serves its spec.type, with its decrypted Secret.
 */
#ifndef FERRY_CORE_INSTANCE_H
#define FERRY_CORE_INSTANCE_H

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

/* The stored uid of Provider ns/name (caller frees), or NULL after an
 * error ("provider ns/name does not exist").  Implemented in inventory.c.
 */
char *ferry_internal_provider_uid (struct ferry *f, const char *ns,
                                   const char *name);

#endif /* FERRY_CORE_INSTANCE_H */
