/* ferry core: the PreHook and PostHook steps of a VM's itinerary.
 *
 * Kept out of pipeline.c (which owns the itinerary) so that the hook steps
 * are two table entries and one line there.  The hook's output goes to the
 * VM's log, logs/vm/<ns>/<plan>.<vm-id>.log (logs.h).
 */
#include <config.h>

#include <string.h>

#include "hooks.h"
#include "logs.h"
#include "pipeline.h"

bool
ferry_internal_pipeline_step_wanted (const struct ferry_vm_run *run,
                                     const char *step)
{
  /* Without the plan VM, keep the step: it is a no-op when there is no
   * hook, so the VM still migrates.
   */
  if (!run->plan_vm)
    return true;
  if (strcmp (step, "PreHook") == 0 || strcmp (step, "PostHook") == 0)
    return ferry_internal_hook_ref (run->plan_vm, step) != NULL;
  return true;
}

void
ferry_internal_pipeline_drop_unwanted (const struct ferry_vm_run *run,
                                       json_t *pipeline)
{
  for (size_t i = json_array_size (pipeline); i-- > 0; ) {
    const char *name = json_string_value (json_object_get (json_array_get (pipeline, i), "name"));
    if (name && !ferry_internal_pipeline_step_wanted (run, name))
      json_array_remove (pipeline, i);
  }
}

/* Replace the id in doc[key] by the inventory entity of kind it names,
 * when the inventory has it.  Returns the entity (borrowed) or NULL.
 */
static json_t *
embed (struct ferry_vm_run *run, json_t *doc, const char *key, const char *kind)
{
  const char *id = json_string_value (json_object_get (doc, key));
  if (!id)
    return NULL;
  json_t *ent = ferry_internal_store_inv_get (run->f->store, run->source->uid, kind, id);
  if (!ent)
    return NULL;
  json_object_set_new (doc, key, ent);
  return ent;
}

/* workload.yml: the VM's inventory record with its host, the host's
 * cluster and the cluster's datacenter in place of their ids, when the
 * provider's inventory has them.
 */
static json_t *
workload_doc (struct ferry_vm_run *run, const char *vm_id)
{
  json_t *vm = ferry_internal_store_inv_get (run->f->store, run->source->uid,
                                             FERRY_INV_VM, vm_id);
  if (!vm) {
    if (!*ferry_get_error ())
      ferry_error ("VM %s is not in the source provider's inventory", vm_id);
    return NULL;
  }
  json_t *host = embed (run, vm, "host", FERRY_INV_HOST);
  json_t *cluster = host ? embed (run, host, "cluster", FERRY_INV_CLUSTER) : NULL;
  if (!cluster)
    cluster = embed (run, vm, "cluster", FERRY_INV_CLUSTER);
  if (cluster)
    embed (run, cluster, "datacenter", FERRY_INV_DATACENTER);
  return vm;
}

static int
step_hook (struct ferry_vm_run *run, json_t *step, const char *which)
{
  const char *vm_id = json_string_value (json_object_get (run->vm_status, "id"));
  const json_t *meta = json_object_get (run->plan, "metadata");
  const char *plan = json_string_value (json_object_get (meta, "name"));
  const char *plan_ns = json_string_value (json_object_get (meta, "namespace"));
  CLEANUP_FREE char *log_name = ferry_internal_vm_log_name (plan, vm_id);
  if (!log_name)
    return -1;
  CLEANUP_JSON_DECREF json_t *workload = workload_doc (run, vm_id);
  if (!workload)
    return -1;
  /* Cancel and stop reach the hook (the engine sets these; NULL in
   * contexts without them).
   */
  const volatile int *stop[] = { run->abort, run->canceled, run->stopping, NULL };
  size_t n = 0;
  for (size_t i = 0; i < 3; i++)
    if (stop[i])
      stop[n++] = stop[i];
  stop[n] = NULL;
  if (ferry_internal_hook_run_stoppable (run->f, run->plan, run->plan_vm, workload, which,
                                         "vm", plan_ns ? plan_ns : run->ns, log_name,
                                         stop) == -1)
    return -1;
  json_object_set_new (json_object_get (step, "progress"), "completed", json_integer (1));
  return 0;
}

int
ferry_internal_step_prehook (struct ferry_vm_run *run, json_t *step)
{
  return step_hook (run, step, "PreHook");
}

int
ferry_internal_step_posthook (struct ferry_vm_run *run, json_t *step)
{
  return step_hook (run, step, "PostHook");
}
