/* ferry core: the disks of one VM, copied at once (issue 5).
 *
 * One thread per disk; the VM's thread coordinates.  The workers touch
 * only their own struct ferry_disk_copy (under copier.lock); the VM's
 * status JSON is written by the VM's thread alone, so saves never race
 * with progress.  Opening a source or a sink goes through one lock, as a
 * module's handle may be one-call-at-a-time (thread models); the copies
 * themselves run in parallel on their own sources and sinks.
 */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipeline.h"

#define TICK_MS 200                     /* progress and abort polling */

struct copier {
  struct ferry_vm_run *run;
  pthread_mutex_t lock;                 /* guards copies[].done/.r/.error,
                                           finished[], stop, first_failed */
  pthread_mutex_t open_lock;            /* serializes disk_open and
                                           volume_create/volume_open */
  pthread_cond_t changed;               /* a copy finished */
  pthread_cond_t opened;                /* a copy opened its ends (or failed) */
  size_t arrived;                       /* copies past their open */
  size_t in_flight, max_in_flight;      /* transfers under way, and at most */
  volatile int stop;                    /* every transfer's cancel flag */
  struct ferry_disk_copy *copies;
  bool *finished;
  size_t n;
  long first_failed;                    /* index of the first copy that
                                           failed on its own, or -1 */
};

struct worker_arg {
  struct copier *cp;
  size_t i;
};

static void
on_progress (void *opaque, const struct ferry_transfer_progress *p)
{
  struct worker_arg *w = opaque;
  struct ferry_disk_copy *c = &w->cp->copies[w->i];

  pthread_mutex_lock (&w->cp->lock);
  c->done = p->done;
  pthread_mutex_unlock (&w->cp->lock);
  if (!c->reopen && p->done > c->total / 4)
    ferry_internal_pipeline_crash_point (w->cp->run, "DiskTransfer:mid");
  if (c->reopen && p->done > c->total / 4)
    ferry_internal_pipeline_crash_point (w->cp->run, "Precopy:mid");
}

static int
copy_one (struct copier *cp, struct worker_arg *w)
{
  struct ferry_vm_run *run = cp->run;
  struct ferry_disk_copy *c = &cp->copies[w->i];
  const struct ferry_provider *p = run->source->provider;
  const struct ferry_destination *d = run->destination->destination;
  const char *vm_id = json_string_value (json_object_get (run->vm_status, "id"));
  const char *vm_name = json_string_value (json_object_get (run->vm_status, "name"));
  struct ferry_disk_source *src = NULL;
  struct ferry_volume_sink *sink = NULL;

  /* --- scale-out (issue 7, pipeline-remote.c): the destination may copy
   * a full disk itself (a Job).  It has nothing to open here, so it counts
   * as opened at once; declined, it opens as usual below.
   */
  if (!c->reopen && d->disk_copy) {
    pthread_mutex_lock (&cp->lock);
    cp->arrived++;
    if (++cp->in_flight > cp->max_in_flight)
      cp->max_in_flight = cp->in_flight;
    pthread_cond_broadcast (&cp->opened);
    pthread_mutex_unlock (&cp->lock);
    int k = ferry_internal_remote_copy (run, c, on_progress, w, &cp->stop);
    pthread_mutex_lock (&cp->lock);
    cp->in_flight--;
    if (k == 0)
      cp->arrived--;
    pthread_mutex_unlock (&cp->lock);
    if (k == -1)
      ferry_error_prefix ("disk %s of VM %s", c->disk_id, vm_name);
    if (k != 0)
      return k == 1 ? 0 : -1;
  }

  pthread_mutex_lock (&cp->open_lock);
  src = p->disk_open (run->source->handle, vm_id, c->disk_id, c->snapshot);
  if (src) {
    if (c->reopen && !d->volume_open)
      ferry_error ("destination %s cannot reopen volumes (no volume_open)", d->name);
    else
      sink = c->reopen ? d->volume_open (run->destination->handle, c->volume)
                       : d->volume_create (run->destination->handle, c->volume);
  }
  pthread_mutex_unlock (&cp->open_lock);
  if (!src || !sink) {
    if (src)
      src->ops->close (src);
    ferry_error_prefix ("disk %s of VM %s", c->disk_id, vm_name);
    pthread_mutex_lock (&cp->lock);
    cp->stop = 1;
    cp->arrived++;
    pthread_cond_broadcast (&cp->opened);
    pthread_mutex_unlock (&cp->lock);
    return -1;
  }
  /* Every copy starts once all are open: the transfers run side by side
   * (and a failed open stops them all before any byte moves).
   */
  pthread_mutex_lock (&cp->lock);
  cp->arrived++;
  cp->in_flight++;
  if (cp->in_flight > cp->max_in_flight)
    cp->max_in_flight = cp->in_flight;
  pthread_cond_broadcast (&cp->opened);
  while (cp->arrived < cp->n && !cp->stop)
    pthread_cond_wait (&cp->opened, &cp->lock);
  pthread_mutex_unlock (&cp->lock);

  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  c->started = (double) ts.tv_sec + ts.tv_nsec / 1e9;
  struct ferry_transfer_options opts = {
    .struct_size = sizeof opts,
    .verify = 1,
    .progress = on_progress,
    .progress_opaque = w,
    .cancel = &cp->stop,
    .ranges = c->ranges,
    .nr_ranges = c->nr_ranges,
  };
  int r = ferry_transfer (src, sink, &opts, &c->res);
  pthread_mutex_lock (&cp->lock);
  cp->in_flight--;
  pthread_mutex_unlock (&cp->lock);
  clock_gettime (CLOCK_REALTIME, &ts);
  c->ended = (double) ts.tv_sec + ts.tv_nsec / 1e9;
  src->ops->close (src);
  if (r == -1) {
    ferry_error_prefix ("disk %s of VM %s", c->disk_id, vm_name);
    sink->ops->close (sink);
    return -1;
  }
  if (sink->ops->close (sink) == -1) {
    ferry_error_prefix ("disk %s of VM %s: closing its volume", c->disk_id, vm_name);
    return -1;
  }
  return 0;
}

