/* ferry start, ferry run: create a Migration for a plan and execute it. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

struct progress_view {
  bool tty;                             /* stdout is a terminal: redraw one line */
  double last;                          /* seconds, when the last line was printed */
  bool open_line;                       /* a \r line is showing */
};

static double
now_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
on_event (void *opaque, const struct ferry_run_event *ev)
{
  struct progress_view *v = opaque;
  const char *vm = ev->vm ? ev->vm : "-";

  if (ev->total && strcmp (ev->phase, "Running") == 0) {
    double t = now_s ();
    /* Byte progress: redraw on a terminal (10/s), a line every 5 s otherwise. */
    if (t - v->last < (v->tty ? 0.1 : 5.0))
      return;
    v->last = t;
    double pct = 100.0 * (double) ev->done / (double) ev->total;
    printf ("%s%s: %s %5.1f%% %llu/%llu MiB %.1f MiB/s%s",
            v->tty ? "\r" : "", vm, ev->step, pct,
            (unsigned long long) (ev->done >> 20), (unsigned long long) (ev->total >> 20),
            ev->rate / 1048576.0, v->tty ? "\033[K" : "\n");
    v->open_line = v->tty;
    fflush (stdout);
    return;
  }
  if (v->open_line) {
    putchar ('\n');
    v->open_line = false;
  }
  printf ("%s: %s %s%s%s\n", vm, ev->step, ev->phase,
          ev->message ? ": " : "", ev->message ? ev->message : "");
  fflush (stdout);
}

int
cli_run_migration (struct ferry *f, const char *ns, const char *name)
{
  struct progress_view view = { .tty = isatty (STDOUT_FILENO) };
  printf ("migration %s/%s: running\n", ns, name);
  int r = ferry_migration_run (f, ns, name, on_event, &view);
  if (view.open_line)
    putchar ('\n');
  if (r == -1) {
    cli_error (NULL);
    return EXIT_ERROR;
  }
  printf ("migration %s/%s: Succeeded\n", ns, name);
  return EXIT_OK;
}

int
cmd_start (struct cli *cli, int argc, char **argv)
{
  enum { OPT_CUTOVER = 256, OPT_WAIT };
  static const struct option opts[] = {
    { "namespace", required_argument, NULL, 'n' },
    { "cutover", required_argument, NULL, OPT_CUTOVER },
    { "wait", no_argument, NULL, OPT_WAIT },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *cutover = NULL;
  bool wait = false;
  int c;

  while ((c = getopt_long (argc, argv, "n:h", opts, NULL)) != -1) {
    switch (c) {
    case 'n': cli->ns = optarg; break;
    case OPT_CUTOVER: cutover = optarg; break;
    case OPT_WAIT: wait = true; break;
    case 'h':
      printf ("Usage: ferry start PLAN [-n NAMESPACE] [--cutover TIME] [--wait]\n"
              "Create a Migration for PLAN.  With --wait, run it here and follow its\n"
              "progress until every VM has succeeded or failed; otherwise 'ferry run'\n"
              "executes it.\n"
              "\n"
              "  -n, --namespace NS   the plan's namespace (default: default)\n"
              "      --cutover TIME   cutover time for warm migration (RFC 3339)\n"
              "      --wait           run the migration now and show its progress\n"
              "  -h, --help           show this help\n");
      return EXIT_OK;
    default: return cli_usage_error ("start", "bad option");
    }
  }
  if (argc - optind != 1)
    return cli_usage_error ("start", "needs one PLAN");
  struct ferry *f = cli_open (cli, 0);
  if (!f)
    return EXIT_ERROR;
  const char *ns = cli->ns ? cli->ns : "default";
  char *name = ferry_plan_start (f, ns, argv[optind], cutover);
  if (!name) {
    cli_error (NULL);
    return EXIT_ERROR;
  }
  printf ("migration.forklift.konveyor.io/%s created\n", name);
  int r = EXIT_OK;
  if (wait)
    r = cli_run_migration (f, ns, name);
  free (name);
  return r;
}

int
cmd_run (struct cli *cli, int argc, char **argv)
{
  int r = cli_parse_ns_options (cli, argc, argv, "run",
    "Usage: ferry run MIGRATION [-n NAMESPACE]\n"
    "Execute (or resume) a Migration in the foreground.  VMs that already\n"
    "succeeded are not migrated again.\n"
    "\n"
    "  -n, --namespace NS   the Migration's namespace (default: default)\n"
    "  -h, --help           show this help\n");
  if (r >= 0)
    return r;
  if (argc - optind != 1)
    return cli_usage_error ("run", "needs one MIGRATION");
  struct ferry *f = cli_open (cli, 0);
  if (!f)
    return EXIT_ERROR;
  return cli_run_migration (f, cli->ns ? cli->ns : "default", argv[optind]);
}
