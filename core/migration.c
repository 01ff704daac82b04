/* ferry core: starting and running a Migration (sequentially, VM after VM;
 * the concurrent engine of issue 5 schedules the same per-VM pipelines).
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "instance.h"
#include "pipeline.h"
#include "validation.h"

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

static bool
phase_is_active (const char *phase)
{
  return phase && (strcmp (phase, "Running") == 0 || strcmp (phase, "Executing") == 0);
}

struct active_check {
  const char *plan;
  const char *active;                   /* set to the running Migration's name */
};

static int
check_active (void *opaque, const struct ferry_store_row *row)
{
  struct active_check *c = opaque;
  const char *p = json_string_value (json_object_get (json_object_get (row->spec, "plan"), "name"));
  const char *phase = json_string_value (json_object_get (row->status, "phase"));
  if (p && strcmp (p, c->plan) == 0 && phase_is_active (phase))
    c->active = row->name;
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

struct run_state {
  struct ferry *f;
  const char *ns, *name;
  json_t *status;                       /* the Migration's status, owned */
};

static int
save_status (struct ferry_vm_run *run)
{
  struct run_state *s = run->save_opaque;
  return ferry_internal_store_set_status (s->f->store, "Migration", s->ns,
                                          s->name, s->status);
}

static void
set_now (json_t *obj, const char *key)
{
  char *now = ferry_internal_now_rfc3339 ();
  if (now)
    json_object_set_new (obj, key, json_string (now));
  free (now);
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

int
ferry_migration_run (struct ferry *f, const char *ns, const char *name,
                     ferry_run_fn fn, void *opaque)
{
  CLEANUP_JSON_DECREF json_t *mig = load_object (f, "Migration", ns, name, "run");
  CLEANUP_JSON_DECREF json_t *plan = NULL, *nmap = NULL, *smap = NULL;
  struct ferry_instance *src = NULL, *dst = NULL;
  int failures = 0;
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

  struct run_state state = { .f = f, .ns = ns, .name = name };
  json_t *old = json_object_get (mig, "status");
  state.status = json_is_object (old) ? json_deep_copy (old) : json_object ();
  const char *phase = json_string_value (json_object_get (state.status, "phase"));
  if (phase && (strcmp (phase, "Succeeded") == 0 || strcmp (phase, "Canceled") == 0)) {
    ferry_error ("migration %s/%s has already ended (%s); start the plan again for a new one",
                 ns, name, phase);
    json_decref (state.status);
    return -1;
  }
  json_object_set_new (state.status, "phase", json_string ("Running"));
  json_object_del (state.status, "completed");
  if (!json_object_get (state.status, "started"))
    set_now (state.status, "started");
  struct ferry_vm_run run = { .f = f, .ns = ns, .migration = name, .plan = plan,
                              .fn = fn, .opaque = opaque, .save = save_status,
                              .save_opaque = &state };
  if (save_status (&run) == -1)
    goto out;

  const json_t *pspec = json_object_get (plan, "spec");
  const json_t *psrc = json_object_get (json_object_get (pspec, "provider"), "source");
  const json_t *pdst = json_object_get (json_object_get (pspec, "provider"), "destination");
  const char *pns = plan_ns ? plan_ns : ns;
  const char *s_ns = json_string_value (json_object_get (psrc, "namespace"));
  const char *d_ns = json_string_value (json_object_get (pdst, "namespace"));
  const char *s_name = json_string_value (json_object_get (psrc, "name"));
  const char *d_name = json_string_value (json_object_get (pdst, "name"));
  if (!s_name || !d_name) {
    ferry_error ("plan %s/%s names no source or destination provider", pns, plan_name);
    goto fail;
  }
  if (ferry_inventory_refresh (f, s_ns ? s_ns : pns, s_name) == -1)
    goto fail;
  src = ferry_internal_source_open (f, s_ns ? s_ns : pns, s_name);
  if (!src)
    goto fail;
  dst = ferry_internal_destination_open (f, d_ns ? d_ns : pns, d_name);
  if (!dst)
    goto fail;
  if (load_map (f, plan, "network", &nmap) == -1
      || load_map (f, plan, "storage", &smap) == -1)
    goto fail;
  run.source = src;
  run.destination = dst;
  run.network_map = nmap;
  run.storage_map = smap;

  const json_t *pvm;
  size_t i;
  json_array_foreach (json_object_get (pspec, "vms"), i, pvm) {
    const char *key = json_string_value (json_object_get (pvm, "id"));
    if (!key)
      key = json_string_value (json_object_get (pvm, "name"));
    CLEANUP_JSON_DECREF json_t *inv =
      key ? ferry_inventory_get (f, s_ns ? s_ns : pns, s_name, "vm", key) : NULL;
    if (!inv) {
      json_t *e = vm_status_entry (state.status, key ? key : "");
      json_object_set_new (e, "id", json_string (key ? key : ""));
      json_object_set_new (e, "phase", json_string ("Failed"));
      json_object_set_new (e, "error", json_pack ("{s:s, s:[s]}", "phase", "Initialize",
                                                  "reasons", ferry_get_error ()));
      failures++;
      save_status (&run);
      continue;
    }
    const char *id = json_string_value (json_object_get (inv, "id"));
    const char *vm_name = json_string_value (json_object_get (inv, "name"));
    run.plan_vm = pvm;
    run.vm_status = vm_status_entry (state.status, id);
    if (!json_object_get (run.vm_status, "pipeline"))
      ferry_internal_pipeline_init (&run, id, vm_name ? vm_name : id);
    if (ferry_internal_pipeline_run (&run) == -1)
      failures++;
  }

  json_object_set_new (state.status, "phase", json_string (failures ? "Failed" : "Succeeded"));
  set_now (state.status, "completed");
  json_object_set_new (state.status, "conditions",
                       json_pack ("[{s:s, s:s, s:s, s:s}]",
                                  "type", failures ? "Failed" : "Succeeded",
                                  "status", "True", "category", "Advisory",
                                  "message", failures ? "The migration has FAILED."
                                                      : "The migration has SUCCEEDED."));
  if (save_status (&run) == -1)
    goto out;
  if (failures)
    ferry_error ("migration %s/%s: %d of %zu VMs failed (see 'ferry get migration %s -o yaml')",
                 ns, name, failures, json_array_size (json_object_get (pspec, "vms")), name);
  r = failures ? -1 : 0;
  goto out;

 fail:
  {
    char *msg = strdup (ferry_get_error ());
    json_object_set_new (state.status, "phase", json_string ("Failed"));
    set_now (state.status, "completed");
    json_object_set_new (state.status, "conditions",
                         json_pack ("[{s:s, s:s, s:s, s:s}]", "type", "Failed", "status", "True",
                                    "category", "Critical", "message", msg ? msg : "failed"));
    save_status (&run);
    if (msg)
      ferry_error ("%s", msg);
    free (msg);
  }
 out:
  ferry_internal_instance_close (src);
  ferry_internal_instance_close (dst);
  json_decref (state.status);
  return r;
}
