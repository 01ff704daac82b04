/* ferry core: log file paths and per-VM logs. */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logs.h"

/* A path component ferry_log_object accepts: no '/', not "." or "..". */
static bool
safe_component (const char *s)
{
  return s && *s && strchr (s, '/') == NULL
    && strcmp (s, ".") != 0 && strcmp (s, "..") != 0;
}

char *
ferry_internal_vm_log_name (const char *plan, const char *vm_id)
{
  char *name = NULL;

  if (!plan || !vm_id || !*plan || !*vm_id) {
    ferry_error ("VM log name: no plan or VM id");
    return NULL;
  }
  if (asprintf (&name, "%s.%s", plan, vm_id) == -1) {
    ferry_error_errno (errno, "VM log name of %s in plan %s", vm_id, plan);
    return NULL;
  }
  for (char *p = name; *p; p++)
    if (*p == '/' || (unsigned char) *p < 0x20)
      *p = '_';
  return name;
}

void
ferry_internal_vm_log (enum ferry_log_level level, const char *ns,
                       const char *plan, const char *vm_id,
                       const char *fs, ...)
{
  int saved = errno;
  char msg[4096];
  va_list args;

  va_start (args, fs);
  vsnprintf (msg, sizeof msg, fs, args);
  va_end (args);
  CLEANUP_FREE char *name = ferry_internal_vm_log_name (plan, vm_id);
  if (name)
    ferry_log_object (level, "vm", ns, name, "%s", msg);
  errno = saved;
}

char *
ferry_log_path (struct ferry *f, const char *kind, const char *ns,
                const char *name)
{
  char *path = NULL;

  if (!safe_component (kind) || !safe_component (ns) || !safe_component (name)) {
    ferry_error ("log path: '%s' '%s' '%s' is not a valid kind, namespace and name",
                 kind ? kind : "", ns ? ns : "", name ? name : "");
    return NULL;
  }
  if (asprintf (&path, "%s/logs/%s/%s/%s.log", f->state_dir, kind, ns, name) == -1) {
    ferry_error_errno (errno, "log path of %s %s/%s", kind, ns, name);
    return NULL;
  }
  return path;
}

char *
ferry_vm_log_path (struct ferry *f, const char *ns, const char *plan,
                   const char *vm_id)
{
  CLEANUP_FREE char *name = ferry_internal_vm_log_name (plan, vm_id);
  return name ? ferry_log_path (f, "vm", ns, name) : NULL;
}
