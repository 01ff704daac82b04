/* ferry vSphere provider: changed block tracking.
 *
 * QueryChangedDiskAreas(snapshot, deviceKey, startOffset, changeId) answers
 * for a part of the disk at a time (DiskChangeInfo: startOffset, length,
 * changedArea[]), so it is looped on startOffset until the answers cover
 * the disk, as the API requires.  changeId "*" lists the allocated areas
 * (a first full copy); a change id recorded earlier lists the areas
 * written since.  Every answer is checked: it must continue where the
 * previous one ended, and its areas must be in order and inside it.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ferry/error.h>
#include <ferry/log.h>

#include "vsphere.h"

static int
parse_u64 (xmlNodePtr n, const char *path, uint64_t *r)
{
  VSPHERE_CLEANUP_FREE char *s = vsphere_xml_text (n, path);
  char *end;
  unsigned long long v;

  if (!s || *s < '0' || *s > '9')
    return -1;
  errno = 0;
  v = strtoull (s, &end, 10);
  if (errno || *end)
    return -1;
  *r = v;
  return 0;
}

int
vsphere_changed_areas (struct vsphere_handle *h, const char *vm_id,
                       const char *snapshot, const char *disk_key,
                       uint64_t capacity, const char *change_id,
                       struct vsphere_area **areas_out, size_t *nr_out)
{
  struct vsphere_area *areas = NULL;
  size_t n = 0, cap = 0;
  uint64_t start = 0;
  VSPHERE_CLEANUP_FREE char *what = NULL, *snap_xml = NULL;
  VSPHERE_CLEANUP_FREE char *cid = vsphere_xml_escape (change_id ? change_id : "*");
  VSPHERE_CLEANUP_FREE char *snap_esc = snapshot ? vsphere_xml_escape (snapshot) : NULL;

  if (asprintf (&what, "%s disk %s%s%s", vm_id, disk_key,
                snapshot ? " at " : "", snapshot ? snapshot : "") == -1
      || !cid || (snapshot && !snap_esc)) {
    what = NULL;
    ferry_error ("vsphere: QueryChangedDiskAreas: out of memory");
    return -1;
  }
  if (snapshot
      && asprintf (&snap_xml, "<snapshot type=\"VirtualMachineSnapshot\">%s"
                   "</snapshot>", snap_esc) == -1) {
    snap_xml = NULL;
    ferry_error ("vsphere: QueryChangedDiskAreas on %s: out of memory", what);
    return -1;
  }
  while (start < capacity) {
    VSPHERE_CLEANUP_XML xmlDocPtr doc = NULL;
    VSPHERE_CLEANUP_FREE char *args = NULL;
    xmlNodePtr rv;
    uint64_t s0, len;

    if (asprintf (&args, "%s<deviceKey>%s</deviceKey><startOffset>%" PRIu64
                  "</startOffset><changeId>%s</changeId>",
                  snap_xml ? snap_xml : "", disk_key, start, cid) == -1) {
      args = NULL;
      ferry_error ("vsphere: QueryChangedDiskAreas on %s: out of memory", what);
      goto err;
    }
    if (vsphere_call (h, "QueryChangedDiskAreas", "VirtualMachine", vm_id,
                      args, what, &doc, &rv) == -1)
      goto err;
    if (parse_u64 (rv, "startOffset", &s0) == -1
        || parse_u64 (rv, "length", &len) == -1 || s0 != start || len == 0
        || len > capacity - start) {
      ferry_error ("vsphere: QueryChangedDiskAreas on %s at %" PRIu64
                   ": the answer does not cover the next part of the disk",
                   what, start);
      goto err;
    }
    for (xmlNodePtr a = vsphere_xml_child (rv, "changedArea"); a;
         a = vsphere_xml_next (a, "changedArea")) {
      uint64_t as, al;
      if (parse_u64 (a, "start", &as) == -1
          || parse_u64 (a, "length", &al) == -1 || al == 0
          || as < (n ? areas[n - 1].start + areas[n - 1].length : start)
          || as < start || as > s0 + len || al > s0 + len - as) {
        ferry_error ("vsphere: QueryChangedDiskAreas on %s: an area out of "
                     "order or outside [%" PRIu64 ", %" PRIu64 ")", what,
                     s0, s0 + len);
        goto err;
      }
      /* Join an area that continues the previous one. */
      if (n && areas[n - 1].start + areas[n - 1].length == as) {
        areas[n - 1].length += al;
        continue;
      }
      if (n == cap) {
        size_t ncap = cap ? cap * 2 : 64;
        struct vsphere_area *p = realloc (areas, ncap * sizeof *p);
        if (!p) {
          ferry_error_errno (errno, "vsphere: QueryChangedDiskAreas on %s", what);
          goto err;
        }
        areas = p;
        cap = ncap;
      }
      areas[n++] = (struct vsphere_area) { as, al };
    }
    start = s0 + len;
  }
  *areas_out = areas;
  *nr_out = n;
  return 0;

 err:
  free (areas);
  return -1;
}
