/* ferry core: starting and running a Migration.
 *
 * The engine (issue 5): each VM of the plan is a job; jobs are admitted per
 * source host by the process-wide scheduler (scheduler.c) and run their
 * pipeline (pipeline.c) in a thread of their own.  A struct ferry is
 * one-thread-at-a-time, so every VM thread opens its own struct ferry (its
 * own store connection and module handles) on the same state directory.
 * Each VM's entry of status.vms is its own store row (store.h): a VM
 * thread stores only its entry, through the process's group commit
 * (vm-rows.h), so a transition costs the same in a plan of 10 VMs as in
 * one of 5,000, and no save can lose another VM's update.  The calling
 * thread admits jobs per source host and polls the store for cancel
 * requests (spec.cancel) at least once a second.
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
#include "vm-rows.h"
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
  if (ferry_internal_store_list_without_vms (f->store, "Migration", ns, check_active, &chk) == -1
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
  size_t position;                      /* of its entry in status.vms: the
                                           index of its store row */
  unsigned cost;                        /* unfinished disks */
  unsigned given_back;                  /* of cost, released as each disk
                                           was copied (the job's thread) */
  enum job_state state;                 /* guarded by engine.lock */
  bool joined;                          /* main thread only */
  bool unsaved;                         /* the last change of its entry is
                                           not stored (its thread, then the
                                           main thread once joined) */
  pthread_t thread;
  volatile int abort;                   /* transfer cancel flag */
  volatile int canceled;                /* the user canceled this VM */
  uint64_t ticket;                      /* scheduler ticket while refused
                                           (main thread only) */
  int result;                           /* the pipeline's, when JOB_DONE */
  json_t *vm_status;                    /* its entry of engine.status.vms
                                           (the same object); the job's
                                           thread's while it runs */
};

/* The jobs of one source host, in plan order: the admission loop asks the
 * scheduler about the first one not yet admitted only.
 */
struct host_queue {
  const char *host;                     /* borrowed from a job */
  size_t *jobs;                         /* indexes into engine.jobs */
  size_t n;
  size_t head;                          /* jobs[head..n) not yet admitted */
};

struct engine {
  pthread_mutex_t lock;                 /* guards jobs[].state, finished */
  pthread_mutex_t events;               /* serializes calls of fn */
  json_t *status;                       /* the Migration's status; each VM
                                           entry is owned by its job */
  json_t *by_id;                        /* {vm id: position in status.vms} */
  json_t *job_keys;                     /* {"i:ID" or "n:NAME": job index} */
  struct ferry *f;                      /* the caller's (main thread only) */
  struct ferry_store *poll_store;       /* main thread's own read-only
                                           connection for spec.cancel, so no
                                           read snapshot of f's can hide it */
  const char *state_dir;
  const char *ns, *name;                /* the Migration */
  const char *uid;                      /* ... its uid (of its VM rows) */
  const char *plan_name;                /* its Plan (same namespace or plan_ns) */
  const json_t *plan, *nmap, *smap;     /* read-only while threads run, and
                                           shared by them */
  const char *s_ns, *s_name, *d_ns, *d_name;
  ferry_run_fn fn;
  void *opaque;
  size_t nr_jobs;
  struct vm_job *jobs;
  size_t *finished;                     /* jobs whose thread ended, to be
                                           joined (under lock) */
  size_t nr_finished;
  struct host_queue *queues;            /* main thread only */
  size_t nr_queues;
  struct ferry **idle;                  /* contexts of ended VM threads, for
                                           the next ones (under lock) */
  size_t nr_idle;
};

/* A context for a VM thread: an ended thread's (a struct ferry is one
 * thread at a time, not one thread for life), else a new one.  Opening
 * one (store connection, modules, prepared statements, key) costs more
 * than some VMs' whole bookkeeping.
 */
static struct ferry *
engine_take_ferry (struct engine *e)
{
  struct ferry *f = NULL;
  pthread_mutex_lock (&e->lock);
  if (e->nr_idle)
    f = e->idle[--e->nr_idle];
  pthread_mutex_unlock (&e->lock);
  return f ? f : ferry_open (e->state_dir, 0);
}

