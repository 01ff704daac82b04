/* ferry command: showing a running Migration's progress (ferry run, ferry
 * start --wait, ferry serve).
 *
 * Three forms, one event stream (struct ferry_run_event):
 *  - live (stdout is a terminal): one line per active VM (VM, step,
 *    bytes done/total, rate, ETA) and a summary line per plan, redrawn in
 *    place at most 10 times a second; state changes worth keeping (a VM
 *    that ends, a failed step) scroll above them;
 *  - plain (not a terminal): a line per state change, and at most one
 *    progress line per VM every PLAIN_PROGRESS_S seconds;
 *  - json: one JSON object per line for scripts, {time, namespace, plan,
 *    migration, vm, step, phase, done, total, rate, message}, every state
 *    change and at most one progress object per VM a second.
 *
 * Thread safety: the engine calls cli_progress_event from VM threads, and
 * `ferry serve` from several Migrations at once; one mutex guards
 * everything.
 */
#include <config.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define PLAIN_PROGRESS_S 5.0            /* seconds between progress lines */
#define JSON_PROGRESS_S 1.0
#define LIVE_REDRAW_S 0.1
#define LIVE_MAX_LINES 20               /* VM lines shown; the rest counted */

/* One VM as the display knows it. */
struct pvm {
  char *key;                            /* "ns/migration/vm" */
  char *name;                           /* the VM's name */
  char *step;
  char *plan;                           /* the pplan's key */
  uint64_t done, total;                 /* bytes of the current transfer */
  double rate;                          /* bytes/s */
  double t0;                            /* s: first tick of this transfer */
  uint64_t done0;                       /* bytes at t0 */
  bool copying;                         /* the step is DiskTransfer */
  double last_line;                     /* s: last progress line (plain, json) */
  int state;                            /* 0 active, 1 succeeded, 2 failed,
                                           3 canceled, 4 stopped */
};

/* One plan's counts (a Migration). */
struct pplan {
  char *key;                            /* "ns/plan" */
  char *migration;
  uint64_t vms;                         /* in the Migration, 0 if not told */
  const char *end;                      /* the Migration's end phase, or NULL */
};

struct cli_progress {
  pthread_mutex_t lock;                 /* guards everything below */
  enum cli_progress_mode mode;
  FILE *out;
  struct pvm *vms;
  size_t nr_vms;
  struct pplan *plans;
  size_t nr_plans;
  unsigned drawn;                       /* live lines on screen now */
  double last_draw;                     /* s */
};

static double
now_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

int
cli_progress_parse (const char *cmd, const char *s, enum cli_progress_mode *mode)
{
  if (strcmp (s, "auto") == 0)
    *mode = PROGRESS_AUTO;
  else if (strcmp (s, "plain") == 0 || strcmp (s, "text") == 0)
    *mode = PROGRESS_PLAIN;
  else if (strcmp (s, "json") == 0)
    *mode = PROGRESS_JSON;
  else {
    cli_usage_error (cmd, "--output %s: want auto, plain or json", s);
    return -1;
  }
  return 0;
}

struct cli_progress *
cli_progress_new (enum cli_progress_mode mode, FILE *out)
{
  struct cli_progress *p = calloc (1, sizeof *p);
  if (!p) {
    perror ("ferry: progress");
    return NULL;
  }
  pthread_mutex_init (&p->lock, NULL);
  if (mode == PROGRESS_AUTO)
    mode = isatty (fileno (out)) ? PROGRESS_LIVE : PROGRESS_PLAIN;
  p->mode = mode;
  p->out = out;
  return p;
}

enum cli_progress_mode
cli_progress_get_mode (const struct cli_progress *p)
{
  return p->mode;
}

/* "12.3 MiB" */
static void
human_bytes (double b, char *buf, size_t len)
{
  static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
  size_t u = 0;
  while (b >= 1024.0 && u + 1 < sizeof units / sizeof units[0]) {
    b /= 1024.0;
    u++;
  }
  snprintf (buf, len, u ? "%.1f %s" : "%.0f %s", b, units[u]);
}

