/* ferry null destination: a sink that keeps nothing but the facts.
 *
 * Volumes discard their data but count it: bytes written, bytes zeroed,
 * flushes, the highest offset touched, and an order-independent content
 * sum (below).  VMs are recorded: with a state directory, vm_create writes
 * <state_dir>/vms/<namespace>/<name>.json = {spec, volumes} and each closed
 * volume writes <state_dir>/volumes/<namespace>/<name>.json = its counters,
 * so a test (or another process) can look at what arrived.
 *
 * The content sum: the sum, modulo 2^64, of mix64(offset * 256 + byte) over
 * every non-zero byte written.  Zero bytes add nothing, so writing zeroes,
 * calling zero() or skipping a hole all give the same sum, and the order and
 * size of writes do not matter.  It equals the sum of the logical disk
 * content when every byte is written at most once.
 *
 * Settings (Provider spec.settings, strings): decline, failOpen,
 * failTestConnection, failVolumeCreate, failVmCreate: "true";
 * failWriteAt: byte offset whose pwrite fails; stream: "true" makes every
 * volume an in-order stream without zero() (like a CDI upload).
 *
 * Ownership by plan and VM: volumes and VMs carry labels "plan" and "vmID"
 * (as Forklift labels them); cleanup(plan, vm_id) forgets, and removes the
 * files of, exactly those that carry both.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1                   /* asprintf */
#endif
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ferry/destination.h>
#include <ferry/log.h>

#define NULLD_NO_FAIL UINT64_MAX

/* Frees a char * when it goes out of scope (modules do not see core's
 * cleanup.h, which is internal).
 */
static void
nulld_cleanup_free (void *ptr)
{
  free (*(void **) ptr);
}
#define CLEANUP_FREE_NULLD __attribute__((cleanup (nulld_cleanup_free)))

/* One thing this destination created: a volume or a VM. */
struct nulld_object {
  bool is_vm;
  char *ns, *name;
  char *plan, *vm_id;                   /* labels; may be NULL */
};

struct nulld_handle {
  char *state_dir;                      /* or NULL: in memory only */
  bool fail_test_connection, fail_volume_create, fail_vm_create;
  bool stream;
  uint64_t fail_write_at;               /* byte offset, or NULLD_NO_FAIL */

  pthread_mutex_t lock;                 /* guards objects, nr_objects */
  struct nulld_object *objects;
  size_t nr_objects;
};

struct nulld_volume {
  struct nulld_handle *h;
  char *ns, *name;
  uint64_t capacity;                    /* bytes */

  pthread_mutex_t lock;                 /* guards every field below */
  uint64_t bytes_written;               /* bytes, through pwrite */
  uint64_t bytes_zeroed;                /* bytes, through zero */
  uint64_t flushes;
  uint64_t end;                         /* bytes: highest offset + length */
  uint64_t next;                        /* stream: the offset expected next */
  uint64_t sum;                         /* the content sum */
};

/* ---- Helpers --------------------------------------------------------- */

static bool
nulld_setting_true (const json_t *spec, const char *key)
{
  const json_t *v = json_object_get (json_object_get (spec, "settings"), key);
  return json_is_true (v)
    || (json_is_string (v) && strcmp (json_string_value (v), "true") == 0);
}

/* A name safe to use as one path component. */
static bool
nulld_safe_name (const char *s)
{
  return s && *s && strcmp (s, ".") != 0 && strcmp (s, "..") != 0
    && !strchr (s, '/');
}

static int
nulld_mkdir_p (const char *path)
{
  CLEANUP_FREE_NULLD char *p = strdup (path);

  if (!p) {
    ferry_error_errno (errno, "null: mkdir %s", path);
    return -1;
  }
  for (char *s = p + 1; ; s++) {
    if (*s == '/' || *s == '\0') {
      char c = *s;
      *s = '\0';
      if (mkdir (p, 0700) == -1 && errno != EEXIST) {
        ferry_error_errno (errno, "null: create directory %s", p);
        return -1;
      }
      *s = c;
      if (!c)
        return 0;
    }
  }
}

