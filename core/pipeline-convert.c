/* ferry core: the ImageConversion step (guest conversion, conversion.h).
 *
 * Kept out of pipeline.c (which owns the itinerary): the step is one table
 * entry there.  For a plan that converts (ferry_internal_conversion_planned)
 * it works on the destination's volume files (volume_path):
 *
 *   1. status.vms[].conversion.phase = Converting is stored; a disposable
 *      qcow2 overlay backed by each volume is made in a private directory
 *      <state>/conversion/<ns>/<migration>.<vm-id>/ (0700);
 *   2. virt-v2v-in-place --machine-readable -i libvirtxml --root first
 *      converts the overlays (the volumes are only read), with a deadline
 *      ($FERRY_CONVERSION_TIMEOUT); every line it prints goes to the VM's
 *      log; a failure names the VM, the tool's error and the log;
 *   3. phase = Committing is stored, then qemu-img commit -d writes each
 *      overlay into its volume;
 *   4. phase = Committed is stored, then the overlays are removed.
 *
 * After a crash: in Converting (or Failed) the overlays are thrown away and
 * the conversion starts again from the untouched volumes; in Committing the
 * commits are re-run from the intact overlays (the same writes again); in
 * Committed only the leftovers are removed.  So no half-converted volume is
 * ever trusted.  The tool dies with ferry (PR_SET_PDEATHSIG).
 *
 * Test hooks (FERRY_TEST_CRASH_AT, pipeline.h): "ImageConversion:mid" when
 * the tool says it is inspecting the guest (its disks open),
 * "ImageConversion:converting" when it starts converting the guest,
 * "ImageConversion:converted" after Committing is stored, before any
 * commit, "ImageConversion:commit" after the first overlay is committed.
 */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conversion.h"
#include "logs.h"
#include "pipeline.h"

#define STEP "ImageConversion"

/* What one conversion run needs, borrowed from the step. */
struct convert_ctx {
  struct ferry_vm_run *run;
  const char *vm;                       /* VM name, for messages */
  const char *plan, *plan_ns, *vm_id;   /* for the VM's log */
  const char *tool;                     /* absolute path */
  const char *qemu_img;                 /* absolute path */
  const char *workdir;
  size_t n;                             /* disks */
  char **volumes;                       /* volume file paths */
  const char **formats;                 /* "raw" | "qcow2" */
  char **overlays;                      /* NULL-terminated */
  const volatile int *stop[4];
  struct ferry_conversion_output out;
  const char *phase_note;               /* what a stray line belongs to */
};

static void
ctx_clear (struct convert_ctx *c)
{
  for (size_t i = 0; i < c->n; i++) {
    free (c->volumes ? c->volumes[i] : NULL);
    free (c->overlays ? c->overlays[i] : NULL);
  }
  free (c->volumes);
  free (c->overlays);
  free (c->formats);
  ferry_internal_conversion_output_clear (&c->out);
}

static void
vm_log (struct convert_ctx *c, enum ferry_log_level level, const char *fs, ...)
  FERRY_PRINTF (3, 4);

static void
vm_log (struct convert_ctx *c, enum ferry_log_level level, const char *fs, ...)
{
  char msg[4096];
  va_list ap;
  va_start (ap, fs);
  vsnprintf (msg, sizeof msg, fs, ap);
  va_end (ap);
  ferry_internal_vm_log (level, c->plan_ns, c->plan, c->vm_id, "%s", msg);
}

/* Each line of virt-v2v-in-place: into the VM's log, progress messages
 * into the run's events (and the test hooks).
 */
static void
on_tool_line (void *opaque, const char *line)
{
  struct convert_ctx *c = opaque;
  vm_log (c, FERRY_LOG_INFO, STEP ": %s", line);
  if (ferry_internal_conversion_output_line (&c->out, line) == 1) {
    const char *msg = c->out.message;
    ferry_internal_pipeline_emit (c->run, STEP, "Running", 0, 0, 0, msg);
    if (strncmp (msg, "Inspecting", 10) == 0)
      ferry_internal_pipeline_crash_point (c->run, STEP ":mid");
    if (strncmp (msg, "Converting", 10) == 0)
      ferry_internal_pipeline_crash_point (c->run, STEP ":converting");
  }
}

