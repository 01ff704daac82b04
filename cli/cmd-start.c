/* ferry start, ferry run: create a Migration for a plan and execute it. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int
cli_run_migration_output (struct ferry *f, const char *ns, const char *name,
                          enum cli_progress_mode mode)
{
  struct cli_progress *p = cli_progress_new (mode, stdout);
  if (!p)
    return EXIT_ERROR;
  int r = ferry_migration_run (f, ns, name, cli_progress_event, p);
  cli_progress_free (p);
  if (r == -1) {
    cli_error (NULL);
    return EXIT_ERROR;
  }
  return EXIT_OK;
}

int
cli_run_migration (struct ferry *f, const char *ns, const char *name)
{
  return cli_run_migration_output (f, ns, name, PROGRESS_AUTO);
}

int
cmd_start (struct cli *cli, int argc, char **argv)
{
  enum { OPT_CUTOVER = 256, OPT_WAIT, OPT_PRECOPY_INTERVAL };
  static const struct option opts[] = {
    { "namespace", required_argument, NULL, 'n' },
    { "cutover", required_argument, NULL, OPT_CUTOVER },
    { "wait", no_argument, NULL, OPT_WAIT },
    { "precopy-interval", required_argument, NULL, OPT_PRECOPY_INTERVAL }, /* warm */
    { "output", required_argument, NULL, 'o' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *cutover = NULL;
  bool wait = false;
  enum cli_progress_mode mode = PROGRESS_AUTO;
  int c;

  while ((c = getopt_long (argc, argv, "n:o:h", opts, NULL)) != -1) {
    switch (c) {
    case 'n': cli->ns = optarg; break;
    case OPT_CUTOVER: cutover = optarg; break;
    case OPT_WAIT: wait = true; break;
    case OPT_PRECOPY_INTERVAL:          /* warm */
      if (ferry_set_precopy_interval (optarg) == -1)
        return cli_usage_error ("start", "%s", ferry_get_error ());
      break;
    case 'o':
      if (cli_progress_parse ("start", optarg, &mode) == -1)
        return EXIT_USAGE;
      break;
    case 'h':
      printf ("Usage: ferry start PLAN [-n NAMESPACE] [--cutover TIME] [--wait] [-o FORM]\n"
              "Create a Migration for PLAN.  With --wait, run it here and follow its\n"
              "progress until every VM has succeeded or failed; otherwise 'ferry run'\n"
              "executes it.\n"
              "\n"
              "  -n, --namespace NS   the plan's namespace (default: default)\n"
              "      --cutover TIME   cutover time for warm migration (RFC 3339)\n"
              "      --wait           run the migration now and show its progress\n"
              CLI_HELP_PRECOPY_INTERVAL
              "  -o, --output FORM    progress with --wait: auto (live lines on a\n"
              "                       terminal, plain lines otherwise), plain, or json\n"
              "                       (one JSON object per line per event)\n"
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
  if (mode != PROGRESS_JSON || !wait)
    printf ("migration.forklift.konveyor.io/%s created\n", name);
  fflush (stdout);
  int r = EXIT_OK;
  if (wait)
    r = cli_run_migration_output (f, ns, name, mode);
  free (name);
  return r;
}

int
cmd_run (struct cli *cli, int argc, char **argv)
{
  enum { OPT_PRECOPY_INTERVAL = 256 };  /* warm */
  static const struct option opts[] = {
    { "namespace", required_argument, NULL, 'n' },
    { "precopy-interval", required_argument, NULL, OPT_PRECOPY_INTERVAL }, /* warm */
    { "output", required_argument, NULL, 'o' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  enum cli_progress_mode mode = PROGRESS_AUTO;
  int c;

  while ((c = getopt_long (argc, argv, "n:o:h", opts, NULL)) != -1) {
    switch (c) {
    case 'n': cli->ns = optarg; break;
    case 'o':
      if (cli_progress_parse ("run", optarg, &mode) == -1)
        return EXIT_USAGE;
      break;
    case OPT_PRECOPY_INTERVAL:          /* warm */
      if (ferry_set_precopy_interval (optarg) == -1)
        return cli_usage_error ("run", "%s", ferry_get_error ());
      break;
    case 'h':
      printf ("Usage: ferry run MIGRATION [-n NAMESPACE] [-o FORM]\n"
              "Execute (or resume) a Migration in the foreground.  VMs that already\n"
              "succeeded are not migrated again.\n"
              "\n"
              "  -n, --namespace NS   the Migration's namespace (default: default)\n"
              CLI_HELP_PRECOPY_INTERVAL
              "  -o, --output FORM    progress: " CLI_HELP_OUTPUT_FORMS
              "  -h, --help           show this help\n");
      return EXIT_OK;
    default: return cli_usage_error ("run", "bad option");
    }
  }
  if (argc - optind != 1)
    return cli_usage_error ("run", "needs one MIGRATION");
  struct ferry *f = cli_open (cli, 0);
  if (!f)
    return EXIT_ERROR;
  return cli_run_migration_output (f, cli->ns ? cli->ns : "default", argv[optind], mode);
}