/* <state_dir>/<what>/<ns>/<name>.json; NULL without a state directory
 * (and no error) or after an error (*err set).
 */
static char *
nulld_path (struct nulld_handle *h, const char *what, const char *ns,
            const char *name, bool mkdirs, bool *err)
{
  CLEANUP_FREE_NULLD char *dir = NULL;
  char *path = NULL;

  *err = false;
  if (!h->state_dir)
    return NULL;
  if (asprintf (&dir, "%s/%s/%s", h->state_dir, what, ns) == -1) {
    dir = NULL;
    ferry_error_errno (errno, "null: %s/%s", ns, name);
    *err = true;
    return NULL;
  }
  if (mkdirs && nulld_mkdir_p (dir) == -1) {
    *err = true;
    return NULL;
  }
  if (asprintf (&path, "%s/%s.json", dir, name) == -1) {
    ferry_error_errno (errno, "null: %s/%s", ns, name);
    *err = true;
    return NULL;
  }
  return path;
}

static int
nulld_write_json (const char *path, const json_t *doc)
{
  CLEANUP_FREE_NULLD char *tmp = NULL;

  if (asprintf (&tmp, "%s.tmp", path) == -1) {
    tmp = NULL;
    ferry_error_errno (errno, "null: write %s", path);
    return -1;
  }
  if (json_dump_file (doc, tmp, JSON_INDENT (2) | JSON_SORT_KEYS) == -1
      || rename (tmp, path) == -1) {
    ferry_error_errno (errno, "null: write %s", path);
    unlink (tmp);
    return -1;
  }
  return 0;
}

static void
nulld_object_clear (struct nulld_object *o)
{
  free (o->ns);
  free (o->name);
  free (o->plan);
  free (o->vm_id);
}

/* Record what we created, with its plan and vmID labels. */
static int
nulld_record (struct nulld_handle *h, bool is_vm, const char *ns,
              const char *name, const json_t *labels)
{
  const char *plan = json_string_value (json_object_get (labels, "plan"));
  const char *vm_id = json_string_value (json_object_get (labels, "vmID"));
  struct nulld_object o = { .is_vm = is_vm };
  struct nulld_object *objs;

  o.ns = strdup (ns);
  o.name = strdup (name);
  o.plan = plan ? strdup (plan) : NULL;
  o.vm_id = vm_id ? strdup (vm_id) : NULL;
  if (!o.ns || !o.name || (plan && !o.plan) || (vm_id && !o.vm_id)) {
    nulld_object_clear (&o);
    ferry_error_errno (ENOMEM, "null: record %s/%s", ns, name);
    return -1;
  }
  pthread_mutex_lock (&h->lock);
  objs = realloc (h->objects, (h->nr_objects + 1) * sizeof *objs);
  if (objs) {
    h->objects = objs;
    h->objects[h->nr_objects++] = o;
  }
  pthread_mutex_unlock (&h->lock);
  if (!objs) {
    nulld_object_clear (&o);
    ferry_error_errno (ENOMEM, "null: record %s/%s", ns, name);
    return -1;
  }
  return 0;
}

static bool
nulld_known (struct nulld_handle *h, bool is_vm, const char *ns,
             const char *name)
{
  bool found = false;

  pthread_mutex_lock (&h->lock);
  for (size_t i = 0; i < h->nr_objects && !found; i++) {
    const struct nulld_object *o = &h->objects[i];
    found = o->is_vm == is_vm && strcmp (o->ns, ns) == 0
      && strcmp (o->name, name) == 0;
  }
  pthread_mutex_unlock (&h->lock);
  return found;
}

/* ---- Open, close, test ----------------------------------------------- */

static void nulld_close (void *handle);