static void
human_eta (double s, char *buf, size_t len)
{
  if (s < 0 || s > 360000)
    snprintf (buf, len, "-");
  else if (s < 60)
    snprintf (buf, len, "%.0fs", s);
  else if (s < 3600)
    snprintf (buf, len, "%ldm%02lds", (long) s / 60, (long) s % 60);
  else
    snprintf (buf, len, "%ldh%02ldm", (long) s / 3600, ((long) s % 3600) / 60);
}

static char *
xstrdup (const char *s)
{
  return strdup (s ? s : "");
}

static struct pplan *
plan_get (struct cli_progress *p, const struct ferry_run_event *ev)
{
  char *key = NULL;
  if (asprintf (&key, "%s/%s", ev->ns ? ev->ns : "-", ev->plan ? ev->plan : "-") == -1)
    return NULL;
  for (size_t i = 0; i < p->nr_plans; i++)
    if (strcmp (p->plans[i].key, key) == 0) {
      free (key);
      return &p->plans[i];
    }
  struct pplan *n = realloc (p->plans, (p->nr_plans + 1) * sizeof *n);
  if (!n) {
    free (key);
    return NULL;
  }
  p->plans = n;
  n = &p->plans[p->nr_plans++];
  *n = (struct pplan) { .key = key, .migration = xstrdup (ev->migration) };
  return n;
}

static struct pvm *
vm_get (struct cli_progress *p, const struct ferry_run_event *ev, struct pplan *pl)
{
  char *key = NULL;
  if (asprintf (&key, "%s/%s/%s", ev->ns ? ev->ns : "-",
                ev->migration ? ev->migration : "-", ev->vm) == -1)
    return NULL;
  for (size_t i = 0; i < p->nr_vms; i++)
    if (strcmp (p->vms[i].key, key) == 0) {
      free (key);
      return &p->vms[i];
    }
  struct pvm *n = realloc (p->vms, (p->nr_vms + 1) * sizeof *n);
  if (!n) {
    free (key);
    return NULL;
  }
  p->vms = n;
  n = &p->vms[p->nr_vms++];
  *n = (struct pvm) { .key = key, .name = xstrdup (ev->vm), .step = xstrdup (""),
                      .plan = xstrdup (pl ? pl->key : "") };
  return n;
}

/* ---- live ------------------------------------------------------------- */

static void
live_clear (struct cli_progress *p)
{
  if (p->drawn)
    fprintf (p->out, "\r\033[%uA\033[J", p->drawn);
  else
    fputs ("\r\033[J", p->out);
  p->drawn = 0;
}

static void
vm_line (const struct pvm *v, char *buf, size_t len)
{
  if (v->total && v->copying) {
    char d[32], t[32], r[32], eta[32];
    human_bytes ((double) v->done, d, sizeof d);
    human_bytes ((double) v->total, t, sizeof t);
    human_bytes (v->rate, r, sizeof r);
    human_eta (v->rate > 0 ? (double) (v->total - v->done) / v->rate : -1, eta, sizeof eta);
    snprintf (buf, len, "%-24s %-22s %5.1f%% %s / %s  %s/s  ETA %s",
              v->name, v->step, 100.0 * (double) v->done / (double) v->total,
              d, t, r, eta);
  }
  else
    snprintf (buf, len, "%-24s %s", v->name, v->step);
}

/* The summary of one plan: VMs done/failed/canceled/running and bytes. */
static void
plan_line (const struct cli_progress *p, const struct pplan *pl, char *buf, size_t len)
{
  uint64_t ok = 0, failed = 0, canceled = 0, running = 0, done = 0, total = 0;
  for (size_t i = 0; i < p->nr_vms; i++) {
    const struct pvm *v = &p->vms[i];
    if (strcmp (v->plan, pl->key) != 0)
      continue;
    ok += v->state == 1;
    failed += v->state == 2;
    canceled += v->state == 3;
    running += v->state == 0;
    done += v->done;
    total += v->total;
  }
  char d[32], t[32];
  human_bytes ((double) done, d, sizeof d);
  human_bytes ((double) total, t, sizeof t);
  char of[32] = "";
  if (pl->vms)
    snprintf (of, sizeof of, " of %" PRIu64, pl->vms);
  snprintf (buf, len, "plan %s (%s) %s: %" PRIu64 "%s VMs done, %" PRIu64 " failed, %"
            PRIu64 " canceled, %" PRIu64 " running; %s of %s copied",
            pl->key, pl->migration, pl->end ? pl->end : "Running", ok, of, failed,
            canceled, running, d, t);
}

