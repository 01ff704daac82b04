/* ferry core: Plan validation, as Forklift validates a Plan.
 *
 * The result is Forklift's Plan status.conditions: an array of
 * {type, status "True", category, reason, message, suggestion, items[],
 * lastTransitionTime}, one per condition type, where category is Critical,
 * Error, Warn or Advisory and items name the offending VMs or references
 * ("id:vm-1 name:'web'").  A plan is Ready (condition type Ready, category
 * Required) only when no condition is Critical or Error.  The condition
 * types are listed in validation.c.
 */
#ifndef FERRY_CORE_VALIDATION_H
#define FERRY_CORE_VALIDATION_H

#include <stdbool.h>
#include <jansson.h>

#include "internal.h"

/* Validate Plan ns/name, store the conditions in its status (other status
 * fields are kept; lastTransitionTime is kept for a condition that did not
 * change) and set *conditions to them (the caller's).  Refreshes the
 * source inventory only when the provider has none yet.  -1 (and
 * *conditions NULL) only when the plan cannot be read or the status not
 * written; everything wrong with the plan itself is a condition.
 */
int ferry_internal_plan_validate (struct ferry *f, const char *ns,
                                  const char *name, json_t **conditions);

/* True when conditions hold a Ready condition. */
bool ferry_internal_conditions_ready (const json_t *conditions);

/* "msg1; msg2" of the Critical and Error conditions (caller frees), or
 * NULL when there are none or out of memory.
 */
char *ferry_internal_conditions_blocking (const json_t *conditions);

/* --- engine (issue 5, migration-control.c): whether a Migration of Plan
 * ns/plan has VM vm_id Completed.  Errors count as "no".
 */
bool ferry_internal_plan_vm_migrated (struct ferry *f, const char *ns,
                                      const char *plan, const char *vm_id);
/* --- end engine */

#endif /* FERRY_CORE_VALIDATION_H */
