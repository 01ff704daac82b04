/* ferry template eval: evaluate a name template (Go text/template + Sprig
 * subset, templates/) the way a plan would, or apply the automatic VM
 * renaming rules to a name.  Needs no state directory.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ferry-template.h"

static void
template_usage (FILE *fp)
{
  fputs ("Usage: ferry template eval [--kind pvc|volume|network|vm] [--set KEY=VALUE]... TEMPLATE\n"
         "       ferry template eval --plan PLAN [-n NAMESPACE] [-o table|yaml|json]\n"
         "\n"
         "Evaluate a name template with Go text/template syntax and Sprig functions,\n"
         "as Forklift evaluates pvcNameTemplate, volumeNameTemplate and\n"
         "networkNameTemplate, print the result, and check it is a valid name\n"
         "(RFC 1123 label; exit 1 if not).  With --kind vm, TEMPLATE is a VM name\n"
         "and the automatic renaming rules are applied to it.\n"
         "\n"
         "  -k, --kind KIND        pvc (default), volume, network or vm\n"
         "  -s, --set KEY=VALUE    set a variable (.KEY); *Index keys take numbers,\n"
         "                         Shared takes true/false\n"
         "  -p, --plan PLAN        evaluate a stored plan's PVC names for every VM\n"
         "                         and disk of its source inventory (exit 1 on any problem)\n"
         "  -n, --namespace NS     the plan's namespace (default: default)\n"
         "  -o, --output FORMAT    with --plan: table (default), yaml or json\n"
         "  -h, --help             show this help\n"
         "\n"
         "Variables: pvc: VmName TargetVmName PlanName VmId DiskIndex RootDiskIndex\n"
         "Shared FileName WinDriveLetter DiskId; volume: PVCName VolumeIndex;\n"
         "network: NetworkName NetworkNamespace NetworkType NetworkIndex.\n"
         "\n"
         "Exit status: 0 success, 1 template or validation error, 2 usage error.\n",
         fp);
}

static void
data_cleanup (struct ferry_template_data **d)
{
  ferry_template_data_free (*d);
}

static void
tpl_cleanup (struct ferry_template **t)
{
  ferry_template_free (*t);
}

static void
str_cleanup (char **s)
{
  free (*s);
}

/* --plan: the table of a stored plan's names. */
static int
eval_plan (struct cli *cli, const char *plan, enum cli_output out)
{
  struct ferry *f = cli_open (cli, 0);
  if (!f)
    return EXIT_ERROR;
  json_t *rows = ferry_plan_names (f, cli->ns ? cli->ns : "default", plan);
  if (!rows) {
    cli_error (NULL);
    return EXIT_ERROR;
  }
  bool problems = false;
  json_t *row;
  size_t i;
  json_array_foreach (rows, i, row)
    if (json_object_get (row, "error"))
      problems = true;
  if (out == OUTPUT_TABLE || out == OUTPUT_NAME) {
    static const char *const header[] = { "VM", "TARGET", "DISK", "PVC NAME", "PROBLEM" };
    static const char *const keys[] = { "vm", "targetName", "disk", "pvcName", "error" };
    json_t *table = json_array ();
    json_array_foreach (rows, i, row) {
      json_t *line = json_array ();
      for (size_t k = 0; k < 5; k++) {
        json_t *v = json_object_get (row, keys[k]);
        char *s = json_is_string (v) ? strdup (json_string_value (v))
                : v ? json_dumps (v, JSON_ENCODE_ANY) : strdup ("");
        json_array_append_new (line, json_string (s ? s : ""));
        free (s);
      }
      json_array_append_new (table, line);
    }
    cli_print_table (header, 5, table);
    json_decref (table);
  }
  else
    cli_print_value (rows, out);
  json_decref (rows);
  return problems ? EXIT_ERROR : EXIT_OK;
}

