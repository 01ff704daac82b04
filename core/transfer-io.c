/* ferry core: whole-buffer I/O for the file and NBD ends of the transfer
 * engine: short transfers are continued, EINTR retried, and every failure
 * reported with the end, the object, the operation and the offset.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <unistd.h>

#include <libnbd.h>

#include "transfer-internal.h"

static int
fd_io_all (int fd, bool write, void *buf, size_t count, uint64_t offset,
           const char *end, const char *verb, const char *path)
{
  char *p = buf;

  while (count > 0) {
    ssize_t r = write ? pwrite (fd, p, count, (off_t) offset)
                      : pread (fd, p, count, (off_t) offset);
    if (r == -1) {
      if (errno == EINTR)
        continue;
      ferry_error_errno (errno, "%s: %s %s at offset %" PRIu64,
                         end, verb, path, offset);
      return -1;
    }
    if (r == 0) {
      ferry_error ("%s: %s %s at offset %" PRIu64 ": %s (%zu bytes short)",
                   end, verb, path, offset,
                   write ? "nothing written" : "unexpected end of file", count);
      return -1;
    }
    p += r;
    count -= (size_t) r;
    offset += (uint64_t) r;
  }
  return 0;
}

int
ferry_internal_fd_pread_all (int fd, void *buf, size_t count, uint64_t offset,
                             const char *end, const char *verb, const char *path)
{
  return fd_io_all (fd, false, buf, count, offset, end, verb, path);
}

int
ferry_internal_fd_pwrite_all (int fd, const void *buf, size_t count,
                              uint64_t offset, const char *end,
                              const char *verb, const char *path)
{
  return fd_io_all (fd, true, (void *) buf, count, offset, end, verb, path);
}

int
ferry_internal_nbd_io_all (struct nbd_handle *nbd, bool write, void *buf,
                           size_t count, uint64_t offset, uint32_t max_request,
                           const char *end, const char *name, const char *verb)
{
  char *p = buf;

  while (count > 0) {
    size_t n = count < max_request ? count : max_request;
    if ((write ? nbd_pwrite (nbd, p, n, offset, 0)
               : nbd_pread (nbd, p, n, offset, 0)) == -1) {
      ferry_error_errno (nbd_get_errno (),
                         "%s %s: %s at offset %" PRIu64 " length %zu: %s",
                         end, name, verb, offset, n, nbd_get_error ());
      return -1;
    }
    p += n;
    count -= n;
    offset += n;
  }
  return 0;
}
