/* ferry core: controlling Plans and Migrations (issue 5): cancel, restart,
 * archive, duplicate, the running-migration check that delete uses, and
 * serve (every unfinished Migration of the store, in one process).
 */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "pipeline.h"                   /* ferry_internal_plan_is_warm */
#include "schema.h"                     /* ferry_internal_is_rfc3339 */
#include "scheduler.h"
#include "validation.h"

static bool
migration_running (const json_t *status)
{
  const char *phase = json_string_value (json_object_get (status, "phase"));
  return phase && (strcmp (phase, "Running") == 0 || strcmp (phase, "Executing") == 0);
}

static bool
migration_unfinished (const json_t *status)
{
  const char *phase = json_string_value (json_object_get (status, "phase"));
  return !phase || strcmp (phase, "Pending") == 0 || strcmp (phase, "Running") == 0
    || strcmp (phase, "Executing") == 0;
}

struct find_ctx {
  const char *plan;
  bool pending_too;                     /* count a Migration never run as running */
  char *running;                        /* running Migration of plan */
  int count;                            /* Migrations of plan */
};

static int
find_one (void *opaque, const struct ferry_store_row *row)
{
  struct find_ctx *c = opaque;
  const char *p = json_string_value (json_object_get (json_object_get (row->spec, "plan"), "name"));
  if (!p || strcmp (p, c->plan) != 0)
    return 0;
  c->count++;
  if ((c->pending_too ? migration_unfinished (row->status) : migration_running (row->status))
      && !c->running) {
    c->running = strdup (row->name);
    if (!c->running) {
      ferry_error ("out of memory");
      return -1;
    }
  }
  return 0;
}

static int
find_migrations (struct ferry *f, const char *ns, const char *plan,
                 struct find_ctx *c)
{
  *c = (struct find_ctx) { .plan = plan, .pending_too = c->pending_too };
  if (ferry_internal_store_list_without_vms (f->store, "Migration", ns, find_one, c) == -1) {
    free (c->running);
    c->running = NULL;
    return -1;
  }
  return 0;
}

struct migrated_ctx {
  const char *plan;
  json_t *uids;                         /* of the plan's Migrations */
};

static int
migrated_one (void *opaque, const struct ferry_store_row *row)
{
  struct migrated_ctx *c = opaque;
  const char *p = json_string_value (json_object_get (json_object_get (row->spec, "plan"), "name"));
  if (p && strcmp (p, c->plan) == 0 && row->uid)
    json_array_append_new (c->uids, json_string (row->uid));
  return 0;
}

/* Plan validation asks this for every VM of the plan: the plan's
 * Migrations are read without their VM rows, then the VM's row of each
 * by its index, so a large plan is not read once per VM.
 */
bool
ferry_internal_plan_vm_migrated (struct ferry *f, const char *ns,
                                 const char *plan, const char *vm_id)
{
  CLEANUP_JSON_DECREF json_t *uids = json_array ();
  struct migrated_ctx c = { .plan = plan, .uids = uids };
  const json_t *uid;
  size_t i;

  if (!vm_id || !uids
      || ferry_internal_store_list_without_vms (f->store, "Migration", ns,
                                                migrated_one, &c) == -1)
    return false;
  json_array_foreach (uids, i, uid) {
    CLEANUP_JSON_DECREF json_t *ent =
      ferry_internal_store_get_vm_status (f->store, json_string_value (uid), vm_id);
    if (strcmp (json_string_value (json_object_get (ent, "phase")) ?: "", "Completed") == 0)
      return true;
  }
  return false;
}

char *
ferry_plan_running_migration (struct ferry *f, const char *ns, const char *plan)
{
  struct find_ctx c = { 0 };
  ferry_clear_error ();
  if (find_migrations (f, ns ? ns : "default", plan, &c) == -1)
    return NULL;
  return c.running;
}

/* Plan ns/name's row; -1 with "plan ns/name not found" when absent. */
static int
get_plan (struct ferry *f, const char *ns, const char *name,
          struct ferry_store_row *row)
{
  int r = ferry_internal_store_get (f->store, "Plan", ns, name, row);
  if (r == 0)
    ferry_internal_not_found_error ("Plan", ns, name);
  return r == 1 ? 0 : -1;
}

