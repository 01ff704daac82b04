/* ferry core: admission of VMs per source host (issue 5, ARCHITECTURE §6).
 *
 * One table per process, shared by every Migration running in it (`ferry
 * serve` runs several): a VM costs its number of unfinished disks and a
 * source host admits VMs while in-flight + cost <= limit; a VM that costs
 * more than the limit is admitted only when nothing else runs on its host.
 * A host is a string the caller makes unique: "<provider uid>/<host id>".
 * A disk's slot is given back when that disk's copy ends, not when its VM
 * ends (ferry_internal_sched_release_disks).
 *
 * No starvation: a VM that is refused takes a ticket (a process-wide
 * sequence number, kept by the caller in *ticket).  The host is reserved
 * for the oldest ticket that asked: while a reservation holds, no other VM
 * is admitted on the host, so the running VMs drain until the reserved one
 * fits (or the host is empty, for one that costs more than the limit).
 * Then the reservation passes to the next VM that is refused.  A VM
 * therefore waits at most until every VM refused before it was admitted,
 * however many small VMs arrive behind it.  The cost: up to cost-1 slots
 * of the host stay idle while it drains for the reserved VM.
 *
 * Thread safety: every function may be called from any thread; one mutex
 * guards the table.
 */
#ifndef FERRY_CORE_SCHEDULER_H
#define FERRY_CORE_SCHEDULER_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#define FERRY_MAX_VM_INFLIGHT_DEFAULT 20

/* The limit for a source Provider: $FERRY_MAX_VM_INFLIGHT when set (the
 * operator's override wins), else the Provider's spec.settings.maxVmInflight
 * (string or integer), else 20.  Values below 1 or unparsable are ignored.
 */
unsigned ferry_internal_sched_limit (const json_t *provider_spec);

/* Admit a VM of cost disks on host now?  true: the cost is counted until
 * ferry_internal_sched_release.  false: *ticket (0 before the VM first
 * asks; the caller keeps it per VM) is set on the first refusal and may
 * hold the host's reservation.  Never blocks.
 */
bool ferry_internal_sched_try_admit (const char *host, unsigned cost,
                                     unsigned limit, uint64_t *ticket);
void ferry_internal_sched_release (const char *host, unsigned cost);

/* Part of an admitted VM's cost is given back early (n of its disks are
 * copied; the VM still runs): in-flight drops by n, the VM stays counted
 * as running.  Its final ferry_internal_sched_release passes the rest.
 */
void ferry_internal_sched_release_disks (const char *host, unsigned n);

/* A refused VM that will not ask again (canceled, stopped, its engine
 * ends): drop its reservation, if it holds one, and forget the ticket.
 */
void ferry_internal_sched_withdraw (const char *host, uint64_t *ticket);

/* Wait until some VM is released or withdrawn anywhere, or ms milliseconds
 * pass.
 */
void ferry_internal_sched_wait (unsigned ms);

/* A count that moves on every release and withdraw.  An admission loop
 * reads it before a pass and then waits with ferry_internal_sched_wait_since,
 * so a release during the pass is not missed (the wait returns at once).
 */
uint64_t ferry_internal_sched_epoch (void);
/* Wait until the count is no longer epoch, or ms milliseconds pass. */
void ferry_internal_sched_wait_since (uint64_t epoch, unsigned ms);

/* Disks in flight on host now (tests and status). */
unsigned ferry_internal_sched_inflight (const char *host);

/* The ticket the host is reserved for, or 0 (tests). */
uint64_t ferry_internal_sched_reserved (const char *host);

#endif /* FERRY_CORE_SCHEDULER_H */
