/* ferry core: starting and running a Migration.
 *
 * The engine (issue 5): each VM of the plan is a job; jobs are admitted per
 * source host by the process-wide scheduler (scheduler.c) and run their
 * pipeline (pipeline.c) in a thread of their own.  A struct ferry is
 * one-thread-at-a-time, so every VM thread opens its own struct ferry (its
 * own store connection and module handles) on the same state directory;
 * the Migration's status is one JSON object guarded by engine.lock and
 * saved whole under that lock, each VM thread writing its own copy of its
 * entry into it, so no save loses another's update.  The calling thread
 * admits jobs and polls the store for cancel requests (spec.cancel) at
 * least once a second.
 */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "instance.h"
#include "pipeline.h"
#include "scheduler.h"
#include "validation.h"
#include "schema.h"                     /* warm: ferry_internal_is_rfc3339 */

/* A stored object's spec (new reference) or NULL (error set when
 * missing).
 */
static json_t *
load_object (struct ferry *f, const char *kind, const char *ns,
             const char *name, const char *what)
{
  struct ferry_store_row row = { 0 };
  int r = ferry_internal_store_get (f->store, kind, ns, name, &row);
  if (r == 0)
    ferry_error ("%s: %s %s/%s does not exist", what, kind, ns, name);
  if (r != 1) {
    ferry_internal_store_row_clear (&row);
    return NULL;
  }
  json_t *obj = json_pack ("{s:{s:s, s:s, s:s}, s:O*, s:O*}",
                           "metadata", "name", row.name, "namespace", row.ns,
                           "uid", row.uid,
                           "spec", row.spec, "status", row.status);
  ferry_internal_store_row_clear (&row);
  if (!obj)
    ferry_error ("%s: %s %s/%s: out of memory", what, kind, ns, name);
  return obj;
}

/* A Migration that has not ended: created and not yet run (no phase),
 * Running, or stopped and resumable.  Failed ones are ended: a new start
 * (or 'ferry restart') migrates what they did not.
 */
static bool
phase_is_active (const char *phase)
{
  return !phase || !*phase || strcmp (phase, "Pending") == 0
    || strcmp (phase, "Running") == 0 || strcmp (phase, "Executing") == 0;
}

struct active_check {
  const char *plan;
  char *active;                         /* the unfinished Migration's name
                                           (owned; the row is not kept) */
};

static int
check_active (void *opaque, const struct ferry_store_row *row)
{
  struct active_check *c = opaque;
  const char *p = json_string_value (json_object_get (json_object_get (row->spec, "plan"), "name"));
  const char *phase = json_string_value (json_object_get (row->status, "phase"));
  if (p && strcmp (p, c->plan) == 0 && phase_is_active (phase)) {
    c->active = strdup (row->name);
    if (!c->active) {
      ferry_error ("start plan %s: out of memory", c->plan);
      return -1;
    }
  }
  return c->active ? -1 : 0;
}

char *
ferry_plan_start (struct ferry *f, const char *ns, const char *plan,
                  const char *cutover)
{
  static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  unsigned char rnd[5];
  char suffix[6];
  CLEANUP_JSON_DECREF json_t *p = load_object (f, "Plan", ns, plan, "start");
  if (!p)
    return NULL;
  if (cutover && !ferry_internal_is_rfc3339 (cutover)) {     /* warm: cutover */
    ferry_error ("start plan %s/%s: cutover '%s' is not an RFC 3339 time with a UTC offset; "
                 "write for example 2024-04-04T01:23:45Z", ns, plan, cutover);
    return NULL;
  }
  if (json_is_true (json_object_get (json_object_get (p, "spec"), "archived"))) {
    ferry_error ("plan %s/%s is archived; duplicate it ('ferry duplicate %s NEW') to migrate again",
                 ns, plan, plan);
    return NULL;
  }

  /* --- plan validation: only a Ready plan starts. */
  {
    CLEANUP_JSON_DECREF json_t *conds = NULL;
    if (ferry_internal_plan_validate (f, ns, plan, &conds) == -1)
      return NULL;
    if (!ferry_internal_conditions_ready (conds)) {
      CLEANUP_FREE char *why = ferry_internal_conditions_blocking (conds);
      ferry_error ("plan %s/%s is not ready: %s (see 'ferry validate plan %s -n %s')",
                   ns, plan, why ? why : "it has blocking conditions", plan, ns);
      return NULL;
    }
  }
  /* --- end of plan validation */

  if (ferry_internal_store_begin (f->store) == -1)
    return NULL;
  struct active_check chk = { .plan = plan };
  if (ferry_internal_store_list (f->store, "Migration", ns, check_active, &chk) == -1
      && !chk.active) {
    ferry_internal_store_rollback (f->store);
    return NULL;
  }
  if (chk.active) {
    ferry_error ("plan %s/%s already has a running migration, %s: wait for it or cancel it",
                 ns, plan, chk.active);
    free (chk.active);
    ferry_internal_store_rollback (f->store);
    return NULL;
  }
  if (RAND_bytes (rnd, sizeof rnd) != 1) {
    ferry_error ("start plan %s/%s: no random bytes", ns, plan);
    ferry_internal_store_rollback (f->store);
    return NULL;
  }
  for (size_t i = 0; i < sizeof rnd; i++)
    suffix[i] = alphabet[rnd[i] % (sizeof alphabet - 1)];
  suffix[5] = '\0';

  char *name = NULL;
  if (asprintf (&name, "%.56s-%s", plan, suffix) == -1) {
    ferry_error_errno (errno, "start plan %s/%s", ns, plan);
    ferry_internal_store_rollback (f->store);
    return NULL;
  }
  struct ferry_store_row row = {
    .kind = (char *) "Migration", .ns = (char *) ns, .name = name,
    .api_version = (char *) "forklift.konveyor.io/v1beta1",
    .spec = json_pack ("{s:{s:s, s:s}}", "plan", "name", plan, "namespace", ns),
  };
  if (cutover)
    json_object_set_new (row.spec, "cutover", json_string (cutover));
  int r = ferry_internal_store_insert (f->store, &row);
  json_decref (row.spec);
  free (row.uid);
  free (row.created);
  if (r == -1 || ferry_internal_store_commit (f->store) == -1) {
    if (r == -1)
      ferry_internal_store_rollback (f->store);
    free (name);
    return NULL;
  }
  ferry_log_object (FERRY_LOG_INFO, "plan", ns, plan, "migration %s created", name);
  return name;
}

