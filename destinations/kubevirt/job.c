/* ferry kubevirt destination: transfer: job, the disk copied by a Job in
 * the destination cluster (the scale-out path of issue 7).
 *
 * disk_copy makes the disk's PVC (pvc.c), then its Secret, ServiceAccount,
 * Role, RoleBinding and Job (jobspec.c), and follows the Job: the worker
 * (`ferry copy-disk --report`) writes its progress into the Job's
 * annotation ferry.konveyor.io/progress through report_progress, which is
 * handed on to the engine; the Job's Complete or Failed condition ends
 * it.  The Secret (the source's credentials) is deleted as soon as the
 * Job has ended, whatever the outcome; cancelling deletes the Job.
 *
 * A second run of the same migration (after a crash) finds the objects of
 * the first: the PVC is reused, the Secret replaced, a running Job
 * followed, a Complete one taken as done, a Failed one replaced.
 */
#include <config.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>

#include "ferry/ferry.h"
#include "kubevirt.h"

#define GONE_WAIT 120                   /* seconds for a replaced Job to be gone */
#define API_RETRIES 5                   /* consecutive failed polls tolerated */

static const char *
str (const json_t *o, const char *key)
{
  const char *s = json_string_value (json_object_get (o, key));
  return s != NULL && s[0] != '\0' ? s : NULL;
}

static void
sleep_ms (unsigned ms)
{
  struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };
  nanosleep (&ts, NULL);
}

/* Sleep ms in slices, returning early (1) once *cancel is set. */
static int
nap (unsigned ms, volatile int *cancel)
{
  while (ms > 0) {
    unsigned step = ms > 100 ? 100 : ms;
    if (cancel != NULL && *cancel)
      return 1;
    sleep_ms (step);
    ms -= step;
  }
  return cancel != NULL && *cancel;
}

/* PREFIX + "namespaces/NS/" + RESOURCE [+ "/" NAME]. */
static char *
path_of (const char *prefix, const char *ns, const char *resource, const char *name)
{
  DEST_CLEANUP_FREE char *en = kube_escape (ns), *ename = name ? kube_escape (name) : NULL;
  char *p = NULL;

  if (en == NULL || (name != NULL && ename == NULL) ||
      asprintf (&p, "%snamespaces/%s/%s%s%s", prefix, en, resource,
                name ? "/" : "", name ? ename : "") == -1) {
    ferry_error ("kubevirt: out of memory");
    return NULL;
  }
  return p;
}

/* Create obj; if it exists and is ours, keep it (replace: PUT obj over
 * it); if it is someone else's, refuse.
 */
static int
create_or_adopt (struct kv_handle *h, const char *prefix, const char *resource,
                 json_t *obj, int replace)
{
  const json_t *meta = json_object_get (obj, "metadata");
  const char *ns = str (meta, "namespace"), *name = str (meta, "name");
  DEST_CLEANUP_FREE char *coll = path_of (prefix, ns, resource, NULL);
  DEST_CLEANUP_FREE char *path = path_of (prefix, ns, resource, name);
  DEST_CLEANUP_JSON json_t *old = NULL;
  long http;

  if (coll == NULL || path == NULL)
    return -1;
  http = kube_request (&h->k, "POST", NULL, coll, obj, NULL, NULL);
  if (http >= 200 && http < 300)
    return 0;
  if (http != 409)
    return -1;
  if (kv_get_ours (h, path, obj, &old) == -1)
    return -1;
  if (!replace)
    return 0;
  json_object_set (json_object_get (obj, "metadata"), "resourceVersion",
                   json_object_get (json_object_get (old, "metadata"), "resourceVersion"));
  http = kube_request (&h->k, "PUT", NULL, path, obj, NULL, NULL);
  json_object_del (json_object_get (obj, "metadata"), "resourceVersion");
  return http >= 200 && http < 300 ? 0 : -1;
}

