/* ferry core: the transfer engine (ARCHITECTURE.md §7).
 *
 * Shape.  The work list (the whole disk, or the caller's ranges) is cut
 * into work ranges of WORK_RANGE_SIZE bytes.  Extents are asked for one
 * work range at a time, by the worker that needs the next unit, and cut
 * into units: a data unit is at most request_size bytes, a zero unit is a
 * run that reads as zeroes.  Units are handed out in ascending order of
 * the work list from one dispenser to `connections` worker threads; each
 * worker owns one source object (the caller's, or a clone(): one NBD/HTTP
 * connection each) and one request buffer, reads, looks for zero blocks,
 * and writes or zeroes at the sink.  Memory is therefore bounded by
 * connections x request_size (x2 with verify) plus one work range's
 * extent list, whatever the disk size.
 *
 * Several workers are used only when the source can clone (can_multi_conn)
 * and the sink takes writes out of order; otherwise one worker runs the
 * units in order, which is the order-preserving mode a stream needs.
 * Each worker has one request in flight (the vtables are synchronous), so
 * requests in flight = connections; opts->requests_in_flight is accepted
 * but not used yet.
 *
 * Zeroes.  Extents flagged FERRY_EXTENT_ZERO are not read.  At the sink
 * they are skipped when the sink starts zeroed and the whole disk is
 * copied (a work list is a delta over an existing volume, so it is always
 * zeroed), else zeroed with sink->zero, else written from a zero buffer.
 * Data that was read is scanned in ZERO_BLOCK_SIZE blocks; all-zero
 * blocks are treated like a zero extent, never written as data.
 *
 * Verification ("sha256").  The digest is SHA-256 over the bytes of the
 * work list in work-list order, as read from the source (zero extents
 * count as zero bytes).  For a whole-disk copy that is exactly
 * `sha256sum` of the raw disk image, e.g. `qemu-img convert -O raw` then
 * sha256sum, or `nbdcopy SRC - | sha256sum`.  It is computed on the fly:
 * units are dispensed in order and a worker feeds its unit to the hash
 * only when every earlier unit has been fed, so the reorder buffer is the
 * workers' own request buffers (at most `connections` units waiting).
 * The sink is checked by reading every unit back with sink->pread right
 * after it was written or zeroed and comparing byte for byte; the first
 * differing offset is the error.  This checks what the sink serves, not
 * durability: it runs before the final flush.  A sink without pread
 * cannot be re-read; then only the digest is computed and a warning said.
 *
 * Progress and cancellation run on the calling thread: it wakes every
 * 100 ms, checks *opts->cancel, and calls opts->progress.  Workers check
 * the stop flag between units and between zero-buffer writes, so a cancel
 * takes effect after at most one request per worker.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "ferry/log.h"
#include "ferry/transfer.h"
#include "cleanup.h"
#include "transfer-internal.h"

#define DEFAULT_REQUEST_SIZE (256u * 1024)      /* bytes */
#define MIN_REQUEST_SIZE (4u * 1024)            /* bytes */
#define MAX_REQUEST_SIZE (32u * 1024 * 1024)    /* bytes */
#define DEFAULT_CONNECTIONS 4
#define MAX_CONNECTIONS 64
#define WORK_RANGE_SIZE (64u * 1024 * 1024)     /* bytes: extents asked per work range */
#define ZERO_BLOCK_SIZE (64u * 1024)            /* bytes: zero detection granularity */
#define TICK_NS 100000000L                      /* 100 ms: progress, cancel */
#define RATE_SAMPLES 11                         /* ticks: rate over the last ~1 s */

const unsigned char ferry_internal_zero_buf[FERRY_ZERO_BUF_SIZE];