static void
engine_give_ferry (struct engine *e, struct ferry *f)
{
  if (!f)
    return;
  ferry_internal_store_rollback (f->store);    /* none should be open */
  ferry_clear_error ();
  pthread_mutex_lock (&e->lock);
  /* idle has room for one context per job. */
  e->idle[e->nr_idle++] = f;
  pthread_mutex_unlock (&e->lock);
}

/* The whole status, VM rows included: only while no VM thread runs. */
static int
engine_save_all (struct engine *e, struct ferry_store *store)
{
  return ferry_internal_store_set_status (store, "Migration", e->ns, e->name,
                                          e->status);
}

/* The Migration's own status; its VM rows (stored by each VM) stay. */
static int
engine_save_own (struct engine *e, struct ferry_store *store)
{
  return ferry_internal_store_set_status_keep_vms (store, "Migration", e->ns,
                                                   e->name, e->status);
}

/* Store j's entry as its row and wait for the commit (group commit across
 * the process, vm-rows.h): the VM acts only after this returns 0.  A
 * transition costs one VM's entry, whatever the size of the plan.
 */
static int
job_store (struct vm_job *j, struct ferry_store *store)
{
  struct engine *e = j->e;
  CLEANUP_FREE char *text = ferry_internal_store_dump_json (j->vm_status);
  int r;

  if (!text) {
    ferry_error ("migration %s/%s: vm %s: cannot serialise its status "
                 "(strings must be UTF-8)", e->ns, e->name, j->name);
    r = -1;
  }
  else
    r = ferry_internal_vm_row_commit (store, e->state_dir, e->uid,
                                      j->position, j->id, text);
  j->unsaved = r == -1;
  return r;
}

