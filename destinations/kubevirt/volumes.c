/* ferry kubevirt destination: a CDI DataVolume per disk, filled through
 * the upload proxy.
 *
 * volume_create: StorageClass and namespace checked, DataVolume created
 * (spec.source.upload, spec.storage: CDI adds the filesystem overhead for
 * volumeMode Filesystem itself), wait for phase UploadReady, ask for an
 * upload token, start the POST.  The sink the engine gets is the core's
 * sequential stream sink wrapped so that closing it early stops the POST.
 * Its close waits for the DataVolume to reach Succeeded.
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "ferry/ferry.h"
#include "kubevirt.h"

static const char *
str (const json_t *o, const char *key)
{
  const char *s = json_string_value (json_object_get (o, key));
  return s != NULL && s[0] != '\0' ? s : NULL;
}

uint64_t
kv_volume_capacity (const json_t *volume)
{
  const char *name = str (volume, "name");
  const json_t *cap = json_object_get (volume, "capacity");

  if (vmspec_check_name ("kubevirt", "volume name", name) == -1)
    return 0;
  if (str (volume, "namespace") == NULL) {
    ferry_error ("kubevirt: volume %s: no namespace", name);
    return 0;
  }
  if (!json_is_integer (cap) || json_integer_value (cap) <= 0) {
    ferry_error ("kubevirt: volume %s: capacity missing or not a positive integer (bytes)", name);
    return 0;
  }
  return (uint64_t) json_integer_value (cap);
}

json_t *
kv_volume_labels (const json_t *volume)
{
  json_t *lab = json_object ();
  const char *k;
  const json_t *v;

  json_object_foreach ((json_t *) json_object_get (volume, "labels"), k, v)
    if (json_is_string (v))
      json_object_set (lab, k, (json_t *) v);
  json_object_set_new (lab, "app.kubernetes.io/created-by", json_string ("ferry"));
  return lab;
}

json_t *
kv_datavolume (const json_t *volume)
{
  const char *name = str (volume, "name"), *ns = str (volume, "namespace");
  const char *sc = str (volume, "storageClass");
  const char *am = str (volume, "accessMode"), *vm = str (volume, "volumeMode");
  json_t *dv, *meta, *lab, *storage;
  char size[32];

  uint64_t bytes = kv_volume_capacity (volume);

  if (bytes == 0)
    return NULL;
  snprintf (size, sizeof size, "%" PRIu64, bytes);
  lab = kv_volume_labels (volume);
  meta = json_pack ("{s:s, s:s, s:o, s:{s:s}}", "name", name, "namespace", ns,
                    "labels", lab,
                    "annotations",
                    /* as Forklift: bind now even for WaitForFirstConsumer */
                    "cdi.kubevirt.io/storage.bind.immediate.requested", "true");
  storage = json_pack ("{s:{s:{s:s}}}", "resources", "requests", "storage", size);
  if (meta == NULL || storage == NULL) {
    json_decref (meta);
    json_decref (storage);
    ferry_error ("kubevirt: volume %s: out of memory", name);
    return NULL;
  }
  if (sc)
    json_object_set_new (storage, "storageClassName", json_string (sc));
  if (am)
    json_object_set_new (storage, "accessModes", json_pack ("[s]", am));
  if (vm)
    json_object_set_new (storage, "volumeMode", json_string (vm));
  dv = json_pack ("{s:s, s:s, s:o, s:{s:{s:{}}, s:o}}",
                  "apiVersion", "cdi.kubevirt.io/v1beta1",
                  "kind", "DataVolume",
                  "metadata", meta,
                  "spec", "source", "upload", "storage", storage);
  if (dv == NULL)
    ferry_error ("kubevirt: volume %s: out of memory", name);
  return dv;
}

