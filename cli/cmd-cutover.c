/* ferry cutover: set (or move) the cutover time of a warm plan's running
 * Migration, as Forklift's "Schedule cutover" / "Edit cutover" do.
 */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

int cmd_cutover (struct cli *cli, int argc, char **argv);

int
cmd_cutover (struct cli *cli, int argc, char **argv)
{
  enum { OPT_TIME = 256 };
  static const struct option opts[] = {
    { "namespace", required_argument, NULL, 'n' },
    { "time", required_argument, NULL, OPT_TIME },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *time = NULL;
  int c;

  while ((c = getopt_long (argc, argv, "n:h", opts, NULL)) != -1) {
    switch (c) {
    case 'n': cli->ns = optarg; break;
    case OPT_TIME: time = optarg; break;
    case 'h':
      printf ("Usage: ferry cutover PLAN [-n NAMESPACE] [--time TIME]\n"
              "Set the cutover time of the running Migration of the warm plan PLAN\n"
              "(its spec.cutover), or move it.  At that time each VM's source is powered\n"
              "off, the final snapshot's changes are copied, the snapshots are removed\n"
              "and the VM is created at the destination.  Until then the precopies go\n"
              "on.  A time in the past, or none, means now.\n"
              "\n"
              "  -n, --namespace NS   the plan's namespace (default: default)\n"
              "      --time TIME      RFC 3339 with a UTC offset, e.g. 2024-04-04T01:23:45Z\n"
              "                       (default: now)\n"
              "  -h, --help           show this help\n");
      return EXIT_OK;
    default: return cli_usage_error ("cutover", "bad option");
    }
  }
  if (argc - optind != 1)
    return cli_usage_error ("cutover", "needs one PLAN");
  struct ferry *f = cli_open (cli, 0);
  if (!f)
    return EXIT_ERROR;
  const char *ns = cli->ns ? cli->ns : "default";
  char *mig = ferry_migration_cutover (f, ns, argv[optind], time);
  if (!mig) {
    cli_error (NULL);
    return EXIT_ERROR;
  }
  printf ("migration.forklift.konveyor.io/%s cutover at %s\n", mig, time ? time : "now");
  free (mig);
  return EXIT_OK;
}
