/* Unit tests: the transfer engine, its file/NBD/HTTP/stream ends.
 *
 * Real peers where they matter: qemu-img makes and compares images,
 * qemu-nbd serves and receives them (tests skip when it is absent),
 * tests/peers/range-server.py serves HTTP ranges (and 503s, resets).
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "ferry/transfer.h"

#define MiB (1024 * 1024)

static char tmpdir[] = "/tmp/ferry-transfer-XXXXXX";

static char *
tmp (const char *name)
{
  static char buf[4][512];
  static int i;
  i = (i + 1) % 4;
  snprintf (buf[i], sizeof buf[i], "%s/%s", tmpdir, name);
  return buf[i];
}

static int
sh (const char *fs, ...)
{
  char cmd[4096];
  va_list ap;
  va_start (ap, fs);
  vsnprintf (cmd, sizeof cmd, fs, ap);
  va_end (ap);
  int r = system (cmd);
  return WIFEXITED (r) ? WEXITSTATUS (r) : -1;
}

static bool
have (const char *prog)
{
  return sh ("command -v %s >/dev/null 2>&1", prog) == 0;
}

static void
write_at (int fd, uint64_t off, const void *buf, size_t n)
{
  assert_int_equal (pwrite (fd, buf, n, (off_t) off), (ssize_t) n);
}

/* A 64 MiB disk: random data runs, a zero block written as data inside
 * data, an explicit 4 MiB run of written zeroes, holes, and an odd tail.
 * Returns the bytes of real data.
 */
static uint64_t
make_disk (const char *path, uint64_t size)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  unsigned char *buf = malloc (4 * MiB);
  unsigned seed = 42;
  uint64_t data = 0;

  assert_non_null (buf);
  assert_true (fd >= 0);
  assert_int_equal (ftruncate (fd, (off_t) size), 0);
  for (size_t i = 0; i < 4 * MiB; i++)
    buf[i] = (unsigned char) (rand_r (&seed) | 1);
  write_at (fd, 1 * MiB, buf, 3 * MiB);           /* data */
  data += 3 * MiB;
  memset (buf + MiB, 0, 256 * 1024);              /* zero block inside data */
  write_at (fd, 8 * MiB, buf, 2 * MiB);
  data += 2 * MiB - 256 * 1024;
  memset (buf, 0, 4 * MiB);
  write_at (fd, 16 * MiB, buf, 4 * MiB);          /* allocated zeroes */
  memset (buf, 0xa5, 4096);
  write_at (fd, 40 * MiB + 512, buf, 4096);       /* unaligned data */
  data += 8192;
  write_at (fd, size - 3, "end", 3);              /* tail */
  data += 4096;
  close (fd);
  free (buf);
  return data;
}

static uint64_t
allocated (const char *path)
{
  struct stat st;
  assert_int_equal (stat (path, &st), 0);
  return (uint64_t) st.st_blocks * 512;
}

static const struct ferry_transfer_options *
opts_default (void)
{
  static struct ferry_transfer_options o = { .struct_size = sizeof o };
  return &o;
}

/* ---- file -> file ------------------------------------------------------ */

static void
test_file_to_file (void **state)
{
  const uint64_t size = 64 * MiB + 4093;
  uint64_t data = make_disk (tmp ("a.img"), size);
  struct ferry_disk_source *src = ferry_file_source_open (tmp ("a.img"));
  struct ferry_volume_sink *sink;
  struct ferry_transfer_result res;

  assert_non_null (src);
  assert_int_equal (src->ops->size (src), (int64_t) size);
  sink = ferry_file_sink_open (tmp ("b.img"), size, FERRY_FILE_SINK_TRUNCATE);
  assert_non_null (sink);
  assert_int_equal (ferry_transfer (src, sink, opts_default (), &res), 0);
  assert_int_equal (sink->ops->close (sink), 0);
  src->ops->close (src);

  assert_int_equal (sh ("cmp %s %s", tmp ("a.img"), tmp ("b.img")), 0);
  /* Sparse: only real data is allocated (the written zeroes and the zero
   * block inside data are not), allowing file-system rounding.
   */
  assert_true (allocated (tmp ("b.img")) <= data + 256 * 1024);
  assert_true (allocated (tmp ("b.img")) < allocated (tmp ("a.img")));
  assert_int_equal (res.bytes_written + res.bytes_zeroed, size);
  assert_true (res.bytes_read < 16 * MiB);        /* holes were not read */
  assert_string_equal (res.sha256, "");
}

