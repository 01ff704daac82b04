/* ferry core: a disk copied by the destination itself (issue 7 scale-out,
 * `transfer: job`): the `source` object handed to the destination's
 * disk_copy callback, and the call.
 *
 * The source object carries the source Provider as manifests (its Secret
 * decrypted, as stringData) so a worker elsewhere (`ferry copy-disk` in a
 * Kubernetes Job) can open the same source.  It holds credentials: it is
 * never logged here, and the destination must not log it either.
 *
 * A disk thread must not use the VM thread's struct ferry (one thread at a
 * time), so the manifests are read through a read-only context of its own.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "objects.h"
#include "pipeline.h"

/* A Secret as `ferry apply` reads it: {apiVersion, kind, metadata, type,
 * stringData} with the decrypted values; NULL with an error.
 */
static json_t *
secret_manifest (struct ferry *f, const char *ns, const char *name,
                 const char *owner)
{
  struct ferry_store_row row = { 0 };
  int r = ferry_internal_store_get (f->store, "Secret", ns, name, &row);

  if (r <= 0) {
    if (r == 0)
      ferry_error ("%s: its secret %s/%s does not exist", owner, ns, name);
    return NULL;
  }
  json_t *data = ferry_internal_secret_unseal (f, ns, name, row.sealed,
                                               row.sealed_len);
  const char *type = json_string_value (json_object_get (row.spec, "type"));
  json_t *obj = data
    ? json_pack ("{s:s, s:s, s:{s:s, s:s}, s:s, s:o}",
                 "apiVersion", "v1", "kind", "Secret",
                 "metadata", "name", name, "namespace", ns,
                 "type", type && *type ? type : "Opaque",
                 "stringData", data)
    : NULL;
  if (data && !obj)
    ferry_error ("%s: secret %s/%s: out of memory", owner, ns, name);
  ferry_internal_store_row_clear (&row);
  return obj;
}

/* A stored object as a manifest: apiVersion, kind, metadata {name,
 * namespace, labels, annotations}, spec.  No uid, status or generation:
 * the worker's store makes its own.
 */
static json_t *
object_manifest (const struct ferry_store_row *row)
{
  json_t *meta = json_pack ("{s:s, s:s}", "name", row->name, "namespace", row->ns);
  json_t *v;

  if (meta && (v = json_object_get (row->metadata, "labels")) && json_object_size (v))
    json_object_set (meta, "labels", v);
  if (meta && (v = json_object_get (row->metadata, "annotations")) && json_object_size (v))
    json_object_set (meta, "annotations", v);
  return json_pack ("{s:s, s:s, s:o*, s:O?}", "apiVersion", row->api_version,
                    "kind", row->kind, "metadata", meta, "spec", row->spec);
}

/* Append the Secret the spec names (once: seen is a set of "ns/name"). */
static int
add_secret_of (struct ferry *f, json_t *docs, json_t *seen,
               const char *obj_ns, const json_t *spec, const char *owner)
{
  const char *name, *ns;
  CLEANUP_FREE char *key = NULL;

  if (!ferry_internal_secret_ref (spec, obj_ns, &ns, &name))
    return 0;
  if (asprintf (&key, "%s/%s", ns, name) == -1) {
    ferry_error_errno (errno, "%s: secret %s/%s", owner, ns, name);
    return -1;
  }
  if (json_object_get (seen, key))
    return 0;
  json_t *s = secret_manifest (f, ns, name, owner);
  if (!s)
    return -1;
  json_object_set_new (seen, key, json_true ());
  json_array_append_new (docs, s);
  return 0;
}

struct host_scan {
  struct ferry *f;
  const char *ns, *name;                /* the Provider */
  json_t *docs, *seen;
  int err;
};

static int
add_host (void *opaque, const struct ferry_store_row *row)
{
  struct host_scan *h = opaque;
  CLEANUP_FREE char *owner = NULL;

  if (!ferry_internal_host_of (row, h->ns, h->name))
    return 0;
  json_t *doc = object_manifest (row);
  if (!doc || asprintf (&owner, "host %s/%s", row->ns, row->name) == -1) {
    json_decref (doc);
    ferry_error ("host %s/%s: out of memory", row->ns, row->name);
    h->err = -1;
    return -1;
  }
  json_array_append_new (h->docs, doc);
  if (add_secret_of (h->f, h->docs, h->seen, row->ns, row->spec, owner) == -1) {
    h->err = -1;
    return -1;
  }
  return 0;
}

