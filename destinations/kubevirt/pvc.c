/* ferry kubevirt destination: a plain PersistentVolumeClaim per disk, for
 * transfer: job (no CDI: a Job of ours fills it, job.c).
 *
 * Access and volume mode come from the volume object (the StorageMap's
 * destination), else the StorageProfile of its class when CDI serves
 * one, else ReadWriteOnce / Filesystem.  A Filesystem PVC holds disk.img
 * on a filesystem, so it asks for the filesystem overhead on top of the
 * disk: CDIConfig status.filesystemOverhead (per class, else global) when
 * readable, else CDI's default 5.5%.
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

#define FS_OVERHEAD 0.055               /* CDI's default global filesystem overhead */
#define MIB (1024 * 1024)
#define GONE_WAIT 120                   /* seconds for a deleted PVC of ours to go */

static const char *
str (const json_t *o, const char *key)
{
  const char *s = json_string_value (json_object_get (o, key));
  return s != NULL && s[0] != '\0' ? s : NULL;
}

json_t *
kv_pvc_object (const json_t *volume, const char *access_mode,
               const char *volume_mode, double fs_overhead)
{
  const char *name = str (volume, "name"), *ns = str (volume, "namespace");
  const char *sc = str (volume, "storageClass");
  json_t *pvc, *lab;
  char size[32];

  uint64_t bytes = kv_volume_capacity (volume);

  if (bytes == 0)
    return NULL;
  if (strcmp (volume_mode, "Block") != 0 && strcmp (volume_mode, "Filesystem") != 0) {
    ferry_error ("kubevirt: volume %s: volumeMode \"%s\": must be Block or Filesystem (fix the StorageMap's destination)",
                 name, volume_mode);
    return NULL;
  }
  if (strcmp (volume_mode, "Filesystem") == 0) {
    /* As CDI sizes it: the disk must fit in (1 - overhead) of the claim. */
    double want = (double) bytes / (1.0 - fs_overhead);
    bytes = (uint64_t) want;
    if ((double) bytes < want)
      bytes++;
    bytes = (bytes + MIB - 1) / MIB * MIB;
  }
  snprintf (size, sizeof size, "%" PRIu64, bytes);
  lab = kv_volume_labels (volume);
  pvc = json_pack ("{s:s, s:s, s:{s:s, s:s, s:o}, s:{s:[s], s:s, s:{s:{s:s}}}}",
                   "apiVersion", "v1", "kind", "PersistentVolumeClaim",
                   "metadata", "name", name, "namespace", ns, "labels", lab,
                   "spec", "accessModes", access_mode, "volumeMode", volume_mode,
                   "resources", "requests", "storage", size);
  if (pvc == NULL) {
    ferry_error ("kubevirt: volume %s: out of memory", name);
    return NULL;
  }
  if (sc != NULL)
    json_object_set_new (json_object_get (pvc, "spec"), "storageClassName", json_string (sc));
  return pvc;
}

/* The StorageProfile's first claim property set, when CDI has one. */
static void
profile_modes (struct kv_handle *h, const char *sc, const char **am,
               const char **vm, json_t **keep)
{
  DEST_CLEANUP_FREE char *e = kube_escape (sc), *path = NULL;
  const json_t *set;

  if (e == NULL ||
      asprintf (&path, "/apis/cdi.kubevirt.io/v1beta1/storageprofiles/%s", e) == -1)
    return;
  if (kube_call (&h->k, "GET", path, NULL, keep) == -1) {
    ferry_clear_error ();               /* no CDI, no profile, not allowed: defaults */
    return;
  }
  set = json_array_get (json_object_get (json_object_get (*keep, "status"),
                                         "claimPropertySets"), 0);
  if (*am == NULL)
    *am = json_string_value (json_array_get (json_object_get (set, "accessModes"), 0));
  if (*vm == NULL)
    *vm = json_string_value (json_object_get (set, "volumeMode"));
}