bool
ferry_internal_is_zero (const void *buf, size_t len)
{
  const unsigned char *p = buf;

  while (len > 0 && ((uintptr_t) p & 7) != 0) {
    if (*p)
      return false;
    p++, len--;
  }
  while (len >= 64) {
    uint64_t w[8];
    memcpy (w, p, sizeof w);
    if ((w[0] | w[1] | w[2] | w[3] | w[4] | w[5] | w[6] | w[7]) != 0)
      return false;
    p += 64, len -= 64;
  }
  while (len > 0) {
    if (*p)
      return false;
    p++, len--;
  }
  return true;
}

char **
ferry_internal_strv_copy (const char *const *argv, const char *what)
{
  size_t n = 0;
  char **strv;

  if (argv == NULL || argv[0] == NULL || argv[0][0] == '\0') {
    ferry_error ("%s: empty command line", what);
    return NULL;
  }
  while (argv[n])
    n++;
  strv = calloc (n + 1, sizeof *strv);
  if (strv == NULL) {
    ferry_error_errno (errno, "%s", what);
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    strv[i] = strdup (argv[i]);
    if (strv[i] == NULL) {
      ferry_error_errno (errno, "%s", what);
      ferry_internal_strv_free (strv);
      return NULL;
    }
  }
  return strv;
}

void
ferry_internal_strv_free (char **strv)
{
  if (strv == NULL)
    return;
  for (size_t i = 0; strv[i]; i++)
    free (strv[i]);
  free (strv);
}

struct extent {
  uint64_t offset, length;              /* bytes */
  bool zero;                            /* reads as zeroes */
};

struct unit {
  uint64_t offset, length;              /* bytes */
  uint64_t seq;                         /* position in dispense order */
  bool zero;
};

struct xfer {
  struct ferry_disk_source *src;        /* borrowed */
  struct ferry_volume_sink *sink;       /* borrowed */
  const struct ferry_range *ranges;     /* the work list; borrowed */
  size_t nr_ranges;
  struct ferry_range whole;             /* the work list when none was given */
  uint64_t size, total;                 /* bytes */
  uint32_t request_size;                /* bytes */
  bool skip_zero;                       /* sink starts zeroed, whole disk */
  bool hash;                            /* compute the digest */
  bool readback;                        /* re-read the sink */
  volatile int *cancel;

  /* lock guards everything down to `running`. */
  pthread_mutex_t lock;
  pthread_cond_t finished;              /* signalled when running drops */
  size_t range_idx;                     /* next work range: ranges[range_idx] */
  uint64_t range_pos;                   /* ... from this offset */
  struct extent *ext;                   /* the current work range's extents */
  size_t nr_ext, alloc_ext, ext_idx;
  uint64_t ext_pos;                     /* bytes of ext[ext_idx] handed out */
  uint64_t next_seq;
  unsigned running;                     /* workers not yet finished */
  char *error;                          /* first error, or NULL */
  bool cancelled;

  atomic_bool stop;                     /* error or cancel: workers leave */
  atomic_uint_fast64_t done, bytes_read, bytes_written, bytes_zeroed;

  /* hash_lock guards md and hash_seq. */
  pthread_mutex_t hash_lock;
  pthread_cond_t hash_turn;
  EVP_MD_CTX *md;
  uint64_t hash_seq;                    /* next unit to feed to md */
};

struct worker {
  struct xfer *x;
  struct ferry_disk_source *src;        /* x->src or a clone this worker owns */
  pthread_t thread;
  bool started;
};

/* Record this thread's last error as the transfer's (the first one wins)
 * and stop everybody.
 */
static void
fail (struct xfer *x)
{
  pthread_mutex_lock (&x->lock);
  if (x->error == NULL && !x->cancelled) {
    x->error = strdup (ferry_get_error ());
  }
  pthread_mutex_unlock (&x->lock);
  atomic_store (&x->stop, true);
  pthread_mutex_lock (&x->hash_lock);
  pthread_cond_broadcast (&x->hash_turn);
  pthread_mutex_unlock (&x->hash_lock);
}

