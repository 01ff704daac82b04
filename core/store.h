/* ferry core: the store.
 *
 * One sqlite database (WAL) per state directory, <state>/ferry.db, mode 0600.
 * Safe for many reader processes and one writer at a time across processes
 * (busy timeout; writers take BEGIN IMMEDIATE).  The schema is versioned with
 * PRAGMA user_version and upgraded in place on open.
 *
 * Objects are stored like Kubernetes objects: kind, namespace, name, uid,
 * apiVersion, generation, resourceVersion, creationTimestamp, metadata
 * (labels and annotations), spec JSON, status JSON, and for Secrets the
 * sealed (encrypted) data blob instead of plaintext.
 *
 * A Migration's status.vms[i] is a row of its own (migration_vms, keyed by
 * the Migration's uid and i), so the engine stores one VM's transition
 * without rewriting the others'; ferry_internal_store_get/list put the
 * rows back as status.vms, so readers see one status as before.
 *
 * Version history:
 *   1  objects
 *   2  inventory (per provider entities) and its indexes
 *   3  migration_vms: each Migration's status.vms entries as rows (moved
 *      out of the objects' status on upgrade), indexed by VM id too
 */
#ifndef FERRY_CORE_STORE_H
#define FERRY_CORE_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define FERRY_STORE_SCHEMA_VERSION 3

struct ferry_store;

#define FERRY_STORE_READONLY 0x1u

/* Opens (creating with mode 0600 unless READONLY) and upgrades the schema. */
struct ferry_store *ferry_internal_store_open (const char *path,
                                               unsigned flags);
void ferry_internal_store_close (struct ferry_store *st);

/* How long a writer waits for another (default 10000 ms). */
int ferry_internal_store_set_busy_timeout (struct ferry_store *st, int ms);

/* PRAGMA user_version, or -1. */
int ferry_internal_store_schema_version (struct ferry_store *st);

/* A write transaction (BEGIN IMMEDIATE; waits for other writers up to the
 * busy timeout).  Nested calls are not allowed.
 */
int ferry_internal_store_begin (struct ferry_store *st);
int ferry_internal_store_commit (struct ferry_store *st);
void ferry_internal_store_rollback (struct ferry_store *st);

/* One stored object.  Strings and JSON are owned by the row;
 * ferry_internal_store_row_clear frees them.
 */
struct ferry_store_row {
  char *uid;                            /* RFC 4122 v4, set on insert */
  char *kind;                           /* canonical: "Plan", "Secret", ... */
  char *ns;
  char *name;
  char *api_version;                    /* "forklift.konveyor.io/v1beta1", "v1" */
  int64_t generation;                   /* bumped on spec change */
  int64_t resource_version;             /* bumped on any change */
  char *created;                        /* RFC 3339 UTC */
  json_t *metadata;                     /* {labels, annotations} or NULL */
  json_t *spec;                         /* spec (Secret: {type}) or NULL */
  json_t *status;                       /* or NULL */
  unsigned char *sealed;                /* Secret data, encrypted; or NULL */
  size_t sealed_len;                    /* bytes */
};

void ferry_internal_store_row_clear (struct ferry_store_row *row);

/* Report "<kind> <ns>/<name> not found" with the kind in lower case, as
 * kubectl prints it: "plan default/foo not found".  The one form used for
 * absent objects everywhere.
 */
void ferry_internal_not_found_error (const char *kind, const char *ns,
                                     const char *name);

/* 1 found (row filled), 0 not found, -1 error.  row must be zeroed or
 * cleared; the caller clears it.
 */
int ferry_internal_store_get (struct ferry_store *st, const char *kind,
                              const char *ns, const char *name,
                              struct ferry_store_row *row);
/* The same without a Migration's VM rows: row->status has no status.vms
 * (cheap whatever the Migration's size).
 */
int ferry_internal_store_get_without_vms (struct ferry_store *st,
                                          const char *kind, const char *ns,
                                          const char *name,
                                          struct ferry_store_row *row);

/* Only the spec of an object (no status: cheap for a large Migration);
 * 1 found (*spec owned by the caller, NULL if none), 0 not found, -1 error.
 */
int ferry_internal_store_get_spec (struct ferry_store *st, const char *kind,
                                   const char *ns, const char *name,
                                   json_t **spec);

/* Insert a new object: generates uid, sets generation = resource_version = 1
 * and created; writes them back into row.
 */
int ferry_internal_store_insert (struct ferry_store *st,
                                 struct ferry_store_row *row);