/* qemu-img's lines: into the VM's log, the last ones kept for errors. */
static void
on_helper_line (void *opaque, const char *line)
{
  struct convert_ctx *c = opaque;
  vm_log (c, FERRY_LOG_INFO, STEP ": %s: %s", c->phase_note, line);
  ferry_internal_conversion_output_line (&c->out, line);
}

/* Run argv (qemu-img ...) to completion; -1 with an error naming what. */
static int
run_helper (struct convert_ctx *c, const char *const *argv, const char *what)
{
  struct ferry_conversion_cmd cmd = {
    .argv = argv, .stop = c->stop, .on_line = on_helper_line, .opaque = c,
  };
  struct ferry_conversion_status st;
  ferry_internal_conversion_output_clear (&c->out);
  c->phase_note = what;
  if (ferry_internal_conversion_exec (&cmd, &st) == -1)
    return -1;
  CLEANUP_FREE char *detail = ferry_internal_conversion_output_summary (&c->out);
  char label[512];
  snprintf (label, sizeof label, STEP " of VM %s: %s", c->vm, what);
  return ferry_internal_conversion_check (&st, label, detail);
}

/* Throw away old overlays; make a fresh one backed by each volume. */
static int
make_overlays (struct convert_ctx *c)
{
  for (size_t i = 0; i < c->n; i++) {
    if (unlink (c->overlays[i]) == -1 && errno != ENOENT) {
      ferry_error_errno (errno, STEP " of VM %s: remove old overlay %s", c->vm, c->overlays[i]);
      return -1;
    }
    const char *argv[] = {
      c->qemu_img, "create", "-q", "-f", "qcow2", "-b", c->volumes[i],
      "-F", c->formats[i], c->overlays[i], NULL,
    };
    char what[64];
    snprintf (what, sizeof what, "qemu-img create (overlay of disk %zu)", i);
    if (run_helper (c, argv, what) == -1)
      return -1;
    if (chmod (c->overlays[i], 0600) == -1) {
      ferry_error_errno (errno, STEP " of VM %s: chmod %s", c->vm, c->overlays[i]);
      return -1;
    }
  }
  return 0;
}

static void
remove_overlays (struct convert_ctx *c)
{
  for (size_t i = 0; i < c->n; i++)
    if (unlink (c->overlays[i]) == -1 && errno != ENOENT)
      vm_log (c, FERRY_LOG_WARN, STEP ": cannot remove %s: %s", c->overlays[i],
              strerror (errno));
}

/* Remove the work directory (overlays, domain XML, the tool's TMPDIR). */
static void
remove_workdir (struct convert_ctx *c)
{
  const char *const argv[] = { "/bin/rm", "-rf", "--", c->workdir, NULL };
  struct ferry_conversion_cmd cmd = { .argv = argv };
  struct ferry_conversion_status st;
  remove_overlays (c);
  if (ferry_internal_conversion_exec (&cmd, &st) == -1
      || ferry_internal_conversion_check (&st, "rm -rf of the conversion directory", NULL) == -1)
    vm_log (c, FERRY_LOG_WARN, STEP ": %s", ferry_get_error ());
}

/* virt-v2v-in-place --machine-readable lists its features, one a line;
 * "output-xml-option" means it takes -O FILE for the converted guest's
 * metadata (not in 2.2).
 */
static void
on_feature_line (void *opaque, const char *line)
{
  bool *found = opaque;
  if (strcmp (line, "output-xml-option") == 0)
    *found = true;
}

static bool
detect_output_xml (struct convert_ctx *c)
{
  const char *const argv[] = { c->tool, "--machine-readable", NULL };
  bool found = false;
  struct ferry_conversion_cmd cmd = {
    .argv = argv, .stop = c->stop, .timeout = 60,
    .on_line = on_feature_line, .opaque = &found,
  };
  struct ferry_conversion_status st;
  if (ferry_internal_conversion_exec (&cmd, &st) == -1)
    return false;
  return found && !st.timed_out && !st.stopped;
}

