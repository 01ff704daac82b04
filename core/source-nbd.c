/* ferry core: an NBD export as a disk source (libnbd).
 *
 * Either connected by URI or spawned (qemu-nbd, nbdkit) with systemd
 * socket activation, argv copied, no shell.  Extents come from the
 * "base:allocation" metadata context when the server offers it.
 *
 * Thread model: one handle per source object; libnbd serialises calls on
 * a handle, so the engine gives each worker its own clone.  clone() opens
 * another connection to the same server (same URI, or the spawned server's
 * socket) and is offered only when the server advertises multi-conn,
 * i.e. every connection sees the same consistent image.  Clones of a
 * spawned source must be closed before the source that spawned the server.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <libnbd.h>

#include "ferry/transfer.h"
#include "cleanup.h"
#include "transfer-internal.h"

struct nbd_source {
  struct nbd_handle *nbd;
  char *uri;                            /* for clone(): where to connect again */
  char *name;                           /* for messages: the URI or argv[0] */
  uint64_t size;                        /* bytes */
  uint32_t block_size;                  /* preferred, bytes; 0 = any */
  uint32_t max_request;                 /* bytes */
  bool has_extents;                     /* base:allocation negotiated */
  bool multi_conn;
};

static const struct ferry_disk_source_ops nbd_source_ops;

static void
nbd_source_free (struct nbd_source *ns)
{
  if (ns == NULL)
    return;
  if (ns->nbd) {
    nbd_shutdown (ns->nbd, 0);
    nbd_close (ns->nbd);
  }
  free (ns->uri);
  free (ns->name);
  free (ns);
}

/* Read what the server says once connected, wrap it in a source. */
static struct ferry_disk_source *
nbd_source_finish (struct nbd_source *ns)
{
  struct ferry_disk_source *src;
  int64_t size, r;

  size = nbd_get_size (ns->nbd);
  if (size == -1) {
    ferry_error ("nbd source %s: get size: %s", ns->name, nbd_get_error ());
    goto err;
  }
  ns->size = (uint64_t) size;
  ns->has_extents =
    nbd_can_meta_context (ns->nbd, LIBNBD_CONTEXT_BASE_ALLOCATION) == 1;
  ns->multi_conn = nbd_can_multi_conn (ns->nbd) == 1;
  r = nbd_get_block_size (ns->nbd, LIBNBD_SIZE_PREFERRED);
  ns->block_size = r > 0 && r <= 32 * 1024 * 1024 ? (uint32_t) r : 0;
  r = nbd_get_block_size (ns->nbd, LIBNBD_SIZE_MAXIMUM);
  ns->max_request = r > 0 && r < FERRY_NBD_MAX_REQUEST
    ? (uint32_t) r : FERRY_NBD_MAX_REQUEST;

  src = calloc (1, sizeof *src);
  if (src == NULL) {
    ferry_error_errno (errno, "nbd source %s", ns->name);
    goto err;
  }
  src->ops = &nbd_source_ops;
  src->priv = ns;
  return src;

 err:
  nbd_source_free (ns);
  return NULL;
}

static struct nbd_source *
nbd_source_alloc (const char *name)
{
  struct nbd_source *ns = calloc (1, sizeof *ns);

  if (ns == NULL || (ns->name = strdup (name)) == NULL) {
    ferry_error_errno (errno, "nbd source %s", name);
    free (ns);
    return NULL;
  }
  ns->nbd = nbd_create ();
  if (ns->nbd == NULL ||
      nbd_add_meta_context (ns->nbd, LIBNBD_CONTEXT_BASE_ALLOCATION) == -1) {
    ferry_error ("nbd source %s: %s", name, nbd_get_error ());
    nbd_source_free (ns);
    return NULL;
  }
  return ns;
}

static struct ferry_disk_source *
nbd_source_connect_uri (const char *uri, const char *name)
{
  struct nbd_source *ns = nbd_source_alloc (name);

  if (ns == NULL)
    return NULL;
  ns->uri = strdup (uri);
  if (ns->uri == NULL) {
    ferry_error_errno (errno, "nbd source %s", name);
    nbd_source_free (ns);
    return NULL;
  }
  if (nbd_connect_uri (ns->nbd, uri) == -1) {
    ferry_error ("nbd source %s: connect: %s", name, nbd_get_error ());
    nbd_source_free (ns);
    return NULL;
  }
  return nbd_source_finish (ns);
}

struct ferry_disk_source *
ferry_nbd_source_open (const char *uri)
{
  if (uri == NULL || *uri == '\0') {
    ferry_error ("nbd source: no URI");
    return NULL;
  }
  return nbd_source_connect_uri (uri, uri);
}

