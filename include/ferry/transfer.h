/* ferry: disk sources and volume sinks, the transfer engine's two ends.
 *
 * Small vtables in the manner of nbdcopy's rw_ops.  A provider returns a
 * disk source from disk_open(); a destination returns a volume sink from
 * volume_create().  The transfer engine in core/ walks the source in work
 * ranges, asks extents per range, and writes into the sink.
 *
 * All offsets and lengths are bytes.  Functions return 0 or -1 after
 * ferry_error(); size() returns -1 on error.
 */
#ifndef FERRY_TRANSFER_H
#define FERRY_TRANSFER_H

#include <stddef.h>
#include <stdint.h>

#include "ferry/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FERRY_EXTENT_DATA 0u
#define FERRY_EXTENT_HOLE 1u            /* unallocated */
#define FERRY_EXTENT_ZERO 2u            /* reads as zeroes */

/* Called once per extent, in ascending order; return -1 to stop. */
typedef int (*ferry_extent_fn) (void *opaque, uint64_t offset,
                                uint64_t length, uint32_t flags);

struct ferry_disk_source;

struct ferry_disk_source_ops {
  uint32_t struct_size;                 /* bytes; fields are only appended */
  const char *name;                     /* "nbd", "http", "file", ... */
  int64_t (*size) (struct ferry_disk_source *src);            /* bytes */
  uint32_t (*block_size) (struct ferry_disk_source *src);     /* preferred, bytes; 0 = any */
  int (*pread) (struct ferry_disk_source *src, void *buf, size_t count,
                uint64_t offset);
  /* Optional: absent means "all data". */
  int (*extents) (struct ferry_disk_source *src, uint64_t offset,
                  uint64_t length, ferry_extent_fn fn, void *opaque);
  /* Optional: absent means 0.  Non-zero: clone() gives independent
   * connections to the same consistent image.
   */
  int (*can_multi_conn) (struct ferry_disk_source *src);
  struct ferry_disk_source *(*clone) (struct ferry_disk_source *src);
  void (*close) (struct ferry_disk_source *src);  /* frees src */
};

struct ferry_disk_source {
  const struct ferry_disk_source_ops *ops;
  void *priv;                           /* owned by the implementation */
};

struct ferry_volume_sink;

struct ferry_volume_sink_ops {
  uint32_t struct_size;                 /* bytes; fields are only appended */
  const char *name;
  int (*pwrite) (struct ferry_volume_sink *sink, const void *buf,
                 size_t count, uint64_t offset);
  /* Optional: absent means the engine writes zero buffers (or, for a
   * sink that starts zeroed, skips the range).
   */
  int (*zero) (struct ferry_volume_sink *sink, uint64_t offset,
               uint64_t length);
  int (*flush) (struct ferry_volume_sink *sink);
  /* Optional: absent means 0.  Non-zero: writes may arrive in any order
   * and from several threads.  A stream (CDI upload) says 0.
   */
  int (*can_out_of_order) (struct ferry_volume_sink *sink);
  /* Optional: non-zero when a fresh volume reads as zeroes. */
  int (*starts_zeroed) (struct ferry_volume_sink *sink);
  /* Optional: read back for verification; absent means not verifiable. */
  int (*pread) (struct ferry_volume_sink *sink, void *buf, size_t count,
                uint64_t offset);
  /* Finishes the volume; 0 on success.  Frees sink either way. */
  int (*close) (struct ferry_volume_sink *sink);
};

struct ferry_volume_sink {
  const struct ferry_volume_sink_ops *ops;
  void *priv;                           /* owned by the implementation */
};

#ifdef __cplusplus
}
#endif

#endif /* FERRY_TRANSFER_H */