static double
fs_overhead (struct kv_handle *h, const char *sc)
{
  DEST_CLEANUP_JSON json_t *cfg = NULL;
  const json_t *o;
  const char *s = NULL;
  double v;
  char *end;

  if (kube_call (&h->k, "GET", "/apis/cdi.kubevirt.io/v1beta1/cdiconfigs/config",
                 NULL, &cfg) == -1) {
    ferry_clear_error ();
    return FS_OVERHEAD;
  }
  o = json_object_get (json_object_get (cfg, "status"), "filesystemOverhead");
  if (sc != NULL)
    s = str (json_object_get (o, "storageClass"), sc);
  if (s == NULL)
    s = str (o, "global");
  if (s == NULL)
    return FS_OVERHEAD;
  v = strtod (s, &end);
  if (*end != '\0' || v < 0 || v >= 1) {
    ferry_warn ("kubevirt: CDIConfig filesystemOverhead \"%s\" is not a fraction: using %.3f", s, FS_OVERHEAD);
    return FS_OVERHEAD;
  }
  return v;
}

/* The PVC exists: ours (same plan and VM: an earlier attempt) or not.
 * 0 reuse it, 1 it is ours but being deleted (create it again once it is
 * gone), -1 refused.
 */
static int
adopt (struct kv_handle *h, const char *path, const json_t *want)
{
  DEST_CLEANUP_JSON json_t *old = NULL;
  const json_t *meta = json_object_get (want, "metadata");

  if (kv_get_ours (h, path, want, &old) == -1)
    return -1;
  if (json_object_get (json_object_get (old, "metadata"), "deletionTimestamp") != NULL)
    return 1;
  ferry_info ("kubevirt: PersistentVolumeClaim %s/%s exists from an earlier attempt of this plan: reusing it",
              str (meta, "namespace"), str (meta, "name"));
  return 0;
}

int
kv_pvc_ensure (struct kv_handle *h, const json_t *volume, int *block,
               volatile int *cancel)
{
  const char *ns = str (volume, "namespace"), *name = str (volume, "name");
  const char *sc = str (volume, "storageClass");
  const char *am = str (volume, "accessMode"), *vm = str (volume, "volumeMode");
  DEST_CLEANUP_JSON json_t *profile = NULL, *pvc = NULL;
  DEST_CLEANUP_FREE char *en = NULL, *coll = NULL, *path = NULL;
  long http;

  if (ns == NULL || name == NULL) {
    ferry_error ("kubevirt: a volume without a name or namespace");
    return -1;
  }
  if (sc != NULL && (am == NULL || vm == NULL))
    profile_modes (h, sc, &am, &vm, &profile);
  if (vm == NULL)
    vm = "Filesystem";
  if (am == NULL)
    am = "ReadWriteOnce";
  *block = strcmp (vm, "Block") == 0;
  pvc = kv_pvc_object (volume, am, vm, *block ? 0 : fs_overhead (h, sc));
  if (pvc == NULL)
    return -1;
  en = kube_escape (ns);
  if (en == NULL ||
      asprintf (&coll, "/api/v1/namespaces/%s/persistentvolumeclaims", en) == -1 ||
      asprintf (&path, "%s/%s", coll, name) == -1) {
    ferry_error ("kubevirt: volume %s: out of memory", name);
    return -1;
  }
  for (;;) {
    unsigned waited;

    http = kube_request (&h->k, "POST", NULL, coll, pvc, NULL, NULL);
    if (http >= 200 && http < 300)
      break;
    if (http != 409)
      return -1;
    switch (adopt (h, path, pvc)) {
    case 0: return 0;
    case -1: return -1;
    }
    /* Ours, deleted by a cleanup of an earlier attempt but still held by
     * the pvc-protection finalizer while a pod used it: wait it out.
     */
    ferry_info ("kubevirt: PersistentVolumeClaim %s/%s of an earlier attempt is being deleted: waiting for it to go",
                ns, name);
    for (waited = 0; ; waited += 200) {
      long g = kube_request (&h->k, "GET", NULL, path, NULL, NULL, NULL);
      if (g == 404)
        break;
      if (g < 200 || g >= 300)
        return -1;
      if ((cancel != NULL && *cancel) || waited >= GONE_WAIT * 1000) {
        ferry_error ("kubevirt: PersistentVolumeClaim %s/%s of an earlier attempt is still being deleted%s",
                     ns, name, cancel != NULL && *cancel ? " (cancelled while waiting)" : "");
        return -1;
      }
      nanosleep (&(struct timespec) { .tv_nsec = 200000000L }, NULL);
    }
    ferry_clear_error ();
  }
  ferry_debug ("kubevirt: PersistentVolumeClaim %s/%s created (%s, %s)", ns, name, am, vm);
  return 0;
}