struct ferry_disk_source *
ferry_nbd_source_spawn (const char *const *argv)
{
  char **args = ferry_internal_strv_copy (argv, "nbd source");
  struct nbd_source *ns;

  if (args == NULL)
    return NULL;
  ns = nbd_source_alloc (args[0]);
  if (ns == NULL) {
    ferry_internal_strv_free (args);
    return NULL;
  }
  if (nbd_connect_systemd_socket_activation (ns->nbd, args) == -1) {
    ferry_error ("nbd source %s: start server: %s", ns->name, nbd_get_error ());
    ferry_internal_strv_free (args);
    nbd_source_free (ns);
    return NULL;
  }
  ferry_internal_strv_free (args);
  /* Further connections go to the spawned server's socket. */
  ns->uri = nbd_get_uri (ns->nbd);
  return nbd_source_finish (ns);
}

static int64_t
nbd_source_size (struct ferry_disk_source *src)
{
  struct nbd_source *ns = src->priv;
  return (int64_t) ns->size;
}

static uint32_t
nbd_source_block_size (struct ferry_disk_source *src)
{
  struct nbd_source *ns = src->priv;
  return ns->block_size;
}

static int
nbd_source_pread (struct ferry_disk_source *src, void *buf, size_t count,
                  uint64_t offset)
{
  struct nbd_source *ns = src->priv;

  return ferry_internal_nbd_io_all (ns->nbd, false, buf, count, offset,
                                    ns->max_request, "nbd source", ns->name, "read");
}

struct extent_walk {
  ferry_extent_fn fn;
  void *opaque;
  uint64_t pos, end;                    /* bytes: next offset to report, limit */
  bool failed;                          /* fn returned -1: its error stands */
};

static int
extent_cb (void *user_data, const char *metacontext, uint64_t offset,
           uint32_t *entries, size_t nr_entries, int *error)
{
  struct extent_walk *w = user_data;

  if (strcmp (metacontext, LIBNBD_CONTEXT_BASE_ALLOCATION) != 0)
    return 0;
  for (size_t i = 0; i + 1 < nr_entries && w->pos < w->end; i += 2) {
    uint64_t len = entries[i];
    uint32_t flags = 0;

    if (len == 0)
      break;
    if (len > w->end - w->pos)
      len = w->end - w->pos;
    if (entries[i + 1] & LIBNBD_STATE_HOLE)
      flags |= FERRY_EXTENT_HOLE;
    if (entries[i + 1] & LIBNBD_STATE_ZERO)
      flags |= FERRY_EXTENT_ZERO;
    if (w->fn (w->opaque, w->pos, len, flags) == -1) {
      w->failed = true;
      *error = EIO;
      return -1;
    }
    w->pos += len;
  }
  return 0;
}

static int
nbd_source_extents (struct ferry_disk_source *src, uint64_t offset,
                    uint64_t length, ferry_extent_fn fn, void *opaque)
{
  struct nbd_source *ns = src->priv;
  struct extent_walk w = { .fn = fn, .opaque = opaque, .pos = offset };

  w.end = offset + length;
  if (w.end > ns->size)
    w.end = ns->size;
  if (!ns->has_extents)
    return w.pos < w.end ? fn (opaque, w.pos, w.end - w.pos, FERRY_EXTENT_DATA) : 0;

  while (w.pos < w.end) {
    uint64_t start = w.pos;
    uint64_t n = w.end - w.pos;
    if (n > 1u << 30)                   /* the protocol's count is 32 bits */
      n = 1u << 30;
    if (nbd_block_status (ns->nbd, n, w.pos,
                          (nbd_extent_callback) { .callback = extent_cb,
                                                  .user_data = &w },
                          0) == -1) {
      if (w.failed)
        return -1;
      ferry_error_errno (nbd_get_errno (),
                         "nbd source %s: block status at offset %" PRIu64
                         ": %s", ns->name, start, nbd_get_error ());
      return -1;
    }
    if (w.pos == start) {
      ferry_error ("nbd source %s: block status at offset %" PRIu64
                   ": the server described no extent", ns->name, start);
      return -1;
    }
  }
  return 0;
}

static int
nbd_source_can_multi_conn (struct ferry_disk_source *src)
{
  struct nbd_source *ns = src->priv;
  return ns->multi_conn && ns->uri != NULL;
}

static struct ferry_disk_source *
nbd_source_clone (struct ferry_disk_source *src)
{
  struct nbd_source *ns = src->priv;

  if (!nbd_source_can_multi_conn (src)) {
    ferry_error ("nbd source %s: the server does not allow several connections",
                 ns->name);
    return NULL;
  }
  return nbd_source_connect_uri (ns->uri, ns->name);
}

static void
nbd_source_close (struct ferry_disk_source *src)
{
  if (src == NULL)
    return;
  nbd_source_free (src->priv);
  free (src);
}

static const struct ferry_disk_source_ops nbd_source_ops = {
  .struct_size = sizeof (struct ferry_disk_source_ops),
  .name = "nbd",
  .size = nbd_source_size,
  .block_size = nbd_source_block_size,
  .pread = nbd_source_pread,
  .extents = nbd_source_extents,
  .can_multi_conn = nbd_source_can_multi_conn,
  .clone = nbd_source_clone,
  .close = nbd_source_close,
};
