/* ferry core: where per-object and per-VM log files live.
 *
 * Layout under <state>/logs (ferry_log_object writes them):
 *   plan/<ns>/<plan>.log               plan events (migration created, ...)
 *   migration/<ns>/<migration>.log     the engine's lines for one Migration
 *   vm/<ns>/<plan>.<vm-id>.log         one VM of a plan, across Migrations:
 *                                      hook output, and (later) conversion
 */
#ifndef FERRY_CORE_LOGS_H
#define FERRY_CORE_LOGS_H

#include "internal.h"

/* The log name of VM vm_id of Plan plan: "<plan>.<vm-id>", with any
 * character that cannot be in a file name ('/', NUL-free control
 * characters) replaced by '_'.  Caller frees; NULL on error.
 */
char *ferry_internal_vm_log_name (const char *plan, const char *vm_id);

/* Append a line to the log of VM vm_id of Plan ns/plan (best effort, as
 * ferry_log_object).
 */
void ferry_internal_vm_log (enum ferry_log_level level, const char *ns,
                            const char *plan, const char *vm_id,
                            const char *fs, ...)
  FERRY_PRINTF (5, 6);

#endif /* FERRY_CORE_LOGS_H */
