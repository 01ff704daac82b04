/* ferry core: admission of VMs per source host (issue 5, ARCHITECTURE §6).
 *
 * One table per process, shared by every Migration running in it (`ferry
 * serve` runs several): a VM costs its number of unfinished disks and a
 * source host admits VMs while in-flight + cost <= limit; a VM that costs
 * more than the limit is admitted only when nothing else runs on its host.
 * A host is a string the caller makes unique: "<provider uid>/<host id>".
 *
 * Thread safety: every function may be called from any thread; one mutex
 * guards the table.
 */
#ifndef FERRY_CORE_SCHEDULER_H
#define FERRY_CORE_SCHEDULER_H

#include <stdbool.h>
#include <jansson.h>

#define FERRY_MAX_VM_INFLIGHT_DEFAULT 20

/* The limit for a source Provider: $FERRY_MAX_VM_INFLIGHT when set (the
 * operator's override wins), else the Provider's spec.settings.maxVmInflight
 * (string or integer), else 20.  Values below 1 or unparsable are ignored.
 */
unsigned ferry_internal_sched_limit (const json_t *provider_spec);

/* Admit a VM of cost disks on host now?  true: the cost is counted until
 * ferry_internal_sched_release.  Never blocks.
 */
bool ferry_internal_sched_try_admit (const char *host, unsigned cost,
                                     unsigned limit);
void ferry_internal_sched_release (const char *host, unsigned cost);

/* Wait until some VM is released anywhere, or ms milliseconds pass. */
void ferry_internal_sched_wait (unsigned ms);

/* Disks in flight on host now (tests and status). */
unsigned ferry_internal_sched_inflight (const char *host);

#endif /* FERRY_CORE_SCHEDULER_H */
