/* ferry core: running PreHook and PostHook locally (see hooks.h). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "hooks.h"
#include "manifest.h"

#define HOOK_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define HOOK_RETRY_PAUSE_MS 1000

const json_t *
ferry_internal_hook_ref (const json_t *plan_vm, const char *step)
{
  const json_t *h;
  size_t i;

  json_array_foreach (json_object_get (plan_vm, "hooks"), i, h) {
    const char *s = json_string_value (json_object_get (h, "step"));
    if (s && strcmp (s, step) == 0)
      return h;
  }
  return NULL;
}

static int
retries_setting (void)
{
  const char *e = getenv ("FERRY_HOOK_RETRIES");
  char *end;

  if (!e || !*e)
    return FERRY_HOOK_RETRIES_DEFAULT;
  errno = 0;
  long n = strtol (e, &end, 10);
  if (errno || *end || n < 0 || n > 100) {
    ferry_warn ("FERRY_HOOK_RETRIES='%s' is not a number from 0 to 100; using %d",
                e, FERRY_HOOK_RETRIES_DEFAULT);
    return FERRY_HOOK_RETRIES_DEFAULT;
  }
  return (int) n;
}

/* Write len bytes of buf to dir/name, mode 0600. */
static int
write_file (const char *dir, const char *name, const char *buf, size_t len)
{
  CLEANUP_FREE char *path = NULL;
  if (asprintf (&path, "%s/%s", dir, name) == -1) {
    ferry_error_errno (errno, "hook: %s", name);
    return -1;
  }
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd == -1) {
    ferry_error_errno (errno, "hook: create %s", path);
    return -1;
  }
  while (len > 0) {
    ssize_t n = write (fd, buf, len);
    if (n == -1 && errno == EINTR)
      continue;
    if (n == -1) {
      ferry_error_errno (errno, "hook: write %s", path);
      close (fd);
      return -1;
    }
    buf += n;
    len -= (size_t) n;
  }
  if (close (fd) == -1) {
    ferry_error_errno (errno, "hook: write %s", path);
    return -1;
  }
  return 0;
}

static int
write_yaml (const char *dir, const char *name, const json_t *v)
{
  CLEANUP_FREE char *y = ferry_to_yaml (v);
  if (!y)
    return -1;
  return write_file (dir, name, y, strlen (y));
}

static int
remove_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void) st; (void) flag; (void) ftw;
  if (remove (path) == -1)
    ferry_warn ("hook: remove %s: %s", path, strerror (errno));
  return 0;
}

