/* ferry core: guest conversion with virt-v2v-in-place (conversion.h):
 * which sources need it, finding the tool, the domain XML it reads, running
 * it (and qemu-img) with a deadline, and reading what it says.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ferry/vmspec.h"
#include "child.h"
#include "conversion.h"
#include "instance.h"

extern char **environ;

/* ---- Which sources ---------------------------------------------------- */

/* Provider types whose guests come from another hypervisor. */
static const char *const converted_types[] = {
  "vsphere",
  "ova",
  "null",                               /* ferry's simulator of such a source */
};

bool
ferry_internal_conversion_needed (const char *provider_type)
{
  if (!provider_type)
    return false;
  for (size_t i = 0; i < sizeof converted_types / sizeof converted_types[0]; i++)
    if (strcmp (provider_type, converted_types[i]) == 0)
      return true;
  return false;
}

bool
ferry_internal_conversion_planned (const json_t *plan_spec,
                                   const char *provider_type)
{
  return ferry_internal_conversion_needed (provider_type)
    && !json_is_true (json_object_get (plan_spec, "skipGuestConversion"));
}

/* ---- The tool ----------------------------------------------------------- */

static bool
is_executable_file (const char *path)
{
  struct stat st;
  return stat (path, &st) == 0 && S_ISREG (st.st_mode) && access (path, X_OK) == 0;
}

/* name (no '/') searched in $PATH: the absolute path, or NULL. */
static char *
find_in_path (const char *name)
{
  const char *path = getenv ("PATH");
  if (!path || !*path)
    path = "/usr/local/bin:/usr/bin:/bin";
  while (*path) {
    size_t len = strcspn (path, ":");
    char *cand = NULL;
    if (asprintf (&cand, "%.*s/%s", (int) len, len ? path : ".", name) == -1)
      return NULL;
    if (is_executable_file (cand)) {
      char *abs = realpath (cand, NULL);
      free (cand);
      return abs;
    }
    free (cand);
    path += len;
    if (*path == ':')
      path++;
  }
  return NULL;
}

char *
ferry_internal_conversion_tool (void)
{
  const char *over = getenv ("FERRY_VIRT_V2V_IN_PLACE");
  char *found;

  if (over && *over) {
    found = strchr (over, '/') ? (is_executable_file (over) ? realpath (over, NULL) : NULL)
                               : find_in_path (over);
    if (!found)
      ferry_error ("FERRY_VIRT_V2V_IN_PLACE=%s is not an executable file: point it at "
                   "virt-v2v-in-place, or unset it to use the one in PATH", over);
    return found;
  }
  found = find_in_path (FERRY_CONVERSION_TOOL);
  if (!found)
    ferry_error (FERRY_CONVERSION_TOOL " was not found in PATH (%s): install virt-v2v "
                 "(Debian/Ubuntu: apt-get install virt-v2v linux-image-amd64; "
                 "Fedora/RHEL: dnf install virt-v2v) or set FERRY_VIRT_V2V_IN_PLACE "
                 "to its path",
                 getenv ("PATH") ? getenv ("PATH") : "unset");
  return found;
}

char *
ferry_internal_conversion_program (const char *name)
{
  char *found = find_in_path (name);
  if (!found)
    ferry_error ("%s was not found in PATH (%s): install it (Debian: qemu-utils)",
                 name, getenv ("PATH") ? getenv ("PATH") : "unset");
  return found;
}

char *
ferry_internal_conversion_unavailable (const json_t *plan_spec,
                                       const struct ferry_instance *source,
                                       const struct ferry_instance *destination)
{
  char *msg = NULL;
  int r = 0;

  if (!source || !ferry_internal_conversion_planned (plan_spec, source->type))
    return NULL;
  if (destination && !destination->destination->volume_path)
    r = asprintf (&msg, "Guest conversion (virt-v2v-in-place) of the %s provider's VMs needs "
                  "the copied volumes as local files, which destination provider %s/%s "
                  "(type %s) does not have: set spec.skipGuestConversion: true for a raw "
                  "copy, or use a destination with local volumes (type local).",
                  source->type, destination->ns, destination->name, destination->type);
  else {
    char *tool = ferry_internal_conversion_tool ();
    if (tool) {
      free (tool);
      return NULL;
    }
    r = asprintf (&msg, "Guest conversion of the %s provider's VMs is not available: %s; "
                  "or set spec.skipGuestConversion: true for a raw copy.",
                  source->type, ferry_get_error ());
  }
  return r == -1 ? NULL : msg;
}