/* This VM's entry in status.vms, created when absent. */
static json_t *
vm_status_entry (json_t *status, const char *id)
{
  json_t *vms = json_object_get (status, "vms");
  json_t *e;
  size_t i;

  if (!vms) {
    vms = json_array ();
    json_object_set_new (status, "vms", vms);
  }
  json_array_foreach (vms, i, e)
    if (strcmp (json_string_value (json_object_get (e, "id")) ?: "", id) == 0)
      return e;
  e = json_object ();
  json_array_append_new (vms, e);
  return e;
}

/* The spec of the plan's NetworkMap or StorageMap in *out (NULL when the
 * plan names none).  -1 after an error when a named map is missing.
 */
static int
load_map (struct ferry *f, const json_t *plan, const char *which, json_t **out)
{
  const json_t *ref = json_object_get (json_object_get (json_object_get (plan, "spec"), "map"), which);
  const char *name = json_string_value (json_object_get (ref, "name"));
  const char *ns = json_string_value (json_object_get (ref, "namespace"));

  *out = NULL;
  if (!name)
    return 0;
  if (!ns)
    ns = json_string_value (json_object_get (json_object_get (plan, "metadata"), "namespace"));
  json_t *obj = load_object (f, strcmp (which, "network") == 0 ? "NetworkMap" : "StorageMap",
                             ns, name, "plan map");
  if (!obj)
    return -1;
  *out = json_incref (json_object_get (obj, "spec"));
  json_decref (obj);
  return 0;
}


/* ---- The plan's execution conditions ---------------------------------- */

/* The conditions the engine owns in a Plan's status, as Forklift shows
 * them (the EXECUTING, SUCCEEDED and FAILED printer columns).  Validation
 * keeps them (validation.c), archive replaces Executing.
 */
static const char *const plan_run_types[] = {
  "Executing", "Succeeded", "Failed", "Canceled",
};

/* Set the Plan's execution state: phase "Executing" while migration runs,
 * then "Succeeded", "Failed" (items: the VMs that failed) or "Canceled"
 * (items: the VMs canceled).  Read, changed and written in one
 * transaction, so a concurrent validation's conditions are kept.
 */
static int
plan_set_phase (struct ferry *f, const char *ns, const char *plan,
                const char *migration, const char *phase, const json_t *items)
{
  struct ferry_store_row row = { 0 };
  int r;

  if (ferry_internal_store_begin (f->store) == -1)
    return -1;
  r = ferry_internal_store_get (f->store, "Plan", ns, plan, &row);
  if (r == 0)
    ferry_internal_not_found_error ("Plan", ns, plan);
  if (r != 1) {
    ferry_internal_store_row_clear (&row);
    ferry_internal_store_rollback (f->store);
    return -1;
  }
  CLEANUP_JSON_DECREF json_t *status =
    json_is_object (row.status) ? json_deep_copy (row.status) : json_object ();
  ferry_internal_store_row_clear (&row);
  json_t *conds = json_array ();
  const json_t *c;
  size_t i;
  json_array_foreach (json_object_get (status, "conditions"), i, c) {
    const char *t = json_string_value (json_object_get (c, "type")) ?: "";
    bool ours = false;
    for (size_t k = 0; k < sizeof plan_run_types / sizeof plan_run_types[0]; k++)
      ours |= strcmp (t, plan_run_types[k]) == 0;
    if (!ours)
      json_array_append (conds, (json_t *) c);
  }
  CLEANUP_FREE char *now = ferry_internal_now_rfc3339 ();
  const char *msg =
    strcmp (phase, "Executing") == 0 ? "The plan is EXECUTING."
    : strcmp (phase, "Succeeded") == 0 ? "The plan execution has SUCCEEDED."
    : strcmp (phase, "Failed") == 0 ? "The plan execution has FAILED."
    : "The plan execution has been CANCELED.";
  json_t *cond = json_pack ("{s:s, s:s, s:s, s:s, s:s?}", "type", phase,
                            "status", "True", "category", "Advisory",
                            "message", msg, "lastTransitionTime", now);
  if (cond && json_array_size (items))
    json_object_set_new (cond, "items", json_deep_copy (items));
  json_array_append_new (conds, cond);
  json_object_set_new (status, "conditions", conds);
  if (strcmp (json_string_value (json_object_get (status, "phase")) ?: "", "Archived") != 0)
    json_object_set_new (status, "phase", json_string (phase));
  /* status.migration: the Migration this state is about (Forklift keeps
   * its history there too).
   */
  json_t *m = json_object_get (status, "migration");
  if (!json_is_object (m) || strcmp (json_string_value (json_object_get (m, "name")) ?: "",
                                     migration) != 0) {
    m = json_pack ("{s:s}", "name", migration);
    json_object_set_new (status, "migration", m);
  }
  if (strcmp (phase, "Executing") == 0) {
    if (!json_object_get (m, "started"))
      json_object_set_new (m, "started", json_string (now ? now : ""));
    json_object_del (m, "completed");
  }
  else
    json_object_set_new (m, "completed", json_string (now ? now : ""));
  if (ferry_internal_store_set_status (f->store, "Plan", ns, plan, status) == -1
      || ferry_internal_store_commit (f->store) == -1) {
    ferry_internal_store_rollback (f->store);
    ferry_error_prefix ("plan %s/%s: set phase %s", ns, plan, phase);
    return -1;
  }
  ferry_log_object (FERRY_LOG_INFO, "plan", ns, plan, "%s (migration %s)", phase, migration);
  return 0;
}

