/* ferry vSphere provider: snapshots and changed extents (warm migration).
 *
 * snapshot_create: CreateSnapshot_Task(name, description, memory false,
 * quiesce = settings.snapshotQuiesce), polled to its end; then every disk
 * of the snapshot's config.hardware.device must carry a backing changeId
 * (changed block tracking active), else the snapshot is removed again and
 * the VM is reported not warm-ready, naming the disk.
 * snapshot_remove: RemoveSnapshot_Task(removeChildren false, consolidate
 * true); a snapshot already gone counts as removed (steps are re-run after
 * a crash).
 * changed_extents: QueryChangedDiskAreas at the snapshot since the change
 * id given ("*" without one), looped to the end of the disk; the new
 * change id is the one the snapshot's disk backing carries.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ferry/error.h>
#include <ferry/log.h>
#include <ferry/transfer.h>

#include "vsphere.h"

void
vsphere_disk_at_clear (struct vsphere_disk_at *d)
{
  free (d->file);
  free (d->datastore);
  free (d->change_id);
  memset (d, 0, sizeof *d);
}

int
vsphere_disk_key (const char *vm_id, const char *disk_id, char *buf,
                  size_t len)
{
  size_t vl = strlen (vm_id);
  const char *k = disk_id;

  if (!disk_id || !*disk_id) {
    ferry_error ("vsphere: VM %s: no disk given", vm_id);
    return -1;
  }
  /* "vm-42-2000" (the inventory's disk id) or "2000" (the device key). */
  if (strncmp (disk_id, vm_id, vl) == 0 && disk_id[vl] == '-')
    k = disk_id + vl + 1;
  if (!*k || strspn (k, "0123456789") != strlen (k) || strlen (k) >= len) {
    ferry_error ("vsphere: VM %s: disk \"%s\" is neither a device key nor "
                 "%s-KEY", vm_id, disk_id, vm_id);
    return -1;
  }
  memcpy (buf, k, strlen (k) + 1);
  return 0;
}

struct find_disk {
  const char *key;
  struct vsphere_disk_at *d;
  bool found;
};

/* The disk with the wanted key among config.hardware.device. */
static int
on_devices (struct vsphere_handle *h, const struct vsphere_object *obj,
            void *opaque)
{
  struct find_disk *fd = opaque;
  xmlNodePtr devices = vsphere_prop (obj, "config.hardware.device");

  for (xmlNodePtr dev = devices ? vsphere_xml_child (devices, NULL) : NULL;
       dev; dev = vsphere_xml_next (dev, NULL)) {
    VSPHERE_CLEANUP_FREE char *type = vsphere_xml_type (dev);
    VSPHERE_CLEANUP_FREE char *key = vsphere_xml_text (dev, "key");
    VSPHERE_CLEANUP_FREE char *btype = NULL, *cap = NULL;
    xmlNodePtr b;

    if (!type || strcmp (type, "VirtualDisk") != 0 || !key
        || strcmp (key, fd->key) != 0)
      continue;
    b = vsphere_xml_child (dev, "backing");
    btype = vsphere_xml_type (b);
    fd->found = true;
    fd->d->file = vsphere_xml_text (b, "fileName");
    fd->d->datastore = vsphere_xml_text (b, "datastore");
    fd->d->change_id = vsphere_xml_text (b, "changeId");
    fd->d->has_parent = vsphere_xml_child (b, "parent") != NULL;
    fd->d->flat = btype && strcmp (btype, "VirtualDiskFlatVer2BackingInfo") == 0;
    cap = vsphere_xml_text (dev, "capacityInBytes");
    if (cap && strtoull (cap, NULL, 10) > 0)
      fd->d->capacity = strtoull (cap, NULL, 10);
    else {
      free (cap);
      cap = vsphere_xml_text (dev, "capacityInKB");
      fd->d->capacity = cap ? strtoull (cap, NULL, 10) * 1024 : 0;
    }
    if (fd->d->change_id && !*fd->d->change_id) {
      free (fd->d->change_id);
      fd->d->change_id = NULL;
    }
    break;
  }
  return 0;
}

int
vsphere_snapshot_disk (struct vsphere_handle *h, const char *vm_id,
                       const char *snapshot, const char *disk_key,
                       struct vsphere_disk_at *d)
{
  static const char *const names[] = { "config.hardware.device", NULL };
  struct find_disk fd = { disk_key, d, false };

