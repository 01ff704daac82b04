/* ferry core: an NBD server spawned for writing as a volume sink.
 *
 * E.g. qemu-nbd writing a qcow2 made beforehand with qemu-img create.
 * Zero ranges use NBD_CMD_WRITE_ZEROES with NBD_CMD_FLAG_FAST_ZERO while
 * the server can honour it (then without, letting the server choose how);
 * a server without WRITE_ZEROES gets zero buffers.  The volume counts as
 * starting zeroed when block status says every byte reads as zero.
 *
 * Thread model: one libnbd handle, which libnbd makes safe to share, so
 * writes may come from several threads in any order.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <libnbd.h>

#include "ferry/transfer.h"
#include "transfer-internal.h"

struct nbd_sink {
  struct nbd_handle *nbd;
  char *name;                           /* argv[0], for messages */
  uint64_t size;                        /* bytes */
  uint32_t max_request;                 /* bytes */
  bool can_zero, can_flush;
  atomic_bool fast_zero;                /* still worth asking for fast zero */
  bool starts_zeroed;
};

static const struct ferry_volume_sink_ops nbd_sink_ops;

static void
nbd_sink_free (struct nbd_sink *ns)
{
  if (ns == NULL)
    return;
  if (ns->nbd)
    nbd_close (ns->nbd);
  free (ns->name);
  free (ns);
}

static int
zero_check_cb (void *user_data, const char *metacontext, uint64_t offset,
               uint32_t *entries, size_t nr_entries, int *error)
{
  uint64_t *zero_to = user_data;

  if (strcmp (metacontext, LIBNBD_CONTEXT_BASE_ALLOCATION) != 0)
    return 0;
  for (size_t i = 0; i + 1 < nr_entries; i += 2) {
    if (!(entries[i + 1] & LIBNBD_STATE_ZERO) || entries[i] == 0)
      break;
    *zero_to += entries[i];
  }
  return 0;
}

/* True when block status reports the whole volume as reading zeroes; a
 * fresh qcow2 or sparse raw answers in one reply.  Stops at the first
 * byte that is not known to be zero.
 */
static bool
nbd_sink_is_all_zero (struct nbd_sink *ns)
{
  uint64_t pos = 0;

  if (nbd_can_meta_context (ns->nbd, LIBNBD_CONTEXT_BASE_ALLOCATION) != 1)
    return false;
  while (pos < ns->size) {
    uint64_t before = pos;
    uint64_t n = ns->size - pos;
    if (n > 1u << 30)
      n = 1u << 30;
    if (nbd_block_status (ns->nbd, n, pos,
                          (nbd_extent_callback) { .callback = zero_check_cb,
                                                  .user_data = &pos },
                          0) == -1)
      return false;
    if (pos == before)
      return false;
  }
  return true;
}

struct ferry_volume_sink *
ferry_nbd_sink_spawn (const char *const *argv)
{
  char **args = ferry_internal_strv_copy (argv, "nbd sink");
  struct ferry_volume_sink *sink = NULL;
  struct nbd_sink *ns;
  int64_t r;

  if (args == NULL)
    return NULL;
  ns = calloc (1, sizeof *ns);
  if (ns == NULL || (ns->name = strdup (args[0])) == NULL) {
    ferry_error_errno (errno, "nbd sink %s", args[0]);
    goto err;
  }
  ns->nbd = nbd_create ();
  if (ns->nbd == NULL ||
      nbd_add_meta_context (ns->nbd, LIBNBD_CONTEXT_BASE_ALLOCATION) == -1) {
    ferry_error ("nbd sink %s: %s", ns->name, nbd_get_error ());
    goto err;
  }
  if (nbd_connect_systemd_socket_activation (ns->nbd, args) == -1) {
    ferry_error ("nbd sink %s: start server: %s", ns->name, nbd_get_error ());
    goto err;
  }
  if (nbd_is_read_only (ns->nbd) == 1) {
    ferry_error ("nbd sink %s: the export is read-only", ns->name);
    goto err;
  }
  r = nbd_get_size (ns->nbd);
  if (r == -1) {
    ferry_error ("nbd sink %s: get size: %s", ns->name, nbd_get_error ());
    goto err;
  }
  ns->size = (uint64_t) r;
  r = nbd_get_block_size (ns->nbd, LIBNBD_SIZE_MAXIMUM);
  ns->max_request = r > 0 && r < FERRY_NBD_MAX_REQUEST
    ? (uint32_t) r : FERRY_NBD_MAX_REQUEST;
  ns->can_zero = nbd_can_zero (ns->nbd) == 1;
  ns->can_flush = nbd_can_flush (ns->nbd) == 1;
  atomic_init (&ns->fast_zero, nbd_can_fast_zero (ns->nbd) == 1);
  ns->starts_zeroed = nbd_sink_is_all_zero (ns);

  sink = calloc (1, sizeof *sink);
  if (sink == NULL) {
    ferry_error_errno (errno, "nbd sink %s", ns->name);
    goto err;
  }
  sink->ops = &nbd_sink_ops;
  sink->priv = ns;
  ferry_internal_strv_free (args);
  return sink;

 err:
  nbd_sink_free (ns);
  ferry_internal_strv_free (args);
  return NULL;
}