static bool
stopping (struct xfer *x)
{
  if (atomic_load (&x->stop))
    return true;
  if (x->cancel && *x->cancel) {
    pthread_mutex_lock (&x->lock);
    x->cancelled = true;
    pthread_mutex_unlock (&x->lock);
    atomic_store (&x->stop, true);
    pthread_mutex_lock (&x->hash_lock);
    pthread_cond_broadcast (&x->hash_turn);
    pthread_mutex_unlock (&x->hash_lock);
    return true;
  }
  return false;
}

/* ---- extents of one work range ---------------------------------------- */

struct extent_collect {
  struct xfer *x;
  uint64_t pos, end;                    /* next expected offset, limit */
};

static int
collect_extent (void *opaque, uint64_t offset, uint64_t length, uint32_t flags)
{
  struct extent_collect *c = opaque;
  struct xfer *x = c->x;
  bool zero = (flags & FERRY_EXTENT_ZERO) != 0;

  if (offset != c->pos) {
    ferry_error ("transfer: %s source described an extent at offset %" PRIu64
                 " where %" PRIu64 " was expected",
                 x->src->ops->name, offset, c->pos);
    return -1;
  }
  if (length > c->end - c->pos)
    length = c->end - c->pos;
  if (length == 0)
    return 0;
  c->pos += length;
  if (x->nr_ext > 0 && x->ext[x->nr_ext - 1].zero == zero) {
    x->ext[x->nr_ext - 1].length += length;
    return 0;
  }
  if (x->nr_ext == x->alloc_ext) {
    size_t n = x->alloc_ext ? x->alloc_ext * 2 : 64;
    struct extent *e = realloc (x->ext, n * sizeof *e);
    if (e == NULL) {
      ferry_error_errno (errno, "transfer: extents at offset %" PRIu64, offset);
      return -1;
    }
    x->ext = e;
    x->alloc_ext = n;
  }
  x->ext[x->nr_ext++] = (struct extent) {
    .offset = offset, .length = length, .zero = zero,
  };
  return 0;
}

/* Fill x->ext with the next work range.  Called with x->lock held.
 * Returns 1, 0 when the work list is exhausted, -1 on error.
 */
static int
next_work_range (struct xfer *x, struct ferry_disk_source *src)
{
  const struct ferry_range *r;
  struct extent_collect c = { .x = x };

  while (x->range_idx < x->nr_ranges &&
         x->range_pos >= x->ranges[x->range_idx].offset
                         + x->ranges[x->range_idx].length) {
    x->range_idx++;
    if (x->range_idx < x->nr_ranges)
      x->range_pos = x->ranges[x->range_idx].offset;
  }
  if (x->range_idx >= x->nr_ranges)
    return 0;
  r = &x->ranges[x->range_idx];
  c.pos = x->range_pos;
  c.end = r->offset + r->length;
  if (c.end - c.pos > WORK_RANGE_SIZE)
    c.end = c.pos + WORK_RANGE_SIZE;
  x->nr_ext = x->ext_idx = 0;
  x->ext_pos = 0;

  if (src->ops->extents) {
    if (src->ops->extents (src, c.pos, c.end - c.pos,
                           collect_extent, &c) == -1) {
      ferry_error_prefix ("transfer: extents of %s source at offset %" PRIu64,
                          src->ops->name, x->range_pos);
      return -1;
    }
  }
  /* Whatever the source did not describe is read as data. */
  if (c.pos < c.end &&
      collect_extent (&c, c.pos, c.end - c.pos, FERRY_EXTENT_DATA) == -1)
    return -1;
  x->range_pos = c.end;
  return 1;
}

/* Hand out the next unit in work-list order.  Returns 1, 0 at the end (or
 * when stopping), -1 on error.
 */
