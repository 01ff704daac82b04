/* ferry-copy: copy a disk with ferry_transfer, for the benchmarks.
 *
 *   ferry-copy [-C CONNS] [-R BYTES] [-V] [-P] SRC DST
 *
 * SRC: a path (file source), nbd://... or nbd+unix://... (NBD URI),
 *      http://... or https://... (HTTP ranges), or [ CMD ARGS... ] (an NBD
 *      server spawned with socket activation, e.g. [ qemu-nbd -r -f qcow2 x ]).
 * DST: a path (sparse raw file, truncated), [ CMD ARGS... ] (an NBD server
 *      spawned for writing, e.g. [ qemu-nbd -f qcow2 y.qcow2 ]), or - (a
 *      stream to stdout, in order).
 * -V verifies and prints the SHA-256 of the content on stdout (stderr when
 * DST is -).  -P prints progress on stderr.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ferry/transfer.h"

static int
write_stdout (void *opaque, const void *buf, size_t count)
{
  const char *p = buf;

  while (count > 0) {
    ssize_t r = write (STDOUT_FILENO, p, count);
    if (r == -1) {
      if (errno == EINTR)
        continue;
      ferry_error_errno (errno, "write to stdout");
      return -1;
    }
    p += r;
    count -= (size_t) r;
  }
  return 0;
}

static void
progress (void *opaque, const struct ferry_transfer_progress *p)
{
  fprintf (stderr, "\r%5.1f%%  %8.1f MiB/s",
           p->total ? 100.0 * (double) p->done / (double) p->total : 100.0,
           p->rate / 1048576.0);
}

/* argv[*i] is "[": collect up to "]" into a NULL-terminated vector. */
static const char **
bracket (int argc, char **argv, int *i)
{
  const char **v = calloc ((size_t) argc, sizeof *v);
  size_t n = 0;

  for ((*i)++; *i < argc && strcmp (argv[*i], "]") != 0; (*i)++)
    v[n++] = argv[*i];
  if (*i >= argc || n == 0) {
    fprintf (stderr, "ferry-copy: unterminated or empty [ ... ]\n");
    exit (EXIT_FAILURE);
  }
  (*i)++;
  return v;
}

static void
usage (void)
{
  fprintf (stderr, "usage: ferry-copy [-C CONNS] [-R BYTES] [-V] [-P] SRC DST\n");
  exit (EXIT_FAILURE);
}

int
main (int argc, char **argv)
{
  struct ferry_transfer_options opts = { .struct_size = sizeof opts };
  struct ferry_transfer_result res;
  struct ferry_disk_source *src = NULL;
  struct ferry_volume_sink *sink = NULL;
  const char **src_argv = NULL, **dst_argv = NULL;
  const char *src_path = NULL, *dst_path = NULL;
  int i = 1, r;

  for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
    if (strcmp (argv[i], "-C") == 0 && i + 1 < argc)
      opts.connections = (unsigned) atoi (argv[++i]);
    else if (strcmp (argv[i], "-R") == 0 && i + 1 < argc)
      opts.request_size = (uint32_t) strtoul (argv[++i], NULL, 0);
    else if (strcmp (argv[i], "-V") == 0)
      opts.verify = 1;
    else if (strcmp (argv[i], "-P") == 0)
      opts.progress = progress;
    else
      usage ();
  }
  if (i < argc && strcmp (argv[i], "[") == 0)
    src_argv = bracket (argc, argv, &i);
  else if (i < argc)
    src_path = argv[i++];
  if (i < argc && strcmp (argv[i], "[") == 0)
    dst_argv = bracket (argc, argv, &i);
  else if (i < argc)
    dst_path = argv[i++];
  if (i != argc || (!src_argv && !src_path) || (!dst_argv && !dst_path))
    usage ();

  if (src_argv)
    src = ferry_nbd_source_spawn (src_argv);
  else if (strncmp (src_path, "nbd:", 4) == 0 || strncmp (src_path, "nbd+", 4) == 0)
    src = ferry_nbd_source_open (src_path);
  else if (strncmp (src_path, "http:", 5) == 0 || strncmp (src_path, "https:", 6) == 0)
    src = ferry_http_source_open (src_path, NULL);
  else
    src = ferry_file_source_open (src_path);
  if (src == NULL)
    goto err;

  if (dst_argv)
    sink = ferry_nbd_sink_spawn (dst_argv);
  else if (strcmp (dst_path, "-") == 0)
    sink = ferry_stream_sink_new ((uint64_t) src->ops->size (src),
                                  write_stdout, NULL, NULL);
  else
    sink = ferry_file_sink_open (dst_path, (uint64_t) src->ops->size (src),
                                 FERRY_FILE_SINK_TRUNCATE);
  if (sink == NULL)
    goto err;

  r = ferry_transfer (src, sink, &opts, &res);
  if (opts.progress)
    fprintf (stderr, "\n");
  if (r == -1) {
    sink->ops->close (sink);
    sink = NULL;
    goto err;
  }
  r = sink->ops->close (sink);
  sink = NULL;
  if (r == -1)
    goto err;
  src->ops->close (src);
  fprintf (stderr, "ferry-copy: %.3f s, read %" PRIu64 ", written %" PRIu64
           ", zeroed %" PRIu64 " bytes\n",
           res.seconds, res.bytes_read, res.bytes_written, res.bytes_zeroed);
  if (opts.verify)
    fprintf (dst_path && strcmp (dst_path, "-") == 0 ? stderr : stdout,
             "%s\n", res.sha256);
  free (src_argv);
  free (dst_argv);
  return EXIT_SUCCESS;

 err:
  fprintf (stderr, "ferry-copy: %s\n", ferry_get_error ());
  if (sink)
    sink->ops->close (sink);
  if (src)
    src->ops->close (src);
  free (src_argv);
  free (dst_argv);
  return EXIT_FAILURE;
}