static void *
worker (void *opaque)
{
  struct worker_arg *w = opaque;
  struct copier *cp = w->cp;
  struct ferry_disk_copy *c = &cp->copies[w->i];

  ferry_clear_error ();
  int r = copy_one (cp, w);
  char *why = r == -1 ? strdup (*ferry_get_error () ? ferry_get_error () : "failed") : NULL;

  pthread_mutex_lock (&cp->lock);
  c->r = r;
  c->error = why;
  if (r == -1) {
    if (!cp->stop)
      cp->first_failed = (long) w->i;   /* not stopped by another */
    cp->stop = 1;                       /* one failure stops the others */
  }
  else
    c->done = c->total;
  cp->finished[w->i] = true;
  pthread_cond_signal (&cp->changed);
  pthread_mutex_unlock (&cp->lock);
  return NULL;
}

/* Show progress: step in MB of the whole, each task in MB of its disk. */
static void
show_progress (struct copier *cp, json_t *step, uint64_t base, uint64_t total,
               bool emit)
{
  uint64_t sum = base;

  pthread_mutex_lock (&cp->lock);
  for (size_t i = 0; i < cp->n; i++) {
    struct ferry_disk_copy *c = &cp->copies[i];
    sum += c->done;
    if (c->task)
      json_object_set_new (json_object_get (c->task, "progress"), "completed",
                           json_integer ((json_int_t) (c->done >> 20)));
  }
  pthread_mutex_unlock (&cp->lock);
  json_object_set_new (json_object_get (step, "progress"), "completed",
                       json_integer ((json_int_t) (sum >> 20)));
  if (emit)
    ferry_internal_pipeline_emit (cp->run, json_string_value (json_object_get (step, "name")),
                                  "Running", sum, total, 0, NULL);
}

