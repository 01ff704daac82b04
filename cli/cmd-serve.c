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

int
cmd_serve (struct cli *cli, int argc, char **argv)
{
  enum { OPT_ONCE = 256, OPT_POLL, OPT_PRECOPY_INTERVAL };
  static const struct option opts[] = {
    { "once", no_argument, NULL, OPT_ONCE },
    { "poll", required_argument, NULL, OPT_POLL },
    { "precopy-interval", required_argument, NULL, OPT_PRECOPY_INTERVAL }, /* warm */
    { "output", required_argument, NULL, 'o' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  bool once = false;
  unsigned poll = 5;
  enum cli_progress_mode mode = PROGRESS_AUTO;
  int c;

  while ((c = getopt_long (argc, argv, "o:h", opts, NULL)) != -1) {
    switch (c) {
    case 'o':
      if (cli_progress_parse ("serve", optarg, &mode) == -1)
        return EXIT_USAGE;
      break;
    case OPT_ONCE: once = true; break;
    case OPT_PRECOPY_INTERVAL:          /* warm */
      if (ferry_set_precopy_interval (optarg) == -1)
        return cli_usage_error ("serve", "%s", ferry_get_error ());
      break;
    case OPT_POLL: {
      char *end;
      long v = strtol (optarg, &end, 10);
      if (*end || v < 1 || v > 3600)
        return cli_usage_error ("serve", "--poll wants 1 to 3600 seconds");
      poll = (unsigned) v;
      break;
    }
    case 'h':
      printf ("Usage: ferry serve [--once] [--poll SECONDS] [-o FORM]\n"
              "Execute every pending or running Migration of the store, all in this\n"
              "process (VM admission per source host is shared between them), and\n"
              "look for new ones every few seconds.  SIGTERM or SIGINT stops: no new\n"
              "VM starts, running VMs finish their current step and stop, and the\n"
              "Migrations stay resumable.\n"
              "\n"
              "      --once           exit when no Migration is left to run\n"
              "      --poll SECONDS   how often to look for new Migrations (default: 5)\n"
              CLI_HELP_PRECOPY_INTERVAL
              "  -o, --output FORM    progress: " CLI_HELP_OUTPUT_FORMS
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

  struct cli_progress *p = cli_progress_new (mode, stdout);
  if (!p)
    return EXIT_ERROR;
  cli_progress_printf (p, "ferry serve: state directory %s\n", ferry_get0_state_dir (f));
  int r = ferry_serve (f, once, poll, cli_progress_event, p);
  if (ferry_migration_stopping ())
    cli_progress_printf (p, "ferry serve: stopped; unfinished migrations resume on the next run\n");
  cli_progress_free (p);
  if (r == -1) {
    cli_error (NULL);
    return EXIT_ERROR;
  }
  return EXIT_OK;
}
