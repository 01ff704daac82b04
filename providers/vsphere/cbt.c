/* ferry vSphere provider: allocated areas from changed block tracking.
 *
 * For a powered-off VM with CBT on, QueryChangedDiskAreas(changeId "*",
 * no snapshot) lists the disk's allocated areas.  The disk source wraps the
 * datastore HTTP source and answers extents() from that list, so the
 * transfer engine skips what was never written instead of downloading
 * zeroes.  The call is looped on startOffset until the answers cover the
 * disk, as the API requires (a server answers for part of a disk at a time).
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ferry/error.h>
#include <ferry/log.h>
#include <ferry/transfer.h>

#include "vsphere.h"

struct area {
  uint64_t start, length;               /* bytes */
};

struct cbt_source {
  struct ferry_disk_source *inner;      /* the HTTP source; owned */
  struct area *areas;                   /* sorted, disjoint, in the disk */
  size_t nr_areas;
  uint64_t size;                        /* bytes */
};

static int64_t
cbt_size (struct ferry_disk_source *src)
{
  struct cbt_source *c = src->priv;
  return c->inner->ops->size (c->inner);
}

static uint32_t
cbt_block_size (struct ferry_disk_source *src)
{
  struct cbt_source *c = src->priv;
  return c->inner->ops->block_size ? c->inner->ops->block_size (c->inner) : 0;
}

static int
cbt_pread (struct ferry_disk_source *src, void *buf, size_t count,
           uint64_t offset)
{
  struct cbt_source *c = src->priv;
  return c->inner->ops->pread (c->inner, buf, count, offset);
}

static int
emit (ferry_extent_fn fn, void *opaque, uint64_t lo, uint64_t hi,
      uint64_t a, uint64_t b, uint32_t flags)
{
  uint64_t s = a > lo ? a : lo, e = b < hi ? b : hi;
  return s < e ? fn (opaque, s, e - s, flags) : 0;
}

static int
cbt_extents (struct ferry_disk_source *src, uint64_t offset, uint64_t length,
             ferry_extent_fn fn, void *opaque)
{
  struct cbt_source *c = src->priv;
  uint64_t end, pos = 0;

  if (offset > c->size) {
    ferry_error ("vsphere: extents at %" PRIu64 " beyond the disk (%" PRIu64
                 " bytes)", offset, c->size);
    return -1;
  }
  end = length > c->size - offset ? c->size : offset + length;
  for (size_t i = 0; i < c->nr_areas && pos < end; i++) {
    const struct area *a = &c->areas[i];
    if (emit (fn, opaque, offset, end, pos, a->start,
              FERRY_EXTENT_HOLE | FERRY_EXTENT_ZERO) == -1
        || emit (fn, opaque, offset, end, a->start, a->start + a->length,
                 FERRY_EXTENT_DATA) == -1)
      return -1;
    pos = a->start + a->length;
  }
  return emit (fn, opaque, offset, end, pos, c->size,
               FERRY_EXTENT_HOLE | FERRY_EXTENT_ZERO);
}

static int
cbt_can_multi_conn (struct ferry_disk_source *src)
{
  struct cbt_source *c = src->priv;
  return c->inner->ops->can_multi_conn && c->inner->ops->clone
    ? c->inner->ops->can_multi_conn (c->inner) : 0;
}

static struct ferry_disk_source *cbt_clone (struct ferry_disk_source *src);
static void cbt_close (struct ferry_disk_source *src);

static const struct ferry_disk_source_ops cbt_ops = {
  .struct_size = sizeof (struct ferry_disk_source_ops),
  .name = "vsphere-http-cbt",
  .size = cbt_size,
  .block_size = cbt_block_size,
  .pread = cbt_pread,
  .extents = cbt_extents,
  .can_multi_conn = cbt_can_multi_conn,
  .clone = cbt_clone,
  .close = cbt_close,
};

/* Takes inner and areas (both freed on error). */
static struct ferry_disk_source *
cbt_new (struct ferry_disk_source *inner, struct area *areas, size_t n,
         uint64_t size)
{
  struct ferry_disk_source *src = calloc (1, sizeof *src);
  struct cbt_source *c = calloc (1, sizeof *c);

  if (!src || !c) {
    ferry_error_errno (errno, "vsphere: disk source");
    free (src);
    free (c);
    free (areas);
    inner->ops->close (inner);
    return NULL;
  }
  c->inner = inner;
  c->areas = areas;
  c->nr_areas = n;
  c->size = size;
  src->ops = &cbt_ops;
  src->priv = c;
  return src;
}

static struct ferry_disk_source *
cbt_clone (struct ferry_disk_source *src)
{
  struct cbt_source *c = src->priv;
  struct ferry_disk_source *inner;
  struct area *areas;

  if (!c->inner->ops->clone) {
    ferry_error ("vsphere: the HTTP source cannot be cloned");
    return NULL;
  }
  inner = c->inner->ops->clone (c->inner);
  if (!inner)
    return NULL;
  areas = malloc ((c->nr_areas ? c->nr_areas : 1) * sizeof *areas);
  if (!areas) {
    ferry_error_errno (errno, "vsphere: disk source clone");
    inner->ops->close (inner);
    return NULL;
  }
  memcpy (areas, c->areas, c->nr_areas * sizeof *areas);
  return cbt_new (inner, areas, c->nr_areas, c->size);
}

static void
cbt_close (struct ferry_disk_source *src)
{
  struct cbt_source *c;

  if (!src)
    return;
  c = src->priv;
  c->inner->ops->close (c->inner);
  free (c->areas);
  free (c);
  free (src);
}

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
vsphere_allocated_areas (struct vsphere_handle *h, const char *vm_id,
                         const char *disk_key, uint64_t capacity,
                         struct ferry_disk_source **src)
{
  struct area *areas = NULL;
  size_t n = 0, cap = 0;
  uint64_t start = 0;
  VSPHERE_CLEANUP_FREE char *what = NULL;

  if (asprintf (&what, "%s disk %s", vm_id, disk_key) == -1) {
    what = NULL;
    ferry_error ("vsphere: QueryChangedDiskAreas: out of memory");
    return -1;
  }
  while (start < capacity) {
    VSPHERE_CLEANUP_XML xmlDocPtr doc = NULL;
    VSPHERE_CLEANUP_FREE char *args = NULL;
    xmlNodePtr rv;
    uint64_t s0, len;

    if (asprintf (&args, "<deviceKey>%s</deviceKey><startOffset>%" PRIu64
                  "</startOffset><changeId>*</changeId>", disk_key,
                  start) == -1) {
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
      if (n == cap) {
        size_t ncap = cap ? cap * 2 : 64;
        struct area *p = realloc (areas, ncap * sizeof *p);
        if (!p) {
          ferry_error_errno (errno, "vsphere: QueryChangedDiskAreas on %s", what);
          goto err;
        }
        areas = p;
        cap = ncap;
      }
      /* Merge an area that continues the previous one. */
      if (n && areas[n - 1].start + areas[n - 1].length == as)
        areas[n - 1].length += al;
      else
        areas[n++] = (struct area) { as, al };
    }
    start = s0 + len;
  }
  *src = cbt_new (*src, areas, n, capacity);
  return *src ? 0 : -1;

 err:
  free (areas);
  return -1;
}
