/* ferry: the library API (libferry).
 *
 * A struct ferry is one open state directory: the store, the secret key and
 * the module registry.  It may be used from one thread at a time; open one
 * per thread for more.  Functions return 0 / a pointer on success and -1 /
 * NULL after reporting the error (ferry_get_error()).
 *
 * Ownership: json_t* and char* results are the caller's (json_decref, free)
 * unless the name says get0, which borrows from the struct ferry.
 */
#ifndef FERRY_H
#define FERRY_H

#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#include "ferry/error.h"
#include "ferry/log.h"
#include "ferry/module.h"
#include "ferry/provider.h"
#include "ferry/destination.h"

#ifdef __cplusplus
extern "C" {
#endif

FERRY_API const char *ferry_version (void);

/* Flags for ferry_open. */
#define FERRY_OPEN_READONLY 0x1u        /* readers only; never create */
#define FERRY_OPEN_NO_MODULES 0x2u      /* do not scan module directories */

/* state_dir NULL: $FERRY_STATE_DIR, else $XDG_STATE_HOME/ferry, else
 * ~/.local/state/ferry (created 0700).
 */
FERRY_API struct ferry *ferry_open (const char *state_dir, unsigned flags);
FERRY_API void ferry_close (struct ferry *f);
FERRY_API const char *ferry_get0_state_dir (struct ferry *f);

/* ---- Object kinds ----------------------------------------------------- */

/* "plan", "plans", "Plan", "plan.forklift.konveyor.io" -> "Plan".
 * Returns NULL (with an error listing the known kinds) if unknown.
 * The result is a static string.
 */
FERRY_API const char *ferry_kind_canonical (const char *user_kind);

/* The kinds ferry stores, NULL-terminated, static. */
FERRY_API const char *const *ferry_kinds (void);

/* What is known of a canonical kind: {kind, apiVersion, plural, singular,
 * shortNames[], printerColumns[{name, type, jsonPath}]} (the CRD's
 * additionalPrinterColumns; for Secret, kubectl's TYPE and DATA).
 * Caller owns the result; NULL with an error for an unknown kind.
 */
FERRY_API json_t *ferry_kind_info (const char *kind);

/* ---- Manifests -------------------------------------------------------- */

/* Flags for ferry_apply. */
#define FERRY_APPLY_DRY_RUN 0x1u        /* validate only, store nothing */

/* Called once per object applied: action is "created", "configured" or
 * "unchanged".
 */
typedef void (*ferry_apply_fn) (void *opaque, const char *kind,
                                const char *ns, const char *name,
                                const char *action);

/* Apply every document of path: a file, a directory (*.yaml *.yml *.json,
 * sorted, not recursive) or "-" for stdin.  All or nothing: on any error
 * nothing from this call is stored.  Warnings (unknown fields) go to the
 * log at warn level.  default_ns is used for objects without
 * metadata.namespace (NULL: "default").
 */
FERRY_API int ferry_apply (struct ferry *f, const char *path,
                           const char *default_ns, unsigned flags,
                           ferry_apply_fn fn, void *opaque);

/* Same for an in-memory buffer; name is used in messages. */
FERRY_API int ferry_apply_buffer (struct ferry *f, const char *name,
                                  const char *buf, size_t len,
                                  const char *default_ns, unsigned flags,
                                  ferry_apply_fn fn, void *opaque);

/* ---- Objects ---------------------------------------------------------- */

/* Flags for ferry_get / ferry_list. */
#define FERRY_GET_SECRET_VALUES 0x1u    /* include decrypted Secret data */

/* One object as Kubernetes shows it: apiVersion, kind, metadata (name,
 * namespace, uid, generation, resourceVersion, creationTimestamp, labels,
 * annotations), spec (or data for a Secret) and status.  A Secret's values
 * are shown as "(hidden: N bytes)" (deliberately not valid base64, so it
 * cannot be applied back) unless FERRY_GET_SECRET_VALUES, which gives base64.
 * Returns NULL with an error "<kind> <ns>/<name> not found" when absent.
 */
FERRY_API json_t *ferry_get (struct ferry *f, const char *kind,
                             const char *ns, const char *name,
                             unsigned flags);

/* Array of objects of kind; ns NULL means every namespace. */
FERRY_API json_t *ferry_list (struct ferry *f, const char *kind,
                              const char *ns, unsigned flags);

/* Returns 0, or -1 (not found is an error). */
FERRY_API int ferry_delete (struct ferry *f, const char *kind,
                            const char *ns, const char *name);

/* Replace an object's status (the engine's and tests' way in). */
FERRY_API int ferry_set_status (struct ferry *f, const char *kind,
                                const char *ns, const char *name,
                                const json_t *status);

/* ---- Inventory -------------------------------------------------------- */

/* Resync the inventory of Provider ns/name from its module (a full sync in
 * one store transaction).  Returns the number of entities stored, or -1.
 */
FERRY_API int ferry_inventory_refresh (struct ferry *f, const char *ns,
                                       const char *provider);

/* Keep the inventory of Provider ns/name current (vSphere area): a full
 * sync, then the module's incremental updates (its watch callback) every
 * interval_ms, one store transaction per update set, until
 * ferry_migration_stop() or max_updates polls (0: no limit).  fn (or NULL)
 * is told each poll that changed something: poll 0 is the full sync.
 * Returns 0, or -1 (also when the module has no watch).
 */
typedef void (*ferry_inventory_update_fn) (void *opaque, unsigned poll,
                                           int entities);
FERRY_API int ferry_inventory_watch (struct ferry *f, const char *ns,
                                     const char *provider,
                                     unsigned interval_ms,
                                     unsigned max_updates,
                                     ferry_inventory_update_fn fn,
                                     void *opaque);

/* Array of the provider's entities of kind (FERRY_INV_VM, ...; also the
 * plurals "vms", "disks", "networks", "storages", "hosts").
 */
FERRY_API json_t *ferry_inventory_list (struct ferry *f, const char *ns,
                                        const char *provider,
                                        const char *kind);

/* One entity by id, or failing that by name.  NULL with an error naming
 * the provider and the id when absent.
 */
FERRY_API json_t *ferry_inventory_get (struct ferry *f, const char *ns,
                                       const char *provider,
                                       const char *kind,
                                       const char *id_or_name);

/* ---- Migrations ------------------------------------------------------- */

/* Create a Migration for Plan ns/plan (named "<plan>-<5 random chars>");
 * cutover is an RFC 3339 time or NULL.  Returns the Migration's name
 * (caller frees) or NULL.  Refused while another Migration of the plan is
 * running, and when the plan is not Ready (ferry_plan_validate; the error
 * lists the blocking conditions' messages).
 */
FERRY_API char *ferry_plan_start (struct ferry *f, const char *ns,
                                  const char *plan, const char *cutover);

/* Validate Plan ns/name as Forklift does and store the result in its
 * status.conditions (other status fields are kept).  Returns the
 * conditions (caller frees): an array of {type, status, category
 * (Critical, Error, Warn, Advisory, or Required for Ready), reason,
 * message, suggestion, items[], lastTransitionTime}.  The plan is ready
 * when one condition has type "Ready" (only with no Critical or Error
 * condition).  The source inventory is synced first only if it is empty.
 * NULL with an error when the plan cannot be read or its status written.
 */
FERRY_API json_t *ferry_plan_validate (struct ferry *f, const char *ns,
                                       const char *name);

/* What ferry_migration_run reports as it goes. */
struct ferry_run_event {
  uint32_t struct_size;                 /* sizeof; fields are only appended */
  const char *vm;                       /* source VM name, or NULL for the plan */
  const char *step;                     /* pipeline step, e.g. "DiskTransfer" */
  const char *phase;                    /* "Running", "Completed", "Failed", ... */
  uint64_t done, total;                 /* bytes (DiskTransfer) or steps */
  double rate;                          /* bytes per second, or 0 */
  const char *message;                  /* a line for humans, or NULL */
  /* engine (issue 5): filled by ferry_migration_run for every event */
  const char *plan;                     /* the Plan's name */
  const char *migration;                /* the Migration's name */
  const char *ns;                       /* their namespace */
};
typedef void (*ferry_run_fn) (void *opaque, const struct ferry_run_event *ev);

/* Execute Migration ns/name in this process: each VM of its plan walks its
 * itinerary in a thread of its own, admitted per source host while the
 * disks in flight stay within FERRY_MAX_VM_INFLIGHT (shared by every
 * Migration running in the process); every transition is stored before it
 * is acted on, so running it again after a crash resumes.  VMs that
 * succeeded in earlier Migrations of the plan are left out.  Each VM
 * thread opens its own struct ferry on f's state directory; f itself is
 * used only by the calling thread.  fn is called from the VM threads, one
 * call at a time.  Returns 0 when every VM succeeded, -1 otherwise (failed,
 * canceled, or stopped by ferry_migration_stop; the Migration's status says
 * which and why).
 */
FERRY_API int ferry_migration_run (struct ferry *f, const char *ns,
                                   const char *name, ferry_run_fn fn,
                                   void *opaque);

/* ---- Logs ------------------------------------------------------------- */

/* The log file of one object, <state>/logs/<kind>/<ns>/<name>.log, as
 * ferry_log_object writes it: kind "plan" or "migration" (the engine's
 * lines for one Migration), or "vm" (see ferry_vm_log_path).  The file may
 * not exist yet.  Caller frees; NULL with an error when a component is
 * empty, "." or "..", or holds a '/'.
 */
FERRY_API char *ferry_log_path (struct ferry *f, const char *kind,
                                const char *ns, const char *name);

/* The log of VM vm_id of Plan ns/plan, across its Migrations (hook output
 * and other per-VM lines): logs/vm/<ns>/<plan>.<vm-id>.log, with any '/'
 * of the id replaced by '_'.  Caller frees.
 */
FERRY_API char *ferry_vm_log_path (struct ferry *f, const char *ns,
                                   const char *plan, const char *vm_id);

/* Ask every ferry_migration_run of this process to stop: no VM is
 * admitted any more and running VMs finish their current pipeline step and
 * stop before the next, leaving the Migration Running and resumable.
 * Async-signal-safe (for a SIGTERM handler); there is no undo.
 */
FERRY_API void ferry_migration_stop (void);
/* Non-zero once ferry_migration_stop was called. */
FERRY_API int ferry_migration_stopping (void);

/* Cancel VMs of the running (or pending) Migration of Plan ns/plan: each
 * of vms (NULL-terminated ids or names; NULL or empty: every VM of the
 * plan) is added to the Migration's spec.cancel[] as {id, name}, which the
 * engine polls (at least once a second): the VM stops, is marked
 * Canceled and its partial volumes are removed by the destination.
 * Returns the Migration's name (caller frees) or NULL (no such plan, no
 * running Migration, a VM not in the plan).
 */
FERRY_API char *ferry_migration_cancel (struct ferry *f, const char *ns,
                                        const char *plan,
                                        const char *const *vms);

/* --- warm migration (issue 5) */
/* Set the running (or pending) Migration of warm Plan ns/plan to cut over
 * at time (RFC 3339 with a UTC offset, e.g. "2024-04-04T01:23:45Z"; NULL:
 * now): its spec.cutover, which the engine reads at least once a second.
 * A time in the past means at once (after each VM's first precopy).
 * Returns the Migration's name (caller frees) or NULL (no such plan, not
 * warm, no running Migration, a bad time).
 */
FERRY_API char *ferry_migration_cutover (struct ferry *f, const char *ns,
                                         const char *plan, const char *time);
/* The interval between warm precopies for the migrations this process
 * runs: "500ms", "90s", "60m", "2h", or a number of minutes.  Without
 * it, $FERRY_PRECOPY_INTERVAL, else 60 minutes.  -1 with an error for a
 * bad duration.
 */
FERRY_API int ferry_set_precopy_interval (const char *duration);
/* --- end warm migration */

/* The name of Plan ns/plan's running Migration (phase Running)
 * (caller frees), or NULL with no error when there is none; NULL with
 * an error on failure (check ferry_get_error()[0]).
 */
FERRY_API char *ferry_plan_running_migration (struct ferry *f, const char *ns,
                                              const char *plan);

/* A new Migration for a plan that had at least one Migration before,
 * none of them running; it migrates only the VMs that did not succeed in
 * earlier ones (every Migration does).  Returns its name or NULL.
 */
FERRY_API char *ferry_plan_restart (struct ferry *f, const char *ns,
                                    const char *plan);

/* Archive Plan ns/plan: spec.archived = true and an Archived condition;
 * an archived plan does not start.  Refused while a Migration runs.
 */
FERRY_API int ferry_plan_archive (struct ferry *f, const char *ns,
                                  const char *plan);

/* Plan ns/new_name with a copy of Plan ns/plan's spec (not archived) and
 * labels.  Refused when new_name exists.
 */
FERRY_API int ferry_plan_duplicate (struct ferry *f, const char *ns,
                                    const char *plan, const char *new_name);

/* Execute every Migration of the store that is not finished (no phase,
 * Pending or Running), each in a thread of its own sharing the scheduler,
 * looking for new ones every poll_seconds.  With once, return when none
 * is left; otherwise until ferry_migration_stop.  0, or -1 when a
 * Migration could not be run or (with once) one failed.
 */
FERRY_API int ferry_serve (struct ferry *f, int once, unsigned poll_seconds,
                           ferry_run_fn fn, void *opaque);

/* Write a must-gather archive (tar.gz, mode 0600) to path, laid out like
 * Forklift's: must-gather/namespaces/<ns>/crs/<kind>/<name>.yaml for
 * objects (kind singular, lower case) and
 * must-gather/namespaces/<ns>/logs/<log>/current.log for the logs of
 * plans (plan-<plan>), Migrations (migration-<name>) and VMs
 * (vm-<plan>.<vm-id>).  ns NULL: every namespace.  plan and vm (an id or
 * a name; either may be NULL) narrow it to the matching plans, with their
 * Migrations, providers, maps, hooks and the providers' Secrets, and with
 * vm, to that VM's log.  Secrets appear with their key names only, never
 * a value.  -1 with an error when nothing matches plan/vm; nothing is left
 * at path on error.
 */
FERRY_API int ferry_must_gather (struct ferry *f, const char *ns,
                                 const char *plan, const char *vm,
                                 const char *path);

/* The names Plan ns/plan gives its targets, as a migration would: one row
 * per disk of every VM (from the source inventory): {vm, targetName, disk
 * (index), pvcName} or, where naming fails, {vm, targetName?, disk?,
 * error}.  NULL only when the plan or its source provider is missing.
 */
FERRY_API json_t *ferry_plan_names (struct ferry *f, const char *ns,
                                    const char *plan);

/* ---- Output ----------------------------------------------------------- */

/* YAML text of a JSON value (block style, keys in their order). */
FERRY_API char *ferry_to_yaml (const json_t *v);

/* The one YAML (or JSON) document of buf as a JSON value, resolved as
 * Kubernetes does (sigs.k8s.io/yaml); name is used in messages.  Caller
 * owns the result; NULL with an error on a syntax error or when buf does
 * not hold exactly one document.  (kubevirt: reads kubeconfig files.)
 */
FERRY_API json_t *ferry_yaml_parse (const char *name, const char *buf,
                                    size_t len);

/* ---- Modules ---------------------------------------------------------- */

/* Array of {name, kind ("provider"|"destination"), abiVersion, structSize,
 * file, version, description, threadModel ("serialize_all"|
 * "serialize_handle"|"parallel"), capabilities[] (the can_* callbacks it
 * has, without "can_")} for every module loaded, in search order, followed
 * by {file, kind (when known), error ("<file>: <reason>")} for every module
 * refused.  NULL (with an error) when opened with FERRY_OPEN_NO_MODULES.
 */
FERRY_API json_t *ferry_modules (struct ferry *f);

/* One module's descriptor: the fields above plus callbacks: {name: bool}.
 * name is "NAME", "provider/NAME" or "destination/NAME"; a bare NAME that
 * names both a provider and a destination is an error (ambiguous).
 */
FERRY_API json_t *ferry_module_dump (struct ferry *f, const char *name);

/* Borrowed descriptors (the loader's zero-extended copies), or NULL. */
FERRY_API const struct ferry_provider *
ferry_get0_provider (struct ferry *f, const char *name);
FERRY_API const struct ferry_destination *
ferry_get0_destination (struct ferry *f, const char *name);

/* --- scale-out (issue 7): one disk copied by a worker (`ferry copy-disk`) */
struct ferry_copy_disk_args {
  uint32_t struct_size;                 /* sizeof; fields are only appended */
  const char *manifests;                /* file: the source Provider, its
                                           Secret and Hosts (ferry apply's
                                           YAML); holds credentials */
  const char *provider;                 /* "ns/name" of a Provider in it */
  const char *vm;                       /* VM id */
  const char *disk;                     /* disk id */
  const char *snapshot;                 /* snapshot id, or NULL: the disk now */
  const char *output;                   /* a block device (written as is) or
                                           a regular file (created 0660 or
                                           truncated, written sparsely; one
                                           it created is removed when the
                                           copy fails) */
  const char *report_job;               /* "ns/name" of a Job: publish
                                           progress on it through the
                                           kubevirt destination's
                                           report_progress every ~2 s and
                                           at the end (failures are
                                           warnings), or NULL */
  ferry_progress_fn progress;           /* or NULL; at most ~10 times a second */
  void *progress_opaque;
  volatile int *cancel;                 /* non-zero: stop within a second, or NULL */
};

/* Copy one disk of a source Provider into args->output, verified
 * (SHA-256 of the source re-read at the output), without any state
 * directory of the user's: the manifests are applied to a private
 * temporary one (mode 0700, under $TMPDIR or /tmp, removed before
 * returning).  result (or NULL) as ferry_transfer fills it.  0 only when
 * the whole disk is written; -1 with an error naming the provider, VM,
 * disk or file.
 */
FERRY_API int ferry_copy_disk (const struct ferry_copy_disk_args *args,
                               struct ferry_transfer_result *result);

#ifdef __cplusplus
}
#endif

#endif /* FERRY_H */
