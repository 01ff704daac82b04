/* ferry core: thread-local last error (see include/ferry/error.h). */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ferry/error.h"
#include "ferry/log.h"

#define ERROR_MAX 4096                  /* bytes, including the NUL */

static _Thread_local char last_error[ERROR_MAX];
static _Thread_local int last_errno;

static void
set_error (int errnum, const char *fs, va_list args)
{
  int saved = errno;
  char buf[ERROR_MAX];

  vsnprintf (buf, sizeof buf, fs, args);
  /* Truncation of an over-long message is accepted, never an overflow. */
  if (errnum)
    snprintf (last_error, sizeof last_error, "%.*s: %s",
              (int) (sizeof buf - 64), buf, strerror (errnum));
  else
    memcpy (last_error, buf, sizeof buf);
  last_errno = errnum;
  ferry_log (FERRY_LOG_DEBUG, "error: %s", last_error);
  errno = saved;
}

void
ferry_error (const char *fs, ...)
{
  va_list args;

  va_start (args, fs);
  set_error (0, fs, args);
  va_end (args);
}

void
ferry_error_errno (int errnum, const char *fs, ...)
{
  va_list args;

  va_start (args, fs);
  set_error (errnum, fs, args);
  va_end (args);
}

void
ferry_error_prefix (const char *fs, ...)
{
  int saved = errno;
  char prefix[ERROR_MAX], buf[ERROR_MAX];
  va_list args;

  va_start (args, fs);
  vsnprintf (prefix, sizeof prefix, fs, args);
  va_end (args);
  snprintf (buf, sizeof buf, "%.*s: %.*s", (int) (sizeof prefix / 2), prefix,
            (int) (sizeof buf / 2 - 4), last_error);
  memcpy (last_error, buf, sizeof buf);
  errno = saved;
}

const char *
ferry_get_error (void)
{
  return last_error;
}

int
ferry_get_errno (void)
{
  return last_errno;
}

void
ferry_clear_error (void)
{
  last_error[0] = '\0';
  last_errno = 0;
}
