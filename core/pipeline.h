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
  const json_t *plan;                   /* the Plan object (metadata + spec) */
  const json_t *plan_vm;                /* this VM's entry of spec.vms */
  json_t *vm_status;                    /* this VM's entry of status.vms (borrowed, mutated) */
  struct ferry_instance *source, *destination;
  const json_t *network_map, *storage_map;  /* the map specs, or NULL */
  ferry_run_fn fn;
  void *opaque;
  /* Persist the whole Migration status now; -1 on error. */
  int (*save) (struct ferry_vm_run *run);
  void *save_opaque;
  /* Set by the engine from other threads (never NULL): abort stops a
   * transfer within a second (ferry_transfer_options.cancel); canceled
   * says the user canceled this VM; stopping that the process is asked
   * to stop (SIGTERM), leaving the VM resumable.
   */
  volatile int *abort;
  const volatile int *canceled;
  const volatile int *stopping;
};

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
 * disk).  $FERRY_TEST_CRASH_VM=NAME limits it to one VM.
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

#endif /* FERRY_CORE_PIPELINE_H */