static void
live_draw (struct cli_progress *p)
{
  char line[512];
  unsigned shown = 0, hidden = 0;

  live_clear (p);
  for (size_t i = 0; i < p->nr_vms; i++) {
    if (p->vms[i].state != 0)
      continue;
    if (shown == LIVE_MAX_LINES) {
      hidden++;
      continue;
    }
    vm_line (&p->vms[i], line, sizeof line);
    fprintf (p->out, "%s\033[K\n", line);
    shown++;
  }
  if (hidden) {
    fprintf (p->out, "... and %u more VMs running\033[K\n", hidden);
    shown++;
  }
  for (size_t i = 0; i < p->nr_plans; i++) {
    plan_line (p, &p->plans[i], line, sizeof line);
    fprintf (p->out, "%s\033[K\n", line);
    shown++;
  }
  p->drawn = shown;
  p->last_draw = now_s ();
  fflush (p->out);
}

/* ---- plain and json ----------------------------------------------------- */

static void
json_line (struct cli_progress *p, const struct ferry_run_event *ev)
{
  char when[64];

  cli_now_ms (when, sizeof when);
  json_t *o = json_pack ("{s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:I, s:I, s:f, s:s?}",
                         "time", when, "namespace", ev->ns, "plan", ev->plan,
                         "migration", ev->migration, "vm", ev->vm, "step", ev->step,
                         "phase", ev->phase, "done", (json_int_t) ev->done,
                         "total", (json_int_t) ev->total, "rate", ev->rate,
                         "message", ev->message);
  if (!o)
    return;
  char *s = json_dumps (o, JSON_COMPACT | JSON_ENSURE_ASCII);
  if (s)
    fprintf (p->out, "%s\n", s);
  free (s);
  json_decref (o);
  fflush (p->out);
}

static void
plain_progress_line (struct cli_progress *p, const struct pvm *v)
{
  char d[32], t[32], r[32], eta[32];
  human_bytes ((double) v->done, d, sizeof d);
  human_bytes ((double) v->total, t, sizeof t);
  human_bytes (v->rate, r, sizeof r);
  human_eta (v->rate > 0 ? (double) (v->total - v->done) / v->rate : -1, eta, sizeof eta);
  fprintf (p->out, "%s: %s %.1f%% %s of %s, %s/s, ETA %s\n", v->name, v->step,
           100.0 * (double) v->done / (double) v->total, d, t, r, eta);
}

/* A state change as one line (plain form, and the scrolled lines of the
 * live form).  false when the live form does not keep it (a step starting
 * or completing: the VM's live line shows it).
 */
static bool
state_line (const struct cli_progress *p, const struct ferry_run_event *ev,
            char *buf, size_t len)
{
  const char *msg = ev->message;
  if (!ev->vm) {
    if (ev->step && strcmp (ev->phase, "Running") == 0)
      snprintf (buf, len, "migration %s/%s of plan %s: Running, %" PRIu64 " VMs",
                ev->ns ? ev->ns : "-", ev->migration ? ev->migration : "-",
                ev->plan ? ev->plan : "-", ev->total);
    else
      snprintf (buf, len, "migration %s/%s of plan %s: %s, %" PRIu64 " of %" PRIu64
                " VMs succeeded", ev->ns ? ev->ns : "-", ev->migration ? ev->migration : "-",
                ev->plan ? ev->plan : "-", ev->phase, ev->done, ev->total);
    return true;
  }
  if (!ev->step) {
    snprintf (buf, len, "%s: %s", ev->vm, ev->phase);
    return true;
  }
  snprintf (buf, len, "%s: %s %s%s%s", ev->vm, ev->step, ev->phase,
            msg ? ": " : "", msg ? msg : "");
  return p->mode != PROGRESS_LIVE
    || (strcmp (ev->phase, "Running") != 0 && strcmp (ev->phase, "Completed") != 0);
}