/* DELETE, 404 being fine.  Background: the Job's pods go with it. */
static int
delete_object (struct kv_handle *h, const char *prefix, const char *resource,
               const char *ns, const char *name)
{
  DEST_CLEANUP_FREE char *path = path_of (prefix, ns, resource, name);
  DEST_CLEANUP_FREE char *full = NULL;
  long http;

  if (path == NULL || asprintf (&full, "%s?propagationPolicy=Background", path) == -1)
    return -1;
  http = kube_request (&h->k, "DELETE", NULL, full, NULL, NULL, NULL);
  if (http == 404) {
    ferry_clear_error ();
    return 0;
  }
  return http >= 200 && http < 300 ? 0 : -1;
}

/* The Job's outcome: 1 Complete, -1 Failed (*reason, *message borrowed
 * from job), 0 still running.
 */
static int
job_outcome (const json_t *job, const char **reason, const char **message)
{
  const json_t *c;
  size_t i;

  json_array_foreach (json_object_get (json_object_get (job, "status"), "conditions"), i, c) {
    const char *type = str (c, "type"), *status = str (c, "status");
    if (type == NULL || status == NULL || strcmp (status, "True") != 0)
      continue;
    if (strcmp (type, "Complete") == 0)
      return 1;
    if (strcmp (type, "Failed") == 0) {
      *reason = str (c, "reason");
      *message = str (c, "message");
      return -1;
    }
  }
  return 0;
}

/* The last line of the newest pod's termination message (the worker's
 * last words, FallbackToLogsOnError), or NULL.  Best effort: its own
 * failures leave the error as it was.  Caller frees.
 */
static char *
last_words (struct kv_handle *h, const char *ns, const char *job)
{
  DEST_CLEANUP_FREE char *coll = path_of ("/api/v1/", ns, "pods", NULL);
  DEST_CLEANUP_FREE char *sel = NULL, *esel = NULL, *path = NULL;
  DEST_CLEANUP_FREE char *saved = strdup (ferry_get_error ());
  DEST_CLEANUP_JSON json_t *pods = NULL;
  const char *best = NULL, *best_time = NULL;
  const json_t *pod, *cs;
  size_t i, j;
  char *out = NULL;

  if (coll == NULL || asprintf (&sel, "job-name=%s", job) == -1 ||
      (esel = kube_escape (sel)) == NULL ||
      asprintf (&path, "%s?labelSelector=%s", coll, esel) == -1)
    return NULL;
  pods = kube_list (&h->k, path);
  ferry_error ("%s", saved ? saved : "");
  json_array_foreach (pods, i, pod) {
    const char *t = str (json_object_get (pod, "metadata"), "creationTimestamp");
    json_array_foreach (json_object_get (json_object_get (pod, "status"), "containerStatuses"), j, cs) {
      const char *m = str (json_object_get (json_object_get (cs, "state"), "terminated"), "message");
      if (m != NULL && (best_time == NULL || (t != NULL && strcmp (t, best_time) >= 0))) {
        best = m;
        best_time = t ? t : "";
      }
    }
  }
  if (best != NULL) {
    size_t len = strlen (best);
    const char *start;
    while (len > 0 && (best[len - 1] == '\n' || best[len - 1] == ' '))
      len--;
    start = best + len;
    while (start > best && start[-1] != '\n')
      start--;
    len -= (size_t) (start - best);
    if (len > 400)
      len = 400;
    if (asprintf (&out, "%.*s", (int) len, start) == -1)
      out = NULL;
  }
  return out;
}

struct follow {
  struct kv_handle *h;
  const char *ns, *job, *disk, *vm_name;
  uint64_t size;                        /* bytes */
  ferry_progress_fn progress;
  void *opaque;
  volatile int *cancel;
  uint64_t last_done;                   /* bytes, last reported */
};

