/* ferry core: a local raw file (or block device) as a volume sink.
 *
 * Sparse by construction: on a fresh file (created, empty, or truncated
 * with FERRY_FILE_SINK_TRUNCATE) zero ranges are skipped, so they stay
 * holes; on an existing file or a block device they are punched
 * (PUNCH_HOLE|KEEP_SIZE), else zeroed with ZERO_RANGE, else BLKZEROOUT.
 * Zeroes are never written.  pwrite(2) is safe from several threads, so
 * writes may arrive out of order.
 *
 * Page cache: on a regular file every write starts its writeback at once
 * (sync_file_range WRITE), and once WRITEBACK_WINDOW later writes have
 * been issued it is waited for and dropped from the cache.  The copy then
 * never piles up gigabytes of dirty pages (which makes the kernel throttle
 * writers and makes the final fdatasync long) and does not evict the
 * host's useful cache.  Errors there are not reported: fdatasync at flush
 * is what reports a failed writeback.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/fs.h>

#include "ferry/transfer.h"
#include "cleanup.h"
#include "transfer-internal.h"

#define WRITEBACK_WINDOW 64             /* writes */

struct file_sink {
  char *path;
  int fd;
  uint64_t size;                        /* bytes */
  bool fresh;                           /* reads as zeroes before we write */
  bool is_block;
  atomic_bool no_punch;                 /* PUNCH_HOLE unsupported here */
  atomic_bool no_zero_range;            /* ZERO_RANGE unsupported here */

  /* lock guards the ring of writes whose writeback may be in progress. */
  pthread_mutex_t lock;
  struct { uint64_t offset, length; } ring[WRITEBACK_WINDOW];  /* bytes */
  unsigned ring_head, ring_count;
};

static const struct ferry_volume_sink_ops file_sink_ops;

struct ferry_volume_sink *
ferry_file_sink_open (const char *path, uint64_t size, unsigned flags)
{
  CLEANUP_FREE struct file_sink *fs = NULL;
  CLEANUP_FREE struct ferry_volume_sink *sink = NULL;
  CLEANUP_CLOSE int fd = -1;
  struct stat st;

  if (path == NULL || *path == '\0') {
    ferry_error ("file sink: no path");
    return NULL;
  }
  if (flags & ~FERRY_FILE_SINK_TRUNCATE) {
    ferry_error ("file sink %s: unknown flags 0x%x", path,
                 flags & ~FERRY_FILE_SINK_TRUNCATE);
    return NULL;
  }
  if (size > INT64_MAX) {
    ferry_error ("file sink %s: size %" PRIu64 " is too large", path, size);
    return NULL;
  }
  fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd == -1) {
    ferry_error_errno (errno, "file sink: open %s", path);
    return NULL;
  }
  if (fstat (fd, &st) == -1) {
    ferry_error_errno (errno, "file sink: fstat %s", path);
    return NULL;
  }
  fs = calloc (1, sizeof *fs);
  sink = calloc (1, sizeof *sink);
  if (fs == NULL || sink == NULL || (fs->path = strdup (path)) == NULL) {
    ferry_error_errno (errno, "file sink: %s", path);
    if (fs)
      free (fs->path);
    return NULL;
  }
  fs->size = size;
  if (S_ISBLK (st.st_mode)) {
    uint64_t dev_size;
    fs->is_block = true;
    if (ioctl (fd, BLKGETSIZE64, &dev_size) == -1) {
      ferry_error_errno (errno, "file sink: BLKGETSIZE64 on %s", path);
      goto err;
    }
    if (dev_size < size) {
      ferry_error ("file sink: block device %s has %" PRIu64
                   " bytes, the disk needs %" PRIu64, path, dev_size, size);
      goto err;
    }
  }
  else if (S_ISREG (st.st_mode)) {
    if ((flags & FERRY_FILE_SINK_TRUNCATE) || st.st_size == 0) {
      if (ftruncate (fd, 0) == -1 || ftruncate (fd, (off_t) size) == -1) {
        ferry_error_errno (errno, "file sink: truncate %s to %" PRIu64 " bytes",
                           path, size);
        goto err;
      }
      fs->fresh = true;
    }
    else if ((uint64_t) st.st_size < size &&
             ftruncate (fd, (off_t) size) == -1) {
      ferry_error_errno (errno, "file sink: extend %s to %" PRIu64 " bytes",
                         path, size);
      goto err;
    }
  }
  else {
    ferry_error ("file sink: %s is neither a regular file nor a block device",
                 path);
    goto err;
  }
  pthread_mutex_init (&fs->lock, NULL);
  fs->fd = fd;
  fd = -1;
  sink->ops = &file_sink_ops;
  sink->priv = ferry_steal (&fs);
  return ferry_steal (&sink);

 err:
  free (fs->path);
  return NULL;
}

