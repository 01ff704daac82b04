/* ferry core: the library context (ferry_open / ferry_close). */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "loader.h"

const char *
ferry_version (void)
{
  return PACKAGE_VERSION;
}

int
ferry_internal_mkdir_p (const char *path, unsigned mode)
{
  CLEANUP_FREE char *p = strdup (path);
  if (!p) {
    ferry_error_errno (errno, "mkdir %s", path);
    return -1;
  }
  for (char *s = p + 1; ; s++) {
    if (*s == '/' || *s == '\0') {
      char c = *s;
      *s = '\0';
      if (mkdir (p, mode) == -1 && errno != EEXIST) {
        ferry_error_errno (errno, "create directory %s", p);
        return -1;
      }
      *s = c;
      if (c == '\0')
        break;
    }
  }
  struct stat st;
  if (stat (path, &st) == -1 || !S_ISDIR (st.st_mode)) {
    ferry_error ("%s exists and is not a directory", path);
    return -1;
  }
  return 0;
}

char *
ferry_internal_state_dir_resolve (const char *explicit_dir)
{
  const char *e;
  char *r = NULL;

  if (explicit_dir && *explicit_dir)
    r = strdup (explicit_dir);
  else if ((e = getenv ("FERRY_STATE_DIR")) && *e)
    r = strdup (e);
  else if ((e = getenv ("XDG_STATE_HOME")) && *e) {
    if (asprintf (&r, "%s/ferry", e) == -1)
      r = NULL;
  }
  else if ((e = getenv ("HOME")) && *e) {
    if (asprintf (&r, "%s/.local/state/ferry", e) == -1)
      r = NULL;
  }
  else {
    ferry_error ("no state directory: set FERRY_STATE_DIR or HOME");
    return NULL;
  }
  if (!r) {
    ferry_error_errno (errno, "resolve the state directory");
    return NULL;
  }
  if (r[0] != '/') {
    CLEANUP_FREE char *rel = r;
    char *abs = realpath (".", NULL);
    if (!abs || asprintf (&r, "%s/%s", abs, rel) == -1) {
      free (abs);
      ferry_error_errno (errno, "resolve the state directory %s", rel);
      return NULL;
    }
    free (abs);
  }
  return r;
}

char *
ferry_internal_now_rfc3339 (void)
{
  char buf[32];
  time_t t = time (NULL);
  struct tm tm;
  gmtime_r (&t, &tm);
  strftime (buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return strdup (buf);
}

struct ferry *
ferry_open (const char *state_dir, unsigned flags)
{
  CLEANUP_FREE char *dir = NULL, *db = NULL, *logs = NULL;
  struct ferry *f;

  if (flags & ~(FERRY_OPEN_READONLY | FERRY_OPEN_NO_MODULES)) {
    ferry_error ("ferry_open: unknown flags 0x%x", flags);
    return NULL;
  }
  dir = ferry_internal_state_dir_resolve (state_dir);
  if (!dir)
    return NULL;
  /* Everything under the state directory is private to its user: every
   * file in it is created 0600 and every directory 0700.
   */
  if (!(flags & FERRY_OPEN_READONLY) && ferry_internal_mkdir_p (dir, 0700) == -1)
    return NULL;
  if (asprintf (&db, "%s/ferry.db", dir) == -1
      || asprintf (&logs, "%s/logs", dir) == -1) {
    ferry_error_errno (errno, "ferry_open");
    return NULL;
  }

  f = calloc (1, sizeof *f);
  if (!f) {
    ferry_error_errno (errno, "ferry_open");
    return NULL;
  }
  f->flags = flags;
  f->state_dir = ferry_steal (&dir);
  f->store = ferry_internal_store_open (db, (flags & FERRY_OPEN_READONLY)
                                        ? FERRY_STORE_READONLY : 0);
  if (!f->store)
    goto err;
  if (!(flags & FERRY_OPEN_NO_MODULES)) {
    f->modules = ferry_internal_modules_load ();
    if (!f->modules)
      goto err;
  }
  ferry_internal_log_set_dir (logs);
  f->log_dir_set = true;
  return f;

 err:
  ferry_close (f);
  return NULL;
}

void
ferry_close (struct ferry *f)
{
  if (!f)
    return;
  ferry_internal_store_close (f->store);
  ferry_internal_modules_free (f->modules);
  if (f->log_dir_set)
    ferry_internal_log_set_dir (NULL);
  /* The key never outlives the context. */
  explicit_bzero (f->key, sizeof f->key);
  free (f->state_dir);
  free (f);
}

const char *
ferry_get0_state_dir (struct ferry *f)
{
  return f->state_dir;
}

const unsigned char *
ferry_internal_get0_key (struct ferry *f)
{
  if (!f->have_key) {
    CLEANUP_FREE char *path = NULL;
    if (asprintf (&path, "%s/secret.key", f->state_dir) == -1) {
      ferry_error_errno (errno, "secret key path");
      return NULL;
    }
    if (ferry_internal_secret_key_load (path, !(f->flags & FERRY_OPEN_READONLY),
                                        f->key) == -1)
      return NULL;
    f->have_key = true;
  }
  return f->key;
}