int
ferry_internal_copy_disks (struct ferry_vm_run *run, json_t *step,
                           struct ferry_disk_copy *copies, size_t n,
                           uint64_t base, uint64_t total,
                           int (*on_done) (struct ferry_vm_run *run,
                                           struct ferry_disk_copy *c,
                                           void *opaque),
                           void *opaque)
{
  struct copier cp = {
    .run = run, .copies = copies, .n = n,
    .lock = PTHREAD_MUTEX_INITIALIZER, .open_lock = PTHREAD_MUTEX_INITIALIZER,
    .changed = PTHREAD_COND_INITIALIZER, .opened = PTHREAD_COND_INITIALIZER,
    .first_failed = -1,
  };
  CLEANUP_FREE pthread_t *threads = calloc (n ? n : 1, sizeof *threads);
  CLEANUP_FREE struct worker_arg *args = calloc (n ? n : 1, sizeof *args);
  CLEANUP_FREE bool *reported = calloc (n ? n : 1, sizeof *reported);
  CLEANUP_FREE bool *started = calloc (n ? n : 1, sizeof *started);
  char *first_error = NULL;
  int r = 0;

  cp.finished = calloc (n ? n : 1, sizeof *cp.finished);
  if (!threads || !args || !reported || !started || !cp.finished) {
    free (cp.finished);
    ferry_error_errno (ENOMEM, "copy the disks of VM %s",
                       json_string_value (json_object_get (run->vm_status, "name")));
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    copies[i].r = 0;
    copies[i].done = 0;
    args[i] = (struct worker_arg) { .cp = &cp, .i = i };
  }
  for (size_t i = 0; i < n; i++) {
    int err = pthread_create (&threads[i], NULL, worker, &args[i]);
    if (err) {
      ferry_error_errno (err, "VM %s: start a disk copy thread",
                         json_string_value (json_object_get (run->vm_status, "name")));
      first_error = strdup (ferry_get_error ());
      pthread_mutex_lock (&cp.lock);
      cp.stop = 1;
      pthread_cond_broadcast (&cp.opened);
      copies[i].r = -1;
      cp.finished[i] = true;
      reported[i] = true;
      pthread_mutex_unlock (&cp.lock);
      r = -1;
      break;
    }
    started[i] = true;
  }

  /* Coordinate: progress, abort, and record each success as it comes. */
  for (;;) {
    size_t left = 0;
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    ts.tv_nsec += TICK_MS * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock (&cp.lock);
    for (size_t i = 0; i < n; i++)
      if (started[i] && !cp.finished[i])
        left++;
    bool fresh = false;
    for (size_t i = 0; i < n; i++)
      if (cp.finished[i] && !reported[i])
        fresh = true;
    if (left && !fresh)
      pthread_cond_timedwait (&cp.changed, &cp.lock, &ts);
    if (*run->abort) {
      cp.stop = 1;
      pthread_cond_broadcast (&cp.opened);
    }
    pthread_mutex_unlock (&cp.lock);

    for (size_t i = 0; i < n; i++) {
      pthread_mutex_lock (&cp.lock);
      bool now_done = cp.finished[i] && !reported[i];
      pthread_mutex_unlock (&cp.lock);
      if (!now_done)
        continue;
      reported[i] = true;
      if (copies[i].r == -1) {
        if (!first_error)
          first_error = strdup (copies[i].error ? copies[i].error : "failed");
        r = -1;
      }
      else if (on_done && on_done (run, &copies[i], opaque) == -1) {
        if (!first_error)
          first_error = strdup (*ferry_get_error () ? ferry_get_error () : "failed");
        r = -1;
        pthread_mutex_lock (&cp.lock);
        cp.stop = 1;
        pthread_mutex_unlock (&cp.lock);
      }
    }
    show_progress (&cp, step, base, total, true);
    if (!left)
      break;
  }
  for (size_t i = 0; i < n; i++)
    if (started[i])
      pthread_join (threads[i], NULL);
  /* How many disks were copied side by side, for the record. */
  json_t *ann = json_object_get (step, "annotations");
  if (json_is_object (ann) && n > 0) {
    char count[24];
    snprintf (count, sizeof count, "%zu", cp.max_in_flight);
    json_object_set_new (ann, "disksInParallel", json_string (count));
  }
  /* A copy that was stopped by a sibling's failure reports "canceled";
   * the failure that caused it is the one to show.
   */
  for (size_t i = 0; i < n && r == 0; i++)
    if (copies[i].r == -1)
      r = -1;
  free (cp.finished);
  if (r == -1) {
    const char *why = cp.first_failed >= 0 && copies[cp.first_failed].error
      ? copies[cp.first_failed].error : first_error;
    ferry_error ("%s", why ? why : "a disk copy failed");
    free (first_error);
    return -1;
  }
  free (first_error);
  return 0;
}

void
ferry_internal_disk_copies_clear (struct ferry_disk_copy *copies, size_t n)
{
  for (size_t i = 0; copies && i < n; i++) {
    free (copies[i].error);
    copies[i].error = NULL;
  }
}
