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
};


/* Fill vm_status with the pipeline for its itinerary (all Pending). */
int ferry_internal_pipeline_init (struct ferry_vm_run *run, const char *vm_id,
                                  const char *vm_name);

/* Walk the itinerary; finished steps are skipped, so re-running after a
 * crash resumes.  0 when the VM succeeded, -1 when it failed (its status
 * says why).
 */
int ferry_internal_pipeline_run (struct ferry_vm_run *run);

#endif /* FERRY_CORE_PIPELINE_H */
