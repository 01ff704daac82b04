/* ferry kubevirt destination: the objects of one disk's copy Job
 * (transfer: job), built from the copy's description alone (pure).
 *
 *   Secret <pvc>-source          source.yaml: the source Provider, its
 *                                Secret and Hosts (credentials)
 *   ServiceAccount <pvc>-worker  the worker's identity
 *   Role, RoleBinding <pvc>-worker
 *                                get and patch on this one Job (progress)
 *   Job <pvc>-copy               `ferry copy-disk` in transferImage, the
 *                                PVC at /dev/ferry-disk (Block) or
 *                                /ferry-disk (Filesystem, disk.img), the
 *                                Secret read-only at /etc/ferry/source,
 *                                running as uid/gid/fsGroup 107 (the
 *                                image's user, packaging/README.md)
 *
 * All carry the volume's labels (plan, migration, vmID) and
 * app.kubernetes.io/created-by=ferry, so cleanup finds them.
 */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "ferry/ferry.h"
#include "kubevirt.h"

#define NAME_MAX_LABEL 63               /* a Job's name is also a label value */
#define SOURCE_DIR "/etc/ferry/source"
#define BLOCK_PATH "/dev/ferry-disk"
#define FS_DIR "/ferry-disk"
#define WORKER_UID 107                  /* the image's user: KubeVirt's qemu uid/gid */

char *
kv_copy_name (const char *pvc, const char *suffix)
{
  size_t keep = strlen (pvc);
  uint32_t hash = 2166136261u;          /* FNV-1a of the whole PVC name */
  const char *p;
  char *out = NULL;

  if (keep + strlen (suffix) <= NAME_MAX_LABEL) {
    if (asprintf (&out, "%s%s", pvc, suffix) == -1)
      out = NULL;
  }
  else {
    for (p = pvc; *p; ++p)
      hash = (hash ^ (unsigned char) *p) * 16777619u;
    keep = NAME_MAX_LABEL - strlen (suffix) - 7;
    while (keep > 0 && pvc[keep - 1] == '-')
      keep--;
    if (asprintf (&out, "%.*s-%06x%s", (int) keep, pvc, hash & 0xffffff, suffix) == -1)
      out = NULL;
  }
  if (out == NULL)
    ferry_error ("kubevirt: out of memory");
  return out;
}

/* {name, namespace, labels} for an object of this copy. */
static json_t *
metadata (const struct kv_copy_spec *c, const char *suffix)
{
  DEST_CLEANUP_FREE char *name = kv_copy_name (c->pvc, suffix);
  json_t *lab = json_object (), *meta;
  const json_t *v;
  const char *k;

  if (name == NULL || lab == NULL) {
    json_decref (lab);
    return NULL;
  }
  json_object_foreach ((json_t *) c->labels, k, v)
    if (json_is_string (v))
      json_object_set (lab, k, (json_t *) v);
  json_object_set_new (lab, "app.kubernetes.io/created-by", json_string ("ferry"));
  meta = json_pack ("{s:s, s:s, s:o}", "name", name, "namespace", c->ns, "labels", lab);
  if (meta == NULL)
    ferry_error ("kubevirt: %s: out of memory", name);
  return meta;
}

static json_t *
object (const char *api_version, const char *kind, json_t *meta)
{
  json_t *o;

  if (meta == NULL)
    return NULL;
  o = json_pack ("{s:s, s:s, s:o}", "apiVersion", api_version, "kind", kind,
                 "metadata", meta);
  if (o == NULL)
    ferry_error ("kubevirt: %s: out of memory", kind);
  return o;
}

json_t *
kv_copy_secret (const struct kv_copy_spec *c, const char *manifests)
{
  json_t *s = object ("v1", "Secret", metadata (c, "-source"));

  if (s == NULL)
    return NULL;
  if (json_object_set_new (s, "type", json_string ("Opaque")) == -1 ||
      json_object_set_new (s, "stringData",
                           json_pack ("{s:s}", "source.yaml", manifests)) == -1) {
    json_decref (s);
    ferry_error ("kubevirt: Secret for %s: out of memory", c->pvc);
    return NULL;
  }
  return s;
}

json_t *
kv_copy_service_account (const struct kv_copy_spec *c)
{
  return object ("v1", "ServiceAccount", metadata (c, "-worker"));
}

json_t *
kv_copy_role (const struct kv_copy_spec *c)
{
  DEST_CLEANUP_FREE char *job = kv_copy_name (c->pvc, "-copy");
  json_t *r;

  if (job == NULL)
    return NULL;
  r = object ("rbac.authorization.k8s.io/v1", "Role", metadata (c, "-worker"));
  /* The worker may read and annotate its own Job, nothing else. */
  if (r == NULL ||
      json_object_set_new (r, "rules",
                           json_pack ("[{s:[s], s:[s], s:[s], s:[s, s]}]",
                                      "apiGroups", "batch", "resources", "jobs",
                                      "resourceNames", job,
                                      "verbs", "get", "patch")) == -1) {
    json_decref (r);
    if (r != NULL)
      ferry_error ("kubevirt: Role for %s: out of memory", c->pvc);
    return NULL;
  }
  return r;
}