/* An existing file full of garbage: zero ranges must be punched. */
static void
test_file_sink_existing (void **state)
{
  const uint64_t size = 64 * MiB + 4093;
  make_disk (tmp ("a.img"), size);
  assert_int_equal (sh ("head -c %" PRIu64 " /dev/urandom > %s", size,
                        tmp ("c.img")), 0);
  struct ferry_disk_source *src = ferry_file_source_open (tmp ("a.img"));
  struct ferry_volume_sink *sink = ferry_file_sink_open (tmp ("c.img"), size, 0);
  assert_non_null (sink);
  assert_int_equal (sink->ops->starts_zeroed (sink), 0);
  assert_int_equal (ferry_transfer (src, sink, opts_default (), NULL), 0);
  assert_int_equal (sink->ops->close (sink), 0);
  src->ops->close (src);
  assert_int_equal (sh ("cmp %s %s", tmp ("a.img"), tmp ("c.img")), 0);
  assert_true (allocated (tmp ("c.img")) < 16 * MiB);
}

/* A work list (warm delta) over an existing copy: only those ranges are
 * touched, and zero ranges in it are zeroed even on a sparse file.
 */
static void
test_work_list (void **state)
{
  const uint64_t size = 8 * MiB;
  unsigned char *a = malloc (size), *b = malloc (size);
  int fd;

  memset (a, 0x11, size);
  memset (a + 2 * MiB, 0, MiB);
  fd = open (tmp ("wa.img"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  write_at (fd, 0, a, size);
  close (fd);
  memset (b, 0x77, size);
  fd = open (tmp ("wb.img"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  write_at (fd, 0, b, size);
  close (fd);

  struct ferry_range ranges[] = {
    { .offset = 1 * MiB, .length = 2 * MiB + 4096 },  /* data, then zeroes */
    { .offset = 6 * MiB, .length = 4096 },
  };
  struct ferry_transfer_options o = {
    .struct_size = sizeof o, .ranges = ranges, .nr_ranges = 2, .verify = 1,
  };
  struct ferry_disk_source *src = ferry_file_source_open (tmp ("wa.img"));
  struct ferry_volume_sink *sink = ferry_file_sink_open (tmp ("wb.img"), size, 0);
  struct ferry_transfer_result res;
  assert_int_equal (ferry_transfer (src, sink, &o, &res), 0);
  assert_int_equal (sink->ops->close (sink), 0);
  src->ops->close (src);

  fd = open (tmp ("wb.img"), O_RDONLY);
  assert_int_equal (pread (fd, b, size, 0), (ssize_t) size);
  close (fd);
  for (uint64_t i = 0; i < size; i++) {
    bool in = (i >= 1 * MiB && i < 3 * MiB + 4096) ||
      (i >= 6 * MiB && i < 6 * MiB + 4096);
    unsigned char want = in ? a[i] : 0x77;
    if (b[i] != want)
      fail_msg ("byte %" PRIu64 " is 0x%02x, expected 0x%02x", i, b[i], want);
  }
  assert_int_equal (strlen (res.sha256), 64);
  free (a);
  free (b);

  /* A range past the end is refused up front. */
  struct ferry_range bad = { .offset = size - 4096, .length = 8192 };
  o.ranges = &bad;
  o.nr_ranges = 1;
  src = ferry_file_source_open (tmp ("wa.img"));
  sink = ferry_file_sink_open (tmp ("wb.img"), size, 0);
  assert_int_equal (ferry_transfer (src, sink, &o, NULL), -1);
  assert_non_null (strstr (ferry_get_error (), "past the end"));
  sink->ops->close (sink);
  src->ops->close (src);
}

/* ---- verification ---------------------------------------------------------- */

static void
test_verify_sha256 (void **state)
{
  const uint64_t size = 64 * MiB + 4093;
  make_disk (tmp ("a.img"), size);
  struct ferry_disk_source *src = ferry_file_source_open (tmp ("a.img"));
  struct ferry_volume_sink *sink =
    ferry_file_sink_open (tmp ("v.img"), size, FERRY_FILE_SINK_TRUNCATE);
  struct ferry_transfer_options o = {
    .struct_size = sizeof o, .verify = 1, .connections = 4,
    .request_size = 64 * 1024,          /* many units: exercises ordering */
  };
  struct ferry_transfer_result res;
  char expect[65] = "";
  FILE *fp;

  assert_int_equal (ferry_transfer (src, sink, &o, &res), 0);
  assert_int_equal (sink->ops->close (sink), 0);
  src->ops->close (src);

  char cmd[600];
  snprintf (cmd, sizeof cmd, "sha256sum %s", tmp ("a.img"));
  fp = popen (cmd, "r");
  assert_non_null (fp);
  assert_int_equal (fscanf (fp, "%64s", expect), 1);
  pclose (fp);
  assert_string_equal (res.sha256, expect);
}

/* A sink that corrupts one byte on its way in. */
#define CORRUPT_AT (8 * MiB + 12345)

struct corrupt_sink {
  struct ferry_volume_sink *inner;
};

static int
corrupt_pwrite (struct ferry_volume_sink *s, const void *buf, size_t count,
                uint64_t offset)
{
  struct corrupt_sink *cs = s->priv;
  if (offset <= CORRUPT_AT && CORRUPT_AT < offset + count) {
    unsigned char *copy = malloc (count);
    memcpy (copy, buf, count);
    copy[CORRUPT_AT - offset] ^= 0x40;
    int r = cs->inner->ops->pwrite (cs->inner, copy, count, offset);
    free (copy);
    return r;
  }
  return cs->inner->ops->pwrite (cs->inner, buf, count, offset);
}

static int
corrupt_zero (struct ferry_volume_sink *s, uint64_t offset, uint64_t length)
{
  struct corrupt_sink *cs = s->priv;
  return cs->inner->ops->zero (cs->inner, offset, length);
}

static int
corrupt_flush (struct ferry_volume_sink *s)
{
  struct corrupt_sink *cs = s->priv;
  return cs->inner->ops->flush (cs->inner);
}

static int
corrupt_pread (struct ferry_volume_sink *s, void *buf, size_t count,
               uint64_t offset)
{
  struct corrupt_sink *cs = s->priv;
  return cs->inner->ops->pread (cs->inner, buf, count, offset);
}

static int
corrupt_close (struct ferry_volume_sink *s)
{
  struct corrupt_sink *cs = s->priv;
  int r = cs->inner->ops->close (cs->inner);
  free (cs);
  free (s);
  return r;
}

static const struct ferry_volume_sink_ops corrupt_ops = {
  .struct_size = sizeof corrupt_ops,
  .name = "corrupting",
  .pwrite = corrupt_pwrite,
  .zero = corrupt_zero,
  .flush = corrupt_flush,
  .pread = corrupt_pread,
  .close = corrupt_close,
};

static void
test_verify_mismatch (void **state)
{
  const uint64_t size = 64 * MiB + 4093;
  make_disk (tmp ("a.img"), size);
  struct ferry_disk_source *src = ferry_file_source_open (tmp ("a.img"));
  struct corrupt_sink *cs = calloc (1, sizeof *cs);
  struct ferry_volume_sink *sink = calloc (1, sizeof *sink);
  struct ferry_transfer_options o = { .struct_size = sizeof o, .verify = 1 };
  char want[64];

  cs->inner = ferry_file_sink_open (tmp ("m.img"), size, FERRY_FILE_SINK_TRUNCATE);
  assert_non_null (cs->inner);
  sink->ops = &corrupt_ops;
  sink->priv = cs;
  assert_int_equal (ferry_transfer (src, sink, &o, NULL), -1);
  snprintf (want, sizeof want, "at offset %d ", CORRUPT_AT);
  if (strstr (ferry_get_error (), want) == NULL ||
      strstr (ferry_get_error (), "verify") == NULL)
    fail_msg ("unexpected error: %s", ferry_get_error ());
  sink->ops->close (sink);
  src->ops->close (src);
}

/* ---- a source in memory: failing, slow -------------------------------------- */

struct mem_source {
  uint64_t size;                        /* bytes; content is offset-derived */
  uint64_t fail_at;                     /* fail a read covering this, or UINT64_MAX */
  unsigned delay_us;                    /* per read */
};

static int64_t
mem_size (struct ferry_disk_source *s)
{
  return (int64_t) ((struct mem_source *) s->priv)->size;
}

static int
mem_pread (struct ferry_disk_source *s, void *buf, size_t count, uint64_t offset)
{
  struct mem_source *m = s->priv;
  if (m->delay_us)
    usleep (m->delay_us);
  if (offset <= m->fail_at && m->fail_at < offset + count) {
    ferry_error ("memory source: injected EIO");
    return -1;
  }
  for (size_t i = 0; i < count; i++)
    ((unsigned char *) buf)[i] = (unsigned char) ((offset + i) / 512 + 1);
  return 0;
}

static void
mem_close (struct ferry_disk_source *s)
{
  free (s->priv);
  free (s);
}

static const struct ferry_disk_source_ops mem_ops = {
  .struct_size = sizeof mem_ops,
  .name = "memory",
  .size = mem_size,
  .pread = mem_pread,
  .close = mem_close,
};

static struct ferry_disk_source *
mem_source_new (uint64_t size, uint64_t fail_at, unsigned delay_us)
{
  struct ferry_disk_source *s = calloc (1, sizeof *s);
  struct mem_source *m = calloc (1, sizeof *m);
  m->size = size;
  m->fail_at = fail_at;
  m->delay_us = delay_us;
  s->ops = &mem_ops;
  s->priv = m;
  return s;
}

static void
test_source_fails (void **state)
{
  const uint64_t fail_at = 5 * MiB + 777;
  struct ferry_disk_source *src = mem_source_new (16 * MiB, fail_at, 0);
  struct ferry_volume_sink *sink =
    ferry_file_sink_open (tmp ("f.img"), 16 * MiB, FERRY_FILE_SINK_TRUNCATE);
  struct ferry_transfer_result res;

  assert_int_equal (ferry_transfer (src, sink, opts_default (), &res), -1);
  /* The failing request starts at the 256 KiB boundary below fail_at. */
  if (strstr (ferry_get_error (), "at offset 5242880") == NULL ||
      strstr (ferry_get_error (), "injected EIO") == NULL)
    fail_msg ("unexpected error: %s", ferry_get_error ());
  assert_true (res.bytes_written < 16 * MiB);
  sink->ops->close (sink);
  src->ops->close (src);
}

struct cancel_ctx {
  volatile int cancel;
  unsigned calls;
  double t_cancel;
  uint64_t last_done;
  bool monotonic;
};

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void
cancel_progress (void *opaque, const struct ferry_transfer_progress *p)
{
  struct cancel_ctx *c = opaque;
  c->calls++;
  if (p->done < c->last_done)
    c->monotonic = false;
  c->last_done = p->done;
  if (c->calls == 3) {
    c->cancel = 1;
    c->t_cancel = now ();
  }
}

static void
test_cancel (void **state)
{
  /* 20 ms per 256 KiB: the whole copy would take ~80 s. */
  struct ferry_disk_source *src = mem_source_new (1024 * MiB, UINT64_MAX, 20000);
  struct ferry_volume_sink *sink =
    ferry_file_sink_open (tmp ("k.img"), 1024 * MiB, FERRY_FILE_SINK_TRUNCATE);
  struct cancel_ctx c = { .monotonic = true };
  struct ferry_transfer_options o = {
    .struct_size = sizeof o, .progress = cancel_progress,
    .progress_opaque = &c, .cancel = &c.cancel,
  };
  double t0 = now ();

  assert_int_equal (ferry_transfer (src, sink, &o, NULL), -1);
  assert_true (c.cancel);
  assert_true (now () - c.t_cancel < 1.0);
  assert_non_null (strstr (ferry_get_error (), "cancelled"));
  /* Progress came at most ~10 times a second and never went back. */
  assert_true (c.calls <= (unsigned) ((now () - t0) * 11) + 1);
  assert_true (c.monotonic);
  sink->ops->close (sink);
  src->ops->close (src);
}

/* ---- stream sink ---------------------------------------------------------- */

struct stream_ctx {
  int fd;                               /* the source, to compare */
  uint64_t pos;                         /* bytes received */
  bool mismatch;
  int finished;
};

static int
stream_write (void *opaque, const void *buf, size_t count)
{
  struct stream_ctx *c = opaque;
  unsigned char *expect = malloc (count);
  assert_int_equal (pread (c->fd, expect, count, (off_t) c->pos), (ssize_t) count);
  if (memcmp (expect, buf, count) != 0)
    c->mismatch = true;
  free (expect);
  c->pos += count;
  return 0;
}

static int
stream_finish (void *opaque)
{
  struct stream_ctx *c = opaque;
  c->finished++;
  return 0;
}

static void
test_stream_sink (void **state)
{
  const uint64_t size = 64 * MiB + 4093;
  make_disk (tmp ("a.img"), size);
  struct stream_ctx c = { .fd = open (tmp ("a.img"), O_RDONLY) };
  struct ferry_disk_source *src = ferry_file_source_open (tmp ("a.img"));
  struct ferry_volume_sink *sink =
    ferry_stream_sink_new (size, stream_write, stream_finish, &c);
  struct ferry_transfer_options o = {
    .struct_size = sizeof o, .connections = 8, .request_size = 64 * 1024,
    .verify = 1,
  };
  struct ferry_transfer_result res;

  assert_int_equal (sink->ops->can_out_of_order (sink), 0);
  assert_int_equal (ferry_transfer (src, sink, &o, &res), 0);
  assert_int_equal (c.pos, size);
  assert_false (c.mismatch);
  assert_int_equal (c.finished, 0);
  assert_int_equal (sink->ops->close (sink), 0);
  assert_int_equal (c.finished, 1);
  assert_int_equal (strlen (res.sha256), 64);
  src->ops->close (src);

  /* Out of order is refused, and a short stream does not finish. */
  c.pos = 0;
  sink = ferry_stream_sink_new (8192, stream_write, stream_finish, &c);
  assert_int_equal (sink->ops->pwrite (sink, "x", 1, 4096), -1);
  assert_non_null (strstr (ferry_get_error (), "in order"));
  assert_int_equal (sink->ops->close (sink), -1);
  assert_int_equal (c.finished, 1);
  close (c.fd);
}

/* ---- NBD ------------------------------------------------------------------- */

static void
test_nbd_source_qcow2 (void **state)
{
  if (!have ("qemu-nbd") || !have ("qemu-img"))
    skip ();
  const uint64_t size = 64 * MiB + 4096;
  make_disk (tmp ("a.img"), size);
  assert_int_equal (sh ("qemu-img convert -f raw -O qcow2 %s %s",
                        tmp ("a.img"), tmp ("a.qcow2")), 0);
  const char *argv[] = { "qemu-nbd", "-r", "-e", "4", "-f", "qcow2",
                         tmp ("a.qcow2"), NULL };
  struct ferry_disk_source *src = ferry_nbd_source_spawn (argv);
  if (src == NULL)
    fail_msg ("%s", ferry_get_error ());
  assert_int_equal (src->ops->size (src), (int64_t) size);
  assert_int_equal (src->ops->can_multi_conn (src), 1);
  struct ferry_volume_sink *sink =
    ferry_file_sink_open (tmp ("n.img"), size, FERRY_FILE_SINK_TRUNCATE);
  struct ferry_transfer_options o = { .struct_size = sizeof o, .verify = 1 };
  struct ferry_transfer_result res;
  assert_int_equal (ferry_transfer (src, sink, &o, &res), 0);
  assert_int_equal (sink->ops->close (sink), 0);
  src->ops->close (src);
  assert_int_equal (sh ("cmp %s %s", tmp ("a.img"), tmp ("n.img")), 0);
  /* Extents came through: the holes were not read. */
  assert_true (res.bytes_read < 16 * MiB);
}

static void
test_nbd_sink_qcow2 (void **state)
{
  if (!have ("qemu-nbd") || !have ("qemu-img"))
    skip ();
  const uint64_t size = 64 * MiB + 4096;
  make_disk (tmp ("a.img"), size);
  assert_int_equal (sh ("qemu-img create -q -f qcow2 %s %" PRIu64,
                        tmp ("o.qcow2"), size), 0);
  const char *argv[] = { "qemu-nbd", "-f", "qcow2", tmp ("o.qcow2"), NULL };
  struct ferry_disk_source *src = ferry_file_source_open (tmp ("a.img"));
  struct ferry_volume_sink *sink = ferry_nbd_sink_spawn (argv);
  if (sink == NULL)
    fail_msg ("%s", ferry_get_error ());
  assert_int_equal (sink->ops->starts_zeroed (sink), 1);
  struct ferry_transfer_options o = { .struct_size = sizeof o, .verify = 1 };
  assert_int_equal (ferry_transfer (src, sink, &o, NULL), 0);
  assert_int_equal (sink->ops->close (sink), 0);
  src->ops->close (src);
  assert_int_equal (sh ("qemu-img compare -q -f raw -F qcow2 %s %s",
                        tmp ("a.img"), tmp ("o.qcow2")), 0);

  /* Over a non-zero image, zero ranges are zeroed through the server. */
  assert_int_equal (sh ("qemu-img convert -q -f raw -O qcow2 %s %s && "
                        "qemu-io -f qcow2 -c 'write -P 0x55 0 64M' %s >/dev/null",
                        tmp ("a.img"), tmp ("o2.qcow2"), tmp ("o2.qcow2")), 0);
  argv[3] = tmp ("o2.qcow2");
  src = ferry_file_source_open (tmp ("a.img"));
  sink = ferry_nbd_sink_spawn (argv);
  assert_non_null (sink);
  assert_int_equal (sink->ops->starts_zeroed (sink), 0);
  assert_int_equal (ferry_transfer (src, sink, opts_default (), NULL), 0);
  assert_int_equal (sink->ops->close (sink), 0);
  src->ops->close (src);
  assert_int_equal (sh ("qemu-img compare -q -f raw -F qcow2 %s %s",
                        tmp ("a.img"), tmp ("o2.qcow2")), 0);
}

static void
test_nbd_errors (void **state)
{
  const char *empty[] = { NULL };
  const char *bogus[] = { "/nonexistent/nbd-server", NULL };
  assert_null (ferry_nbd_source_spawn (empty));
  assert_non_null (strstr (ferry_get_error (), "empty command line"));
  assert_null (ferry_nbd_source_spawn (bogus));
  assert_non_null (strstr (ferry_get_error (), "nbd source /nonexistent/nbd-server"));
  assert_null (ferry_file_source_open (tmp ("does-not-exist")));
  assert_non_null (strstr (ferry_get_error (), "No such file"));
}

/* ---- HTTP ------------------------------------------------------------------ */

struct server {
  pid_t pid;
  char url[256];
};

static void
server_start (struct server *s, const char *file, const char *opt1,
              const char *opt2)
{
  const char *srcdir = getenv ("abs_top_srcdir");
  char script[1024];
  int pfd[2];
  char port[32] = "";

  snprintf (script, sizeof script, "%s/tests/peers/range-server.py",
            srcdir ? srcdir : "..");
  assert_int_equal (pipe (pfd), 0);
  s->pid = fork ();
  assert_true (s->pid >= 0);
  if (s->pid == 0) {
    dup2 (pfd[1], 1);
    close (pfd[0]);
    close (pfd[1]);
    execlp ("python3", "python3", script, file, opt1, opt2, (char *) NULL);
    _exit (127);
  }
  close (pfd[1]);
  FILE *fp = fdopen (pfd[0], "r");
  if (fgets (port, sizeof port, fp) == NULL)
    fail_msg ("range-server.py did not start");
  fclose (fp);
  port[strcspn (port, "\n")] = '\0';
  snprintf (s->url, sizeof s->url, "http://127.0.0.1:%s/disk.img?token=secret",
            port);
}

static void
server_stop (struct server *s)
{
  kill (s->pid, SIGTERM);
  waitpid (s->pid, NULL, 0);
}

static void
http_copy (const char *opt1, const char *opt2,
           const struct ferry_http_options *ho, int expect)
{
  const uint64_t size = 64 * MiB + 4093;
  struct server s;
  make_disk (tmp ("h.img"), size);
  server_start (&s, tmp ("h.img"), opt1, opt2);
  struct ferry_disk_source *src = ferry_http_source_open (s.url, ho);
  if (src == NULL) {
    server_stop (&s);
    assert_int_equal (expect, -1);
    return;
  }
  int64_t got_size = src->ops->size (src);
  struct ferry_volume_sink *sink =
    ferry_file_sink_open (tmp ("hd.img"), size, FERRY_FILE_SINK_TRUNCATE);
  struct ferry_transfer_options o = {
    .struct_size = sizeof o, .request_size = 1 * MiB,
  };
  int r = ferry_transfer (src, sink, &o, NULL);
  sink->ops->close (sink);
  src->ops->close (src);
  server_stop (&s);
  assert_int_equal (got_size, (int64_t) size);
  if (r != expect)
    fail_msg ("transfer returned %d: %s", r, ferry_get_error ());
  if (r == 0)
    assert_int_equal (sh ("cmp %s %s", tmp ("h.img"), tmp ("hd.img")), 0);
}

static void
test_http_source (void **state)
{
  if (!have ("python3"))
    skip ();
  http_copy (NULL, NULL, NULL, 0);
}

static void
test_http_retry (void **state)
{
  if (!have ("python3"))
    skip ();
  http_copy ("--fail-first=3", NULL, NULL, 0);
  http_copy ("--reset-first=2", NULL, NULL, 0);
  /* Too many failures: an error naming the status, the token not logged. */
  http_copy ("--fail-first=1000", NULL, NULL, -1);
  if (strstr (ferry_get_error (), "HTTP 503") == NULL ||
      strstr (ferry_get_error (), "at offset") == NULL)
    fail_msg ("unexpected error: %s", ferry_get_error ());
  assert_null (strstr (ferry_get_error (), "secret"));
}

static void
test_http_cookie_no_head (void **state)
{
  if (!have ("python3"))
    skip ();
  struct ferry_http_options ho = {
    .struct_size = sizeof ho, .cookie = "vmware_cgi_ticket=abc",
  };
  http_copy ("--require-cookie=vmware_cgi_ticket=abc", "--no-head", &ho, 0);
  /* Without the cookie, 403 at open, and the message never has it. */
  http_copy ("--require-cookie=vmware_cgi_ticket=abc", NULL, NULL, -1);
  assert_non_null (strstr (ferry_get_error (), "403"));
  ho.cookie = "wrong=1";
  http_copy ("--require-cookie=vmware_cgi_ticket=abc", NULL, &ho, -1);
  assert_null (strstr (ferry_get_error (), "wrong=1"));
}

static int
setup (void **state)
{
  if (mkdtemp (tmpdir) == NULL)
    return -1;
  return 0;
}

static int
teardown (void **state)
{
  sh ("rm -rf %s", tmpdir);
  return 0;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_file_to_file),
    cmocka_unit_test (test_file_sink_existing),
    cmocka_unit_test (test_work_list),
    cmocka_unit_test (test_verify_sha256),
    cmocka_unit_test (test_verify_mismatch),
    cmocka_unit_test (test_source_fails),
    cmocka_unit_test (test_cancel),
    cmocka_unit_test (test_stream_sink),
    cmocka_unit_test (test_nbd_source_qcow2),
    cmocka_unit_test (test_nbd_sink_qcow2),
    cmocka_unit_test (test_nbd_errors),
    cmocka_unit_test (test_http_source),
    cmocka_unit_test (test_http_retry),
    cmocka_unit_test (test_http_cookie_no_head),
  };
  return cmocka_run_group_tests (tests, setup, teardown);
}
