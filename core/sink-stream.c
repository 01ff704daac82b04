/* ferry core: a sequential stream (e.g. an upload) as a volume sink.
 *
 * Bytes go to write_fn strictly in offset order, with no gaps: zero
 * ranges are written as zero buffers.  A write at any other offset is an
 * error, never a silent reorder.  close() calls finish_fn only when all
 * size bytes went through; write_fn and finish_fn return 0 or -1 (after
 * ferry_error(), ideally).  Not thread-safe: can_out_of_order is 0, so
 * the engine calls it from one thread at a time, in order.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>

#include "ferry/transfer.h"
#include "transfer-internal.h"

struct stream_sink {
  uint64_t size;                        /* bytes */
  uint64_t pos;                         /* bytes written so far = next offset */
  ferry_stream_write_fn write_fn;
  int (*finish_fn) (void *opaque);
  void *opaque;
  bool failed;                          /* a write failed: never finish */
};

static const struct ferry_volume_sink_ops stream_sink_ops;

struct ferry_volume_sink *
ferry_stream_sink_new (uint64_t size, ferry_stream_write_fn write_fn,
                       int (*finish_fn) (void *opaque), void *opaque)
{
  struct ferry_volume_sink *sink;
  struct stream_sink *ss;

  if (write_fn == NULL) {
    ferry_error ("stream sink: no write function");
    return NULL;
  }
  sink = calloc (1, sizeof *sink);
  ss = calloc (1, sizeof *ss);
  if (sink == NULL || ss == NULL) {
    ferry_error_errno (errno, "stream sink");
    free (sink);
    free (ss);
    return NULL;
  }
  ss->size = size;
  ss->write_fn = write_fn;
  ss->finish_fn = finish_fn;
  ss->opaque = opaque;
  sink->ops = &stream_sink_ops;
  sink->priv = ss;
  return sink;
}

static int
stream_check (struct stream_sink *ss, uint64_t offset, uint64_t count)
{
  if (ss->failed) {
    ferry_error ("stream sink: write at offset %" PRIu64
                 " after a failed write", offset);
    return -1;
  }
  if (offset != ss->pos) {
    ferry_error ("stream sink: write at offset %" PRIu64
                 " but the stream is at offset %" PRIu64
                 " (a stream takes bytes in order)", offset, ss->pos);
    return -1;
  }
  if (count > ss->size - ss->pos) {
    ferry_error ("stream sink: write at offset %" PRIu64 " length %" PRIu64
                 " goes past the end (%" PRIu64 " bytes)",
                 offset, count, ss->size);
    return -1;
  }
  return 0;
}

static int
stream_put (struct stream_sink *ss, const void *buf, size_t count)
{
  if (ss->write_fn (ss->opaque, buf, count) == -1) {
    ss->failed = true;
    ferry_error_prefix ("stream sink: write at offset %" PRIu64, ss->pos);
    return -1;
  }
  ss->pos += count;
  return 0;
}

static int
stream_sink_pwrite (struct ferry_volume_sink *sink, const void *buf,
                    size_t count, uint64_t offset)
{
  struct stream_sink *ss = sink->priv;

  if (stream_check (ss, offset, count) == -1)
    return -1;
  return stream_put (ss, buf, count);
}

static int
stream_sink_zero (struct ferry_volume_sink *sink, uint64_t offset,
                  uint64_t length)
{
  struct stream_sink *ss = sink->priv;

  if (stream_check (ss, offset, length) == -1)
    return -1;
  while (length > 0) {
    size_t n = length < FERRY_ZERO_BUF_SIZE ? length : FERRY_ZERO_BUF_SIZE;
    if (stream_put (ss, ferry_internal_zero_buf, n) == -1)
      return -1;
    length -= n;
  }
  return 0;
}

static int
stream_sink_flush (struct ferry_volume_sink *sink)
{
  return 0;
}

static int
stream_sink_can_out_of_order (struct ferry_volume_sink *sink)
{
  return 0;
}

static int
stream_sink_close (struct ferry_volume_sink *sink)
{
  int r = 0;

  if (sink == NULL)
    return 0;
  struct stream_sink *ss = sink->priv;
  if (ss->failed)
    r = -1;                             /* the failed write reported it */
  else if (ss->pos != ss->size) {
    ferry_error ("stream sink: closed at offset %" PRIu64 " of %" PRIu64
                 " bytes: the stream is short", ss->pos, ss->size);
    r = -1;
  }
  else if (ss->finish_fn && ss->finish_fn (ss->opaque) == -1)
    r = -1;
  free (ss);
  free (sink);
  return r;
}

static const struct ferry_volume_sink_ops stream_sink_ops = {
  .struct_size = sizeof (struct ferry_volume_sink_ops),
  .name = "stream",
  .pwrite = stream_sink_pwrite,
  .zero = stream_sink_zero,
  .flush = stream_sink_flush,
  .can_out_of_order = stream_sink_can_out_of_order,
  .close = stream_sink_close,
};
