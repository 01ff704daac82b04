/* ferry core: one VM's cold itinerary. */
#include <config.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/time.h>
#include <string.h>
#include <time.h>
#include <inttypes.h>

#include "mapping.h"
#include "naming.h"
#include "pipeline.h"

struct step_def {
  const char *name;
  const char *description;
  int (*run) (struct ferry_vm_run *run, json_t *step);
};

static int step_initialize (struct ferry_vm_run *run, json_t *step);
static int step_allocate (struct ferry_vm_run *run, json_t *step);
static int step_transfer (struct ferry_vm_run *run, json_t *step);
static int step_create (struct ferry_vm_run *run, json_t *step);

static const struct step_def cold_steps[] = {
  { "Initialize", "Initialize migration.", step_initialize },
  /* hooks (pipeline-hooks.c): in the pipeline only when the VM has them */
  { "PreHook", "Run pre-migration hook.", ferry_internal_step_prehook },
  { "DiskAllocation", "Allocate disks.", step_allocate },
  { "DiskTransfer", "Transfer disks.", step_transfer },
  /* warm (pipeline-warm.c): in the pipeline only for a warm plan */
  { "Cutover", "Finalize disk transfer.", ferry_internal_step_cutover },
  { "ImageConversion", "Convert image to kubevirt.", ferry_internal_step_convert }, /* pipeline-convert.c */
  { "VirtualMachineCreation", "Create VM.", step_create },
  { "PostHook", "Run post-migration hook.", ferry_internal_step_posthook }, /* hooks */
};
#define NR_COLD_STEPS (sizeof cold_steps / sizeof cold_steps[0])

static void
emit (struct ferry_vm_run *run, const char *step, const char *phase,
      uint64_t done, uint64_t total, double rate, const char *message)
{
  if (!run->fn)
    return;
  struct ferry_run_event ev = {
    .struct_size = sizeof ev,
    .vm = json_string_value (json_object_get (run->vm_status, "name")),
    .step = step, .phase = phase, .done = done, .total = total,
    .rate = rate, .message = message,
  };
  run->fn (run->opaque, &ev);
}