static int
eval (struct cli *cli, int argc, char **argv)
{
  static const struct option long_options[] = {
    { "kind", required_argument, NULL, 'k' },
    { "set", required_argument, NULL, 's' },
    { "plan", required_argument, NULL, 'p' },
    { "namespace", required_argument, NULL, 'n' },
    { "output", required_argument, NULL, 'o' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *kind_name = "pvc";
  const char *plan = NULL;
  enum cli_output out = OUTPUT_TABLE;
  /* --set values are applied after the kind is known */
  const char **sets = calloc ((size_t) argc + 1, sizeof *sets);
  __attribute__((cleanup (str_cleanup))) char *sets_owner = (char *) sets;
  size_t nsets = 0;
  int c;

  if (!sets) { perror ("ferry"); return EXIT_ERROR; }
  optind = 1;
  opterr = 0;
  while ((c = getopt_long (argc, argv, "+:k:s:p:n:o:h", long_options, NULL)) != -1) {
    switch (c) {
    case 'k': kind_name = optarg; break;
    case 's': sets[nsets++] = optarg; break;
    case 'p': plan = optarg; break;
    case 'n': cli->ns = optarg; break;
    case 'o':
      if (cli_parse_output ("template", optarg, &out) == -1)
        return EXIT_USAGE;
      break;
    case 'h': template_usage (stdout); return EXIT_OK;
    case ':':
      return cli_usage_error ("template", "option '%s' needs an argument", argv[optind - 1]);
    default:
      return cli_usage_error ("template", "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (plan) {
    if (optind < argc || nsets)
      return cli_usage_error ("template", "--plan takes no TEMPLATE and no --set");
    return eval_plan (cli, plan, out);
  }
  if (optind >= argc)
    return cli_usage_error ("template", "eval needs a TEMPLATE argument");
  if (optind + 1 < argc)
    return cli_usage_error ("template", "unexpected argument '%s'", argv[optind + 1]);
  const char *text = argv[optind];

  enum ferry_template_kind kind;
  if (strcmp (kind_name, "pvc") == 0) kind = FERRY_TEMPLATE_KIND_PVC;
  else if (strcmp (kind_name, "volume") == 0) kind = FERRY_TEMPLATE_KIND_VOLUME;
  else if (strcmp (kind_name, "network") == 0) kind = FERRY_TEMPLATE_KIND_NETWORK;
  else if (strcmp (kind_name, "vm") == 0) {
    if (nsets)
      return cli_usage_error ("template", "--set does not apply to --kind vm");
    __attribute__((cleanup (str_cleanup))) char *name =
      ferry_template_vm_name (text, NULL, NULL, NULL, NULL);
    if (!name) {
      fprintf (stderr, "ferry: template: renaming '%s': %s\n", text, strerror (errno));
      return EXIT_ERROR;
    }
    puts (name);
    return EXIT_OK;
  }
  else
    return cli_usage_error ("template", "unknown kind '%s' (pvc, volume, network or vm)", kind_name);

  __attribute__((cleanup (data_cleanup))) struct ferry_template_data *data =
    ferry_template_data_new (kind);
  if (!data) { perror ("ferry"); return EXIT_ERROR; }
  for (size_t k = 0; k < nsets; k++) {
    const char *eq = strchr (sets[k], '=');
    if (!eq || eq == sets[k])
      return cli_usage_error ("template", "--set needs KEY=VALUE, got '%s'", sets[k]);
    __attribute__((cleanup (str_cleanup))) char *key = strndup (sets[k], (size_t) (eq - sets[k]));
    if (!key) { perror ("ferry"); return EXIT_ERROR; }
    if (ferry_template_data_set_parsed (data, key, eq + 1) == -1)
      return cli_usage_error ("template", "--set %s: '%s' is not a valid value for this key%s",
                              key, eq + 1,
                              strstr (key, "Index") ? " (a number)" :
                              strcmp (key, "Shared") == 0 ? " (true or false)" : "");
  }

  __attribute__((cleanup (str_cleanup))) char *err = NULL;
  __attribute__((cleanup (tpl_cleanup))) struct ferry_template *t =
    ferry_template_parse (kind_name, text, &err);
  if (!t) {
    fprintf (stderr, "ferry: %s\n", err);
    return EXIT_ERROR;
  }
  size_t len;
  __attribute__((cleanup (str_cleanup))) char *res =
    ferry_template_execute_len (t, data, &len, &err);
  if (!res) {
    fprintf (stderr, "ferry: %s\n", err);
    return EXIT_ERROR;
  }
  fwrite (res, 1, len, stdout);
  putchar ('\n');
  const char *why = NULL;
  if (!ferry_template_is_dns1123_label (res, &why)) {
    fprintf (stderr, "ferry: template output '%s' is not a valid name (RFC 1123 label): %s\n",
             res, why);
    return EXIT_ERROR;
  }
  return EXIT_OK;
}

int
cmd_template (struct cli *cli, int argc, char **argv)
{
  if (argc >= 2 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)) {
    template_usage (stdout);
    return EXIT_OK;
  }
  if (argc < 2)
    return cli_usage_error ("template", "missing subcommand (eval)");
  if (strcmp (argv[1], "eval") != 0)
    return cli_usage_error ("template", "unknown subcommand '%s'", argv[1]);
  return eval (cli, argc - 1, argv + 1);
}
