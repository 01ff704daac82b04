/* ferry cancel, restart, archive, duplicate: controlling plans and their
 * Migrations (issue 5).
 */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int
cmd_cancel (struct cli *cli, int argc, char **argv)
{
  enum { OPT_VM = 256 };
  static const struct option opts[] = {
    { "namespace", required_argument, NULL, 'n' },
    { "vm", required_argument, NULL, OPT_VM },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char **vms = calloc ((size_t) argc + 1, sizeof *vms);
  size_t nr_vms = 0;
  int c;

  if (!vms) {
    perror ("ferry: cancel");
    return EXIT_ERROR;
  }
  while ((c = getopt_long (argc, argv, "n:h", opts, NULL)) != -1) {
    switch (c) {
    case 'n': cli->ns = optarg; break;
    case OPT_VM: vms[nr_vms++] = optarg; break;
    case 'h':
      printf ("Usage: ferry cancel PLAN [-n NAMESPACE] [--vm ID|NAME ...]\n"
              "Cancel the running Migration of PLAN: every VM, or only those named\n"
              "with --vm (repeatable).  The engine stops a canceled VM within seconds,\n"
              "marks it Canceled and removes its partial volumes at the destination;\n"
              "the other VMs go on.\n"
              "\n"
              "  -n, --namespace NS   the plan's namespace (default: default)\n"
              "      --vm ID|NAME     cancel only this VM (source id or name)\n"
              "  -h, --help           show this help\n");
      free (vms);
      return EXIT_OK;
    default:
      free (vms);
      return cli_usage_error ("cancel", "bad option");
    }
  }
  if (argc - optind != 1) {
    free (vms);
    return cli_usage_error ("cancel", "needs one PLAN");
  }
  struct ferry *f = cli_open (cli, 0);
  if (!f) {
    free (vms);
    return EXIT_ERROR;
  }
  const char *ns = cli->ns ? cli->ns : "default";
  char *mig = ferry_migration_cancel (f, ns, argv[optind], vms);
  free (vms);
  if (!mig) {
    cli_error (NULL);
    return EXIT_ERROR;
  }
  printf ("migration.forklift.konveyor.io/%s cancel requested (%s)\n", mig,
          nr_vms ? "chosen VMs" : "every VM");
  free (mig);
  return EXIT_OK;
}

int
cmd_restart (struct cli *cli, int argc, char **argv)
{
  enum { OPT_WAIT = 256 };
  static const struct option opts[] = {
    { "namespace", required_argument, NULL, 'n' },
    { "wait", no_argument, NULL, OPT_WAIT },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  bool wait = false;
  int c;

  while ((c = getopt_long (argc, argv, "n:h", opts, NULL)) != -1) {
    switch (c) {
    case 'n': cli->ns = optarg; break;
    case OPT_WAIT: wait = true; break;
    case 'h':
      printf ("Usage: ferry restart PLAN [-n NAMESPACE] [--wait]\n"
              "Create a new Migration for PLAN, which must have run before and have\n"
              "no running Migration.  It migrates only the VMs that did not succeed in\n"
              "earlier Migrations.\n"
              "\n"
              "  -n, --namespace NS   the plan's namespace (default: default)\n"
              "      --wait           run the migration now and show its progress\n"
              "  -h, --help           show this help\n");
      return EXIT_OK;
    default: return cli_usage_error ("restart", "bad option");
    }
  }
  if (argc - optind != 1)
    return cli_usage_error ("restart", "needs one PLAN");
  struct ferry *f = cli_open (cli, 0);
  if (!f)
    return EXIT_ERROR;
  const char *ns = cli->ns ? cli->ns : "default";
  char *name = ferry_plan_restart (f, ns, argv[optind]);
  if (!name) {
    cli_error (NULL);
    return EXIT_ERROR;
  }
  printf ("migration.forklift.konveyor.io/%s created\n", name);
  int r = wait ? cli_run_migration (f, ns, name) : EXIT_OK;
  free (name);
  return r;
}

int
cmd_archive (struct cli *cli, int argc, char **argv)
{
  int r = cli_parse_ns_options (cli, argc, argv, "archive",
    "Usage: ferry archive PLAN [-n NAMESPACE]\n"
    "Archive PLAN: it keeps its history but does not start again.  Refused\n"
    "while one of its Migrations is running.\n"
    "\n"
    "  -n, --namespace NS   the plan's namespace (default: default)\n"
    "  -h, --help           show this help\n");
  if (r >= 0)
    return r;
  if (argc - optind != 1)
    return cli_usage_error ("archive", "needs one PLAN");
  struct ferry *f = cli_open (cli, 0);
  if (!f)
    return EXIT_ERROR;
  if (ferry_plan_archive (f, cli->ns ? cli->ns : "default", argv[optind]) == -1) {
    cli_error (NULL);
    return EXIT_ERROR;
  }
  printf ("plan.forklift.konveyor.io/%s archived\n", argv[optind]);
  return EXIT_OK;
}

int
cmd_duplicate (struct cli *cli, int argc, char **argv)
{
  int r = cli_parse_ns_options (cli, argc, argv, "duplicate",
    "Usage: ferry duplicate PLAN NEW [-n NAMESPACE]\n"
    "Create plan NEW with a copy of PLAN's spec (not archived), in the same\n"
    "namespace.\n"
    "\n"
    "  -n, --namespace NS   the plans' namespace (default: default)\n"
    "  -h, --help           show this help\n");
  if (r >= 0)
    return r;
  if (argc - optind != 2)
    return cli_usage_error ("duplicate", "needs PLAN and NEW");
  struct ferry *f = cli_open (cli, 0);
  if (!f)
    return EXIT_ERROR;
  if (ferry_plan_duplicate (f, cli->ns ? cli->ns : "default", argv[optind],
                            argv[optind + 1]) == -1) {
    cli_error (NULL);
    return EXIT_ERROR;
  }
  printf ("plan.forklift.konveyor.io/%s created\n", argv[optind + 1]);
  return EXIT_OK;
}