  memset (d, 0, sizeof *d);
  if (vsphere_retrieve_one (h, snapshot ? "VirtualMachineSnapshot"
                            : "VirtualMachine", snapshot ? snapshot : vm_id,
                            names, on_devices, &fd) == -1) {
    vsphere_disk_at_clear (d);
    return -1;
  }
  if (!fd.found) {
    ferry_error ("vsphere: VM %s: %s%s has no disk with key %s", vm_id,
                 snapshot ? "snapshot " : "its configuration",
                 snapshot ? snapshot : "", disk_key);
    vsphere_disk_at_clear (d);
    return -1;
  }
  if (!d->file || !d->datastore || d->capacity == 0) {
    ferry_error ("vsphere: VM %s: disk %s%s%s has no file, datastore or "
                 "capacity", vm_id, disk_key, snapshot ? " at snapshot " : "",
                 snapshot ? snapshot : "");
    vsphere_disk_at_clear (d);
    return -1;
  }
  return 0;
}

/* Every disk key of a snapshot, and whether each has a change id: the
 * first disk without one is named in *missing (caller frees).
 */
struct all_disks {
  char *missing;
  int nr_disks;
};

static int
on_all_disks (struct vsphere_handle *h, const struct vsphere_object *obj,
              void *opaque)
{
  struct all_disks *ad = opaque;
  xmlNodePtr devices = vsphere_prop (obj, "config.hardware.device");

  for (xmlNodePtr dev = devices ? vsphere_xml_child (devices, NULL) : NULL;
       dev; dev = vsphere_xml_next (dev, NULL)) {
    VSPHERE_CLEANUP_FREE char *type = vsphere_xml_type (dev);
    VSPHERE_CLEANUP_FREE char *cid = NULL;

    if (!type || strcmp (type, "VirtualDisk") != 0)
      continue;
    ad->nr_disks++;
    cid = vsphere_xml_text (dev, "backing/changeId");
    if ((!cid || !*cid) && !ad->missing) {
      VSPHERE_CLEANUP_FREE char *key = vsphere_xml_text (dev, "key");
      VSPHERE_CLEANUP_FREE char *file = vsphere_xml_text (dev, "backing/fileName");
      if (asprintf (&ad->missing, "%s (%s)", key ? key : "?",
                    file ? file : "no file") == -1)
        ad->missing = NULL;
    }
  }
  return 0;
}

struct vm_facts {
  char *name, *cbt;
};

static int
on_vm_facts (struct vsphere_handle *h, const struct vsphere_object *obj,
             void *opaque)
{
  struct vm_facts *v = opaque;
  v->name = vsphere_xml_text (vsphere_prop (obj, "name"), NULL);
  v->cbt = vsphere_xml_text (vsphere_prop (obj, "config.changeTrackingEnabled"), NULL);
  return 0;
}

