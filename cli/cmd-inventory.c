/* ferry inventory: what a provider's inventory holds. */
#include <config.h>

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void
inventory_usage (void)
{
  printf ("Usage: ferry inventory vms|disks|networks|storages|hosts --provider NAME [-n NS] [-o table|yaml|json]\n"
          "       ferry inventory vm|disk|network|storage|host ID-OR-NAME --provider NAME [-n NS] [-o json|yaml]\n"
          "       ferry inventory refresh --provider NAME [-n NS] [--watch [--interval SECONDS]]\n"
          "Show a source provider's inventory (as Forklift's inventory service shows it),\n"
          "one entity's full record, or resync the inventory from the source.\n"
          "\n"
          "  -p, --provider NAME    the Provider (required)\n"
          "  -n, --namespace NS     the Provider's namespace (default: default)\n"
          "  -o, --output FORMAT    table (lists' default), yaml or json (one entity's default)\n"
          "      --watch            refresh: after the full sync, keep the inventory current\n"
          "                         with the provider's incremental updates (vSphere:\n"
          "                         WaitForUpdatesEx) until SIGINT or SIGTERM\n"
          "      --interval SECONDS with --watch: how often to ask for updates (default: 5)\n"
          "  -h, --help             show this help\n");
}

/* A short text for a table cell. */
static char *
cell (const json_t *doc, const char *key)
{
  const json_t *v = json_object_get (doc, key);
  char *s;

  if (!v)
    return strdup ("");
  if (json_is_string (v))
    return strdup (json_string_value (v));
  if (json_is_array (v)) {
    if (asprintf (&s, "%zu", json_array_size (v)) == -1)
      return NULL;
    return s;
  }
  return json_dumps (v, JSON_ENCODE_ANY | JSON_COMPACT);
}

static void
print_inventory_table (const char *kind, const json_t *docs)
{
  /* Columns: id and name always; then what matters for each kind. */
  static const char *const vm_cols[] = { "id", "name", "powerState", "cpuCount", "memoryMB", "disks", "nics", "concerns", NULL };
  static const char *const vm_hdr[] = { "ID", "NAME", "POWER", "CPUS", "MEMORY(MB)", "DISKS", "NICS", "CONCERNS", NULL };
  static const char *const disk_cols[] = { "id", "name", "capacity", "datastore", "file", NULL };
  static const char *const disk_hdr[] = { "ID", "NAME", "CAPACITY", "DATASTORE", "FILE", NULL };
  static const char *const other_cols[] = { "id", "name", "parent", NULL };
  static const char *const other_hdr[] = { "ID", "NAME", "PARENT", NULL };
  const char *const *cols = other_cols, *const *hdr = other_hdr;
  size_t n, i, c;
  json_t *doc;

  if (strncmp (kind, "vm", 2) == 0)
    cols = vm_cols, hdr = vm_hdr;
  else if (strncmp (kind, "disk", 4) == 0)
    cols = disk_cols, hdr = disk_hdr;
  for (n = 0; cols[n]; n++)
    ;
  json_t *rows = json_array ();
  json_array_foreach (docs, i, doc) {
    json_t *row = json_array ();
    for (c = 0; c < n; c++) {
      char *s = cell (doc, cols[c]);
      json_array_append_new (row, json_string (s ? s : ""));
      free (s);
    }
    json_array_append_new (rows, row);
  }
  cli_print_table (hdr, n, rows);
  json_decref (rows);
}

static void
on_stop_signal (int sig)
{
  (void) sig;
  ferry_migration_stop ();              /* async-signal-safe */
}

static void
on_update (void *opaque, unsigned poll, int entities)
{
  const char *who = opaque;

  if (poll == 0)
    printf ("provider %s: %d inventory entities; watching for changes\n",
            who, entities);
  else
    printf ("provider %s: update %u: %d entities changed\n", who, poll,
            entities);
  fflush (stdout);
}