static int
next_unit (struct xfer *x, struct ferry_disk_source *src, struct unit *u)
{
  FERRY_SCOPED_LOCK (&x->lock);

  for (;;) {
    if (atomic_load (&x->stop))
      return 0;
    if (x->ext_idx < x->nr_ext) {
      struct extent *e = &x->ext[x->ext_idx];
      uint64_t len = e->length - x->ext_pos;
      if (!e->zero && len > x->request_size)
        len = x->request_size;
      *u = (struct unit) {
        .offset = e->offset + x->ext_pos, .length = len,
        .seq = x->next_seq++, .zero = e->zero,
      };
      x->ext_pos += len;
      if (x->ext_pos == e->length) {
        x->ext_idx++;
        x->ext_pos = 0;
      }
      return 1;
    }
    int r = next_work_range (x, src);
    if (r <= 0)
      return r;
  }
}

/* ---- the digest --------------------------------------------------------- */

/* Wait until every earlier unit was hashed, then feed this one (buf NULL:
 * zeroes).  Returns -1 only when the transfer is stopping.
 */
static int
hash_unit (struct xfer *x, const struct unit *u, const void *buf)
{
  FERRY_SCOPED_LOCK (&x->hash_lock);

  while (x->hash_seq != u->seq) {
    if (atomic_load (&x->stop))
      return -1;
    pthread_cond_wait (&x->hash_turn, &x->hash_lock);
  }
  if (buf)
    EVP_DigestUpdate (x->md, buf, u->length);
  else {
    for (uint64_t n = u->length; n > 0;) {
      size_t k = n < FERRY_ZERO_BUF_SIZE ? n : FERRY_ZERO_BUF_SIZE;
      EVP_DigestUpdate (x->md, ferry_internal_zero_buf, k);
      n -= k;
    }
  }
  x->hash_seq++;
  pthread_cond_broadcast (&x->hash_turn);
  return 0;
}

/* ---- the sink side ------------------------------------------------------ */

/* Make [offset, offset+length) read as zeroes at the sink. */
static int
sink_zero (struct xfer *x, uint64_t offset, uint64_t length)
{
  struct ferry_volume_sink *sink = x->sink;

  if (x->skip_zero) {
    atomic_fetch_add (&x->bytes_zeroed, length);
    return 0;
  }
  if (sink->ops->zero) {
    if (sink->ops->zero (sink, offset, length) == -1) {
      ferry_error_prefix ("transfer: zero %s sink at offset %" PRIu64
                          " length %" PRIu64, sink->ops->name, offset, length);
      return -1;
    }
  }
  else {
    for (uint64_t pos = offset; pos < offset + length;) {
      size_t n = offset + length - pos < FERRY_ZERO_BUF_SIZE
        ? offset + length - pos : FERRY_ZERO_BUF_SIZE;
      if (stopping (x))
        return -1;
      if (sink->ops->pwrite (sink, ferry_internal_zero_buf, n, pos) == -1) {
        ferry_error_prefix ("transfer: write zeroes to %s sink at offset %"
                            PRIu64, sink->ops->name, pos);
        return -1;
      }
      pos += n;
    }
  }
  atomic_fetch_add (&x->bytes_zeroed, length);
  return 0;
}

static int
sink_write (struct xfer *x, const void *buf, size_t count, uint64_t offset)
{
  if (x->sink->ops->pwrite (x->sink, buf, count, offset) == -1) {
    ferry_error_prefix ("transfer: write to %s sink at offset %" PRIu64
                        " length %zu", x->sink->ops->name, offset, count);
    return -1;
  }
  atomic_fetch_add (&x->bytes_written, count);
  return 0;
}

/* Read [offset, offset+count) back from the sink into rbuf and compare
 * with expect (NULL: zeroes).
 */