static void
forward_progress (struct follow *f, const json_t *job)
{
  const char *text = str (json_object_get (json_object_get (job, "metadata"), "annotations"),
                          KV_PROGRESS_ANNOTATION);
  DEST_CLEANUP_JSON json_t *p = NULL;
  struct ferry_transfer_progress tp;

  if (text == NULL || f->progress == NULL)
    return;
  p = json_loads (text, 0, NULL);
  if (!json_is_integer (json_object_get (p, "done")))
    return;                             /* not ours to judge: just no progress */
  tp.done = (uint64_t) json_integer_value (json_object_get (p, "done"));
  tp.total = json_is_integer (json_object_get (p, "total"))
    ? (uint64_t) json_integer_value (json_object_get (p, "total")) : f->size;
  tp.rate = json_number_value (json_object_get (p, "rate"));
  if (tp.done == f->last_done)
    return;
  f->last_done = tp.done;
  f->progress (f->opaque, &tp);
}

/* Poll the Job until it ends: 1 Complete, -1 Failed / cancelled / gone. */
static int
follow_job (struct follow *f)
{
  DEST_CLEANUP_FREE char *path = path_of ("/apis/batch/v1/", f->ns, "jobs", f->job);
  unsigned delay = 100;                 /* ms, doubling to 2 s */
  int failures = 0;

  if (path == NULL)
    return -1;
  for (;;) {
    DEST_CLEANUP_JSON json_t *job = NULL;
    const char *reason = NULL, *message = NULL;
    long http;
    int r;

    if (f->cancel != NULL && *f->cancel) {
      delete_object (f->h, "/apis/batch/v1/", "jobs", f->ns, f->job);
      ferry_error ("kubevirt: copying disk %s of VM %s: cancelled; Job %s/%s deleted",
                   f->disk, f->vm_name, f->ns, f->job);
      return -1;
    }
    http = kube_request (&f->h->k, "GET", NULL, path, NULL, NULL, &job);
    if (http == 404) {
      ferry_error ("kubevirt: Job %s/%s copying disk %s of VM %s was deleted before it ended",
                   f->ns, f->job, f->disk, f->vm_name);
      return -1;
    }
    if (http < 200 || http >= 300) {
      /* An API hiccup during a long copy is not the copy failing. */
      if (++failures >= API_RETRIES) {
        ferry_error_prefix ("kubevirt: following Job %s/%s (disk %s of VM %s)",
                            f->ns, f->job, f->disk, f->vm_name);
        return -1;
      }
      ferry_warn ("kubevirt: following Job %s/%s: %s (retrying)", f->ns, f->job,
                  ferry_get_error ());
      ferry_clear_error ();
    }
    else {
      failures = 0;
      forward_progress (f, job);
      r = job_outcome (job, &reason, &message);
      if (r == 1)
        return 1;
      if (r == -1) {
        DEST_CLEANUP_FREE char *words = last_words (f->h, f->ns, f->job);
        ferry_error ("kubevirt: Job %s/%s copying disk %s of VM %s failed: %s%s%s%s%s (see kubectl logs job/%s -n %s)",
                     f->ns, f->job, f->disk, f->vm_name,
                     reason ? reason : "Failed", message ? ": " : "", message ? message : "",
                     words ? "; the worker said: " : "", words ? words : "",
                     f->job, f->ns);
        return -1;
      }
    }
    if (nap (delay, f->cancel) == 1)
      continue;                         /* the top of the loop cancels */
    delay = delay * 2 > 2000 ? 2000 : delay * 2;
  }
}

/* Wait for a deleted Job to be gone, so its name can be used again. */
static int
wait_gone (struct kv_handle *h, const char *ns, const char *job, volatile int *cancel)
{
  DEST_CLEANUP_FREE char *path = path_of ("/apis/batch/v1/", ns, "jobs", job);
  unsigned waited = 0;

  if (path == NULL)
    return -1;
  while (waited < GONE_WAIT * 1000) {
    long http = kube_request (&h->k, "GET", NULL, path, NULL, NULL, NULL);
    if (http == 404) {
      ferry_clear_error ();
      return 0;
    }
    if (http < 200 || http >= 300)
      return -1;
    if (nap (200, cancel) == 1) {
      ferry_error ("kubevirt: cancelled while Job %s/%s was being deleted", ns, job);
      return -1;
    }
    waited += 200;
  }
  ferry_error ("kubevirt: Job %s/%s from an earlier attempt is still there %u seconds after its deletion",
               ns, job, GONE_WAIT);
  return -1;
}

