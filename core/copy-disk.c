/* ferry core: the worker of `transfer: job` (issue 7 scale-out):
 * ferry_copy_disk, behind `ferry copy-disk`.
 *
 * It runs in a Kubernetes Job's pod with the source's manifests mounted
 * from a Secret, so it must not need a state directory: the manifests are
 * applied to a private temporary one (mkdtemp, 0700) that is removed when
 * the copy ends, whatever the outcome.
 *
 * Progress is published on the Job (report_job) by a thread of its own
 * every REPORT_S seconds, so a slow API server never slows the copy.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "instance.h"

#define REPORT_S 2                      /* seconds between progress reports */

/* The Job's progress reporter. */
struct reporter {
  const struct ferry_destination *d;
  void *handle;
  const char *job;                      /* "ns/name" */
  pthread_mutex_t lock;                 /* guards p, finished */
  pthread_cond_t cond;                  /* finished was set */
  struct ferry_transfer_progress p;     /* the latest */
  bool finished;
  bool failing;                         /* the last report failed (warned) */
  pthread_t thread;
  bool running;
};

struct copy {
  const struct ferry_copy_disk_args *args;
  struct reporter *rep;                 /* or NULL */
};

static int
remove_entry (const char *path, const struct stat *st, int flag,
              struct FTW *ftw)
{
  (void) st; (void) flag; (void) ftw;
  if (remove (path) == -1)
    ferry_warn ("copy-disk: remove %s: %s", path, strerror (errno));
  return 0;
}

/* Publish p on the Job; a failure is a warning (once, until it works). */
static void
report (struct reporter *r, const struct ferry_transfer_progress *p)
{
  CLEANUP_JSON_DECREF json_t *o =
    json_pack ("{s:I, s:I, s:f}", "done", (json_int_t) p->done,
               "total", (json_int_t) p->total, "rate", p->rate);

  if (!o)
    return;
  ferry_clear_error ();
  if (r->d->report_progress (r->handle, r->job, o) == -1) {
    if (!r->failing)
      ferry_warn ("copy-disk: reporting progress on job %s: %s (the copy goes on)",
                  r->job, *ferry_get_error () ? ferry_get_error () : "failed");
    r->failing = true;
  }
  else
    r->failing = false;
  ferry_clear_error ();
}

static void *
reporter_thread (void *opaque)
{
  struct reporter *r = opaque;

  pthread_mutex_lock (&r->lock);
  while (!r->finished) {
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    ts.tv_sec += REPORT_S;
    while (!r->finished
           && pthread_cond_timedwait (&r->cond, &r->lock, &ts) != ETIMEDOUT)
      ;
    if (r->finished)
      break;
    struct ferry_transfer_progress p = r->p;
    pthread_mutex_unlock (&r->lock);
    report (r, &p);
    pthread_mutex_lock (&r->lock);
  }
  pthread_mutex_unlock (&r->lock);
  return NULL;
}

/* Open the kubevirt destination as the in-cluster (or KUBECONFIG)
 * client; NULL after a warning when progress cannot be published.
 */
static struct reporter *
reporter_open (struct ferry *f, const char *job, const char *scratch)
{
  const struct ferry_destination *d = ferry_get0_destination (f, "kubevirt");
  CLEANUP_JSON_DECREF json_t *spec = json_pack ("{s:s}", "type", "openshift");
  struct reporter *r;

  if (!d || !d->report_progress) {
    ferry_warn ("copy-disk: --report %s: %s; progress is not published",
                job, d ? "the kubevirt destination module cannot report progress"
                       : "no kubevirt destination module is loaded (see 'ferry modules')");
    return NULL;
  }
  if (!spec || !(r = calloc (1, sizeof *r))) {
    ferry_warn ("copy-disk: --report %s: out of memory", job);
    return NULL;
  }
  struct ferry_open_args oa = {
    .struct_size = sizeof oa,
    .name = "copy-disk-report",
    .ns = "",
    .type = "openshift",
    .url = "",
    .spec = spec,
    .secret = NULL,
    .state_dir = scratch,
  };
  ferry_clear_error ();
  if (d->open (&oa, &r->handle) != FERRY_OPEN_OK) {
    ferry_warn ("copy-disk: --report %s: opening the cluster: %s; progress is not published",
                job, *ferry_get_error () ? ferry_get_error () : "declined");
    ferry_clear_error ();
    free (r);
    return NULL;
  }
  r->d = d;
  r->job = job;
  pthread_mutex_init (&r->lock, NULL);
  pthread_cond_init (&r->cond, NULL);
  int err = pthread_create (&r->thread, NULL, reporter_thread, r);
  if (err)
    ferry_warn ("copy-disk: --report %s: starting the reporter: %s; "
                "only the final progress is published", job, strerror (err));
  r->running = err == 0;
  return r;
}

