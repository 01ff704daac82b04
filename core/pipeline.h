/* ferry core: one VM's itinerary (the per-VM pipeline of a Migration).
 *
 * The pipeline's shape and status follow Forklift's Migration status:
 * status.vms[] = {id, name, newName, phase, started, completed, error,
 * pipeline[] = {name, description, phase, progress {completed, total},
 * started, completed, error {phase, reasons[]}, tasks[]}}.  The status
 * object is written to the store before each step acts (see migration.c).
 */
#ifndef FERRY_CORE_PIPELINE_H
#define FERRY_CORE_PIPELINE_H

#include "instance.h"

/* Everything one VM's run needs; borrowed from migration.c. */
struct ferry_vm_run {
  struct ferry *f;
  const char *ns, *migration;           /* the Migration object */
  const char *migration_uid;            /* its uid (labels), or NULL */
  const json_t *plan;                   /* the Plan object (metadata + spec) */
  const json_t *plan_vm;                /* this VM's entry of spec.vms */
  json_t *vm_status;                    /* this VM's entry of status.vms (borrowed, mutated) */
  struct ferry_instance *source, *destination;
  const json_t *network_map, *storage_map;  /* the map specs, or NULL */
  ferry_run_fn fn;
  void *opaque;
  /* Store this VM's status (vm_status) now and wait until it is
   * committed; -1 on error.
   */
  int (*save) (struct ferry_vm_run *run);
  void *save_opaque;
  /* Called (may be NULL) when one of the VM's disks is copied (cold
   * DiskTransfer, its task marked done): the engine gives that disk's
   * scheduler slot back before the VM ends.
   */
  void (*disk_copied) (struct ferry_vm_run *run);
  /* Set by the engine from other threads (never NULL): abort stops a
   * transfer within a second (ferry_transfer_options.cancel); canceled
   * says the user canceled this VM; stopping that the process is asked
   * to stop (SIGTERM), leaving the VM resumable.
   */
  volatile int *abort;
  const volatile int *canceled;
  const volatile int *stopping;
};

/* The VM's source name and id, as its status holds them (borrowed). */
static inline const char *
ferry_internal_run_vm_name (const struct ferry_vm_run *run)
{
  return json_string_value (json_object_get (run->vm_status, "name"));
}

static inline const char *
ferry_internal_run_vm_id (const struct ferry_vm_run *run)
{
  return json_string_value (json_object_get (run->vm_status, "id"));
}

/* What ferry_internal_pipeline_run returns besides 0 and -1. */
#define FERRY_PIPELINE_CANCELED 1       /* VM canceled, destination cleaned */
#define FERRY_PIPELINE_STOPPED 2        /* interrupted, resumable */

/* obj[key] = now, RFC 3339 UTC with milliseconds ("...T05:43:47.123Z"). */
void ferry_internal_set_now_ms (json_t *obj, const char *key);

/* Mark a VM's status Canceled: phase, completion time, condition. */
void ferry_internal_vm_mark_canceled (json_t *vm_status);


/* Fill vm_status with the pipeline for its itinerary (all Pending). */
int ferry_internal_pipeline_init (struct ferry_vm_run *run, const char *vm_id,
                                  const char *vm_name);

/* Walk the itinerary; finished steps are skipped, so re-running after a
 * crash resumes.  0 when the VM succeeded, -1 when it failed (its status
 * says why), FERRY_PIPELINE_CANCELED or FERRY_PIPELINE_STOPPED.
 *
 * Test hook: $FERRY_TEST_CRASH_AT=STEP raises SIGKILL on this process
 * right after the Running transition of STEP is stored;
 * "STEP:done" right after STEP acted, before its completion is stored;
 * "DiskTransfer:mid" once a disk copy is under way (past a quarter of the
 * disk); warm: "Precopy:snapshot" right after a precopy's snapshot id is
 * stored, "Precopy:mid" once a delta copy is past a quarter of its work.
 * $FERRY_TEST_CRASH_VM=NAME limits it to one VM.
 */
int ferry_internal_pipeline_run (struct ferry_vm_run *run);

/* ---- Hook steps (pipeline-hooks.c) ---------------------------------- */

/* Whether step belongs in this VM's pipeline: PreHook and PostHook only
 * when the plan VM has a hook for them (as Forklift shows them), every
 * other step always.  Needs run->plan_vm.
 */
bool ferry_internal_pipeline_step_wanted (const struct ferry_vm_run *run,
                                          const char *step);
/* Remove the steps of pipeline (a status array of {name, ...}) that are
 * not wanted.
 */
void ferry_internal_pipeline_drop_unwanted (const struct ferry_vm_run *run,
                                            json_t *pipeline);
/* PreHook / PostHook: run the VM's hook for the step (hooks.h); progress
 * 1/1 when done.
 */
int ferry_internal_step_prehook (struct ferry_vm_run *run, json_t *step);
int ferry_internal_step_posthook (struct ferry_vm_run *run, json_t *step);

/* ImageConversion (pipeline-convert.c, conversion.h): convert the guest on
 * the copied volumes with virt-v2v-in-place when the plan converts;
 * progress 1/1 otherwise (raw copy).
 */
int ferry_internal_step_convert (struct ferry_vm_run *run, json_t *step);

/* ---- Shared by the step files (pipeline.c) ---------------------------- */

/* obj[key] = t (seconds since the epoch), RFC 3339 UTC with microseconds. */
void ferry_internal_set_time_us (json_t *obj, const char *key, double t);