/* Create the Job, or take up the one an earlier attempt left: 1 it is
 * Complete already, 0 follow it, -1 error.
 */
static int
start_job (struct kv_handle *h, json_t *job, volatile int *cancel)
{
  const json_t *meta = json_object_get (job, "metadata");
  const char *ns = str (meta, "namespace"), *name = str (meta, "name");
  DEST_CLEANUP_FREE char *coll = path_of ("/apis/batch/v1/", ns, "jobs", NULL);
  DEST_CLEANUP_FREE char *path = path_of ("/apis/batch/v1/", ns, "jobs", name);
  int attempt;

  if (coll == NULL || path == NULL)
    return -1;
  for (attempt = 0; attempt < 2; ++attempt) {
    DEST_CLEANUP_JSON json_t *old = NULL;
    const char *reason = NULL, *message = NULL;
    long http = kube_request (&h->k, "POST", NULL, coll, job, NULL, NULL);

    if (http >= 200 && http < 300)
      return 0;
    if (http != 409)
      return -1;
    if (kv_get_ours (h, path, job, &old) == -1)
      return -1;
    switch (job_outcome (old, &reason, &message)) {
    case 1:
      ferry_info ("kubevirt: Job %s/%s of an earlier attempt has copied the disk already", ns, name);
      return 1;
    case 0:
      if (json_object_get (json_object_get (old, "metadata"), "deletionTimestamp") == NULL) {
        ferry_info ("kubevirt: Job %s/%s of an earlier attempt is still copying: following it", ns, name);
        return 0;
      }
      break;
    default:
      ferry_info ("kubevirt: Job %s/%s of an earlier attempt failed: replacing it", ns, name);
    }
    if (delete_object (h, "/apis/batch/v1/", "jobs", ns, name) == -1 ||
        wait_gone (h, ns, name, cancel) == -1)
      return -1;
  }
  ferry_error ("kubevirt: Job %s/%s: created by someone else again after its deletion", ns, name);
  return -1;
}

/* Delete the copy's Secret, keeping this thread's error as it was. */
static void
drop_secret (struct kv_handle *h, const char *ns, const char *name)
{
  DEST_CLEANUP_FREE char *err = strdup (ferry_get_error ());

  if (delete_object (h, "/api/v1/", "secrets", ns, name) == -1)
    ferry_warn ("kubevirt: deleting Secret %s/%s: %s", ns, name, ferry_get_error ());
  ferry_error ("%s", err ? err : "");
}

