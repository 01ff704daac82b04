/* ferry core: warm migration (issue 5): the precopy loop of DiskTransfer
 * and the Cutover step.
 *
 * The first precopy takes a snapshot and copies every disk whole from it,
 * recording each disk's change id; every precopy interval after that a new
 * snapshot, and only the extents changed since each disk's last change id
 * are written into the existing volumes (volume_open, random access); then
 * the previous snapshot is removed.  At the cutover time (Migration
 * spec.cutover, RFC 3339; `ferry cutover` sets it) and after at least one
 * precopy, Cutover powers the source off, takes the final snapshot, copies
 * the final delta and removes the snapshots.
 *
 * Status, in Forklift's shape (status.vms[].warm):
 *   {successes, failures, consecutiveFailures, nextPrecopyAt,
 *    precopies: [{start, end, snapshot, deltas: [{disk, deltaId}],
 *                 bytes, durationSeconds, final, error, snapshotRemoved}]}
 * A precopy entry is stored before its snapshot is taken, its snapshot id
 * as soon as it exists, each disk's delta as soon as that disk is copied,
 * and its end last; so after a crash the unfinished precopy goes on from
 * its snapshot with the disks not yet done, each from its last committed
 * change id.  (A crash between snapshot_create and storing its id leaves
 * that one snapshot at the source.)  A failed precopy keeps its error and
 * its snapshot is removed; the next one starts over from the last
 * committed change ids.  PRECOPY_MAX_FAILURES consecutive failures fail
 * the VM; between them the retry waits interval/16 * 2^(n-1) (at most one
 * interval).
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipeline.h"

#define PRECOPY_MAX_FAILURES 5
#define DEFAULT_PRECOPY_INTERVAL_MS (60u * 60u * 1000u)  /* 60 minutes */
#define WAIT_TICK_MS 250

static uint64_t precopy_interval_ms;    /* set by ferry_set_precopy_interval; 0: unset */

/* "90s", "500ms", "60m", "2h", or a bare number of minutes (as Forklift's
 * controller_precopy_interval).
 */
static int
parse_duration (const char *s, uint64_t *ms)
{
  char *end;
  double v;

  errno = 0;
  if (!s || !*s || (v = strtod (s, &end), errno != 0) || end == s || v <= 0)
    goto bad;
  if (strcmp (end, "") == 0 || strcmp (end, "m") == 0 || strcmp (end, "min") == 0)
    v *= 60000;
  else if (strcmp (end, "ms") == 0)
    ;
  else if (strcmp (end, "s") == 0)
    v *= 1000;
  else if (strcmp (end, "h") == 0)
    v *= 3600000;
  else
    goto bad;
  if (v < 100 || v > 30.0 * 24 * 3600 * 1000)
    goto bad;
  *ms = (uint64_t) v;
  return 0;
 bad:
  ferry_error ("precopy interval '%s': expected a duration from 100ms to 30 days, "
               "such as 500ms, 90s, 60m or 2h (a bare number is minutes)", s ? s : "");
  return -1;
}

int
ferry_set_precopy_interval (const char *duration)
{
  uint64_t ms;
  if (parse_duration (duration, &ms) == -1)
    return -1;
  precopy_interval_ms = ms;
  return 0;
}

/* The precopy interval: ferry_set_precopy_interval, else
 * $FERRY_PRECOPY_INTERVAL, else 60 minutes.
 */
static uint64_t
interval_ms (void)
{
  uint64_t ms;
  const char *env = getenv ("FERRY_PRECOPY_INTERVAL");

  if (precopy_interval_ms)
    return precopy_interval_ms;
  if (env && *env) {
    if (parse_duration (env, &ms) == 0)
      return ms;
    ferry_warn ("FERRY_PRECOPY_INTERVAL: %s; using 60 minutes", ferry_get_error ());
  }
  return DEFAULT_PRECOPY_INTERVAL_MS;
}

bool
ferry_internal_plan_is_warm (const json_t *plan)
{
  const json_t *spec = json_object_get (plan, "spec");
  const char *type = json_string_value (json_object_get (spec, "type"));
  if (type)
    return strcmp (type, "warm") == 0;
  return json_is_true (json_object_get (spec, "warm"));
}