/* A run event for this VM (no-op without run->fn). */
void ferry_internal_pipeline_emit (struct ferry_vm_run *run, const char *step,
                                   const char *phase, uint64_t done,
                                   uint64_t total, double rate,
                                   const char *message);
/* The FERRY_TEST_CRASH_AT test hook (above) at point. */
void ferry_internal_pipeline_crash_point (struct ferry_vm_run *run,
                                          const char *point);

/* ---- Parallel disk copies (pipeline-disks.c) ------------------------- */

/* One disk to copy into its volume. */
struct ferry_disk_copy {
  const json_t *volume;                 /* the volume object (borrowed) */
  const char *disk_id;                  /* source disk (borrowed) */
  const char *snapshot;                 /* source snapshot, or NULL: now */
  const struct ferry_range *ranges;     /* work list (borrowed), or NULL:
                                           the whole disk */
  size_t nr_ranges;
  bool reopen;                          /* volume_open (keep the content),
                                           else volume_create */
  json_t *task;                         /* status task whose progress to
                                           show (borrowed), or NULL */
  uint64_t total;                       /* bytes of work, for progress */
  /* Results. */
  double started, ended;                /* seconds since the epoch: the copy
                                           itself, source and sink open */
  uint64_t done;                        /* bytes so far (copier's lock) */
  int r;                                /* 0 or -1 */
  char *error;                          /* why, when r == -1 (owned) */
  struct ferry_transfer_result res;
};

/* Copy copies[0..n) at once, one thread per disk (the scheduler admitted
 * the VM at its unfinished disks' cost).  Progress is shown in step
 * (MB, base + the copies' bytes out of total bytes) and in each task.
 * on_done runs in the calling thread as each copy succeeds (to record it
 * and save).  run->abort stops every copy within a second; so does the
 * first failure.  0 when every copy succeeded, else -1 with the first
 * failure's error (every thread joined, every source and sink closed).
 */
int ferry_internal_copy_disks (struct ferry_vm_run *run, json_t *step,
                               struct ferry_disk_copy *copies, size_t n,
                               uint64_t base, uint64_t total,
                               int (*on_done) (struct ferry_vm_run *run,
                                               struct ferry_disk_copy *c,
                                               void *opaque),
                               void *opaque);
void ferry_internal_disk_copies_clear (struct ferry_disk_copy *copies,
                                       size_t n);

/* ---- Scale-out (issue 7, pipeline-remote.c; helper "worker") --------- */

/* The source Provider ns/name as multi-document YAML that `ferry apply`
 * reads: the Provider, its Secret (decrypted, as stringData) and its Host
 * objects with their Secrets.  Holds credentials: never log it; the caller
 * frees (explicit_bzero first).  NULL with an error.
 */
char *ferry_internal_provider_manifests (struct ferry *f, const char *ns,
                                         const char *name);
/* For a full copy (not c->reopen) at a destination with disk_copy: build
 * the source object and let the destination copy disk c itself.  1 done
 * (c->started, c->ended and c->res filled as a transfer would), 0 the
 * destination does not (stream it as usual), -1 failed with an error.
 * progress/opaque/cancel as for ferry_transfer.
 */
int ferry_internal_remote_copy (struct ferry_vm_run *run,
                                struct ferry_disk_copy *c,
                                ferry_progress_fn progress, void *opaque,
                                volatile int *cancel);

/* ---- Source and target power (pipeline-power.c) ---------------------- */

/* Before the source's disks are copied for the last time: store the
 * source's power state as status.vms[].restorePowerState ("On", "Off"),
 * once, then power the source off and wait (deadline) until the provider
 * says off.  Every decision is stored before it is acted on.  Nothing
 * when the provider has no power control (validation refuses a running
 * VM then).
 */
int ferry_internal_source_power_off (struct ferry_vm_run *run);
/* After the VM failed or was canceled: power the source on again when
 * ferry powered it off and it was on, unless the target VM was created.
 * Problems are logged; the VM's outcome stays what it was.
 */
void ferry_internal_source_power_restore (struct ferry_vm_run *run);
/* The target's power state for spec.powerState: "on" when the source was
 * on (restorePowerState, else the spec's).  Static string.
 */
const char *ferry_internal_target_power (const struct ferry_vm_run *run);
/* After VirtualMachineCreation: destination vm_power_on when the source
 * was on and the destination has it.
 */
int ferry_internal_target_power_on (struct ferry_vm_run *run);

/* ---- Warm migration (pipeline-warm.c) -------------------------------- */

/* RFC 3339 ("2024-04-04T01:23:45.678+09:00", "...Z") to seconds since the
 * epoch in *t; -1 when s is not one.
 */
int ferry_internal_parse_rfc3339 (const char *s, double *t);
/* Whether the plan is warm (spec.type warm, or spec.warm true). */
bool ferry_internal_plan_is_warm (const json_t *plan);
/* DiskTransfer of a warm plan: the precopy loop, until the cutover time
 * (Migration spec.cutover) comes after at least one precopy.
 */
int ferry_internal_step_precopy (struct ferry_vm_run *run, json_t *step);
/* Cutover: power the source off, final snapshot and delta, remove the
 * snapshots.
 */
int ferry_internal_step_cutover (struct ferry_vm_run *run, json_t *step);
/* Remove the source snapshots a warm VM still holds (after a failure or
 * cancel); problems are logged.
 */
void ferry_internal_warm_remove_snapshots (struct ferry_vm_run *run);

#endif /* FERRY_CORE_PIPELINE_H */