char *
ferry_internal_provider_manifests (struct ferry *f, const char *ns,
                                   const char *name)
{
  struct ferry_store_row row = { 0 };
  CLEANUP_JSON_DECREF json_t *docs = json_array ();
  CLEANUP_JSON_DECREF json_t *seen = json_object ();
  CLEANUP_FREE char *owner = NULL;
  char *out = NULL;
  size_t len = 0;

  if (!docs || !seen || asprintf (&owner, "provider %s/%s", ns, name) == -1) {
    ferry_error ("provider %s/%s: manifests: out of memory", ns, name);
    return NULL;
  }
  int r = ferry_internal_store_get (f->store, "Provider", ns, name, &row);
  if (r <= 0) {
    if (r == 0)
      ferry_internal_not_found_error ("Provider", ns, name);
    return NULL;
  }
  json_t *doc = object_manifest (&row);
  if (!doc) {
    ferry_error ("%s: manifests: out of memory", owner);
    ferry_internal_store_row_clear (&row);
    return NULL;
  }
  json_array_append_new (docs, doc);
  r = add_secret_of (f, docs, seen, ns, row.spec, owner);
  ferry_internal_store_row_clear (&row);
  if (r == -1)
    return NULL;

  struct host_scan h = { f, ns, name, docs, seen, 0 };
  if (ferry_internal_store_list (f->store, "Host", NULL, add_host, &h) == -1
      && h.err)
    return NULL;

  /* Multi-document YAML: "---\n" before each document. */
  size_t i;
  json_array_foreach (docs, i, doc) {
    char *y = ferry_to_yaml (doc);
    if (!y) {
      if (out)
        explicit_bzero (out, len);
      free (out);
      return NULL;
    }
    size_t ylen = strlen (y);
    char *n = realloc (out, len + 4 + ylen + 1);
    if (!n) {
      explicit_bzero (y, ylen);
      free (y);
      if (out)
        explicit_bzero (out, len);
      free (out);
      ferry_error ("%s: manifests: out of memory", owner);
      return NULL;
    }
    out = n;
    memcpy (out + len, "---\n", 4);
    memcpy (out + len + 4, y, ylen + 1);
    len += 4 + ylen;
    explicit_bzero (y, ylen);
    free (y);
  }
  return out;
}

/* The source object of disk_copy (include/ferry/destination.h). */
static json_t *
remote_source (struct ferry_vm_run *run, const struct ferry_disk_copy *c)
{
  struct ferry *f = ferry_open (ferry_get0_state_dir (run->f),
                                FERRY_OPEN_READONLY | FERRY_OPEN_NO_MODULES);
  CLEANUP_FREE char *provider = NULL;
  char *manifests = NULL;
  json_t *src = NULL;

  if (!f)
    return NULL;
  manifests = ferry_internal_provider_manifests (f, run->source->ns,
                                                 run->source->name);
  ferry_close (f);
  if (!manifests)
    return NULL;
  if (asprintf (&provider, "%s/%s", run->source->ns, run->source->name) == -1)
    provider = NULL;
  if (provider)
    src = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s?, s:I}",
                     "manifests", manifests, "provider", provider,
                     "vm", ferry_internal_run_vm_id (run),
                     "vmName", ferry_internal_run_vm_name (run),
                     "disk", c->disk_id, "snapshot", c->snapshot,
                     "size", json_integer_value (json_object_get (c->volume, "capacity")));
  explicit_bzero (manifests, strlen (manifests));
  free (manifests);
  if (!src)
    ferry_error ("the source of disk %s: out of memory", c->disk_id);
  return src;
}

int
ferry_internal_remote_copy (struct ferry_vm_run *run, struct ferry_disk_copy *c,
                            ferry_progress_fn progress, void *opaque,
                            volatile int *cancel)
{
  const struct ferry_destination *d = run->destination->destination;
  struct timespec ts;

  if (c->reopen || !d->disk_copy)
    return 0;
  /* Asked first, so the manifests (credentials) are only built for a
   * destination that will copy the disk.
   */
  int would = d->disk_copy (run->destination->handle, c->volume, NULL,
                            NULL, NULL, cancel);
  if (would != 1) {
    if (would == -1)
      ferry_error_prefix ("destination %s: disk_copy", d->name);
    return would == -1 ? -1 : 0;
  }
  CLEANUP_JSON_DECREF json_t *source = remote_source (run, c);
  if (!source)
    return -1;
  clock_gettime (CLOCK_REALTIME, &ts);
  double started = (double) ts.tv_sec + ts.tv_nsec / 1e9;
  int r = d->disk_copy (run->destination->handle, c->volume, source,
                        progress, opaque, cancel);
  /* The manifests hold credentials: do not leave them in freed memory. */
  const char *m = json_string_value (json_object_get (source, "manifests"));
  if (m)
    explicit_bzero ((char *) m, strlen (m));
  if (r != 1) {
    if (r != 0 && r != -1) {
      ferry_error ("destination %s: disk_copy returned %d (want 1, 0 or -1)",
                   d->name, r);
      return -1;
    }
    if (r == -1 && !*ferry_get_error ())
      ferry_error ("destination %s: copying disk %s failed", d->name, c->disk_id);
    return r;
  }
  clock_gettime (CLOCK_REALTIME, &ts);
  uint64_t size = (uint64_t) json_integer_value (json_object_get (c->volume, "capacity"));
  c->started = started;
  c->ended = (double) ts.tv_sec + ts.tv_nsec / 1e9;
  /* As a transfer reports it; the worker verified the content itself. */
  c->res = (struct ferry_transfer_result) {
    .bytes_read = size,
    .bytes_written = size,
    .seconds = c->ended - c->started,
  };
  ferry_debug ("disk %s of VM %s: copied by destination %s in %.1f s",
               c->disk_id, ferry_internal_run_vm_name (run), d->name,
               c->ended - c->started);
  return 1;
}