static int
sink_check (struct xfer *x, void *rbuf, const unsigned char *expect,
            size_t count, uint64_t offset)
{
  const unsigned char *got = rbuf;

  if (x->sink->ops->pread (x->sink, rbuf, count, offset) == -1) {
    ferry_error_prefix ("transfer: verify: read back %s sink at offset %"
                        PRIu64, x->sink->ops->name, offset);
    return -1;
  }
  if (expect ? memcmp (got, expect, count) == 0
             : ferry_internal_is_zero (got, count))
    return 0;
  for (size_t i = 0; i < count; i++) {
    unsigned char want = expect ? expect[i] : 0;
    if (got[i] != want) {
      ferry_error ("transfer: verify: %s sink differs from the source at offset %"
                   PRIu64 " (0x%02x, expected 0x%02x)",
                   x->sink->ops->name, offset + i, got[i], want);
      return -1;
    }
  }
  return 0;                             /* not reached */
}

static int
do_zero_unit (struct xfer *x, const struct unit *u, void *rbuf)
{
  if (sink_zero (x, u->offset, u->length) == -1)
    return -1;
  if (x->readback) {
    for (uint64_t pos = u->offset; pos < u->offset + u->length;) {
      size_t n = u->offset + u->length - pos < x->request_size
        ? u->offset + u->length - pos : x->request_size;
      if (stopping (x))
        return -1;
      if (sink_check (x, rbuf, NULL, n, pos) == -1)
        return -1;
      pos += n;
    }
  }
  if (x->hash && hash_unit (x, u, NULL) == -1)
    return -1;
  return 0;
}

static int
do_data_unit (struct xfer *x, struct ferry_disk_source *src,
              const struct unit *u, unsigned char *buf, void *rbuf)
{
  size_t len = u->length;

  if (src->ops->pread (src, buf, len, u->offset) == -1) {
    ferry_error_prefix ("transfer: read from %s source at offset %" PRIu64
                        " length %zu", src->ops->name, u->offset, len);
    return -1;
  }
  atomic_fetch_add (&x->bytes_read, len);

  /* Runs of data and of zero blocks, each sent as one request. */
  for (size_t pos = 0; pos < len;) {
    size_t n = len - pos < ZERO_BLOCK_SIZE ? len - pos : ZERO_BLOCK_SIZE;
    bool zero = ferry_internal_is_zero (buf + pos, n);
    size_t end = pos + n;

    while (end < len) {
      size_t k = len - end < ZERO_BLOCK_SIZE ? len - end : ZERO_BLOCK_SIZE;
      if (ferry_internal_is_zero (buf + end, k) != zero)
        break;
      end += k;
    }
    if (zero) {
      if (sink_zero (x, u->offset + pos, end - pos) == -1)
        return -1;
    }
    else if (sink_write (x, buf + pos, end - pos, u->offset + pos) == -1)
      return -1;
    pos = end;
  }
  if (x->readback && sink_check (x, rbuf, buf, len, u->offset) == -1)
    return -1;
  if (x->hash && hash_unit (x, u, buf) == -1)
    return -1;
  return 0;
}

static void *
worker_run (void *arg)
{
  struct worker *w = arg;
  struct xfer *x = w->x;
  unsigned char *buf = NULL, *rbuf = NULL;
  struct unit u;
  int r;

  buf = aligned_alloc (4096, x->request_size);
  if (x->readback)
    rbuf = aligned_alloc (4096, x->request_size);
  if (buf == NULL || (x->readback && rbuf == NULL)) {
    ferry_error_errno (ENOMEM, "transfer: request buffer of %" PRIu32 " bytes",
                       x->request_size);
    fail (x);
    goto out;
  }
  while (!stopping (x) && (r = next_unit (x, w->src, &u)) != 0) {
    if (r == -1 ||
        (u.zero ? do_zero_unit (x, &u, rbuf)
                : do_data_unit (x, w->src, &u, buf, rbuf)) == -1) {
      if (!atomic_load (&x->stop))
        fail (x);
      break;
    }
    atomic_fetch_add (&x->done, u.length);
  }
 out:
  free (buf);
  free (rbuf);
  pthread_mutex_lock (&x->lock);
  x->running--;
  pthread_cond_signal (&x->finished);
  pthread_mutex_unlock (&x->lock);
  return NULL;
}

