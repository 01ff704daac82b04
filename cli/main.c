/* ferry command: global options and verb dispatch. */
#include <config.h>

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_cutover (struct cli *cli, int argc, char **argv);     /* cmd-cutover.c (warm) */
int cmd_copy_disk (struct cli *cli, int argc, char **argv);   /* cmd-copy-disk.c (scale-out, issue 7) */

static const struct verb {
  const char *name;
  int (*fn) (struct cli *cli, int argc, char **argv);
  const char *summary;
} verbs[] = {
  { "apply", cmd_apply, "Store Forklift manifests (YAML or JSON) from a file, directory or stdin" },
  { "get", cmd_get, "List objects of a kind, or show one" },
  { "describe", cmd_describe, "Show one object in detail" },
  { "delete", cmd_delete, "Delete one object" },
  { "validate", cmd_validate, "Validate a plan (conditions, as Forklift's); exit 1 when not Ready" },
  { "start", cmd_start, "Start a migration of a plan (--wait: run it and follow it)" },
  { "run", cmd_run, "Execute or resume a migration in the foreground" },
  /* --- engine (issue 5) */
  { "cutover", cmd_cutover, "Set or move the cutover time of a warm plan's running migration" },
  { "cancel", cmd_cancel, "Cancel a plan's running migration, or some of its VMs" },
  { "restart", cmd_restart, "Start a new migration of the VMs that did not succeed" },
  { "archive", cmd_archive, "Archive a plan (it does not start again)" },
  { "duplicate", cmd_duplicate, "Copy a plan under a new name" },
  { "serve", cmd_serve, "Execute every pending migration of the store (daemon)" },
  /* --- end engine */
  /* --- scale-out (issue 7): the worker of `transfer: job` */
  { "copy-disk", cmd_copy_disk, "Copy one disk of a source provider into a file or block device (Job worker)" },
  { "logs", cmd_logs, "Show a plan's log files (--follow: until its migration ends)" },
  { "must-gather", cmd_must_gather, "Write a tar.gz of objects (Secrets redacted) and logs for support" },
  { "inventory", cmd_inventory, "Show or refresh a source provider's inventory" },
  { "modules", cmd_modules, "List provider and destination modules, or dump one" },
  { "template", cmd_template, "Evaluate a name template" },
  { "version", cmd_version, "Print the version" },
};
#define NR_VERBS (sizeof verbs / sizeof verbs[0])

static void
usage (FILE *fp)
{
  fprintf (fp,
           "Usage: ferry [GLOBAL OPTIONS] COMMAND [ARGS]\n"
           "Move virtual machines onto KubeVirt and KVM.\n"
           "\n"
           "Commands:\n");
  for (size_t i = 0; i < NR_VERBS; i++)
    fprintf (fp, "  %-11s %s\n", verbs[i].name, verbs[i].summary);
  fprintf (fp,
           "\n"
           "Global options:\n"
           "  --state-dir DIR     state directory (default: $FERRY_STATE_DIR,\n"
           "                      $XDG_STATE_HOME/ferry, ~/.local/state/ferry)\n"
           "  --log-level LEVEL   error, warn, info or debug (default: warn)\n"
           "  -v, --verbose       same as --log-level debug\n"
           "  -h, --help          show this help\n"
           "  -V, --version       print the version\n"
           "\n"
           "Run 'ferry COMMAND --help' for a command's options.\n"
           "Exit status: 0 success, 1 the operation failed, 2 bad command line.\n");
}

struct ferry *
cli_open (struct cli *cli, unsigned flags)
{
  if (!cli->f) {
    cli->f = ferry_open (cli->state_dir, flags);
    if (!cli->f)
      cli_error (NULL);
  }
  return cli->f;
}

void
cli_error (const char *what)
{
  const char *e = ferry_get_error ();
  if (what)
    fprintf (stderr, "ferry: %s: %s\n", what, *e ? e : "failed");
  else
    fprintf (stderr, "ferry: %s\n", *e ? e : "failed");
}

int
cli_usage_error (const char *cmd, const char *fs, ...)
{
  va_list args;

  fprintf (stderr, "ferry%s%s: ", cmd ? " " : "", cmd ? cmd : "");
  va_start (args, fs);
  vfprintf (stderr, fs, args);
  va_end (args);
  fprintf (stderr, "\nTry 'ferry%s%s --help'.\n", cmd ? " " : "", cmd ? cmd : "");
  return EXIT_USAGE;
}

int
cmd_version (struct cli *cli, int argc, char **argv)
{
  (void) cli;
  if (argc > 1 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)) {
    printf ("Usage: ferry version\nPrint ferry's version and the module ABI version.\n");
    return EXIT_OK;
  }
  if (argc > 1)
    return cli_usage_error ("version", "unexpected argument '%s'", argv[1]);
  printf ("ferry %s\nmodule ABI %d\n", ferry_version (), FERRY_MODULE_ABI_VERSION);
  return EXIT_OK;
}

int
main (int argc, char **argv)
{
  enum { OPT_STATE_DIR = 256, OPT_LOG_LEVEL };
  static const struct option opts[] = {
    { "state-dir", required_argument, NULL, OPT_STATE_DIR },
    { "log-level", required_argument, NULL, OPT_LOG_LEVEL },
    { "verbose", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
  };
  struct cli cli = { 0 };
  int c, r;

  /* '+': stop at the verb; its options are its own. */
  while ((c = getopt_long (argc, argv, "+vhV", opts, NULL)) != -1) {
    switch (c) {
    case OPT_STATE_DIR:
      cli.state_dir = optarg;
      break;
    case OPT_LOG_LEVEL:
      if ((r = ferry_log_level_from_string (optarg)) < 0)
        return cli_usage_error (NULL, "unknown log level '%s' (use error, warn, info or debug)", optarg);
      ferry_set_log_level ((enum ferry_log_level) r);
      break;
    case 'v':
      ferry_set_log_level (FERRY_LOG_DEBUG);
      break;
    case 'h':
      usage (stdout);
      return EXIT_OK;
    case 'V':
      return cmd_version (&cli, 1, argv);
    default:
      fprintf (stderr, "Try 'ferry --help'.\n");
      return EXIT_USAGE;
    }
  }
  if (optind >= argc) {
    usage (stderr);
    return EXIT_USAGE;
  }

  const char *name = argv[optind];
  if (strcmp (name, "help") == 0) {
    if (optind + 1 >= argc) {
      usage (stdout);
      return EXIT_OK;
    }
    /* "ferry help VERB" is "ferry VERB --help". */
    char *help_argv[] = { argv[optind + 1], (char *) "--help", NULL };
    for (size_t i = 0; i < NR_VERBS; i++)
      if (strcmp (verbs[i].name, argv[optind + 1]) == 0)
        return verbs[i].fn (&cli, 2, help_argv);
    return cli_usage_error (NULL, "unknown command '%s'", argv[optind + 1]);
  }

  for (size_t i = 0; i < NR_VERBS; i++) {
    if (strcmp (verbs[i].name, name) == 0) {
      int sub_argc = argc - optind;
      char **sub_argv = argv + optind;
      optind = 0;                       /* glibc: start getopt afresh for the verb */
      r = verbs[i].fn (&cli, sub_argc, sub_argv);
      ferry_close (cli.f);
      return r;
    }
  }
  return cli_usage_error (NULL, "unknown command '%s'", name);
}