static int
nulld_open (const struct ferry_open_args *args, void **handle)
{
  struct nulld_handle *h;
  const json_t *fw;

  if ((args->type && strcmp (args->type, "null") != 0)
      || nulld_setting_true (args->spec, "decline"))
    return FERRY_OPEN_DECLINED;
  if (nulld_setting_true (args->spec, "failOpen")) {
    ferry_error ("null: open %s: failure injected by settings.failOpen",
                 args->name ? args->name : "destination");
    return FERRY_OPEN_ERROR;
  }
  h = calloc (1, sizeof *h);
  if (!h) {
    ferry_error_errno (errno, "null: open");
    return FERRY_OPEN_ERROR;
  }
  pthread_mutex_init (&h->lock, NULL);
  h->fail_write_at = NULLD_NO_FAIL;
  if (args->state_dir && *args->state_dir
      && !(h->state_dir = strdup (args->state_dir))) {
    ferry_error_errno (errno, "null: open");
    goto err;
  }
  h->fail_test_connection = nulld_setting_true (args->spec, "failTestConnection");
  h->fail_volume_create = nulld_setting_true (args->spec, "failVolumeCreate");
  h->fail_vm_create = nulld_setting_true (args->spec, "failVmCreate");
  h->stream = nulld_setting_true (args->spec, "stream");
  fw = json_object_get (json_object_get (args->spec, "settings"), "failWriteAt");
  if (fw) {
    const char *s = json_string_value (fw);
    char *end;
    errno = 0;
    if (json_is_integer (fw) && json_integer_value (fw) >= 0)
      h->fail_write_at = json_integer_value (fw);
    else if (s && *s >= '0' && *s <= '9'
             && (h->fail_write_at = strtoull (s, &end, 10), errno == 0)
             && !*end)
      ;
    else {
      ferry_error ("null: settings.failWriteAt: expected a byte offset");
      goto err;
    }
  }
  *handle = h;
  return FERRY_OPEN_OK;

 err:
  nulld_close (h);
  return FERRY_OPEN_ERROR;
}

static void
nulld_close (void *handle)
{
  struct nulld_handle *h = handle;

  if (!h)
    return;
  for (size_t i = 0; i < h->nr_objects; i++)
    nulld_object_clear (&h->objects[i]);
  free (h->objects);
  pthread_mutex_destroy (&h->lock);
  free (h->state_dir);
  free (h);
}

static int
nulld_test_connection (void *handle)
{
  struct nulld_handle *h = handle;

  if (h->fail_test_connection) {
    ferry_error ("null: test connection: failure injected by "
                 "settings.failTestConnection");
    return -1;
  }
  return 0;
}

/* ---- Volumes --------------------------------------------------------- */

static uint64_t
nulld_mix64 (uint64_t x)
{
  x ^= x >> 30;
  x *= UINT64_C (0xbf58476d1ce4e5b9);
  x ^= x >> 27;
  x *= UINT64_C (0x94d049bb133111eb);
  x ^= x >> 31;
  return x;
}

static int
nulld_check_range (struct nulld_volume *v, const char *op, uint64_t count,
                   uint64_t offset)
{
  if (offset > v->capacity || count > v->capacity - offset) {
    ferry_error ("null: volume %s/%s: %s of %" PRIu64 " bytes at %" PRIu64
                 " is beyond the end (%" PRIu64 " bytes)",
                 v->ns, v->name, op, count, offset, v->capacity);
    errno = EINVAL;
    return -1;
  }
  return 0;
}