int
kv_disk_copy (void *handle, const json_t *volume, const json_t *source,
              ferry_progress_fn progress, void *opaque, volatile int *cancel)
{
  struct kv_handle *h = handle;
  const char *ns = str (volume, "namespace"), *pvc = str (volume, "name");
  const char *manifests = str (source, "manifests");
  const char *vm_name = str (source, "vmName");
  DEST_CLEANUP_JSON json_t *secret = NULL, *sa = NULL, *role = NULL, *rb = NULL, *job = NULL;
  DEST_CLEANUP_FREE char *job_name = NULL, *secret_name = NULL;
  struct kv_copy_spec c = {
    .ns = ns, .pvc = pvc, .labels = json_object_get (volume, "labels"),
    .image = h->transfer_image, .provider = str (source, "provider"),
    .vm = str (source, "vm"), .disk = str (source, "disk"),
    .snapshot = str (source, "snapshot"),
  };
  struct follow f = {
    .h = h, .ns = ns, .disk = c.disk, .vm_name = vm_name ? vm_name : c.vm,
    .size = (uint64_t) json_integer_value (json_object_get (source, "size")),
    .progress = progress, .opaque = opaque, .cancel = cancel,
  };
  int r;

  if (!h->transfer_job)
    return 0;                           /* transfer: upload: the engine streams */
  if (source == NULL)
    return 1;                           /* the question: yes, a Job copies it */
  if (ns == NULL || pvc == NULL || manifests == NULL || c.provider == NULL ||
      c.vm == NULL || c.disk == NULL) {
    ferry_error ("kubevirt: disk_copy: the volume needs name and namespace, the source manifests, provider, vm and disk");
    return -1;
  }
  if (kv_ensure_namespace (h, ns) == -1 ||
      (str (volume, "storageClass") &&
       kv_check_storage_class (h, str (volume, "storageClass")) == -1))
    return -1;
  kv_note_namespace (h, ns);
  if (kv_pvc_ensure (h, volume, &c.block, cancel) == -1)
    return -1;
  secret = kv_copy_secret (&c, manifests);
  sa = kv_copy_service_account (&c);
  role = kv_copy_role (&c);
  rb = kv_copy_role_binding (&c);
  job = kv_copy_job (&c);
  job_name = kv_copy_name (pvc, "-copy");
  secret_name = kv_copy_name (pvc, "-source");
  if (!secret || !sa || !role || !rb || !job || !job_name || !secret_name)
    return -1;
  f.job = job_name;
  if (create_or_adopt (h, "/api/v1/", "serviceaccounts", sa, 0) == -1 ||
      create_or_adopt (h, "/apis/rbac.authorization.k8s.io/v1/", "roles", role, 0) == -1 ||
      create_or_adopt (h, "/apis/rbac.authorization.k8s.io/v1/", "rolebindings", rb, 0) == -1)
    return -1;
  /* replace: the credentials may have changed since an earlier attempt. */
  if (create_or_adopt (h, "/api/v1/", "secrets", secret, 1) == -1)
    return -1;                          /* (someone else's is left alone) */
  r = start_job (h, job, cancel);
  if (r == -1)
    goto failed;
  ferry_info ("kubevirt: disk %s of VM %s: Job %s/%s (image %s) copies it into PVC %s",
              c.disk, f.vm_name, ns, job_name, c.image, pvc);
  if (r == 0)
    r = follow_job (&f);
  /* The Job has ended (or is cancelled): its credentials go now. */
  drop_secret (h, ns, secret_name);
  if (r == -1)
    return -1;
  if (progress != NULL) {
    struct ferry_transfer_progress tp = { .done = f.size, .total = f.size, .rate = 0 };
    progress (opaque, &tp);
  }
  return 1;
 failed:                               /* the engine names the disk and VM */
  drop_secret (h, ns, secret_name);
  return -1;
}

int
kv_report_progress (void *handle, const char *job, const json_t *progress)
{
  struct kv_handle *h = handle;
  const char *slash = job ? strchr (job, '/') : NULL;
  DEST_CLEANUP_FREE char *ns = NULL, *path = NULL, *text = NULL;
  DEST_CLEANUP_JSON json_t *patch = NULL;
  long http;

  if (slash == NULL || slash == job || slash[1] == '\0' || strchr (slash + 1, '/')) {
    ferry_error ("kubevirt: report_progress: job \"%s\": must be NAMESPACE/NAME", job ? job : "");
    return -1;
  }
  ns = strndup (job, (size_t) (slash - job));
  text = json_dumps (progress, JSON_COMPACT);
  if (ns == NULL || text == NULL) {
    ferry_error ("kubevirt: report_progress: out of memory");
    return -1;
  }
  path = path_of ("/apis/batch/v1/", ns, "jobs", slash + 1);
  patch = json_pack ("{s:{s:{s:s}}}", "metadata", "annotations",
                     KV_PROGRESS_ANNOTATION, text);
  if (path == NULL || patch == NULL) {
    ferry_error ("kubevirt: report_progress: out of memory");
    return -1;
  }
  http = kube_request (&h->k, "PATCH", NULL, path, patch,
                       "application/merge-patch+json", NULL);
  return http >= 200 && http < 300 ? 0 : -1;
}