int
vsphere_snapshot_create (void *handle, const char *vm_id, char **snapshot_id)
{
  struct vsphere_handle *h = handle;
  static const char *const vm_names[] = {
    "name", "config.changeTrackingEnabled", NULL,
  };
  static const char *const snap_names[] = { "config.hardware.device", NULL };
  struct vm_facts v = { NULL, NULL };
  struct all_disks ad = { NULL, 0 };
  VSPHERE_CLEANUP_XML xmlDocPtr doc = NULL;
  VSPHERE_CLEANUP_FREE char *task = NULL, *snap = NULL, *args = NULL;
  xmlNodePtr rv;
  char stamp[32];
  time_t t = time (NULL);
  struct tm tm;
  int r = -1;

  *snapshot_id = NULL;
  if (vsphere_retrieve_one (h, "VirtualMachine", vm_id, vm_names,
                            on_vm_facts, &v) == -1)
    goto out;
  if (!v.name) {
    ferry_error ("vsphere: VM %s not found on %s", vm_id, h->url);
    goto out;
  }
  if (!v.cbt || strcmp (v.cbt, "true") != 0) {
    ferry_error ("vsphere: VM %s (%s) is not warm-ready: changed block "
                 "tracking is off; enable it (ctkEnabled and "
                 "scsiX:Y.ctkEnabled in the VM's advanced settings, then a "
                 "power cycle or a snapshot), or migrate it cold",
                 v.name, vm_id);
    goto out;
  }
  gmtime_r (&t, &tm);
  strftime (stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  if (asprintf (&args, "<name>ferry-precopy-%s</name><description>warm "
                "migration precopy (ferry)</description><memory>false"
                "</memory><quiesce>%s</quiesce>", stamp,
                h->quiesce ? "true" : "false") == -1) {
    args = NULL;
    ferry_error ("vsphere: CreateSnapshot_Task on %s: out of memory", vm_id);
    goto out;
  }
  if (vsphere_call (h, "CreateSnapshot_Task", "VirtualMachine", vm_id, args,
                    v.name, &doc, &rv) == -1)
    goto out;
  task = vsphere_xml_text (rv, NULL);
  if (!task || !*task) {
    ferry_error ("vsphere: CreateSnapshot_Task on %s: no task in the answer",
                 vm_id);
    goto out;
  }
  if (vsphere_task_wait (h, task, "snapshot of", vm_id, &snap) == -1)
    goto out;
  if (!snap || !*snap) {
    ferry_error ("vsphere: snapshot of %s: task %s gave no snapshot", vm_id,
                 task);
    goto out;
  }
  /* Every disk must carry a change id in the snapshot. */
  if (vsphere_retrieve_one (h, "VirtualMachineSnapshot", snap, snap_names,
                            on_all_disks, &ad) == -1)
    goto out;
  if (ad.missing || ad.nr_disks == 0) {
    ferry_error ("vsphere: VM %s (%s) is not warm-ready: %s%s in snapshot %s; "
                 "enable changed block tracking on every disk "
                 "(scsiX:Y.ctkEnabled), or migrate it cold", v.name, vm_id,
                 ad.missing ? "no change id for disk " : "no disks",
                 ad.missing ? ad.missing : "", snap);
    {
      /* Keep the first error; the snapshot is ours to remove. */
      VSPHERE_CLEANUP_FREE char *err = strdup (ferry_get_error ());
      if (vsphere_snapshot_remove (h, vm_id, snap) == -1)
        ferry_warn ("vsphere: VM %s: could not remove snapshot %s: %s",
                    vm_id, snap, ferry_get_error ());
      ferry_error ("%s", err ? err : "vsphere: not warm-ready");
    }
    goto out;
  }
  ferry_debug ("vsphere: VM %s: snapshot %s", vm_id, snap);
  *snapshot_id = snap;
  snap = NULL;
  r = 0;
 out:
  free (v.name);
  free (v.cbt);
  free (ad.missing);
  return r;
}

int
vsphere_snapshot_remove (void *handle, const char *vm_id,
                         const char *snapshot_id)
{
  struct vsphere_handle *h = handle;
  VSPHERE_CLEANUP_XML xmlDocPtr doc = NULL;
  VSPHERE_CLEANUP_FREE char *task = NULL, *what = NULL;
  xmlNodePtr rv;

  if (!snapshot_id || !*snapshot_id) {
    ferry_error ("vsphere: VM %s: no snapshot to remove", vm_id);
    return -1;
  }
  if (asprintf (&what, "snapshot %s of %s", snapshot_id, vm_id) == -1) {
    what = NULL;
    ferry_error ("vsphere: RemoveSnapshot_Task: out of memory");
    return -1;
  }
  if (vsphere_call (h, "RemoveSnapshot_Task", "VirtualMachineSnapshot",
                    snapshot_id, "<removeChildren>false</removeChildren>"
                    "<consolidate>true</consolidate>", what, &doc,
                    &rv) == -1) {
    if (strstr (ferry_get_error (), "ManagedObjectNotFound")) {
      ferry_debug ("vsphere: %s is gone already", what);
      return 0;
    }
    return -1;
  }
  task = vsphere_xml_text (rv, NULL);
  if (!task || !*task) {
    ferry_error ("vsphere: RemoveSnapshot_Task on %s: no task in the answer",
                 what);
    return -1;
  }
  return vsphere_task_wait (h, task, "remove snapshot of", vm_id, NULL);
}

int
vsphere_changed_extents (void *handle, const char *vm_id,
                         const char *disk_id, const char *snapshot_id,
                         const char *change_id,
                         int (*fn) (void *, uint64_t, uint64_t, uint32_t),
                         void *opaque, char **new_change_id)
{
  struct vsphere_handle *h = handle;
  struct vsphere_disk_at d;
  struct vsphere_area *areas = NULL;
  size_t n = 0;
  char key[32];
  int r = -1;

  *new_change_id = NULL;
  if (vsphere_disk_key (vm_id, disk_id, key, sizeof key) == -1)
    return -1;
  /* Without a snapshot: the VM's current disks (the server then requires
   * it to be powered off).
   */
  if (vsphere_snapshot_disk (h, vm_id, snapshot_id, key, &d) == -1)
    return -1;
  if (!d.change_id) {
    ferry_error ("vsphere: VM %s disk %s%s%s has no change id: changed "
                 "block tracking is not active on it; enable it "
                 "(scsiX:Y.ctkEnabled) or migrate the VM cold", vm_id, key,
                 snapshot_id ? " at snapshot " : "",
                 snapshot_id ? snapshot_id : "");
    goto out;
  }
  if (vsphere_changed_areas (h, vm_id, snapshot_id, key, d.capacity,
                                  change_id ? change_id : "*", &areas,
                                  &n) == -1)
    goto out;
  for (size_t i = 0; i < n; i++)
    if (fn (opaque, areas[i].start, areas[i].length, FERRY_EXTENT_DATA) == -1)
      goto out;
  *new_change_id = strdup (d.change_id);
  if (!*new_change_id) {
    ferry_error_errno (errno, "vsphere: VM %s disk %s", vm_id, key);
    goto out;
  }
  r = 0;
 out:
  free (areas);
  vsphere_disk_at_clear (&d);
  return r;
}

/* ---- ferry's own older snapshots ---------------------------------------- */

#define FERRY_SNAPSHOT_PREFIX "ferry-precopy-"
#define MAX_DEPTH 32

struct ancestry {
  const char *target;
  char *ids[MAX_DEPTH], *names[MAX_DEPTH];  /* root first */
  int depth;                                /* of the target; -1: not found */
};

/* Depth-first through VirtualMachineSnapshotTree nodes (siblings named
 * "VirtualMachineSnapshotTree" in the array, "childSnapshotList" below).
 */
static bool
walk (xmlNodePtr first, const char *elem, struct ancestry *a, int depth)
{
  if (depth >= MAX_DEPTH)
    return false;
  for (xmlNodePtr n = vsphere_xml_child (first, elem); n;
       n = vsphere_xml_next (n, elem)) {
    char *id = vsphere_xml_text (n, "snapshot");
    char *name = vsphere_xml_text (n, "name");
    if (id && strcmp (id, a->target) == 0) {
      a->depth = depth;
      free (id);
      free (name);
      return true;
    }
    a->ids[depth] = id;
    a->names[depth] = name;
    /* childSnapshotList elements are siblings inside n. */
    if (walk (n, "childSnapshotList", a, depth + 1))
      return true;
    free (a->ids[depth]);
    free (a->names[depth]);
    a->ids[depth] = a->names[depth] = NULL;
  }
  return false;
}

static int
on_tree (struct vsphere_handle *h, const struct vsphere_object *obj,
         void *opaque)
{
  xmlNodePtr list = vsphere_prop (obj, "snapshot.rootSnapshotList");

  if (list)
    walk (list, "VirtualMachineSnapshotTree", opaque, 0);
  return 0;
}

int
vsphere_remove_older_own_snapshots (struct vsphere_handle *h,
                                    const char *vm_id, const char *snapshot)
{
  static const char *const names[] = { "snapshot.rootSnapshotList", NULL };
  struct ancestry a = { .target = snapshot, .depth = -1 };
  int r = -1;

  if (vsphere_retrieve_one (h, "VirtualMachine", vm_id, names, on_tree,
                            &a) == -1)
    goto out;
  if (a.depth < 0) {
    ferry_error ("vsphere: VM %s has no snapshot %s", vm_id, snapshot);
    goto out;
  }
  for (int i = 0; i < a.depth; i++)
    if (!a.names[i] || strncmp (a.names[i], FERRY_SNAPSHOT_PREFIX,
                                strlen (FERRY_SNAPSHOT_PREFIX)) != 0) {
      ferry_error ("vsphere: VM %s: snapshot %s sits on snapshot %s (\"%s\"), "
                   "which ferry did not take", vm_id, snapshot,
                   a.ids[i] ? a.ids[i] : "?", a.names[i] ? a.names[i] : "");
      goto out;
    }
  for (int i = 0; i < a.depth; i++) {
    ferry_info ("vsphere: VM %s: removing ferry's earlier precopy snapshot "
                "%s, so that %s sits on the base disk", vm_id, a.ids[i],
                snapshot);
    if (vsphere_snapshot_remove (h, vm_id, a.ids[i]) == -1)
      goto out;
  }
  r = 0;
 out:
  for (int i = 0; i < MAX_DEPTH; i++) {
    free (a.ids[i]);
    free (a.names[i]);
  }
  return r;
}