static int
nulld_pwrite (struct ferry_volume_sink *sink, const void *buf, size_t count,
              uint64_t offset)
{
  struct nulld_volume *v = sink->priv;
  const unsigned char *p = buf;
  uint64_t fail = v->h->fail_write_at, sum = 0;

  if (nulld_check_range (v, "write", count, offset) == -1)
    return -1;
  if (fail != NULLD_NO_FAIL && fail >= offset && fail - offset < count) {
    ferry_error_errno (EIO, "null: volume %s/%s: write at %" PRIu64
                       ": failure injected by settings.failWriteAt",
                       v->ns, v->name, fail);
    errno = EIO;
    return -1;
  }
  for (size_t i = 0; i < count; i++)
    if (p[i])
      sum += nulld_mix64 ((offset + i) * 256 + p[i]);

  pthread_mutex_lock (&v->lock);
  if (v->h->stream && offset != v->next) {
    uint64_t want = v->next;
    pthread_mutex_unlock (&v->lock);
    ferry_error ("null: volume %s/%s: stream write at %" PRIu64
                 ", expected %" PRIu64, v->ns, v->name, offset, want);
    errno = EINVAL;
    return -1;
  }
  v->next = offset + count;
  v->bytes_written += count;
  v->sum += sum;
  if (offset + count > v->end)
    v->end = offset + count;
  pthread_mutex_unlock (&v->lock);
  return 0;
}

static int
nulld_zero (struct ferry_volume_sink *sink, uint64_t offset, uint64_t length)
{
  struct nulld_volume *v = sink->priv;

  if (nulld_check_range (v, "zero", length, offset) == -1)
    return -1;
  pthread_mutex_lock (&v->lock);
  v->bytes_zeroed += length;
  if (offset + length > v->end)
    v->end = offset + length;
  pthread_mutex_unlock (&v->lock);
  return 0;
}

static int
nulld_flush (struct ferry_volume_sink *sink)
{
  struct nulld_volume *v = sink->priv;

  pthread_mutex_lock (&v->lock);
  v->flushes++;
  pthread_mutex_unlock (&v->lock);
  return 0;
}

static int
nulld_yes (struct ferry_volume_sink *sink)
{
  return 1;
}

static int
nulld_no (struct ferry_volume_sink *sink)
{
  return 0;
}

static void
nulld_volume_free (struct nulld_volume *v)
{
  if (!v)
    return;
  pthread_mutex_destroy (&v->lock);
  free (v->ns);
  free (v->name);
  free (v);
}

static int
nulld_volume_close (struct ferry_volume_sink *sink)
{
  struct nulld_volume *v = sink->priv;
  int r = 0;
  bool err;
  CLEANUP_FREE_NULLD char *path =
    nulld_path (v->h, "volumes", v->ns, v->name, true, &err);

  if (err)
    r = -1;
  else if (path) {
    char sum[24];
    json_t *doc;
    snprintf (sum, sizeof sum, "%016" PRIx64, v->sum);
    doc = json_pack ("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:s}",
                     "name", v->name, "namespace", v->ns,
                     "capacity", (json_int_t) v->capacity,
                     "bytesWritten", (json_int_t) v->bytes_written,
                     "bytesZeroed", (json_int_t) v->bytes_zeroed,
                     "flushes", (json_int_t) v->flushes,
                     "end", (json_int_t) v->end,
                     "contentSum", sum);
    if (!doc) {
      ferry_error ("null: volume %s/%s: out of memory", v->ns, v->name);
      r = -1;
    }
    else {
      r = nulld_write_json (path, doc);
      json_decref (doc);
    }
  }
  ferry_debug ("null: volume %s/%s closed: %" PRIu64 " bytes written, %"
               PRIu64 " zeroed, sum %016" PRIx64,
               v->ns, v->name, v->bytes_written, v->bytes_zeroed, v->sum);
  nulld_volume_free (v);
  free (sink);
  return r;
}

static const struct ferry_volume_sink_ops nulld_volume_ops = {
  .struct_size = sizeof (struct ferry_volume_sink_ops),
  .name = "null",
  .pwrite = nulld_pwrite,
  .zero = nulld_zero,
  .flush = nulld_flush,
  .can_out_of_order = nulld_yes,
  .starts_zeroed = nulld_yes,
  .close = nulld_volume_close,
};

