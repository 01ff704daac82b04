/* ferry vSphere provider: a disk read over the datastore HTTP interface.
 *
 * Wraps libferry's HTTP source (Range GETs) for a /folder URL with two
 * things the vSphere side needs:
 *   - extents from changed block tracking (the allocated areas), so holes
 *     are skipped rather than downloaded;
 *   - the session: /folder needs the vmware_soap_session cookie, and a copy
 *     can outlive the session (idle expiry, a restarted vCenter, an
 *     administrator's TerminateSession).  When a read fails, the session is
 *     checked with one SOAP call (which logs in again if it had expired);
 *     if the cookie changed, the read is retried once on a new connection
 *     with the new cookie.
 * Several connections: every clone() is its own HTTP connection; the
 * handle's session (and its lock) is shared.
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

struct folder_source {
  struct vsphere_handle *h;             /* borrowed: outlives the source */
  struct ferry_disk_source *inner;      /* the HTTP source; owned */
  char *url;                            /* with the query; never logged whole */
  char *what;                           /* the disk, for messages */
  char *cookie;                         /* the cookie inner was opened with */
  struct vsphere_area *areas;           /* NULL: all data */
  size_t nr_areas;
  uint64_t size;                        /* bytes */
};

static const struct ferry_disk_source_ops folder_ops;

/* A copy of the handle's cookie, under its lock. */
static char *
current_cookie (struct vsphere_handle *h)
{
  char *c;

  pthread_mutex_lock (&h->lock);
  c = h->cookie ? strdup (h->cookie) : NULL;
  pthread_mutex_unlock (&h->lock);
  return c;
}

static struct ferry_disk_source *
open_inner (struct folder_source *f)
{
  struct ferry_http_options opts = {
    .struct_size = sizeof opts,
    .cookie = f->cookie,
    .cafile = f->h->cafile,
    .insecure = f->h->insecure,
  };
  struct ferry_disk_source *src = ferry_http_source_open (f->url, &opts);

  if (!src)
    return NULL;
  if (src->ops->size (src) != (int64_t) f->size) {
    ferry_error ("vsphere: %s: the datastore file has %" PRId64 " bytes, the "
                 "disk %" PRIu64, f->what, src->ops->size (src), f->size);
    src->ops->close (src);
    return NULL;
  }
  return src;
}

static void
folder_free (struct folder_source *f)
{
  if (!f)
    return;
  if (f->inner)
    f->inner->ops->close (f->inner);
  if (f->cookie) {
    explicit_bzero (f->cookie, strlen (f->cookie));
    free (f->cookie);
  }
  free (f->url);
  free (f->what);
  free (f->areas);
  free (f);
}

static struct ferry_disk_source *
folder_wrap (struct folder_source *f)
{
  struct ferry_disk_source *src = calloc (1, sizeof *src);

  if (!src) {
    ferry_error_errno (errno, "vsphere: %s", f->what);
    folder_free (f);
    return NULL;
  }
  src->ops = &folder_ops;
  src->priv = f;
  return src;
}

static struct folder_source *
folder_new (struct vsphere_handle *h, const char *url, const char *what,
            uint64_t size, struct vsphere_area *areas, size_t nr_areas)
{
  struct folder_source *f = calloc (1, sizeof *f);

  if (!f) {
    ferry_error_errno (errno, "vsphere: %s", what);
    free (areas);
    return NULL;
  }
  f->h = h;
  f->size = size;
  f->areas = areas;
  f->nr_areas = nr_areas;
  f->url = strdup (url);
  f->what = strdup (what);
  f->cookie = current_cookie (h);
  if (!f->url || !f->what || !f->cookie) {
    ferry_error ("vsphere: %s: out of memory, or no session", what);
    folder_free (f);
    return NULL;
  }
  return f;
}

struct ferry_disk_source *
vsphere_folder_source_open (struct vsphere_handle *h, const char *url,
                            const char *what, uint64_t capacity,
                            struct vsphere_area *areas, size_t nr_areas)
{
  struct folder_source *f = folder_new (h, url, what, capacity, areas,
                                        nr_areas);

  if (!f)
    return NULL;
  f->inner = open_inner (f);
  if (!f->inner) {
    ferry_error_prefix ("vsphere: %s", what);
    folder_free (f);
    return NULL;
  }
  return folder_wrap (f);
}

static int64_t
folder_size (struct ferry_disk_source *src)
{
  struct folder_source *f = src->priv;
  return (int64_t) f->size;
}

static uint32_t
folder_block_size (struct ferry_disk_source *src)
{
  return 0;
}

/* After a failed read: renew the session if it expired.  Returns 1 when
 * the connection was reopened with a new cookie (retry), 0 when the
 * session was fine (the failure stands), -1 on error.
 */