/* "Type=Status (Reason: message)" for each condition, then events. */
static void
describe_conditions (FILE *f, const char *what, const json_t *obj)
{
  const json_t *c, *status = json_object_get (obj, "status");
  const char *phase = str (status, "phase");
  size_t i;

  if (obj == NULL)
    return;
  fprintf (f, "; %s", what);
  if (phase)
    fprintf (f, " phase %s", phase);
  json_array_foreach (json_object_get (status, "conditions"), i, c) {
    const char *reason = str (c, "reason"), *msg = str (c, "message");
    fprintf (f, ", %s=%s", str (c, "type") ? str (c, "type") : "?",
             str (c, "status") ? str (c, "status") : "?");
    if (reason || msg)
      fprintf (f, " (%s%s%s)", reason ? reason : "", reason && msg ? ": " : "",
               msg ? msg : "");
  }
}

char *
kv_dv_diagnosis (struct kv_handle *h, const char *ns, const char *name)
{
  DEST_CLEANUP_FREE char *en = kube_escape (ns), *ename = kube_escape (name);
  DEST_CLEANUP_FREE char *p1 = NULL, *p2 = NULL, *p3 = NULL;
  DEST_CLEANUP_JSON json_t *dv = NULL, *pvc = NULL, *events = NULL;
  char *out = NULL;
  size_t len = 0;
  FILE *f;
  const json_t *e;
  size_t i;

  if (en == NULL || ename == NULL ||
      asprintf (&p1, "/apis/cdi.kubevirt.io/v1beta1/namespaces/%s/datavolumes/%s", en, ename) == -1 ||
      asprintf (&p2, "/api/v1/namespaces/%s/persistentvolumeclaims/%s", en, ename) == -1 ||
      asprintf (&p3, "/api/v1/namespaces/%s/events?fieldSelector=involvedObject.name%%3D%s",
                en, ename) == -1)
    return strdup ("");
  /* Diagnosis is best effort: its own failures do not replace the error. */
  {
    char *saved = strdup (ferry_get_error ());
    kube_request (&h->k, "GET", NULL, p1, NULL, NULL, &dv);
    kube_request (&h->k, "GET", NULL, p2, NULL, NULL, &pvc);
    kube_request (&h->k, "GET", NULL, p3, NULL, NULL, &events);
    ferry_error ("%s", saved ? saved : "");
    free (saved);
  }
  f = open_memstream (&out, &len);
  if (f == NULL)
    return strdup ("");
  describe_conditions (f, "DataVolume", dv);
  describe_conditions (f, "PVC", pvc);
  /* The last three events: the most recent say the most. */
  json_array_foreach (json_object_get (events, "items"), i, e) {
    if (i + 3 < json_array_size (json_object_get (events, "items")))
      continue;
    fprintf (f, "; event %s: %s", str (e, "reason") ? str (e, "reason") : "?",
             str (e, "message") ? str (e, "message") : "");
  }
  fclose (f);
  return out;
}

/* Add what the DataVolume and its PVC say to this thread's error. */
static void
append_diagnosis (struct kv_handle *h, const char *ns, const char *name)
{
  DEST_CLEANUP_FREE char *err = strdup (ferry_get_error ());
  DEST_CLEANUP_FREE char *diag = kv_dv_diagnosis (h, ns, name);

  if (err != NULL && diag != NULL)
    ferry_error ("%s%s", err, diag);
}

/* ---- waiting for the DataVolume --------------------------------------- */

struct phase_wait {
  const char *want;                     /* "UploadReady" or "Succeeded" */
};

static int
phase_is (const json_t *dv, void *opaque)
{
  struct phase_wait *w = opaque;
  const char *phase = str (json_object_get (dv, "status"), "phase");
  const char *name = str (json_object_get (dv, "metadata"), "name");

  if (dv == NULL) {
    ferry_error ("kubevirt: DataVolume vanished while waiting for phase %s", w->want);
    return -1;
  }
  if (phase != NULL && strcmp (phase, w->want) == 0)
    return 1;
  if (phase != NULL && strcmp (phase, "Succeeded") == 0 &&
      strcmp (w->want, "UploadReady") == 0) {
    ferry_error ("kubevirt: DataVolume %s is already Succeeded: it holds data from an earlier upload",
                 name ? name : "");
    return -1;
  }
  if (phase != NULL && strcmp (phase, "Failed") == 0) {
    ferry_error ("kubevirt: DataVolume %s failed", name ? name : "");
    return -1;
  }
  return 0;
}

