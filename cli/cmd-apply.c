/* ferry apply: store manifests. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void
apply_usage (void)
{
  printf ("Usage: ferry apply -f FILE|DIR|- [-f ...] [-n NAMESPACE] [--dry-run]\n"
          "Store Forklift manifests (Provider, Secret, Host, NetworkMap, StorageMap,\n"
          "Plan, Migration, Hook) given as YAML or JSON, one or many documents.\n"
          "All or nothing: when any document is bad, nothing is stored.\n"
          "\n"
          "  -f, --filename PATH  a file, a directory of *.yaml *.yml *.json, or - for stdin\n"
          "  -n, --namespace NS   namespace for objects that name none (default: default)\n"
          "      --dry-run        validate only\n"
          "  -h, --help           show this help\n");
}

static void
report (void *opaque, const char *kind, const char *ns, const char *name,
        const char *action)
{
  const char *suffix = opaque;
  json_t *info = ferry_kind_info (kind);
  const char *singular = info ? json_string_value (json_object_get (info, "singular")) : NULL;
  const char *api = info ? json_string_value (json_object_get (info, "apiVersion")) : "";
  const char *slash = api ? strchr (api, '/') : NULL;
  /* kubectl's form: plan.forklift.konveyor.io/name created */
  if (slash)
    printf ("%s.%.*s/%s %s%s\n", singular ? singular : kind, (int) (slash - api), api,
            name, action, suffix);
  else
    printf ("%s/%s %s%s\n", singular ? singular : kind, name, action, suffix);
  (void) ns;
  json_decref (info);
  fflush (stdout);
}

int
cmd_apply (struct cli *cli, int argc, char **argv)
{
  enum { OPT_DRY_RUN = 256 };
  static const struct option opts[] = {
    { "filename", required_argument, NULL, 'f' },
    { "namespace", required_argument, NULL, 'n' },
    { "dry-run", no_argument, NULL, OPT_DRY_RUN },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *files[64];
  size_t nfiles = 0;
  unsigned flags = 0;
  int c;

  while ((c = getopt_long (argc, argv, "f:n:h", opts, NULL)) != -1) {
    switch (c) {
    case 'f':
      if (nfiles == sizeof files / sizeof files[0])
        return cli_usage_error ("apply", "too many -f options (at most 64)");
      files[nfiles++] = optarg;
      break;
    case 'n':
      cli->ns = optarg;
      break;
    case OPT_DRY_RUN:
      flags |= FERRY_APPLY_DRY_RUN;
      break;
    case 'h':
      apply_usage ();
      return EXIT_OK;
    default:
      return cli_usage_error ("apply", "bad option");
    }
  }
  if (optind < argc)
    return cli_usage_error ("apply", "unexpected argument '%s' (files are given with -f)", argv[optind]);
  if (nfiles == 0)
    return cli_usage_error ("apply", "nothing to apply: give -f FILE, -f DIR or -f -");

  struct ferry *f = cli_open (cli, 0);
  if (!f)
    return EXIT_ERROR;
  /* Each -f is applied as one unit, in order, so that a later file may
   * refer to objects of an earlier one.
   */
  for (size_t i = 0; i < nfiles; i++) {
    if (ferry_apply (f, files[i], cli->ns, flags, report,
                     (void *) ((flags & FERRY_APPLY_DRY_RUN) ? " (dry run)" : "")) == -1) {
      cli_error (NULL);
      return EXIT_ERROR;
    }
  }
  return EXIT_OK;
}