/* Stop the thread; publish final (or NULL: nothing more) and close. */
static void
reporter_close (struct reporter *r, const struct ferry_transfer_progress *final)
{
  if (!r)
    return;
  pthread_mutex_lock (&r->lock);
  r->finished = true;
  pthread_cond_signal (&r->cond);
  pthread_mutex_unlock (&r->lock);
  if (r->running)
    pthread_join (r->thread, NULL);
  if (final)
    report (r, final);
  r->d->close (r->handle);
  pthread_mutex_destroy (&r->lock);
  pthread_cond_destroy (&r->cond);
  free (r);
}

static void
on_progress (void *opaque, const struct ferry_transfer_progress *p)
{
  struct copy *c = opaque;

  if (c->rep) {
    pthread_mutex_lock (&c->rep->lock);
    c->rep->p = *p;
    pthread_mutex_unlock (&c->rep->lock);
  }
  if (c->args->progress)
    c->args->progress (c->args->progress_opaque, p);
}

/* The output's sink.  A regular file that does not exist yet is created
 * 0660 (CDI's mode for disk.img: KubeVirt's qemu reaches it through the
 * pod's fsGroup; nobody else may read it); an existing one keeps its mode
 * and is truncated.  A block device is written as is.
 */
static struct ferry_volume_sink *
output_open (const char *path, uint64_t size, bool *created)
{
  struct stat st;

  if (stat (path, &st) == -1) {
    if (errno != ENOENT) {
      ferry_error_errno (errno, "output %s", path);
      return NULL;
    }
    int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                   0660);
    if (fd == -1) {
      ferry_error_errno (errno, "output %s: create", path);
      return NULL;
    }
    *created = true;
    int r = fchmod (fd, 0660);          /* whatever the umask */
    int e = errno;
    close (fd);
    if (r == -1) {
      ferry_error_errno (e, "output %s: chmod 0660", path);
      return NULL;
    }
  }
  else if (!S_ISREG (st.st_mode) && !S_ISBLK (st.st_mode)) {
    ferry_error ("output %s is neither a regular file nor a block device", path);
    return NULL;
  }
  struct ferry_volume_sink *sink =
    ferry_file_sink_open (path, size, FERRY_FILE_SINK_TRUNCATE);
  if (!sink)
    ferry_error_prefix ("output %s", path);
  return sink;
}

/* The copy itself, in the temporary state directory tmp. */
static int
copy_disk (const struct ferry_copy_disk_args *a, const char *tmp,
           struct ferry_transfer_result *result)
{
  const char *slash = strchr (a->provider, '/');
  CLEANUP_FREE char *pns = strndup (a->provider, (size_t) (slash - a->provider));
  const char *pname = slash + 1;
  CLEANUP_FREE char *scratch = NULL;
  struct ferry_instance *inst = NULL;
  struct ferry_disk_source *src = NULL;
  struct ferry_volume_sink *sink = NULL;
  struct copy c = { .args = a };
  bool created = false;                 /* the output file is ours */
  int r = -1;

  if (!pns) {
    ferry_error_errno (errno, "provider %s", a->provider);
    return -1;
  }
  struct ferry *f = ferry_open (tmp, 0);
  if (!f)
    return -1;
  if (ferry_apply (f, a->manifests, NULL, 0, NULL, NULL) == -1) {
    ferry_error_prefix ("manifests %s", a->manifests);
    goto out;
  }
  inst = ferry_internal_source_open (f, pns, pname);
  if (!inst) {
    ferry_error_prefix ("manifests %s", a->manifests);
    goto out;
  }
  src = inst->provider->disk_open (inst->handle, a->vm, a->disk, a->snapshot);
  if (!src) {
    ferry_error_prefix ("provider %s: VM %s: disk %s", a->provider, a->vm, a->disk);
    goto out;
  }
  int64_t size = src->ops->size (src);
  if (size < 0) {
    ferry_error_prefix ("provider %s: VM %s: disk %s: size", a->provider, a->vm, a->disk);
    goto out;
  }
  if (!(sink = output_open (a->output, (uint64_t) size, &created)))
    goto out;

