/* ferry core: watching a child process (child.h). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "child.h"

int64_t
ferry_internal_monotonic_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool
ferry_internal_stop_requested (const volatile int *const *stop)
{
  for (; stop && *stop; stop++)
    if (**stop)
      return true;
  return false;
}

struct lines {
  char buf[FERRY_CHILD_LINE_MAX + 1024];
  size_t used;
  void (*on_line) (void *opaque, const char *line);
  void *opaque;
};

/* Hand each complete line to on_line; keep a partial one (or flush it). */
static void
split_lines (struct lines *l, bool flush)
{
  size_t start = 0;
  for (size_t i = 0; i < l->used; i++)
    if (l->buf[i] == '\n') {
      l->buf[i] = '\0';
      l->on_line (l->opaque, l->buf + start);
      start = i + 1;
    }
  if (start < l->used && (flush || l->used - start >= FERRY_CHILD_LINE_MAX)) {
    l->buf[l->used] = '\0';
    l->on_line (l->opaque, l->buf + start);
    start = l->used;
  }
  memmove (l->buf, l->buf + start, l->used - start);
  l->used -= start;
}

/* Read what is there: 1 data, 0 end of file or an error, -1 nothing
 * now (EINTR, EAGAIN).
 */
static int
read_some (int fd, struct lines *l)
{
  ssize_t n = read (fd, l->buf + l->used, sizeof l->buf - l->used - 1);
  if (n > 0) {
    l->used += (size_t) n;
    split_lines (l, false);
    return 1;
  }
  return n == -1 && (errno == EINTR || errno == EAGAIN) ? -1 : 0;
}

void
ferry_internal_child_pump (pid_t pid, int rfd, int64_t deadline,
                           const volatile int *const *stop,
                           void (*on_line) (void *opaque, const char *line),
                           void *opaque, struct ferry_child_end *end)
{
  struct lines l = { .used = 0, .on_line = on_line, .opaque = opaque };
  bool open_pipe = true;

  memset (end, 0, sizeof *end);
  for (;;) {
    siginfo_t si = { 0 };
    if (waitid (P_PID, (id_t) pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0
        && si.si_pid == pid)
      break;                            /* exited; reaped below */
    if (ferry_internal_stop_requested (stop)) {
      end->stopped = true;
      break;
    }
    int64_t wait_ms = 100;
    if (deadline) {
      int64_t left = deadline - ferry_internal_monotonic_ms ();
      if (left <= 0) {
        end->timed_out = true;
        break;
      }
      if (left < wait_ms)
        wait_ms = left;
    }
    struct pollfd pfd = { .fd = open_pipe ? rfd : -1, .events = POLLIN };
    if (poll (&pfd, 1, (int) wait_ms) > 0 && open_pipe)
      open_pipe = read_some (rfd, &l) != 0;
  }

  /* Whatever the child started goes with it: kill the whole group. */
  kill (-pid, SIGKILL);
  int ws = 0;
  while (waitpid (pid, &ws, 0) == -1 && errno == EINTR)
    ;
  end->wait_status = ws;
  /* Output still in the pipe (its writers are gone now). */
  if (open_pipe) {
    fcntl (rfd, F_SETFL, O_NONBLOCK);
    while (read_some (rfd, &l) == 1)
      ;
  }
  split_lines (&l, true);
  close (rfd);
}