static int
nbd_sink_pwrite (struct ferry_volume_sink *sink, const void *buf,
                 size_t count, uint64_t offset)
{
  struct nbd_sink *ns = sink->priv;

  return ferry_internal_nbd_io_all (ns->nbd, true, (void *) buf, count, offset,
                                    ns->max_request, "nbd sink", ns->name, "write");
}

static int
nbd_sink_zero (struct ferry_volume_sink *sink, uint64_t offset,
               uint64_t length)
{
  struct nbd_sink *ns = sink->priv;

  while (length > 0) {
    uint64_t n;

    if (!ns->can_zero) {
      n = length < FERRY_ZERO_BUF_SIZE ? length : FERRY_ZERO_BUF_SIZE;
      if (nbd_sink_pwrite (sink, ferry_internal_zero_buf, n, offset) == -1)
        return -1;
    }
    else {
      n = length < (1u << 30) ? length : (1u << 30);
      if (atomic_load (&ns->fast_zero)) {
        if (nbd_zero (ns->nbd, n, offset, LIBNBD_CMD_FLAG_FAST_ZERO) == 0)
          goto next;
        if (nbd_get_errno () != ENOTSUP) {
          ferry_error_errno (nbd_get_errno (),
                             "nbd sink %s: fast zero at offset %" PRIu64
                             " length %" PRIu64 ": %s",
                             ns->name, offset, n, nbd_get_error ());
          return -1;
        }
        atomic_store (&ns->fast_zero, false);
      }
      if (nbd_zero (ns->nbd, n, offset, 0) == -1) {
        ferry_error_errno (nbd_get_errno (),
                           "nbd sink %s: zero at offset %" PRIu64
                           " length %" PRIu64 ": %s",
                           ns->name, offset, n, nbd_get_error ());
        return -1;
      }
    }
  next:
    offset += n;
    length -= n;
  }
  return 0;
}

static int
nbd_sink_flush (struct ferry_volume_sink *sink)
{
  struct nbd_sink *ns = sink->priv;

  if (ns->can_flush && nbd_flush (ns->nbd, 0) == -1) {
    ferry_error_errno (nbd_get_errno (), "nbd sink %s: flush: %s",
                       ns->name, nbd_get_error ());
    return -1;
  }
  return 0;
}

static int
nbd_sink_can_out_of_order (struct ferry_volume_sink *sink)
{
  return 1;
}

static int
nbd_sink_starts_zeroed (struct ferry_volume_sink *sink)
{
  struct nbd_sink *ns = sink->priv;
  return ns->starts_zeroed;
}

static int
nbd_sink_pread (struct ferry_volume_sink *sink, void *buf, size_t count,
                uint64_t offset)
{
  struct nbd_sink *ns = sink->priv;

  return ferry_internal_nbd_io_all (ns->nbd, false, buf, count, offset,
                                    ns->max_request, "nbd sink", ns->name, "read back");
}

/* Flush, disconnect cleanly, and wait for the server to exit so that the
 * image is complete when close returns.
 */
static int
nbd_sink_close (struct ferry_volume_sink *sink)
{
  int r = 0;

  if (sink == NULL)
    return 0;
  struct nbd_sink *ns = sink->priv;
  if (ns->can_flush && nbd_flush (ns->nbd, 0) == -1) {
    ferry_error_errno (nbd_get_errno (), "nbd sink %s: flush: %s",
                       ns->name, nbd_get_error ());
    r = -1;
  }
  if (nbd_shutdown (ns->nbd, 0) == -1 && r == 0) {
    ferry_error ("nbd sink %s: disconnect: %s", ns->name, nbd_get_error ());
    r = -1;
  }
  nbd_sink_free (ns);
  free (sink);
  return r;
}

static const struct ferry_volume_sink_ops nbd_sink_ops = {
  .struct_size = sizeof (struct ferry_volume_sink_ops),
  .name = "nbd",
  .pwrite = nbd_sink_pwrite,
  .zero = nbd_sink_zero,
  .flush = nbd_sink_flush,
  .can_out_of_order = nbd_sink_can_out_of_order,
  .starts_zeroed = nbd_sink_starts_zeroed,
  .pread = nbd_sink_pread,
  .close = nbd_sink_close,
};
