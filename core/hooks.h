/* ferry core: PreHook and PostHook (Forklift's Hook objects), run locally.
 *
 * A Hook's spec: image, playbook (base64 Ansible playbook), serviceAccount,
 * deadline (seconds).  Forklift runs a hook as a Kubernetes Job; ferry runs
 * it as a local process in a private temporary directory (0700) holding
 * plan.yml (the Plan), workload.yml (the VM's inventory record) and
 * playbook.yml (decoded, when the Hook has a playbook):
 *   - spec.image an absolute path to an executable: run it with the
 *     directory as its one argument and as its working directory (a custom
 *     image, which needs no playbook);
 *   - otherwise, with a playbook: ansible-playbook -i localhost, -c local
 *     playbook.yml in that directory;
 *   - otherwise the hook cannot run here (an error saying so).
 * The process runs in its own process group with stdin /dev/null and a
 * minimal environment (PATH, HOME and TMPDIR = the directory, LANG/LC_ALL
 * C.UTF-8, FERRY_HOOK_STEP, FERRY_HOOK_DIR); its stdout and stderr go
 * line by line to the given log.
 *
 * Deadline and retries follow a Job's activeDeadlineSeconds and
 * backoffLimit: spec.deadline (0 or absent: none) bounds all attempts
 * together, and a hook that overruns it is killed (its whole process
 * group) and not retried; a hook that exits non-zero or is killed by a
 * signal is retried up to FERRY_HOOK_RETRIES times (default 2, i.e. 3
 * attempts; the Hook CRD has no retry field), 1 s apart.
 */
#ifndef FERRY_CORE_HOOKS_H
#define FERRY_CORE_HOOKS_H

#include "internal.h"

#define FERRY_HOOK_RETRIES_DEFAULT 2

/* The plan VM's hooks[] entry for step ("PreHook" or "PostHook"), or NULL.
 * Borrowed from plan_vm.
 */
const json_t *ferry_internal_hook_ref (const json_t *plan_vm, const char *step);

/* Run the plan VM's hook for step, if it has one (0 when it has none).
 * plan is the Plan object {metadata, spec, ...}; workload is written as
 * workload.yml.  Output lines go to the log of log_kind log_ns/log_name
 * (ferry_log_object).  -1 with an error naming the hook, the step, how it
 * ended (exit status, signal or deadline) and the log file.
 */
int ferry_internal_hook_run (struct ferry *f, const json_t *plan,
                             const json_t *plan_vm, const json_t *workload,
                             const char *step, const char *log_kind,
                             const char *log_ns, const char *log_name);

/* The same, stopping early: stop is a NULL-terminated array of flags
 * (set by other threads) checked every 100 ms; when one is non-zero the
 * hook is killed (its process group) and -1 returned with an error saying
 * it was stopped.  stop may be NULL.
 */
int ferry_internal_hook_run_stoppable (struct ferry *f, const json_t *plan,
                                       const json_t *plan_vm,
                                       const json_t *workload, const char *step,
                                       const char *log_kind, const char *log_ns,
                                       const char *log_name,
                                       const volatile int *const *stop);

#endif /* FERRY_CORE_HOOKS_H */