/* ---- progress ----------------------------------------------------------- */

static double
now_seconds (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

struct rate_window {
  double t[RATE_SAMPLES];               /* seconds */
  uint64_t done[RATE_SAMPLES];          /* bytes */
  unsigned n, next;
};

static double
rate_update (struct rate_window *rw, double t, uint64_t done)
{
  unsigned oldest;

  rw->t[rw->next] = t;
  rw->done[rw->next] = done;
  rw->next = (rw->next + 1) % RATE_SAMPLES;
  if (rw->n < RATE_SAMPLES)
    rw->n++;
  oldest = (rw->next + RATE_SAMPLES - rw->n) % RATE_SAMPLES;
  if (rw->n < 2 || t <= rw->t[oldest])
    return 0;
  return (double) (done - rw->done[oldest]) / (t - rw->t[oldest]);
}

/* ---- the copy ----------------------------------------------------------- */

static int
check_work_list (const struct ferry_range *ranges, size_t nr, uint64_t size,
                 uint64_t *total)
{
  *total = 0;
  for (size_t i = 0; i < nr; i++) {
    if (ranges[i].length > size || ranges[i].offset > size - ranges[i].length) {
      ferry_error ("transfer: work range %zu (offset %" PRIu64 " length %"
                   PRIu64 ") goes past the end of the disk (%" PRIu64 " bytes)",
                   i, ranges[i].offset, ranges[i].length, size);
      return -1;
    }
    *total += ranges[i].length;
  }
  return 0;
}

int
ferry_transfer (struct ferry_disk_source *src, struct ferry_volume_sink *sink,
                const struct ferry_transfer_options *opts_in,
                struct ferry_transfer_result *result)
{
  struct ferry_transfer_options opts = { 0 };
  struct xfer x = { 0 };
  struct worker *workers = NULL;
  unsigned nr_workers = 1, nr_started = 0;
  struct rate_window rw = { 0 };
  struct ferry_transfer_progress prog;
  double t0 = now_seconds ();
  int64_t size;
  int ret = -1;

  if (src == NULL || sink == NULL || src->ops == NULL || sink->ops == NULL ||
      src->ops->pread == NULL || src->ops->size == NULL ||
      sink->ops->pwrite == NULL) {
    ferry_error ("transfer: missing source, sink, or mandatory callback");
    return -1;
  }
  if (opts_in) {
    size_t n = opts_in->struct_size < sizeof opts
      ? opts_in->struct_size : sizeof opts;
    memcpy (&opts, opts_in, n);
  }
  if (result)
    memset (result, 0, sizeof *result);

  size = src->ops->size (src);
  if (size < 0) {
    ferry_error_prefix ("transfer: size of %s source", src->ops->name);
    return -1;
  }
  x.src = src;
  x.sink = sink;
  x.size = (uint64_t) size;
  x.cancel = opts.cancel;
  if (opts.ranges && opts.nr_ranges > 0) {
    if (check_work_list (opts.ranges, opts.nr_ranges, x.size, &x.total) == -1)
      return -1;
    x.ranges = opts.ranges;
    x.nr_ranges = opts.nr_ranges;
  }
  else {
    x.whole = (struct ferry_range) { .offset = 0, .length = x.size };
    x.ranges = &x.whole;
    x.nr_ranges = 1;
    x.total = x.size;
    x.skip_zero = sink->ops->starts_zeroed && sink->ops->starts_zeroed (sink);
  }
  x.range_pos = x.ranges[0].offset;

  /* Request size: a multiple of the source's preferred block size. */
  x.request_size = opts.request_size ? opts.request_size : DEFAULT_REQUEST_SIZE;
  if (x.request_size < MIN_REQUEST_SIZE)
    x.request_size = MIN_REQUEST_SIZE;
  if (x.request_size > MAX_REQUEST_SIZE)
    x.request_size = MAX_REQUEST_SIZE;
  {
    uint32_t bs = src->ops->block_size ? src->ops->block_size (src) : 0;
    if (bs > 1 && bs <= MAX_REQUEST_SIZE)
      x.request_size = (x.request_size + bs - 1) / bs * bs;
    if (x.request_size > MAX_REQUEST_SIZE)
      x.request_size = bs;
  }

  /* Connections: several only when both ends allow it. */
  {
    bool src_multi = src->ops->can_multi_conn && src->ops->clone &&
      src->ops->can_multi_conn (src);
    bool sink_ooo = sink->ops->can_out_of_order &&
      sink->ops->can_out_of_order (sink);
    unsigned want = opts.connections ? opts.connections : DEFAULT_CONNECTIONS;
    if (want > MAX_CONNECTIONS)
      want = MAX_CONNECTIONS;
    nr_workers = src_multi && sink_ooo ? want : 1;
    if (x.total < (uint64_t) nr_workers * x.request_size && x.total > 0)
      nr_workers = (unsigned) ((x.total + x.request_size - 1) / x.request_size);
    if (nr_workers == 0)
      nr_workers = 1;
  }

  if (opts.verify) {
    x.hash = true;
    x.readback = sink->ops->pread != NULL;
    if (!x.readback)
      ferry_warn ("transfer: %s sink cannot be read back; verify computes "
                  "the source digest only", sink->ops->name);
  }

  ferry_debug ("transfer: %s source -> %s sink, %" PRIu64 " of %" PRIu64
               " bytes, %u connection(s), requests of %" PRIu32 " bytes%s%s",
               src->ops->name, sink->ops->name, x.total, x.size, nr_workers,
               x.request_size, x.skip_zero ? ", sink starts zeroed" : "",
               opts.verify ? ", verify" : "");

  pthread_mutex_init (&x.lock, NULL);
  pthread_cond_init (&x.finished, NULL);
  pthread_mutex_init (&x.hash_lock, NULL);
  pthread_cond_init (&x.hash_turn, NULL);
  if (x.hash) {
    x.md = EVP_MD_CTX_new ();
    if (x.md == NULL || EVP_DigestInit_ex (x.md, EVP_sha256 (), NULL) != 1) {
      ferry_error ("transfer: cannot set up SHA-256");
      goto out;
    }
  }

  workers = calloc (nr_workers, sizeof *workers);
  if (workers == NULL) {
    ferry_error_errno (errno, "transfer: workers");
    goto out;
  }
  for (unsigned i = 0; i < nr_workers; i++) {
    workers[i].x = &x;
    workers[i].src = i == 0 ? src : src->ops->clone (src);
    if (workers[i].src == NULL) {
      /* Fewer connections still copy; say why there are fewer. */
      ferry_warn ("transfer: connection %u to %s source: %s; "
                  "continuing with %u", i + 1, src->ops->name,
                  ferry_get_error (), i);
      nr_workers = i;
      break;
    }
  }
  x.running = nr_workers;
  for (unsigned i = 0; i < nr_workers; i++) {
    int err = pthread_create (&workers[i].thread, NULL, worker_run, &workers[i]);
    if (err) {
      ferry_error_errno (err, "transfer: start worker thread");
      pthread_mutex_lock (&x.lock);
      x.running -= nr_workers - i;
      pthread_mutex_unlock (&x.lock);
      atomic_store (&x.stop, true);
      break;
    }
    workers[i].started = true;
    nr_started++;
  }

  /* Watch: progress and cancellation, every tick until workers finish. */
  {
    double last_call = 0;
    pthread_mutex_lock (&x.lock);
    while (x.running > 0) {
      struct timespec ts;
      clock_gettime (CLOCK_REALTIME, &ts);
      ts.tv_nsec += TICK_NS;
      if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
      }
      pthread_cond_timedwait (&x.finished, &x.lock, &ts);
      if (x.running == 0)
        break;
      pthread_mutex_unlock (&x.lock);

      double t = now_seconds ();
      if (x.cancel && *x.cancel)
        stopping (&x);
      if (t - last_call >= TICK_NS / 1e9 * 0.9) {
        prog.done = atomic_load (&x.done);
        prog.total = x.total;
        prog.rate = rate_update (&rw, t, prog.done);
        if (opts.progress && !atomic_load (&x.stop))
          opts.progress (opts.progress_opaque, &prog);
        last_call = t;
      }
      pthread_mutex_lock (&x.lock);
    }
    pthread_mutex_unlock (&x.lock);
  }
  for (unsigned i = 0; i < nr_workers; i++)
    if (workers[i].started)
      pthread_join (workers[i].thread, NULL);
  if (nr_started < nr_workers)
    goto out;                           /* the pthread_create error stands */

  if (x.error) {
    /* The worker's message, already complete (with any strerror). */
    ferry_error ("%s", x.error);
    goto out;
  }
  if (x.cancelled || (x.cancel && *x.cancel && atomic_load (&x.done) < x.total)) {
    ferry_error ("transfer: cancelled after %" PRIu64 " of %" PRIu64 " bytes",
                 (uint64_t) atomic_load (&x.done), x.total);
    goto out;
  }
  if (atomic_load (&x.done) != x.total) {
    ferry_error ("transfer: copied %" PRIu64 " of %" PRIu64
                 " bytes and stopped without an error",
                 (uint64_t) atomic_load (&x.done), x.total);
    goto out;
  }
  if (sink->ops->flush && sink->ops->flush (sink) == -1) {
    ferry_error_prefix ("transfer: flush %s sink", sink->ops->name);
    goto out;
  }

  prog.done = x.total;
  prog.total = x.total;
  prog.rate = rate_update (&rw, now_seconds (), x.total);
  if (opts.progress)
    opts.progress (opts.progress_opaque, &prog);

  if (result && x.hash) {
    {
      unsigned char md[EVP_MAX_MD_SIZE];
      unsigned int mdlen = 0;
      if (EVP_DigestFinal_ex (x.md, md, &mdlen) != 1 || mdlen != 32) {
        ferry_error ("transfer: SHA-256 finalisation failed");
        goto out;
      }
      for (unsigned i = 0; i < mdlen; i++)
        snprintf (&result->sha256[2 * i], 3, "%02x", md[i]);
    }
  }
  ferry_debug ("transfer: done: %" PRIu64 " bytes read, %" PRIu64
               " written, %" PRIu64 " zeroed in %.3f s",
               (uint64_t) atomic_load (&x.bytes_read),
               (uint64_t) atomic_load (&x.bytes_written),
               (uint64_t) atomic_load (&x.bytes_zeroed), now_seconds () - t0);
  ret = 0;

 out:
  if (workers) {
    for (unsigned i = 1; i < nr_workers; i++)
      if (workers[i].src)
        workers[i].src->ops->close (workers[i].src);
    free (workers);
  }
  if (result) {                         /* also what a failed copy did */
    result->bytes_read = atomic_load (&x.bytes_read);
    result->bytes_written = atomic_load (&x.bytes_written);
    result->bytes_zeroed = atomic_load (&x.bytes_zeroed);
    result->seconds = now_seconds () - t0;
  }
  EVP_MD_CTX_free (x.md);
  free (x.ext);
  free (x.error);
  pthread_cond_destroy (&x.hash_turn);
  pthread_mutex_destroy (&x.hash_lock);
  pthread_cond_destroy (&x.finished);
  pthread_mutex_destroy (&x.lock);
  return ret;
}
