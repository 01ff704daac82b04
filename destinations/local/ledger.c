/* ferry local destination: the ledger of created files.
 *
 * Each VM directory <dir>/<ns>/<vm>/ holds .ferry-created.json:
 *
 *   {"created": [{"file": "disk-0.img", "plan": "<plan>", "vmId": "<id>"}, ...]}
 *
 * A file is claimed in the ledger before it is created, so a crash
 * between the two leaves nothing unrecorded.  cleanup(plan, vm_id) removes
 * exactly the listed files of that owner, then the ledger and the VM
 * directory once they are empty.  Ledger entries name files inside their
 * own directory only (no '/'), and removal goes through the directory's
 * fd (unlinkat), so a ledger cannot point cleanup anywhere else.
 *
 * Concurrency: every read-modify-write of a ledger holds flock(LOCK_EX) on
 * the VM directory's fd; the ledger itself is replaced atomically.
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>

#include "ferry/error.h"
#include "ferry/log.h"
#include "local.h"

void
local_owner (const json_t *obj, const char **plan, const char **vm_id)
{
  const json_t *labels = json_object_get (obj, "labels");

  *plan = json_string_value (json_object_get (obj, "plan"));
  if (*plan == NULL)
    *plan = json_string_value (json_object_get (labels, "plan"));
  if (*plan == NULL)
    *plan = "";
  *vm_id = json_string_value (json_object_get (obj, "vmId"));
  if (*vm_id == NULL)
    *vm_id = json_string_value (json_object_get (labels, "vmID"));
  if (*vm_id == NULL)
    *vm_id = json_string_value (json_object_get (obj, "sourceId"));
  if (*vm_id == NULL)
    *vm_id = "";
}

/* A plain name inside the directory, never the ledger itself. */
static int
safe_entry_name (const char *file)
{
  return file != NULL && file[0] != '\0' && file[0] != '.' &&
    strchr (file, '/') == NULL;
}

/* The ledger's "created" array, or a fresh empty one when there is no
 * ledger yet.  NULL with an error when it exists and cannot be read.
 */
static json_t *
ledger_load (int dir_fd, const char *vm_dir)
{
  LOCAL_CLEANUP_CLOSE int fd = -1;
  json_t *root, *created;
  json_error_t err;
  FILE *fp;

  fd = openat (dir_fd, LOCAL_LEDGER, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd == -1) {
    if (errno == ENOENT)
      return json_array ();
    ferry_error_errno (errno, "local: open %s/%s", vm_dir, LOCAL_LEDGER);
    return NULL;
  }
  fp = fdopen (fd, "r");
  if (fp == NULL) {
    ferry_error_errno (errno, "local: fdopen %s/%s", vm_dir, LOCAL_LEDGER);
    return NULL;
  }
  fd = -1;                              /* fp owns it now */
  root = json_loadf (fp, 0, &err);
  fclose (fp);
  if (root == NULL) {
    ferry_error ("local: %s/%s: line %d: %s", vm_dir, LOCAL_LEDGER,
                 err.line, err.text);
    return NULL;
  }
  created = json_incref (json_object_get (root, "created"));
  json_decref (root);
  if (!json_is_array (created)) {
    json_decref (created);
    ferry_error ("local: %s/%s: no \"created\" array", vm_dir, LOCAL_LEDGER);
    return NULL;
  }
  return created;
}

