/* ferry core: the source's and the target's power around a migration
 * (issue 5), as Forklift's StorePowerState, PowerOffSource,
 * WaitForPowerOff and the target's power-on after VM creation.
 *
 * Status fields of the VM (status.vms[]):
 *   restorePowerState  "On" | "Off" | "Unknown": the source's state before
 *                      ferry touched it (Forklift's field); stored once
 *   sourcePowerOff     {requested, completed}: ferry asked the source to
 *                      power off (stored before asking) and saw it off
 *   sourcePowerRestored  time ferry powered the source on again after a
 *                      failure or cancel
 * Every decision is stored before it is acted on, so a run after a crash
 * neither forgets the original state nor records "Off" as it.
 */
#include <config.h>

#include <string.h>
#include <time.h>

#include "pipeline.h"

#define POWER_OFF_DEADLINE 300          /* seconds to wait for "off" */
#define POWER_POLL_MS 100

/* The provider can tell and change the power state. */
static bool
can_power (const struct ferry_vm_run *run)
{
  const struct ferry_provider *p = run->source->provider;
  return p->can_power && p->can_power (run->source->handle) > 0
    && p->power_state && p->power_off && p->power_on;
}

static const char *
state_name (int state)
{
  switch (state) {
  case FERRY_POWER_ON: return "On";
  case FERRY_POWER_OFF: return "Off";
  case FERRY_POWER_SUSPENDED: return "Suspended";
  default: return "Unknown";
  }
}

static void
sleep_ms (long ms)
{
  struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
  nanosleep (&ts, NULL);
}

int
ferry_internal_source_power_off (struct ferry_vm_run *run)
{
  const struct ferry_provider *p = run->source->provider;
  void *h = run->source->handle;
  json_t *off = json_object_get (run->vm_status, "sourcePowerOff");

  if (!can_power (run))
    return 0;
  if (json_object_get (off, "completed"))
    return 0;                           /* done in an earlier run */

  int state = p->power_state (h, ferry_internal_run_vm_id (run));
  if (state == -1) {
    ferry_error_prefix ("VM %s: power state", ferry_internal_run_vm_name (run));
    return -1;
  }
  if (!json_object_get (run->vm_status, "restorePowerState"))
    json_object_set_new (run->vm_status, "restorePowerState",
                         json_string (state_name (state)));
  if (!off) {
    off = json_object ();
    json_object_set_new (run->vm_status, "sourcePowerOff", off);
  }
  if (state != FERRY_POWER_OFF) {
    ferry_internal_set_now_ms (off, "requested");
    if (run->save (run) == -1)
      return -1;
    ferry_log_object (FERRY_LOG_INFO, "migration", run->ns, run->migration,
                      "vm %s: powering the source off (it was %s)", ferry_internal_run_vm_name (run),
                      state_name (state));
    if (p->power_off (h, ferry_internal_run_vm_id (run)) == -1) {
      ferry_error_prefix ("VM %s: power off the source", ferry_internal_run_vm_name (run));
      return -1;
    }
    struct timespec t0, t;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    while ((state = p->power_state (h, ferry_internal_run_vm_id (run))) != FERRY_POWER_OFF) {
      if (state == -1) {
        ferry_error_prefix ("VM %s: power state after power off", ferry_internal_run_vm_name (run));
        return -1;
      }
      if (*run->abort) {
        ferry_error ("VM %s: stopped while waiting for the source to power off",
                     ferry_internal_run_vm_name (run));
        return -1;
      }
      clock_gettime (CLOCK_MONOTONIC, &t);
      if (t.tv_sec - t0.tv_sec > POWER_OFF_DEADLINE) {
        ferry_error ("VM %s: the source is still %s %d seconds after power off",
                     ferry_internal_run_vm_name (run), state_name (state), POWER_OFF_DEADLINE);
        return -1;
      }
      sleep_ms (POWER_POLL_MS);
    }
  }
  bool was_off = !json_object_get (off, "requested");
  ferry_internal_set_now_ms (off, "completed");
  ferry_internal_pipeline_emit (run, json_string_value (json_object_get (run->vm_status, "phase")),
                                "Running", 0, 0, 0,
                                was_off ? "source is off" : "source powered off");
  return run->save (run);
}

/* Whether VirtualMachineCreation completed (the target exists). */
static bool
target_created (const struct ferry_vm_run *run)
{
  const json_t *step;
  size_t i;
  json_array_foreach (json_object_get (run->vm_status, "pipeline"), i, step)
    if (strcmp (json_string_value (json_object_get (step, "name")) ?: "", "VirtualMachineCreation") == 0)
      return strcmp (json_string_value (json_object_get (step, "phase")) ?: "", "Completed") == 0;
  return false;
}

void
ferry_internal_source_power_restore (struct ferry_vm_run *run)
{
  const struct ferry_provider *p = run->source->provider;
  void *h = run->source->handle;
  const char *was = json_string_value (json_object_get (run->vm_status, "restorePowerState"));
  json_t *off = json_object_get (run->vm_status, "sourcePowerOff");

  if (!off || !json_object_get (off, "requested") || !was || strcmp (was, "On") != 0
      || json_object_get (run->vm_status, "sourcePowerRestored") || !can_power (run))
    return;
  if (target_created (run)) {
    ferry_log_object (FERRY_LOG_WARN, "migration", run->ns, run->migration,
                      "vm %s: the target VM was created, so the source stays off",
                      ferry_internal_run_vm_name (run));
    return;
  }
  int state = p->power_state (h, ferry_internal_run_vm_id (run));
  if (state == FERRY_POWER_ON)
    return;                             /* it never went off */
  if (p->power_on (h, ferry_internal_run_vm_id (run)) == -1) {
    ferry_log_object (FERRY_LOG_WARN, "migration", run->ns, run->migration,
                      "vm %s: could not power the source on again: %s",
                      ferry_internal_run_vm_name (run), ferry_get_error ());
    return;
  }
  ferry_internal_set_now_ms (run->vm_status, "sourcePowerRestored");
  ferry_log_object (FERRY_LOG_INFO, "migration", run->ns, run->migration,
                    "vm %s: source powered on again (its state before the migration)",
                    ferry_internal_run_vm_name (run));
}

const char *
ferry_internal_target_power (const struct ferry_vm_run *run)
{
  const char *was = json_string_value (json_object_get (run->vm_status, "restorePowerState"));
  if (was)
    return strcmp (was, "On") == 0 ? "on" : "off";
  const char *spec = json_string_value (json_object_get (json_object_get (run->vm_status, "spec"),
                                                         FERRY_VMSPEC_POWER_STATE));
  return spec && strcmp (spec, "on") == 0 ? "on" : "off";
}

int
ferry_internal_target_power_on (struct ferry_vm_run *run)
{
  const struct ferry_destination *d = run->destination->destination;
  const json_t *spec = json_object_get (run->vm_status, "spec");

  if (strcmp (ferry_internal_target_power (run), "on") != 0 || !d->vm_power_on)
    return 0;
  if (d->vm_power_on (run->destination->handle,
                      json_string_value (json_object_get (spec, FERRY_VMSPEC_NAMESPACE)),
                      json_string_value (json_object_get (spec, FERRY_VMSPEC_NAME))) == -1) {
    ferry_error_prefix ("VM %s: power on the target", ferry_internal_run_vm_name (run));
    return -1;
  }
  ferry_log_object (FERRY_LOG_INFO, "migration", run->ns, run->migration,
                    "vm %s: target powered on, as the source was", ferry_internal_run_vm_name (run));
  return 0;
}
