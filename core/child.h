/* ferry core: watching a child process (hooks, guest conversion).
 *
 * The caller forks a child that leads its own process group and writes
 * its stdout/stderr into a pipe; ferry_internal_child_pump hands each
 * output line to a callback until the child exits, a stop flag is set or
 * the deadline passes, then kills the whole group (whatever the child
 * started goes with it), reaps the child and drains the pipe.
 */
#ifndef FERRY_CORE_CHILD_H
#define FERRY_CORE_CHILD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Output lines longer than this are handed over in pieces. */
#define FERRY_CHILD_LINE_MAX 4096

/* CLOCK_MONOTONIC in milliseconds. */
int64_t ferry_internal_monotonic_ms (void);

/* Whether any flag of the NULL-terminated list stop (may be NULL) is set. */
bool ferry_internal_stop_requested (const volatile int *const *stop);

struct ferry_child_end {
  int wait_status;                      /* as waitpid gives it */
  bool stopped;                         /* a stop flag ended it */
  bool timed_out;                       /* the deadline ended it */
};

/* Watch child pid (its own process group) whose output is on rfd, which
 * this closes.  on_line gets each line without its newline (NUL-ended,
 * borrowed).  deadline: monotonic ms, 0 for none.
 */
void ferry_internal_child_pump (pid_t pid, int rfd, int64_t deadline,
                                const volatile int *const *stop,
                                void (*on_line) (void *opaque, const char *line),
                                void *opaque, struct ferry_child_end *end);

#endif /* FERRY_CORE_CHILD_H */