/* Replace the ledger atomically; an empty list removes it. */
static int
ledger_store (int dir_fd, const char *vm_dir, const json_t *created)
{
  LOCAL_CLEANUP_JSON json_t *root = NULL;
  LOCAL_CLEANUP_FREE char *text = NULL;
  LOCAL_CLEANUP_CLOSE int fd = -1;
  const char *tmp = ".ferry-created.json.tmp";
  size_t len, done = 0;

  if (json_array_size (created) == 0) {
    if (unlinkat (dir_fd, LOCAL_LEDGER, 0) == -1 && errno != ENOENT) {
      ferry_error_errno (errno, "local: unlink %s/%s", vm_dir, LOCAL_LEDGER);
      return -1;
    }
    return 0;
  }
  root = json_pack ("{s:O}", "created", created);
  if (root)
    text = json_dumps (root, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
  if (text == NULL) {
    ferry_error ("local: %s/%s: out of memory", vm_dir, LOCAL_LEDGER);
    return -1;
  }
  len = strlen (text);
  fd = openat (dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
               0600);
  if (fd == -1) {
    ferry_error_errno (errno, "local: create %s/%s", vm_dir, tmp);
    return -1;
  }
  while (done < len) {
    ssize_t r = write (fd, text + done, len - done);
    if (r == -1) {
      if (errno == EINTR)
        continue;
      ferry_error_errno (errno, "local: write %s/%s", vm_dir, tmp);
      return -1;
    }
    done += (size_t) r;
  }
  if (write (fd, "\n", 1) != 1 || fsync (fd) == -1) {
    ferry_error_errno (errno, "local: write %s/%s", vm_dir, tmp);
    return -1;
  }
  if (renameat (dir_fd, tmp, dir_fd, LOCAL_LEDGER) == -1) {
    ferry_error_errno (errno, "local: rename %s/%s", vm_dir, tmp);
    return -1;
  }
  fsync (dir_fd);
  return 0;
}

static ssize_t
ledger_find (const json_t *created, const char *file)
{
  const json_t *e;
  size_t i;

  json_array_foreach (created, i, e) {
    const char *f = json_string_value (json_object_get (e, "file"));
    if (f != NULL && strcmp (f, file) == 0)
      return (ssize_t) i;
  }
  return -1;
}

static int
same_owner (const json_t *entry, const char *plan, const char *vm_id)
{
  const char *p = json_string_value (json_object_get (entry, "plan"));
  const char *v = json_string_value (json_object_get (entry, "vmId"));

  return p != NULL && v != NULL && strcmp (p, plan) == 0 &&
    strcmp (v, vm_id) == 0;
}

/* flock() that is released by close(): callers hold dir_fd open. */
static int
lock_dir (int dir_fd, const char *vm_dir)
{
  while (flock (dir_fd, LOCK_EX) == -1) {
    if (errno != EINTR) {
      ferry_error_errno (errno, "local: flock %s", vm_dir);
      return -1;
    }
  }
  return 0;
}

int
local_ledger_claim (int vm_dir_fd, const char *vm_dir, const char *file,
                    const char *plan, const char *vm_id)
{
  LOCAL_CLEANUP_JSON json_t *created = NULL;
  struct stat st;
  ssize_t idx;
  int r = -1;

  if (!safe_entry_name (file)) {
    ferry_error ("local: %s: refusing to record \"%s\" in the ledger",
                 vm_dir, file);
    return -1;
  }
  if (lock_dir (vm_dir_fd, vm_dir) == -1)
    return -1;
  created = ledger_load (vm_dir_fd, vm_dir);
  if (created == NULL)
    goto out;
  idx = ledger_find (created, file);
  if (idx >= 0) {
    if (!same_owner (json_array_get (created, (size_t) idx), plan, vm_id)) {
      ferry_error ("local: %s/%s: created by ferry for another plan or VM; refusing to overwrite it",
                   vm_dir, file);
      goto out;
    }
    r = 0;                              /* already ours: a re-run */
    goto out;
  }
  if (fstatat (vm_dir_fd, file, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    ferry_error ("local: %s/%s: already exists and ferry did not create it; refusing to overwrite it",
                 vm_dir, file);
    goto out;
  }
  if (json_array_append_new (created,
                             json_pack ("{s:s, s:s, s:s}", "file", file,
                                        "plan", plan, "vmId", vm_id)) == -1) {
    ferry_error ("local: %s/%s: out of memory", vm_dir, LOCAL_LEDGER);
    goto out;
  }
  r = ledger_store (vm_dir_fd, vm_dir, created);
 out:
  flock (vm_dir_fd, LOCK_UN);
  return r;
}

/* Clean one VM directory <ns_fd>/<name>.  Returns the number of files
 * removed, or -1.
 */
static int
cleanup_vm_dir (int ns_fd, const char *ns_path, const char *name,
                const char *plan, const char *vm_id)
{
  LOCAL_CLEANUP_JSON json_t *created = NULL;
  LOCAL_CLEANUP_JSON json_t *kept = NULL;
  LOCAL_CLEANUP_FREE char *vm_dir = NULL;
  LOCAL_CLEANUP_CLOSE int fd = -1;
  const json_t *e;
  size_t i;
  int removed = 0, r = -1;

  if (asprintf (&vm_dir, "%s/%s", ns_path, name) == -1) {
    vm_dir = NULL;
    ferry_error ("local: cleanup: out of memory");
    return -1;
  }
  fd = openat (ns_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd == -1)
    return 0;                           /* not a directory of ours */
  if (faccessat (fd, LOCAL_LEDGER, F_OK, AT_SYMLINK_NOFOLLOW) == -1)
    return 0;
  if (lock_dir (fd, vm_dir) == -1)
    return -1;
  created = ledger_load (fd, vm_dir);
  kept = json_array ();
  if (created == NULL || kept == NULL)
    goto out;
  json_array_foreach (created, i, e) {
    const char *file = json_string_value (json_object_get (e, "file"));

    if (!same_owner (e, plan, vm_id) || !safe_entry_name (file)) {
      json_array_append (kept, (json_t *) e);
      continue;
    }
    if (unlinkat (fd, file, 0) == -1 && errno != ENOENT) {
      ferry_error_errno (errno, "local: cleanup: unlink %s/%s", vm_dir, file);
      json_array_append (kept, (json_t *) e);
      continue;
    }
    ferry_debug ("local: cleanup: removed %s/%s", vm_dir, file);
    removed++;
  }
  if (ledger_store (fd, vm_dir, kept) == -1)
    goto out;
  r = removed;
 out:
  flock (fd, LOCK_UN);
  if (r >= 0 && json_array_size (kept) == 0) {
    /* Only when empty: anything else in it is not ours. */
    if (unlinkat (ns_fd, name, AT_REMOVEDIR) == -1 &&
        errno != ENOTEMPTY && errno != EEXIST && errno != ENOENT) {
      ferry_error_errno (errno, "local: cleanup: rmdir %s", vm_dir);
      r = -1;
    }
  }
  return r;
}

int
local_ledger_cleanup (struct local_handle *h, const char *plan,
                      const char *vm_id)
{
  DIR *top;
  struct dirent *d;
  int total = 0, failed = 0;

  if (plan == NULL)
    plan = "";
  if (vm_id == NULL)
    vm_id = "";
  top = opendir (h->dir);
  if (top == NULL) {
    if (errno == ENOENT)
      return 0;                         /* nothing was ever created */
    ferry_error_errno (errno, "local: cleanup: open %s", h->dir);
    return -1;
  }
  while ((d = readdir (top)) != NULL) {
    LOCAL_CLEANUP_FREE char *ns_path = NULL;
    int ns_fd;
    DIR *ns_dir;
    struct dirent *v;

    if (d->d_name[0] == '.')
      continue;
    ns_fd = openat (dirfd (top), d->d_name,
                    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (ns_fd == -1)
      continue;
    ns_dir = fdopendir (ns_fd);
    if (ns_dir == NULL) {
      close (ns_fd);
      continue;
    }
    if (asprintf (&ns_path, "%s/%s", h->dir, d->d_name) == -1) {
      ns_path = NULL;
      closedir (ns_dir);
      ferry_error ("local: cleanup: out of memory");
      closedir (top);
      return -1;
    }
    while ((v = readdir (ns_dir)) != NULL) {
      int n;
      if (v->d_name[0] == '.')
        continue;
      n = cleanup_vm_dir (dirfd (ns_dir), ns_path, v->d_name, plan, vm_id);
      if (n == -1)
        failed = 1;
      else
        total += n;
    }
    closedir (ns_dir);
  }
  closedir (top);
  ferry_debug ("local: cleanup of plan \"%s\" VM \"%s\": %d files removed",
               plan, vm_id, total);
  return failed ? -1 : 0;
}