/* A stream: in order only, no zero() (the engine writes zero buffers). */
static const struct ferry_volume_sink_ops nulld_stream_ops = {
  .struct_size = sizeof (struct ferry_volume_sink_ops),
  .name = "null-stream",
  .pwrite = nulld_pwrite,
  .flush = nulld_flush,
  .can_out_of_order = nulld_no,
  .starts_zeroed = nulld_yes,
  .close = nulld_volume_close,
};

static struct ferry_volume_sink *
nulld_volume_create (void *handle, const json_t *volume)
{
  struct nulld_handle *h = handle;
  const char *name = json_string_value (json_object_get (volume, "name"));
  const char *ns = json_string_value (json_object_get (volume, "namespace"));
  const json_t *cap = json_object_get (volume, "capacity");
  struct ferry_volume_sink *sink;
  struct nulld_volume *v;

  if (!ns)
    ns = "default";
  if (!nulld_safe_name (name) || !nulld_safe_name (ns)) {
    ferry_error ("null: create volume: bad name %s/%s",
                 ns, name ? name : "(none)");
    return NULL;
  }
  if (!json_is_integer (cap) || json_integer_value (cap) < 0) {
    ferry_error ("null: create volume %s/%s: capacity must be a byte count",
                 ns, name);
    return NULL;
  }
  if (h->fail_volume_create) {
    ferry_error ("null: create volume %s/%s: failure injected by "
                 "settings.failVolumeCreate", ns, name);
    return NULL;
  }
  if (nulld_known (h, false, ns, name)) {
    ferry_error ("null: create volume %s/%s: it already exists", ns, name);
    return NULL;
  }

  sink = calloc (1, sizeof *sink);
  v = calloc (1, sizeof *v);
  if (!sink || !v || !(v->ns = strdup (ns)) || !(v->name = strdup (name))) {
    ferry_error_errno (ENOMEM, "null: create volume %s/%s", ns, name);
    goto err;
  }
  pthread_mutex_init (&v->lock, NULL);
  v->h = h;
  v->capacity = json_integer_value (cap);
  if (nulld_record (h, false, ns, name,
                    json_object_get (volume, "labels")) == -1)
    goto err;
  sink->ops = h->stream ? &nulld_stream_ops : &nulld_volume_ops;
  sink->priv = v;
  return sink;

 err:
  if (v && v->ns && v->name)
    nulld_volume_free (v);
  else if (v) {
    free (v->ns);
    free (v);
  }
  free (sink);
  return NULL;
}

/* Warm migration: the volume volume_create made, for more random-access
 * writes.  Its counters go on from its file (a run after a crash) or
 * start at zero without one; the content sum then counts every write
 * again, so it matches the source's only when no byte was written twice.
 * A stream volume (a CDI upload) cannot be reopened.
 */
