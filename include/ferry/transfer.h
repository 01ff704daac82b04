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

/* Thread model: the engine calls one source object from one thread at a
 * time; with several connections each worker gets its own clone().
 */
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


/* ---- Sources and sinks the core supplies (libferry) ------------------- */

/* A raw local file (or block device); extents from SEEK_DATA/SEEK_HOLE. */
FERRY_API struct ferry_disk_source *ferry_file_source_open (const char *path);

/* An NBD export: "nbd://host[:port]/export" or "nbd+unix:///export?socket=P". */
FERRY_API struct ferry_disk_source *ferry_nbd_source_open (const char *uri);

/* An NBD server that libnbd spawns with socket activation, e.g.
 * {"qemu-nbd", "-r", "-f", "vmdk", "disk.vmdk", NULL} or
 * {"nbdkit", "-r", "file", "disk.img", NULL}.  argv is copied; the server
 * is stopped when the source is closed.  No shell is involved.
 */
FERRY_API struct ferry_disk_source *
ferry_nbd_source_spawn (const char *const *argv);

struct ferry_http_options {
  uint32_t struct_size;                 /* sizeof; fields are only appended */
  const char *const *headers;           /* "Name: value", NULL-terminated, or NULL */
  const char *cookie;                   /* Cookie header value, or NULL; never logged */
  const char *cafile;                   /* PEM bundle, or NULL: system store */
  int insecure;                         /* non-zero: skip TLS verification (logs a warning) */
};

/* HTTP(S) with Range requests; size from HEAD/Content-Length. */
FERRY_API struct ferry_disk_source *
ferry_http_source_open (const char *url, const struct ferry_http_options *opts);

#define FERRY_FILE_SINK_TRUNCATE 0x1u   /* create or truncate to size */

/* A local raw file written sparsely: holes by punching / never writing,
 * never by writing zeroes.
 */
FERRY_API struct ferry_volume_sink *
ferry_file_sink_open (const char *path, uint64_t size, unsigned flags);

/* An NBD server spawned for writing, e.g. {"qemu-nbd", "-f", "qcow2",
 * "disk.qcow2", NULL} (created beforehand with qemu-img create).
 */
FERRY_API struct ferry_volume_sink *
ferry_nbd_sink_spawn (const char *const *argv);

/* A sequential stream: bytes in offset order through write_fn (e.g. an
 * upload).  Zero ranges are written as zeroes.
 */
typedef int (*ferry_stream_write_fn) (void *opaque, const void *buf, size_t count);
FERRY_API struct ferry_volume_sink *
ferry_stream_sink_new (uint64_t size, ferry_stream_write_fn write_fn,
                       int (*finish_fn) (void *opaque), void *opaque);

/* ---- The copy ----------------------------------------------------------- */

struct ferry_transfer_progress {
  uint64_t done;                        /* bytes of the disk accounted for */
  uint64_t total;                       /* bytes, the disk's size (or the work list's) */
  double rate;                          /* bytes per second, recent */
};
typedef void (*ferry_progress_fn) (void *opaque,
                                   const struct ferry_transfer_progress *p);

struct ferry_range {
  uint64_t offset, length;              /* bytes */
};

struct ferry_transfer_options {
  uint32_t struct_size;                 /* sizeof; fields are only appended */
  unsigned connections;                 /* 0: default (4 where both ends allow multi-conn, else 1) */
  uint32_t request_size;                /* bytes, 0: default (e.g. 256 KiB) */
  unsigned requests_in_flight;          /* per connection, 0: default */
  int verify;                           /* non-zero: SHA-256 of the content, re-read at the sink */
  ferry_progress_fn progress;           /* or NULL; called at most ~10 times a second */
  void *progress_opaque;
  volatile int *cancel;                 /* set non-zero to stop within a second, or NULL */
  const struct ferry_range *ranges;     /* work list (warm deltas), or NULL: whole disk */
  size_t nr_ranges;
};

struct ferry_transfer_result {
  uint64_t bytes_read;                  /* read from the source */
  uint64_t bytes_written;               /* data written to the sink */
  uint64_t bytes_zeroed;                /* zero ranges zeroed or skipped */
  char sha256[65];                      /* hex, when verify was asked; else "".
                                           SHA-256 of the work list's bytes in
                                           order as read from the source (zero
                                           extents as zeroes): for a whole disk,
                                           sha256sum of the raw image. */
  double seconds;
};

/* Copy src into sink.  Returns 0, or -1 with an error naming the offset
 * and the reason.  Neither end is closed.
 */
FERRY_API int ferry_transfer (struct ferry_disk_source *src,
                              struct ferry_volume_sink *sink,
                              const struct ferry_transfer_options *opts,
                              struct ferry_transfer_result *result);

#ifdef __cplusplus
}
#endif

#endif /* FERRY_TRANSFER_H */
