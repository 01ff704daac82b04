/* ferry core: manifests.  The kinds ferry stores, and one YAML document
 * turned into a checked object: apiVersion and kind known, metadata valid,
 * spec valid against the CRD schema (pruned as Kubernetes prunes it), and
 * the semantic rules the schema cannot express.
 */
#ifndef FERRY_CORE_MANIFEST_H
#define FERRY_CORE_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "yaml.h"

/* "forklift.konveyor.io/v1beta1" for Forklift kinds, "v1" for Secret;
 * NULL for a kind that is not canonical.
 */
const char *ferry_internal_kind_api_version (const char *kind);

/* Errors of one invocation, collected so that all are reported at once.
 * Each entry is one line "FILE:LINE:COL: [document N: ]PATH: reason".
 */
#define FERRY_DIAG_MAX 50               /* more are counted, not kept */
#define FERRY_DIAG_MAX_TEXT "50"
struct ferry_diag {
  char **errors;
  size_t nerrors;                       /* kept, <= FERRY_DIAG_MAX */
  size_t total;                         /* all errors seen */
};

void ferry_internal_diag_add (struct ferry_diag *d, const char *fs, ...)
  FERRY_PRINTF (2, 3);
/* If any error was added: one ferry_error with every line and a summary
 * ("3 errors in plan.yaml; nothing was applied"), then -1.  Else 0.
 */
int ferry_internal_diag_report (struct ferry_diag *d, const char *what);
void ferry_internal_diag_clear (struct ferry_diag *d);

/* One checked object, owning its strings and JSON. */
struct ferry_manifest {
  const char *kind;                     /* canonical, static */
  const char *api_version;              /* static */
  char *ns;
  char *name;
  json_t *metadata;                     /* {labels?, annotations?} or NULL */
  json_t *spec;                         /* pruned spec; Secret: {type} */
  json_t *data;                         /* Secret: key -> plaintext; else NULL */
  char *file;                           /* for messages */
  size_t doc;                           /* 1-based document number */
  size_t line, column;                  /* of metadata.name */
};

void ferry_internal_manifest_clear (struct ferry_manifest *m);

/* Check document doc of file (ndocs documents in the file: messages say
 * "document N" when there is more than one).  default_ns (NULL: "default")
 * is used when metadata.namespace is absent.  Errors go to diag; warnings
 * (unknown or ignored fields) to the log at warn level.
 * Returns 0 with m filled, 1 for an empty document (m untouched; skip it),
 * -1 when the document had errors (m cleared).
 */
int ferry_internal_manifest_check (const char *file,
                                   const struct ferry_yaml_doc *doc,
                                   size_t ndocs, const char *default_ns,
                                   struct ferry_diag *diag,
                                   struct ferry_manifest *m);

/* DNS-1123 subdomain (names) and label (namespaces), as Kubernetes. */
bool ferry_internal_is_dns1123_subdomain (const char *s);
bool ferry_internal_is_dns1123_label (const char *s);

/* Standard base64 with padding, as Kubernetes decodes Secret data.
 * Returns a malloc'd buffer (NUL-terminated, *len bytes) or NULL if s is
 * not valid base64 (no error set).
 */
unsigned char *ferry_internal_base64_decode (const char *s, size_t n,
                                             size_t *len);

#endif /* FERRY_CORE_MANIFEST_H */