/* Replace metadata/spec/sealed/api_version of an existing object (matched by
 * kind/ns/name); the caller sets row->generation; resource_version is bumped.
 */
int ferry_internal_store_update (struct ferry_store *st,
                                 struct ferry_store_row *row);

/* The whole status; for a Migration, status.vms replaces its VM rows (in
 * the caller's transaction, or one of its own).
 */
int ferry_internal_store_set_status (struct ferry_store *st, const char *kind,
                                     const char *ns, const char *name,
                                     const json_t *status);
/* The status but a Migration's status.vms (ignored): its VM rows stay. */
int ferry_internal_store_set_status_keep_vms (struct ferry_store *st,
                                              const char *kind,
                                              const char *ns,
                                              const char *name,
                                              const json_t *status);
/* One VM's entry of a Migration's status.vms: vm_json (the entry as
 * ferry_internal_store_dump_json writes it, its "id" vm_id) at position,
 * by the Migration's uid; bumps its resourceVersion.  In the caller's
 * transaction, or one of its own.
 */
int ferry_internal_store_set_vm_status (struct ferry_store *st,
                                        const char *migration_uid,
                                        size_t position, const char *vm_id,
                                        const char *vm_json);
/* The entry of a Migration's status.vms whose id is vm_id (new
 * reference; the first by position), by an index: cheap whatever the
 * Migration's size.  NULL and no error when absent (check
 * ferry_get_error()[0]).
 */
json_t *ferry_internal_store_get_vm_status (struct ferry_store *st,
                                            const char *migration_uid,
                                            const char *vm_id);
/* JSON text as the store keeps it (compact, keys sorted); NULL when v
 * holds invalid UTF-8.  Caller frees.
 */
char *ferry_internal_store_dump_json (const json_t *v);

/* 1 deleted, 0 not found, -1 error.  A Migration's VM rows go with it. */
int ferry_internal_store_delete (struct ferry_store *st, const char *kind,
                                 const char *ns, const char *name);

/* Calls fn for each object of kind (ns NULL: every namespace), ordered by
 * namespace then name.  The row is borrowed for the call.  fn returns -1 to
 * stop (and the list returns -1).  fn may use the store, but not list again.
 */
typedef int (*ferry_store_row_fn) (void *opaque,
                                   const struct ferry_store_row *row);
int ferry_internal_store_list (struct ferry_store *st, const char *kind,
                               const char *ns, ferry_store_row_fn fn,
                               void *opaque);
/* The same without Migrations' VM rows (see _get_without_vms). */
int ferry_internal_store_list_without_vms (struct ferry_store *st,
                                           const char *kind, const char *ns,
                                           ferry_store_row_fn fn,
                                           void *opaque);

/* ---- Inventory (schema v2) ------------------------------------------- */

/* Insert or replace; doc is serialised (compact, sorted keys).  A sync
 * of many entities belongs in one ferry_internal_store_begin/commit: each
 * put outside a transaction is a commit of its own (and an fsync).
 */
int ferry_internal_store_inv_put (struct ferry_store *st,
                                  const char *provider_uid, const char *kind,
                                  const char *id, const char *name,
                                  const char *parent, const json_t *doc);
int ferry_internal_store_inv_remove (struct ferry_store *st,
                                     const char *provider_uid,
                                     const char *kind, const char *id);
/* Remove all of provider_uid's entities whose sync mark is below mark.
 * Deleting a Provider object (ferry_internal_store_delete) also removes
 * the inventory stored under its uid.
 */
int ferry_internal_store_inv_prune (struct ferry_store *st,
                                    const char *provider_uid, int64_t mark);
/* A new sync mark for provider_uid (puts after this carry it). */
int64_t ferry_internal_store_inv_begin_sync (struct ferry_store *st,
                                             const char *provider_uid);
/* The entity doc (new reference) by id, or failing that by name; NULL and
 * no error when absent (check ferry_get_error()[0] for errors).
 */
json_t *ferry_internal_store_inv_get (struct ferry_store *st,
                                      const char *provider_uid,
                                      const char *kind, const char *id_or_name);
/* Array of docs of kind for provider_uid, ordered by name. */
json_t *ferry_internal_store_inv_list (struct ferry_store *st,
                                       const char *provider_uid,
                                       const char *kind);
/* The entity's revision (1 when first put, +1 each time its doc, name or
 * parent changes), 0 when absent, -1 on error.
 */
int64_t ferry_internal_store_inv_revision (struct ferry_store *st,
                                           const char *provider_uid,
                                           const char *kind, const char *id);

#endif /* FERRY_CORE_STORE_H */