static int
job_save (struct ferry_vm_run *run)
{
  return job_store (run->save_opaque, run->f->store);
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

/* A VM that could not start: Failed with why in Initialize; stored
 * through store (NULL: left for the end of the run).
 */
static void
job_fail (struct vm_job *j, struct ferry_store *store, const char *why)
{
  json_object_set_new (j->vm_status, "phase", json_string ("Failed"));
  json_object_set_new (j->vm_status, "error",
                       json_pack ("{s:s, s:[s]}", "phase", "Initialize", "reasons", why));
  ferry_internal_set_now_ms (j->vm_status, "completed");
  if (store)
    job_store (j, store);
  else
    j->unsaved = true;
}

static void *
job_thread (void *arg)
{
  struct vm_job *j = arg;
  struct engine *e = j->e;
  struct ferry *f = engine_take_ferry (e);
  struct ferry_instance *src = NULL, *dst = NULL;
  int r = -1;

  if (f)
    src = ferry_internal_source_open (f, e->s_ns, e->s_name);
  if (src)
    dst = ferry_internal_destination_open (f, e->d_ns, e->d_name);
  if (!dst)
    job_fail (j, f ? f->store : NULL,
              *ferry_get_error () ? ferry_get_error () : "out of memory");
  else {
    /* The plan and maps are shared, read-only: jansson's reference
     * counts are atomic and its encoder keeps no state in the values.
     */
    struct ferry_vm_run run = {
      .f = f, .ns = e->ns, .migration = e->name, .migration_uid = e->uid,
      .plan = e->plan, .plan_vm = j->plan_vm, .vm_status = j->vm_status,
      .source = src, .destination = dst,
      .network_map = e->nmap, .storage_map = e->smap,
      .fn = e->fn ? job_event : NULL, .opaque = e,
      .save = job_save, .save_opaque = j, .disk_copied = job_disk_copied,
      .abort = &j->abort, .canceled = &j->canceled, .stopping = &stop_flag,
    };
    r = ferry_internal_pipeline_run (&run);
  }
  ferry_internal_instance_close (src);
  ferry_internal_instance_close (dst);
  engine_give_ferry (e, f);
  engine_event (e, j->name, NULL,
                r == 0 ? "Succeeded" : r == FERRY_PIPELINE_CANCELED ? "Canceled"
                : r == FERRY_PIPELINE_STOPPED ? "Stopped" : "Failed", 0, 0, NULL);
  pthread_mutex_lock (&e->lock);
  j->result = r;
  j->state = JOB_DONE;
  e->finished[e->nr_finished++] = (size_t) (j - e->jobs);
  pthread_mutex_unlock (&e->lock);
  /* Last: the release wakes the admission loop, which then joins it. */
  ferry_internal_sched_release (j->host, j->cost - j->given_back);
  return NULL;
}

/* An ended job's entry, once stored, shrinks to what the end of the run
 * reads (id, name, phase): a large Migration does not keep every VM's
 * pipeline in memory.  Main thread, no VM thread of the job running.
 */
static void
job_slim (struct engine *e, struct vm_job *j)
{
  if (j->unsaved)
    return;                             /* stored at the end, whole */
  json_t *slim = json_pack ("{s:O*, s:O*, s:O*}",
                            "id", json_object_get (j->vm_status, "id"),
                            "name", json_object_get (j->vm_status, "name"),
                            "phase", json_object_get (j->vm_status, "phase"));
  if (!slim)
    return;
  json_array_set (json_object_get (e->status, "vms"), j->position, slim);
  json_decref (j->vm_status);
  j->vm_status = slim;
}

/* Join the jobs whose thread ended; how many. */
static size_t
join_finished (struct engine *e)
{
  size_t n = 0;

  for (;;) {
    pthread_mutex_lock (&e->lock);
    if (!e->nr_finished) {
      pthread_mutex_unlock (&e->lock);
      return n;
    }
    struct vm_job *j = &e->jobs[e->finished[--e->nr_finished]];
    pthread_mutex_unlock (&e->lock);
    pthread_join (j->thread, NULL);
    j->joined = true;
    job_slim (e, j);
    n++;
  }
}

/* Start j's thread (the scheduler admitted it): 1 started, 0 not (j
 * failed, stored).
 */
static int
job_start (struct engine *e, struct vm_job *j)
{
  pthread_mutex_lock (&e->lock);
  j->state = JOB_RUNNING;
  pthread_mutex_unlock (&e->lock);
  int err = pthread_create (&j->thread, NULL, job_thread, j);
  if (!err)
    return 1;
  ferry_internal_sched_release (j->host, j->cost);
  ferry_error_errno (err, "vm %s: start a thread", j->name);
  job_fail (j, e->f->store, ferry_get_error ());
  pthread_mutex_lock (&e->lock);
  j->state = JOB_DONE;
  pthread_mutex_unlock (&e->lock);
  j->result = -1;
  j->joined = true;
  return 0;
}

/* A pending job canceled before it started. */
static void
cancel_pending (struct engine *e, struct vm_job *j)
{
  ferry_internal_vm_mark_canceled (j->vm_status);
  job_store (j, e->f->store);
  pthread_mutex_lock (&e->lock);
  j->state = JOB_DONE;
  pthread_mutex_unlock (&e->lock);
  j->result = FERRY_PIPELINE_CANCELED;
  j->joined = true;                     /* no thread was started */
  ferry_internal_sched_withdraw (j->host, &j->ticket);
  engine_event (e, j->name, "Initialize", "Canceled", 0, 0, NULL);
  engine_event (e, j->name, NULL, "Canceled", 0, 0, NULL);
}

/* j's state (main thread; a VM thread may be ending j). */
static enum job_state
job_state (struct engine *e, const struct vm_job *j)
{
  pthread_mutex_lock (&e->lock);
  enum job_state st = j->state;
  pthread_mutex_unlock (&e->lock);
  return st;
}

/* Mark job k canceled (spec.cancel names it); a pending one ends now. */
static void
cancel_job (struct engine *e, size_t k)
{
  struct vm_job *j = &e->jobs[k];

  if (j->canceled)
    return;
  ferry_log_object (FERRY_LOG_INFO, "migration", e->ns, e->name,
                    "vm %s: cancel requested", j->name);
  j->canceled = 1;
  j->abort = 1;
  /* Only the main thread (this one) moves a job out of JOB_PENDING. */
  if (job_state (e, j) == JOB_PENDING
      && strcmp (json_string_value (json_object_get (j->vm_status, "phase")) ?: "",
                 "Completed") != 0)
    cancel_pending (e, j);
}

/* The job of a VM by id ("i:ID") or name ("n:NAME") in e->job_keys, or -1. */
static ssize_t
job_index (struct engine *e, char kind, const char *key)
{
  CLEANUP_FREE char *k = NULL;
  if (!key || asprintf (&k, "%c:%s", kind, key) == -1)
    return -1;
  json_t *v = json_object_get (e->job_keys, k);
  return v ? (ssize_t) json_integer_value (v) : -1;
}

/* spec.cancel of the stored Migration: cancel the jobs it names. */
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
    ssize_t a = job_index (e, 'i', id), b = job_index (e, 'n', name);
    if (a >= 0)
      cancel_job (e, (size_t) a);
    if (b >= 0 && b != a)
      cancel_job (e, (size_t) b);
  }
}