  if (a->report_job) {
    if (asprintf (&scratch, "%s/report", tmp) == -1
        || ferry_internal_mkdir_p (scratch, 0700) == -1)
      ferry_warn ("copy-disk: --report %s: no scratch directory; progress is not published",
                  a->report_job);
    else
      c.rep = reporter_open (f, a->report_job, scratch);
    if (c.rep)
      c.rep->p.total = (uint64_t) size;
  }

  struct ferry_transfer_options opts = {
    .struct_size = sizeof opts,
    .verify = 1,
    .progress = on_progress,
    .progress_opaque = &c,
    .cancel = a->cancel,
  };
  struct ferry_transfer_result res = { 0 };
  r = ferry_transfer (src, sink, &opts, &res);
  if (r == -1)
    ferry_error_prefix ("copying disk %s of VM %s (provider %s) to %s",
                        a->disk, a->vm, a->provider, a->output);
  int cr = sink->ops->close (sink);
  sink = NULL;
  if (cr == -1 && r == 0) {
    ferry_error_prefix ("output %s: finishing", a->output);
    r = -1;
  }
  if (r == 0 && result)
    *result = res;
  /* The end on the Job: all done, or where it stopped (the Job's status
   * says it failed).
   */
  if (c.rep) {
    struct ferry_transfer_progress last;
    pthread_mutex_lock (&c.rep->lock);
    last = c.rep->p;
    pthread_mutex_unlock (&c.rep->lock);
    if (r == 0)
      last = (struct ferry_transfer_progress) {
        .done = (uint64_t) size, .total = (uint64_t) size,
        .rate = res.seconds > 0 ? (double) size / res.seconds : 0,
      };
    CLEANUP_FREE char *saved = r == -1 ? strdup (ferry_get_error ()) : NULL;
    reporter_close (c.rep, &last);
    if (saved)
      ferry_error ("%s", saved);
  }

 out:
  if (sink)
    sink->ops->close (sink);
  if (src)
    src->ops->close (src);
  if (r == -1 && created && unlink (a->output) == -1)
    ferry_warn ("copy-disk: remove the partial output %s: %s", a->output,
                strerror (errno));
  {
    CLEANUP_FREE char *saved = r == -1 ? strdup (ferry_get_error ()) : NULL;
    ferry_internal_instance_close (inst);
    ferry_close (f);
    if (saved)
      ferry_error ("%s", saved);
  }
  return r;
}

int
ferry_copy_disk (const struct ferry_copy_disk_args *a,
                 struct ferry_transfer_result *result)
{
  static const char *const need[] = { "manifests", "provider", "vm", "disk", "output" };

  if (!a || a->struct_size < sizeof *a) {
    ferry_error ("ferry_copy_disk: struct_size %u is not %zu",
                 a ? a->struct_size : 0, sizeof *a);
    return -1;
  }
  const char *have[] = { a->manifests, a->provider, a->vm, a->disk, a->output };
  for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
    if (!have[i] || !*have[i]) {
      ferry_error ("no %s given", need[i]);
      return -1;
    }
  const char *slash = strchr (a->provider, '/');
  if (!slash || slash == a->provider || !slash[1] || strchr (slash + 1, '/')) {
    ferry_error ("provider '%s' is not NAMESPACE/NAME", a->provider);
    return -1;
  }
  if (a->report_job) {
    slash = strchr (a->report_job, '/');
    if (!slash || slash == a->report_job || !slash[1] || strchr (slash + 1, '/')) {
      ferry_error ("report job '%s' is not NAMESPACE/NAME", a->report_job);
      return -1;
    }
  }

  const char *base = getenv ("TMPDIR");
  CLEANUP_FREE char *tmp = NULL;
  if (asprintf (&tmp, "%s/ferry-copy-disk.XXXXXX", base && *base ? base : "/tmp") == -1) {
    ferry_error_errno (errno, "temporary state directory");
    return -1;
  }
  if (!mkdtemp (tmp)) {
    ferry_error_errno (errno, "create the temporary state directory %s", tmp);
    return -1;
  }
  int r = copy_disk (a, tmp, result);
  /* The store holds the Secrets (sealed) and their key: remove it all. */
  nftw (tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  return r;
}