/* ---- Time ------------------------------------------------------------- */

static double
now_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

int
ferry_internal_parse_rfc3339 (const char *s, double *t)
{
  struct tm tm = { 0 };
  int n = 0;
  double frac = 0;

  if (!s || sscanf (s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
                    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 || n == 0)
    return -1;
  s += n;
  if (*s == '.') {
    char *end;
    frac = strtod (s, &end);
    if (end == s + 1)
      return -1;
    s = end;
  }
  int sign = 0, oh = 0, om = 0;
  if (*s == 'Z' || *s == 'z')
    s++;
  else if (*s == '+' || *s == '-') {
    sign = *s == '+' ? 1 : -1;
    n = 0;
    if (sscanf (s + 1, "%2d:%2d%n", &oh, &om, &n) != 2 || n != 5)
      return -1;
    s += 6;
  }
  else
    return -1;
  if (*s)
    return -1;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  time_t base = timegm (&tm);
  if (base == (time_t) -1)
    return -1;
  *t = (double) base + frac - sign * (oh * 3600.0 + om * 60.0);
  return 0;
}


/* The Migration's spec.cutover: 1 with *t, 0 when none, -1 on error. */
static int
read_cutover (struct ferry_vm_run *run, double *t)
{
  CLEANUP_JSON_DECREF json_t *spec = NULL;
  /* The spec alone: the status of a large Migration is megabytes. */
  int r = ferry_internal_store_get_spec (run->f->store, "Migration", run->ns,
                                         run->migration, &spec);
  if (r != 1) {
    if (r == 0)
      ferry_internal_not_found_error ("Migration", run->ns, run->migration);
    return -1;
  }
  const char *cut = json_string_value (json_object_get (spec, "cutover"));
  r = 0;
  if (cut && *cut) {
    if (ferry_internal_parse_rfc3339 (cut, t) == -1) {
      ferry_error ("migration %s/%s: spec.cutover '%s' is not an RFC 3339 time "
                   "(e.g. 2024-04-04T01:23:45Z); set it with 'ferry cutover'",
                   run->ns, run->migration, cut);
      r = -1;
    }
    else
      r = 1;
  }
  return r;
}

/* Sleep up to ms, in ticks; false (with an error) when the VM is canceled
 * or the process stops meanwhile.
 */
static bool
wait_ms (struct ferry_vm_run *run, double ms)
{
  while (ms > 0) {
    if (*run->canceled || *run->stopping || *run->abort) {
      ferry_error ("VM %s: %s", json_string_value (json_object_get (run->vm_status, "name")),
                   *run->canceled ? "canceled" : "stopped");
      return false;
    }
    double step = ms < WAIT_TICK_MS ? ms : WAIT_TICK_MS;
    struct timespec ts = { .tv_sec = 0, .tv_nsec = (long) (step * 1e6) };
    nanosleep (&ts, NULL);
    ms -= step;
  }
  return true;
}

/* ---- Status ----------------------------------------------------------- */

static json_t *
warm_status (struct ferry_vm_run *run)
{
  json_t *w = json_object_get (run->vm_status, "warm");
  if (!w) {
    w = json_pack ("{s:i, s:i, s:i, s:[]}", "successes", 0, "failures", 0,
                   "consecutiveFailures", 0, "precopies");
    json_object_set_new (run->vm_status, "warm", w);
  }
  return w;
}

static json_int_t
counter (json_t *w, const char *key)
{
  return json_integer_value (json_object_get (w, key));
}

static void
bump (json_t *w, const char *key)
{
  json_object_set_new (w, key, json_integer (counter (w, key) + 1));
}

/* The precopy under way (stored, neither ended nor failed), or NULL. */
static json_t *
unfinished_precopy (json_t *w)
{
  json_t *pcs = json_object_get (w, "precopies");
  json_t *last = json_array_get (pcs, json_array_size (pcs) - 1);
  if (last && !json_object_get (last, "end") && !json_object_get (last, "error"))
    return last;
  return NULL;
}

/* The change id disk_id was last brought to (by an ended precopy), or
 * NULL: never copied.
 */
static const char *
last_delta (json_t *w, const char *disk_id)
{
  json_t *pcs = json_object_get (w, "precopies");
  for (size_t i = json_array_size (pcs); i-- > 0; ) {
    json_t *pc = json_array_get (pcs, i), *d;
    size_t k;
    if (!json_object_get (pc, "end") || json_object_get (pc, "failed"))
      continue;                         /* a failed one's deltas are redone */
    json_array_foreach (json_object_get (pc, "deltas"), k, d)
      if (strcmp (json_string_value (json_object_get (d, "disk")) ?: "", disk_id) == 0)
        return json_string_value (json_object_get (d, "deltaId"));
  }
  return NULL;
}

static bool
has_delta (json_t *pc, const char *disk_id)
{
  json_t *d;
  size_t k;
  json_array_foreach (json_object_get (pc, "deltas"), k, d)
    if (strcmp (json_string_value (json_object_get (d, "disk")) ?: "", disk_id) == 0)
      return true;
  return false;
}

/* Remove pc's snapshot at the source, once; problems are logged. */
static void
remove_snapshot (struct ferry_vm_run *run, json_t *pc)
{
  const struct ferry_provider *p = run->source->provider;
  const char *sid = json_string_value (json_object_get (pc, "snapshot"));

  if (!sid || json_object_get (pc, "snapshotRemoved") || json_object_get (pc, "snapshotRemoveError"))
    return;
  if (!p->snapshot_remove) {
    ferry_log_object (FERRY_LOG_WARN, "migration", run->ns, run->migration,
                      "vm %s: the provider cannot remove snapshot %s", ferry_internal_run_vm_name (run), sid);
    json_object_set_new (pc, "snapshotRemoveError", json_string ("not supported"));
    return;
  }
  if (p->snapshot_remove (run->source->handle, ferry_internal_run_vm_id (run), sid) == -1) {
    ferry_log_object (FERRY_LOG_WARN, "migration", run->ns, run->migration,
                      "vm %s: remove snapshot %s: %s", ferry_internal_run_vm_name (run), sid, ferry_get_error ());
    json_object_set_new (pc, "snapshotRemoveError", json_string (ferry_get_error ()));
    return;
  }
  ferry_internal_set_time_us (pc, "snapshotRemoved", now_s ());
  ferry_log_object (FERRY_LOG_INFO, "migration", run->ns, run->migration,
                    "vm %s: snapshot %s removed", ferry_internal_run_vm_name (run), sid);
}

/* Remove the snapshots of every precopy before keep (NULL: all). */
static void
remove_snapshots_before (struct ferry_vm_run *run, json_t *w, const json_t *keep)
{
  json_t *pc;
  size_t i;
  json_array_foreach (json_object_get (w, "precopies"), i, pc) {
    if (pc == keep)
      break;
    remove_snapshot (run, pc);
  }
}

void
ferry_internal_warm_remove_snapshots (struct ferry_vm_run *run)
{
  json_t *w = json_object_get (run->vm_status, "warm");
  if (w)
    remove_snapshots_before (run, w, NULL);
}

/* ---- One precopy -------------------------------------------------------- */

struct range_list {
  struct ferry_range *v;
  size_t n, cap;
  uint64_t bytes;
};

static int
collect_extent (void *opaque, uint64_t offset, uint64_t length, uint32_t flags)
{
  struct range_list *l = opaque;
  (void) flags;                         /* the copy asks the source again */
  if (length == 0)
    return 0;
  l->bytes += length;
  if (l->n && l->v[l->n - 1].offset + l->v[l->n - 1].length == offset) {
    l->v[l->n - 1].length += length;
    return 0;
  }
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    struct ferry_range *v = realloc (l->v, cap * sizeof *v);
    if (!v) {
      ferry_error_errno (errno, "changed extents");
      return -1;
    }
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = (struct ferry_range) { .offset = offset, .length = length };
  return 0;
}

struct precopy_ctx {
  json_t *pc;                           /* the precopy entry */
  struct ferry_disk_copy *copies;
  char **change_ids;                    /* per copy */
  uint64_t bytes;                       /* written so far */
};

static int
precopy_disk_done (struct ferry_vm_run *run, struct ferry_disk_copy *c, void *opaque)
{
  struct precopy_ctx *x = opaque;
  size_t i = (size_t) (c - x->copies);
  json_array_append_new (json_object_get (x->pc, "deltas"),
                         json_pack ("{s:s, s:s}", "disk", c->disk_id,
                                    "deltaId", x->change_ids[i]));
  x->bytes += c->res.bytes_written;
  json_object_set_new (x->pc, "bytes", json_integer (
      json_integer_value (json_object_get (x->pc, "bytes")) + (json_int_t) c->res.bytes_written));
  return run->save (run);
}

/* One precopy (final: the cutover's): snapshot, then each disk's delta
 * since its last change id.  0, or -1 with the error; the entry stays
 * unfinished for the caller to mark.
 */
static int
precopy_once (struct ferry_vm_run *run, json_t *step, bool final)
{
  const struct ferry_provider *p = run->source->provider;
  void *h = run->source->handle;
  json_t *w = warm_status (run);
  json_t *pc = unfinished_precopy (w);
  json_t *volumes = json_object_get (run->vm_status, "volumes");
  size_t nvol = json_array_size (volumes);
  int r = -1;

  if (!p->snapshot_create || !p->changed_extents) {
    ferry_error ("provider %s cannot take snapshots or report changed extents: "
                 "warm migration is not possible", p->name);
    return -1;
  }
  if (pc && json_is_true (json_object_get (pc, "final")) != final) {
    /* A precopy interrupted before the cutover: dropped. */
    json_object_set_new (pc, "error", json_string ("interrupted by the cutover"));
    remove_snapshot (run, pc);
    pc = NULL;
  }
  if (!pc) {
    pc = json_pack ("{s:[], s:I}", "deltas", "bytes", (json_int_t) 0);
    ferry_internal_set_time_us (pc, "start", now_s ());
    if (final)
      json_object_set_new (pc, "final", json_true ());
    json_array_append_new (json_object_get (w, "precopies"), pc);
    if (run->save (run) == -1)
      return -1;
  }
  if (!json_object_get (pc, "snapshot")) {
    char *sid = NULL;
    if (p->snapshot_create (h, ferry_internal_run_vm_id (run), &sid) == -1) {
      ferry_error_prefix ("VM %s: snapshot", ferry_internal_run_vm_name (run));
      return -1;
    }
    json_object_set_new (pc, "snapshot", json_string (sid));
    free (sid);
    if (run->save (run) == -1)
      return -1;
    ferry_internal_pipeline_crash_point (run, "Precopy:snapshot");
  }
  const char *sid = json_string_value (json_object_get (pc, "snapshot"));

  CLEANUP_FREE struct ferry_disk_copy *copies = calloc (nvol + 1, sizeof *copies);
  CLEANUP_FREE char **change_ids = calloc (nvol + 1, sizeof *change_ids);
  CLEANUP_FREE struct range_list *lists = calloc (nvol + 1, sizeof *lists);
  size_t n = 0;
  uint64_t total = 0;
  struct precopy_ctx x = { .pc = pc, .copies = copies, .change_ids = change_ids };
  json_t *vol;
  size_t i;

  if (!copies || !change_ids || !lists) {
    ferry_error_errno (ENOMEM, "VM %s: precopy", ferry_internal_run_vm_name (run));
    return -1;
  }
  json_array_foreach (volumes, i, vol) {
    const char *disk = json_string_value (json_object_get (vol, "diskId"));
    if (has_delta (pc, disk))
      continue;                         /* copied before a crash */
    const char *base = last_delta (w, disk);
    char *cid = NULL;
    if (p->changed_extents (h, ferry_internal_run_vm_id (run), disk, sid, base, collect_extent,
                            &lists[n], &cid) == -1) {
      ferry_error_prefix ("VM %s disk %s: changed extents since %s", ferry_internal_run_vm_name (run), disk,
                          base ? base : "the start");
      goto out;
    }
    change_ids[n] = cid;
    if (base && lists[n].n == 0) {      /* nothing changed */
      json_array_append_new (json_object_get (pc, "deltas"),
                             json_pack ("{s:s, s:s}", "disk", disk, "deltaId", cid));
      free (change_ids[n]);
      change_ids[n] = NULL;
      free (lists[n].v);
      lists[n] = (struct range_list) { 0 };
      continue;
    }
    uint64_t cap = (uint64_t) json_integer_value (json_object_get (vol, "capacity"));
    copies[n] = (struct ferry_disk_copy) {
      .volume = vol, .disk_id = disk, .snapshot = sid,
      /* The first copy is the whole disk into a new volume (holes and
       * all); later ones write the changed extents into it.
       */
      .ranges = base ? lists[n].v : NULL,
      .nr_ranges = base ? lists[n].n : 0,
      .reopen = base != NULL,
      .total = base ? lists[n].bytes : cap,
    };
    total += copies[n].total;
    n++;
  }
  json_object_set_new (json_object_get (step, "progress"), "total",
                       json_integer ((json_int_t) (total >> 20)));
  json_object_set_new (json_object_get (step, "progress"), "completed", json_integer (0));
  if (run->save (run) == -1)
    goto out;

  double t0 = now_s ();
  if (ferry_internal_copy_disks (run, step, copies, n, 0, total,
                                 precopy_disk_done, &x) == -1)
    goto out;
  double t1 = now_s ();
  ferry_internal_set_time_us (pc, "end", t1);
  json_object_set_new (pc, "durationSeconds", json_real (t1 - t0));
  bump (w, "successes");
  json_object_set_new (w, "consecutiveFailures", json_integer (0));
  if (run->save (run) == -1)
    goto out;
  ferry_log_object (FERRY_LOG_INFO, "migration", run->ns, run->migration,
                    "vm %s: %sprecopy %" JSON_INTEGER_FORMAT " done from %s: %" PRIu64
                    " bytes in %.3f s", ferry_internal_run_vm_name (run), final ? "final " : "",
                    counter (w, "successes"), sid,
                    (uint64_t) json_integer_value (json_object_get (pc, "bytes")), t1 - t0);
  /* The previous snapshot is no longer needed. */
  remove_snapshots_before (run, w, pc);
  r = run->save (run);
 out:
  ferry_internal_disk_copies_clear (copies, n);
  for (i = 0; i <= nvol; i++) {
    free (change_ids[i]);
    free (lists[i].v);
  }
  return r;
}

/* A precopy failed with the current error: counted, its snapshot removed,
 * the next attempt scheduled with backoff.  -1 (the error names the
 * limit) once PRECOPY_MAX_FAILURES failed in a row, else 0 and *retry_ms.
 */
static int
precopy_failed (struct ferry_vm_run *run, double *retry_ms)
{
  json_t *w = warm_status (run);
  json_t *pc = unfinished_precopy (w);
  CLEANUP_FREE char *why = strdup (*ferry_get_error () ? ferry_get_error () : "failed");

  if (pc) {
    json_object_set_new (pc, "error", json_string (why ? why : "failed"));
    ferry_internal_set_time_us (pc, "end", now_s ());
    json_object_set_new (pc, "failed", json_true ());
    remove_snapshot (run, pc);
  }
  bump (w, "failures");
  bump (w, "consecutiveFailures");
  json_int_t n = counter (w, "consecutiveFailures");
  if (n >= PRECOPY_MAX_FAILURES) {
    ferry_error ("%d precopies failed in a row (the limit); the last: %s",
                 (int) n, why ? why : "failed");
    return -1;
  }
  double ms = (double) interval_ms () / 16.0;
  for (json_int_t k = 1; k < n; k++)
    ms *= 2;
  if (ms > (double) interval_ms ())
    ms = (double) interval_ms ();
  *retry_ms = ms;
  ferry_internal_set_time_us (w, "nextPrecopyAt", now_s () + ms / 1000.0);
  ferry_log_object (FERRY_LOG_WARN, "migration", run->ns, run->migration,
                    "vm %s: precopy failed (%d in a row, retry in %.1f s): %s",
                    ferry_internal_run_vm_name (run), (int) n, ms / 1000.0, why ? why : "failed");
  ferry_internal_pipeline_emit (run, "DiskTransfer", "Running", 0, 0, 0, why);
  return run->save (run) == -1 ? -1 : 0;
}

/* Failed precopies are no longer "unfinished": precopy_failed marks them.
 * An ended precopy has "end" and no "failed".
 */
static bool
any_precopy_ended (json_t *w)
{
  json_t *pc;
  size_t i;
  json_array_foreach (json_object_get (w, "precopies"), i, pc)
    if (json_object_get (pc, "end") && !json_object_get (pc, "failed"))
      return true;
  return false;
}

/* ---- The steps -------------------------------------------------------- */

/* Between precopies DiskTransfer shows the disks as copied (MB). */
static void
show_copied (struct ferry_vm_run *run, json_t *step)
{
  uint64_t total = 0;
  json_t *vol;
  size_t i;
  json_array_foreach (json_object_get (run->vm_status, "volumes"), i, vol)
    total += (uint64_t) json_integer_value (json_object_get (vol, "capacity"));
  json_object_set_new (json_object_get (step, "progress"), "total",
                       json_integer ((json_int_t) (total >> 20)));
  json_object_set_new (json_object_get (step, "progress"), "completed",
                       json_integer ((json_int_t) (total >> 20)));
}

int
ferry_internal_step_precopy (struct ferry_vm_run *run, json_t *step)
{
  json_t *w = warm_status (run);
  uint64_t interval = interval_ms ();

  json_object_set_new (step, "annotations", json_pack ("{s:s}", "unit", "MB"));
  for (;;) {
    double cut = 0, next = 0, now;
    if (*run->canceled || *run->stopping || *run->abort) {
      ferry_error ("VM %s: %s", ferry_internal_run_vm_name (run), *run->canceled ? "canceled" : "stopped");
      return -1;
    }
    int has_cut = read_cutover (run, &cut);
    if (has_cut == -1)
      return -1;
    now = now_s ();
    if (!unfinished_precopy (w) && any_precopy_ended (w) && has_cut == 1 && now >= cut) {
      ferry_log_object (FERRY_LOG_INFO, "migration", run->ns, run->migration,
                        "vm %s: cutover time reached after %" JSON_INTEGER_FORMAT " precopies",
                        ferry_internal_run_vm_name (run), counter (w, "successes"));
      return 0;
    }
    const char *next_at = json_string_value (json_object_get (w, "nextPrecopyAt"));
    if (unfinished_precopy (w) || !next_at
        || ferry_internal_parse_rfc3339 (next_at, &next) == -1 || now >= next) {
      if (precopy_once (run, step, false) == 0) {
        ferry_internal_set_time_us (w, "nextPrecopyAt", now_s () + (double) interval / 1000.0);
        show_copied (run, step);
        if (run->save (run) == -1)
          return -1;
        continue;
      }
      if (*run->canceled || *run->stopping || *run->abort)
        return -1;
      double retry;
      if (precopy_failed (run, &retry) == -1)
        return -1;
      continue;
    }
    /* Wait for the next precopy or the cutover, whichever comes first. */
    double until = next;
    if (has_cut == 1 && cut < until && any_precopy_ended (w))
      until = cut;
    double ms = (until - now) * 1000.0;
    if (ms > 1000)
      ms = 1000;                        /* look at spec.cutover again */
    if (!wait_ms (run, ms))
      return -1;
  }
}

int
ferry_internal_step_cutover (struct ferry_vm_run *run, json_t *step)
{
  json_t *w = warm_status (run);
  json_t *prog = json_object_get (step, "progress");

  json_object_set_new (prog, "total", json_integer (3));
  if (ferry_internal_source_power_off (run) == -1)
    return -1;
  json_object_set_new (prog, "completed", json_integer (1));
  for (;;) {
    json_t *pcs = json_object_get (w, "precopies");
    json_t *last = json_array_get (pcs, json_array_size (pcs) - 1);
    if (last && json_is_true (json_object_get (last, "final"))
        && json_object_get (last, "end") && !json_object_get (last, "failed"))
      break;                            /* done before a crash */
    if (precopy_once (run, step, true) == 0)
      break;
    if (*run->canceled || *run->stopping || *run->abort)
      return -1;
    double retry;
    if (precopy_failed (run, &retry) == -1 || !wait_ms (run, retry))
      return -1;
  }
  json_object_set_new (prog, "total", json_integer (3));
  json_object_set_new (prog, "completed", json_integer (2));
  remove_snapshots_before (run, w, NULL);
  json_object_set_new (prog, "completed", json_integer (3));
  return run->save (run);
}