/* Stop requested: pending jobs are not started; how many. */
static int
skip_pending (struct engine *e)
{
  int n = 0;
  for (size_t k = 0; k < e->nr_jobs; k++) {
    struct vm_job *j = &e->jobs[k];
    if (job_state (e, j) != JOB_PENDING)
      continue;
    ferry_internal_sched_withdraw (j->host, &j->ticket);
    pthread_mutex_lock (&e->lock);
    j->state = JOB_SKIPPED;
    pthread_mutex_unlock (&e->lock);
    n++;
  }
  return n;
}

/* Group the jobs by source host, in plan order. */
static int
make_queues (struct engine *e)
{
  e->queues = calloc (e->nr_jobs + 1, sizeof *e->queues);
  if (!e->queues)
    return -1;
  for (size_t k = 0; k < e->nr_jobs; k++) {
    struct host_queue *q = NULL;
    for (size_t h = 0; h < e->nr_queues && !q; h++)
      if (strcmp (e->queues[h].host, e->jobs[k].host) == 0)
        q = &e->queues[h];
    if (!q) {
      q = &e->queues[e->nr_queues++];
      q->host = e->jobs[k].host;
      q->jobs = calloc (e->nr_jobs - k, sizeof *q->jobs);
      if (!q->jobs)
        return -1;
    }
    q->jobs[q->n++] = k;
  }
  return 0;
}

/* Admit, watch, join until every job is done (or stopped); how many were
 * stopped before they started.  Each pass asks the scheduler about each
 * host's first job not yet admitted, and admits on that host until one is
 * refused: the scheduler would refuse the later ones (the host is
 * reserved for the refused one), so a pass costs a few calls however many
 * VMs wait.  Between passes it sleeps until a VM or disk gives its slots
 * back anywhere in the process, or half a second (for cancel polls).
 */