/* Log the tool's -O metadata, one line each. */
static void
log_metadata (struct convert_ctx *c, const char *path)
{
  CLEANUP_FCLOSE FILE *fp = fopen (path, "re");
  char line[1024];
  if (!fp)
    return;
  vm_log (c, FERRY_LOG_INFO, STEP ": the converted guest's metadata (-O):");
  while (fgets (line, sizeof line, fp)) {
    line[strcspn (line, "\n")] = '\0';
    vm_log (c, FERRY_LOG_INFO, STEP ": %s", line);
  }
}

/* Run virt-v2v-in-place on the overlays.  -1 with an error naming the VM,
 * the tool's own message and the log that has all of its output.
 */
static int
convert_overlays (struct convert_ctx *c, json_t *spec)
{
  CLEANUP_FREE char *xml = ferry_internal_conversion_domain_xml (spec, (const char *const *) c->overlays);
  CLEANUP_FREE char *xml_path = NULL, *tmp = NULL, *tmp_env = NULL, *cache_env = NULL;
  CLEANUP_FREE char *meta = NULL;
  if (!xml)
    return -1;
  if (asprintf (&xml_path, "%s/domain.xml", c->workdir) == -1
      || asprintf (&tmp, "%s/tmp", c->workdir) == -1
      || asprintf (&meta, "%s/metadata.xml", c->workdir) == -1) {
    ferry_error (STEP " of VM %s: out of memory", c->vm);
    return -1;
  }
  {
    CLEANUP_FCLOSE FILE *fp = fopen (xml_path, "we");
    if (!fp || fputs (xml, fp) == EOF || fflush (fp) == EOF) {
      ferry_error_errno (errno, STEP " of VM %s: write %s", c->vm, xml_path);
      return -1;
    }
  }
  if (ferry_internal_mkdir_p (tmp, 0700) == -1)
    return -1;
  /* The tool's scratch files go into the private directory (removed
   * afterwards, also after a crash); the libguestfs appliance stays
   * cached where it was, so it is not rebuilt for every VM.
   */
  const char *cache = getenv ("LIBGUESTFS_CACHEDIR");
  if (!cache || !*cache)
    cache = getenv ("TMPDIR");
  if (!cache || !*cache)
    cache = "/var/tmp";
  if (asprintf (&tmp_env, "TMPDIR=%s", tmp) == -1
      || asprintf (&cache_env, "LIBGUESTFS_CACHEDIR=%s", cache) == -1) {
    ferry_error (STEP " of VM %s: out of memory", c->vm);
    return -1;
  }
  const char *env[] = { tmp_env, cache_env, NULL };

  bool want_meta = detect_output_xml (c);
  const char *argv[] = {
    c->tool, "--machine-readable", "-i", "libvirtxml", "--root", "first", xml_path,
    want_meta ? "-O" : NULL, meta, NULL,
  };
  int64_t timeout = ferry_internal_conversion_timeout ();
  if (timeout < 0)
    return -1;
  struct ferry_conversion_cmd cmd = {
    .argv = argv, .env = env, .timeout = timeout, .stop = c->stop,
    .on_line = on_tool_line, .opaque = c,
  };
  struct ferry_conversion_status st;

  vm_log (c, FERRY_LOG_INFO, STEP ": running %s --machine-readable -i libvirtxml --root first %s%s%s",
          c->tool, xml_path, want_meta ? " -O " : "", want_meta ? meta : "");
  ferry_internal_conversion_output_clear (&c->out);
  if (ferry_internal_conversion_exec (&cmd, &st) == -1)
    return -1;

  CLEANUP_FREE char *summary = ferry_internal_conversion_output_summary (&c->out);
  CLEANUP_FREE char *log_path = ferry_vm_log_path (c->run->f, c->plan_ns, c->plan, c->vm_id);
  CLEANUP_FREE char *detail = NULL;
  if (asprintf (&detail, "%s (full output in %s)", summary ? summary : "no output",
                log_path ? log_path : "the VM's log") == -1)
    detail = NULL;
  char label[512];
  snprintf (label, sizeof label, STEP " of VM %s: virt-v2v-in-place", c->vm);
  if (ferry_internal_conversion_check (&st, label, detail) == -1) {
    vm_log (c, FERRY_LOG_ERROR, "%s", ferry_get_error ());
    return -1;
  }
  if (want_meta)
    log_metadata (c, meta);
  return 0;
}

