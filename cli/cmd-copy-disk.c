/* ferry copy-disk: copy one disk of a source Provider into a file or a
 * block device, without a state directory: the worker a Kubernetes Job
 * runs for `transfer: job` (issue 7 scale-out), usable by hand too.
 *
 * Progress on stdout: plain lines (one every PLAIN_S seconds), or one JSON
 * object per line ({time, provider, vm, disk, step, phase, done, total,
 * rate, message, sha256}, at most one progress object a second), like the
 * events of `ferry run -o json`.  Errors on stderr.
 */
#include <config.h>

#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

int cmd_copy_disk (struct cli *cli, int argc, char **argv);

#define PLAIN_S 5.0                     /* seconds between plain lines */
#define JSON_S 1.0

static volatile int cancel;

static void
on_stop_signal (int sig)
{
  (void) sig;
  cancel = 1;
}

struct shown {
  const struct ferry_copy_disk_args *a;
  bool json;
  double last;                          /* s, monotonic: the last line */
  uint64_t done, total;                 /* bytes: the latest progress */
};

static double
now_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One JSON object for an event (phase Running, Completed or Failed). */
static void
json_event (const struct ferry_copy_disk_args *a, const char *phase,
            uint64_t done, uint64_t total, double rate, const char *message,
            const char *sha256)
{
  char when[64];

  cli_now_ms (when, sizeof when);
  json_t *o = json_pack ("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:f, s:s?, s:s?}",
                         "time", when, "provider", a->provider, "vm", a->vm,
                         "disk", a->disk, "step", "DiskTransfer", "phase", phase,
                         "done", (json_int_t) done, "total", (json_int_t) total,
                         "rate", rate, "message", message, "sha256", sha256);
  char *s = o ? json_dumps (o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
  if (s)
    printf ("%s\n", s);
  free (s);
  json_decref (o);
  fflush (stdout);
}

static void
on_progress (void *opaque, const struct ferry_transfer_progress *p)
{
  struct shown *s = opaque;
  double t = now_s ();

  s->done = p->done;
  s->total = p->total;
  if (t - s->last < (s->json ? JSON_S : PLAIN_S) || p->total == 0)
    return;
  s->last = t;
  if (s->json)
    json_event (s->a, "Running", p->done, p->total, p->rate, NULL, NULL);
  else {
    printf ("%s/%s: %.1f%% of %" PRIu64 " bytes, %.1f MiB/s\n", s->a->vm,
            s->a->disk, 100.0 * (double) p->done / (double) p->total, p->total,
            p->rate / 1048576.0);
    fflush (stdout);
  }
}

static const char help[] =
  "Usage: ferry copy-disk --manifests FILE --provider NS/NAME --vm ID --disk ID\n"
  "                       [--snapshot ID] --output PATH [--report NS/JOB]\n"
  "                       [-o plain|json]\n"
  "Copy one disk of a source provider into a file or a block device and\n"
  "verify it (SHA-256 of the source, re-read from the output).  This is the\n"
  "worker that `transfer: job` runs in a Kubernetes Job; it can be run by\n"
  "hand.  It uses no state directory of yours (--state-dir is ignored): FILE\n"
  "is applied to a private temporary one, removed when the copy ends.\n"
  "\n"
  "      --manifests FILE   the source Provider, its Secret and its Hosts, as\n"
  "                         `ferry apply` reads them (it holds credentials)\n"
  "      --provider NS/NAME the Provider in FILE to copy from\n"
  "      --vm ID            the VM's id in that provider's inventory\n"
  "      --disk ID          the disk's id\n"
  "      --snapshot ID      read this snapshot of the disk (default: the disk now)\n"
  "      --output PATH      a block device (written as is, at least the disk's\n"
  "                         size) or a regular file (created mode 0660, or\n"
  "                         truncated, then written sparsely); a file this\n"
  "                         command created is removed when the copy fails\n"
  "      --report NS/JOB    publish progress on Job NS/JOB (its annotation\n"
  "                         ferry.konveyor.io/progress) through the kubevirt\n"
  "                         destination every 2 s and at the end; the cluster is\n"
  "                         $KUBECONFIG's, else the pod's service account.  A\n"
  "                         failed report is a warning\n"
  "  -o, --format FORMAT    plain (default: a progress line every 5 s) or json\n"
  "                         (one JSON object per line)\n"
  "  -h, --help             show this help\n"
  "\n"
  "SIGTERM or SIGINT stops the copy.  Exit status: 0 the disk is complete and\n"
  "verified, 1 it is not (the message says why), 2 bad command line.\n";

int
cmd_copy_disk (struct cli *cli, int argc, char **argv)
{
  enum { OPT_MANIFESTS = 256, OPT_PROVIDER, OPT_VM, OPT_DISK, OPT_SNAPSHOT,
         OPT_OUTPUT, OPT_REPORT };
  static const struct option opts[] = {
    { "manifests", required_argument, NULL, OPT_MANIFESTS },
    { "provider", required_argument, NULL, OPT_PROVIDER },
    { "vm", required_argument, NULL, OPT_VM },
    { "disk", required_argument, NULL, OPT_DISK },
    { "snapshot", required_argument, NULL, OPT_SNAPSHOT },
    { "output", required_argument, NULL, OPT_OUTPUT },
    { "report", required_argument, NULL, OPT_REPORT },
    { "format", required_argument, NULL, 'o' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  struct ferry_copy_disk_args a = { .struct_size = sizeof a, .cancel = &cancel };
  struct shown shown = { .a = &a };
  int c;

  (void) cli;
  while ((c = getopt_long (argc, argv, "o:h", opts, NULL)) != -1) {
    switch (c) {
    case OPT_MANIFESTS: a.manifests = optarg; break;
    case OPT_PROVIDER: a.provider = optarg; break;
    case OPT_VM: a.vm = optarg; break;
    case OPT_DISK: a.disk = optarg; break;
    case OPT_SNAPSHOT: a.snapshot = optarg; break;
    case OPT_OUTPUT: a.output = optarg; break;
    case OPT_REPORT: a.report_job = optarg; break;
    case 'o':
      if (strcmp (optarg, "json") == 0)
        shown.json = true;
      else if (strcmp (optarg, "plain") != 0)
        return cli_usage_error ("copy-disk", "--format %s: want plain or json", optarg);
      break;
    case 'h':
      fputs (help, stdout);
      return EXIT_OK;
    default: return cli_usage_error ("copy-disk", "bad option");
    }
  }
  if (optind < argc)
    return cli_usage_error ("copy-disk", "unexpected argument '%s'", argv[optind]);
  static const char *const need[] = { "--manifests", "--provider", "--vm", "--disk", "--output" };
  const char *have[] = { a.manifests, a.provider, a.vm, a.disk, a.output };
  for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
    if (!have[i] || !*have[i])
      return cli_usage_error ("copy-disk", "%s is required", need[i]);

  struct sigaction sa = { .sa_handler = on_stop_signal };
  sigemptyset (&sa.sa_mask);
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGINT, &sa, NULL);

  a.progress = on_progress;
  a.progress_opaque = &shown;
  shown.last = now_s ();
  if (shown.json)
    json_event (&a, "Running", 0, 0, 0, "copy started", NULL);
  else {
    printf ("%s/%s: copying from provider %s to %s\n", a.vm, a.disk, a.provider, a.output);
    fflush (stdout);
  }

  struct ferry_transfer_result res = { 0 };
  if (ferry_copy_disk (&a, &res) == -1) {
    const char *e = ferry_get_error ();
    if (shown.json)
      json_event (&a, "Failed", shown.done, shown.total, 0, *e ? e : "failed", NULL);
    cli_error (cancel ? "copy-disk (stopped by a signal)" : "copy-disk");
    return EXIT_ERROR;
  }
  uint64_t total = shown.total;
  double rate = res.seconds > 0 ? (double) total / res.seconds : 0;
  if (shown.json) {
    char *msg = NULL;
    if (asprintf (&msg, "%" PRIu64 " bytes of data written, %" PRIu64
                  " bytes of zeroes, verified", res.bytes_written,
                  res.bytes_zeroed) == -1)
      msg = NULL;
    json_event (&a, "Completed", total, total, rate, msg, res.sha256);
    free (msg);
  }
  else
    printf ("%s/%s: done: %" PRIu64 " bytes in %.1f s, %" PRIu64 " bytes of data written, %"
            PRIu64 " bytes of zeroes, sha256 %s (verified)\n", a.vm, a.disk, total,
            res.seconds, res.bytes_written, res.bytes_zeroed, res.sha256);
  return EXIT_OK;
}
