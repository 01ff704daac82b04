/* ferry core: what the transfer engine's sources and sinks share. */
#ifndef FERRY_CORE_TRANSFER_INTERNAL_H
#define FERRY_CORE_TRANSFER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ferry/transfer.h"

/* Largest single NBD request the core's NBD ends send; bytes.  Servers
 * (qemu-nbd, nbdkit) accept 32 MiB.
 */
#define FERRY_NBD_MAX_REQUEST (32u * 1024 * 1024)

/* A NULL-terminated copy of argv (strings copied too), or NULL after
 * ferry_error() when argv is empty or memory runs out.  Free with
 * ferry_internal_strv_free().
 */
char **ferry_internal_strv_copy (const char *const *argv, const char *what);
void ferry_internal_strv_free (char **strv);

/* True when buf[0..len) is all zero bytes. */
bool ferry_internal_is_zero (const void *buf, size_t len);

/* A read-only buffer of FERRY_ZERO_BUF_SIZE zero bytes. */
#define FERRY_ZERO_BUF_SIZE (1024u * 1024)
extern const unsigned char ferry_internal_zero_buf[FERRY_ZERO_BUF_SIZE];

/* Whole-buffer I/O (transfer-io.c): continue short transfers, retry EINTR,
 * and report "END: VERB PATH at offset N" (or, for NBD, "END NAME: VERB at
 * offset N length L: reason") on failure.  0 or -1.
 */
int ferry_internal_fd_pread_all (int fd, void *buf, size_t count,
                                 uint64_t offset, const char *end,
                                 const char *verb, const char *path);
int ferry_internal_fd_pwrite_all (int fd, const void *buf, size_t count,
                                  uint64_t offset, const char *end,
                                  const char *verb, const char *path);
struct nbd_handle;
/* write: buf is only read.  Requests are at most max_request bytes. */
int ferry_internal_nbd_io_all (struct nbd_handle *nbd, bool write, void *buf,
                               size_t count, uint64_t offset,
                               uint32_t max_request, const char *end,
                               const char *name, const char *verb);

#endif /* FERRY_CORE_TRANSFER_INTERNAL_H */
