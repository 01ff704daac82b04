/* ferry validate: a Plan's conditions, as Forklift computes them. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *
str (const json_t *o, const char *k)
{
  const char *s = json_string_value (json_object_get (o, k));
  return s ? s : "";
}

/* "a, b, c" of a condition's items (caller frees). */
static char *
items_joined (const json_t *c)
{
  const json_t *it;
  size_t i, len = 0;
  char *s = strdup ("");

  json_array_foreach (json_object_get (c, "items"), i, it) {
    const char *v = json_string_value (it);
    if (!s || !v)
      continue;
    size_t vl = strlen (v);
    char *n = realloc (s, len + vl + 3);
    if (!n) {
      free (s);
      return NULL;
    }
    s = n;
    if (len) {
      memcpy (s + len, ", ", 2);
      len += 2;
    }
    memcpy (s + len, v, vl + 1);
    len += vl;
  }
  return s;
}

bool
cli_conditions_ready (const json_t *conditions)
{
  const json_t *c;
  size_t i;

  json_array_foreach (conditions, i, c)
    if (strcmp (str (c, "type"), "Ready") == 0)
      return true;
  return false;
}

void
cli_print_conditions (const json_t *conditions, int indent)
{
  const json_t *c;
  size_t i;

  json_array_foreach (conditions, i, c) {
    printf ("%*s%s (%s): %s\n", indent, "", str (c, "type"), str (c, "category"),
            str (c, "message"));
    const json_t *it;
    size_t k;
    json_array_foreach (json_object_get (c, "items"), k, it)
      printf ("%*s  - %s\n", indent, "", json_string_value (it) ? json_string_value (it) : "");
    if (*str (c, "suggestion"))
      printf ("%*s  To fix: %s\n", indent, "", str (c, "suggestion"));
  }
}

static void
validate_usage (void)
{
  printf ("Usage: ferry validate plan NAME [-n NAMESPACE] [-o table|yaml|json]\n"
          "Validate a plan as Forklift does (providers, maps, VMs, names, templates,\n"
          "hooks, shared disks, ...) and store the result in its status.conditions.\n"
          "Exit status 0 when the plan is Ready, 1 when a Critical or Error\n"
          "condition blocks it (or it cannot be validated).\n"
          "\n"
          "  -n, --namespace NS     the plan's namespace (default: default)\n"
          "  -o, --output FORMAT    table (default, with what to do), yaml or json\n"
          "  -h, --help             show this help\n");
}

int
cmd_validate (struct cli *cli, int argc, char **argv)
{
  static const struct option opts[] = {
    { "namespace", required_argument, NULL, 'n' },
    { "output", required_argument, NULL, 'o' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  enum cli_output out = OUTPUT_TABLE;
  int c;

  while ((c = getopt_long (argc, argv, "n:o:h", opts, NULL)) != -1) {
    switch (c) {
    case 'n': cli->ns = optarg; break;
    case 'o':
      if (cli_parse_output ("validate", optarg, &out) == -1)
        return EXIT_USAGE;
      if (out == OUTPUT_NAME)
        return cli_usage_error ("validate", "-o name is not supported here (use table, yaml or json)");
      break;
    case 'h': validate_usage (); return EXIT_OK;
    default: return cli_usage_error ("validate", "bad option");
    }
  }
  if (argc - optind != 2)
    return cli_usage_error ("validate", "needs 'plan' and a plan NAME");
  const char *kind = ferry_kind_canonical (argv[optind]);
  if (!kind) {
    cli_error (NULL);
    return EXIT_USAGE;
  }
  if (strcmp (kind, "Plan") != 0)
    return cli_usage_error ("validate", "only plans are validated, not %s", argv[optind]);

  struct ferry *f = cli_open (cli, 0);
  if (!f)
    return EXIT_ERROR;
  const char *ns = cli->ns ? cli->ns : "default";
  const char *name = argv[optind + 1];
  json_t *conds = ferry_plan_validate (f, ns, name);
  if (!conds) {
    cli_error (NULL);
    return EXIT_ERROR;
  }
  bool ready = cli_conditions_ready (conds);
  int r = EXIT_OK;
  if (out == OUTPUT_YAML || out == OUTPUT_JSON)
    r = cli_print_value (conds, out) == 0 ? EXIT_OK : EXIT_ERROR;
  else {
    static const char *const header[] = { "TYPE", "CATEGORY", "MESSAGE", "ITEMS" };
    json_t *rows = json_array ();
    const json_t *cd;
    size_t i;
    json_array_foreach (conds, i, cd) {
      char *items = items_joined (cd);
      json_array_append_new (rows, json_pack ("[s, s, s, s]", str (cd, "type"),
                                              str (cd, "category"), str (cd, "message"),
                                              items ? items : ""));
      free (items);
    }
    cli_print_table (header, 4, rows);
    json_decref (rows);
    bool first = true;
    json_array_foreach (conds, i, cd) {
      if (!*str (cd, "suggestion"))
        continue;
      if (first)
        printf ("\nWhat to do:\n");
      first = false;
      printf ("  %s: %s\n", str (cd, "type"), str (cd, "suggestion"));
    }
  }
  if (!ready) {
    fprintf (stderr, "ferry: plan %s/%s is not ready\n", ns, name);
    r = EXIT_ERROR;
  }
  json_decref (conds);
  return r;
}