static int
renew_session (struct folder_source *f)
{
  struct ferry_disk_source *inner;
  char *fresh;

  if (vsphere_session_check (f->h) == -1)
    return -1;
  fresh = current_cookie (f->h);
  if (!fresh || strcmp (fresh, f->cookie) == 0) {
    free (fresh);
    return 0;
  }
  ferry_debug ("vsphere: %s: the session was renewed during the copy; "
               "reconnecting", f->what);
  explicit_bzero (f->cookie, strlen (f->cookie));
  free (f->cookie);
  f->cookie = fresh;
  inner = open_inner (f);
  if (!inner)
    return -1;
  f->inner->ops->close (f->inner);
  f->inner = inner;
  return 1;
}

static int
folder_pread (struct ferry_disk_source *src, void *buf, size_t count,
              uint64_t offset)
{
  struct folder_source *f = src->priv;
  VSPHERE_CLEANUP_FREE char *first = NULL;

  if (f->inner->ops->pread (f->inner, buf, count, offset) == 0)
    return 0;
  first = strdup (ferry_get_error ());
  switch (renew_session (f)) {
  case 1:
    return f->inner->ops->pread (f->inner, buf, count, offset);
  case 0:
    ferry_error ("%s", first ? first : "vsphere: read failed");
    return -1;
  default:
    ferry_error_prefix ("vsphere: %s: a read failed (%s), and so did renewing "
                        "the session", f->what, first ? first : "");
    return -1;
  }
}

static int
emit (ferry_extent_fn fn, void *opaque, uint64_t lo, uint64_t hi,
      uint64_t a, uint64_t b, uint32_t flags)
{
  uint64_t s = a > lo ? a : lo, e = b < hi ? b : hi;
  return s < e ? fn (opaque, s, e - s, flags) : 0;
}

static int
folder_extents (struct ferry_disk_source *src, uint64_t offset,
                uint64_t length, ferry_extent_fn fn, void *opaque)
{
  struct folder_source *f = src->priv;
  uint64_t end, pos = 0;

  if (offset > f->size) {
    ferry_error ("vsphere: %s: extents at %" PRIu64 " beyond the disk (%"
                 PRIu64 " bytes)", f->what, offset, f->size);
    return -1;
  }
  end = length > f->size - offset ? f->size : offset + length;
  if (!f->areas)
    return emit (fn, opaque, offset, end, 0, f->size, FERRY_EXTENT_DATA);
  for (size_t i = 0; i < f->nr_areas && pos < end; i++) {
    const struct vsphere_area *a = &f->areas[i];
    if (emit (fn, opaque, offset, end, pos, a->start,
              FERRY_EXTENT_HOLE | FERRY_EXTENT_ZERO) == -1
        || emit (fn, opaque, offset, end, a->start, a->start + a->length,
                 FERRY_EXTENT_DATA) == -1)
      return -1;
    pos = a->start + a->length;
  }
  return emit (fn, opaque, offset, end, pos, f->size,
               FERRY_EXTENT_HOLE | FERRY_EXTENT_ZERO);
}

static int
folder_can_multi_conn (struct ferry_disk_source *src)
{
  return 1;                             /* the file does not change under us */
}

static struct ferry_disk_source *
folder_clone (struct ferry_disk_source *src)
{
  struct folder_source *f = src->priv, *c;
  struct vsphere_area *areas = NULL;

  if (f->areas) {
    areas = malloc ((f->nr_areas ? f->nr_areas : 1) * sizeof *areas);
    if (!areas) {
      ferry_error_errno (errno, "vsphere: %s: clone", f->what);
      return NULL;
    }
    memcpy (areas, f->areas, f->nr_areas * sizeof *areas);
  }
  c = folder_new (f->h, f->url, f->what, f->size, areas, f->nr_areas);
  if (!c)
    return NULL;
  c->inner = f->inner->ops->clone (f->inner);
  if (!c->inner) {
    folder_free (c);
    return NULL;
  }
  /* The clone carries the cookie f was opened with. */
  free (c->cookie);
  c->cookie = strdup (f->cookie);
  if (!c->cookie) {
    ferry_error_errno (errno, "vsphere: %s: clone", f->what);
    folder_free (c);
    return NULL;
  }
  return folder_wrap (c);
}

static void
folder_close (struct ferry_disk_source *src)
{
  if (!src)
    return;
  folder_free (src->priv);
  free (src);
}

static const struct ferry_disk_source_ops folder_ops = {
  .struct_size = sizeof (struct ferry_disk_source_ops),
  .name = "vsphere-folder",
  .size = folder_size,
  .block_size = folder_block_size,
  .pread = folder_pread,
  .extents = folder_extents,
  .can_multi_conn = folder_can_multi_conn,
  .clone = folder_clone,
  .close = folder_close,
};