/* ---- The engine ------------------------------------------------------- */

/* Set by ferry_migration_stop (async-signal-safe): every engine in this
 * process stops admitting VMs and interrupts the running ones at their next
 * transition, leaving the Migration resumable.
 */
static volatile sig_atomic_t stop_requested;
static volatile int stop_flag;          /* the same, as the pipelines see it */

void
ferry_migration_stop (void)
{
  stop_requested = 1;
  stop_flag = 1;
}

int
ferry_migration_stopping (void)
{
  return stop_requested != 0;
}

enum job_state { JOB_PENDING, JOB_RUNNING, JOB_DONE, JOB_SKIPPED };

struct engine;

struct vm_job {
  struct engine *e;
  json_t *plan_vm;                      /* the plan's spec.vms entry, copy */
  char *id, *name;                      /* source VM */
  char *host;                           /* "<provider uid>/<host>" */
  unsigned cost;                        /* unfinished disks */
  unsigned given_back;                  /* of cost, released as each disk
                                           was copied (the job's thread) */
  enum job_state state;                 /* guarded by engine.lock */
  bool joined;                          /* main thread only */
  pthread_t thread;
  volatile int abort;                   /* transfer cancel flag */
  volatile int canceled;                /* the user canceled this VM */
  uint64_t ticket;                      /* scheduler ticket while refused
                                           (main thread only) */
  int result;                           /* the pipeline's, when JOB_DONE */
  json_t *vm_status;                    /* owned by the job's thread while it runs */
};

struct engine {
  pthread_mutex_t lock;                 /* guards status, jobs[].state and
                                           the commit fields below */
  pthread_cond_t committed;             /* a commit ended */
  uint64_t changes;                     /* status changes made so far */
  uint64_t stored;                      /* ... of which the store has */
  bool committing;                      /* a thread is writing status */
  int commit_result;                    /* the last commit's: 0 or -1 */
  pthread_mutex_t events;               /* serializes calls of fn */
  json_t *status;                       /* the Migration's status */
  struct ferry *f;                      /* the caller's (main thread only) */
  struct ferry_store *poll_store;       /* main thread's own read-only
                                           connection for spec.cancel, so no
                                           read snapshot of f's can hide it */
  const char *state_dir;
  const char *ns, *name;                /* the Migration */
  const char *plan_name;                /* its Plan (same namespace or plan_ns) */
  const json_t *plan, *nmap, *smap;     /* read-only while threads run */
  const char *s_ns, *s_name, *d_ns, *d_name;
  ferry_run_fn fn;
  void *opaque;
  size_t nr_jobs;
  struct vm_job *jobs;
};

/* Save the whole status through store (the caller's connection).  Under
 * lock, and only while no VM thread runs (before they start, after they
 * are joined); the VM threads and the admission loop use engine_commit.
 */
static int
engine_save_locked (struct engine *e, struct ferry_store *store)
{
  return ferry_internal_store_set_status (store, "Migration", e->ns, e->name,
                                          e->status);
}

/* A copy of the status that later changes do not touch, made in O(VMs)
 * pointer copies: the VM entries are shared, not copied, because nothing
 * changes an entry in place while VM threads run -- engine_put_vm_locked
 * replaces it with a new object (jansson's reference counts are atomic).
 * Under lock.
 */
static json_t *
status_snapshot_locked (struct engine *e)
{
  json_t *copy = json_copy (e->status);
  json_t *vms = json_object_get (e->status, "vms");
  if (copy && vms && json_object_set_new (copy, "vms", json_copy (vms)) == -1) {
    json_decref (copy);
    return NULL;
  }
  return copy;
}