static struct ferry_volume_sink *
nulld_volume_open (void *handle, const json_t *volume)
{
  struct nulld_handle *h = handle;
  const char *name = json_string_value (json_object_get (volume, "name"));
  const char *ns = json_string_value (json_object_get (volume, "namespace"));
  const json_t *cap = json_object_get (volume, "capacity");
  CLEANUP_FREE_NULLD char *path = NULL;
  struct ferry_volume_sink *sink;
  struct nulld_volume *v;
  json_t *doc = NULL;
  bool err;

  if (!ns)
    ns = "default";
  if (!nulld_safe_name (name) || !nulld_safe_name (ns)) {
    ferry_error ("null: open volume: bad name %s/%s",
                 ns, name ? name : "(none)");
    return NULL;
  }
  if (h->stream) {
    ferry_error ("null: open volume %s/%s: a stream volume (settings.stream) "
                 "cannot be reopened for random-access writes", ns, name);
    return NULL;
  }
  if (!json_is_integer (cap) || json_integer_value (cap) < 0) {
    ferry_error ("null: open volume %s/%s: capacity must be a byte count",
                 ns, name);
    return NULL;
  }
  path = nulld_path (h, "volumes", ns, name, false, &err);
  if (err)
    return NULL;
  if (path && access (path, F_OK) == 0) {
    json_error_t jerr;
    doc = json_load_file (path, 0, &jerr);
    if (!doc) {
      ferry_error ("null: open volume %s/%s: %s: %s", ns, name, path, jerr.text);
      return NULL;
    }
  }
  else if (!nulld_known (h, false, ns, name)) {
    ferry_error ("null: open volume %s/%s: it has not been created", ns, name);
    return NULL;
  }

  sink = calloc (1, sizeof *sink);
  v = calloc (1, sizeof *v);
  if (!sink || !v || !(v->ns = strdup (ns)) || !(v->name = strdup (name))) {
    ferry_error_errno (ENOMEM, "null: open volume %s/%s", ns, name);
    json_decref (doc);
    if (v)
      free (v->ns);
    free (v);
    free (sink);
    return NULL;
  }
  pthread_mutex_init (&v->lock, NULL);
  v->h = h;
  v->capacity = json_integer_value (cap);
  if (doc) {
    const char *sum = json_string_value (json_object_get (doc, "contentSum"));
    v->bytes_written = json_integer_value (json_object_get (doc, "bytesWritten"));
    v->bytes_zeroed = json_integer_value (json_object_get (doc, "bytesZeroed"));
    v->flushes = json_integer_value (json_object_get (doc, "flushes"));
    v->end = json_integer_value (json_object_get (doc, "end"));
    v->sum = sum ? strtoull (sum, NULL, 16) : 0;
    json_decref (doc);
  }
  if (!nulld_known (h, false, ns, name)
      && nulld_record (h, false, ns, name,
                       json_object_get (volume, "labels")) == -1) {
    nulld_volume_free (v);
    free (sink);
    return NULL;
  }
  sink->ops = &nulld_volume_ops;
  sink->priv = v;
  return sink;
}

/* ---- VMs ------------------------------------------------------------- */

static const char *
nulld_spec_ns (const json_t *spec)
{
  const char *ns = json_string_value (json_object_get (spec, FERRY_VMSPEC_NAMESPACE));
  return ns && *ns ? ns : "default";
}

static int
nulld_vm_exists (void *handle, const char *ns, const char *name)
{
  struct nulld_handle *h = handle;
  CLEANUP_FREE_NULLD char *path = NULL;
  bool err;

  if (!ns)
    ns = "default";
  if (!nulld_safe_name (ns) || !nulld_safe_name (name)) {
    ferry_error ("null: VM %s/%s: bad name", ns, name ? name : "(none)");
    return -1;
  }
  if (nulld_known (h, true, ns, name))
    return 1;
  path = nulld_path (h, "vms", ns, name, false, &err);
  if (err)
    return -1;
  return path && access (path, F_OK) == 0;
}

static int
nulld_vm_create (void *handle, const json_t *spec, const json_t *volumes)
{
  struct nulld_handle *h = handle;
  const char *name = json_string_value (json_object_get (spec, FERRY_VMSPEC_NAME));
  const char *ns = nulld_spec_ns (spec);
  const json_t *disks = json_object_get (spec, FERRY_VMSPEC_DISKS);
  CLEANUP_FREE_NULLD char *path = NULL;
  bool err;
  int r;

  if (!nulld_safe_name (name) || !nulld_safe_name (ns)) {
    ferry_error ("null: create VM: bad name %s/%s", ns, name ? name : "(none)");
    return -1;
  }
  if (volumes && !json_is_array (volumes)) {
    ferry_error ("null: create VM %s/%s: volumes must be an array", ns, name);
    return -1;
  }
  if (json_is_array (disks) && volumes
      && json_array_size (disks) != json_array_size (volumes)) {
    ferry_error ("null: create VM %s/%s: %zu disks but %zu volumes",
                 ns, name, json_array_size (disks), json_array_size (volumes));
    return -1;
  }
  if (h->fail_vm_create) {
    ferry_error ("null: create VM %s/%s: failure injected by "
                 "settings.failVmCreate", ns, name);
    return -1;
  }
  r = nulld_vm_exists (h, ns, name);
  if (r == -1)
    return -1;
  if (r == 1) {
    ferry_error ("null: create VM %s/%s: it already exists", ns, name);
    return -1;
  }
  path = nulld_path (h, "vms", ns, name, true, &err);
  if (err)
    return -1;
  if (path) {
    json_t *doc = json_pack ("{s:O, s:O}", "spec", spec,
                             "volumes", volumes ? volumes : json_null ());
    if (!doc) {
      ferry_error ("null: create VM %s/%s: out of memory", ns, name);
      return -1;
    }
    r = nulld_write_json (path, doc);
    json_decref (doc);
    if (r == -1)
      return -1;
  }
  return nulld_record (h, true, ns, name,
                       json_object_get (spec, "labels"));
}