/* Start writeback of what was just written; finish and drop the write
 * that falls out of the window.
 */
static void
file_sink_writeback (struct file_sink *fs, uint64_t offset, uint64_t length)
{
  uint64_t old_offset = 0, old_length = 0;

  if (fs->is_block)
    return;
  sync_file_range (fs->fd, (off_t) offset, (off_t) length,
                   SYNC_FILE_RANGE_WRITE);
  pthread_mutex_lock (&fs->lock);
  if (fs->ring_count == WRITEBACK_WINDOW) {
    old_offset = fs->ring[fs->ring_head].offset;
    old_length = fs->ring[fs->ring_head].length;
    fs->ring[fs->ring_head].offset = offset;
    fs->ring[fs->ring_head].length = length;
    fs->ring_head = (fs->ring_head + 1) % WRITEBACK_WINDOW;
  }
  else {
    unsigned i = (fs->ring_head + fs->ring_count++) % WRITEBACK_WINDOW;
    fs->ring[i].offset = offset;
    fs->ring[i].length = length;
  }
  pthread_mutex_unlock (&fs->lock);
  if (old_length) {
    sync_file_range (fs->fd, (off_t) old_offset, (off_t) old_length,
                     SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                     SYNC_FILE_RANGE_WAIT_AFTER);
    posix_fadvise (fs->fd, (off_t) old_offset, (off_t) old_length,
                   POSIX_FADV_DONTNEED);
  }
}

static int
file_sink_pwrite (struct ferry_volume_sink *sink, const void *buf,
                  size_t count, uint64_t offset)
{
  struct file_sink *fs = sink->priv;

  if (ferry_internal_fd_pwrite_all (fs->fd, buf, count, offset,
                                    "file sink", "write", fs->path) == -1)
    return -1;
  file_sink_writeback (fs, offset, count);
  return 0;
}

static int
file_sink_zero (struct ferry_volume_sink *sink, uint64_t offset,
                uint64_t length)
{
  struct file_sink *fs = sink->priv;
  int err = EOPNOTSUPP;

  if (length == 0)
    return 0;
  if (!atomic_load (&fs->no_punch)) {
    if (fallocate (fs->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                   (off_t) offset, (off_t) length) == 0)
      return 0;
    err = errno;
    if (err != EOPNOTSUPP && err != ENOSYS)
      goto fail;
    atomic_store (&fs->no_punch, true);
  }
  if (!atomic_load (&fs->no_zero_range)) {
    if (fallocate (fs->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
                   (off_t) offset, (off_t) length) == 0)
      return 0;
    err = errno;
    if (err != EOPNOTSUPP && err != ENOSYS)
      goto fail;
    atomic_store (&fs->no_zero_range, true);
  }
  if (fs->is_block) {
    uint64_t range[2] = { offset, length };
    if (ioctl (fs->fd, BLKZEROOUT, range) == 0)
      return 0;
    err = errno;
  }
 fail:
  ferry_error_errno (err, "file sink: zero %s at offset %" PRIu64
                     " length %" PRIu64, fs->path, offset, length);
  return -1;
}

static int
file_sink_flush (struct ferry_volume_sink *sink)
{
  struct file_sink *fs = sink->priv;

  if (fdatasync (fs->fd) == -1) {
    ferry_error_errno (errno, "file sink: fdatasync %s", fs->path);
    return -1;
  }
  return 0;
}

static int
file_sink_can_out_of_order (struct ferry_volume_sink *sink)
{
  return 1;
}

static int
file_sink_starts_zeroed (struct ferry_volume_sink *sink)
{
  struct file_sink *fs = sink->priv;
  return fs->fresh;
}

static int
file_sink_pread (struct ferry_volume_sink *sink, void *buf, size_t count,
                 uint64_t offset)
{
  struct file_sink *fs = sink->priv;

  return ferry_internal_fd_pread_all (fs->fd, buf, count, offset,
                                      "file sink", "read back", fs->path);
}

static int
file_sink_close (struct ferry_volume_sink *sink)
{
  int r = 0;

  if (sink == NULL)
    return 0;
  struct file_sink *fs = sink->priv;
  if (fs) {
    if (close (fs->fd) == -1) {
      ferry_error_errno (errno, "file sink: close %s", fs->path);
      r = -1;
    }
    pthread_mutex_destroy (&fs->lock);
    free (fs->path);
    free (fs);
  }
  free (sink);
  return r;
}

static const struct ferry_volume_sink_ops file_sink_ops = {
  .struct_size = sizeof (struct ferry_volume_sink_ops),
  .name = "file",
  .pwrite = file_sink_pwrite,
  .zero = file_sink_zero,
  .flush = file_sink_flush,
  .can_out_of_order = file_sink_can_out_of_order,
  .starts_zeroed = file_sink_starts_zeroed,
  .pread = file_sink_pread,
  .close = file_sink_close,
};