void
cli_progress_event (void *opaque, const struct ferry_run_event *ev)
{
  struct cli_progress *p = opaque;
  bool tick = ev->vm && ev->step && ev->total && ev->phase
    && strcmp (ev->phase, "Running") == 0;
  double t = now_s ();
  char line[1024];

  if (!ev->phase)
    return;
  pthread_mutex_lock (&p->lock);
  struct pplan *pl = plan_get (p, ev);
  struct pvm *v = ev->vm ? vm_get (p, ev, pl) : NULL;

  /* Update the model. */
  if (!ev->vm && pl) {
    if (strcmp (ev->phase, "Running") == 0)
      pl->vms = ev->total;
    else
      pl->end = strcmp (ev->phase, "Succeeded") == 0 ? "Succeeded"
        : strcmp (ev->phase, "Failed") == 0 ? "Failed" : "Canceled";
  }
  bool step_changed = false;
  if (v) {
    if (!ev->step)
      v->state = strcmp (ev->phase, "Succeeded") == 0 ? 1
        : strcmp (ev->phase, "Failed") == 0 ? 2
        : strcmp (ev->phase, "Canceled") == 0 ? 3 : 4;
    else if (strcmp (v->step, ev->step) != 0) {
      step_changed = true;
      free (v->step);
      v->step = xstrdup (ev->step);
    }
    if (ev->step)
      v->copying = strcmp (ev->step, "DiskTransfer") == 0;
    if (tick) {
      if (!v->t0 || ev->done < v->done) {
        v->t0 = t;
        v->done0 = ev->done;
      }
      v->done = ev->done;
      v->total = ev->total;
      /* The engine's rate, or the average since the first tick. */
      v->rate = ev->rate > 0 ? ev->rate
        : t - v->t0 > 0.2 ? (double) (v->done - v->done0) / (t - v->t0) : 0;
    }
    else if (ev->step && strcmp (ev->step, "DiskTransfer") == 0
             && strcmp (ev->phase, "Completed") == 0)
      v->done = v->total, v->rate = 0;
  }

  switch (p->mode) {
  case PROGRESS_JSON:
    if (!tick || !v || t - v->last_line >= JSON_PROGRESS_S || step_changed) {
      if (v && tick)
        v->last_line = t;
      json_line (p, ev);
    }
    break;
  case PROGRESS_PLAIN:
  case PROGRESS_AUTO:
    if (tick) {
      if (v && t - v->last_line >= PLAIN_PROGRESS_S) {
        v->last_line = t;
        plain_progress_line (p, v);
      }
    }
    else {
      state_line (p, ev, line, sizeof line);
      fprintf (p->out, "%s\n", line);
    }
    fflush (p->out);
    break;
  case PROGRESS_LIVE:
    if (!tick && state_line (p, ev, line, sizeof line)) {
      live_clear (p);
      fprintf (p->out, "%s\n", line);
      live_draw (p);
    }
    else if (!tick || t - p->last_draw >= LIVE_REDRAW_S)
      live_draw (p);
    break;
  }
  pthread_mutex_unlock (&p->lock);
}

void
cli_progress_printf (struct cli_progress *p, const char *fs, ...)
{
  va_list args;
  if (p->mode == PROGRESS_JSON)
    return;                             /* stdout is for the JSON objects */
  pthread_mutex_lock (&p->lock);
  if (p->mode == PROGRESS_LIVE)
    live_clear (p);
  va_start (args, fs);
  vfprintf (p->out, fs, args);
  va_end (args);
  if (p->mode == PROGRESS_LIVE && p->nr_plans)
    live_draw (p);
  fflush (p->out);
  pthread_mutex_unlock (&p->lock);
}

void
cli_progress_free (struct cli_progress *p)
{
  if (!p)
    return;
  if (p->mode == PROGRESS_LIVE && p->nr_plans) {
    /* The last frame stays: no VM lines, the summaries. */
    for (size_t i = 0; i < p->nr_vms; i++)
      if (p->vms[i].state == 0)
        p->vms[i].state = 4;            /* stopped: not shown as running */
    live_draw (p);
  }
  for (size_t i = 0; i < p->nr_vms; i++) {
    free (p->vms[i].key);
    free (p->vms[i].name);
    free (p->vms[i].step);
    free (p->vms[i].plan);
  }
  for (size_t i = 0; i < p->nr_plans; i++) {
    free (p->plans[i].key);
    free (p->plans[i].migration);
  }
  free (p->vms);
  free (p->plans);
  pthread_mutex_destroy (&p->lock);
  free (p);
}
