/* ferry local destination: volumes.
 *
 * <dir>/<namespace>/<vm>/<name>.img    raw, sparse (ferry_file_sink_open)
 * <dir>/<namespace>/<vm>/<name>.qcow2  qcow2: qemu-img create, then
 *                                      written through a spawned qemu-nbd
 *
 * Directories are created 0700, files 0600.  Every name is a DNS-1123
 * label, checked before any path is built.  External programs run with
 * posix_spawnp and an argv; no shell is involved, and paths are absolute
 * so qemu never reads a "protocol:" prefix into them.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jansson.h>

#include "ferry/error.h"
#include "ferry/log.h"
#include "ferry/transfer.h"
#include "local.h"

extern char **environ;

/* mkdir one level 0700; an existing directory is fine. */
static int
mkdir_at (int parent_fd, const char *name, const char *path, int create)
{
  struct stat st;

  if (create && mkdirat (parent_fd, name, 0700) == 0)
    return 0;
  if (create && errno != EEXIST) {
    ferry_error_errno (errno, "local: mkdir %s", path);
    return -1;
  }
  if (fstatat (parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
    ferry_error_errno (errno, "local: %s", path);
    return -1;
  }
  if (!S_ISDIR (st.st_mode)) {
    ferry_error ("local: %s: exists and is not a directory", path);
    return -1;
  }
  return 0;
}

/* mkdir -p of the destination directory itself (the user's path; it may
 * go through symlinks, so it is not opened O_NOFOLLOW).
 */
int
local_mkdir_root (const char *dir)
{
  LOCAL_CLEANUP_FREE char *copy = strdup (dir);
  char *p;

  if (copy == NULL) {
    ferry_error ("local: out of memory");
    return -1;
  }
  for (p = copy + 1; ; ++p) {
    if (*p == '/' || *p == '\0') {
      char c = *p;
      *p = '\0';
      if (mkdir (copy, 0700) == -1 && errno != EEXIST) {
        ferry_error_errno (errno, "local: cannot create directory %s", copy);
        return -1;
      }
      *p = c;
      if (c == '\0')
        break;
    }
  }
  return 0;
}

int
local_open_vm_dir (struct local_handle *h, const char *ns, const char *vm,
                   int create)
{
  LOCAL_CLEANUP_FREE char *ns_path = NULL;
  LOCAL_CLEANUP_FREE char *vm_path = NULL;
  LOCAL_CLEANUP_CLOSE int root_fd = -1;
  LOCAL_CLEANUP_CLOSE int ns_fd = -1;
  int fd;

  if (asprintf (&ns_path, "%s/%s", h->dir, ns) == -1 ||
      asprintf (&vm_path, "%s/%s/%s", h->dir, ns, vm) == -1) {
    ferry_error ("local: out of memory");
    return -1;
  }
  if (create && local_mkdir_root (h->dir) == -1)
    return -1;
  root_fd = open (h->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root_fd == -1) {
    ferry_error_errno (errno, "local: open %s", h->dir);
    return -1;
  }
  if (mkdir_at (root_fd, ns, ns_path, create) == -1)
    return -1;
  ns_fd = openat (root_fd, ns, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (ns_fd == -1) {
    ferry_error_errno (errno, "local: open %s", ns_path);
    return -1;
  }
  if (mkdir_at (ns_fd, vm, vm_path, create) == -1)
    return -1;
  fd = openat (ns_fd, vm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd == -1) {
    ferry_error_errno (errno, "local: open %s", vm_path);
    return -1;
  }
  return fd;
}

/* Run argv (no shell) and wait.  On failure the error carries the first
 * line of the program's stderr.
 */
static int
run_command (const char *const *argv)
{
  posix_spawn_file_actions_t fa;
  int pipefd[2];
  char msg[1024];
  size_t got = 0;
  pid_t pid;
  int status, err;

  if (pipe2 (pipefd, O_CLOEXEC) == -1) {
    ferry_error_errno (errno, "local: pipe for %s", argv[0]);
    return -1;
  }
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_addopen (&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen (&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2 (&fa, pipefd[1], 2);
  err = posix_spawnp (&pid, argv[0], &fa, NULL, (char *const *) argv, environ);
  posix_spawn_file_actions_destroy (&fa);
  close (pipefd[1]);
  if (err != 0) {
    close (pipefd[0]);
    ferry_error_errno (err, "local: cannot run %s", argv[0]);
    return -1;
  }
  for (;;) {
    ssize_t r = read (pipefd[0], msg + got, sizeof msg - 1 - got);
    if (r == -1 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    got += (size_t) r;
    if (got == sizeof msg - 1) {
      char sink[256];                   /* drain so the child never blocks */
      while (read (pipefd[0], sink, sizeof sink) > 0)
        ;
      break;
    }
  }
  close (pipefd[0]);
  msg[got] = '\0';
  msg[strcspn (msg, "\n")] = '\0';
  while (waitpid (pid, &status, 0) == -1) {
    if (errno != EINTR) {
      ferry_error_errno (errno, "local: waitpid %s", argv[0]);
      return -1;
    }
  }
  if (WIFEXITED (status) && WEXITSTATUS (status) == 0)
    return 0;
  if (WIFEXITED (status))
    ferry_error ("local: %s exited with status %d: %s", argv[0],
                 WEXITSTATUS (status), msg[0] ? msg : "(no message)");
  else
    ferry_error ("local: %s killed by signal %d", argv[0],
                 WIFSIGNALED (status) ? WTERMSIG (status) : 0);
  return -1;
}

/* Create (or empty) the file 0600, without following a symlink. */
static int
create_empty (int dir_fd, const char *file, const char *path)
{
  int fd = openat (dir_fd, file,
                   O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);

  if (fd == -1) {
    ferry_error_errno (errno, "local: create %s", path);
    return -1;
  }
  if (fchmod (fd, 0600) == -1) {
    ferry_error_errno (errno, "local: chmod %s", path);
    close (fd);
    return -1;
  }
  close (fd);
  return 0;
}

/* What a volume object names: checked names, format, capacity, owner,
 * and the file's paths.  The strings are borrowed from volume except
 * file, vm_dir and path, which vol_clear frees.
 */
struct local_vol {
  const char *name, *ns, *vm, *format, *plan, *vm_id;
  uint64_t capacity;                    /* bytes */
  char *file, *vm_dir, *path;
};

static void
vol_clear (struct local_vol *v)
{
  free (v->file);
  free (v->vm_dir);
  free (v->path);
}

static int
vol_parse (struct local_handle *h, const char *op, const json_t *volume,
           struct local_vol *v)
{
  const json_t *cap;

  *v = (struct local_vol) { 0 };
  if (!json_is_object (volume)) {
    ferry_error ("local: %s: the volume is not an object", op);
    return -1;
  }
  v->name = json_string_value (json_object_get (volume, "name"));
  v->ns = json_string_value (json_object_get (volume, "namespace"));
  v->vm = json_string_value (json_object_get (volume, "vm"));
  if (v->ns == NULL || v->ns[0] == '\0')
    v->ns = "default";
  if (local_check_name ("volume name", v->name) == -1 ||
      local_check_name ("namespace", v->ns) == -1 ||
      local_check_name ("VM name", v->vm) == -1)
    return -1;
  v->format = local_volume_format (volume);
  if (v->format == NULL)
    return -1;
  cap = json_object_get (volume, "capacity");
  if (!json_is_integer (cap) || json_integer_value (cap) <= 0) {
    ferry_error ("local: volume %s/%s: capacity missing or not a positive integer (bytes)",
                 v->ns, v->name);
    return -1;
  }
  v->capacity = (uint64_t) json_integer_value (cap);
  local_owner (volume, &v->plan, &v->vm_id);
  if (asprintf (&v->file, "%s.%s", v->name, local_format_extension (v->format)) == -1 ||
      asprintf (&v->vm_dir, "%s/%s/%s", h->dir, v->ns, v->vm) == -1 ||
      asprintf (&v->path, "%s/%s", v->vm_dir, v->file) == -1) {
    ferry_error ("local: out of memory");
    return -1;
  }
  return 0;
}

struct ferry_volume_sink *
local_volume_create (void *handle, const json_t *volume)
{
  struct local_handle *h = handle;
  struct local_vol v __attribute__((cleanup (vol_clear)));
  LOCAL_CLEANUP_CLOSE int dir_fd = -1;
  struct ferry_volume_sink *sink;

  if (vol_parse (h, "volume_create", volume, &v) == -1)
    return NULL;
  dir_fd = local_open_vm_dir (h, v.ns, v.vm, 1);
  if (dir_fd == -1)
    return NULL;
  if (local_ledger_claim (dir_fd, v.vm_dir, v.file, v.plan, v.vm_id) == -1)
    return NULL;
  /* Emptied first: a re-run must not find old data where holes belong. */
  if (create_empty (dir_fd, v.file, v.path) == -1)
    return NULL;

  if (strcmp (v.format, "raw") == 0) {
    sink = ferry_file_sink_open (v.path, v.capacity, FERRY_FILE_SINK_TRUNCATE);
    if (sink == NULL)
      ferry_error_prefix ("local: volume %s/%s", v.ns, v.name);
  }
  else {
    char size[32];
    const char *create[] = {
      "qemu-img", "create", "-q", "-f", "qcow2", v.path, size, NULL,
    };
    const char *serve[] = { "qemu-nbd", "-f", "qcow2", v.path, NULL };

    snprintf (size, sizeof size, "%" PRIu64, v.capacity);
    if (run_command (create) == -1)
      return NULL;
    if (fchmodat (dir_fd, v.file, 0600, 0) == -1) {
      ferry_error_errno (errno, "local: chmod %s", v.path);
      return NULL;
    }
    sink = ferry_nbd_sink_spawn (serve);
    if (sink == NULL)
      ferry_error_prefix ("local: volume %s/%s", v.ns, v.name);
  }
  if (sink != NULL)
    ferry_debug ("local: volume %s created (%s, %" PRIu64 " bytes)",
                 v.path, v.format, v.capacity);
  return sink;
}

/* The volume file that volume_create made, opened again for random-access
 * writes with its content kept (warm migration's precopies, a resumed
 * run).  Only a file the ledger lists for the same plan and VM.
 */
struct ferry_volume_sink *
local_volume_open (void *handle, const json_t *volume)
{
  struct local_handle *h = handle;
  struct local_vol v __attribute__((cleanup (vol_clear)));
  LOCAL_CLEANUP_CLOSE int dir_fd = -1;
  struct ferry_volume_sink *sink;
  struct stat st;

  if (vol_parse (h, "volume_open", volume, &v) == -1)
    return NULL;
  dir_fd = local_open_vm_dir (h, v.ns, v.vm, 0);
  if (dir_fd == -1) {
    ferry_error_prefix ("local: volume %s/%s has not been created", v.ns, v.name);
    return NULL;
  }
  if (fstatat (dir_fd, v.file, &st, AT_SYMLINK_NOFOLLOW) == -1) {
    ferry_error_errno (errno, "local: volume %s/%s: %s", v.ns, v.name, v.path);
    return NULL;
  }
  if (!S_ISREG (st.st_mode)) {
    ferry_error ("local: volume %s/%s: %s is not a regular file", v.ns, v.name, v.path);
    return NULL;
  }
  /* Refuses a file that was not created for this plan and VM. */
  if (local_ledger_claim (dir_fd, v.vm_dir, v.file, v.plan, v.vm_id) == -1)
    return NULL;
  if (strcmp (v.format, "raw") == 0)
    sink = ferry_file_sink_open (v.path, v.capacity, 0);
  else {
    const char *serve[] = { "qemu-nbd", "-f", "qcow2", v.path, NULL };
    sink = ferry_nbd_sink_spawn (serve);
  }
  if (sink == NULL)
    ferry_error_prefix ("local: volume %s/%s", v.ns, v.name);
  else
    ferry_debug ("local: volume %s opened (%s)", v.path, v.format);
  return sink;
}

/* guest conversion: the volume's file, which must exist and be listed in
 * the ledger for the same plan and VM (ImageConversion works on it).
 */
char *
local_volume_path (void *handle, const json_t *volume)
{
  struct local_handle *h = handle;
  struct local_vol v __attribute__((cleanup (vol_clear)));
  LOCAL_CLEANUP_CLOSE int dir_fd = -1;
  struct stat st;

  if (vol_parse (h, "volume_path", volume, &v) == -1)
    return NULL;
  dir_fd = local_open_vm_dir (h, v.ns, v.vm, 0);
  if (dir_fd == -1 || fstatat (dir_fd, v.file, &st, AT_SYMLINK_NOFOLLOW) == -1
      || !S_ISREG (st.st_mode)) {
    ferry_error ("local: volume %s/%s: %s is not a regular file; copy the disk first",
                 v.ns, v.name, v.path);
    return NULL;
  }
  if (local_ledger_claim (dir_fd, v.vm_dir, v.file, v.plan, v.vm_id) == -1)
    return NULL;
  char *path = v.path;
  v.path = NULL;
  return path;
}