static int
wait_phase (struct kv_handle *h, const char *ns, const char *name,
            const char *want, unsigned timeout)
{
  DEST_CLEANUP_FREE char *en = kube_escape (ns), *ename = kube_escape (name);
  DEST_CLEANUP_FREE char *path = NULL, *what = NULL;
  struct phase_wait w = { .want = want };

  if (en == NULL || ename == NULL ||
      asprintf (&path, "/apis/cdi.kubevirt.io/v1beta1/namespaces/%s/datavolumes/%s", en, ename) == -1 ||
      asprintf (&what, "DataVolume %s/%s phase %s", ns, name, want) == -1) {
    ferry_error ("kubevirt: out of memory");
    return -1;
  }
  if (kube_wait (&h->k, path, timeout, phase_is, &w, what) == -1) {
    append_diagnosis (h, ns, name);
    return -1;
  }
  return 0;
}

/* ---- creating it ------------------------------------------------------ */

/* The DataVolume exists already: reuse it only when it is ours (same plan
 * and VM: a resumed migration) and not yet filled.
 */
static int
adopt_existing (struct kv_handle *h, const char *path, const json_t *dv)
{
  DEST_CLEANUP_JSON json_t *old = NULL;

  if (kv_get_ours (h, path, dv, &old) == -1)
    return -1;
  ferry_info ("kubevirt: DataVolume %s exists from an earlier attempt of this plan: reusing it",
              str (json_object_get (dv, "metadata"), "name"));
  return 0;
}

struct kv_sink {
  struct ferry_volume_sink *stream;     /* the core's stream sink */
  struct kv_upload *upload;             /* NULL once finished */
  struct kv_handle *h;
  char *ns, *name;
};

static int
sink_write (void *opaque, const void *buf, size_t count)
{
  struct kv_sink *s = opaque;
  return kv_upload_write (s->upload, buf, count);
}

static int
sink_finish (void *opaque)
{
  struct kv_sink *s = opaque;
  struct kv_upload *u = s->upload;

  s->upload = NULL;
  if (kv_upload_finish (u) == -1) {
    append_diagnosis (s->h, s->ns, s->name);
    return -1;
  }
  return wait_phase (s->h, s->ns, s->name, "Succeeded", s->h->done_timeout);
}

static int
kv_pwrite (struct ferry_volume_sink *sink, const void *buf, size_t count,
           uint64_t offset)
{
  struct kv_sink *s = sink->priv;
  return s->stream->ops->pwrite (s->stream, buf, count, offset);
}

static int
kv_zero (struct ferry_volume_sink *sink, uint64_t offset, uint64_t length)
{
  struct kv_sink *s = sink->priv;
  return s->stream->ops->zero (s->stream, offset, length);
}

static int
kv_flush (struct ferry_volume_sink *sink)
{
  struct kv_sink *s = sink->priv;
  return s->stream->ops->flush (s->stream);
}

static int
kv_close (struct ferry_volume_sink *sink)
{
  struct kv_sink *s = sink->priv;
  int r = s->stream->ops->close (s->stream);

  if (s->upload != NULL) {              /* short or failed: finish never ran */
    kv_upload_abort (s->upload);
    r = -1;
  }
  free (s->ns);
  free (s->name);
  free (s);
  free (sink);
  return r;
}

static const struct ferry_volume_sink_ops kv_sink_ops = {
  .struct_size = sizeof kv_sink_ops,
  .name = "kubevirt-upload",
  .pwrite = kv_pwrite,
  .zero = kv_zero,
  .flush = kv_flush,
  .close = kv_close,
};