/* The end of cancel and cutover, which change the running Migration's
 * spec in the caller's transaction: when ok, store mrow (a new generation)
 * and commit, logging "migration NAME: done"; else roll back.  Clears
 * prow, mrow and c.  The Migration's name (the caller's), or NULL.
 */
static char *
spec_change_end (struct ferry *f, bool ok, const char *ns, const char *plan,
                 struct ferry_store_row *prow, struct ferry_store_row *mrow,
                 struct find_ctx *c, const char *done)
{
  char *result = NULL;

  if (ok) {
    mrow->generation++;
    if (ferry_internal_store_update (f->store, mrow) == 0
        && ferry_internal_store_commit (f->store) == 0) {
      ferry_log_object (FERRY_LOG_INFO, "plan", ns, plan, "migration %s: %s",
                        c->running, done);
      result = ferry_steal (&c->running);
    }
  }
  ferry_internal_store_rollback (f->store);     /* no-op once committed */
  free (c->running);
  c->running = NULL;
  ferry_internal_store_row_clear (prow);
  ferry_internal_store_row_clear (mrow);
  return result;
}

char *
ferry_migration_cancel (struct ferry *f, const char *ns, const char *plan,
                        const char *const *vms)
{
  struct ferry_store_row prow = { 0 }, mrow = { 0 };
  struct find_ctx c = { 0 };

  ns = ns ? ns : "default";
  if (ferry_internal_store_begin (f->store) == -1)
    return NULL;
  c.pending_too = true;
  if (get_plan (f, ns, plan, &prow) == -1 || find_migrations (f, ns, plan, &c) == -1)
    goto out;
  if (!c.running) {
    ferry_error ("cancel plan %s/%s: it has no running migration", ns, plan);
    goto out;
  }
  if (ferry_internal_store_get_without_vms (f->store, "Migration", ns, c.running, &mrow) != 1)
    goto out;
  json_t *cancel = json_object_get (mrow.spec, "cancel");
  if (!json_is_array (cancel)) {
    cancel = json_array ();
    json_object_set_new (mrow.spec, "cancel", cancel);
  }

  /* The plan's VMs, by id or name, as inventory knows them. */
  const json_t *psrc = json_object_get (json_object_get (prow.spec, "provider"), "source");
  const char *s_name = json_string_value (json_object_get (psrc, "name"));
  const char *s_ns = json_string_value (json_object_get (psrc, "namespace"));
  const json_t *pvm;
  size_t i;
  bool any = vms && vms[0];
  for (size_t k = 0; any && vms[k]; k++) {
    bool found = false;
    json_array_foreach (json_object_get (prow.spec, "vms"), i, pvm) {
      const char *id = json_string_value (json_object_get (pvm, "id"));
      const char *name = json_string_value (json_object_get (pvm, "name"));
      if ((id && strcmp (id, vms[k]) == 0) || (name && strcmp (name, vms[k]) == 0))
        found = true;
      else if (s_name) {
        json_t *inv = ferry_inventory_get (f, s_ns ? s_ns : ns, s_name, "vm",
                                           id ? id : name ? name : "");
        const char *iid = json_string_value (json_object_get (inv, "id"));
        const char *iname = json_string_value (json_object_get (inv, "name"));
        if ((iid && strcmp (iid, vms[k]) == 0) || (iname && strcmp (iname, vms[k]) == 0))
          found = true;
        json_decref (inv);
      }
    }
    if (!found) {
      ferry_error ("cancel plan %s/%s: VM %s is not in the plan", ns, plan, vms[k]);
      goto out;
    }
  }
  ferry_clear_error ();
  json_array_foreach (json_object_get (prow.spec, "vms"), i, pvm) {
    const char *id = json_string_value (json_object_get (pvm, "id"));
    const char *name = json_string_value (json_object_get (pvm, "name"));
    json_t *inv = s_name ? ferry_inventory_get (f, s_ns ? s_ns : ns, s_name, "vm",
                                                id ? id : name ? name : "") : NULL;
    const char *iid = inv ? json_string_value (json_object_get (inv, "id")) : id;
    const char *iname = inv ? json_string_value (json_object_get (inv, "name")) : name;
    bool chosen = !any;
    for (size_t k = 0; any && vms[k]; k++)
      if ((iid && strcmp (iid, vms[k]) == 0) || (iname && strcmp (iname, vms[k]) == 0)
          || (id && strcmp (id, vms[k]) == 0) || (name && strcmp (name, vms[k]) == 0))
        chosen = true;
    if (chosen) {
      json_t *ent = json_object ();
      if (iid)
        json_object_set_new (ent, "id", json_string (iid));
      if (iname)
        json_object_set_new (ent, "name", json_string (iname));
      json_array_append_new (cancel, ent);
    }
    json_decref (inv);
  }
  ferry_clear_error ();
  return spec_change_end (f, true, ns, plan, &prow, &mrow, &c,
                          any ? "cancel requested for some VMs"
                          : "cancel requested for every VM");
 out:
  return spec_change_end (f, false, ns, plan, &prow, &mrow, &c, NULL);
}