int64_t
ferry_internal_conversion_timeout (void)
{
  const char *s = getenv ("FERRY_CONVERSION_TIMEOUT");
  if (!s || !*s)
    return FERRY_CONVERSION_TIMEOUT_DEFAULT;
  char *end;
  errno = 0;
  long long v = strtoll (s, &end, 10);
  if (errno || *end || v < 0) {
    ferry_error ("FERRY_CONVERSION_TIMEOUT=%s: not a number of seconds (0: no limit)", s);
    return -1;
  }
  return (int64_t) v;
}

/* ---- The domain XML ---------------------------------------------------- */

/* Append s to *buf, XML-escaped for text and attribute values. */
static int
append_escaped (char **buf, size_t *len, const char *s)
{
  for (; *s; s++) {
    const char *rep = NULL;
    switch (*s) {
    case '&': rep = "&amp;"; break;
    case '<': rep = "&lt;"; break;
    case '>': rep = "&gt;"; break;
    case '\'': rep = "&apos;"; break;
    case '"': rep = "&quot;"; break;
    }
    size_t n = rep ? strlen (rep) : 1;
    char *nb = realloc (*buf, *len + n + 1);
    if (!nb)
      return -1;
    *buf = nb;
    memcpy (*buf + *len, rep ? rep : s, n);
    *len += n;
    (*buf)[*len] = '\0';
  }
  return 0;
}

static int
append (char **buf, size_t *len, const char *fs, ...)
  __attribute__((format (printf, 3, 4)));

static int
append (char **buf, size_t *len, const char *fs, ...)
{
  va_list ap;
  char *s;
  va_start (ap, fs);
  int r = vasprintf (&s, fs, ap);
  va_end (ap);
  if (r == -1)
    return -1;
  char *nb = realloc (*buf, *len + (size_t) r + 1);
  if (!nb) {
    free (s);
    return -1;
  }
  *buf = nb;
  memcpy (*buf + *len, s, (size_t) r + 1);
  *len += (size_t) r;
  free (s);
  return 0;
}

/* "sda" .. "sdz", "sdaa" ...: the target name of disk i. */
static void
disk_target (size_t i, char *out, size_t outlen)
{
  char rev[8];
  size_t n = 0;
  i++;
  while (i > 0 && n < sizeof rev) {
    i--;
    rev[n++] = (char) ('a' + i % 26);
    i /= 26;
  }
  size_t o = 0;
  out[o++] = 's';
  out[o++] = 'd';
  while (n > 0 && o + 1 < outlen)
    out[o++] = rev[--n];
  out[o] = '\0';
}

static json_int_t
spec_int (const json_t *obj, const char *key, json_int_t dflt)
{
  json_t *v = json_object_get (obj, key);
  return json_is_integer (v) && json_integer_value (v) > 0 ? json_integer_value (v) : dflt;
}

char *
ferry_internal_conversion_domain_xml (const json_t *spec, const char *const *disks)
{
  const char *name = json_string_value (json_object_get (spec, FERRY_VMSPEC_NAME));
  const char *fw = json_string_value (json_object_get (spec, FERRY_VMSPEC_FIRMWARE));
  const json_t *cpu = json_object_get (spec, FERRY_VMSPEC_CPU);
  json_int_t mem = spec_int (spec, FERRY_VMSPEC_MEMORY_MB, 1024);
  json_int_t vcpus = spec_int (cpu, "sockets", 1) * spec_int (cpu, "cores", 1)
    * spec_int (cpu, "threads", 1);
  bool efi = fw && strcmp (fw, "efi") == 0;
  char *buf = NULL;
  size_t len = 0;
  int r = 0;

  if (!name || !*name) {
    ferry_error ("conversion: the VM spec has no name");
    return NULL;
  }
  if (!disks || !disks[0]) {
    ferry_error ("conversion: VM %s has no disks to convert", name);
    return NULL;
  }
  r |= append (&buf, &len, "<domain type='kvm'>\n  <name>");
  r |= append_escaped (&buf, &len, name);
  r |= append (&buf, &len, "</name>\n  <memory unit='MiB'>%lld</memory>\n"
               "  <vcpu>%lld</vcpu>\n  <os>\n    <type arch='x86_64'>hvm</type>\n%s"
               "  </os>\n  <features><acpi/><apic/></features>\n  <devices>\n",
               (long long) mem, (long long) vcpus,
               efi ? "    <loader type='pflash' readonly='yes'/>\n" : "");
  for (size_t i = 0; disks[i] && r == 0; i++) {
    char dev[16];
    disk_target (i, dev, sizeof dev);
    r |= append (&buf, &len, "    <disk type='file' device='disk'>\n"
                 "      <driver name='qemu' type='qcow2'/>\n      <source file='");
    r |= append_escaped (&buf, &len, disks[i]);
    r |= append (&buf, &len, "'/>\n      <target dev='%s' bus='scsi'/>\n    </disk>\n", dev);
  }
  r |= append (&buf, &len, "  </devices>\n</domain>\n");
  if (r != 0) {
    free (buf);
    ferry_error ("conversion: VM %s: out of memory", name);
    return NULL;
  }
  return buf;
}