struct ferry_volume_sink *
kv_volume_create (void *handle, const json_t *volume)
{
  struct kv_handle *h = handle;
  DEST_CLEANUP_JSON json_t *dv = kv_datavolume (volume);
  DEST_CLEANUP_FREE char *en = NULL, *path = NULL, *coll = NULL;
  DEST_CLEANUP_FREE char *token = NULL, *proxy = NULL, *url = NULL, *what = NULL;
  const char *ns, *name, *sc;
  struct kv_sink *s = NULL;
  struct ferry_volume_sink *sink = NULL;
  long http;

  if (dv == NULL)
    return NULL;
  if (h->transfer_job) {
    /* Jobs fill the PVCs (disk_copy); nothing streams from the engine. */
    ferry_error ("kubevirt: volume %s: the destination Provider says transfer: job, but the engine asked to stream this disk (a warm or delta copy, or an engine without disk_copy): use transfer: upload for such plans",
                 str (volume, "name"));
    return NULL;
  }
  ns = str (volume, "namespace");
  name = str (volume, "name");
  sc = str (volume, "storageClass");
  en = kube_escape (ns);
  if (en == NULL ||
      asprintf (&coll, "/apis/cdi.kubevirt.io/v1beta1/namespaces/%s/datavolumes", en) == -1 ||
      asprintf (&path, "%s/%s", coll, name) == -1 ||
      asprintf (&what, "PVC %s/%s", ns, name) == -1) {
    ferry_error ("kubevirt: volume %s: out of memory", name);
    return NULL;
  }
  if (kv_ensure_namespace (h, ns) == -1 ||
      (sc != NULL && kv_check_storage_class (h, sc) == -1))
    return NULL;
  kv_note_namespace (h, ns);
  http = kube_request (&h->k, "POST", NULL, coll, dv, NULL, NULL);
  if (http == 409) {
    if (adopt_existing (h, path, dv) == -1)
      return NULL;
  }
  else if (http < 200 || http >= 300)
    return NULL;
  if (wait_phase (h, ns, name, "UploadReady", h->ready_timeout) == -1)
    return NULL;
  proxy = kv_upload_proxy_url (h);
  if (proxy == NULL)
    return NULL;
  token = kv_upload_token (h, ns, name);
  if (token == NULL)
    return NULL;
  /* async: the proxy answers once the bytes are in, CDI finishes later;
   * either way close waits for the DataVolume to be Succeeded.
   */
  if (asprintf (&url, "%s/v1beta1/%s", proxy,
                h->upload_async ? "upload-async" : "upload") == -1) {
    url = NULL;
    ferry_error ("kubevirt: volume %s: out of memory", name);
    return NULL;
  }
  s = calloc (1, sizeof *s);
  sink = calloc (1, sizeof *sink);
  if (s == NULL || sink == NULL ||
      (s->ns = strdup (ns)) == NULL || (s->name = strdup (name)) == NULL) {
    ferry_error ("kubevirt: volume %s: out of memory", name);
    goto fail;
  }
  s->h = h;
  s->upload = kv_upload_start (h, url, token, (uint64_t) json_integer_value (json_object_get (volume, "capacity")),
                               what);
  if (s->upload == NULL)
    goto fail;
  s->stream = ferry_stream_sink_new ((uint64_t) json_integer_value (json_object_get (volume, "capacity")),
                                     sink_write, sink_finish, s);
  if (s->stream == NULL) {
    kv_upload_abort (s->upload);
    goto fail;
  }
  sink->ops = &kv_sink_ops;
  sink->priv = s;
  ferry_debug ("kubevirt: uploading into %s through %s", what, proxy);
  return sink;
 fail:
  if (s) {
    free (s->ns);
    free (s->name);
  }
  free (s);
  free (sink);
  return NULL;
}