/* Remove the hook's directory and whatever the hook left in it. */
static void
remove_tree (const char *dir)
{
  nftw (dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* An executable named prog in PATH (the caller's), or NULL.  Caller frees. */
static char *
find_in_path (const char *prog)
{
  const char *path = getenv ("PATH");
  CLEANUP_FREE char *copy = strdup (path && *path ? path : HOOK_PATH);
  char *save = NULL;

  if (!copy)
    return NULL;
  for (char *d = strtok_r (copy, ":", &save); d; d = strtok_r (NULL, ":", &save)) {
    char *p = NULL;
    if (*d != '/' || asprintf (&p, "%s/%s", d, prog) == -1)
      continue;
    if (access (p, X_OK) == 0)
      return p;
    free (p);
  }
  return NULL;
}

/* Where output lines go. */
struct hook_log {
  const char *kind, *ns, *name, *step;
};

/* An output line of the hook, to the VM's log. */
static void
log_line (void *opaque, const char *line)
{
  const struct hook_log *log = opaque;
  ferry_log_object (FERRY_LOG_INFO, log->kind, log->ns, log->name,
                    "%s: %s", log->step, line);
}

/* How one attempt ended. */
struct attempt_result {
  bool timed_out;                       /* killed at the deadline */
  bool stopped;                         /* killed because a stop flag was set */
  int status;                           /* waitpid status otherwise */
};

/* Run argv once in dir, until it exits or until deadline (monotonic ms,
 * 0: none).  0 when it ran (see res), -1 when it could not be started.
 */
static int
run_attempt (char *const argv[], char *const envp[], const char *dir,
             int64_t deadline, const volatile int *const *stop,
             const struct hook_log *log, struct attempt_result *res)
{
  int fds[2];

  memset (res, 0, sizeof *res);
  int devnull = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull == -1) {
    ferry_error_errno (errno, "hook: open /dev/null");
    return -1;
  }
  if (pipe2 (fds, O_CLOEXEC) == -1) {
    ferry_error_errno (errno, "hook: pipe");
    close (devnull);
    return -1;
  }
  pid_t pid = fork ();
  if (pid == -1) {
    ferry_error_errno (errno, "hook: fork");
    close (devnull);
    close (fds[0]);
    close (fds[1]);
    return -1;
  }
  if (pid == 0) {
    /* Child: only async-signal-safe calls from here to execve. */
    sigset_t none;
    sigemptyset (&none);
    sigprocmask (SIG_SETMASK, &none, NULL);
    signal (SIGPIPE, SIG_DFL);
    setpgid (0, 0);
    if (chdir (dir) == -1
        || dup2 (devnull, STDIN_FILENO) == -1
        || dup2 (fds[1], STDOUT_FILENO) == -1
        || dup2 (fds[1], STDERR_FILENO) == -1)
      _exit (126);
    /* Descriptors other threads opened without O_CLOEXEC stay here. */
    closefrom (STDERR_FILENO + 1);
    execve (argv[0], argv, envp);
    _exit (127);
  }
  setpgid (pid, pid);                   /* also here: no race with kill below */
  close (devnull);
  close (fds[1]);
  struct ferry_child_end end;
  ferry_internal_child_pump (pid, fds[0], deadline, stop, log_line,
                             (void *) log, &end);
  res->status = end.wait_status;
  res->stopped = end.stopped;
  res->timed_out = end.timed_out;
  return 0;
}

static void
describe_status (int st, char *buf, size_t len)
{
  if (WIFEXITED (st)) {
    int code = WEXITSTATUS (st);
    snprintf (buf, len, "exited with status %d%s", code,
              code == 126 ? " (could not enter its directory)"
              : code == 127 ? " (could not be executed)" : "");
  }
  else if (WIFSIGNALED (st))
    snprintf (buf, len, "was killed by signal %d (%s)", WTERMSIG (st),
              strsignal (WTERMSIG (st)));
  else
    snprintf (buf, len, "ended with wait status 0x%x", (unsigned) st);
}

int
ferry_internal_hook_run (struct ferry *f, const json_t *plan,
                         const json_t *plan_vm, const json_t *workload,
                         const char *step, const char *log_kind,
                         const char *log_ns, const char *log_name)
{
  return ferry_internal_hook_run_stoppable (f, plan, plan_vm, workload, step,
                                            log_kind, log_ns, log_name, NULL);
}

int
ferry_internal_hook_run_stoppable (struct ferry *f, const json_t *plan,
                                   const json_t *plan_vm, const json_t *workload,
                                   const char *step, const char *log_kind,
                                   const char *log_ns, const char *log_name,
                                   const volatile int *const *stop)
{
  const json_t *ref = ferry_internal_hook_ref (plan_vm, step);
  if (!ref)
    return 0;

  const json_t *pmeta = json_object_get (plan, "metadata");
  const char *plan_ns = json_string_value (json_object_get (pmeta, "namespace"));
  const char *vm = json_string_value (json_object_get (workload, "name"));
  if (!vm)
    vm = json_string_value (json_object_get (plan_vm, "name"));
  if (!vm)
    vm = json_string_value (json_object_get (plan_vm, "id"));
  if (!vm)
    vm = "(unnamed)";
  const json_t *href = json_object_get (ref, "hook");
  const char *hname = json_string_value (json_object_get (href, "name"));
  const char *hns = json_string_value (json_object_get (href, "namespace"));
  if (!hns)
    hns = plan_ns ? plan_ns : "default";
  if (!hname) {
    ferry_error ("%s of VM %s names no Hook", step, vm);
    return -1;
  }
  CLEANUP_FREE char *log_path = ferry_log_path (f, log_kind, log_ns, log_name);
  if (!log_path)
    return -1;

  struct ferry_store_row row = { 0 };
  int r = ferry_internal_store_get (f->store, "Hook", hns, hname, &row);
  if (r != 1) {
    if (r == 0)
      ferry_error ("%s hook %s/%s of VM %s: the Hook does not exist", step, hns, hname, vm);
    ferry_internal_store_row_clear (&row);
    return -1;
  }
  CLEANUP_JSON_DECREF json_t *hspec = json_incref (row.spec);
  ferry_internal_store_row_clear (&row);
  const char *image = json_string_value (json_object_get (hspec, "image"));
  const char *playbook = json_string_value (json_object_get (hspec, "playbook"));
  const char *sa = json_string_value (json_object_get (hspec, "serviceAccount"));
  json_int_t deadline_s = json_integer_value (json_object_get (hspec, "deadline"));
  if (playbook && !*playbook)
    playbook = NULL;

  /* Choose how it runs before writing anything. */
  CLEANUP_FREE char *program = NULL;
  bool use_image = image && image[0] == '/' && access (image, X_OK) == 0;
  if (use_image) {
    struct stat sb;
    use_image = stat (image, &sb) == 0 && S_ISREG (sb.st_mode);
  }
  if (use_image)
    program = strdup (image);
  else if (playbook) {
    program = find_in_path ("ansible-playbook");
    if (!program) {
      ferry_error ("%s hook %s/%s of VM %s has a playbook, but ansible-playbook is not "
                   "installed (install ansible-core), and its image '%s' is not a local executable",
                   step, hns, hname, vm, image ? image : "");
      return -1;
    }
  }
  else {
    ferry_error ("%s hook %s/%s of VM %s cannot run here: it has no playbook and its "
                 "image '%s' is not an absolute path to a local executable",
                 step, hns, hname, vm, image ? image : "");
    return -1;
  }
  if (!program) {
    ferry_error_errno (errno, "%s hook %s/%s", step, hns, hname);
    return -1;
  }

  CLEANUP_FREE unsigned char *pb = NULL;
  size_t pb_len = 0;
  if (playbook) {
    pb = ferry_internal_base64_decode (playbook, strlen (playbook), &pb_len);
    if (!pb) {
      ferry_error ("%s hook %s/%s of VM %s: spec.playbook is not valid base64",
                   step, hns, hname, vm);
      return -1;
    }
  }

  /* The hook's private directory. */
  const char *tmp = getenv ("TMPDIR");
  CLEANUP_FREE char *dir = NULL;
  if (asprintf (&dir, "%s/ferry-hook-XXXXXX", tmp && *tmp ? tmp : "/tmp") == -1) {
    ferry_error_errno (errno, "%s hook %s/%s", step, hns, hname);
    return -1;
  }
  if (!mkdtemp (dir)) {
    ferry_error_errno (errno, "%s hook %s/%s: create a directory from %s", step, hns, hname, dir);
    return -1;
  }
  /* Declared before the first goto: cleanup runs on every way out. */
  CLEANUP_FREE char *e_home = NULL, *e_tmp = NULL, *e_step = NULL, *e_dir = NULL;
  int ret = -1;
  CLEANUP_JSON_DECREF json_t *plan_doc =
    json_pack ("{s:s, s:s, s:O*, s:O*}", "apiVersion", "forklift.konveyor.io/v1beta1",
               "kind", "Plan", "metadata", pmeta, "spec", json_object_get (plan, "spec"));
  if (!plan_doc) {
    ferry_error ("%s hook %s/%s: out of memory", step, hns, hname);
    goto out;
  }
  if (write_yaml (dir, "plan.yml", plan_doc) == -1
      || write_yaml (dir, "workload.yml", workload) == -1
      || (pb && write_file (dir, "playbook.yml", (const char *) pb, pb_len) == -1)) {
    ferry_error_prefix ("%s hook %s/%s of VM %s", step, hns, hname, vm);
    goto out;
  }

  if (asprintf (&e_home, "HOME=%s", dir) == -1
      || asprintf (&e_tmp, "TMPDIR=%s", dir) == -1
      || asprintf (&e_step, "FERRY_HOOK_STEP=%s", step) == -1
      || asprintf (&e_dir, "FERRY_HOOK_DIR=%s", dir) == -1) {
    ferry_error_errno (errno, "%s hook %s/%s", step, hns, hname);
    goto out;
  }
  char *envp[] = {
    (char *) "PATH=" HOOK_PATH, e_home, e_tmp, (char *) "LANG=C.UTF-8",
    (char *) "LC_ALL=C.UTF-8", (char *) "ANSIBLE_NOCOLOR=1", e_step, e_dir, NULL,
  };
  char *img_argv[] = { program, dir, NULL };
  char *ans_argv[] = { program, (char *) "-i", (char *) "localhost,", (char *) "-c",
                       (char *) "local", (char *) "playbook.yml", NULL };
  char *const *argv = use_image ? img_argv : ans_argv;

  struct hook_log log = { log_kind, log_ns, log_name, step };
  int retries = retries_setting ();
  int64_t deadline = deadline_s > 0 ? ferry_internal_monotonic_ms () + (int64_t) deadline_s * 1000 : 0;
  struct attempt_result res = { 0 };
  char how[128] = "", limit[64] = "none";
  int attempt;

  if (deadline_s > 0)
    snprintf (limit, sizeof limit, "%" PRId64 " s", (int64_t) deadline_s);
  ferry_log_object (FERRY_LOG_INFO, log_kind, log_ns, log_name,
                    "%s: hook %s/%s: running %s%s%s (deadline %s, up to %d attempts)",
                    step, hns, hname, program, use_image ? "" : " on the playbook",
                    sa ? " (serviceAccount is not used locally)" : "",
                    limit, retries + 1);
  for (attempt = 1; attempt <= retries + 1; attempt++) {
    if (ferry_internal_stop_requested (stop)) {
      res.stopped = true;
      break;
    }
    if (run_attempt (argv, envp, dir, deadline, stop, &log, &res) == -1) {
      ferry_error_prefix ("%s hook %s/%s of VM %s", step, hns, hname, vm);
      goto out;
    }
    if (res.timed_out || res.stopped)
      break;
    if (WIFEXITED (res.status) && WEXITSTATUS (res.status) == 0) {
      ferry_log_object (FERRY_LOG_INFO, log_kind, log_ns, log_name,
                        "%s: hook %s/%s succeeded (attempt %d)", step, hns, hname, attempt);
      ret = 0;
      goto out;
    }
    describe_status (res.status, how, sizeof how);
    ferry_log_object (FERRY_LOG_WARN, log_kind, log_ns, log_name,
                      "%s: hook %s/%s %s (attempt %d of %d)", step, hns, hname, how,
                      attempt, retries + 1);
    if (attempt <= retries) {
      int64_t pause = HOOK_RETRY_PAUSE_MS;
      if (deadline && deadline - ferry_internal_monotonic_ms () < pause)
        pause = deadline - ferry_internal_monotonic_ms ();
      if (pause > 0) {
        struct timespec ts = { pause / 1000, (pause % 1000) * 1000000 };
        while (nanosleep (&ts, &ts) == -1 && errno == EINTR)
          ;
      }
      if (deadline && ferry_internal_monotonic_ms () >= deadline) {
        res.timed_out = true;
        break;
      }
    }
  }
  if (res.stopped) {
    ferry_log_object (FERRY_LOG_WARN, log_kind, log_ns, log_name,
                      "%s: hook %s/%s stopped: the VM is canceled or ferry is stopping",
                      step, hns, hname);
    ferry_error ("%s hook %s/%s of VM %s was stopped: the VM is canceled or ferry is stopping",
                 step, hns, hname, vm);
  }
  else if (res.timed_out) {
    ferry_log_object (FERRY_LOG_WARN, log_kind, log_ns, log_name,
                      "%s: hook %s/%s exceeded its deadline of %" PRId64 " s: killed",
                      step, hns, hname, (int64_t) deadline_s);
    ferry_error ("%s hook %s/%s of VM %s exceeded its deadline of %" PRId64
                 " s and was killed (log: %s)",
                 step, hns, hname, vm, (int64_t) deadline_s, log_path);
  }
  else
    ferry_error ("%s hook %s/%s of VM %s failed: it %s, after %d attempt%s (log: %s)",
                 step, hns, hname, vm, how, attempt - 1, attempt - 1 == 1 ? "" : "s",
                 log_path);

 out:
  remove_tree (dir);
  return ret;
}
