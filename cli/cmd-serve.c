/* ferry serve: run every unfinished Migration of the store (the daemon of
 * packaging/ferry.service).
 */
#include <config.h>

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void
on_stop_signal (int sig)
{
  (void) sig;
  ferry_migration_stop ();              /* async-signal-safe */
}

/* One line per event; byte progress is left out (see ferry get migration). */
static void
on_event (void *opaque, const struct ferry_run_event *ev)
{
  (void) opaque;
  if (ev->total && strcmp (ev->phase, "Running") == 0)
    return;
  printf ("%s: %s %s%s%s\n", ev->vm ? ev->vm : "-", ev->step, ev->phase,
          ev->message ? ": " : "", ev->message ? ev->message : "");
  fflush (stdout);
}

int
cmd_serve (struct cli *cli, int argc, char **argv)
{
  enum { OPT_ONCE = 256, OPT_POLL };
  static const struct option opts[] = {
    { "once", no_argument, NULL, OPT_ONCE },
    { "poll", required_argument, NULL, OPT_POLL },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  bool once = false;
  unsigned poll = 5;
  int c;

  while ((c = getopt_long (argc, argv, "h", opts, NULL)) != -1) {
    switch (c) {
    case OPT_ONCE: once = true; break;
    case OPT_POLL: {
      char *end;
      long v = strtol (optarg, &end, 10);
      if (*end || v < 1 || v > 3600)
        return cli_usage_error ("serve", "--poll wants 1 to 3600 seconds");
      poll = (unsigned) v;
      break;
    }
    case 'h':
      printf ("Usage: ferry serve [--once] [--poll SECONDS]\n"
              "Execute every pending or running Migration of the store, all in this\n"
              "process (VM admission per source host is shared between them), and\n"
              "look for new ones every few seconds.  SIGTERM or SIGINT stops: no new\n"
              "VM starts, running VMs finish their current step and stop, and the\n"
              "Migrations stay resumable.\n"
              "\n"
              "      --once           exit when no Migration is left to run\n"
              "      --poll SECONDS   how often to look for new Migrations (default: 5)\n"
              "  -h, --help           show this help\n");
      return EXIT_OK;
    default: return cli_usage_error ("serve", "bad option");
    }
  }
  if (argc - optind != 0)
    return cli_usage_error ("serve", "takes no arguments");
  struct ferry *f = cli_open (cli, 0);
  if (!f)
    return EXIT_ERROR;

  struct sigaction sa = { .sa_handler = on_stop_signal };
  sigemptyset (&sa.sa_mask);
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGINT, &sa, NULL);

  printf ("ferry serve: state directory %s\n", ferry_get0_state_dir (f));
  fflush (stdout);
  int r = ferry_serve (f, once, poll, on_event, NULL);
  if (ferry_migration_stopping ())
    printf ("ferry serve: stopped; unfinished migrations resume on the next run\n");
  if (r == -1) {
    cli_error (NULL);
    return EXIT_ERROR;
  }
  return EXIT_OK;
}