/* --- warm migration: cutover */
char *
ferry_migration_cutover (struct ferry *f, const char *ns, const char *plan,
                         const char *time)
{
  struct ferry_store_row prow = { 0 }, mrow = { 0 };
  struct find_ctx c = { .pending_too = true };
  CLEANUP_FREE char *now = NULL;

  ns = ns ? ns : "default";
  if (!time)
    time = now = ferry_internal_now_rfc3339 ();
  else if (!ferry_internal_is_rfc3339 (time)) {
    ferry_error ("cutover plan %s/%s: '%s' is not an RFC 3339 time with a UTC offset; "
                 "write for example 2024-04-04T01:23:45Z or 2024-04-04T01:23:45.678+09:00",
                 ns, plan, time);
    return NULL;
  }
  if (!time) {
    ferry_error ("cutover plan %s/%s: out of memory", ns, plan);
    return NULL;
  }
  if (ferry_internal_store_begin (f->store) == -1)
    return NULL;
  if (get_plan (f, ns, plan, &prow) == -1)
    goto out;
  {
    CLEANUP_JSON_DECREF json_t *p = json_pack ("{s:O}", "spec", prow.spec);
    if (!p || !ferry_internal_plan_is_warm (p)) {
      ferry_error ("cutover plan %s/%s: it is not a warm migration plan (spec.type: warm); "
                   "a cold migration has no cutover", ns, plan);
      goto out;
    }
  }
  if (find_migrations (f, ns, plan, &c) == -1)
    goto out;
  if (!c.running) {
    ferry_error ("cutover plan %s/%s: it has no running migration (start it with 'ferry start %s')",
                 ns, plan, plan);
    goto out;
  }
  if (ferry_internal_store_get_without_vms (f->store, "Migration", ns, c.running, &mrow) != 1)
    goto out;
  if (!json_is_object (mrow.spec)) {
    json_decref (mrow.spec);
    mrow.spec = json_object ();
  }
  json_object_set_new (mrow.spec, "cutover", json_string (time));
  {
    char done[128];
    snprintf (done, sizeof done, "cutover set to %s", time);
    return spec_change_end (f, true, ns, plan, &prow, &mrow, &c, done);
  }
 out:
  return spec_change_end (f, false, ns, plan, &prow, &mrow, &c, NULL);
}
/* --- end cutover */

char *
ferry_plan_restart (struct ferry *f, const char *ns, const char *plan)
{
  struct find_ctx c = { 0 };
  ns = ns ? ns : "default";
  if (find_migrations (f, ns, plan, &c) == -1)
    return NULL;
  if (c.running) {
    ferry_error ("restart plan %s/%s: migration %s is still running", ns, plan, c.running);
    free (c.running);
    return NULL;
  }
  if (c.count == 0) {
    ferry_error ("restart plan %s/%s: it has never been started (use 'ferry start %s')",
                 ns, plan, plan);
    return NULL;
  }
  return ferry_plan_start (f, ns, plan, NULL);
}