void
ferry_internal_set_now_ms (json_t *obj, const char *key)
{
  struct timespec ts;
  struct tm tm;
  char buf[40], out[64];

  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  strftime (buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (out, sizeof out, "%s.%03dZ", buf, (int) (ts.tv_nsec / 1000000L) % 1000);
  json_object_set_new (obj, key, json_string (out));
}

#define set_now ferry_internal_set_now_ms

/* The test hook of pipeline.h: die like a crash at point in this VM. */
static void
crash_point (struct ferry_vm_run *run, const char *point)
{
  const char *at = getenv ("FERRY_TEST_CRASH_AT");
  const char *vm = getenv ("FERRY_TEST_CRASH_VM");
  if (!at || strcmp (at, point) != 0)
    return;
  if (vm && *vm && strcmp (vm, json_string_value (json_object_get (run->vm_status, "name")) ?: "") != 0)
    return;
  ferry_log_object (FERRY_LOG_WARN, "migration", run->ns, run->migration,
                    "FERRY_TEST_CRASH_AT=%s: killing this process", point);
  raise (SIGKILL);
}

void
ferry_internal_pipeline_crash_point (struct ferry_vm_run *run, const char *point)
{
  crash_point (run, point);
}

void
ferry_internal_pipeline_emit (struct ferry_vm_run *run, const char *step,
                              const char *phase, uint64_t done, uint64_t total,
                              double rate, const char *message)
{
  emit (run, step, phase, done, total, rate, message);
}

void
ferry_internal_vm_mark_canceled (json_t *vm_status)
{
  json_object_set_new (vm_status, "phase", json_string ("Canceled"));
  set_now (vm_status, "completed");
  json_object_set_new (vm_status, "conditions",
                       json_pack ("[{s:s, s:s, s:s, s:s}]",
                                  "type", "Canceled", "status", "True",
                                  "category", "Advisory",
                                  "message", "The VM migration has been CANCELED."));
}

/* The plan's uid (its name when it has none): what the "plan" label of
 * everything created for it holds, as Forklift labels them, and what
 * destination cleanup matches.
 */
static const char *
plan_uid (const struct ferry_vm_run *run)
{
  const json_t *md = json_object_get (run->plan, "metadata");
  const char *uid = json_string_value (json_object_get (md, "uid"));
  return uid && *uid ? uid : json_string_value (json_object_get (md, "name"));
}

/* What a VM that failed before its target VM was made leaves at the
 * destination (partial volumes) is removed, as for a cancel.
 */
static void
cleanup_failed_vm (struct ferry_vm_run *run)
{
  const struct ferry_destination *d = run->destination->destination;
  const json_t *step;
  size_t i;

  json_array_foreach (json_object_get (run->vm_status, "pipeline"), i, step)
    if (strcmp (json_string_value (json_object_get (step, "name")) ?: "", "VirtualMachineCreation") == 0
        && strcmp (json_string_value (json_object_get (step, "phase")) ?: "", "Completed") == 0)
      return;                           /* the target exists: kept */
  if (d->cleanup && d->cleanup (run->destination->handle, plan_uid (run),
                                json_string_value (json_object_get (run->vm_status, "id"))) == -1)
    ferry_log_object (FERRY_LOG_WARN, "migration", run->ns, run->migration,
                      "vm %s: cleanup after failure: %s",
                      json_string_value (json_object_get (run->vm_status, "name")),
                      ferry_get_error ());
}

/* A canceled VM: its partial volumes and VM are removed by the destination. */
static int
cancel_vm (struct ferry_vm_run *run, json_t *step)
{
  const char *plan = plan_uid (run);
  const char *id = json_string_value (json_object_get (run->vm_status, "id"));
  const struct ferry_destination *d = run->destination->destination;

  if (step) {
    json_object_set_new (step, "phase", json_string ("Canceled"));
    set_now (step, "completed");
  }
  ferry_internal_vm_mark_canceled (run->vm_status);
  json_object_del (run->vm_status, "error");
  ferry_internal_warm_remove_snapshots (run);   /* warm, power */
  ferry_internal_source_power_restore (run);
  if (d->cleanup && d->cleanup (run->destination->handle, plan, id) == -1)
    ferry_log_object (FERRY_LOG_WARN, "migration", run->ns, run->migration,
                      "vm %s: cleanup after cancel: %s",
                      json_string_value (json_object_get (run->vm_status, "name")),
                      ferry_get_error ());
  ferry_log_object (FERRY_LOG_INFO, "migration", run->ns, run->migration,
                    "vm %s: canceled", json_string_value (json_object_get (run->vm_status, "name")));
  emit (run, step ? json_string_value (json_object_get (step, "name")) : "Initialize",
        "Canceled", 0, 0, 0, NULL);
  run->save (run);
  return FERRY_PIPELINE_CANCELED;
}

/* Interrupted by a stop request: the step goes back to Pending, so a
 * later run does it again (steps are idempotent).
 */
static int
stop_vm (struct ferry_vm_run *run, json_t *step)
{
  if (step) {
    json_object_set_new (step, "phase", json_string ("Pending"));
    json_object_del (step, "started");
  }
  json_object_set_new (run->vm_status, "phase", json_string ("Pending"));
  run->save (run);
  return FERRY_PIPELINE_STOPPED;
}

int
ferry_internal_pipeline_init (struct ferry_vm_run *run, const char *vm_id,
                              const char *vm_name)
{
  json_t *pipeline = json_array ();
  for (size_t i = 0; i < NR_COLD_STEPS; i++) {
    if (strcmp (cold_steps[i].name, "Cutover") == 0     /* warm plans only */
        && !(run->plan && ferry_internal_plan_is_warm (run->plan)))
      continue;
    json_array_append_new (pipeline,
                           json_pack ("{s:s, s:s, s:s, s:{s:I, s:I}}",
                                      "name", cold_steps[i].name,
                                      "description", cold_steps[i].description,
                                      "phase", "Pending",
                                      "progress", "completed", (json_int_t) 0,
                                      "total", (json_int_t) 1));
  }
  json_object_set_new (run->vm_status, "id", json_string (vm_id));
  json_object_set_new (run->vm_status, "name", json_string (vm_name));
  json_object_set_new (run->vm_status, "phase", json_string ("Pending"));
  ferry_internal_pipeline_drop_unwanted (run, pipeline); /* hooks */
  json_object_set_new (run->vm_status, "pipeline", pipeline);
  return 0;
}

/* The Completed event of *done, now that its completion is stored. */
static void
emit_done (struct ferry_vm_run *run, const char **done)
{
  if (*done)
    emit (run, *done, "Completed", 0, 0, 0, NULL);
  *done = NULL;
}

/* Record err as this VM's failure in step. */
static void
fail_step (struct ferry_vm_run *run, json_t *step, const char *why)
{
  const char *name = json_string_value (json_object_get (step, "name"));
  json_t *error = json_pack ("{s:s, s:[s]}", "phase", name, "reasons", why);
  json_object_set_new (step, "phase", json_string ("Failed"));
  json_object_set (step, "error", error);
  set_now (step, "completed");
  json_object_set_new (run->vm_status, "phase", json_string ("Failed"));
  json_object_set_new (run->vm_status, "error", error);
  set_now (run->vm_status, "completed");
  ferry_log_object (FERRY_LOG_ERROR, "migration", run->ns, run->migration,
                    "vm %s: %s failed: %s",
                    json_string_value (json_object_get (run->vm_status, "name")),
                    name, why);
  emit (run, name, "Failed", 0, 0, 0, why);
}

/* A warm plan's pipeline that was made without the plan: Cutover goes
 * right after DiskTransfer.
 */
static void
add_cutover_step (json_t *pipeline)
{
  size_t i;
  json_t *step;

  json_array_foreach (pipeline, i, step)
    if (strcmp (json_string_value (json_object_get (step, "name")) ?: "", "Cutover") == 0)
      return;
  json_array_foreach (pipeline, i, step)
    if (strcmp (json_string_value (json_object_get (step, "name")) ?: "", "DiskTransfer") == 0) {
      json_array_insert_new (pipeline, i + 1,
                             json_pack ("{s:s, s:s, s:s, s:{s:I, s:I}}",
                                        "name", "Cutover",
                                        "description", "Finalize disk transfer.",
                                        "phase", "Pending",
                                        "progress", "completed", (json_int_t) 0,
                                        "total", (json_int_t) 1));
      return;
    }
}

int
ferry_internal_pipeline_run (struct ferry_vm_run *run)
{
  json_t *pipeline = json_object_get (run->vm_status, "pipeline");
  const char *vm_phase = json_string_value (json_object_get (run->vm_status, "phase"));

  if (vm_phase && (strcmp (vm_phase, "Completed") == 0))
    return 0;                           /* done in an earlier run */
  if (vm_phase && strcmp (vm_phase, "Canceled") == 0)
    return FERRY_PIPELINE_CANCELED;
  if (*run->canceled)
    return cancel_vm (run, NULL);
  if (*run->stopping)
    return FERRY_PIPELINE_STOPPED;
  if (!json_object_get (run->vm_status, "started"))
    set_now (run->vm_status, "started");
  if (ferry_internal_plan_is_warm (run->plan))
    add_cutover_step (pipeline);        /* warm */
  json_object_set_new (run->vm_status, "phase", json_string ("Running"));
  json_object_del (run->vm_status, "error");

  /* A step's completion is stored with the next step's Running transition
   * (or the VM's end): one commit where there were two, and nothing acts
   * between them.  A crash before that commit runs the step again on
   * resume (steps are idempotent).  done: the step whose completion is not
   * stored yet; its Completed event follows the commit.
   */
  const char *done = NULL;
  for (size_t i = 0; i < json_array_size (pipeline); i++) {
    json_t *step = json_array_get (pipeline, i);
    const char *name = json_string_value (json_object_get (step, "name"));
    const char *phase = json_string_value (json_object_get (step, "phase"));
    const struct step_def *def = NULL;

    if (phase && strcmp (phase, "Completed") == 0)
      continue;
    if (*run->canceled || *run->stopping) {
      int r = *run->canceled ? cancel_vm (run, step) : stop_vm (run, step);
      emit_done (run, &done);
      return r;
    }
    for (size_t j = 0; j < NR_COLD_STEPS; j++)
      if (strcmp (cold_steps[j].name, name) == 0)
        def = &cold_steps[j];
    if (!def) {
      fail_step (run, step, "unknown pipeline step in the stored status");
      run->save (run);
      emit_done (run, &done);
      return -1;
    }

    /* The transition is stored before the step acts. */
    json_object_set_new (step, "phase", json_string ("Running"));
    json_object_del (step, "error");
    set_now (step, "started");
    json_object_set_new (run->vm_status, "phase", json_string (name));
    if (run->save (run) == -1)
      return -1;
    emit_done (run, &done);
    crash_point (run, name);
    emit (run, name, "Running", 0, 0, 0, NULL);

    ferry_clear_error ();
    if (def->run (run, step) == -1) {
      if (*run->canceled)
        return cancel_vm (run, step);
      if (*run->stopping)
        return stop_vm (run, step);
      fail_step (run, step, *ferry_get_error () ? ferry_get_error () : "failed");
      ferry_internal_warm_remove_snapshots (run);   /* warm, power */
      ferry_internal_source_power_restore (run);
      cleanup_failed_vm (run);
      run->save (run);
      return -1;
    }
    {
      char done_point[64];
      snprintf (done_point, sizeof done_point, "%s:done", name);
      crash_point (run, done_point);
    }
    json_object_set_new (step, "phase", json_string ("Completed"));
    set_now (step, "completed");
    json_t *prog = json_object_get (step, "progress");
    json_object_set (prog, "completed", json_object_get (prog, "total"));
    done = name;
  }

  json_object_set_new (run->vm_status, "phase", json_string ("Completed"));
  set_now (run->vm_status, "completed");
  json_object_set_new (run->vm_status, "conditions",
                       json_pack ("[{s:s, s:s, s:s, s:s}]",
                                  "type", "Succeeded", "status", "True",
                                  "category", "Advisory",
                                  "message", "The VM migration has SUCCEEDED."));
  if (run->save (run) == -1)
    return -1;
  emit_done (run, &done);
  return 0;
}

/* ---- Steps ------------------------------------------------------------ */

static const char *
plan_str (const struct ferry_vm_run *run, const char *key)
{
  return json_string_value (json_object_get (json_object_get (run->plan, "spec"), key));
}

static bool
plan_bool (const struct ferry_vm_run *run, const char *key, bool dflt)
{
  json_t *v = json_object_get (json_object_get (run->plan, "spec"), key);
  return json_is_boolean (v) ? json_is_true (v) : dflt;
}

static const char *
target_namespace (const struct ferry_vm_run *run)
{
  const char *t = plan_str (run, "targetNamespace");
  return t && *t ? t : run->ns;
}

/* Initialize: take the provider's neutral spec, name the target, map the
 * NICs, and check the destination has no VM of that name.
 */
static int
step_initialize (struct ferry_vm_run *run, json_t *step)
{
  const char *vm_id = json_string_value (json_object_get (run->vm_status, "id"));
  const struct ferry_provider *p = run->source->provider;

  json_t *spec = p->vm_spec (run->source->handle, vm_id);
  if (!spec)
    return -1;

  const char *given = json_string_value (json_object_get (run->plan_vm, "targetName"));
  const char *vm_name = json_string_value (json_object_get (run->vm_status, "name"));
  CLEANUP_FREE char *target = ferry_internal_target_vm_name (given && *given ? given : vm_name);
  if (!target) {
    json_decref (spec);
    return -1;
  }
  if (strcmp (target, vm_name) != 0)
    json_object_set_new (run->vm_status, "newName", json_string (target));
  json_object_set_new (spec, FERRY_VMSPEC_NAME, json_string (target));
  json_object_set_new (spec, "namespace", json_string (target_namespace (run)));
  json_object_set_new (spec, FERRY_VMSPEC_SOURCE_ID, json_string (vm_id));
  json_object_set_new (spec, "sourceName", json_string (vm_name));

  /* NICs: every source network must be mapped; "ignored" ones are kept
   * with that type so the destination drops them.
   */
  size_t i;
  json_t *nic;
  json_array_foreach (json_object_get (spec, FERRY_VMSPEC_NICS), i, nic) {
    const char *net = json_string_value (json_object_get (nic, "network"));
    CLEANUP_JSON_DECREF json_t *ent = net
      ? ferry_internal_store_inv_get (run->f->store, run->source->uid, FERRY_INV_NETWORK, net)
      : NULL;
    const char *net_name = ent ? json_string_value (json_object_get (ent, "name")) : NULL;
    const json_t *dst = ferry_internal_map_lookup (run->network_map, net,
                                                   net_name ? net_name : net);
    if (!dst) {
      ferry_error ("NIC %s of VM %s is on network '%s'%s%s%s, which the plan's NetworkMap does not map",
                   json_string_value (json_object_get (nic, "mac")), vm_name,
                   net ? net : "(none)", net_name ? " (" : "",
                   net_name ? net_name : "", net_name ? ")" : "");
      json_decref (spec);
      return -1;
    }
    json_object_set_new (nic, "target", json_deep_copy (dst));
  }

  /* Labels and scheduling from the plan, as Forklift sets them. */
  json_t *labels = json_deep_copy (json_object_get (json_object_get (run->plan, "spec"), "targetLabels"));
  if (!labels)
    labels = json_object ();
  /* uids, as Forklift's labels. */
  json_object_set_new (labels, "migration",
                       json_string (run->migration_uid ? run->migration_uid : run->migration));
  json_object_set_new (labels, "plan", json_string (plan_uid (run)));
  json_object_set_new (labels, "vmID", json_string (vm_id));
  json_object_set_new (spec, "labels", labels);
  json_t *ns_sel = json_object_get (json_object_get (run->plan, "spec"), "targetNodeSelector");
  if (ns_sel)
    json_object_set (spec, "nodeSelector", ns_sel);
  json_t *aff = json_object_get (json_object_get (run->plan, "spec"), "targetAffinity");
  if (aff)
    json_object_set (spec, "affinity", aff);
  if (plan_bool (run, "skipGuestConversion", false) && plan_bool (run, "useCompatibilityMode", true))
    json_object_set_new (spec, "compatibilityMode", json_true ());

  int exists = run->destination->destination->vm_exists (run->destination->handle,
                                                         target_namespace (run), target);
  if (exists != 0) {
    if (exists == 1)
      ferry_error ("a VM named %s already exists in %s at the destination",
                   target, target_namespace (run));
    json_decref (spec);
    return -1;
  }
  json_object_set_new (run->vm_status, "spec", spec);
  (void) step;
  return 0;
}

/* The StorageMap destination of a disk, in *dst.  The disk's storage is
 * its datastore (or storage) id, or the source's only storage when the
 * provider has just one (OVA's dummy storage).  -1 when the plan has a
 * StorageMap that does not map it.
 */
static int
storage_of (struct ferry_vm_run *run, const json_t *disk, const json_t **dst)
{
  const char *id = json_string_value (json_object_get (disk, "datastore"));
  CLEANUP_JSON_DECREF json_t *ent = NULL, *all = NULL;

  *dst = NULL;
  if (!run->storage_map)
    return 0;
  if (!id)
    id = json_string_value (json_object_get (disk, "storage"));
  if (id)
    ent = ferry_internal_store_inv_get (run->f->store, run->source->uid, FERRY_INV_STORAGE, id);
  else {
    all = ferry_internal_store_inv_list (run->f->store, run->source->uid, FERRY_INV_STORAGE);
    if (json_array_size (all) == 1)
      ent = json_incref (json_array_get (all, 0));
  }
  const char *eid = ent ? json_string_value (json_object_get (ent, "id")) : id;
  const char *name = ent ? json_string_value (json_object_get (ent, "name")) : NULL;
  *dst = ferry_internal_map_lookup (run->storage_map, eid, name ? name : eid);
  if (!*dst) {
    ferry_error ("disk %s of VM %s is on storage '%s'%s%s%s, which the plan's StorageMap does not map",
                 json_string_value (json_object_get (disk, "id")),
                 json_string_value (json_object_get (run->vm_status, "name")),
                 eid ? eid : "(unknown)", name ? " (" : "", name ? name : "", name ? ")" : "");
    return -1;
  }
  return 0;
}

/* DiskAllocation: name every volume and record its size and format. */
static int
step_allocate (struct ferry_vm_run *run, json_t *step)
{
  json_t *spec = json_object_get (run->vm_status, "spec");
  json_t *volumes = json_array ();
  size_t i;
  json_t *disk;

  json_array_foreach (json_object_get (spec, FERRY_VMSPEC_DISKS), i, disk) {
    CLEANUP_FREE char *vname =
      ferry_internal_pvc_name (run->plan, run->plan_vm, run->vm_status, disk, i);
    if (!vname) {
      json_decref (volumes);
      return -1;
    }
    const json_t *sdst = NULL;
    if (storage_of (run, disk, &sdst) == -1) {
      json_decref (volumes);
      return -1;
    }
    json_t *vol = json_pack ("{s:s, s:s, s:s, s:O, s:s, s:s, s:{s:s, s:s, s:O}}",
                             "name", vname,
                             "namespace", target_namespace (run),
                             "vm", json_string_value (json_object_get (spec, FERRY_VMSPEC_NAME)),
                             "capacity", json_object_get (disk, "capacity"),
                             "format", "raw",
                             "diskId", json_string_value (json_object_get (disk, "id")),
                             "labels", "plan", plan_uid (run),
                             "migration", json_string_value (json_object_get (json_object_get (spec, "labels"), "migration")) ?: run->migration,
                             "vmID", json_object_get (run->vm_status, "id"));
    if (!vol) {
      ferry_error ("disk %zu of VM %s has no capacity or id in its spec", i,
                   json_string_value (json_object_get (run->vm_status, "name")));
      json_decref (volumes);
      return -1;
    }
    const char *sc = json_string_value (json_object_get (sdst, "storageClass"));
    if (sc)
      json_object_set_new (vol, "storageClass", json_string (sc));
    json_t *v;
    if ((v = json_object_get (sdst, "accessMode")))
      json_object_set (vol, "accessMode", v);
    if ((v = json_object_get (sdst, "volumeMode")))
      json_object_set (vol, "volumeMode", v);
    json_object_set_new (disk, "volume", json_string (vname));
    json_array_append_new (volumes, vol);
  }
  json_object_set_new (run->vm_status, "volumes", volumes);
  json_object_set_new (json_object_get (step, "progress"), "completed",
                       json_integer ((json_int_t) json_array_size (volumes)));
  json_object_set_new (json_object_get (step, "progress"), "total",
                       json_integer ((json_int_t) json_array_size (volumes)));
  return 0;
}

void
ferry_internal_set_time_us (json_t *obj, const char *key, double t)
{
  time_t sec = (time_t) t;
  struct tm tm;
  char buf[40], out[64];

  gmtime_r (&sec, &tm);
  strftime (buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (out, sizeof out, "%s.%06dZ", buf, (int) ((t - (double) sec) * 1e6) % 1000000);
  json_object_set_new (obj, key, json_string (out));
}

/* A disk copied: its task records the result, and the status is saved
 * while other disks still copy (so a crash does not copy it again).  The
 * last disk's record is stored with the step's completion, which follows
 * at once: one write less per VM.  opaque: the count of copies not yet
 * done (size_t).
 */
static int
transfer_done (struct ferry_vm_run *run, struct ferry_disk_copy *c, void *opaque)
{
  uint64_t cap = (uint64_t) json_integer_value (json_object_get (c->volume, "capacity"));
  size_t *left = opaque;
  json_object_set_new (c->task, "done", json_true ());
  /* When this disk's copy ran: the disks of a VM copy at once. */
  ferry_internal_set_time_us (c->task, "copyStarted", c->started);
  ferry_internal_set_time_us (c->task, "copyEnded", c->ended);
  set_now (c->task, "completed");
  json_object_set_new (json_object_get (c->task, "progress"), "completed",
                       json_integer ((json_int_t) (cap >> 20)));
  json_object_set_new (c->task, "sha256", json_string (c->res.sha256));
  json_object_set_new (c->task, "bytesWritten", json_integer ((json_int_t) c->res.bytes_written));
  json_object_set_new (c->task, "bytesZeroed", json_integer ((json_int_t) c->res.bytes_zeroed));
  ferry_log_object (FERRY_LOG_INFO, "migration", run->ns, run->migration,
                    "vm %s: disk %s copied to volume %s: %" PRIu64 " bytes of data, sha256 %s",
                    json_string_value (json_object_get (run->vm_status, "name")),
                    c->disk_id, json_string_value (json_object_get (c->volume, "name")),
                    c->res.bytes_written, c->res.sha256);
  if (*left > 0)
    --*left;
  if (*left > 0 && run->save (run) == -1)
    return -1;
  if (run->disk_copied)
    run->disk_copied (run);
  return 0;
}

/* DiskTransfer (cold): power the source off, then copy every disk into
 * its volume, all disks at once.  A disk already marked done in an
 * earlier run is not copied again.
 */
static int
step_transfer (struct ferry_vm_run *run, json_t *step)
{
  json_t *volumes = json_object_get (run->vm_status, "volumes");
  uint64_t total = 0, base = 0;
  size_t n = 0;
  json_t *vol;
  size_t i;

  if (ferry_internal_plan_is_warm (run->plan))
    return ferry_internal_step_precopy (run, step);     /* warm */
  if (ferry_internal_source_power_off (run) == -1)      /* power */
    return -1;

  json_array_foreach (volumes, i, vol)
    total += (uint64_t) json_integer_value (json_object_get (vol, "capacity"));
  json_t *prog = json_object_get (step, "progress");
  json_object_set_new (prog, "total", json_integer ((json_int_t) (total >> 20)));
  json_object_set_new (step, "annotations", json_pack ("{s:s}", "unit", "MB"));

  json_t *tasks = json_object_get (step, "tasks");
  if (!tasks) {
    tasks = json_array ();
    json_object_set_new (step, "tasks", tasks);
  }
  CLEANUP_FREE struct ferry_disk_copy *copies =
    calloc (json_array_size (volumes) + 1, sizeof *copies);
  if (!copies) {
    ferry_error_errno (errno, "VM %s: disk copies",
                       json_string_value (json_object_get (run->vm_status, "name")));
    return -1;
  }
  json_array_foreach (volumes, i, vol) {
    const char *vname = json_string_value (json_object_get (vol, "name"));
    uint64_t cap = (uint64_t) json_integer_value (json_object_get (vol, "capacity"));
    json_t *task = json_array_get (tasks, i);
    if (task && json_is_true (json_object_get (task, "done"))) {
      base += cap;
      continue;
    }
    if (!task) {
      task = json_pack ("{s:s, s:{s:I, s:I}}", "name", vname, "progress",
                        "completed", (json_int_t) 0, "total", (json_int_t) (cap >> 20));
      json_array_append_new (tasks, task);
    }
    set_now (task, "started");
    copies[n++] = (struct ferry_disk_copy) {
      .volume = vol,
      .disk_id = json_string_value (json_object_get (vol, "diskId")),
      .task = task,
      .total = cap,
    };
  }
  /* Not saved here: the tasks' start is stored with the first disk done
   * (a crash before it starts them afresh anyway).
   */
  size_t left = n;
  int r = ferry_internal_copy_disks (run, step, copies, n, base, total,
                                     transfer_done, &left);
  ferry_internal_disk_copies_clear (copies, n);
  if (r == 0)
    json_object_set_new (prog, "completed", json_integer ((json_int_t) (total >> 20)));
  return r;
}

/* VirtualMachineCreation: the destination writes the VM. */
static int
step_create (struct ferry_vm_run *run, json_t *step)
{
  const struct ferry_destination *d = run->destination->destination;
  json_t *spec = json_object_get (run->vm_status, "spec");
  /* The target runs when the source ran before ferry powered it off. */
  json_object_set_new (spec, FERRY_VMSPEC_POWER_STATE,
                       json_string (ferry_internal_target_power (run)));
  if (d->vm_create (run->destination->handle, spec,
                    json_object_get (run->vm_status, "volumes")) == -1)
    return -1;
  if (ferry_internal_target_power_on (run) == -1)      /* power */
    return -1;
  json_object_set_new (json_object_get (step, "progress"), "completed", json_integer (1));
  return 0;
}