/* Records the power-on in the VM's file: "running": true. */
static int
nulld_vm_power_on (void *handle, const char *ns, const char *name)
{
  struct nulld_handle *h = handle;
  CLEANUP_FREE_NULLD char *path = NULL;
  json_error_t jerr;
  json_t *doc;
  bool err;
  int r;

  if (!ns)
    ns = "default";
  r = nulld_vm_exists (h, ns, name);
  if (r == -1)
    return -1;
  if (r == 0) {
    ferry_error ("null: power on VM %s/%s: it does not exist", ns, name);
    return -1;
  }
  path = nulld_path (h, "vms", ns, name, false, &err);
  if (err)
    return -1;
  if (!path)
    return 0;                           /* in memory: nothing to record */
  doc = json_load_file (path, 0, &jerr);
  if (!doc) {
    ferry_error ("null: power on VM %s/%s: %s: %s", ns, name, path, jerr.text);
    return -1;
  }
  json_object_set_new (doc, "running", json_true ());
  r = nulld_write_json (path, doc);
  json_decref (doc);
  return r;
}

static int
nulld_cleanup (void *handle, const char *plan, const char *vm_id)
{
  struct nulld_handle *h = handle;
  int r = 0;

  if (!plan || !vm_id) {
    ferry_error ("null: cleanup: plan and VM id are required");
    return -1;
  }
  pthread_mutex_lock (&h->lock);
  for (size_t i = 0; i < h->nr_objects; ) {
    struct nulld_object *o = &h->objects[i];
    if (o->plan && o->vm_id && strcmp (o->plan, plan) == 0
        && strcmp (o->vm_id, vm_id) == 0) {
      bool err;
      CLEANUP_FREE_NULLD char *path =
        nulld_path (h, o->is_vm ? "vms" : "volumes", o->ns, o->name,
                    false, &err);
      if (err)
        r = -1;
      else if (path && unlink (path) == -1 && errno != ENOENT) {
        ferry_error_errno (errno, "null: cleanup: remove %s", path);
        r = -1;
      }
      nulld_object_clear (o);
      h->objects[i] = h->objects[--h->nr_objects];
    }
    else
      i++;
  }
  pthread_mutex_unlock (&h->lock);
  return r;
}

static struct ferry_destination nulld_destination = {
  .name = "null",
  .description = "discards volumes but counts them; records VMs",
  .version = "1.0",
  .thread_model = FERRY_THREAD_MODEL_PARALLEL,
  .open = nulld_open,
  .close = nulld_close,
  .test_connection = nulld_test_connection,
  .volume_create = nulld_volume_create,
  .vm_create = nulld_vm_create,
  .vm_exists = nulld_vm_exists,
  .vm_power_on = nulld_vm_power_on,
  .cleanup = nulld_cleanup,
  .volume_open = nulld_volume_open,     /* warm migration */
};

FERRY_REGISTER_DESTINATION (nulld_destination)