/* Commit every overlay into its volume (re-runnable: the overlays stay). */
static int
commit_overlays (struct convert_ctx *c)
{
  struct stat sb;
  for (size_t i = 0; i < c->n; i++)
    if (stat (c->overlays[i], &sb) == -1) {
      ferry_error (STEP " of VM %s: the converted overlay %s is gone while it was being "
                   "committed, so volume %s may be partly converted: restart the plan "
                   "('ferry restart') to copy and convert the VM again",
                   c->vm, c->overlays[i], c->volumes[i]);
      return -1;
    }
  for (size_t i = 0; i < c->n; i++) {
    const char *argv[] = { c->qemu_img, "commit", "-q", "-d", c->overlays[i], NULL };
    char what[64];
    snprintf (what, sizeof what, "qemu-img commit (disk %zu)", i);
    if (run_helper (c, argv, what) == -1)
      return -1;
    vm_log (c, FERRY_LOG_INFO, STEP ": committed the converted disk %zu into %s", i,
            c->volumes[i]);
    if (i == 0)
      ferry_internal_pipeline_crash_point (c->run, STEP ":commit");
  }
  return 0;
}

static void
set_phase (json_t *conv, const char *phase)
{
  json_object_set_new (conv, "phase", json_string (phase));
}

/* Fill c from the run: tool, paths, stop flags, work directory. */
static int
prepare (struct convert_ctx *c, json_t *conv)
{
  struct ferry_vm_run *run = c->run;
  const struct ferry_destination *d = run->destination->destination;
  const json_t *volumes = json_object_get (run->vm_status, "volumes");

  c->n = json_array_size (volumes);
  if (c->n == 0) {
    ferry_error (STEP " of VM %s: the VM has no volumes to convert", c->vm);
    return -1;
  }
  c->volumes = calloc (c->n, sizeof *c->volumes);
  c->formats = calloc (c->n, sizeof *c->formats);
  c->overlays = calloc (c->n + 1, sizeof *c->overlays);
  if (!c->volumes || !c->formats || !c->overlays) {
    ferry_error (STEP " of VM %s: out of memory", c->vm);
    return -1;
  }
  json_t *list = json_array ();
  json_object_set_new (conv, "overlays", list);
  for (size_t i = 0; i < c->n; i++) {
    const json_t *vol = json_array_get (volumes, i);
    const char *fmt = json_string_value (json_object_get (vol, "format"));
    c->formats[i] = fmt && strcmp (fmt, "qcow2") == 0 ? "qcow2" : "raw";
    c->volumes[i] = d->volume_path (run->destination->handle, vol);
    if (!c->volumes[i]) {
      ferry_error_prefix (STEP " of VM %s", c->vm);
      return -1;
    }
    if (asprintf (&c->overlays[i], "%s/disk-%zu.qcow2", c->workdir, i) == -1) {
      c->overlays[i] = NULL;
      ferry_error (STEP " of VM %s: out of memory", c->vm);
      return -1;
    }
    json_array_append_new (list, json_string (c->overlays[i]));
  }
  return 0;
}