json_t *
kv_copy_role_binding (const struct kv_copy_spec *c)
{
  DEST_CLEANUP_FREE char *sa = kv_copy_name (c->pvc, "-worker");
  json_t *b;

  if (sa == NULL)
    return NULL;
  b = object ("rbac.authorization.k8s.io/v1", "RoleBinding", metadata (c, "-worker"));
  if (b == NULL ||
      json_object_set_new (b, "roleRef",
                           json_pack ("{s:s, s:s, s:s}", "apiGroup", "rbac.authorization.k8s.io",
                                      "kind", "Role", "name", sa)) == -1 ||
      json_object_set_new (b, "subjects",
                           json_pack ("[{s:s, s:s, s:s}]", "kind", "ServiceAccount",
                                      "name", sa, "namespace", c->ns)) == -1) {
    json_decref (b);
    if (b != NULL)
      ferry_error ("kubevirt: RoleBinding for %s: out of memory", c->pvc);
    return NULL;
  }
  return b;
}

/* ferry copy-disk ... (see cli/cmd-copy-disk.c). */
static json_t *
command (const struct kv_copy_spec *c, const char *job)
{
  char report[600];
  json_t *cmd;

  snprintf (report, sizeof report, "%s/%s", c->ns, job);
  cmd = json_pack ("[s, s, s, s, s, s, s, s, s, s]", "ferry", "copy-disk",
                   "--manifests", SOURCE_DIR "/source.yaml",
                   "--provider", c->provider, "--vm", c->vm, "--disk", c->disk);
  if (cmd == NULL)
    return NULL;
  if (c->snapshot != NULL) {
    json_array_append_new (cmd, json_string ("--snapshot"));
    json_array_append_new (cmd, json_string (c->snapshot));
  }
  json_array_append_new (cmd, json_string ("--output"));
  json_array_append_new (cmd, json_string (c->block ? BLOCK_PATH : FS_DIR "/disk.img"));
  json_array_append_new (cmd, json_string ("--report"));
  json_array_append_new (cmd, json_string (report));
  json_array_append_new (cmd, json_string ("-o"));
  json_array_append_new (cmd, json_string ("json"));
  return cmd;
}

json_t *
kv_copy_job (const struct kv_copy_spec *c)
{
  DEST_CLEANUP_FREE char *job = kv_copy_name (c->pvc, "-copy");
  DEST_CLEANUP_FREE char *sa = kv_copy_name (c->pvc, "-worker");
  DEST_CLEANUP_FREE char *secret = kv_copy_name (c->pvc, "-source");
  json_t *j, *container, *pod_labels;

  if (job == NULL || sa == NULL || secret == NULL)
    return NULL;
  j = object ("batch/v1", "Job", metadata (c, "-copy"));
  if (j == NULL)
    return NULL;
  pod_labels = json_deep_copy (json_object_get (json_object_get (j, "metadata"), "labels"));
  json_object_set_new (json_object_get (j, "metadata"), "annotations",
                       json_pack ("{s:s, s:s, s:s}", "ferry.konveyor.io/vm", c->vm,
                                  "ferry.konveyor.io/disk", c->disk,
                                  "ferry.konveyor.io/volume", c->pvc));
  /* The worker's last words land in the pod's termination message. */
  container = json_pack ("{s:s, s:s, s:o, s:s, s:[{s:s, s:s, s:b}]}",
                         "name", "copy", "image", c->image,
                         "command", command (c, job),
                         "terminationMessagePolicy", "FallbackToLogsOnError",
                         "volumeMounts", "name", "source", "mountPath", SOURCE_DIR,
                         "readOnly", 1);
  if (container != NULL) {
    if (c->block)
      json_object_set_new (container, "volumeDevices",
                           json_pack ("[{s:s, s:s}]", "name", "disk", "devicePath", BLOCK_PATH));
    else
      json_array_append_new (json_object_get (container, "volumeMounts"),
                             json_pack ("{s:s, s:s}", "name", "disk", "mountPath", FS_DIR));
  }
  if (container == NULL || pod_labels == NULL) {
    json_decref (container);
    json_decref (pod_labels);
    json_decref (j);
    ferry_error ("kubevirt: Job for %s: out of memory", c->pvc);
    return NULL;
  }
  if (json_object_set_new (j, "spec",
                           json_pack ("{s:i, s:{s:{s:o}, s:{s:s, s:s, s:{s:i, s:i, s:i, s:b}, s:[o], s:[{s:s, s:{s:s, s:i}}, {s:s, s:{s:s}}]}}}",
                                      "backoffLimit", 2,
                                      "template",
                                      "metadata", "labels", pod_labels,
                                      "spec", "serviceAccountName", sa,
                                      "restartPolicy", "Never",
                                      /* the image's user (packaging/README.md);
                                       * fsGroup: disk.img's directory is
                                       * group-writable by it */
                                      "securityContext",
                                      "runAsUser", WORKER_UID, "runAsGroup", WORKER_UID,
                                      "fsGroup", WORKER_UID, "runAsNonRoot", 1,
                                      "containers", container,
                                      "volumes",
                                      "name", "source", "secret", "secretName", secret,
                                      "defaultMode", 0400,
                                      "name", "disk", "persistentVolumeClaim",
                                      "claimName", c->pvc)) == -1) {
    json_decref (j);
    ferry_error ("kubevirt: Job for %s: out of memory", c->pvc);
    return NULL;
  }
  return j;
}