/* ---- Running a tool ---------------------------------------------------- */

/* An output line of the tool, to cmd->on_line. */
static void
pass_line (void *opaque, const char *line)
{
  const struct ferry_conversion_cmd *cmd = opaque;
  if (cmd->on_line)
    cmd->on_line (cmd->opaque, line);
}

/* environ with cmd->env set over it.  Caller frees the array (not the
 * strings, which are borrowed).
 */
static char **
make_env (const char *const *extra)
{
  size_t n = 0, m = 0;
  while (environ[n])
    n++;
  while (extra && extra[m])
    m++;
  char **envp = calloc (n + m + 1, sizeof *envp);
  if (!envp)
    return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    bool replaced = false;
    for (size_t j = 0; j < m; j++) {
      size_t nl = strcspn (extra[j], "=");
      if (strncmp (environ[i], extra[j], nl) == 0 && environ[i][nl] == '=')
        replaced = true;
    }
    if (!replaced)
      envp[k++] = environ[i];
  }
  for (size_t j = 0; j < m; j++)
    envp[k++] = (char *) extra[j];
  envp[k] = NULL;
  return envp;
}

/* The child of ferry_internal_conversion_exec: the leader of a new
 * process group that runs the tool as its own child and waits.  When ferry
 * dies (PR_SET_PDEATHSIG) it kills the whole group: the tool and what the
 * tool started (virt-v2v's qemu-nbd -t servers would otherwise outlive
 * it).  When the tool ends it ends the same way; ferry then kills what is
 * left of the group.  Only async-signal-safe calls: ferry has threads.
 */
static void __attribute__((noreturn))
supervise (const char *prog, const char *const *argv, char **envp,
           int devnull, int out_fd, pid_t parent)
{
  sigset_t waitset, none;

  setpgid (0, 0);
  sigemptyset (&none);
  sigemptyset (&waitset);
  sigaddset (&waitset, SIGTERM);
  sigaddset (&waitset, SIGCHLD);
  sigprocmask (SIG_SETMASK, &waitset, NULL);
  prctl (PR_SET_PDEATHSIG, SIGTERM);
  if (getppid () != parent)
    kill (0, SIGKILL);                  /* ferry is already gone */
  if (dup2 (devnull, STDIN_FILENO) == -1
      || dup2 (out_fd, STDOUT_FILENO) == -1
      || dup2 (out_fd, STDERR_FILENO) == -1)
    _exit (126);
  closefrom (STDERR_FILENO + 1);

  pid_t tool = fork ();
  if (tool == -1)
    _exit (126);
  if (tool == 0) {
    signal (SIGPIPE, SIG_DFL);
    signal (SIGTERM, SIG_DFL);
    sigprocmask (SIG_SETMASK, &none, NULL);
    execve (prog, (char *const *) argv, envp);
    _exit (127);
  }
  for (;;) {
    siginfo_t si;
    int sig = sigwaitinfo (&waitset, &si);
    if (sig == SIGTERM)
      kill (0, SIGKILL);                /* ferry died: the whole group */
    int st;
    pid_t r = waitpid (tool, &st, WNOHANG);
    if (r == tool) {
      if (WIFEXITED (st))
        _exit (WEXITSTATUS (st));
      signal (WTERMSIG (st), SIG_DFL);
      sigprocmask (SIG_SETMASK, &none, NULL);
      kill (getpid (), WTERMSIG (st));
      _exit (128 + WTERMSIG (st));
    }
  }
}

int
ferry_internal_conversion_exec (const struct ferry_conversion_cmd *cmd,
                                struct ferry_conversion_status *st)
{
  const char *prog = cmd->argv[0];
  int fds[2];

  memset (st, 0, sizeof *st);
  CLEANUP_FREE char **envp = make_env (cmd->env);
  if (!envp) {
    ferry_error ("conversion: running %s: out of memory", prog);
    return -1;
  }
  CLEANUP_CLOSE int devnull = open ("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull == -1) {
    ferry_error_errno (errno, "conversion: open /dev/null");
    return -1;
  }
  if (pipe2 (fds, O_CLOEXEC) == -1) {
    ferry_error_errno (errno, "conversion: pipe for %s", prog);
    return -1;
  }
  pid_t parent = getpid ();
  pid_t pid = fork ();
  if (pid == -1) {
    ferry_error_errno (errno, "conversion: fork for %s", prog);
    close (fds[0]);
    close (fds[1]);
    return -1;
  }
  if (pid == 0)
    supervise (prog, cmd->argv, envp, devnull, fds[1], parent);
  setpgid (pid, pid);                   /* also here: no race with kill below */
  close (fds[1]);
  int64_t deadline = cmd->timeout > 0
    ? ferry_internal_monotonic_ms () + cmd->timeout * 1000 : 0;
  struct ferry_child_end end;
  ferry_internal_child_pump (pid, fds[0], deadline, cmd->stop, pass_line,
                             (void *) cmd, &end);
  st->wait_status = end.wait_status;
  st->stopped = end.stopped;
  st->timed_out = end.timed_out;
  return 0;
}