int
ferry_plan_archive (struct ferry *f, const char *ns, const char *plan)
{
  struct ferry_store_row row = { 0 };
  struct find_ctx c = { 0 };
  CLEANUP_FREE char *now = NULL;      /* before any goto: it is freed at exit */
  int r = -1;

  ns = ns ? ns : "default";
  if (ferry_internal_store_begin (f->store) == -1)
    return -1;
  if (get_plan (f, ns, plan, &row) == -1 || find_migrations (f, ns, plan, &c) == -1)
    goto out;
  if (c.running) {
    ferry_error ("archive plan %s/%s: migration %s is running; cancel it or wait for it",
                 ns, plan, c.running);
    goto out;
  }
  if (!row.spec)
    row.spec = json_object ();
  json_object_set_new (row.spec, "archived", json_true ());
  row.generation++;
  if (ferry_internal_store_update (f->store, &row) == -1)
    goto out;
  json_t *status = json_is_object (row.status) ? json_deep_copy (row.status) : json_object ();
  json_t *conds = json_array ();
  json_t *cond;
  size_t i;
  /* Archived replaces Ready and the phase conditions. */
  json_array_foreach (json_object_get (status, "conditions"), i, cond) {
    const char *t = json_string_value (json_object_get (cond, "type")) ?: "";
    if (strcmp (t, "Ready") != 0 && strcmp (t, "Archived") != 0 && strcmp (t, "Executing") != 0)
      json_array_append (conds, cond);
  }
  now = ferry_internal_now_rfc3339 ();
  json_array_append_new (conds, json_pack ("{s:s, s:s, s:s, s:s, s:s?}",
                                           "type", "Archived", "status", "True",
                                           "category", "Advisory",
                                           "message", "The migration plan has been archived.",
                                           "lastTransitionTime", now));
  json_object_set_new (status, "conditions", conds);
  json_object_set_new (status, "phase", json_string ("Archived"));
  int s = ferry_internal_store_set_status (f->store, "Plan", ns, plan, status);
  json_decref (status);
  if (s == -1)
    goto out;
  if (ferry_internal_store_commit (f->store) == -1)
    goto out2;
  ferry_log_object (FERRY_LOG_INFO, "plan", ns, plan, "archived");
  r = 0;
  goto out2;
 out:
  ferry_internal_store_rollback (f->store);
 out2:
  free (c.running);
  ferry_internal_store_row_clear (&row);
  return r;
}

int
ferry_plan_duplicate (struct ferry *f, const char *ns, const char *plan,
                      const char *new_name)
{
  struct ferry_store_row row = { 0 }, other = { 0 };
  int r = -1;

  ns = ns ? ns : "default";
  if (ferry_internal_store_begin (f->store) == -1)
    return -1;
  if (get_plan (f, ns, plan, &row) == -1)
    goto out;
  int e = ferry_internal_store_get (f->store, "Plan", ns, new_name, &other);
  if (e == -1)
    goto out;
  if (e == 1) {
    ferry_error ("duplicate plan %s/%s: plan %s/%s already exists", ns, plan, ns, new_name);
    goto out;
  }
  struct ferry_store_row copy = {
    .kind = (char *) "Plan", .ns = (char *) ns, .name = (char *) new_name,
    .api_version = row.api_version,
    .metadata = row.metadata,
    .spec = row.spec ? json_deep_copy (row.spec) : json_object (),
  };
  json_object_del (copy.spec, "archived");
  int ins = ferry_internal_store_insert (f->store, &copy);
  json_decref (copy.spec);
  free (copy.uid);
  free (copy.created);
  if (ins == -1)
    goto out;
  if (ferry_internal_store_commit (f->store) == -1)
    goto out2;
  ferry_log_object (FERRY_LOG_INFO, "plan", ns, new_name, "duplicated from plan %s", plan);
  r = 0;
  goto out2;
 out:
  ferry_internal_store_rollback (f->store);
 out2:
  ferry_internal_store_row_clear (&row);
  ferry_internal_store_row_clear (&other);
  return r;
}

/* ---- serve ------------------------------------------------------------ */

struct serve_item {
  struct serve_item *next;
  char *ns, *name;
  char *state_dir;
  ferry_run_fn fn;
  void *opaque;
  pthread_t thread;
  bool done;                            /* guarded by serve_lock */
  int result;
};

/* Guards every serve_item.done (the list itself is the serving thread's). */
static pthread_mutex_t serve_lock = PTHREAD_MUTEX_INITIALIZER;

