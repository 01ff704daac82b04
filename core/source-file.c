/* ferry core: a raw local file (or block device) as a disk source.
 *
 * Extents come from SEEK_DATA/SEEK_HOLE; a file system without them
 * reports everything as data.  pread(2) on one descriptor is safe from
 * several threads, but clone() opens the file again so that each worker
 * owns its descriptor (and its read-ahead state).
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>

#include "ferry/transfer.h"
#include "cleanup.h"
#include "transfer-internal.h"

struct file_source {
  char *path;
  int fd;
  uint64_t size;                        /* bytes */
};

static const struct ferry_disk_source_ops file_source_ops;

static struct ferry_disk_source *
file_source_new (const char *path)
{
  CLEANUP_FREE struct file_source *fs = NULL;
  CLEANUP_FREE struct ferry_disk_source *src = NULL;
  CLEANUP_CLOSE int fd = -1;
  struct stat st;

  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd == -1) {
    ferry_error_errno (errno, "file source: open %s", path);
    return NULL;
  }
  if (fstat (fd, &st) == -1) {
    ferry_error_errno (errno, "file source: fstat %s", path);
    return NULL;
  }
  fs = calloc (1, sizeof *fs);
  src = calloc (1, sizeof *src);
  if (fs == NULL || src == NULL) {
    ferry_error_errno (errno, "file source: %s", path);
    return NULL;
  }
  if (S_ISBLK (st.st_mode)) {
    uint64_t sz;
    if (ioctl (fd, BLKGETSIZE64, &sz) == -1) {
      ferry_error_errno (errno, "file source: BLKGETSIZE64 on %s", path);
      return NULL;
    }
    fs->size = sz;
  }
  else if (S_ISREG (st.st_mode))
    fs->size = (uint64_t) st.st_size;
  else {
    ferry_error ("file source: %s is neither a regular file nor a block device",
                 path);
    return NULL;
  }
  fs->path = strdup (path);
  if (fs->path == NULL) {
    ferry_error_errno (errno, "file source: %s", path);
    return NULL;
  }
  fs->fd = fd;
  fd = -1;
  src->ops = &file_source_ops;
  src->priv = ferry_steal (&fs);
  return ferry_steal (&src);
}

struct ferry_disk_source *
ferry_file_source_open (const char *path)
{
  if (path == NULL || *path == '\0') {
    ferry_error ("file source: no path");
    return NULL;
  }
  return file_source_new (path);
}

static int64_t
file_source_size (struct ferry_disk_source *src)
{
  struct file_source *fs = src->priv;
  return (int64_t) fs->size;
}

static uint32_t
file_source_block_size (struct ferry_disk_source *src)
{
  return 0;
}

static int
file_source_pread (struct ferry_disk_source *src, void *buf, size_t count,
                   uint64_t offset)
{
  struct file_source *fs = src->priv;

  return ferry_internal_fd_pread_all (fs->fd, buf, count, offset,
                                      "file source", "read", fs->path);
}

/* Walk [offset, offset+length) with SEEK_DATA/SEEK_HOLE.  Holes read as
 * zeroes in a regular file, so they are HOLE|ZERO.
 */
static int
file_source_extents (struct ferry_disk_source *src, uint64_t offset,
                     uint64_t length, ferry_extent_fn fn, void *opaque)
{
  struct file_source *fs = src->priv;
  uint64_t end = offset + length;

  if (end > fs->size)
    end = fs->size;
  while (offset < end) {
    off_t data = lseek (fs->fd, (off_t) offset, SEEK_DATA);
    if (data == -1) {
      if (errno == ENXIO)             /* no data after offset: all hole */
        return fn (opaque, offset, end - offset,
                   FERRY_EXTENT_HOLE | FERRY_EXTENT_ZERO);
      if (errno == EINVAL || errno == EOPNOTSUPP)  /* no support: all data */
        return fn (opaque, offset, end - offset, FERRY_EXTENT_DATA);
      ferry_error_errno (errno, "file source: SEEK_DATA on %s at offset %" PRIu64,
                         fs->path, offset);
      return -1;
    }
    if ((uint64_t) data > offset) {
      uint64_t hole_end = (uint64_t) data < end ? (uint64_t) data : end;
      if (fn (opaque, offset, hole_end - offset,
              FERRY_EXTENT_HOLE | FERRY_EXTENT_ZERO) == -1)
        return -1;
      offset = hole_end;
      continue;
    }
    off_t hole = lseek (fs->fd, (off_t) offset, SEEK_HOLE);
    if (hole == -1) {
      ferry_error_errno (errno, "file source: SEEK_HOLE on %s at offset %" PRIu64,
                         fs->path, offset);
      return -1;
    }
    uint64_t data_end = (uint64_t) hole < end ? (uint64_t) hole : end;
    if (data_end <= offset)             /* file changed under us */
      data_end = end;
    if (fn (opaque, offset, data_end - offset, FERRY_EXTENT_DATA) == -1)
      return -1;
    offset = data_end;
  }
  return 0;
}

static int
file_source_can_multi_conn (struct ferry_disk_source *src)
{
  return 1;
}

static struct ferry_disk_source *
file_source_clone (struct ferry_disk_source *src)
{
  struct file_source *fs = src->priv;
  return file_source_new (fs->path);
}

static void
file_source_close (struct ferry_disk_source *src)
{
  if (src == NULL)
    return;
  struct file_source *fs = src->priv;
  if (fs) {
    close (fs->fd);
    free (fs->path);
    free (fs);
  }
  free (src);
}

static const struct ferry_disk_source_ops file_source_ops = {
  .struct_size = sizeof (struct ferry_disk_source_ops),
  .name = "file",
  .size = file_source_size,
  .block_size = file_source_block_size,
  .pread = file_source_pread,
  .extents = file_source_extents,
  .can_multi_conn = file_source_can_multi_conn,
  .clone = file_source_clone,
  .close = file_source_close,
};
