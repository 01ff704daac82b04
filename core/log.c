/* ferry core: logging to stderr and to per-object log files. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ferry/log.h"
#include "internal.h"

static const char *const level_names[] = { "error", "warn", "info", "debug" };

/* Guards log_dir and serialises writes so lines never interleave. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char *log_dir;                   /* <state>/logs, or NULL */
static unsigned log_dir_users;          /* open contexts that set log_dir */
static int level = -1;                  /* -1: not read from the environment yet */

int
ferry_log_level_from_string (const char *s)
{
  for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++)
    if (strcasecmp (s, level_names[i]) == 0)
      return (int) i;
  if (strcasecmp (s, "warning") == 0)
    return FERRY_LOG_WARN;
  return -1;
}

enum ferry_log_level
ferry_get_log_level (void)
{
  if (level < 0) {
    const char *e = getenv ("FERRY_LOG_LEVEL");
    int l = e ? ferry_log_level_from_string (e) : -1;
    level = l >= 0 ? l : FERRY_LOG_WARN;
  }
  return (enum ferry_log_level) level;
}

void
ferry_set_log_level (enum ferry_log_level l)
{
  level = l;
}

/* Each ferry_open sets the directory and each ferry_close releases it; it
 * is cleared only when the last open context closes, so an engine thread
 * closing its own context does not silence the others' log files.  (The
 * directory is process-wide: the latest ferry_open's wins.)
 */
void
ferry_internal_log_set_dir (const char *dir)
{
  FERRY_SCOPED_LOCK (&log_lock);
  if (dir) {
    free (log_dir);
    log_dir = strdup (dir);
    log_dir_users++;
  }
  else if (log_dir_users > 0 && --log_dir_users == 0) {
    free (log_dir);
    log_dir = NULL;
  }
}

static void
timestamp (char *buf, size_t len)
{
  struct timespec ts;
  struct tm tm;

  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  size_t n = strftime (buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (buf + n, len - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

static void
vlog (enum ferry_log_level l, const char *fs, va_list args)
{
  if (l > ferry_get_log_level ())
    return;
  int saved = errno;
  char msg[4096];
  vsnprintf (msg, sizeof msg, fs, args);
  {
    FERRY_SCOPED_LOCK (&log_lock);
    fprintf (stderr, "ferry: %s%s%s\n",
             l == FERRY_LOG_INFO ? "" : level_names[l],
             l == FERRY_LOG_INFO ? "" : ": ", msg);
  }
  errno = saved;
}

void
ferry_log (enum ferry_log_level l, const char *fs, ...)
{
  va_list args;

  va_start (args, fs);
  vlog (l, fs, args);
  va_end (args);
}

/* A name component safe to use in a path: no "/", not "." or "..". */
static int
safe_component (const char *s)
{
  return s && *s && strchr (s, '/') == NULL
    && strcmp (s, ".") != 0 && strcmp (s, "..") != 0;
}

void
ferry_log_object (enum ferry_log_level l, const char *kind, const char *ns,
                  const char *name, const char *fs, ...)
{
  int saved = errno;
  char msg[4096], ts[64];
  va_list args;

  va_start (args, fs);
  vsnprintf (msg, sizeof msg, fs, args);
  va_end (args);

  if (l <= ferry_get_log_level ())
    ferry_log (l, "%s %s/%s: %s", kind, ns, name, msg);

  FERRY_SCOPED_LOCK (&log_lock);
  if (!log_dir || !safe_component (kind) || !safe_component (ns)
      || !safe_component (name)) {
    errno = saved;
    return;
  }
  CLEANUP_FREE char *dir = NULL, *path = NULL;
  if (asprintf (&dir, "%s/%s/%s", log_dir, kind, ns) == -1
      || asprintf (&path, "%s/%s.log", dir, name) == -1) {
    errno = saved;
    return;
  }
  /* Per-object logs are best effort: failing to write one never fails
   * the operation it describes.
   */
  if (ferry_internal_mkdir_p (dir, 0700) == 0) {
    int fd = open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0) {
      timestamp (ts, sizeof ts);
      dprintf (fd, "%s %s %s\n", ts, level_names[l], msg);
      close (fd);
    }
  }
  errno = saved;
}