static void *
serve_thread (void *arg)
{
  struct serve_item *it = arg;
  struct ferry *f = ferry_open (it->state_dir, 0);
  int r = -1;
  if (f)
    r = ferry_migration_run (f, it->ns, it->name, it->fn, it->opaque);
  if (r == -1)
    ferry_log (ferry_migration_stopping () ? FERRY_LOG_INFO : FERRY_LOG_ERROR,
               "serve: %s", ferry_get_error ());
  if (ferry_migration_stopping ())
    r = 0;                              /* stopped on request: resumable, not failed */
  ferry_close (f);
  pthread_mutex_lock (&serve_lock);
  it->result = r;
  it->done = true;
  pthread_mutex_unlock (&serve_lock);
  return NULL;
}

struct serve_scan {
  struct serve_item **list;
  struct ferry *f;
  ferry_run_fn fn;
  void *opaque;
  int started;
};

static int
serve_one (void *opaque, const struct ferry_store_row *row)
{
  struct serve_scan *s = opaque;
  if (!migration_unfinished (row->status))
    return 0;
  for (struct serve_item *it = *s->list; it; it = it->next)
    if (strcmp (it->ns, row->ns) == 0 && strcmp (it->name, row->name) == 0)
      return 0;                         /* running here, or ran and stopped */
  struct serve_item *it = calloc (1, sizeof *it);
  if (!it || !(it->ns = strdup (row->ns)) || !(it->name = strdup (row->name))
      || !(it->state_dir = strdup (ferry_get0_state_dir (s->f)))) {
    if (it) {
      free (it->ns);
      free (it->name);
    }
    free (it);
    ferry_error ("serve: out of memory");
    return -1;
  }
  it->fn = s->fn;
  it->opaque = s->opaque;
  int err = pthread_create (&it->thread, NULL, serve_thread, it);
  if (err) {
    ferry_error_errno (err, "serve: migration %s/%s: start a thread", row->ns, row->name);
    free (it->ns);
    free (it->name);
    free (it->state_dir);
    free (it);
    return -1;
  }
  ferry_log (FERRY_LOG_INFO, "serve: migration %s/%s started", row->ns, row->name);
  it->next = *s->list;
  *s->list = it;
  s->started++;
  return 0;
}

int
ferry_serve (struct ferry *f, int once, unsigned poll_seconds,
             ferry_run_fn fn, void *opaque)
{
  struct serve_item *list = NULL;
  int r = 0;

  if (!poll_seconds)
    poll_seconds = 5;
  for (;;) {
    if (!ferry_migration_stopping ()) {
      struct serve_scan s = { .list = &list, .f = f, .fn = fn, .opaque = opaque };
      /* Phases only: not every VM's status of every Migration. */
      if (ferry_internal_store_list_without_vms (f->store, "Migration", NULL, serve_one, &s) == -1) {
        ferry_log (FERRY_LOG_ERROR, "serve: %s", ferry_get_error ());
        r = -1;
        if (once)
          break;
      }
    }
    bool busy = false;
    pthread_mutex_lock (&serve_lock);
    for (struct serve_item *it = list; it; it = it->next)
      if (!it->done)
        busy = true;
    pthread_mutex_unlock (&serve_lock);
    if (!busy && (once || ferry_migration_stopping ()))
      break;
    /* Wake every second to notice stop; look for new Migrations every poll_seconds. */
    for (unsigned t = 0; t < poll_seconds && !ferry_migration_stopping (); t++) {
      ferry_internal_sched_wait (1000);
      if (once) {
        bool all = true;
        pthread_mutex_lock (&serve_lock);
        for (struct serve_item *it = list; it; it = it->next)
          if (!it->done)
            all = false;
        pthread_mutex_unlock (&serve_lock);
        if (all)
          break;
      }
    }
  }
  while (list) {
    struct serve_item *it = list;
    list = it->next;
    pthread_join (it->thread, NULL);
    if (it->result == -1)
      r = -1;
    free (it->ns);
    free (it->name);
    free (it->state_dir);
    free (it);
  }
  if (r == -1 && !*ferry_get_error ())
    ferry_error ("serve: some migrations failed or were stopped (see 'ferry get migrations -A')");
  return r;
}