static int
engine_admit (struct engine *e, unsigned limit)
{
  struct timespec last_poll = { 0 };
  bool polled = false;
  size_t running = 0;
  int stopped = 0;

  for (;;) {
    uint64_t epoch = ferry_internal_sched_epoch ();
    struct timespec now;
    bool waiting = false;

    clock_gettime (CLOCK_MONOTONIC, &now);
    if (now.tv_sec != last_poll.tv_sec || !polled) {
      poll_cancel (e);                  /* at most about once a second */
      last_poll = now;
      polled = true;
    }
    running -= join_finished (e);
    if (stop_requested)
      stopped += skip_pending (e);
    for (size_t h = 0; h < e->nr_queues; h++) {
      struct host_queue *q = &e->queues[h];
      while (q->head < q->n) {
        struct vm_job *j = &e->jobs[q->jobs[q->head]];
        if (j->state != JOB_PENDING) {
          q->head++;
          continue;
        }
        if (!ferry_internal_sched_try_admit (j->host, j->cost, limit, &j->ticket)) {
          waiting = true;
          break;
        }
        q->head++;
        running += job_start (e, j);
      }
    }
    if (!waiting && !running)
      return stopped;
    ferry_internal_sched_wait_since (epoch, 500);
  }
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

/* This VM's entry in status.vms, created when absent; *pos its index. */
static json_t *
vm_status_entry (struct engine *e, const char *id, size_t *pos)
{
  json_t *vms = json_object_get (e->status, "vms");
  json_t *at = json_object_get (e->by_id, id);
  json_t *ent;

  if (at) {
    *pos = (size_t) json_integer_value (at);
    return json_array_get (vms, *pos);
  }
  if (!vms) {
    vms = json_array ();
    json_object_set_new (e->status, "vms", vms);
  }
  ent = json_object ();
  if (!ent || json_array_append_new (vms, ent) == -1)
    return NULL;
  *pos = json_array_size (vms) - 1;
  json_object_set_new (e->by_id, id, json_integer ((json_int_t) *pos));
  return ent;
}

/* Index the stored status.vms by id (the first entry of an id wins). */
static int
index_vms (struct engine *e)
{
  const json_t *ent;
  size_t i;

  e->by_id = json_object ();
  if (!e->by_id)
    return -1;
  json_array_foreach (json_object_get (e->status, "vms"), i, ent) {
    const char *id = json_string_value (json_object_get (ent, "id")) ?: "";
    if (!json_object_get (e->by_id, id))
      json_object_set_new (e->by_id, id, json_integer ((json_int_t) i));
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
  for (size_t h = 0; h < e->nr_queues; h++)
    free (e->queues[h].jobs);
  free (e->queues);
  free (e->finished);
  for (size_t k = 0; k < e->nr_idle; k++)
    ferry_close (e->idle[k]);
  free (e->idle);
  json_decref (e->by_id);
  json_decref (e->job_keys);
}

/* The entries whose last change was not stored (a VM that could not
 * start, a failed commit) are written now, each on its own.
 */
static int
save_unsaved (struct engine *e, struct ferry_store *store)
{
  int r = 0;
  for (size_t k = 0; k < e->nr_jobs; k++) {
    struct vm_job *j = &e->jobs[k];
    if (j->unsaved && j->joined) {
      CLEANUP_FREE char *text = ferry_internal_store_dump_json (j->vm_status);
      if (!text
          || ferry_internal_store_set_vm_status (store, e->uid, j->position,
                                                 j->id, text) == -1) {
        ferry_log_object (FERRY_LOG_ERROR, "migration", e->ns, e->name,
                          "vm %s: store its status: %s", j->name,
                          text ? ferry_get_error () : "invalid UTF-8");
        r = -1;
      }
      else
        j->unsaved = false;
    }
  }
  return r;
}

/* Map each job's id and name to its index (spec.cancel names VMs). */
static int
index_jobs (struct engine *e)
{
  e->job_keys = json_object ();
  if (!e->job_keys)
    return -1;
  for (size_t k = e->nr_jobs; k-- > 0; ) {   /* the first of a name wins */
    CLEANUP_FREE char *ik = NULL, *nk = NULL;
    if (asprintf (&ik, "i:%s", e->jobs[k].id) == -1
        || asprintf (&nk, "n:%s", e->jobs[k].name) == -1
        || json_object_set_new (e->job_keys, ik, json_integer ((json_int_t) k)) == -1
        || json_object_set_new (e->job_keys, nk, json_integer ((json_int_t) k)) == -1)
      return -1;
  }
  return 0;
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
  e.uid = json_string_value (json_object_get (json_object_get (mig, "metadata"), "uid"));
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
  if (engine_save_own (&e, f->store) == -1)
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
  if (!e.uid) {
    ferry_error ("migration %s/%s has no uid in the store", ns, name);
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

  size_t nr_plan_vms = json_array_size (json_object_get (pspec, "vms"));
  e.jobs = calloc (nr_plan_vms + 1, sizeof *e.jobs);
  e.finished = calloc (nr_plan_vms + 1, sizeof *e.finished);
  e.idle = calloc (nr_plan_vms + 1, sizeof *e.idle);
  if (!e.jobs || !e.finished || !e.idle || index_vms (&e) == -1) {
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
    size_t pos;
    CLEANUP_JSON_DECREF json_t *inv =
      key ? ferry_inventory_get (f, e.s_ns, e.s_name, "vm", key) : NULL;
    if (!inv) {
      /* Stored with the others below, before any VM starts. */
      json_t *ent = vm_status_entry (&e, key ? key : "", &pos);
      if (!ent) {
        ferry_error ("run migration %s/%s: out of memory", ns, name);
        goto fail;
      }
      json_object_set_new (ent, "id", json_string (key ? key : ""));
      json_object_set_new (ent, "phase", json_string ("Failed"));
      json_object_set_new (ent, "error", json_pack ("{s:s, s:[s]}", "phase", "Initialize",
                                                    "reasons", ferry_get_error ()));
      failures++;
      continue;
    }
    const char *id = json_string_value (json_object_get (inv, "id"));
    const char *vm_name = json_string_value (json_object_get (inv, "name"));
    const char *host = json_string_value (json_object_get (inv, "host"));
    json_t *ent = vm_status_entry (&e, id, &pos);
    if (!ent) {
      ferry_error ("run migration %s/%s: out of memory", ns, name);
      goto fail;
    }
    if (!json_object_get (ent, "pipeline")) {
      const char *by = json_string_value (json_object_get (earlier, id));
      if (by) {
        /* Not part of this migration: an earlier one migrated it.  (An
         * entry stored before, not the last, stays where it is: the
         * positions after it are rows.)
         */
        json_t *vms = json_object_get (e.status, "vms");
        if (pos + 1 == json_array_size (vms)) {
          json_array_remove (vms, pos);
          json_object_del (e.by_id, id);
        }
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
    j->position = pos;
    j->vm_status = json_incref (ent);
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
    if (!j->plan_vm || !j->id || !j->name || !j->host) {
      ferry_error ("run migration %s/%s: out of memory", ns, name);
      goto fail;
    }
  }
  ferry_internal_instance_close (src);
  ferry_internal_instance_close (dst);
  src = dst = NULL;
  if (make_queues (&e) == -1 || index_jobs (&e) == -1) {
    ferry_error ("run migration %s/%s: out of memory", ns, name);
    goto fail;
  }
  /* Every VM's row, before any VM acts; from now on each VM stores its own. */
  if (engine_save_all (&e, f->store) == -1)
    goto fail;
  for (size_t k = 0; k < e.nr_jobs; k++)
    if (e.jobs[k].state == JOB_DONE)
      job_slim (&e, &e.jobs[k]);

  engine_event (&e, NULL, "Initialize", "Running", 0, e.nr_jobs, NULL);

  stopped = engine_admit (&e, limit);
  for (size_t k = 0; k < e.nr_jobs; k++)
    ferry_internal_sched_withdraw (e.jobs[k].host, &e.jobs[k].ticket);
  {
    unsigned long long rows, commits;
    ferry_internal_vm_row_stats (&rows, &commits);
    ferry_log_object (FERRY_LOG_INFO, "migration", ns, name,
                      "VM status rows committed by this process so far: "
                      "%llu in %llu transactions", rows, commits);
  }

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

  save_unsaved (&e, f->store);
  if (stopped) {
    /* Left Running: `ferry run` or `ferry serve` resumes it. */
    engine_save_own (&e, f->store);
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
  r = engine_save_own (&e, f->store);
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
  /* No VM thread was started: the whole status is this thread's. */
  {
    char *msg = strdup (ferry_get_error ());
    if (plan_name)
      plan_set_phase (f, plan_ns ? plan_ns : ns, plan_name, name, "Failed", NULL);
    json_object_set_new (e.status, "phase", json_string ("Failed"));
    ferry_internal_set_now_ms (e.status, "completed");
    json_object_set_new (e.status, "conditions",
                         json_pack ("[{s:s, s:s, s:s, s:s}]", "type", "Failed", "status", "True",
                                    "category", "Critical", "message", msg ? msg : "failed"));
    engine_save_all (&e, f->store);
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