/* Make the store hold every status change made so far (group commit).
 * Each change is one VM's transition, and the VM acts only once it is
 * stored; but the whole status is one stored object, so a write costs the
 * same for one change as for a hundred.  The first thread to ask writes a
 * copy of the status taken at that moment, outside the lock; threads that
 * change the status meanwhile wait, and the next writer stores all their
 * changes at once.  Writes never overlap, so a later copy is never
 * overwritten by an earlier one.  Under lock (it waits on e->committed).
 */
static int
engine_commit_locked (struct engine *e, struct ferry_store *store)
{
  uint64_t mine = ++e->changes;
  int r = 0;

  while (e->stored < mine) {
    if (e->committing) {
      pthread_cond_wait (&e->committed, &e->lock);
      continue;
    }
    e->committing = true;
    uint64_t upto = e->changes;
    json_t *copy = status_snapshot_locked (e);
    pthread_mutex_unlock (&e->lock);
    if (copy)
      r = ferry_internal_store_set_status (store, "Migration", e->ns, e->name, copy);
    else {
      ferry_error ("migration %s/%s: save status: out of memory", e->ns, e->name);
      r = -1;
    }
    json_decref (copy);
    pthread_mutex_lock (&e->lock);
    e->committing = false;
    e->stored = upto;
    e->commit_result = r;
    pthread_cond_broadcast (&e->committed);
    return r;
  }
  /* Stored by another thread's write. */
  if (e->commit_result == -1) {
    ferry_error ("migration %s/%s: saving the status failed (see the engine's log)",
                 e->ns, e->name);
    return -1;
  }
  return 0;
}

/* Put a copy of vm_status in status.vms in place of the entry with its id.
 * Under lock.
 */
static void
engine_put_vm_locked (struct engine *e, const json_t *vm_status)
{
  const char *id = json_string_value (json_object_get (vm_status, "id")) ?: "";
  json_t *vms = json_object_get (e->status, "vms");
  json_t *ent;
  size_t i;

  if (!vms) {
    vms = json_array ();
    json_object_set_new (e->status, "vms", vms);
  }
  json_array_foreach (vms, i, ent)
    if (strcmp (json_string_value (json_object_get (ent, "id")) ?: "", id) == 0) {
      json_array_set_new (vms, i, json_deep_copy (vm_status));
      return;
    }
  json_array_append_new (vms, json_deep_copy (vm_status));
}

static int
job_save (struct ferry_vm_run *run)
{
  struct vm_job *j = run->save_opaque;
  pthread_mutex_lock (&j->e->lock);
  engine_put_vm_locked (j->e, run->vm_status);
  int r = engine_commit_locked (j->e, run->f->store);
  pthread_mutex_unlock (&j->e->lock);
  return r;
}

/* One disk of the VM copied: its scheduler slot is free for another VM. */
static void
job_disk_copied (struct ferry_vm_run *run)
{
  struct vm_job *j = run->save_opaque;
  if (j->given_back < j->cost) {
    j->given_back++;
    ferry_internal_sched_release_disks (j->host, 1);
  }
}

/* Pass ev on with the plan and Migration filled in. */
static void
job_event (void *opaque, const struct ferry_run_event *ev)
{
  struct engine *e = opaque;
  struct ferry_run_event full = { 0 };
  size_t n = ev->struct_size < sizeof full ? ev->struct_size : sizeof full;

  if (!e->fn)
    return;
  memcpy (&full, ev, n);
  full.struct_size = sizeof full;
  full.plan = e->plan_name;
  full.migration = e->name;
  full.ns = e->ns;
  pthread_mutex_lock (&e->events);
  e->fn (e->opaque, &full);
  pthread_mutex_unlock (&e->events);
}

/* An engine event of its own: vm NULL for the plan (done/total: VMs). */
static void
engine_event (struct engine *e, const char *vm, const char *step,
              const char *phase, uint64_t done, uint64_t total,
              const char *message)
{
  struct ferry_run_event ev = { .struct_size = sizeof ev, .vm = vm,
                                .step = step, .phase = phase, .done = done,
                                .total = total, .message = message };
  job_event (e, &ev);
}

/* A VM that could not start: Failed with why in Initialize. */
static void
job_fail (struct vm_job *j, struct ferry *f, const char *why)
{
  json_object_set_new (j->vm_status, "phase", json_string ("Failed"));
  json_object_set_new (j->vm_status, "error",
                       json_pack ("{s:s, s:[s]}", "phase", "Initialize", "reasons", why));
  ferry_internal_set_now_ms (j->vm_status, "completed");
  pthread_mutex_lock (&j->e->lock);
  engine_put_vm_locked (j->e, j->vm_status);
  if (f)
    engine_commit_locked (j->e, f->store);
  pthread_mutex_unlock (&j->e->lock);
}