int
ferry_internal_conversion_check (const struct ferry_conversion_status *st,
                                 const char *what, const char *detail)
{
  const char *sep = detail && *detail ? ": " : "";
  if (!detail)
    detail = "";
  if (st->stopped) {
    ferry_error ("%s was stopped (canceled or ferry is stopping)", what);
    return -1;
  }
  if (st->timed_out) {
    ferry_error ("%s did not finish within its deadline and was killed "
                 "(FERRY_CONVERSION_TIMEOUT)%s%s", what, sep, detail);
    return -1;
  }
  int ws = st->wait_status;
  if (WIFEXITED (ws) && WEXITSTATUS (ws) == 0)
    return 0;
  if (WIFEXITED (ws))
    ferry_error ("%s exited with status %d%s%s%s", what, WEXITSTATUS (ws),
                 WEXITSTATUS (ws) == 127 ? " (could not be executed)" : "", sep, detail);
  else if (WIFSIGNALED (ws))
    ferry_error ("%s was killed by signal %d (%s)%s%s", what, WTERMSIG (ws),
                 strsignal (WTERMSIG (ws)), sep, detail);
  else
    ferry_error ("%s ended with wait status 0x%x%s%s", what, (unsigned) ws, sep, detail);
  return -1;
}

/* ---- virt-v2v-in-place's output --------------------------------------- */

static bool
blank (const char *s)
{
  for (; *s; s++)
    if (*s != ' ' && *s != '\t' && *s != '\r')
      return false;
  return true;
}

int
ferry_internal_conversion_output_line (struct ferry_conversion_output *o,
                                       const char *line)
{
  if (line[0] == '{') {
    json_t *j = json_loads (line, 0, NULL);
    const char *type = json_string_value (json_object_get (j, "type"));
    const char *msg = json_string_value (json_object_get (j, "message"));
    int ret = 0;
    if (type && msg) {
      char **slot = strcmp (type, "error") == 0 ? &o->error
                  : strcmp (type, "message") == 0 ? &o->message : NULL;
      char *copy = slot ? strdup (msg) : NULL;
      if (copy) {
        free (*slot);
        *slot = copy;
        ret = slot == &o->message;
      }
      json_decref (j);
      return ret;
    }
    json_decref (j);
  }
  if (blank (line))
    return 0;
  char *copy = strdup (line);
  if (copy) {
    unsigned i = o->ntail % FERRY_CONVERSION_TAIL;
    free (o->tail[i]);
    o->tail[i] = copy;
    o->ntail++;
  }
  return 0;
}

/* Append s to out (size cap), folding runs of whitespace into one space. */
static void
fold_into (char *out, size_t cap, size_t *len, const char *s)
{
  for (; *s && *len + 1 < cap; s++) {
    bool ws = *s == '\n' || *s == ' ' || *s == '\t' || *s == '\r';
    if (ws) {
      if (*len > 0 && out[*len - 1] != ' ')
        out[(*len)++] = ' ';
    }
    else
      out[(*len)++] = *s;
  }
  out[*len] = '\0';
}

char *
ferry_internal_conversion_output_summary (const struct ferry_conversion_output *o)
{
  enum { CAP = 1536 };
  char out[CAP];
  size_t len = 0;

  out[0] = '\0';
  if (o->error) {
    char *msg = strdup (o->error);
    if (!msg)
      return NULL;
    char *advice = strstr (msg, "If reporting bugs");
    if (advice)
      *advice = '\0';
    fold_into (out, CAP, &len, msg);
    free (msg);
  }
  else {
    unsigned n = o->ntail < FERRY_CONVERSION_TAIL ? o->ntail : FERRY_CONVERSION_TAIL;
    for (unsigned k = 0; k < n; k++) {
      const char *l = o->tail[(o->ntail - n + k) % FERRY_CONVERSION_TAIL];
      if (k > 0)
        fold_into (out, CAP, &len, " | ");
      fold_into (out, CAP, &len, l);
    }
  }
  while (len > 0 && out[len - 1] == ' ')
    out[--len] = '\0';
  return len ? strdup (out) : NULL;
}

void
ferry_internal_conversion_output_clear (struct ferry_conversion_output *o)
{
  free (o->error);
  free (o->message);
  for (unsigned i = 0; i < FERRY_CONVERSION_TAIL; i++)
    free (o->tail[i]);
  memset (o, 0, sizeof *o);
}