int
cmd_inventory (struct cli *cli, int argc, char **argv)
{
  static const struct option opts[] = {
    { "watch", no_argument, NULL, 'W' },
    { "interval", required_argument, NULL, 'I' },
    { "provider", required_argument, NULL, 'p' },
    { "namespace", required_argument, NULL, 'n' },
    { "output", required_argument, NULL, 'o' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  enum cli_output out = OUTPUT_TABLE;
  bool out_given = false;
  const char *provider = NULL;
  bool watch = false;
  unsigned interval = 5;
  int c;

  while ((c = getopt_long (argc, argv, "p:n:o:h", opts, NULL)) != -1) {
    switch (c) {
    case 'W': watch = true; break;
    case 'I': {
      char *end;
      unsigned long v = strtoul (optarg, &end, 10);
      if (*end || end == optarg || v == 0 || v > 86400)
        return cli_usage_error ("inventory", "--interval '%s' is not a number "
                                "of seconds from 1 to 86400", optarg);
      interval = (unsigned) v;
      break;
    }
    case 'p': provider = optarg; break;
    case 'n': cli->ns = optarg; break;
    case 'o':
      if (cli_parse_output ("inventory", optarg, &out) == -1)
        return EXIT_USAGE;
      out_given = true;
      break;
    case 'h': inventory_usage (); return EXIT_OK;
    default: return cli_usage_error ("inventory", "bad option");
    }
  }
  if (optind >= argc)
    return cli_usage_error ("inventory", "what to show? e.g. 'ferry inventory vms --provider NAME'");
  if (!provider)
    return cli_usage_error ("inventory", "--provider NAME is required");
  const char *what = argv[optind];
  const char *ns = cli->ns ? cli->ns : "default";

  struct ferry *f = cli_open (cli, 0);
  if (!f)
    return EXIT_ERROR;

  if (watch && strcmp (what, "refresh") != 0)
    return cli_usage_error ("inventory", "--watch goes with refresh");
  if (strcmp (what, "refresh") == 0 && watch) {
    if (argc - optind != 1)
      return cli_usage_error ("inventory", "refresh takes no argument");
    struct sigaction sa = { .sa_handler = on_stop_signal };
    char who[512];
    sigemptyset (&sa.sa_mask);
    sigaction (SIGTERM, &sa, NULL);
    sigaction (SIGINT, &sa, NULL);
    snprintf (who, sizeof who, "%s/%s", ns, provider);
    if (ferry_inventory_watch (f, ns, provider, interval * 1000u, 0,
                               on_update, who) == -1) {
      cli_error (NULL);
      return EXIT_ERROR;
    }
    return EXIT_OK;
  }
  if (strcmp (what, "refresh") == 0) {
    if (argc - optind != 1)
      return cli_usage_error ("inventory", "refresh takes no argument");
    int n = ferry_inventory_refresh (f, ns, provider);
    if (n < 0) {
      cli_error (NULL);
      return EXIT_ERROR;
    }
    printf ("provider %s/%s: %d inventory entities\n", ns, provider, n);
    return EXIT_OK;
  }

  size_t wl = strlen (what);
  bool plural = wl > 1 && what[wl - 1] == 's';
  if (plural) {
    if (argc - optind != 1)
      return cli_usage_error ("inventory", "unexpected argument '%s'", argv[optind + 1]);
    json_t *docs = ferry_inventory_list (f, ns, provider, what);
    if (!docs) {
      cli_error (NULL);
      return EXIT_ERROR;
    }
    int r = 0;
    if (out == OUTPUT_TABLE || out == OUTPUT_NAME)
      print_inventory_table (what, docs);
    else
      r = cli_print_value (docs, out);
    json_decref (docs);
    return r == 0 ? EXIT_OK : EXIT_ERROR;
  }

  if (argc - optind != 2)
    return cli_usage_error ("inventory", "'%s' needs one ID or NAME", what);
  json_t *doc = ferry_inventory_get (f, ns, provider, what, argv[optind + 1]);
  if (!doc) {
    cli_error (NULL);
    return EXIT_ERROR;
  }
  int r = cli_print_value (doc, out_given && out != OUTPUT_TABLE ? out : OUTPUT_JSON);
  json_decref (doc);
  return r == 0 ? EXIT_OK : EXIT_ERROR;
}