static void *
job_thread (void *arg)
{
  struct vm_job *j = arg;
  struct engine *e = j->e;
  struct ferry *f = ferry_open (e->state_dir, 0);
  struct ferry_instance *src = NULL, *dst = NULL;
  json_t *plan = json_deep_copy (e->plan);
  json_t *nmap = e->nmap ? json_deep_copy (e->nmap) : NULL;
  json_t *smap = e->smap ? json_deep_copy (e->smap) : NULL;
  int r = -1;

  if (f)
    src = ferry_internal_source_open (f, e->s_ns, e->s_name);
  if (src)
    dst = ferry_internal_destination_open (f, e->d_ns, e->d_name);
  if (!dst || !plan)
    job_fail (j, NULL, *ferry_get_error () ? ferry_get_error () : "out of memory");
  else {
    struct ferry_vm_run run = {
      .f = f, .ns = e->ns, .migration = e->name, .plan = plan,
      .plan_vm = j->plan_vm, .vm_status = j->vm_status,
      .source = src, .destination = dst, .network_map = nmap, .storage_map = smap,
      .fn = e->fn ? job_event : NULL, .opaque = e,
      .save = job_save, .save_opaque = j, .disk_copied = job_disk_copied,
      .abort = &j->abort, .canceled = &j->canceled, .stopping = &stop_flag,
    };
    r = ferry_internal_pipeline_run (&run);
  }
  if (r == -1 && f && !dst) {
    pthread_mutex_lock (&e->lock);
    engine_commit_locked (e, f->store);
    pthread_mutex_unlock (&e->lock);
  }
  ferry_internal_instance_close (src);
  ferry_internal_instance_close (dst);
  ferry_close (f);
  json_decref (plan);
  json_decref (nmap);
  json_decref (smap);
  engine_event (e, j->name, NULL,
                r == 0 ? "Succeeded" : r == FERRY_PIPELINE_CANCELED ? "Canceled"
                : r == FERRY_PIPELINE_STOPPED ? "Stopped" : "Failed", 0, 0, NULL);
  pthread_mutex_lock (&e->lock);
  j->result = r;
  j->state = JOB_DONE;
  pthread_mutex_unlock (&e->lock);
  ferry_internal_sched_release (j->host, j->cost - j->given_back);
  return NULL;
}

/* spec.cancel of the stored Migration: mark the jobs it names. */
static void
poll_cancel (struct engine *e)
{
  CLEANUP_JSON_DECREF json_t *spec = NULL;
  if (!e->poll_store) {
    CLEANUP_FREE char *db = NULL;
    if (asprintf (&db, "%s/ferry.db", e->state_dir) == -1)
      return;
    e->poll_store = ferry_internal_store_open (db, FERRY_STORE_READONLY);
    if (!e->poll_store)
      return;
  }
  /* The spec alone: the status of a large Migration is megabytes. */
  if (ferry_internal_store_get_spec (e->poll_store, "Migration", e->ns, e->name,
                                     &spec) != 1) {
    ferry_debug ("migration %s/%s: poll: %s", e->ns, e->name, ferry_get_error ());
    ferry_internal_store_close (e->poll_store);
    e->poll_store = NULL;
    return;
  }
  const json_t *c;
  size_t i;
  json_array_foreach (json_object_get (spec, "cancel"), i, c) {
    const char *id = json_string_value (json_object_get (c, "id"));
    const char *name = json_string_value (json_object_get (c, "name"));
    for (size_t k = 0; k < e->nr_jobs; k++) {
      struct vm_job *j = &e->jobs[k];
      if ((id && strcmp (id, j->id) == 0) || (name && strcmp (name, j->name) == 0)) {
        if (!j->canceled)
          ferry_log_object (FERRY_LOG_INFO, "migration", e->ns, e->name,
                            "vm %s: cancel requested", j->name);
        j->canceled = 1;
        j->abort = 1;
      }
    }
  }
}

/* A pending job canceled before it started. */
static void
cancel_pending (struct engine *e, struct vm_job *j)
{
  ferry_internal_vm_mark_canceled (j->vm_status);
  pthread_mutex_lock (&e->lock);
  engine_put_vm_locked (e, j->vm_status);
  engine_commit_locked (e, e->f->store);
  j->state = JOB_DONE;
  j->result = FERRY_PIPELINE_CANCELED;
  j->joined = true;                     /* no thread was started */
  pthread_mutex_unlock (&e->lock);
  ferry_internal_sched_withdraw (j->host, &j->ticket);
  engine_event (e, j->name, "Initialize", "Canceled", 0, 0, NULL);
  engine_event (e, j->name, NULL, "Canceled", 0, 0, NULL);
}

/* Unfinished disks of a VM: its inventory disks less the ones its stored
 * DiskTransfer tasks mark done.
 */
static unsigned
job_cost (const json_t *inv, const json_t *vm_status)
{
  size_t disks = json_array_size (json_object_get (inv, "disks"));
  size_t done = 0, i;
  const json_t *step, *task;

  json_array_foreach (json_object_get (vm_status, "pipeline"), i, step) {
    if (strcmp (json_string_value (json_object_get (step, "name")) ?: "", "DiskTransfer") != 0)
      continue;
    if (strcmp (json_string_value (json_object_get (step, "phase")) ?: "", "Completed") == 0)
      return 0;
    size_t k;
    json_array_foreach (json_object_get (step, "tasks"), k, task)
      if (json_is_true (json_object_get (task, "done")))
        done++;
  }
  return done >= disks ? 0 : (unsigned) (disks - done);
}

struct earlier_ctx {
  const char *plan, *migration;
  json_t *done;                         /* {vm id: migration name} */
};