int
ferry_internal_step_convert (struct ferry_vm_run *run, json_t *step)
{
  const json_t *meta = json_object_get (run->plan, "metadata");
  const json_t *plan_spec = json_object_get (run->plan, "spec");
  json_t *prog = json_object_get (step, "progress");
  struct convert_ctx c __attribute__((cleanup (ctx_clear))) = { .run = run };

  if (!ferry_internal_conversion_planned (plan_spec, run->source->type)) {
    json_object_set_new (prog, "completed", json_integer (1));
    json_object_set_new (prog, "total", json_integer (1));
    return 0;                           /* raw copy, or a KVM guest already */
  }
  c.vm = json_string_value (json_object_get (run->vm_status, "name"));
  c.vm_id = json_string_value (json_object_get (run->vm_status, "id"));
  c.plan = json_string_value (json_object_get (meta, "name"));
  c.plan_ns = json_string_value (json_object_get (meta, "namespace"));
  if (!c.plan_ns)
    c.plan_ns = run->ns;
  size_t ns = 0;
  const volatile int *flags[] = { run->abort, run->canceled, run->stopping };
  for (size_t i = 0; i < 3; i++)
    if (flags[i])
      c.stop[ns++] = flags[i];
  c.stop[ns] = NULL;

  const struct ferry_destination *d = run->destination->destination;
  if (!d->volume_path) {
    ferry_error (STEP " of VM %s: guest conversion needs the volumes as local files, "
                 "which destination provider %s/%s (type %s) does not have: set "
                 "spec.skipGuestConversion: true for a raw copy, or use a destination "
                 "with local volumes (type local)",
                 c.vm, run->destination->ns, run->destination->name, run->destination->type);
    return -1;
  }
  CLEANUP_FREE char *tool = ferry_internal_conversion_tool ();
  if (!tool) {
    ferry_error_prefix (STEP " of VM %s", c.vm);
    return -1;
  }
  CLEANUP_FREE char *qemu_img = ferry_internal_conversion_program ("qemu-img");
  if (!qemu_img)
    return -1;
  c.tool = tool;
  c.qemu_img = qemu_img;
  CLEANUP_FREE char *name = ferry_internal_vm_log_name (run->migration, c.vm_id);
  CLEANUP_FREE char *workdir = NULL;
  if (!name)
    return -1;
  if (asprintf (&workdir, "%s/conversion/%s/%s", run->f->state_dir, c.plan_ns, name) == -1) {
    ferry_error (STEP " of VM %s: out of memory", c.vm);
    return -1;
  }
  c.workdir = workdir;

  json_t *conv = json_object_get (run->vm_status, "conversion");
  if (!json_is_object (conv)) {
    conv = json_object ();
    json_object_set_new (run->vm_status, "conversion", conv);
  }
  const char *phase = json_string_value (json_object_get (conv, "phase"));
  bool committing = phase && strcmp (phase, "Committing") == 0;
  bool committed = phase && strcmp (phase, "Committed") == 0;
  json_object_set_new (prog, "total", json_integer (3));
  json_object_set_new (step, "annotations", json_pack ("{s:s}", "unit", "steps"));
  if (ferry_internal_mkdir_p (workdir, 0700) == -1 || prepare (&c, conv) == -1)
    return -1;

  if (!committing && !committed) {
    /* Stored before any overlay exists: a crash from here on starts over. */
    set_phase (conv, "Converting");
    json_object_set_new (conv, "tool", json_string (tool));
    json_object_del (conv, "error");
    json_object_set_new (prog, "completed", json_integer (0));
    if (run->save (run) == -1)
      return -1;
    vm_log (&c, FERRY_LOG_INFO, STEP ": converting VM %s (%zu disk%s) on overlays in %s",
            c.vm, c.n, c.n == 1 ? "" : "s", workdir);
    if (make_overlays (&c) == -1 || convert_overlays (&c, json_object_get (run->vm_status, "spec")) == -1) {
      set_phase (conv, "Failed");
      json_object_set_new (conv, "error", json_string (ferry_get_error ()));
      CLEANUP_FREE char *saved = strdup (ferry_get_error ());
      remove_workdir (&c);
      if (saved)
        ferry_error ("%s", saved);
      return -1;
    }
    json_object_set_new (prog, "completed", json_integer (1));
    set_phase (conv, "Committing");
    if (run->save (run) == -1)
      return -1;
    ferry_internal_pipeline_crash_point (run, STEP ":converted");
    committing = true;
  }
  if (committing) {
    vm_log (&c, FERRY_LOG_INFO, STEP ": committing the converted overlays into the volumes");
    if (commit_overlays (&c) == -1) {
      if (run->canceled && *run->canceled) /* the destination removes the volumes */
        remove_workdir (&c);
      return -1;                        /* stays Committing: re-run commits again */
    }
    set_phase (conv, "Committed");
    json_object_set_new (prog, "completed", json_integer (2));
    if (run->save (run) == -1)
      return -1;
  }
  remove_workdir (&c);
  /* The guest has virtio drivers now: no compatibility devices. */
  json_object_del (json_object_get (run->vm_status, "spec"), "compatibilityMode");
  json_object_set_new (prog, "completed", json_integer (3));
  vm_log (&c, FERRY_LOG_INFO, STEP ": VM %s converted", c.vm);
  return 0;
}