static int
collect_earlier (void *opaque, const struct ferry_store_row *row)
{
  struct earlier_ctx *c = opaque;
  const char *p = json_string_value (json_object_get (json_object_get (row->spec, "plan"), "name"));
  const json_t *vm;
  size_t i;

  if (!p || strcmp (p, c->plan) != 0 || strcmp (row->name, c->migration) == 0)
    return 0;
  json_array_foreach (json_object_get (row->status, "vms"), i, vm) {
    const char *id = json_string_value (json_object_get (vm, "id"));
    const char *ph = json_string_value (json_object_get (vm, "phase"));
    if (id && ph && strcmp (ph, "Completed") == 0)
      json_object_set_new (c->done, id, json_string (row->name));
  }
  return 0;
}

static void
engine_free_jobs (struct engine *e)
{
  for (size_t k = 0; k < e->nr_jobs; k++) {
    json_decref (e->jobs[k].plan_vm);
    json_decref (e->jobs[k].vm_status);
    free (e->jobs[k].id);
    free (e->jobs[k].name);
    free (e->jobs[k].host);
  }
  free (e->jobs);
}

int
ferry_migration_run (struct ferry *f, const char *ns, const char *name,
                     ferry_run_fn fn, void *opaque)
{
  CLEANUP_JSON_DECREF json_t *mig = load_object (f, "Migration", ns, name, "run");
  CLEANUP_JSON_DECREF json_t *plan = NULL, *nmap = NULL, *smap = NULL, *sprov = NULL;
  CLEANUP_JSON_DECREF json_t *earlier = json_object ();
  struct ferry_instance *src = NULL, *dst = NULL;
  struct engine e = { .lock = PTHREAD_MUTEX_INITIALIZER,
                      .committed = PTHREAD_COND_INITIALIZER,
                      .events = PTHREAD_MUTEX_INITIALIZER,
                      .f = f, .state_dir = ferry_get0_state_dir (f),
                      .ns = ns, .name = name, .fn = fn, .opaque = opaque };
  int failures = 0, canceled = 0, stopped = 0;
  size_t skipped = 0;
  int r = -1;

  if (!mig)
    return -1;
  const json_t *pref = json_object_get (json_object_get (mig, "spec"), "plan");
  const char *plan_name = json_string_value (json_object_get (pref, "name"));
  const char *plan_ns = json_string_value (json_object_get (pref, "namespace"));
  if (!plan_name) {
    ferry_error ("migration %s/%s has no spec.plan.name", ns, name);
    return -1;
  }
  plan = load_object (f, "Plan", plan_ns ? plan_ns : ns, plan_name, "migration");
  if (!plan)
    return -1;
  e.plan_name = plan_name;

  json_t *old = json_object_get (mig, "status");
  e.status = json_is_object (old) ? json_deep_copy (old) : json_object ();
  const char *phase = json_string_value (json_object_get (e.status, "phase"));
  if (phase && (strcmp (phase, "Succeeded") == 0 || strcmp (phase, "Canceled") == 0)) {
    ferry_error ("migration %s/%s has already ended (%s); start the plan again for a new one",
                 ns, name, phase);
    json_decref (e.status);
    return -1;
  }
  json_object_set_new (e.status, "phase", json_string ("Running"));
  json_object_del (e.status, "completed");
  json_object_del (e.status, "conditions");
  if (!json_object_get (e.status, "started"))
    ferry_internal_set_now_ms (e.status, "started");
  if (engine_save_locked (&e, f->store) == -1)
    goto out;
  if (plan_set_phase (f, plan_ns ? plan_ns : ns, plan_name, name, "Executing", NULL) == -1)
    goto fail;

  const json_t *pspec = json_object_get (plan, "spec");
  const json_t *psrc = json_object_get (json_object_get (pspec, "provider"), "source");
  const json_t *pdst = json_object_get (json_object_get (pspec, "provider"), "destination");
  const char *pns = plan_ns ? plan_ns : ns;
  const char *s_ns = json_string_value (json_object_get (psrc, "namespace"));
  const char *d_ns = json_string_value (json_object_get (pdst, "namespace"));
  e.s_ns = s_ns ? s_ns : pns;
  e.d_ns = d_ns ? d_ns : pns;
  e.s_name = json_string_value (json_object_get (psrc, "name"));
  e.d_name = json_string_value (json_object_get (pdst, "name"));
  if (!e.s_name || !e.d_name) {
    ferry_error ("plan %s/%s names no source or destination provider", pns, plan_name);
    goto fail;
  }
  if (ferry_inventory_refresh (f, e.s_ns, e.s_name) == -1)
    goto fail;
  /* Opened here once so a broken provider fails the whole migration. */
  src = ferry_internal_source_open (f, e.s_ns, e.s_name);
  if (!src)
    goto fail;
  dst = ferry_internal_destination_open (f, e.d_ns, e.d_name);
  if (!dst)
    goto fail;
  if (load_map (f, plan, "network", &nmap) == -1
      || load_map (f, plan, "storage", &smap) == -1)
    goto fail;
  sprov = load_object (f, "Provider", e.s_ns, e.s_name, "migration");
  unsigned limit = ferry_internal_sched_limit (json_object_get (sprov, "spec"));
  e.plan = plan;
  e.nmap = nmap;
  e.smap = smap;

  /* VMs that succeeded in earlier Migrations of the plan are not redone. */
  {
    struct earlier_ctx ec = { .plan = plan_name, .migration = name, .done = earlier };
    if (ferry_internal_store_list (f->store, "Migration", ns, collect_earlier, &ec) == -1)
      goto fail;
  }

  e.jobs = calloc (json_array_size (json_object_get (pspec, "vms")) + 1, sizeof *e.jobs);
  if (!e.jobs) {
    ferry_error_errno (errno, "run migration %s/%s", ns, name);
    goto fail;
  }
  const json_t *pvm;
  size_t i;
  json_array_foreach (json_object_get (pspec, "vms"), i, pvm) {
    const char *key = json_string_value (json_object_get (pvm, "id"));
    if (!key)
      key = json_string_value (json_object_get (pvm, "name"));
    struct vm_job *j = &e.jobs[e.nr_jobs];
    CLEANUP_JSON_DECREF json_t *inv =
      key ? ferry_inventory_get (f, e.s_ns, e.s_name, "vm", key) : NULL;
    if (!inv) {
      json_t *ent = vm_status_entry (e.status, key ? key : "");
      json_object_set_new (ent, "id", json_string (key ? key : ""));
      json_object_set_new (ent, "phase", json_string ("Failed"));
      json_object_set_new (ent, "error", json_pack ("{s:s, s:[s]}", "phase", "Initialize",
                                                    "reasons", ferry_get_error ()));
      failures++;
      engine_save_locked (&e, f->store);
      continue;
    }
    const char *id = json_string_value (json_object_get (inv, "id"));
    const char *vm_name = json_string_value (json_object_get (inv, "name"));
    const char *host = json_string_value (json_object_get (inv, "host"));
    json_t *ent = vm_status_entry (e.status, id);
    if (!json_object_get (ent, "pipeline")) {
      const char *by = json_string_value (json_object_get (earlier, id));
      if (by) {
        /* Not part of this migration: an earlier one migrated it. */
        json_array_remove (json_object_get (e.status, "vms"),
                           json_array_size (json_object_get (e.status, "vms")) - 1);
        ferry_log_object (FERRY_LOG_INFO, "migration", ns, name,
                          "vm %s: already migrated by migration %s; skipped",
                          vm_name ? vm_name : id, by);
        skipped++;
        continue;
      }
      struct ferry_vm_run init = { .vm_status = ent,
                                   .plan_vm = pvm,  /* hooks: which hook steps */
                                   .plan = plan };  /* warm: Cutover */
      ferry_internal_pipeline_init (&init, id, vm_name ? vm_name : id);
    }
    j->e = &e;
    j->plan_vm = json_deep_copy (pvm);
    j->id = strdup (id);
    j->name = strdup (vm_name ? vm_name : id);
    if (asprintf (&j->host, "%s/%s", src->uid, host ? host : "provider") == -1)
      j->host = NULL;
    j->vm_status = json_deep_copy (ent);
    j->cost = job_cost (inv, ent);
    {
      /* Ended in an earlier run of this Migration: nothing to start. */
      const char *ph = json_string_value (json_object_get (ent, "phase")) ?: "";
      if (strcmp (ph, "Completed") == 0 || strcmp (ph, "Canceled") == 0) {
        j->state = JOB_DONE;
        j->joined = true;
        j->result = ph[1] == 'o' ? 0 : FERRY_PIPELINE_CANCELED;
      }
    }
    e.nr_jobs++;
    if (!j->plan_vm || !j->id || !j->name || !j->host || !j->vm_status) {
      ferry_error ("run migration %s/%s: out of memory", ns, name);
      goto fail;
    }
  }
  ferry_internal_instance_close (src);
  ferry_internal_instance_close (dst);
  src = dst = NULL;
  if (engine_save_locked (&e, f->store) == -1)
    goto fail;

  engine_event (&e, NULL, "Initialize", "Running", 0, e.nr_jobs, NULL);

  /* Admit, watch, join: until every job is done (or stopped).  Each pass
   * walks the jobs from the first unfinished one; once a host refuses a
   * VM, the later VMs of that host are not asked in this pass (the
   * scheduler would refuse them: the host is reserved for the refused
   * one), so a pass costs little with thousands of pending VMs.
   */
  size_t first = 0;                     /* jobs before it are done and joined */
  struct timespec last_poll = { 0 };
  bool polled = false;
  for (;;) {
    size_t pending = 0, running = 0;
    const char *blocked[16];            /* hosts that refused in this pass */
    size_t nr_blocked = 0;
    struct timespec now;

    clock_gettime (CLOCK_MONOTONIC, &now);
    if (now.tv_sec != last_poll.tv_sec || !polled) {
      poll_cancel (&e);                 /* at most about once a second */
      last_poll = now;
      polled = true;
    }
    for (size_t k = first; k < e.nr_jobs; k++) {
      struct vm_job *j = &e.jobs[k];
      pthread_mutex_lock (&e.lock);
      enum job_state st = j->state;
      pthread_mutex_unlock (&e.lock);
      if (st == JOB_PENDING) {
        if (j->canceled && strcmp (json_string_value (json_object_get (j->vm_status, "phase")) ?: "",
                                   "Completed") != 0) {
          cancel_pending (&e, j);
          continue;
        }
        if (stop_requested) {
          ferry_internal_sched_withdraw (j->host, &j->ticket);
          stopped++;
          j->state = JOB_SKIPPED;
          continue;
        }
        bool skip = false;
        if (!j->ticket)
          for (size_t b = 0; b < nr_blocked && !skip; b++)
            skip = strcmp (blocked[b], j->host) == 0;
        if (!skip && ferry_internal_sched_try_admit (j->host, j->cost, limit, &j->ticket)) {
          j->state = JOB_RUNNING;
          int err = pthread_create (&j->thread, NULL, job_thread, j);
          if (err) {
            ferry_internal_sched_release (j->host, j->cost);
            ferry_error_errno (err, "vm %s: start a thread", j->name);
            job_fail (j, f, ferry_get_error ());
            j->state = JOB_DONE;
            j->result = -1;
            j->joined = true;
            continue;
          }
          running++;
        }
        else {
          if (!skip && nr_blocked < sizeof blocked / sizeof blocked[0])
            blocked[nr_blocked++] = j->host;
          pending++;
        }
      }
      else if (st == JOB_RUNNING)
        running++;
      else if (st == JOB_DONE && !j->joined) {
        pthread_join (j->thread, NULL);
        j->joined = true;
      }
      if (k == first && (j->joined || j->state == JOB_SKIPPED))
        first++;
    }
    if (!pending && !running)
      break;
    ferry_internal_sched_wait (500);
  }
  for (size_t k = 0; k < e.nr_jobs; k++)
    ferry_internal_sched_withdraw (e.jobs[k].host, &e.jobs[k].ticket);

  for (size_t k = 0; k < e.nr_jobs; k++) {
    struct vm_job *j = &e.jobs[k];
    if (j->state == JOB_SKIPPED)
      continue;
    if (j->result == -1)
      failures++;
    else if (j->result == FERRY_PIPELINE_CANCELED)
      canceled++;
    else if (j->result == FERRY_PIPELINE_STOPPED)
      stopped++;
  }

  pthread_mutex_lock (&e.lock);
  if (stopped) {
    /* Left Running: `ferry run` or `ferry serve` resumes it. */
    r = engine_save_locked (&e, f->store);
    pthread_mutex_unlock (&e.lock);
    ferry_error ("migration %s/%s: stopped with %d VMs unfinished; 'ferry run %s -n %s' resumes it",
                 ns, name, stopped, name, ns);
    r = -1;
    goto out;
  }
  const char *end = failures ? "Failed" : canceled ? "Canceled" : "Succeeded";
  json_object_set_new (e.status, "phase", json_string (end));
  ferry_internal_set_now_ms (e.status, "completed");
  json_object_set_new (e.status, "conditions",
                       json_pack ("[{s:s, s:s, s:s, s:s}]",
                                  "type", end, "status", "True", "category", "Advisory",
                                  "message", failures ? "The migration has FAILED."
                                  : canceled ? "The migration has been CANCELED."
                                  : "The migration has SUCCEEDED."));
  if (skipped)
    json_object_set_new (e.status, "skippedVms", json_integer ((json_int_t) skipped));
  r = engine_save_locked (&e, f->store);
  pthread_mutex_unlock (&e.lock);
  if (r == -1)
    goto out;
  {
    /* The Plan's condition names the VMs that failed (or were canceled). */
    CLEANUP_JSON_DECREF json_t *items = json_array ();
    const json_t *v;
    size_t k;
    json_array_foreach (json_object_get (e.status, "vms"), k, v) {
      const char *ph = json_string_value (json_object_get (v, "phase")) ?: "";
      if (strcmp (ph, failures ? "Failed" : "Canceled") == 0)
        json_array_append_new (items, json_string (json_string_value (json_object_get (v, "name"))
                                                   ?: json_string_value (json_object_get (v, "id")) ?: ""));
    }
    if (plan_set_phase (f, plan_ns ? plan_ns : ns, plan_name, name, end, items) == -1)
      ferry_log_object (FERRY_LOG_ERROR, "migration", ns, name, "%s", ferry_get_error ());
  }
  engine_event (&e, NULL, NULL, end, e.nr_jobs - (size_t) failures - (size_t) canceled,
                e.nr_jobs, NULL);
  if (failures || canceled) {
    ferry_error ("migration %s/%s: %d of %zu VMs failed, %d canceled (see 'ferry get migration %s -o yaml')",
                 ns, name, failures, json_array_size (json_object_get (pspec, "vms")),
                 canceled, name);
    r = -1;
  }
  goto out;

 fail:
  {
    char *msg = strdup (ferry_get_error ());
    if (plan_name)
      plan_set_phase (f, plan_ns ? plan_ns : ns, plan_name, name, "Failed", NULL);
    json_object_set_new (e.status, "phase", json_string ("Failed"));
    ferry_internal_set_now_ms (e.status, "completed");
    json_object_set_new (e.status, "conditions",
                         json_pack ("[{s:s, s:s, s:s, s:s}]", "type", "Failed", "status", "True",
                                    "category", "Critical", "message", msg ? msg : "failed"));
    engine_save_locked (&e, f->store);
    if (msg)
      ferry_error ("%s", msg);
    free (msg);
    r = -1;
  }
 out:
  ferry_internal_instance_close (src);
  ferry_internal_instance_close (dst);
  engine_free_jobs (&e);
  if (e.poll_store)
    ferry_internal_store_close (e.poll_store);
  json_decref (e.status);
  return r;
}
